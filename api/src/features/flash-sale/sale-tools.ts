/**
 * The stores and the operator actions together, for tools that work on sales
 * from outside an API replica: the sale command, the tests, the load verifier.
 */
import type { Env } from '../../env.js';
import { createLogger, type Logger } from '../../platform/logger.js';
import { createPgPool } from '../../platform/postgres.js';
import { createRedis } from '../../platform/redis.js';
import { createSaleAdmin } from './flash-sale.admin.js';
import { createPgSaleRepository } from './flash-sale.pg.js';
import { createRedisSaleStore } from './flash-sale.redis.js';

export function connectSaleTools(env: Env, name: string, logger: Logger = createLogger(name, 'warn', 2)) {
  const redis = createRedis(env, name);
  const pool = createPgPool(env, `flashflow-${name}`);
  // An idle connection dropped by a stopping database is no error of ours; a query that fails still throws.
  pool.on('error', () => undefined);
  const store = createRedisSaleStore(redis);
  const repository = createPgSaleRepository(pool);
  return {
    env,
    redis,
    pool,
    store,
    repository,
    logger,
    admin: createSaleAdmin({ redis, store, repository, logger }),
    close: async () => {
      await Promise.allSettled([redis.quit(), pool.end()]);
    },
  };
}

export type SaleTools = ReturnType<typeof connectSaleTools>;
