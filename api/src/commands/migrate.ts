/** `flashflow migrate`: applies the schema migrations that have not run yet, then exits. */
import type { Env } from '../env.js';
import { createLogger } from '../platform/logger.js';
import { createPgPool, migrateDatabase } from '../platform/postgres.js';

export async function runMigrate(env: Env): Promise<number> {
  const logger = createLogger('flashflow-migrate', env.LOG_LEVEL, 2);
  const pool = createPgPool(env, 'flashflow-migrate', logger);
  try {
    await migrateDatabase(pool);
    logger.info('migrations applied');
    return 0;
  } finally {
    await pool.end();
  }
}
