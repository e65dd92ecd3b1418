/**
 * A 201, and any answer that tells a shopper a unit is theirs, is given only
 * once a Redis replica holds the purchase; otherwise the shopper gets 503
 * with Retry-After, and the retry returns the original purchase, never a
 * second unit (ADR 0002).
 */
import type { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { withNode } from '../../stack/src/redis-topology.js';
import { saleKeys } from '../src/features/flash-sale/flash-sale.logic.js';
import { adminNode, api, connectToStack, http, purchase, redisAdmin, servicePid, untilClusterInSync, untilRestarted, shardOf, waitFor, type HttpAnswer } from './support.js';

const stack = connectToStack();
afterAll(() => stack.close());

const lookup = (userId: string) => http('GET', api(`/flash-sales/current/purchase?userId=${encodeURIComponent(userId)}`));

/**
 * Stops the sale's replica (SIGSTOP: it stays connected but acknowledges
 * nothing) while `body` runs, then waits until its primary takes writes again.
 */
async function withReplicaStopped<T>(saleId: string, body: () => Promise<T>): Promise<T> {
  const { replicas } = await shardOf(saleKeys(saleId).sale);
  expect(replicas).toHaveLength(1);
  const pid = servicePid(`redis-${replicas[0]!.port}`);
  process.kill(pid, 'SIGSTOP');
  try {
    return await body();
  } finally {
    process.kill(pid, 'SIGCONT');
    await untilClusterInSync();
  }
}

const expectUnavailable = (answer: HttpAnswer) => {
  expect(answer.status, answer.body).toBe(503);
  expect(answer.json().error.code).toBe('SERVICE_UNAVAILABLE');
  expect(Number(answer.headers['retry-after'])).toBeGreaterThanOrEqual(1);
};

describe('a confirmed purchase and the Redis replicas', () => {
  it('is on the replica by the time the shopper has the 201', async () => {
    const sale = await stack.createSale({ stock: 5 });
    const answer = await purchase('replicated.buyer');
    expect(answer.status).toBe(201);
    const { replicas } = await shardOf(saleKeys(sale.id).buyers);
    const replica = adminNode(replicas[0]!);
    try {
      await replica.connect();
      await replica.call('READONLY');
      expect(await replica.hget(saleKeys(sale.id).buyers, 'replicated.buyer')).toContain(answer.json().data.purchaseId);
    } finally {
      replica.disconnect();
    }
  });

  it('is answered 503 with Retry-After while no replica acknowledges it, and the retry returns that same purchase', async () => {
    const sale = await stack.createSale({ stock: 5 });
    const keys = saleKeys(sale.id);
    await withReplicaStopped(sale.id, async () => {
      expectUnavailable(await purchase('unacknowledged.buyer'));
      // Asking again while the replica is still silent: still no promise, and no second unit.
      expectUnavailable(await purchase('unacknowledged.buyer'));
      expectUnavailable(await lookup('unacknowledged.buyer'));
    });
    const original = (await stack.store.findPurchase(sale.id, 'unacknowledged.buyer'))?.purchaseId;
    // Once the replica holds it, the retry learns what it got (PR-2).
    const retry = await waitFor(async () => {
      const answer = await purchase('unacknowledged.buyer');
      return answer.status === 503 ? null : answer;
    }, 15_000, 'the replica to acknowledge');
    expect(retry.status).toBe(409);
    expect(retry.json().error).toMatchObject({ code: 'ALREADY_PURCHASED', details: { purchaseId: original } });
    expect((await lookup('unacknowledged.buyer')).json().data).toMatchObject({ purchased: true, purchaseId: original });
    expect((await stack.store.snapshot(sale.id))?.remaining).toBe(4);
    expect(await stack.redis.hlen(keys.buyers)).toBe(1);
  });

  it('survives its primary crashing and restarting from its own AOF while the replica is down', async () => {
    // The purchase script's writes reach the AOF as one MULTI/EXEC; Redis 7.0
    // replays that EXEC as the default user (redis/redis#14541), so this
    // fails whenever the ACL file takes the default user's rights away.
    const sale = await stack.createSale({ stock: 5 });
    const keys = saleKeys(sale.id);
    const answer = await purchase('aof.replayed.buyer');
    expect(answer.status, answer.body).toBe(201);
    const { primary } = await shardOf(keys.sale);
    await withReplicaStopped(sale.id, async () => {
      const crashed = servicePid(`redis-${primary.port}`);
      process.kill(crashed, 'SIGKILL');
      // Restarted by the supervisor, from its AOF alone: the stopped replica can neither be promoted nor resync it.
      await untilRestarted(`redis-${primary.port}`, crashed);
      const clusterState = (node: Redis) => node.cluster('INFO') as Promise<string>;
      await waitFor(() => withNode(redisAdmin(), primary, clusterState).then((info) => /cluster_state:ok/.test(info), () => null), 15_000, 'the restarted primary to rejoin its cluster');
      const restored = await withNode(redisAdmin(), primary, (node) => Promise.all([node.hget(keys.buyers, 'aof.replayed.buyer'), node.hget(keys.sale, 'remaining')]));
      expect(restored, 'the buyer and the stock after the replay').toEqual([expect.stringContaining(answer.json().data.purchaseId), '4']);
    });
  });

  it('is refused by a primary whose replica has been silent past min-replicas-max-lag, so nothing is written', async () => {
    const sale = await stack.createSale({ stock: 5 });
    const { primary } = await shardOf(saleKeys(sale.id).sale);
    await withReplicaStopped(sale.id, async () => {
      // The primary's own judgement of its replica (min-replicas-max-lag), as it refreshes it each second.
      const node = adminNode(primary);
      try {
        await node.connect();
        await waitFor(async () => /min_slaves_good_slaves:0/.test(await node.info('replication')), 10_000, 'the primary to give up on its replica');
      } finally {
        node.disconnect();
      }
      expectUnavailable(await purchase('isolated.primary.buyer'));
      expect(await stack.store.findPurchase(sale.id, 'isolated.primary.buyer')).toBeNull();
      expect((await stack.store.snapshot(sale.id))?.remaining).toBe(5);
    });
  });
});
