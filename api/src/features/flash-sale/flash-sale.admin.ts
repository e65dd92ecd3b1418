/** Operator actions on sales: create one, make sure the current one is live, report on it. */
import { randomUUID } from 'node:crypto';
import { Redlock } from '@sesamecare-oss/redlock';
import type { Cluster } from 'ioredis';
import { crashAt, type Failpoint } from '../../platform/failpoints.js';
import type { Logger } from '../../platform/logger.js';
import { computeSaleStatus, saleKeys, type BuyerRecord, type SaleDefinition } from './flash-sale.logic.js';
import type { PgSaleRepository, StoredSale } from './flash-sale.pg.js';
import type { RedisSaleStore } from './flash-sale.redis.js';
import type { DurabilityCheck } from './purchase-durability.js';
import { readEntry, type PersistablePurchase, type StreamEntry } from './reconcile.logic.js';
import { reconcileBacklog, SETTLED_SALE_TTL_MS } from './reconciler.js';

export interface NewSale {
  productName: string;
  stock: number;
  startsInMs: number;
  durationMs: number;
  /** Close the current sale if it is still upcoming or active; without it, creating one then is refused. */
  replace?: boolean;
}

/** An operator's request the shop refuses, with what to do instead; the command exits 3 with the message. */
export class SaleRefusal extends Error {
  override readonly name = 'SaleRefusal';
}

interface AdminDependencies {
  redis: Cluster;
  store: RedisSaleStore;
  durability: DurabilityCheck;
  repository: PgSaleRepository;
  logger: Logger;
  failpoint?: Failpoint;
}

/**
 * Creating or restoring sales is check-then-act across two stores: one
 * operator at a time. The lock is extended while its holder works, so a short
 * lifetime only bounds how long a crashed holder blocks the next command,
 * which waits for longer than that.
 */
const SALES_LOCK = 'flash:lock:sales';
const SALES_LOCK_TTL_MS = 5_000;
const SALES_LOCK_RETRY = { retryCount: 40, retryDelay: 250 };
/** A sale's Redis state written by a create that has not committed in Postgres yet expires after this. */
const PROVISIONAL_SALE_MS = 60_000;

export function createSaleAdmin({ redis, store, durability, repository, logger, failpoint }: AdminDependencies) {
  const redlock = new Redlock([redis], SALES_LOCK_RETRY);
  const withSalesLock = <T>(routine: () => Promise<T>) =>
    redlock.using([SALES_LOCK], SALES_LOCK_TTL_MS, routine);

  /** Fails unless the sale's primary holds its state (or its closed marker) and its replicas do too. */
  async function requireDurable(saleId: string, part: 'sale' | 'closed', what: string) {
    if (!(await durability.saleHolds(saleId, part))) {
      throw new Error(`${what}: Redis did not confirm it on a replica in time (is a Redis replica down?); nothing was promised, try again`);
    }
  }

  /**
   * The current sale, unless it is over. Refuses to go on while it is still
   * upcoming or active, unless the operator asked to replace it.
   */
  async function saleToReplace(replace: boolean): Promise<string | null> {
    const currentId = await store.currentSaleId();
    const current = currentId ? await store.snapshot(currentId) : null;
    if (!current) return null;
    const { status } = computeSaleStatus(current, current.nowMs);
    if (status === 'ended') return current.id;
    if (!replace) {
      const until = status === 'upcoming' ? `starts ${new Date(current.startMs).toISOString()}` : `ends ${new Date(current.endMs).toISOString()}`;
      throw new SaleRefusal(
        `sale ${current.id} is ${status} (${until}); pass --replace to close it and start the new one now`,
      );
    }
    return current.id;
  }

  /**
   * Atomic across the two stores: the Postgres row and the Redis state are
   * written in one Postgres transaction, which commits only after Redis (and
   * a replica) holds the sale. A crash before the commit leaves no row, and
   * Redis state that expires by itself; only then does the pointer move, and
   * only then is the replaced sale closed.
   */
  async function createUnlocked(input: NewSale): Promise<SaleDefinition> {
    const replaced = await saleToReplace(input.replace ?? false);
    const id = randomUUID();
    const nowMs = await store.serverTimeMs(id);
    const startMs = nowMs + input.startsInMs;
    const sale: SaleDefinition = {
      id,
      productName: input.productName,
      totalStock: input.stock,
      startMs,
      endMs: startMs + input.durationMs,
    };
    await repository.insertSale(sale, async () => {
      crashAt(failpoint, 'sale-create:after-postgres-insert');
      await store.initialiseSale(sale, { remaining: sale.totalStock, buyers: new Map(), closed: false }, PROVISIONAL_SALE_MS);
      await requireDurable(id, 'sale', `creating sale ${id}`);
      crashAt(failpoint, 'sale-create:after-redis-initialise');
    });
    if (!(await store.confirmSale(id))) {
      // Committed, but so slowly that the provisional state expired: write it again, for good.
      await store.initialiseSale(sale, { remaining: sale.totalStock, buyers: new Map(), closed: false });
    }
    await requireDurable(id, 'sale', `creating sale ${id}`);
    await store.setCurrentSale(id);
    if (replaced) await closeReplaced(replaced);
    logger.info({ sale, replaced }, 'sale created');
    return sale;
  }

  /** Closes a sale the new one replaced; if it had already settled, its keys expire now. */
  async function closeReplaced(saleId: string) {
    if ((await store.closeSale(saleId, 'now')) === 'closed') await requireDurable(saleId, 'closed', `closing sale ${saleId}`);
    if ((await repository.sale(saleId))?.settledAt) await store.expireSale(saleId, SETTLED_SALE_TTL_MS);
  }

  /**
   * Persists what a sale's stream still holds, so that Postgres has every
   * purchase Redis ever confirmed before the sale is rebuilt from it. Entries
   * are read on the primary and persisted only once its replicas hold them.
   */
  async function persistStream(saleId: string): Promise<void> {
    const keys = saleKeys(saleId);
    const round = await durability.readDurably(saleId, (pipeline) => pipeline.xrange(keys.purchases, '-', '+'));
    if (!round?.durable) {
      throw new Error(`sale ${saleId}: cannot confirm its stream with a Redis replica; not rebuilding it now, try again`);
    }
    const purchases: PersistablePurchase[] = [];
    const entryIds: string[] = [];
    for (const entry of round.replies[0] as StreamEntry[]) {
      const read = readEntry(entry);
      if ('purchase' in read) {
        purchases.push(read.purchase);
        entryIds.push(read.entryId);
      }
    }
    const { inserted, conflicts } = await repository.persistPurchases(saleId, purchases, entryIds);
    if (inserted > 0 || conflicts.length > 0) {
      logger.warn({ saleId, inserted, conflicts: conflicts.length }, 'persisted purchases still in the stream before rebuilding the sale');
    }
  }

  /**
   * Rebuilds a sale Redis lost from Postgres. The stream is persisted first
   * (if it survived), and the next unit handed out is the one after the
   * highest unit ever sold, so no unit is given twice even where units are
   * missing; those are lost to the sale, and logged.
   */
  async function rebuild(sale: StoredSale): Promise<void> {
    await persistStream(sale.id);
    const purchases = await repository.confirmedPurchases(sale.id);
    const highestUnit = purchases.reduce((highest, p) => Math.max(highest, p.unit), 0);
    const buyers = new Map<string, BuyerRecord>(
      purchases.map((p) => [p.userId, { purchaseId: p.purchaseId, purchasedAtMs: p.purchasedAtMs, unit: p.unit }]),
    );
    const closed = sale.settledAt !== null;
    if (await store.initialiseSale(sale, { remaining: sale.totalStock - highestUnit, buyers, closed })) {
      await requireDurable(sale.id, 'sale', `rebuilding sale ${sale.id}`);
      const skipped = highestUnit - purchases.length;
      logger.warn(
        { saleId: sale.id, restoredBuyers: buyers.size, nextUnit: highestUnit + 1, unitsNotSold: skipped, closed },
        'sale state missing in Redis: rebuilt from Postgres',
      );
    }
  }

  /**
   * Run at start-up. The latest sale in Postgres is the current one; if Redis
   * lost its state (a wiped data directory), it is rebuilt from Postgres.
   * Creates a sale only when there is none at all, so a restart never
   * re-initialises a running sale.
   */
  async function ensureCurrentSale(demo: NewSale | null): Promise<{ sale: SaleDefinition; created: boolean } | null> {
    return withSalesLock(async () => {
      const latest = await repository.latestSale();
      if (!latest) {
        if (!demo) return null;
        return { sale: await createUnlocked(demo), created: true };
      }
      if (!(await store.snapshot(latest.id))) await rebuild(latest);
      if ((await store.currentSaleId()) !== latest.id) await store.setCurrentSale(latest.id);
      return { sale: latest, created: false };
    });
  }

  async function report() {
    const saleId = await store.currentSaleId();
    if (!saleId) return { sale: null };
    const keys = saleKeys(saleId);
    const [snapshot, buyers, confirmed, conflicts, stored, backlog] = await Promise.all([
      store.snapshot(saleId),
      redis.hlen(keys.buyers),
      repository.confirmedCount(saleId),
      repository.conflictCount(saleId),
      repository.sale(saleId),
      reconcileBacklog(redis, keys.purchases),
    ]);
    if (!snapshot) return { sale: null };
    const { status, endedReason } = computeSaleStatus(snapshot, snapshot.nowMs);
    return {
      sale: {
        id: snapshot.id,
        productName: snapshot.productName,
        totalStock: snapshot.totalStock,
        startTime: new Date(snapshot.startMs).toISOString(),
        endTime: new Date(snapshot.endMs).toISOString(),
      },
      status,
      endedReason,
      serverTime: new Date(snapshot.nowMs).toISOString(),
      redis: { remainingStock: snapshot.remaining, buyers, closed: snapshot.closed },
      postgres: {
        confirmedPurchases: confirmed,
        remainingStock: stored?.remainingStock ?? null,
        settled: stored?.settledAt != null,
        // Purchases that collide with different ones already stored: each needs a person (docs/metrics.md).
        conflicts,
      },
      reconcileBacklog: backlog,
    };
  }

  return {
    createSale: (input: NewSale) => withSalesLock(() => createUnlocked(input)),
    ensureCurrentSale,
    report,
  };
}
