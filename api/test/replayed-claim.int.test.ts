/**
 * ioredis re-sends a command whose connection dropped before the reply came
 * back, so the purchase script can run twice for one request. The second run
 * finds the buyer already recorded with our own purchase id. That is still a
 * promise to the shopper: it is kept only once a replica holds it.
 *
 * A TCP proxy sits between an in-process app and every Redis node (ioredis'
 * natMap routes the cluster through it) and drops the connection the first
 * time a CONFIRMED reply passes: the real failure, on the real cluster.
 */
// First: the app's modules extend zod for OpenAPI before any schema is built.
import { buildInProcessApp } from './in-process-app.js';
import { once } from 'node:events';
import { createServer, connect, type AddressInfo, type Server, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadEnv } from '../src/env.js';
import { saleKeys } from '../src/features/flash-sale/flash-sale.logic.js';
import { connectToStack, servicePid, untilClusterInSync, shardOf } from './support.js';

const stack = connectToStack();
const env = loadEnv();

/** One proxy per node; `armed` makes the next CONFIRMED reply vanish with its connection. */
const proxy = { armed: false, dropped: 0, servers: [] as Server[], sockets: new Set<Socket>() };
const natMap: Record<string, { host: string; port: number }> = {};

beforeAll(async () => {
  for (const node of env.REDIS_NODES) {
    const server = createServer((client) => {
      const upstream = connect(node.port, node.host);
      proxy.sockets.add(client).add(upstream);
      client.on('data', (chunk) => upstream.write(chunk));
      upstream.on('data', (chunk) => {
        if (proxy.armed && chunk.includes('CONFIRMED')) {
          proxy.armed = false;
          proxy.dropped += 1;
          client.destroy();
          upstream.destroy();
          return;
        }
        client.write(chunk);
      });
      const close = () => {
        client.destroy();
        upstream.destroy();
      };
      client.on('error', close).on('close', close);
      upstream.on('error', close).on('close', close);
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    natMap[`${node.host}:${node.port}`] = { host: '127.0.0.1', port: (server.address() as AddressInfo).port };
    proxy.servers.push(server);
  }
});

afterAll(async () => {
  for (const socket of proxy.sockets) socket.destroy();
  for (const server of proxy.servers) server.close();
  await stack.close();
});

const buy = async (app: ReturnType<typeof buildInProcessApp>['app'], userId: string) => {
  const response = await app.request('/api/v1/flash-sales/current/purchase', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ userId }),
  });
  return { status: response.status, body: (await response.json()) as any }; // eslint-disable-line @typescript-eslint/no-explicit-any
};

describe('a claim replayed after its connection dropped', () => {
  it('is answered 201 with the purchase it made, once a replica holds it', async () => {
    const sale = await stack.createSale({ stock: 5 });
    const shop = buildInProcessApp({ natMap });
    try {
      proxy.armed = true;
      const answer = await buy(shop.app, 'replayed.buyer');
      expect(proxy.dropped).toBe(1);
      expect(answer.status).toBe(201);
      expect(answer.body.data.purchaseId).toBe((await stack.store.findPurchase(sale.id, 'replayed.buyer'))?.purchaseId);
      expect((await stack.store.snapshot(sale.id))?.remaining).toBe(4);
    } finally {
      await shop.close();
    }
  });

  it('is answered 503 while no replica acknowledges it', async () => {
    const sale = await stack.createSale({ stock: 5 });
    const { replicas } = await shardOf(saleKeys(sale.id).sale);
    const shop = buildInProcessApp({ natMap });
    const pid = servicePid(`redis-${replicas[0]!.port}`);
    try {
      await buy(shop.app, 'warm-up.buyer'); // routes learnt and scripts loaded while the replica answers
      proxy.dropped = 0;
      process.kill(pid, 'SIGSTOP');
      proxy.armed = true;
      const answer = await buy(shop.app, 'replayed.unacknowledged.buyer');
      expect(proxy.dropped).toBe(1);
      expect(answer.status).toBe(503);
      expect(answer.body.error.code).toBe('SERVICE_UNAVAILABLE');
    } finally {
      process.kill(pid, 'SIGCONT');
      await shop.close();
      await untilClusterInSync();
    }
  });
});
