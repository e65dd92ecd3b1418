import { OpenAPIHono } from '@hono/zod-openapi';
import { HTTPException } from 'hono/http-exception';
import { requestId, type RequestIdVariables } from 'hono/request-id';
import { timeout } from 'hono/timeout';
import { ApiError, errorBody, type ErrorCode } from './errors.js';
import { registerFlashSaleRoutes } from './features/flash-sale/flash-sale.routes.js';
import type { RedisSaleStore } from './features/flash-sale/flash-sale.redis.js';
import type { Logger } from './platform/logger.js';
import type { ApiMetrics } from './platform/metrics.js';

export type AppEnv = { Variables: RequestIdVariables };

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
}

/** Paths the API serves and the methods each allows, for 405 answers with an Allow header. */
const ALLOWED_METHODS: Record<string, string> = {
  '/api/v1/flash-sales/current': 'GET, HEAD',
  '/api/v1/flash-sales/current/purchase': 'GET, HEAD, POST',
  '/api/v1/openapi.json': 'GET, HEAD',
  '/healthz': 'GET, HEAD',
  '/readyz': 'GET, HEAD',
  '/metrics': 'GET, HEAD',
};

const HTTP_STATUS_CODES: Record<number, ErrorCode> = {
  400: 'VALIDATION_ERROR',
  404: 'NOT_FOUND',
  405: 'METHOD_NOT_ALLOWED',
  413: 'PAYLOAD_TOO_LARGE',
  415: 'UNSUPPORTED_MEDIA_TYPE',
  429: 'RATE_LIMITED',
  503: 'SERVICE_UNAVAILABLE',
};

/** Failures of Redis or Postgres: the shopper should retry, so these answer 503, not 500. */
function isDependencyFailure(error: Error): boolean {
  return (
    ['ReplyError', 'ClusterAllFailedError', 'MaxRetriesPerRequestError', 'DatabaseError'].includes(
      error.name,
    ) ||
    /timed out|Connection is closed|ECONNREFUSED|ECONNRESET|ETIMEDOUT|CLUSTERDOWN|TRYAGAIN|LOADING/.test(
      error.message,
    )
  );
}

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

  app.get('/healthz', (c) => c.json({ status: 'ok' as const }));

  app.get('/readyz', async (c) => {
    if (!deps.isAccepting()) return c.json({ status: 'unavailable' as const, checks: { server: 'draining' } }, 503);
    const entries = Object.entries(deps.readinessChecks);
    const results = await Promise.allSettled(entries.map(([, check]) => check()));
    const checks = Object.fromEntries(
      entries.map(([name], i) => [name, results[i]?.status === 'fulfilled' ? 'ok' : 'unreachable']),
    );
    const ready = results.every((result) => result.status === 'fulfilled');
    return c.json({ status: ready ? ('ok' as const) : ('unavailable' as const), checks }, ready ? 200 : 503);
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

  app.notFound((c) => {
    const allowed = ALLOWED_METHODS[c.req.path];
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
  if (thrown instanceof ApiError) return thrown;
  if (thrown instanceof HTTPException) {
    const code = HTTP_STATUS_CODES[thrown.status];
    // Hono's own messages (malformed JSON, bad content type) are safe to show.
    if (code) return new ApiError(code, thrown.status === 400 ? thrown.message : undefined);
  }
  if (isDependencyFailure(thrown)) return new ApiError('SERVICE_UNAVAILABLE');
  return new ApiError('INTERNAL_ERROR');
}

export type App = ReturnType<typeof createApp>;
