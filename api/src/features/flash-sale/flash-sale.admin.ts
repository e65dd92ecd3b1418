/** Operator actions on sales: create one, make sure the current one is live, report on it. */
import { randomUUID } from 'node:crypto';
import { Redlock } from '@sesamecare-oss/redlock';
import type { Cluster } from 'ioredis';
import type { Logger } from '../../platform/logger.js';
import { computeSaleStatus, saleKeys } from './flash-sale.logic.js';
import type { PgSaleRepository } from './flash-sale.pg.js';
import type { RedisSaleStore, SaleDefinition } from './flash-sale.redis.js';
import { reconcileBacklog } from './reconciler.js';

export interface NewSale {
  productName: string;
  stock: number;
  startsInMs: number;
  durationMs: number;
}

interface AdminDependencies {
  redis: Cluster;
  store: RedisSaleStore;
  repository: PgSaleRepository;
  logger: Logger;
}

/** Creating or restoring sales is check-then-act across two stores: one operator at a time. */
const SALES_LOCK = 'flash:lock:sales';
const SALES_LOCK_TTL_MS = 15_000;

export function createSaleAdmin({ redis, store, repository, logger }: AdminDependencies) {
  const redlock = new Redlock([redis], { retryCount: 50, retryDelay: 200 });
  const withSalesLock = <T>(routine: () => Promise<T>) =>
    redlock.using([SALES_LOCK], SALES_LOCK_TTL_MS, routine);

  /** Postgres first (the durable record), then Redis, then the pointer that makes it current. */
  async function createUnlocked(input: NewSale): Promise<SaleDefinition> {
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
    await repository.insertSale(sale);
    await store.initialiseSale(sale, sale.totalStock, new Map());
    await store.setCurrentSale(id);
    logger.info({ sale }, 'sale created');
    return sale;
  }

  /**
   * Run at start-up. The latest sale in Postgres is the current one; if Redis
   * lost its state (a wiped data directory), it is rebuilt from the purchases
   * Postgres holds. Creates a sale only when there is none at all, so a
   * restart never re-initialises a running sale.
   */
  async function ensureCurrentSale(demo: NewSale | null): Promise<{ sale: SaleDefinition; created: boolean } | null> {
    return withSalesLock(async () => {
      const latest = await repository.latestSale();
      if (!latest) {
        if (!demo) return null;
        return { sale: await createUnlocked(demo), created: true };
      }
      const purchases = await repository.confirmedPurchases(latest.id);
      const buyers = new Map(
        purchases.map((p) => [p.userId, `${p.purchaseId}|${p.purchasedAtMs}|${p.unit}`] as const),
      );
      if (await store.initialiseSale(latest, latest.totalStock - purchases.length, buyers)) {
        logger.warn({ saleId: latest.id, restoredBuyers: buyers.size }, 'sale state missing in Redis: rebuilt from Postgres');
      }
      if ((await store.currentSaleId()) !== latest.id) await store.setCurrentSale(latest.id);
      return { sale: latest, created: false };
    });
  }

  async function report() {
    const saleId = await store.currentSaleId();
    if (!saleId) return { sale: null };
    const keys = saleKeys(saleId);
    const [snapshot, buyers, confirmed, stored, backlog] = await Promise.all([
      store.snapshot(saleId),
      redis.hlen(keys.buyers),
      repository.confirmedCount(saleId),
      repository.latestSale(),
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
      redis: { remainingStock: snapshot.remaining, buyers },
      postgres: {
        confirmedPurchases: confirmed,
        remainingStock: stored?.id === saleId ? stored.remainingStock : null,
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
