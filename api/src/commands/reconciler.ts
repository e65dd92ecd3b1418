/** `flashflow reconciler`: Redis Streams → Postgres, plus /metrics, /healthz and /readyz. */
import { createServer, type ServerResponse } from 'node:http';
import { hostname } from 'node:os';
import type { Env } from '../env.js';
import { createPgSaleRepository } from '../features/flash-sale/flash-sale.pg.js';
import { createRedisSaleStore } from '../features/flash-sale/flash-sale.redis.js';
import { createDurabilityCheck } from '../features/flash-sale/purchase-durability.js';
import { createReconciler } from '../features/flash-sale/reconciler.js';
import { connectSaleRedis } from '../features/flash-sale/sale-scripts.js';
import { createLogger } from '../platform/logger.js';
import { createReconcilerMetrics } from '../platform/metrics.js';
import { createPgPool } from '../platform/postgres.js';
import { onShutdownSignal } from '../platform/shutdown.js';

const json = (res: ServerResponse, status: number, body: unknown) => {
  res.statusCode = status;
  res.setHeader('Content-Type', 'application/json');
  res.end(JSON.stringify(body));
};

export function runReconciler(env: Env): void {
  const logger = createLogger('flashflow-reconciler', env.LOG_LEVEL);
  const redis = connectSaleRedis(env, 'reconciler');
  // Blocks for up to RECONCILER_IDLE_WAIT_MS at a time: its commands may take that much longer.
  const waitClient = redis.duplicate(undefined, {
    redisOptions: { ...redis.options.redisOptions, connectionName: 'reconciler-wait', commandTimeout: env.RECONCILER_IDLE_WAIT_MS + env.REDIS_COMMAND_TIMEOUT_MS },
  });
  const pool = createPgPool(env, 'flashflow-reconciler', logger);
  const metrics = createReconcilerMetrics();
  const reconciler = createReconciler({
    redis,
    store: createRedisSaleStore(redis),
    durability: createDurabilityCheck(redis, {
      replicas: env.REDIS_MIN_REPLICA_ACKS,
      timeoutMs: env.REDIS_REPLICA_ACK_TIMEOUT_MS,
    }),
    repository: createPgSaleRepository(pool),
    logger,
    metrics,
    // Stable across restarts, so a restarted reconciler first finishes its own pending entries.
    consumer: `${hostname()}-${env.RECONCILER_PORT}`,
    batchSize: env.RECONCILER_BATCH_SIZE,
    claimIdleMs: env.RECONCILER_CLAIM_IDLE_MS,
    idleWaitMs: env.RECONCILER_IDLE_WAIT_MS,
    waitClient,
  });

  // Liveness: the loop makes progress. Readiness: it can do its job (Postgres
  // and Redis answered its last pass, no sale failing), with the detail. The
  // schema is `flashflow migrate`'s to make; until it exists, passes fail and
  // are retried like any other failure.
  const server = createServer(async (req, res) => {
    if (req.url === '/metrics') {
      res.setHeader('Content-Type', metrics.registry.contentType);
      res.end(await metrics.registry.metrics());
    } else if (req.url === '/healthz') {
      const { live } = reconciler.health();
      json(res, live ? 200 : 503, { status: live ? 'ok' : 'stalled' });
    } else if (req.url === '/readyz') {
      const health = reconciler.health();
      json(res, health.ready ? 200 : 503, { status: health.ready ? 'ok' : 'unavailable', checks: health.checks, sales: health.sales });
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
    waitClient.disconnect();
    await Promise.allSettled([redis.quit(), pool.end()]);
  });
}
