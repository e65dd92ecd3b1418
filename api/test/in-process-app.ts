/** The API app built in this process against the test stack's real Redis Cluster, for faults only a client can cause. */
import type { NatMap } from 'ioredis';
import { createApp } from '../src/app.js';
import { loadEnv } from '../src/env.js';
import { connectShopStore } from '../src/features/flash-sale/shop-store.js';
import { createLogger } from '../src/platform/logger.js';
import { createApiMetrics } from '../src/platform/metrics.js';

export function buildInProcessApp({ natMap }: { natMap: NatMap }) {
  const shop = connectShopStore(loadEnv(), 'in-process-api', natMap);
  const app = createApp({
    store: shop.store,
    metrics: createApiMetrics(),
    logger: createLogger('in-process-api', 'silent'),
    readinessChecks: {},
    isAccepting: () => true,
    trustRequestId: false,
    requestDeadlineMs: 3_000,
  });
  return { app, close: shop.close };
}
