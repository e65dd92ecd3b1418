import { Cluster, type NatMap } from 'ioredis';
import type { Env } from '../env.js';

export interface RedisClientOptions {
  natMap?: NatMap;
  /** Commands sent on their own: each automatic pipeline is an object ioredis builds and sends. */
  notAutoPipelined?: string[];
}

/**
 * A Redis Cluster client. Commands time out (a node that hangs must not hang
 * a purchase: the caller answers 503, and retrying is safe), and a client
 * follows failovers by itself. `natMap` routes the cluster through other
 * addresses (tests put a faulty link there).
 */
export function createRedis(env: Env, connectionName: string, { natMap, notAutoPipelined = [] }: RedisClientOptions = {}): Cluster {
  return new Cluster(
    env.REDIS_NODES.map(({ host, port }) => ({ host, port })),
    {
      scaleReads: 'master',
      enableAutoPipelining: true,
      autoPipeliningIgnoredCommands: notAutoPipelined,
      slotsRefreshTimeout: 2000,
      retryDelayOnFailover: 200,
      retryDelayOnClusterDown: 200,
      clusterRetryStrategy: (attempt) => Math.min(attempt * 200, 2000),
      // Besides following MOVED, re-read the slots now and then: a client
      // that only pipelines (pipelines with writes are not redirected) still
      // learns of a failover.
      slotsRefreshInterval: 5_000,
      ...(natMap && { natMap }),
      redisOptions: {
        connectionName,
        ...(env.REDIS_USERNAME && { username: env.REDIS_USERNAME }),
        ...(env.REDIS_PASSWORD && { password: env.REDIS_PASSWORD }),
        commandTimeout: env.REDIS_COMMAND_TIMEOUT_MS,
        maxRetriesPerRequest: 2,
      },
    },
  );
}
