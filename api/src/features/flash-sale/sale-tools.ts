/**
 * The stores and the operator actions together, for tools that work on sales
 * from outside an API replica: the sale command, the tests, the load verifier.
 */
import type { Env } from '../../env.js';
import { createLogger, type Logger } from '../../platform/logger.js';
import { createPgPool } from '../../platform/postgres.js';
import { createSaleAdmin } from './flash-sale.admin.js';
import { createPgSaleRepository } from './flash-sale.pg.js';
import { createRedisSaleStore } from './flash-sale.redis.js';
import { createDurabilityCheck } from './purchase-durability.js';
import { connectSaleRedis } from './sale-scripts.js';

export function connectSaleTools(env: Env, name: string, logger: Logger = createLogger(name, 'warn', 2)) {
  const redis = connectSaleRedis(env, name);
  const pool = createPgPool(env, `flashflow-${name}`, logger);
  // The store reads the script's answers as they are (tools inspect them);
  // the operator's own writes are confirmed on a replica before they count.
  const store = createRedisSaleStore(redis);
  const durability = createDurabilityCheck(redis, {
    replicas: env.REDIS_MIN_REPLICA_ACKS,
    timeoutMs: env.REDIS_REPLICA_ACK_TIMEOUT_MS,
  });
  const repository = createPgSaleRepository(pool);
  return {
    env,
    redis,
    pool,
    store,
    durability,
    repository,
    logger,
    admin: createSaleAdmin({ redis, store, durability, repository, logger, failpoint: env.FLASH_FAILPOINT }),
    close: async () => {
      await Promise.allSettled([redis.quit(), pool.end()]);
    },
  };
}

export type SaleTools = ReturnType<typeof connectSaleTools>;
