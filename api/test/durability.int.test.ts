/**
 * A 201 waits until a Redis replica holds the purchase, so promoting that
 * replica after a crash cannot take the purchase back (ADR 0002).
 */
import { afterAll, describe, expect, it } from 'vitest';
import { saleKeys } from '../src/features/flash-sale/flash-sale.logic.js';
import { connectToStack, http, servicePid, testEnv } from './support.js';

const stack = connectToStack();
afterAll(() => stack.close());

const replica = testEnv.FLASH_API_URLS[0]!;
const buy = (userId: string) =>
  http('POST', `${replica}/api/v1/flash-sales/current/purchase`, {
    body: JSON.stringify({ userId }),
    headers: { 'content-type': 'application/json' },
  });
const unreplicated = async () =>
  Number((await http('GET', `${replica}/metrics`)).body.match(/^flashflow_purchase_unreplicated_total (\d+)/m)?.[1]);

/** The port of the Redis replica that copies the primary owning this key. */
async function replicaPortOf(key: string): Promise<number> {
  const slot = await stack.redis.cluster('KEYSLOT', key);
  const ranges = await stack.redis.cluster('SLOTS');
  const [, , , replicaNode] = ranges.find(([from, to]) => slot >= from && slot <= to)!;
  return replicaNode![1];
}

describe('a confirmed purchase and the Redis replicas', () => {
  it('is on the replica by the time the shopper has the 201', async () => {
    const sale = await stack.createSale({ stock: 5 });
    expect((await buy('replicated.buyer')).status).toBe(201);
    const port = await replicaPortOf(saleKeys(sale.id).buyers);
    const node = stack.redis.nodes('slave').find((n) => n.options.port === port)!;
    await node.call('READONLY');
    expect(await node.hget(saleKeys(sale.id).buyers, 'replicated.buyer')).toMatch(/\|/);
  });

  it('waits for a replica that lags, and reports the shortfall when it stays silent', async () => {
    const sale = await stack.createSale({ stock: 5 });
    const port = await replicaPortOf(saleKeys(sale.id).buyers);
    const pid = servicePid(`redis-${port}`);
    const before = await unreplicated();
    process.kill(pid, 'SIGSTOP'); // the replica stops acknowledging
    try {
      const started = Date.now();
      const answer = await buy('lagging.replica.buyer');
      const tookMs = Date.now() - started;
      expect(answer.status).toBe(201); // it is on the primary's disk: the purchase stands
      expect(tookMs).toBeGreaterThanOrEqual(200); // …but only after waiting for the replica
      expect(await unreplicated()).toBe(before + 1);
    } finally {
      process.kill(pid, 'SIGCONT');
    }
  });
});
