import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { migrate } from 'postgres-migrations';
import type { Env } from '../env.js';
import type { Logger } from './logger.js';

// COUNT(*) and BIGINT come back as strings by default; our counts fit in a JS number.
pg.types.setTypeParser(pg.types.builtins.INT8, (value) => Number(value));

/**
 * A pool whose idle clients may die with Postgres (a restart, a terminated
 * backend): the pool drops them and says so, and the process lives on. A
 * query that fails still rejects, for its caller to handle.
 */
export function createPgPool(env: Env, applicationName: string, logger: Logger): pg.Pool {
  if (!env.DATABASE_URL) throw new Error('DATABASE_URL is not set: this command needs Postgres');
  const pool = new pg.Pool({
    connectionString: env.DATABASE_URL,
    max: env.PG_POOL_MAX,
    application_name: applicationName,
    connectionTimeoutMillis: 5000,
    idleTimeoutMillis: 30_000,
  });
  pool.on('error', (error: Error & { code?: string }) =>
    logger.warn({ error: error.message, code: error.code }, 'an idle Postgres connection failed; the pool replaces it'),
  );
  return pool;
}

const MIGRATIONS_DIR = fileURLToPath(new URL('../../migrations', import.meta.url));

/** Applies the SQL files in api/migrations that have not run yet (postgres-migrations keeps the ledger). */
export async function migrateDatabase(pool: pg.Pool): Promise<void> {
  const client = await pool.connect();
  try {
    await migrate({ client }, MIGRATIONS_DIR);
  } finally {
    client.release();
  }
}
