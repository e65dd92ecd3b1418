/** Entry point of the reconciler: Redis Streams → Postgres, plus /metrics and /healthz. */
import { createServer } from 'node:http';
import { hostname } from 'node:os';
import { loadEnv } from './env.js';
import { createReconciler } from './features/flash-sale/reconciler.js';
import { createPgSaleRepository } from './features/flash-sale/flash-sale.pg.js';
import { createLogger } from './platform/logger.js';
import { createReconcilerMetrics } from './platform/metrics.js';
import { createPgPool, migrateDatabase } from './platform/postgres.js';
import { createRedis } from './platform/redis.js';
import { onShutdownSignal } from './platform/shutdown.js';

const env = loadEnv();
const logger = createLogger('flashflow-reconciler', env.LOG_LEVEL);
const redis = createRedis(env, 'reconciler');
const pool = createPgPool(env, 'flashflow-reconciler');
const metrics = createReconcilerMetrics();

await migrateDatabase(pool);

const reconciler = createReconciler({
  redis,
  repository: createPgSaleRepository(pool),
  logger,
  metrics,
  // Stable across restarts, so a restarted reconciler first finishes its own pending entries.
  consumer: `${hostname()}-${env.RECONCILER_PORT}`,
  batchSize: env.RECONCILER_BATCH_SIZE,
  claimIdleMs: env.RECONCILER_CLAIM_IDLE_MS,
  idlePollMs: env.RECONCILER_IDLE_POLL_MS,
});

const server = createServer(async (req, res) => {
  if (req.url === '/metrics') {
    res.setHeader('Content-Type', metrics.registry.contentType);
    res.end(await metrics.registry.metrics());
  } else if (req.url === '/healthz') {
    res.setHeader('Content-Type', 'application/json');
    res.end('{"status":"ok"}');
  } else {
    res.statusCode = 404;
    res.end();
  }
}).listen(env.RECONCILER_PORT, env.HOST);

const running = reconciler.run();
logger.info({ port: env.RECONCILER_PORT }, 'reconciler running');

onShutdownSignal(logger, env.SHUTDOWN_GRACE_MS, async () => {
  reconciler.stop();
  await running;
  server.close();
  await Promise.allSettled([redis.quit(), pool.end()]);
});
