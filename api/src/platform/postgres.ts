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

/**
 * Runs `work` on a client of its own. A checked-out client has lost the
 * pool's error listener: if Postgres drops the connection between two
 * queries, its 'error' event would end the process. Here the loss is noted
 * (the query in flight, if any, still rejects) and the client is destroyed
 * instead of going back to the pool.
 */
export async function withPgClient<T>(pool: pg.Pool, work: (client: pg.PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  let lost: Error | undefined;
  const onError = (error: Error) => {
    lost = error;
  };
  client.on('error', onError);
  try {
    return await work(client);
  } finally {
    // A destroyed client keeps the listener: ending a dead socket may report once more.
    if (!lost) client.off('error', onError);
    client.release(lost ?? false);
  }
}

const MIGRATIONS_DIR = fileURLToPath(new URL('../../migrations', import.meta.url));

/** Applies the SQL files in api/migrations that have not run yet (postgres-migrations keeps the ledger). */
export async function migrateDatabase(pool: pg.Pool): Promise<void> {
  await withPgClient(pool, (client) => migrate({ client }, MIGRATIONS_DIR));
}
