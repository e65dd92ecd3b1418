/**
 * Moves confirmed purchases from each sale's Redis Stream into Postgres.
 *
 * A consumer group gives at-least-once delivery; the insert is idempotent, so
 * together they give exactly one row per purchase. Entries are persisted only
 * once Redis replicas hold them (what a failover would discard must never
 * reach Postgres), and acknowledged only after their transaction committed;
 * a purchase that collides with a different one is recorded, never dropped.
 * Entries left pending by a consumer that died are reclaimed with XAUTOCLAIM,
 * and what Postgres holds is trimmed from the stream.
 *
 * Each sale is reconciled on its own: one that fails is retried and reported
 * (readiness, metrics) while the others go on. A sale is settled (no longer
 * watched) only once Redis has closed it for good and its stream is drained.
 */
import type { Cluster } from 'ioredis';
import type { Logger } from '../../platform/logger.js';
import type { ReconcilerMetrics } from '../../platform/metrics.js';
import { CURRENT_SALE_KEY, saleKeys } from './flash-sale.logic.js';
import type { PgSaleRepository, StoredSale } from './flash-sale.pg.js';
import type { RedisSaleStore } from './flash-sale.redis.js';
import { inContinuedTraces } from '../../platform/trace-context.js';
import type { DurabilityCheck } from './purchase-durability.js';
import { readEntry, type PersistablePurchase, type StreamEntry } from './reconcile.logic.js';

export const RECONCILER_GROUP = 'reconciler';

const SALE_LIST_REFRESH_MS = 1_000;
/** How often a sale that may be over is asked whether Redis has closed it. */
const CLOSE_CHECK_INTERVAL_MS = 1_000;
/** A settled sale that is no longer current stays this long in Redis, then expires: Postgres holds it all. */
export const SETTLED_SALE_TTL_MS = 3_600_000;
/** Pauses after a pass in which everything failed (Postgres down, say): 1 s, doubling up to 5 s. */
const FAILED_PASS_PAUSE_MS = { first: 1_000, max: 5_000 };
/** A loop that has not finished a pass in this long is stuck: /healthz says so. */
const STALLED_AFTER_MS = 60_000;

export interface ReconcilerOptions {
  redis: Cluster;
  store: RedisSaleStore;
  durability: DurabilityCheck;
  repository: PgSaleRepository;
  logger: Logger;
  metrics: ReconcilerMetrics;
  consumer: string;
  batchSize: number;
  claimIdleMs: number;
  /** After a pass that found nothing: the longest wait for a new purchase before the next pass. */
  idleWaitMs: number;
  /**
   * A connection of its own for that wait, blocked in XREADGROUP on the
   * current sale's stream, so a purchase wakes the loop at once and an idle
   * loop costs nothing. Without it the loop just pauses (tests).
   */
  waitClient?: Cluster;
  now?: () => number;
}

export type SaleHealth = 'ok' | 'failing';

/** XREADGROUP's reply for one stream, or null when it had nothing. */
type GroupReply = [string, StreamEntry[]][] | null;

/** Entries deleted while pending come back with null fields: nothing to persist. */
const live = (entries: StreamEntry[] | undefined) => (entries ?? []).filter(([, fields]) => Array.isArray(fields));

export interface ReconcilerHealth {
  /** The loop is making progress (a pass, successful or not, finished recently). */
  live: boolean;
  /** Postgres and Redis answered in the last pass, and no sale is failing. */
  ready: boolean;
  checks: { postgres: 'ok' | 'unreachable'; redis: 'ok' | 'unreachable' };
  sales: Record<string, SaleHealth>;
}

export function createReconciler(options: ReconcilerOptions) {
  const { redis, store, durability, repository, logger, metrics, consumer, batchSize, claimIdleMs } = options;
  const now = options.now ?? Date.now;
  const groupsReady = new Set<string>();
  const closeCheckedAt = new Map<string, number>();
  const saleHealth = new Map<string, SaleHealth>();
  let sales: StoredSale[] = [];
  let salesReadAt = 0;
  // Unknown until the first pass has asked: not ready before.
  let postgres: 'ok' | 'unreachable' = 'unreachable';
  let lastPassAt = now();
  let stopping = false;
  let wake: (() => void) | null = null;

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

  /**
   * What this consumer should persist now. A cheap read first (its own
   * pending entries, those a dead consumer left behind, new ones: no write
   * when there is nothing); if it found any, one durability round re-reads
   * this consumer's pending entries, which now hold them all, on the node
   * that serves the sale, and waits for its replicas.
   */
  async function readDurably(streamKey: string, saleId: string) {
    const group = (from: '0' | '>') => ['GROUP', RECONCILER_GROUP, consumer, 'COUNT', batchSize, 'STREAMS', streamKey, from] as const;
    const first = await redis
      .pipeline()
      .xreadgroup(...group('0'))
      .xautoclaim(streamKey, RECONCILER_GROUP, consumer, claimIdleMs, '0-0', 'COUNT', batchSize)
      .xreadgroup(...group('>'))
      .exec();
    const failed = first?.find(([error]) => error)?.[0];
    if (!first || failed) throw failed ?? new Error(`no reply reading the purchases of sale ${saleId}`);
    const [[, own], [, claimed], [, fresh]] = first as [[null, GroupReply], [null, [string, StreamEntry[]]], [null, GroupReply]];
    const reclaimed = live(claimed[1]).length;
    if (live(own?.[0]?.[1]).length + reclaimed + live(fresh?.[0]?.[1]).length === 0) return { durable: true, entries: [], reclaimed };

    const round = await durability.readDurably(saleId, (pipeline) => pipeline.xreadgroup(...group('0')));
    if (!round) throw new Error(`could not confirm with Redis replicas the purchases of sale ${saleId}`);
    return { durable: round.durable, entries: live((round.replies[0] as GroupReply)?.[0]?.[1]), reclaimed };
  }

  /** Reconciles one sale: reads durably, persists, acknowledges, trims. Returns the entries handled. */
  async function reconcileSale(sale: StoredSale): Promise<number> {
    const streamKey = saleKeys(sale.id).purchases;
    await ensureGroup(streamKey);
    const { durable, entries, reclaimed } = await readDurably(streamKey, sale.id).catch(async (error: unknown) => {
      if (!(error instanceof Error && error.message.startsWith('NOGROUP'))) throw error;
      // Redis lost the stream, and the consumer group with it: make the group again, from the first entry.
      logger.warn({ saleId: sale.id }, 'the consumer group is gone (Redis lost the stream?); creating it again');
      groupsReady.delete(streamKey);
      await ensureGroup(streamKey);
      return readDurably(streamKey, sale.id);
    });
    if (entries.length === 0) return 0;
    if (!durable) {
      // Read now, pending on this consumer; persisted on a later pass once replicated, or never if a failover discards them.
      metrics.heldBack.inc(entries.length);
      return 0;
    }
    if (reclaimed > 0) {
      metrics.reclaimed.inc(reclaimed);
      logger.warn({ saleId: sale.id, entries: reclaimed }, 'reclaimed entries left pending by another consumer');
    }

    const purchases: PersistablePurchase[] = [];
    const purchaseEntryIds: string[] = [];
    const traceParents: string[] = [];
    const malformed: { entryId: string; fields: Record<string, string> }[] = [];
    for (const entry of entries) {
      const read = readEntry(entry);
      if ('purchase' in read) {
        purchases.push(read.purchase);
        purchaseEntryIds.push(read.entryId);
        if (read.traceParent) traceParents.push(read.traceParent);
      } else malformed.push({ entryId: read.entryId, fields: read.malformed });
    }
    const attributes = { 'flashflow.sale_id': sale.id, 'messaging.batch.message_count': entries.length };
    return inContinuedTraces('flashflow.reconcile persist', traceParents, attributes, () =>
      persist(sale.id, streamKey, entries, purchases, purchaseEntryIds, malformed),
    );
  }

  /** Writes one durable batch to Postgres, then acknowledges and trims it. Returns the entries handled. */
  async function persist(
    saleId: string,
    streamKey: string,
    entries: StreamEntry[],
    purchases: PersistablePurchase[],
    purchaseEntryIds: string[],
    malformed: { entryId: string; fields: Record<string, string> }[],
  ): Promise<number> {
    const { inserted, conflicts } = await repository.persistPurchases(saleId, purchases, purchaseEntryIds);
    const malformedRecorded = await repository.recordMalformedEntries(saleId, malformed);
    await redis.xack(streamKey, RECONCILER_GROUP, ...entries.map(([id]) => id));
    await redis.flashTrimPersisted(streamKey, RECONCILER_GROUP);

    const committedAt = now();
    for (const purchase of purchases) metrics.lag.observe((committedAt - purchase.purchasedAtMs) / 1000);
    metrics.persisted.inc(inserted);
    for (const conflict of conflicts) metrics.conflicts.inc({ reason: conflict.reason });
    if (malformedRecorded > 0) metrics.conflicts.inc({ reason: 'malformed_entry' }, malformedRecorded);
    logger.debug({ saleId, inserted, entries: entries.length }, 'purchases persisted');
    if (conflicts.length > 0 || malformedRecorded > 0) {
      logger.error(
        { saleId, conflicts: conflicts.map((c) => ({ ...c.purchase, reason: c.reason, with: c.conflictingPurchaseId })), malformed },
        'purchases collide with different ones already in Postgres: recorded in purchase_conflicts',
      );
    }
    return entries.length;
  }

  /**
   * Settles a sale once it can take no more purchases: Redis has closed it
   * (close.lua, replicated) and its stream holds nothing Postgres lacks. A
   * closed sale that is no longer current then expires from Redis.
   */
  async function settleIfDone(sale: StoredSale): Promise<boolean> {
    const checkedAt = closeCheckedAt.get(sale.id) ?? 0;
    if (now() - checkedAt < CLOSE_CHECK_INTERVAL_MS) return false;
    closeCheckedAt.set(sale.id, now());
    if ((await store.closeSale(sale.id, 'if-done')) !== 'closed') return false;
    if (!(await durability.saleHolds(sale.id, 'closed'))) return false;
    if ((await reconcileBacklog(redis, saleKeys(sale.id).purchases)) > 0) return false;
    await repository.markSettled(sale.id);
    closeCheckedAt.delete(sale.id);
    if ((await redis.get(CURRENT_SALE_KEY)) !== sale.id) await store.expireSale(sale.id, SETTLED_SALE_TTL_MS);
    logger.info({ saleId: sale.id }, 'sale settled: closed in Redis and every purchase persisted');
    return true;
  }

  async function refreshSales() {
    if (now() - salesReadAt < SALE_LIST_REFRESH_MS) return;
    try {
      sales = await repository.unsettledSales();
      postgres = 'ok';
      metrics.postgresUp.set(1);
    } catch (error) {
      postgres = 'unreachable';
      metrics.postgresUp.set(0);
      throw error;
    }
    salesReadAt = now();
    for (const id of saleHealth.keys()) if (!sales.some((sale) => sale.id === id)) saleHealth.delete(id);
    let backlog = 0;
    for (const sale of sales) backlog += await reconcileBacklog(redis, saleKeys(sale.id).purchases).catch(() => 0);
    metrics.backlog.set(backlog);
  }

  /** One pass over every unsettled sale, each on its own; returns entries handled and whether any sale failed. */
  async function pass(): Promise<{ handled: number; failed: number }> {
    await refreshSales();
    let handled = 0;
    let failed = 0;
    for (const sale of sales) {
      try {
        handled += await reconcileSale(sale);
        if (await settleIfDone(sale)) salesReadAt = 0;
        if (saleHealth.get(sale.id) === 'failing') logger.info({ saleId: sale.id }, 'sale reconciles again');
        saleHealth.set(sale.id, 'ok');
      } catch (error) {
        failed += 1;
        metrics.errors.inc();
        if (saleHealth.get(sale.id) !== 'failing') logger.error({ err: error, saleId: sale.id }, 'reconciling a sale failed; retrying');
        saleHealth.set(sale.id, 'failing');
      }
    }
    metrics.failingSales.set(failed);
    return { handled, failed };
  }

  const pause = (ms: number) =>
    new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, ms);
      wake = () => {
        clearTimeout(timer);
        resolve();
      };
    }).finally(() => {
      wake = null;
    });

  /**
   * Until a purchase reaches the current sale, where they arrive, or
   * idleWaitMs pass. The entry the blocking read takes is this consumer's
   * pending entry, which the next pass reads first.
   */
  async function waitForPurchases() {
    const current = options.waitClient ? await store.currentSaleId().catch(() => null) : null;
    const streamKey = current ? saleKeys(current).purchases : '';
    if (!options.waitClient || !groupsReady.has(streamKey)) return pause(options.idleWaitMs);
    const arrival = options.waitClient.xreadgroup(
      'GROUP', RECONCILER_GROUP, consumer, 'COUNT', 1, 'BLOCK', options.idleWaitMs, 'STREAMS', streamKey, '>',
    );
    // A failed read (failover, the stream gone) still waits: the next pass meets the problem and reports it.
    const longest = pause(options.idleWaitMs + 1_000);
    await Promise.race([arrival.then(undefined, () => longest), longest]);
  }

  /** Runs until stop() is called. Nothing it meets ends it: failures are reported, then retried. */
  async function run() {
    let failedPasses = 0;
    while (!stopping) {
      let outcome: { handled: number; failed: number } | null = null;
      try {
        outcome = await pass();
      } catch (error) {
        metrics.errors.inc();
        if (failedPasses === 0) logger.error({ err: error }, 'reconcile pass failed (Postgres or Redis unreachable?); retrying');
      }
      lastPassAt = now();
      metrics.lastPass.set(lastPassAt / 1000);
      const everythingFailed = outcome === null || (outcome.failed > 0 && outcome.failed === sales.length);
      failedPasses = everythingFailed ? failedPasses + 1 : 0;
      if (failedPasses > 0) {
        await pause(Math.min(FAILED_PASS_PAUSE_MS.first * 2 ** (failedPasses - 1), FAILED_PASS_PAUSE_MS.max));
      } else if (outcome?.handled === 0) {
        await waitForPurchases();
      }
    }
  }

  return {
    run,
    stop() {
      stopping = true;
      wake?.();
    },
    health(): ReconcilerHealth {
      const failing = [...saleHealth.values()].includes('failing');
      return {
        live: now() - lastPassAt < STALLED_AFTER_MS,
        ready: postgres === 'ok' && !failing,
        checks: { postgres, redis: redis.status === 'ready' ? 'ok' : 'unreachable' },
        sales: Object.fromEntries(saleHealth),
      };
    },
    /** One pass over every unsettled sale, now; used by tests. Rejects if any sale failed. */
    async drainOnce() {
      salesReadAt = 0;
      const { handled, failed } = await pass();
      if (failed > 0) throw new Error(`${failed} sale(s) failed to reconcile`);
      return handled;
    },
  };
}


/** Entries confirmed in Redis and not yet acknowledged as persisted: pending plus never read. */
export async function reconcileBacklog(redis: Cluster, streamKey: string): Promise<number> {
  const groups = (await redis.xinfo('GROUPS', streamKey).catch(() => [])) as unknown[][];
  const group = groups.map(pairsToObject).find((g) => g.name === RECONCILER_GROUP);
  if (!group) return redis.xlen(streamKey);
  // Redis reports no lag when it cannot tell (entries deleted after the last delivered one): count them.
  const unread =
    group.lag == null
      ? (await redis.xrange(streamKey, `(${String(group['last-delivered-id'])}`, '+')).length
      : Number(group.lag);
  return Number(group.pending ?? 0) + unread;
}

function pairsToObject(pairs: unknown[]): Record<string, unknown> {
  const result: Record<string, unknown> = {};
  for (let i = 0; i + 1 < pairs.length; i += 2) result[String(pairs[i])] = pairs[i + 1];
  return result;
}
