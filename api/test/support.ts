/**
 * What integration tests share: clients for the stack that `npm test`
 * started, a way to create sales, and HTTP from many loopback addresses,
 * so per-address limits meet traffic as real shoppers make it.
 */
import { existsSync, readFileSync } from 'node:fs';
import { request, type IncomingHttpHeaders } from 'node:http';
import { join } from 'node:path';
import { z } from 'zod';
import { loadEnv } from '../src/env.js';
import type { NewSale } from '../src/features/flash-sale/flash-sale.admin.js';
import { connectSaleTools } from '../src/features/flash-sale/sale-tools.js';
import { createLogger } from '../src/platform/logger.js';
import { Redis } from 'ioredis';
import { clusterInSync, shardOf as clusterShardOf, type RedisAccess, type RedisNodeAddress } from '../../stack/src/redis-topology.js';
import { loadOrCreateSecrets, PG_ROLES, type Secrets } from '../../stack/src/secrets.js';
import pg from 'pg';

const TestEnvSchema = z.object({
  FLASH_BASE_URL: z.url(),
  FLASH_API_URLS: z.string().transform((v) => v.split(',')),
  FLASH_STATE_DIR: z.string(),
  /** The stack's Prometheus, which scrapes every replica, the reconciler and the Redis nodes. */
  FLASH_PROMETHEUS_URL: z.url(),
  /** The stack's passwords (stack/src/secrets.ts), for the tests that act as another role. */
  FLASH_SECRETS_DIR: z.string(),
});

export const testEnv = TestEnvSchema.parse(process.env);

/** Every password of the test stack: to log in as each role and prove what it may not do. */
export const stackSecrets = (): Secrets => loadOrCreateSecrets(testEnv.FLASH_SECRETS_DIR);

/**
 * A Postgres session as a login no service has: the superuser (to take
 * Postgres away from the services) or the schema's owner (to clean up what a
 * test left). Closed by the caller.
 */
export async function privilegedSession(login: 'superuser' | 'owner', database = 'flash_flow'): Promise<pg.Client> {
  const url = new URL(loadEnv().DATABASE_URL!);
  url.username = login === 'superuser' ? 'postgres' : PG_ROLES.owner;
  url.password = stackSecrets().postgres[login];
  url.pathname = `/${database}`;
  const client = new pg.Client({ connectionString: url.toString(), application_name: `flashflow-test-${login}` });
  await client.connect();
  return client;
}

export function connectToStack() {
  // Tests provoke failures on purpose; a test that fails says why itself.
  const tools = connectSaleTools(loadEnv(), 'integration-test', createLogger('integration-test', 'silent', 2));
  return {
    ...tools,
    /** Replaces whatever sale is current: each test works on a sale of its own. */
    createSale: (sale: Partial<NewSale> = {}) =>
      tools.admin.createSale({ productName: 'Test Widget', stock: 10, startsInMs: 0, durationMs: 600_000, replace: true, ...sale }),
  };
}

/** A distinct loopback address per shopper: 127.10.0.1, 127.10.0.2, … (never .0 or .255). */
export function shopperAddress(index: number): string {
  const host = (index % 254) + 1;
  const subnet = Math.floor(index / 254);
  return `127.${10 + Math.floor(subnet / 256)}.${subnet % 256}.${host}`;
}

export interface HttpAnswer {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
  json: <T = any>() => T; // eslint-disable-line @typescript-eslint/no-explicit-any
}

/** Tests that don't care where they come from still look like different shoppers. */
let anonymousShoppers = 50_000;

/** One request on its own connection, from the given loopback address (or a fresh one). */
export function http(
  method: string,
  url: string,
  options: { body?: string; headers?: Record<string, string>; from?: string; timeoutMs?: number } = {},
): Promise<HttpAnswer> {
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      {
        method,
        agent: false,
        localAddress: options.from ?? shopperAddress(anonymousShoppers++),
        headers: {
          ...(options.body === undefined ? {} : { 'content-length': Buffer.byteLength(options.body) }),
          ...options.headers,
        },
        timeout: options.timeoutMs ?? 15_000,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => {
          const body = Buffer.concat(chunks).toString('utf8');
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body, json: () => JSON.parse(body) });
        });
      },
    );
    req.on('timeout', () => req.destroy(new Error(`timeout: ${method} ${url}`)));
    req.on('error', reject);
    if (options.body !== undefined) req.write(options.body);
    req.end();
  });
}

/** The pid of one of the stack's processes, from the supervisor's pid file ("<pid> <stop signal>"). */
export function servicePid(name: string): number {
  return Number(readFileSync(join(testEnv.FLASH_STATE_DIR, 'pids', `${name}.pid`), 'utf8').split(' ')[0]);
}

/** Waits until the supervisor has started `name` again after `pid` died (its pid file is gone while it is down). */
export async function untilRestarted(name: string, pid: number, timeoutMs = 15_000): Promise<number> {
  const pidFile = join(testEnv.FLASH_STATE_DIR, 'pids', `${name}.pid`);
  return waitFor(async () => existsSync(pidFile) && servicePid(name) !== pid && servicePid(name), timeoutMs, `the supervisor to restart ${name}`);
}

export const api = (path: string) => `${testEnv.FLASH_BASE_URL}/api/v1${path}`;

export function purchase(userId: unknown, from?: string) {
  return http('POST', api('/flash-sales/current/purchase'), {
    body: JSON.stringify({ userId }),
    headers: { 'content-type': 'application/json' },
    from,
  });
}

export async function waitFor<T>(check: () => Promise<T | null | false>, timeoutMs: number, what: string): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** Waits until the reconciler has written every purchase Redis confirmed for the sale. */
export async function reconciled(stack: ReturnType<typeof connectToStack>) {
  return waitFor(
    async () => {
      const report = await stack.admin.report();
      return 'redis' in report && report.reconcileBacklog === 0 && report.postgres.confirmedPurchases === report.redis.buyers
        ? report
        : null;
    },
    15_000,
    'the reconciler to catch up',
  );
}

/** The test stack's Redis, as the admin (the tests' own login: the operator's). */
export function redisAdmin(): RedisAccess {
  const { REDIS_NODES, REDIS_USERNAME, REDIS_PASSWORD } = loadEnv();
  return { nodes: REDIS_NODES, username: REDIS_USERNAME, password: REDIS_PASSWORD };
}

/** One Redis node, directly, as the admin. Disconnect it after use. */
export function adminNode(node: RedisNodeAddress): Redis {
  const { username, password } = redisAdmin();
  return new Redis({ ...node, ...(username && { username }), ...(password && { password }), lazyConnect: true });
}

/** The shard serving a key now, as the cluster says (stack/src/redis-topology.ts). */
export const shardOf = (key: string) => clusterShardOf(redisAdmin(), key);

/** Waits until every primary takes writes again: its replica online and acknowledged within the last second. */
export async function untilClusterInSync(timeoutMs = 15_000): Promise<void> {
  await waitFor(async () => clusterInSync(redisAdmin()), timeoutMs, 'every Redis primary to be in sync with its replica');
}
