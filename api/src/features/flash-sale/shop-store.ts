/**
 * The store an API replica serves shoppers from: the sale scripts on one
 * client, and the durability check on a client of its own (WAIT blocks its
 * connection). `natMap` routes both through other addresses (tests).
 */
import type { NatMap } from 'ioredis';
import type { Env } from '../../env.js';
import { createRedis } from '../../platform/redis.js';
import { createRedisSaleStore } from './flash-sale.redis.js';
import { createDurabilityCheck } from './purchase-durability.js';
import { connectSaleRedis } from './sale-scripts.js';

export function connectShopStore(env: Env, name: string, natMap?: NatMap) {
  const redis = connectSaleRedis(env, name, natMap);
  const durabilityClient = createRedis(env, `${name}-durability`, { natMap });
  const store = createRedisSaleStore(redis, {
    attemptLimit: { attempts: env.BUYER_ATTEMPT_LIMIT, windowMs: env.BUYER_ATTEMPT_WINDOW_MS },
    durability: createDurabilityCheck(durabilityClient, {
      replicas: env.REDIS_MIN_REPLICA_ACKS,
      timeoutMs: env.REDIS_REPLICA_ACK_TIMEOUT_MS,
    }),
  });
  return {
    redis,
    store,
    close: async () => {
      await Promise.allSettled([redis.quit(), durabilityClient.quit()]);
    },
  };
}
