/**
 * The reconciler against real Redis and Postgres: idempotent writes, and
 * entries a dead consumer left pending are taken over, not lost.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { saleKeys } from '../src/features/flash-sale/flash-sale.logic.js';
import { createReconciler, RECONCILER_GROUP } from '../src/features/flash-sale/reconciler.js';
import { createReconcilerMetrics } from '../src/platform/metrics.js';
import { loadEnv } from '../src/env.js';
import { connectToStack, http, privilegedSession, purchase, reconciled, waitFor } from './support.js';

const stack = connectToStack();
afterAll(() => stack.close());

/**
 * A sale the stack's own reconciler does not watch (settled in Postgres from
 * the start), so this test alone decides who reads its stream.
 */
async function privateSale(stock: number) {
  const sale = {
    id: randomUUID(),
    productName: 'Reconciler Widget',
    totalStock: stock,
    startMs: Date.now() - 1_000,
    endMs: Date.now() + 600_000,
  };
  await stack.repository.insertSale(sale);
  await stack.repository.markSettled(sale.id);
  await stack.store.initialiseSale(sale, { remaining: stock, buyers: new Map(), closed: false });
  const stored = (await stack.pool.query('SELECT created_at FROM flash_sales WHERE id = $1', [sale.id])).rows[0];
  return { ...sale, remainingStock: stock, status: 'active', settledAt: null, createdAtMs: stored.created_at.getTime() };
}

type PrivateSale = Awaited<ReturnType<typeof privateSale>>;

function reconcilerFor(
  sales: PrivateSale | PrivateSale[],
  consumer: string,
  metrics = createReconcilerMetrics(),
) {
  return createReconciler({
    redis: stack.redis,
    store: stack.store,
    durability: stack.durability,
    repository: { ...stack.repository, unsettledSales: async () => [sales].flat() },
    logger: stack.logger,
    metrics,
    consumer,
    batchSize: 100,
    claimIdleMs: 200,
    idleWaitMs: 10,
  });
}

describe('persisting purchases', () => {
  it('writes each purchase once however often it is replayed, and stock follows', async () => {
    const sale = await privateSale(5);
    const purchases = [1, 2].map((unit) => ({
      purchaseId: randomUUID(),
      userId: `replayed-${unit}`,
      unit,
      purchasedAtMs: Date.now(),
    }));
    expect(await stack.repository.persistPurchases(sale.id, purchases)).toEqual({ inserted: 2, conflicts: [] });
    expect(await stack.repository.persistPurchases(sale.id, purchases)).toEqual({ inserted: 0, conflicts: [] });
    expect(await stack.repository.confirmedCount(sale.id)).toBe(2);
    const { rows } = await stack.pool.query('SELECT remaining_stock FROM flash_sales WHERE id = $1', [sale.id]);
    expect(rows[0].remaining_stock).toBe(3);
  });
});

describe('an idle reconciler', () => {
  it('blocks on the current sale’s stream and wakes as soon as a purchase arrives', async () => {
    const sale = await privateSale(5);
    const idleWaitMs = 20_000;
    const waitClient = stack.redis.duplicate(undefined, {
      redisOptions: { ...stack.redis.options.redisOptions, commandTimeout: idleWaitMs + 5_000 },
    });
    const reconciler = createReconciler({
      redis: stack.redis,
      store: { ...stack.store, currentSaleId: async () => sale.id },
      durability: stack.durability,
      repository: { ...stack.repository, unsettledSales: async () => [sale] },
      logger: stack.logger,
      metrics: createReconcilerMetrics(),
      consumer: 'idle-waiter',
      batchSize: 100,
      claimIdleMs: 5_000,
      idleWaitMs,
      waitClient,
    });
    const running = reconciler.run();
    try {
      // Its first pass found nothing: it is now blocked for up to 20 s.
      const consumers = async () => (await stack.redis.xinfo('CONSUMERS', saleKeys(sale.id).purchases, RECONCILER_GROUP).catch(() => [])) as unknown[];
      await waitFor(async () => (await consumers()).length > 0, 5_000, 'the first pass');
      expect((await stack.store.claim(sale.id, 'wakes.the.reconciler', randomUUID())).kind).toBe('CONFIRMED');
      // Persisted long before a 20 s pause would have ended.
      await waitFor(async () => (await stack.repository.confirmedCount(sale.id)) === 1, 5_000, 'the purchase to reach Postgres');
    } finally {
      reconciler.stop();
      waitClient.disconnect();
      await running;
    }
  });
});

describe('a consumer that dies with entries pending', () => {
  it('has its entries reclaimed and persisted by another', async () => {
    const sale = await privateSale(10);
    const keys = saleKeys(sale.id);
    for (let i = 0; i < 3; i += 1) {
      const outcome = await stack.store.claim(sale.id, `orphan-${i}`, randomUUID());
      expect(outcome.kind).toBe('CONFIRMED');
    }
    // The dead consumer read the entries and never acknowledged them.
    await stack.redis.xgroup('CREATE', keys.purchases, RECONCILER_GROUP, '0', 'MKSTREAM');
    await stack.redis.xreadgroup('GROUP', RECONCILER_GROUP, 'dead-consumer', 'COUNT', 10, 'STREAMS', keys.purchases, '>');
    expect(await stack.repository.confirmedCount(sale.id)).toBe(0);

    await new Promise((resolve) => setTimeout(resolve, 300)); // longer than claimIdleMs
    await reconcilerFor(sale, 'survivor').drainOnce();

    expect(await stack.repository.confirmedCount(sale.id)).toBe(3);
    const pending = (await stack.redis.xpending(keys.purchases, RECONCILER_GROUP)) as [number];
    expect(pending[0]).toBe(0);
  });
});

/** A metric's value, summed over its labels. */
const metricValue = async (metrics: ReturnType<typeof createReconcilerMetrics>, name: string) =>
  (await metrics.registry.getMetricsAsJSON()).find((m) => m.name === name)?.values.reduce((sum, v) => sum + v.value, 0) ?? NaN;

describe('a purchase that conflicts with a different one already in Postgres', () => {
  it('is recorded, counted and acknowledged with its trace, never silently dropped', async () => {
    const sale = await privateSale(5);
    const keys = saleKeys(sale.id);
    const original = { purchaseId: randomUUID(), userId: 'conflicted.buyer', unit: 1, purchasedAtMs: Date.now() };
    expect((await stack.repository.persistPurchases(sale.id, [original])).inserted).toBe(1);
    // Redis diverged from Postgres: the same buyer with another purchase, and another buyer given the same unit.
    const sameBuyer = randomUUID();
    const sameUnit = randomUUID();
    const at = String(Date.now());
    await stack.redis.xadd(keys.purchases, '*', 'purchase_id', sameBuyer, 'user_id', 'conflicted.buyer', 'unit', '2', 'purchased_at_ms', at);
    await stack.redis.xadd(keys.purchases, '*', 'purchase_id', sameUnit, 'user_id', 'another.buyer', 'unit', '1', 'purchased_at_ms', at);
    // …and a plain replay of the original, which is no conflict at all.
    await stack.redis.xadd(keys.purchases, '*', 'purchase_id', original.purchaseId, 'user_id', 'conflicted.buyer', 'unit', '1', 'purchased_at_ms', at);

    const metrics = createReconcilerMetrics();
    await reconcilerFor(sale, 'conflict-recorder', metrics).drainOnce();

    const { rows } = await stack.pool.query(
      'SELECT purchase_id, user_id, unit_number, reason FROM purchase_conflicts WHERE flash_sale_id = $1 ORDER BY unit_number DESC',
      [sale.id],
    );
    expect(rows).toEqual([
      { purchase_id: sameBuyer, user_id: 'conflicted.buyer', unit_number: 2, reason: 'buyer_already_has_purchase' },
      { purchase_id: sameUnit, user_id: 'another.buyer', unit_number: 1, reason: 'unit_already_sold' },
    ]);
    expect(await metricValue(metrics, 'flashflow_reconciler_conflicts_total')).toBe(2);
    expect(await stack.repository.confirmedCount(sale.id)).toBe(1);
    const pending = (await stack.redis.xpending(keys.purchases, RECONCILER_GROUP)) as [number];
    expect(pending[0]).toBe(0);
  });
});

describe('a wedged reconciler', () => {
  it('recreates its consumer group when Redis lost the stream', async () => {
    const sale = await privateSale(5);
    const keys = saleKeys(sale.id);
    const reconciler = reconcilerFor(sale, 'regrouping');
    expect((await stack.store.claim(sale.id, 'before.loss', randomUUID())).kind).toBe('CONFIRMED');
    await reconciler.drainOnce();
    await stack.redis.del(keys.purchases); // the stream and its consumer group are gone
    expect((await stack.store.claim(sale.id, 'after.loss', randomUUID())).kind).toBe('CONFIRMED');
    await reconciler.drainOnce();
    expect((await stack.repository.confirmedPurchases(sale.id)).map((p) => p.userId).sort()).toEqual(['after.loss', 'before.loss']);
  });

  it('keeps reconciling every other sale while one of them fails', async () => {
    const good = await privateSale(5);
    // A sale Redis sells but Postgres has no row for: every insert of it fails.
    const broken = { ...good, id: randomUUID() };
    await stack.store.initialiseSale(broken, { remaining: 5, buyers: new Map(), closed: false });
    expect((await stack.store.claim(broken.id, 'stuck.buyer', randomUUID())).kind).toBe('CONFIRMED');
    expect((await stack.store.claim(good.id, 'unaffected.buyer', randomUUID())).kind).toBe('CONFIRMED');

    const metrics = createReconcilerMetrics();
    await reconcilerFor([broken, good], 'isolating', metrics).drainOnce().catch(() => undefined);
    expect((await stack.repository.confirmedPurchases(good.id)).map((p) => p.userId)).toEqual(['unaffected.buyer']);
    expect(await metricValue(metrics, 'flashflow_reconciler_errors_total')).toBeGreaterThanOrEqual(1);
  });
});

describe('the stack’s reconciler with a sale it cannot reconcile', () => {
  const reconcilerUrl = `http://127.0.0.1:${loadEnv().RECONCILER_PORT}`;

  it('says so on /readyz, stays alive on /healthz, and keeps the other sales moving', async () => {
    // An unsettled sale in Postgres whose stream key holds the wrong type: every pass over it fails.
    const id = randomUUID();
    await stack.repository.insertSale({ id, productName: 'Broken Widget', totalStock: 1, startMs: Date.now(), endMs: Date.now() + 60_000 });
    await stack.redis.set(saleKeys(id).purchases, 'not a stream');
    try {
      await stack.createSale({ stock: 5 });
      const ready = await waitFor(async () => {
        const answer = await http('GET', `${reconcilerUrl}/readyz`);
        return answer.status === 503 ? answer : null;
      }, 10_000, 'the reconciler to report the failing sale');
      expect(ready.json().sales).toMatchObject({ [id]: 'failing' });
      expect((await http('GET', `${reconcilerUrl}/healthz`)).status).toBe(200);
      expect((await purchase('moving.buyer')).status).toBe(201);
      await reconciled(stack);
    } finally {
      await stack.redis.del(saleKeys(id).purchases);
      await stack.repository.markSettled(id);
    }
  });
});

describe('a sale is settled only once Redis has closed it', () => {
  it('keeps persisting a running sale after a newer sale row appeared in Postgres alone', async () => {
    const sale = await stack.createSale({ stock: 10 });
    // What a `sale create` that died after its Postgres insert left behind.
    const orphan = randomUUID();
    await stack.repository.insertSale({ id: orphan, productName: 'Orphan', totalStock: 1, startMs: Date.now(), endMs: Date.now() + 60_000 });
    try {
      await new Promise((resolve) => setTimeout(resolve, 3_000));
      const answer = await purchase('still.selling');
      expect(answer.status).toBe(201);
      await waitFor(
        async () => (await stack.repository.confirmedPurchases(sale.id)).some((p) => p.purchaseId === answer.json().data.purchaseId),
        10_000,
        'the purchase to reach Postgres',
      );
    } finally {
      const owner = await privilegedSession('owner');
      await owner.query('DELETE FROM flash_sales WHERE id = $1', [orphan]).finally(() => owner.end());
    }
  });
});
