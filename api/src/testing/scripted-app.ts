/**
 * The app over a scripted store, as the in-process tests and the generators
 * build it: silent, deadlines short, nothing real behind it.
 */
import { createApp, type AppDependencies } from '../app.js';
import { createPurchaseEndpoint } from '../features/flash-sale/purchase-endpoint.js';
import { createLogger } from '../platform/logger.js';
import { createApiMetrics } from '../platform/metrics.js';
import { scriptedStore, type Script } from './scripted-store.js';

export interface ScriptedAppOptions {
  requestDeadlineMs?: number;
  admissionQueueLimitMs?: number;
  now?: () => number;
}

export function scriptedApp(
  script: Partial<Script> = {},
  deps: Partial<Omit<AppDependencies, 'purchases'>> = {},
  options: ScriptedAppOptions = {},
) {
  const scripted = scriptedStore(script);
  const metrics = deps.metrics ?? createApiMetrics();
  const logger = deps.logger ?? createLogger('scripted-app', 'silent');
  const requestDeadlineMs = options.requestDeadlineMs ?? 200;
  const purchases = createPurchaseEndpoint({
    store: scripted.store,
    metrics,
    logger,
    requestDeadlineMs,
    admissionQueueLimitMs: options.admissionQueueLimitMs ?? 100,
    ...(options.now ? { now: options.now } : {}),
  });
  const app = createApp({
    store: scripted.store,
    metrics,
    logger,
    purchases,
    readinessChecks: { redis: async () => 'ok' },
    isAccepting: () => true,
    trustRequestId: true,
    requestDeadlineMs,
    ...deps,
  });
  return { app, metrics, purchases, ...scripted };
}
