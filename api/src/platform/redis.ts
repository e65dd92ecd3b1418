import { readFileSync } from 'node:fs';
import { Cluster, type Result } from 'ioredis';
import type { Env } from '../env.js';

declare module 'ioredis' {
  interface RedisCommander<Context> {
    /** purchase.lua: KEYS sale, buyers, purchases, attempts; ARGV userId, purchaseId, attempt limit, window ms. */
    flashPurchase(
      saleKey: string,
      buyersKey: string,
      purchasesKey: string,
      attemptsKey: string,
      userId: string,
      purchaseId: string,
      attemptLimit: number,
      attemptWindowMs: number,
    ): Result<unknown, Context>;
    /** status.lua: KEYS sale. */
    flashStatus(saleKey: string): Result<unknown, Context>;
  }
}

const script = (name: string) =>
  readFileSync(new URL(`../features/flash-sale/${name}`, import.meta.url), 'utf8');

/**
 * A Cluster client for the shop. Scripts are registered with defineCommand,
 * which sends EVALSHA and falls back to EVAL on NOSCRIPT, so a promoted
 * replica that never saw SCRIPT LOAD still runs them.
 */
export function createRedis(env: Env, connectionName: string): Cluster {
  const cluster = new Cluster(
    env.REDIS_NODES.map(({ host, port }) => ({ host, port })),
    {
      scaleReads: 'master',
      enableAutoPipelining: true,
      slotsRefreshTimeout: 2000,
      retryDelayOnFailover: 200,
      retryDelayOnClusterDown: 200,
      clusterRetryStrategy: (attempt) => Math.min(attempt * 200, 2000),
      redisOptions: {
        connectionName,
        // A purchase must be answered quickly even when a node hangs; the
        // caller maps a timeout to 503, and retrying is safe (one per buyer).
        commandTimeout: env.REDIS_COMMAND_TIMEOUT_MS,
        maxRetriesPerRequest: 2,
      },
    },
  );
  cluster.defineCommand('flashPurchase', { numberOfKeys: 4, lua: script('purchase.lua') });
  cluster.defineCommand('flashStatus', { numberOfKeys: 1, lua: script('status.lua') });
  return cluster;
}
