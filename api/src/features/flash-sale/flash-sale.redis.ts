/** The Redis side of a sale: the live decision state, read and claimed through Lua. */
import { createHash } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Cluster } from 'ioredis';
import { sampledTraceParent } from '../../platform/trace-context.js';
import {
  CURRENT_SALE_KEY,
  formatBuyerRecord,
  parseBuyerRecord,
  parseClaimReply,
  saleKeys,
  type BuyerRecord,
  type PurchaseDecision,
  type SaleDefinition,
} from './flash-sale.logic.js';
import type { DurabilityCheck } from './purchase-durability.js';
import { PURCHASE_SCRIPT } from './sale-scripts.js';
import { createSaleRounds } from './sale-rounds.js';

export interface SaleSnapshot extends SaleDefinition {
  remaining: number;
  closed: boolean;
  nowMs: number;
}

/** A buyer's purchase as a shopper may be told of it: absent, held durably, or not yet replicated. */
export type PurchaseLookup = { kind: 'NONE' } | ({ kind: 'FOUND' } & BuyerRecord) | { kind: 'NOT_REPLICATED' };

export interface RedisSaleStore {
  /** The current sale's id, as read at most POINTER_REUSE_MS ago. */
  currentSaleId(): Promise<string | null>;
  /** The sale and the server clock read at one instant; null when the sale is unknown. */
  snapshot(saleId: string): Promise<SaleSnapshot | null>;
  /** The immutable part of a sale, cached per id. */
  definition(saleId: string): Promise<SaleDefinition | null>;
  /** Runs purchase.lua in a round with the claims that arrive meanwhile, and the durability check in the same pipeline. */
  claim(saleId: string, userId: string, purchaseId: string): Promise<PurchaseDecision>;
  /** The buyer's purchase, checked for durability before it is reported. */
  lookupPurchase(saleId: string, userId: string): Promise<PurchaseLookup>;
  /** The buyer's record as the primary holds it, unchecked: for operators and tests. */
  findPurchase(saleId: string, userId: string): Promise<BuyerRecord | null>;
  /** Every buyer of a sale, read once it is sold out and final; null unless the copy is durable. */
  durableBuyers(saleId: string): Promise<Map<string, BuyerRecord> | null>;
  /**
   * Writes a sale's decision state unless it already exists; true when written.
   * `provisionalMs` makes the keys expire unless confirmSale follows (a create
   * that dies halfway leaves nothing). Callers hold the sale lock.
   */
  initialiseSale(
    sale: SaleDefinition,
    state: { remaining: number; buyers: Map<string, BuyerRecord>; closed: boolean },
    provisionalMs?: number,
  ): Promise<boolean>;
  /** Keeps a provisional sale for good; false when it had already expired. */
  confirmSale(saleId: string): Promise<boolean>;
  /**
   * Closes a sale for good: `now` (an operator replacing it), or `if-done`,
   * only if it can take no more purchases anyway (its window has ended by
   * Redis's clock, or it sold out). Both conditions only ever become true, so
   * reading them and then setting the marker needs no atomic step, and it
   * writes nothing but the marker: the reconciler may close a sale without
   * any right to the sale's own state. Resolves with closed, open, or missing.
   */
  closeSale(saleId: string, when: 'now' | 'if-done'): Promise<'closed' | 'open' | 'missing'>;
  /** Lets a settled sale's keys expire: Postgres holds all of it now. */
  expireSale(saleId: string, afterMs: number): Promise<void>;
  /** Points every replica at the sale: resolves once none can still be serving the previous one. */
  setCurrentSale(saleId: string): Promise<void>;
  serverTimeMs(saleId: string): Promise<number>;
}

export interface BuyerAttemptLimit {
  attempts: number;
  windowMs: number;
}

/** A purchase to decide: who, the id it gets if confirmed, and its trace. */
interface Claim {
  userId: string;
  purchaseId: string;
  traceParent: string;
}

/**
 * One round of purchase.lua holds the sale's shard while it runs (a few
 * microseconds per purchase): this bounds that time for everything else on
 * the shard. It is not a rate, since the next round starts as soon as one ends.
 */
const MAX_CLAIMS_PER_ROUND = 256;

/**
 * How long a replica answers with the current-sale pointer it last read.
 * Under a herd the requests arrive one by one, each after the previous read
 * came back, so without this nearly every purchase cost its own GET.
 * setCurrentSale waits as long after writing, so a new sale is the one every
 * replica serves by the time it returns.
 */
export const POINTER_REUSE_MS = 20;

/** Generous by default: a shopper pressing Buy a few times is never limited. */
const DEFAULT_ATTEMPT_LIMIT: BuyerAttemptLimit = { attempts: 10, windowMs: 10_000 };

export interface SaleStoreOptions {
  attemptLimit?: BuyerAttemptLimit;
  /**
   * Checks, before a purchase is promised, that replicas hold it. Without one
   * (operator tools, tests that inspect the script) answers are unchecked.
   */
  durability?: DurabilityCheck;
  /** POINTER_REUSE_MS unless a test needs a window it can see. Every store that shares a pointer must use the same. */
  pointerReuseMs?: number;
}

export function createRedisSaleStore(
  redis: Cluster,
  { attemptLimit = DEFAULT_ATTEMPT_LIMIT, durability, pointerReuseMs = POINTER_REUSE_MS }: SaleStoreOptions = {},
): RedisSaleStore {
  // Concurrent requests share one read of the pointer, and its answer for pointerReuseMs after it was sent.
  let pointerRead: Promise<string | null> | null = null;
  let pointer: { saleId: string | null; sentAtMs: number } | null = null;
  // A reused pointer is handed over when the event loop's turn ends, one promise for every request read in
  // that turn, so they are answered together as they were when they shared a GET: answered one by one, the
  // sold-out path cost more per request (docs/adr/0005-admission.md, "The current-sale pointer").
  let handover: Promise<string | null> | null = null;
  const atEndOfTurn = () =>
    (handover ??= new Promise((resolve) =>
      setImmediate(() => {
        handover = null;
        resolve(pointer!.saleId);
      }),
    ));
  const definitions = new Map<string, SaleDefinition>();
  const isDurable = (saleId: string, userId: string, purchaseId: string) =>
    durability ? durability.holds(saleId, userId, purchaseId) : Promise.resolve(true);

  // Claims that arrive while a round of purchase.lua is under way share the next one (sale-rounds.ts).
  const claimInRound = createSaleRounds<Claim, PurchaseDecision>(async (saleId, claims) => {
    const keys = saleKeys(saleId);
    const call = [
      4 + claims.length,
      keys.sale,
      keys.buyers,
      keys.purchases,
      keys.closed,
      ...claims.map(({ userId }) => keys.attempts(createHash('sha256').update(userId).digest('hex').slice(0, 32))),
      attemptLimit.attempts,
      attemptLimit.windowMs,
      ...claims.flatMap(({ userId, purchaseId, traceParent }) => [userId, purchaseId, traceParent]),
    ] as const;
    if (!durability) return ((await redis.eval(PURCHASE_SCRIPT, ...call)) as unknown[]).map(parseClaimReply);

    // The script and the wait for replicas in one pipeline (purchase-durability.ts).
    const round = await durability.runDurably(saleId, (pipeline) => pipeline.eval(PURCHASE_SCRIPT, ...call));
    const [[failure, replies]] = round.replies as [[Error | null, unknown[]]];
    if (failure) throw failure;
    return replies.map((reply): PurchaseDecision => {
      const outcome = parseClaimReply(reply);
      // Both name a purchase the shopper will be told is theirs. A replayed
      // claim (ioredis re-sends after a dropped connection) comes back as
      // ALREADY_PURCHASED with our own id, and is checked all the same.
      const promised = outcome.kind === 'CONFIRMED' || outcome.kind === 'ALREADY_PURCHASED';
      return promised && !round.durable ? { kind: 'NOT_REPLICATED' } : outcome;
    });
  }, MAX_CLAIMS_PER_ROUND);

  const readSnapshot = async (saleId: string): Promise<SaleSnapshot | null> => {
    const keys = saleKeys(saleId);
    const reply = (await redis.flashStatus(keys.sale, keys.closed)) as (string | null)[];
    const [product, total, remaining, startMs, endMs, nowMs, closed] = reply;
    if (product == null || total == null || remaining == null || startMs == null || endMs == null) {
      return null;
    }
    return {
      id: saleId,
      productName: product,
      totalStock: Number(total),
      remaining: Number(remaining),
      startMs: Number(startMs),
      endMs: Number(endMs),
      closed: closed != null,
      nowMs: Number(nowMs),
    };
  };

  return {
    currentSaleId() {
      // Timed from the send: a value read before a new sale was written is never reused past setCurrentSale's wait.
      const nowMs = performance.now();
      if (pointer && nowMs - pointer.sentAtMs < pointerReuseMs) return atEndOfTurn();
      pointerRead ??= redis
        .get(CURRENT_SALE_KEY)
        .then((saleId) => {
          pointer = { saleId, sentAtMs: nowMs };
          return saleId;
        })
        .finally(() => {
          pointerRead = null;
        });
      return pointerRead;
    },

    snapshot: readSnapshot,

    async definition(saleId) {
      const cached = definitions.get(saleId);
      if (cached) return cached;
      const snapshot = await readSnapshot(saleId);
      if (!snapshot) return null;
      const { id, productName, totalStock, startMs, endMs } = snapshot;
      const definition = { id, productName, totalStock, startMs, endMs };
      definitions.set(saleId, definition);
      return definition;
    },

    claim(saleId, userId, purchaseId) {
      return claimInRound(saleId, { userId, purchaseId, traceParent: sampledTraceParent() });
    },

    async lookupPurchase(saleId, userId) {
      const record = await this.findPurchase(saleId, userId);
      if (!record) return { kind: 'NONE' };
      if (!(await isDurable(saleId, userId, record.purchaseId))) return { kind: 'NOT_REPLICATED' };
      return { kind: 'FOUND', ...record };
    },

    async findPurchase(saleId, userId) {
      const record = await redis.hget(saleKeys(saleId).buyers, userId);
      return record ? parseBuyerRecord(record) : null;
    },

    async durableBuyers(saleId) {
      const records = durability ? await durability.durableBuyers(saleId) : await redis.hgetall(saleKeys(saleId).buyers);
      if (!records) return null;
      const buyers = new Map<string, BuyerRecord>();
      for (const [userId, record] of Object.entries(records)) {
        const parsed = parseBuyerRecord(record);
        if (parsed) buyers.set(userId, parsed);
      }
      return buyers;
    },

    async initialiseSale(sale, { remaining, buyers, closed }, provisionalMs) {
      const keys = saleKeys(sale.id);
      if (await redis.exists(keys.sale)) return false;
      // One MULTI on the sale's slot: the scripts never see a half-written sale.
      const transaction = redis.multi();
      if (buyers.size > 0) {
        transaction.hset(keys.buyers, new Map([...buyers].map(([userId, record]) => [userId, formatBuyerRecord(record)])));
      }
      transaction.hset(keys.sale, {
        product: sale.productName,
        total: sale.totalStock,
        remaining,
        start_ms: sale.startMs,
        end_ms: sale.endMs,
      });
      if (closed) transaction.set(keys.closed, '1');
      if (provisionalMs !== undefined) {
        transaction.pexpire(keys.sale, provisionalMs);
        if (buyers.size > 0) transaction.pexpire(keys.buyers, provisionalMs);
      }
      await transaction.exec();
      return true;
    },

    async confirmSale(saleId) {
      const keys = saleKeys(saleId);
      const results = await redis.multi().persist(keys.sale).persist(keys.buyers).exists(keys.sale).exec();
      return Number(results?.[2]?.[1]) === 1;
    },

    async closeSale(saleId, when) {
      const keys = saleKeys(saleId);
      const [[, state], [, time], [, closed]] = (await redis
        .pipeline()
        .hmget(keys.sale, 'end_ms', 'remaining')
        .time()
        .exists(keys.closed)
        .exec()) as [[null, (string | null)[]], [null, [string, string]], [null, number]];
      const [endMs, remaining] = state;
      if (endMs == null || remaining == null) return 'missing';
      if (closed === 1) return 'closed';
      const nowMs = Number(time[0]) * 1000 + Math.floor(Number(time[1]) / 1000);
      if (when === 'if-done' && nowMs < Number(endMs) && Number(remaining) > 0) return 'open';
      await redis.set(keys.closed, '1');
      return 'closed';
    },

    async expireSale(saleId, afterMs) {
      const keys = saleKeys(saleId);
      await redis
        .multi()
        .pexpire(keys.sale, afterMs)
        .pexpire(keys.buyers, afterMs)
        .pexpire(keys.purchases, afterMs)
        .pexpire(keys.replicationProbe, afterMs)
        .pexpire(keys.closed, afterMs)
        .exec();
    },

    async setCurrentSale(saleId) {
      await redis.set(CURRENT_SALE_KEY, saleId);
      await sleep(pointerReuseMs);
    },

    async serverTimeMs(saleId) {
      const keys = saleKeys(saleId);
      const reply = (await redis.flashStatus(keys.sale, keys.closed)) as (string | null)[];
      return Number(reply[5]);
    },
  };
}
