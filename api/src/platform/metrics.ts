import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** Every outcome of a purchase attempt (docs/metrics.md says what each means). */
export const PURCHASE_OUTCOMES = [
  'confirmed',
  'already_purchased',
  'sold_out',
  'sale_not_active',
  'rate_limited',
  'shed',
  'unreplicated',
  'unavailable',
] as const;
export type PurchaseOutcome = (typeof PURCHASE_OUTCOMES)[number];

/** Metric names share the flashflow_ prefix and base units; docs/metrics.md describes each. */
export function createApiMetrics() {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const purchaseOutcomes = new Counter({
    name: 'flashflow_purchase_outcomes_total',
    help: `Purchase attempts by outcome (${PURCHASE_OUTCOMES.join(', ')}).`,
    labelNames: ['outcome'] as const,
    registers: [registry],
  });
  // Each outcome counted from zero at start: a rate or an increase over the
  // first minutes needs a sample from before the first attempt.
  for (const outcome of PURCHASE_OUTCOMES) purchaseOutcomes.labels({ outcome }).inc(0);
  return {
    registry,
    httpRequests: new Counter({
      name: 'flashflow_http_requests_total',
      help: 'HTTP requests answered by the API, by route and status code.',
      labelNames: ['method', 'route', 'status'] as const,
      registers: [registry],
    }),
    httpDuration: new Histogram({
      name: 'flashflow_http_request_duration_seconds',
      help: 'Time from request received to response written, by route.',
      labelNames: ['method', 'route'] as const,
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers: [registry],
    }),
    purchaseOutcomes,
    claimDuration: new Histogram({
      name: 'flashflow_purchase_claim_duration_seconds',
      help: 'Time to decide a purchase in Redis Cluster: its round of claims, the Lua script, and the wait for a replica in the same pipeline.',
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
      registers: [registry],
    }),
    unreplicatedPurchases: new Counter({
      name: 'flashflow_purchase_unreplicated_total',
      help: 'Answers that would have named a purchase (201, ALREADY_PURCHASED, a lookup) given as 503 instead, because no replica held it in time.',
      registers: [registry],
    }),
    remainingStock: new Gauge({
      name: 'flashflow_sale_remaining_stock',
      help: 'Remaining stock of the current sale as last read from Redis by this replica.',
      registers: [registry],
    }),
  };
}

export type ApiMetrics = ReturnType<typeof createApiMetrics>;

export function createReconcilerMetrics() {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  return {
    registry,
    persisted: new Counter({
      name: 'flashflow_reconciler_persisted_total',
      help: 'Purchases newly written to Postgres (replays that were already there are not counted).',
      registers: [registry],
    }),
    reclaimed: new Counter({
      name: 'flashflow_reconciler_reclaimed_total',
      help: 'Stream entries taken over from a consumer that left them pending.',
      registers: [registry],
    }),
    errors: new Counter({
      name: 'flashflow_reconciler_errors_total',
      help: 'Failures reconciling a sale, or a whole pass (Postgres or Redis unreachable); each is retried.',
      registers: [registry],
    }),
    failingSales: new Gauge({
      name: 'flashflow_reconciler_failing_sales',
      help: 'Sales whose last reconcile attempt failed.',
      registers: [registry],
    }),
    conflicts: new Counter({
      name: 'flashflow_reconciler_conflicts_total',
      help: 'Stream entries recorded in purchase_conflicts instead of purchases, by reason.',
      labelNames: ['reason'] as const,
      registers: [registry],
    }),
    heldBack: new Counter({
      name: 'flashflow_reconciler_held_back_total',
      help: 'Stream entries read but not yet persisted because no Redis replica held them yet.',
      registers: [registry],
    }),
    postgresUp: new Gauge({
      name: 'flashflow_reconciler_postgres_up',
      help: 'Whether the reconciler\'s last read of the unsettled sales reached Postgres (1) or not (0).',
      registers: [registry],
    }),
    lastPass: new Gauge({
      name: 'flashflow_reconciler_last_pass_timestamp_seconds',
      help: 'When the reconcile loop last finished a pass (successful or not).',
      registers: [registry],
    }),
    lag: new Histogram({
      name: 'flashflow_reconcile_lag_seconds',
      help: 'Time from a purchase being confirmed in Redis to its commit in Postgres.',
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers: [registry],
    }),
    backlog: new Gauge({
      name: 'flashflow_reconcile_backlog',
      help: 'Confirmed purchases not yet acknowledged as persisted (pending plus unread).',
      registers: [registry],
    }),
  };
}

export type ReconcilerMetrics = ReturnType<typeof createReconcilerMetrics>;
