/**
 * Redis memory is bounded: every node has a maxmemory with noeviction, a
 * sale's stream keeps only what Postgres does not hold yet, and a settled
 * sale that is no longer current expires.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { loadEnv } from '../src/env.js';
import { saleKeys } from '../src/features/flash-sale/flash-sale.logic.js';
import { adminNode, connectToStack, purchase, reconciled, waitFor } from './support.js';

const stack = connectToStack();
afterAll(() => stack.close());

describe('Redis memory', () => {
  it('is capped on every node, and nothing is ever evicted', async () => {
    for (const seed of loadEnv().REDIS_NODES) {
      const node = adminNode(seed);
      try {
        await node.connect();
        const [, maxmemory] = (await node.config('GET', 'maxmemory')) as [string, string];
        const [, policy] = (await node.config('GET', 'maxmemory-policy')) as [string, string];
        expect(Number(maxmemory)).toBeGreaterThan(0);
        expect(policy).toBe('noeviction');
      } finally {
        node.disconnect();
      }
    }
  });

  it('holds in a sale’s stream only what Postgres does not have yet', async () => {
    const sale = await stack.createSale({ stock: 20 });
    for (let i = 0; i < 10; i += 1) expect((await purchase(`trimmed.${i}`)).status).toBe(201);
    await reconciled(stack);
    await waitFor(async () => (await stack.redis.xlen(saleKeys(sale.id).purchases)) === 0, 10_000, 'the stream to be trimmed');
  });

  it('lets a settled sale that is no longer current expire', async () => {
    const sale = await stack.createSale({ stock: 1 });
    expect((await purchase('last.unit')).status).toBe(201);
    await reconciled(stack);
    await waitFor(async () => (await stack.repository.unsettledSales()).every((s) => s.id !== sale.id), 10_000, 'the sale to settle');
    await stack.createSale({ stock: 1 });
    const keys = saleKeys(sale.id);
    await waitFor(async () => {
      const ttls = await Promise.all([keys.sale, keys.buyers].map((key) => stack.redis.pttl(key)));
      return ttls.every((ttl) => ttl > 0);
    }, 10_000, 'the settled sale’s keys to expire');
  });
});
