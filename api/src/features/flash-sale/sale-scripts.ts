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
    /**
     * purchase.lua, for a round of claims: the number of keys (4 + claims),
     * KEYS sale, buyers, purchases, closed, then each claim's attempt counter;
     * ARGV attempt limit, window ms, then each claim's userId, purchaseId, traceparent or ''.
     */
    flashPurchase(numberOfKeys: number, ...keysAndArgs: (string | number)[]): Result<unknown, Context>;
    /** status.lua: KEYS sale, closed. */
    flashStatus(saleKey: string, closedKey: string): Result<unknown, Context>;
    /** trim-persisted.lua: KEYS purchases stream; ARGV consumer group. */
    flashTrimPersisted(purchasesKey: string, group: string): Result<number, Context>;
  }
}

const script = (name: string) => readFileSync(new URL(name, import.meta.url), 'utf8');

/** A Cluster client that can run every sale script. */
export function connectSaleRedis(env: Env, connectionName: string, natMap?: NatMap): Cluster {
  // A round of claims is already one call (sale-rounds.ts), with a variable number of keys.
  const cluster = createRedis(env, connectionName, { natMap, notAutoPipelined: ['flashPurchase'] });
  cluster.defineCommand('flashPurchase', { lua: script('purchase.lua') });
  cluster.defineCommand('flashStatus', { numberOfKeys: 2, lua: script('status.lua') });
  cluster.defineCommand('flashTrimPersisted', { numberOfKeys: 1, lua: script('trim-persisted.lua') });
  return cluster;
}
