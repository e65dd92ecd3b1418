import { createRoute, OpenAPIHono, z } from '@hono/zod-openapi';
import { HTTPException } from 'hono/http-exception';
import { requestId } from 'hono/request-id';
import { timeout } from 'hono/timeout';
import { ApiError, classifyFailure, errorBody, type ErrorCode } from './errors.js';
import { registerFlashSaleRoutes } from './features/flash-sale/flash-sale.routes.js';
import type { RedisSaleStore } from './features/flash-sale/flash-sale.redis.js';
import type { PurchaseEndpoint } from './features/flash-sale/purchase-endpoint.js';
import type { AppEnv } from './app-env.js';
import type { Logger } from './platform/logger.js';
import type { ApiMetrics } from './platform/metrics.js';

export interface AppDependencies {
  store: RedisSaleStore;
  metrics: ApiMetrics;
  logger: Logger;
  /** Each check rejects when its dependency is unreachable; /readyz runs them all. */
  readinessChecks: Record<string, () => Promise<unknown>>;
  /** False once shutdown has begun, so the load balancer stops sending work. */
  isAccepting: () => boolean;
  trustRequestId: boolean;
  /** Every API request is answered within this, if need be with 503 (REQUEST_DEADLINE_MS). */
  requestDeadlineMs: number;
  /** The purchase path, which the replica also serves without the framework (commands/api.ts). */
  purchases: PurchaseEndpoint;
}

/**
 * The methods each path answers (HEAD wherever GET), read from the app's own
 * routes: the Allow header of a 405, and nginx's copy (stack/src/nginx-config.ts).
 */
export function allowedMethods(app: { routes: { method: string; path: string }[] }): Record<string, string> {
  const byPath = new Map<string, Set<string>>();
  for (const { method, path } of app.routes) {
    if (method === 'ALL' || path.includes('*')) continue;
    const methods = byPath.get(path) ?? new Set<string>();
    methods.add(method);
    if (method === 'GET') methods.add('HEAD');
    byPath.set(path, methods);
  }
  return Object.fromEntries([...byPath].map(([path, methods]) => [path, [...methods].sort().join(', ')]));
}

const HTTP_STATUS_CODES: Record<number, ErrorCode> = {
  400: 'VALIDATION_ERROR',
  404: 'NOT_FOUND',
  405: 'METHOD_NOT_ALLOWED',
  413: 'PAYLOAD_TOO_LARGE',
  415: 'UNSUPPORTED_MEDIA_TYPE',
  429: 'RATE_LIMITED',
  503: 'SERVICE_UNAVAILABLE',
};

/** Probes of one replica, on its own port (nginx does not route them): described in the OpenAPI document too. */
const liveness = createRoute({
  method: 'get',
  path: '/healthz',
  summary: 'The replica process is alive (touches nothing)',
  responses: {
    200: { description: 'Alive', content: { 'application/json': { schema: z.object({ status: z.literal('ok') }).openapi('Liveness') } } },
  },
});

const ReadinessSchema = z
  .object({
    status: z.enum(['ok', 'unavailable']),
    checks: z.record(z.string(), z.enum(['ok', 'unreachable', 'draining'])),
  })
  .openapi('Readiness');

const readiness = createRoute({
  method: 'get',
  path: '/readyz',
  summary: 'What this replica’s requests need (Redis) is reachable, and it is not draining',
  responses: {
    200: { description: 'Ready', content: { 'application/json': { schema: ReadinessSchema } } },
    503: { description: 'Not ready: which check failed, or draining', content: { 'application/json': { schema: ReadinessSchema } } },
  },
});

export function createApp(deps: AppDependencies) {
  const { metrics, logger } = deps;
  const app = new OpenAPIHono<AppEnv>({
    defaultHook: (result) => {
      if (!result.success) {
        throw new ApiError(
          'VALIDATION_ERROR',
          undefined,
          result.error.issues.map((issue) => ({ path: issue.path.join('.'), message: issue.message })),
        );
      }
    },
  });

  app.use(
    requestId({
      // nginx assigns X-Request-Id; direct callers (tests, probes) get a fresh one.
      headerName: deps.trustRequestId ? 'X-Request-Id' : '',
      limitLength: 64,
    }),
  );

  app.use(async (c, next) => {
    const stopTimer = metrics.httpDuration.startTimer();
    await next();
    const route = c.req.routePath === '/*' ? 'unmatched' : c.req.routePath;
    stopTimer({ method: c.req.method, route });
    metrics.httpRequests.inc({ method: c.req.method, route, status: String(c.res.status) });
  });

  // A node that died takes ioredis seconds of retries to route around; the
  // shopper hears 503 (and retries, which is safe) before that.
  app.use('/api/*', timeout(deps.requestDeadlineMs, new HTTPException(503)));

  app.openapi(liveness, (c) => c.json({ status: 'ok' as const }, 200));

  app.openapi(readiness, async (c) => {
    if (!deps.isAccepting()) return c.json({ status: 'unavailable' as const, checks: { server: 'draining' as const } }, 503);
    const entries = Object.entries(deps.readinessChecks);
    const results = await Promise.allSettled(entries.map(([, check]) => check()));
    const checks = Object.fromEntries(
      entries.map(([name], i) => [name, results[i]?.status === 'fulfilled' ? ('ok' as const) : ('unreachable' as const)]),
    );
    const ready = results.every((result) => result.status === 'fulfilled');
    return ready ? c.json({ status: 'ok' as const, checks }, 200) : c.json({ status: 'unavailable' as const, checks }, 503);
  });

  app.get('/metrics', async (c) => {
    c.header('Content-Type', metrics.registry.contentType);
    return c.body(await metrics.registry.metrics());
  });

  registerFlashSaleRoutes(app, deps);

  app.doc31('/api/v1/openapi.json', {
    openapi: '3.1.0',
    info: {
      title: 'Flash Flow API',
      version: '1.0.0',
      description: 'One product, limited stock, a sale window, one unit per buyer.',
    },
  });

  const methods = allowedMethods(app);
  app.notFound((c) => {
    const allowed = methods[c.req.path];
    const error = allowed ? new ApiError('METHOD_NOT_ALLOWED') : new ApiError('NOT_FOUND');
    if (allowed) c.header('Allow', allowed);
    return c.json(errorBody(error, c.var.requestId), error.status as 404 | 405);
  });

  app.onError((thrown, c) => {
    const error = toApiError(thrown);
    // What the code threw on purpose is counted in metrics; anything else is logged with its cause.
    if (error.status >= 500 && !(thrown instanceof ApiError)) {
      logger.error({ err: thrown, requestId: c.var.requestId, path: c.req.path }, 'request failed');
    }
    // Every 503 is worth retrying (a purchase retried is never bought twice): say when.
    if (error.code === 'SERVICE_UNAVAILABLE') c.header('Retry-After', '1');
    return c.json(errorBody(error, c.var.requestId), error.status as 400);
  });

  return app;
}

function toApiError(thrown: Error): ApiError {
  if (thrown instanceof HTTPException) {
    const code = HTTP_STATUS_CODES[thrown.status];
    // Hono's own messages (malformed JSON, bad content type) are safe to show.
    if (code) return new ApiError(code, thrown.status === 400 ? thrown.message : undefined);
  }
  return classifyFailure(thrown);
}

