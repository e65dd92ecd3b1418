/** The API app built in this process against the test stack's real Redis Cluster, for faults only a client can cause. */
import type { NatMap } from 'ioredis';
import { buildReplicaApp } from '../src/commands/api.js';
import { loadEnv } from '../src/env.js';
import { connectShopStore } from '../src/features/flash-sale/shop-store.js';
import { createLogger } from '../src/platform/logger.js';
import { createApiMetrics } from '../src/platform/metrics.js';

export function buildInProcessApp({ natMap }: { natMap: NatMap }) {
  const env = loadEnv();
  const shop = connectShopStore(env, 'in-process-api', natMap);
  const { app } = buildReplicaApp(env, {
    store: shop.store,
    metrics: createApiMetrics(),
    logger: createLogger('in-process-api', 'silent'),
    readinessChecks: {},
    isAccepting: () => true,
  });
  return { app, close: shop.close };
}
