/** `flashflow api`: one API replica. The only place that builds its real clients. */
import { getRequestListener } from '@hono/node-server';
import { createApp, type AppDependencies } from '../app.js';
import type { Env } from '../env.js';
import { createPurchaseEndpoint, PURCHASE_PATH, servePurchase } from '../features/flash-sale/purchase-endpoint.js';
import { connectShopStore } from '../features/flash-sale/shop-store.js';
import { createLogger } from '../platform/logger.js';
import { createApiMetrics } from '../platform/metrics.js';
import { createReplicaServer, LISTEN_BACKLOG } from '../platform/replica-server.js';
import { onShutdownSignal } from '../platform/shutdown.js';

type ReplicaParts = Omit<AppDependencies, 'purchases' | 'trustRequestId' | 'requestDeadlineMs'>;

/** A replica's app and its framework-free purchase path, from its settings (also built in process by tests). */
export function buildReplicaApp(env: Env, parts: ReplicaParts) {
  const purchases = createPurchaseEndpoint({
    ...parts,
    requestDeadlineMs: env.REQUEST_DEADLINE_MS,
    admissionQueueLimitMs: env.ADMISSION_QUEUE_LIMIT_MS,
  });
  const app = createApp({ ...parts, purchases, trustRequestId: env.TRUST_REQUEST_ID, requestDeadlineMs: env.REQUEST_DEADLINE_MS });
  return { app, purchases };
}

export function runApi(env: Env): void {
  // Purchases never touch Postgres: an API replica has no Postgres connection at all.
  const logger = createLogger('flashflow-api', env.LOG_LEVEL);
  const shop = connectShopStore(env, `api-${env.PORT}`);
  const metrics = createApiMetrics();
  let accepting = true;

  const { app, purchases } = buildReplicaApp(env, {
    store: shop.store,
    metrics,
    logger,
    readinessChecks: { redis: () => shop.redis.get('flash:readiness-probe') },
    isAccepting: () => accepting,
  });

  // Purchases skip the framework (purchase-endpoint.ts); everything else is Hono's.
  const purchase = servePurchase(purchases, metrics, env.TRUST_REQUEST_ID);
  const everythingElse = getRequestListener(app.fetch);
  const server = createReplicaServer((request, response) => {
    const { url } = request;
    const isPurchase = request.method === 'POST' && (url === PURCHASE_PATH || url?.startsWith(`${PURCHASE_PATH}?`));
    return isPurchase ? purchase(request, response) : everythingElse(request, response);
  });
  server.listen({ port: env.PORT, host: env.HOST, backlog: LISTEN_BACKLOG }, () => {
    logger.info({ port: env.PORT }, 'api replica listening');
  });

  onShutdownSignal(logger, env.SHUTDOWN_GRACE_MS, async () => {
    accepting = false;
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await shop.close();
    const { shutdownTelemetry } = await import('../platform/telemetry.js');
    await shutdownTelemetry();
  });
}
