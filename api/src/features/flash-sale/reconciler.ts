/**
 * Moves confirmed purchases from each sale's Redis Stream into Postgres.
 *
 * A consumer group gives at-least-once delivery; the insert is idempotent
 * (ON CONFLICT DO NOTHING), so together they give exactly one row per
 * purchase. An entry is acknowledged only after its transaction commits, and
 * entries left pending by a consumer that died are reclaimed with XAUTOCLAIM.
 * A sale is settled (no longer polled) once it has ended and its stream is drained.
 */
import type { Cluster } from 'ioredis';
import type { Logger } from '../../platform/logger.js';
import type { ReconcilerMetrics } from '../../platform/metrics.js';
import { saleKeys } from './flash-sale.logic.js';
import type { PersistablePurchase, PgSaleRepository, StoredSale } from './flash-sale.pg.js';

export const RECONCILER_GROUP = 'reconciler';

/** How long a closed sale is still watched, for claims that were in flight when it closed. */
const SETTLE_GRACE_MS = 2_000;
const SALE_LIST_REFRESH_MS = 1_000;

type StreamEntry = [id: string, fields: string[]];

export interface ReconcilerOptions {
  redis: Cluster;
  repository: PgSaleRepository;
  logger: Logger;
  metrics: ReconcilerMetrics;
  consumer: string;
  batchSize: number;
  claimIdleMs: number;
  idlePollMs: number;
  now?: () => number;
}

export function toPurchase([, fields]: StreamEntry): PersistablePurchase {
  const value = (name: string) => {
    const index = fields.indexOf(name);
    const found = index >= 0 && index % 2 === 0 ? fields[index + 1] : undefined;
    if (found === undefined) throw new Error(`stream entry lacks ${name}`);
    return found;
  };
  return {
    purchaseId: value('purchase_id'),
    userId: value('user_id'),
    unit: Number(value('unit')),
    purchasedAtMs: Number(value('purchased_at_ms')),
  };
}

export function createReconciler(options: ReconcilerOptions) {
  const { redis, repository, logger, metrics, consumer, batchSize, claimIdleMs } = options;
  const now = options.now ?? Date.now;
  const groupsReady = new Set<string>();
  let sales: StoredSale[] = [];
  let salesReadAt = 0;
  let stopping = false;

  async function ensureGroup(streamKey: string) {
    if (groupsReady.has(streamKey)) return;
    try {
      // From the very first entry: nothing confirmed before the group existed is skipped.
      await redis.xgroup('CREATE', streamKey, RECONCILER_GROUP, '0', 'MKSTREAM');
    } catch (error) {
      if (!(error instanceof Error) || !error.message.includes('BUSYGROUP')) throw error;
    }
    groupsReady.add(streamKey);
  }

  async function persist(sale: StoredSale, streamKey: string, entries: StreamEntry[]) {
    if (entries.length === 0) return 0;
    const purchases = entries.map(toPurchase);
    const inserted = await repository.persistPurchases(sale.id, purchases);
    await redis.xack(streamKey, RECONCILER_GROUP, ...entries.map(([id]) => id));
    const committedAt = now();
    for (const purchase of purchases) metrics.lag.observe((committedAt - purchase.purchasedAtMs) / 1000);
    metrics.persisted.inc(inserted);
    return entries.length;
  }

  /** One pass over one sale: its own pending entries, orphans of dead consumers, then new entries. */
  async function reconcileSale(sale: StoredSale, ownPendingFirst: boolean): Promise<number> {
    const streamKey = saleKeys(sale.id).purchases;
    await ensureGroup(streamKey);
    let handled = 0;

    if (ownPendingFirst) {
      const mine = await readGroup(streamKey, '0');
      handled += await persist(sale, streamKey, mine);
    }

    const [, claimed] = (await redis.xautoclaim(
      streamKey, RECONCILER_GROUP, consumer, claimIdleMs, '0-0', 'COUNT', batchSize,
    )) as [string, StreamEntry[]];
    if (claimed.length > 0) {
      metrics.reclaimed.inc(claimed.length);
      logger.warn({ saleId: sale.id, entries: claimed.length }, 'reclaimed entries left pending by another consumer');
      handled += await persist(sale, streamKey, claimed);
    }

    handled += await persist(sale, streamKey, await readGroup(streamKey, '>'));
    return handled;
  }

  async function readGroup(streamKey: string, from: '0' | '>'): Promise<StreamEntry[]> {
    const reply = (await redis.xreadgroup(
      'GROUP', RECONCILER_GROUP, consumer, 'COUNT', batchSize, 'STREAMS', streamKey, from,
    )) as [string, StreamEntry[]][] | null;
    // Entries deleted while pending come back with null fields; nothing to persist.
    return (reply?.[0]?.[1] ?? []).filter(([, fields]) => Array.isArray(fields));
  }

  /**
   * A sale can take no more purchases once its window has closed, it has sold
   * out (every unit already in Postgres), or a newer sale replaced it as the
   * current one. After a grace for claims in flight, a drained sale is settled.
   */
  async function settleIfDone(sale: StoredSale, successor: StoredSale | undefined) {
    const closedAtMs = Math.min(
      sale.endMs,
      successor?.createdAtMs ?? Infinity,
      sale.remainingStock === 0 ? 0 : Infinity, // every unit is already in Postgres
    );
    if (now() < closedAtMs + SETTLE_GRACE_MS) return false;
    const streamKey = saleKeys(sale.id).purchases;
    if ((await reconcileBacklog(redis, streamKey)) > 0) return false;
    await repository.markSettled(sale.id);
    logger.info({ saleId: sale.id }, 'sale settled: closed and every purchase persisted');
    return true;
  }

  async function refreshSales() {
    if (now() - salesReadAt < SALE_LIST_REFRESH_MS) return;
    sales = await repository.unsettledSales();
    salesReadAt = now();
    let backlog = 0;
    for (const sale of sales) backlog += await reconcileBacklog(redis, saleKeys(sale.id).purchases);
    metrics.backlog.set(backlog);
  }

  /** Runs until stop() is called; errors are logged, counted and retried after a pause. */
  async function run() {
    let firstPass = true;
    while (!stopping) {
      try {
        await refreshSales();
        let handled = 0;
        for (const [index, sale] of sales.entries()) {
          handled += await reconcileSale(sale, firstPass);
          if (await settleIfDone(sale, sales[index + 1])) salesReadAt = 0;
        }
        firstPass = false;
        if (handled === 0) await sleep(options.idlePollMs);
      } catch (error) {
        metrics.errors.inc();
        logger.error({ err: error }, 'reconcile pass failed; retrying');
        await sleep(1000);
      }
    }
  }

  return {
    run,
    stop() {
      stopping = true;
    },
    /** Drains every unsettled sale once; used by tests and the report. */
    async drainOnce() {
      salesReadAt = 0;
      await refreshSales();
      let handled = 0;
      for (const sale of sales) handled += await reconcileSale(sale, true);
      return handled;
    },
  };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Entries confirmed in Redis and not yet acknowledged as persisted: pending plus never read. */
export async function reconcileBacklog(redis: Cluster, streamKey: string): Promise<number> {
  const groups = (await redis.xinfo('GROUPS', streamKey).catch(() => [])) as unknown[][];
  const group = groups.map(pairsToObject).find((g) => g.name === RECONCILER_GROUP);
  if (!group) return redis.xlen(streamKey);
  return Number(group.pending ?? 0) + Number(group.lag ?? 0);
}

function pairsToObject(pairs: unknown[]): Record<string, unknown> {
  const result: Record<string, unknown> = {};
  for (let i = 0; i + 1 < pairs.length; i += 2) result[String(pairs[i])] = pairs[i + 1];
  return result;
}
