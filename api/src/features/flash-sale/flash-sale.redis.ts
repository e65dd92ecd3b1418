/** The Redis side of a sale: the live decision state, read and claimed through Lua. */
import { createHash } from 'node:crypto';
import type { Cluster } from 'ioredis';
import type { ReplicationBarrier } from '../../platform/replication-barrier.js';
import {
  CURRENT_SALE_KEY,
  parseBuyerRecord,
  parseClaimReply,
  saleKeys,
  type ClaimOutcome,
} from './flash-sale.logic.js';

export interface SaleDefinition {
  id: string;
  productName: string;
  totalStock: number;
  startMs: number;
  endMs: number;
}

export interface SaleSnapshot extends SaleDefinition {
  remaining: number;
  nowMs: number;
}

export interface RedisSaleStore {
  currentSaleId(): Promise<string | null>;
  /** The sale and the server clock read at one instant; null when the sale is unknown. */
  snapshot(saleId: string): Promise<SaleSnapshot | null>;
  /** The immutable part of a sale, cached per id. */
  definition(saleId: string): Promise<SaleDefinition | null>;
  claim(saleId: string, userId: string, purchaseId: string): Promise<ClaimOutcome>;
  findPurchase(
    saleId: string,
    userId: string,
  ): Promise<{ purchaseId: string; purchasedAtMs: number; unit: number } | null>;
  /** Every buyer of a sale with their purchase; read once a sale is sold out and final. */
  buyers(saleId: string): Promise<Map<string, { purchaseId: string; purchasedAtMs: number }>>;
  /** Writes a sale's decision state unless it already exists; true when written. Callers hold the sale lock. */
  initialiseSale(sale: SaleDefinition, remaining: number, buyers: Map<string, string>): Promise<boolean>;
  setCurrentSale(saleId: string): Promise<void>;
  serverTimeMs(saleId: string): Promise<number>;
}

export interface BuyerAttemptLimit {
  attempts: number;
  windowMs: number;
}

/** Generous by default: a shopper pressing Buy a few times is never limited. */
const DEFAULT_ATTEMPT_LIMIT: BuyerAttemptLimit = { attempts: 10, windowMs: 10_000 };

export interface SaleStoreOptions {
  attemptLimit?: BuyerAttemptLimit;
  /** Called after each confirmed purchase; resolves with how many replicas hold it. */
  replicate?: ReplicationBarrier;
  /** Told when a confirmed purchase reached fewer replicas than asked for. */
  onUnreplicated?: (saleId: string, acked: number) => void;
}

export function createRedisSaleStore(
  redis: Cluster,
  { attemptLimit = DEFAULT_ATTEMPT_LIMIT, replicate, onUnreplicated }: SaleStoreOptions = {},
): RedisSaleStore {
  // Concurrent requests share one read of the pointer: a herd costs Redis one GET per round trip.
  let pointerRead: Promise<string | null> | null = null;
  const definitions = new Map<string, SaleDefinition>();

  const readSnapshot = async (saleId: string): Promise<SaleSnapshot | null> => {
    const reply = (await redis.flashStatus(saleKeys(saleId).sale)) as (string | null)[];
    const [product, total, remaining, startMs, endMs, nowMs] = reply;
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
      nowMs: Number(nowMs),
    };
  };

  return {
    currentSaleId() {
      pointerRead ??= redis.get(CURRENT_SALE_KEY).finally(() => {
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

    async claim(saleId, userId, purchaseId) {
      const keys = saleKeys(saleId);
      const buyerDigest = createHash('sha256').update(userId).digest('hex').slice(0, 32);
      const outcome = parseClaimReply(
        await redis.flashPurchase(
          keys.sale,
          keys.buyers,
          keys.purchases,
          keys.attempts(buyerDigest),
          userId,
          purchaseId,
          attemptLimit.attempts,
          attemptLimit.windowMs,
        ),
      );
      // Confirmed on the primary's disk already; wait for a replica too, so a
      // failover cannot take it back. If none answers in time the purchase
      // stands (it is on the primary's AOF) and the shortfall is reported.
      if (outcome.kind === 'CONFIRMED' && replicate) {
        const { acked, enough } = await replicate(keys.replicationProbe);
        if (!enough) onUnreplicated?.(saleId, acked);
      }
      return outcome;
    },

    async findPurchase(saleId, userId) {
      const record = await redis.hget(saleKeys(saleId).buyers, userId);
      return record ? parseBuyerRecord(record) : null;
    },

    async buyers(saleId) {
      const records = await redis.hgetall(saleKeys(saleId).buyers);
      const buyers = new Map<string, { purchaseId: string; purchasedAtMs: number }>();
      for (const [userId, record] of Object.entries(records)) {
        const parsed = parseBuyerRecord(record);
        if (parsed) buyers.set(userId, { purchaseId: parsed.purchaseId, purchasedAtMs: parsed.purchasedAtMs });
      }
      return buyers;
    },

    async initialiseSale(sale, remaining, buyers) {
      const keys = saleKeys(sale.id);
      if (await redis.exists(keys.sale)) return false;
      // One MULTI on the sale's slot: the scripts never see a half-written sale.
      const transaction = redis.multi();
      if (buyers.size > 0) transaction.hset(keys.buyers, buyers);
      transaction.hset(keys.sale, {
        product: sale.productName,
        total: sale.totalStock,
        remaining,
        start_ms: sale.startMs,
        end_ms: sale.endMs,
      });
      await transaction.exec();
      return true;
    },

    async setCurrentSale(saleId) {
      await redis.set(CURRENT_SALE_KEY, saleId);
    },

    async serverTimeMs(saleId) {
      const reply = (await redis.flashStatus(saleKeys(saleId).sale)) as (string | null)[];
      return Number(reply[5]);
    },
  };
}
