/** Entry point of one API replica: the only place that builds real clients. */
import type { Server } from 'node:http';
import { createAdaptorServer } from '@hono/node-server';
import { createApp } from './app.js';
import { loadEnv } from './env.js';
import { createRedisSaleStore } from './features/flash-sale/flash-sale.redis.js';
import { createLogger } from './platform/logger.js';
import { createApiMetrics } from './platform/metrics.js';
import { createPgPool } from './platform/postgres.js';
import { createRedis } from './platform/redis.js';
import { createReplicationBarrier } from './platform/replication-barrier.js';
import { onShutdownSignal } from './platform/shutdown.js';

const env = loadEnv();
const logger = createLogger('flashflow-api', env.LOG_LEVEL);
const redis = createRedis(env, `api-${env.PORT}`);
// WAIT blocks its connection, so it gets its own (see replication-barrier.ts).
const replicationClient = createRedis(env, `api-${env.PORT}-replication`);
const metrics = createApiMetrics();
const pool = createPgPool(env, `flashflow-api-${env.PORT}`);
let accepting = true;

const app = createApp({
  store: createRedisSaleStore(redis, {
    attemptLimit: { attempts: env.BUYER_ATTEMPT_LIMIT, windowMs: env.BUYER_ATTEMPT_WINDOW_MS },
    ...(env.REDIS_MIN_REPLICA_ACKS > 0 && {
      replicate: createReplicationBarrier(replicationClient, env.REDIS_MIN_REPLICA_ACKS, env.REDIS_REPLICA_ACK_TIMEOUT_MS),
      onUnreplicated: (saleId, acked) => {
        metrics.unreplicatedPurchases.inc();
        logger.warn({ saleId, acked, wanted: env.REDIS_MIN_REPLICA_ACKS }, 'confirmed purchase not yet on a replica');
      },
    }),
  }),
  metrics,
  logger,
  readinessChecks: {
    redis: () => redis.get('flash:readiness-probe'),
    postgres: () => pool.query('SELECT 1'),
  },
  isAccepting: () => accepting,
  trustRequestId: env.TRUST_REQUEST_ID,
});

// A herd arrives as thousands of connections at once: a deeper accept queue than Node's 511.
const LISTEN_BACKLOG = 4096;
const server = createAdaptorServer({ fetch: app.fetch }) as Server;
// nginx reuses idle upstream connections for up to 30 s (keepalive_timeout in
// nginx/templates). If the replica closed one first (Node's default is 5 s), a
// POST sent on it would meet a reset that nginx must not retry: outlive nginx.
server.keepAliveTimeout = 65_000;
server.headersTimeout = 66_000;
server.listen({ port: env.PORT, host: env.HOST, backlog: LISTEN_BACKLOG }, () => {
  logger.info({ port: env.PORT }, 'api replica listening');
});

onShutdownSignal(logger, env.SHUTDOWN_GRACE_MS, async () => {
  accepting = false;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  await Promise.allSettled([redis.quit(), replicationClient.quit(), pool.end()]);
  const { shutdownTelemetry } = await import('./platform/telemetry.js');
  await shutdownTelemetry();
});
