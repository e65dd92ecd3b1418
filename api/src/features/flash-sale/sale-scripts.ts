/**
 * The sale's Lua scripts. The small ones are registered on a Cluster client:
 * defineCommand sends EVALSHA and falls back to EVAL on NOSCRIPT, so a
 * promoted replica that never saw SCRIPT LOAD still runs them. purchase.lua
 * is sent whole, as EVAL, once per round of claims: inside a pipeline that
 * fallback would run the script after the round's WAIT (purchase-durability.ts),
 * and ioredis's automatic pipelines group a defined command with a variable
 * number of keys by that number instead of by its first key.
 */
import { readFileSync } from 'node:fs';
import type { Cluster, NatMap, Result } from 'ioredis';
import type { Env } from '../../env.js';
import { createRedis } from '../../platform/redis.js';

declare module 'ioredis' {
  interface RedisCommander<Context> {
    /** status.lua: KEYS sale, closed. */
    flashStatus(saleKey: string, closedKey: string): Result<unknown, Context>;
    /** trim-persisted.lua: KEYS purchases stream; ARGV consumer group. */
    flashTrimPersisted(purchasesKey: string, group: string): Result<number, Context>;
  }
}

const script = (name: string) => readFileSync(new URL(name, import.meta.url), 'utf8');

/**
 * purchase.lua, for EVAL with a round of claims: the number of keys (4 +
 * claims), KEYS sale, buyers, purchases, closed, then each claim's attempt
 * counter; ARGV attempt limit, window ms, then each claim's userId,
 * purchaseId, and traceparent or ''.
 */
export const PURCHASE_SCRIPT = script('purchase.lua');

/** A Cluster client that can run every sale script. */
export function connectSaleRedis(env: Env, connectionName: string, natMap?: NatMap): Cluster {
  // The GETs on this client are single reads that nothing travels with: the
  // current-sale pointer, read once per POINTER_REUSE_MS for every request
  // (flash-sale.redis.ts), and probes. A pipeline around each only costs.
  const cluster = createRedis(env, connectionName, { natMap, notAutoPipelined: ['get'] });
  cluster.defineCommand('flashStatus', { numberOfKeys: 2, lua: script('status.lua') });
  cluster.defineCommand('flashTrimPersisted', { numberOfKeys: 1, lua: script('trim-persisted.lua') });
  return cluster;
}
