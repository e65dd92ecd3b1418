/**
 * The sale's Lua scripts, registered on a Cluster client. defineCommand sends
 * EVALSHA and falls back to EVAL on NOSCRIPT, so a promoted replica that
 * never saw SCRIPT LOAD still runs them.
 */
import { readFileSync } from 'node:fs';
import type { Cluster, NatMap, Result } from 'ioredis';
import type { Env } from '../../env.js';
import { createRedis } from '../../platform/redis.js';

declare module 'ioredis' {
  interface RedisCommander<Context> {
    /** purchase.lua: KEYS sale, buyers, purchases, attempts, closed; ARGV userId, purchaseId, attempt limit, window ms, traceparent or ''. */
    flashPurchase(
      saleKey: string,
      buyersKey: string,
      purchasesKey: string,
      attemptsKey: string,
      closedKey: string,
      userId: string,
      purchaseId: string,
      attemptLimit: number,
      attemptWindowMs: number,
      traceParent: string,
    ): Result<unknown, Context>;
    /** status.lua: KEYS sale, closed. */
    flashStatus(saleKey: string, closedKey: string): Result<unknown, Context>;
    /** trim-persisted.lua: KEYS purchases stream; ARGV consumer group. */
    flashTrimPersisted(purchasesKey: string, group: string): Result<number, Context>;
  }
}

const script = (name: string) => readFileSync(new URL(name, import.meta.url), 'utf8');

/** A Cluster client that can run every sale script. */
export function connectSaleRedis(env: Env, connectionName: string, natMap?: NatMap): Cluster {
  const cluster = createRedis(env, connectionName, natMap);
  cluster.defineCommand('flashPurchase', { numberOfKeys: 5, lua: script('purchase.lua') });
  cluster.defineCommand('flashStatus', { numberOfKeys: 2, lua: script('status.lua') });
  cluster.defineCommand('flashTrimPersisted', { numberOfKeys: 1, lua: script('trim-persisted.lua') });
  return cluster;
}
