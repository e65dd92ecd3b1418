/**
 * Chaos: the Redis primary that owns the current sale hangs long enough for
 * its replica to be promoted. Every purchase answered 201, before or during
 * the failover, must survive it, and the shop must carry on by itself.
 */
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { saleKeys } from '../src/features/flash-sale/flash-sale.logic.js';
import { connectToStack, purchase, reconciled, servicePid, shopperAddress, waitFor } from './support.js';

const stack = connectToStack();
afterAll(() => stack.close());

/** Asks a node other than the hung one who owns the key's slot now. */
async function primaryPortOf(key: string, avoidPort?: number): Promise<number> {
  for (const { port } of allNodePorts()) {
    if (port === avoidPort) continue;
    const node = new Redis({ port, lazyConnect: true, commandTimeout: 500, maxRetriesPerRequest: 0 });
    try {
      await node.connect();
      const slot = await node.cluster('KEYSLOT', key);
      const range = (await node.cluster('SLOTS')).find(([from, to]) => slot >= from && slot <= to);
      if (range?.[2]) return range[2][1];
    } catch {
      // try the next node
    } finally {
      node.disconnect();
    }
  }
  throw new Error('no node answered CLUSTER SLOTS');
}

const allNodePorts = () => stack.redis.nodes().map((n) => ({ port: n.options.port! }));

describe('failover of the primary that owns the sale', () => {
  it('loses no confirmed purchase and heals without help', async () => {
    const sale = await stack.createSale({ stock: 400, productName: 'Failover Widget' });
    const key = saleKeys(sale.id).buyers;
    let shopper = 600_000;
    const confirmed = new Map<string, string>(); // userId → purchaseId
    const statuses: number[] = [];
    const wave = async (size: number) => {
      const answers = await Promise.all(
        Array.from({ length: size }, () => {
          const id = shopper++;
          return purchase(`failover-${id}`, shopperAddress(id));
        }),
      );
      for (const answer of answers) {
        statuses.push(answer.status);
        if (answer.status === 201) confirmed.set(answer.json().data.userId, answer.json().data.purchaseId);
      }
    };

    await wave(50);
    const oldPrimary = await primaryPortOf(key);
    const pid = servicePid(`redis-${oldPrimary}`);
    process.kill(pid, 'SIGSTOP');
    try {
      // Keep buying while the cluster notices (cluster-node-timeout 5 s) and promotes the replica.
      const deadline = Date.now() + 25_000;
      while (Date.now() < deadline && (await primaryPortOf(key, oldPrimary)) === oldPrimary) {
        await wave(10);
      }
      expect(await primaryPortOf(key, oldPrimary)).not.toBe(oldPrimary);
    } finally {
      process.kill(pid, 'SIGCONT');
    }
    // The promoted replica serves; the old primary rejoins as its replica.
    await waitFor(async () => {
      await wave(10);
      return statuses.slice(-10).every((s) => s === 201);
    }, 20_000, 'purchases to succeed again');

    // Nobody was told anything but a clear answer.
    for (const status of statuses) expect([201, 503]).toContain(status);

    // Every 201 is still a purchase, in Redis and then in Postgres.
    const buyers = await stack.store.buyers(sale.id);
    for (const [userId, purchaseId] of confirmed) expect(buyers.get(userId)?.purchaseId).toBe(purchaseId);
    expect((await stack.store.snapshot(sale.id))?.remaining).toBe(400 - buyers.size);
    await reconciled(stack);
    const rows = await stack.repository.confirmedPurchases(sale.id);
    expect(new Set(rows.map((r) => r.purchaseId))).toEqual(new Set([...buyers.values()].map((b) => b.purchaseId)));
    console.info(
      `failover: ${statuses.length} attempts, ${confirmed.size} confirmed, ${statuses.filter((s) => s === 503).length} answered 503 while the cluster failed over`,
    );
  });
});
