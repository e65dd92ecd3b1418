/**
 * The reconciler against real Redis and Postgres: idempotent writes, and
 * entries a dead consumer left pending are taken over, not lost.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { saleKeys } from '../src/features/flash-sale/flash-sale.logic.js';
import { createReconciler, RECONCILER_GROUP } from '../src/features/flash-sale/reconciler.js';
import { createReconcilerMetrics } from '../src/platform/metrics.js';
import { connectToStack } from './support.js';

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
  await stack.store.initialiseSale(sale, stock, new Map());
  const stored = (await stack.pool.query('SELECT created_at FROM flash_sales WHERE id = $1', [sale.id])).rows[0];
  return { ...sale, remainingStock: stock, status: 'active', settledAt: null, createdAtMs: stored.created_at.getTime() };
}

function reconcilerFor(sale: Awaited<ReturnType<typeof privateSale>>, consumer: string) {
  return createReconciler({
    redis: stack.redis,
    repository: { ...stack.repository, unsettledSales: async () => [sale] },
    logger: stack.logger,
    metrics: createReconcilerMetrics(),
    consumer,
    batchSize: 100,
    claimIdleMs: 200,
    idlePollMs: 10,
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
    expect(await stack.repository.persistPurchases(sale.id, purchases)).toBe(2);
    expect(await stack.repository.persistPurchases(sale.id, purchases)).toBe(0);
    expect(await stack.repository.confirmedCount(sale.id)).toBe(2);
    const { rows } = await stack.pool.query('SELECT remaining_stock FROM flash_sales WHERE id = $1', [sale.id]);
    expect(rows[0].remaining_stock).toBe(3);
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
