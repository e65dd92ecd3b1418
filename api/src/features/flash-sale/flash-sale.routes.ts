/** The flash-sale endpoints of §4: thin handlers over the Redis store and the pure rules. */
import { createRoute, type OpenAPIHono } from '@hono/zod-openapi';
import { bodyLimit } from 'hono/body-limit';
import type { Context } from 'hono';
import { createMiddleware } from 'hono/factory';
import { ApiError, ERROR_CATALOG, type ErrorCode } from '../../errors.js';
import type { ApiMetrics } from '../../platform/metrics.js';
import type { AppEnv } from '../../app-env.js';
import { computeSaleStatus, PURCHASE_PRECEDENCE } from './flash-sale.logic.js';
import type { RedisSaleStore } from './flash-sale.redis.js';
import {
  PURCHASE_BODY_LIMIT_BYTES,
  PURCHASE_PATH,
  REQUEST_START_HEADER,
  parseRequestStart,
  payloadTooLarge,
  type Answer,
  type PurchaseEndpoint,
} from './purchase-endpoint.js';
import {
  ErrorSchema,
  PurchaseConfirmedSchema,
  PurchaseLookupQuerySchema,
  PurchaseLookupSchema,
  PurchaseRequestSchema,
  SaleResponseSchema,
} from './flash-sale.schemas.js';

const iso = (ms: number) => new Date(ms).toISOString();

const errorResponses = (...codes: ErrorCode[]) =>
  Object.fromEntries(
    [...new Set(codes.map((code) => ERROR_CATALOG[code].status))].map((status) => [
      status,
      {
        description: codes.filter((code) => ERROR_CATALOG[code].status === status).join(', '),
        content: { 'application/json': { schema: ErrorSchema } },
      },
    ]),
  );

const getCurrentSale = createRoute({
  method: 'get',
  path: '/api/v1/flash-sales/current',
  summary: 'The current sale, its status by the server clock, and its remaining stock',
  responses: {
    200: { description: 'The current sale', content: { 'application/json': { schema: SaleResponseSchema } } },
    ...errorResponses('SALE_NOT_FOUND', 'RATE_LIMITED', 'SERVICE_UNAVAILABLE'),
  },
});

/** Documented here; answered by purchase-endpoint.ts. */
const purchase = createRoute({
  method: 'post',
  path: PURCHASE_PATH,
  summary: 'Attempt to buy one unit of the current sale',
  description:
    `Outcomes are decided atomically, in this order of precedence: ${PURCHASE_PRECEDENCE.map((code) => `\`${code}\``).join(' → ')}. A purchase is answered 201 (or ALREADY_PURCHASED) only once a Redis replica holds it; until then the answer is 503 with Retry-After. Retrying is safe: a buyer who already bought always gets ALREADY_PURCHASED with the original purchase id, never a second unit.`,
  request: {
    body: { required: true, content: { 'application/json': { schema: PurchaseRequestSchema } } },
  },
  responses: {
    201: {
      description: 'Purchase confirmed',
      content: { 'application/json': { schema: PurchaseConfirmedSchema } },
    },
    ...errorResponses(
      'VALIDATION_ERROR',
      'SALE_NOT_FOUND',
      'SALE_NOT_ACTIVE',
      'SOLD_OUT',
      'ALREADY_PURCHASED',
      'PAYLOAD_TOO_LARGE',
      'UNSUPPORTED_MEDIA_TYPE',
      'RATE_LIMITED',
      'SERVICE_UNAVAILABLE',
    ),
  },
});

const reply = (c: Context<AppEnv>, answer: Answer) =>
  c.body(answer.body, answer.status as 201, { ...answer.headers, 'Content-Type': 'application/json' });

/** `?userId=a&userId=b` is ambiguous: refuse it rather than pick one. */
const singleUserIdParameter = createMiddleware(async (c, next) => {
  if ((c.req.queries('userId')?.length ?? 0) > 1) {
    throw new ApiError('VALIDATION_ERROR', undefined, [{ path: 'userId', message: 'userId must be given once' }]);
  }
  await next();
});

const lookupPurchase = createRoute({
  method: 'get',
  path: PURCHASE_PATH,
  summary: "Whether a buyer has bought in the current sale",
  middleware: [singleUserIdParameter] as const,
  request: { query: PurchaseLookupQuerySchema },
  responses: {
    200: { description: 'The buyer’s purchase, if any (reported only once a Redis replica holds it; 503 until then)', content: { 'application/json': { schema: PurchaseLookupSchema } } },
    ...errorResponses('VALIDATION_ERROR', 'SALE_NOT_FOUND', 'RATE_LIMITED', 'SERVICE_UNAVAILABLE'),
  },
});

/** A purchase that is not yet held by enough replicas is not promised: the shopper retries. */
const notYetReplicated = (metrics: ApiMetrics) => {
  metrics.unreplicatedPurchases.inc();
  return new ApiError('SERVICE_UNAVAILABLE');
};

export function registerFlashSaleRoutes(
  app: OpenAPIHono<AppEnv>,
  { store, metrics, purchases }: { store: RedisSaleStore; metrics: ApiMetrics; purchases: PurchaseEndpoint },
) {
  const requireCurrentSaleId = async () => {
    const saleId = await store.currentSaleId();
    if (!saleId) throw new ApiError('SALE_NOT_FOUND');
    return saleId;
  };

  app.openapi(getCurrentSale, async (c) => {
    const sale = await store.snapshot(await requireCurrentSaleId());
    if (!sale) throw new ApiError('SALE_NOT_FOUND');
    const { status, endedReason } = computeSaleStatus(sale, sale.nowMs);
    metrics.remainingStock.set(sale.remaining);
    // One second at the edge (nginx, a CDN), plus one more while it refreshes: the
    // page polls about once a second and never sees a state older than ~2 s.
    c.header('Cache-Control', 'public, max-age=1, stale-while-revalidate=1, stale-if-error=5');
    return c.json(
      {
        data: {
          id: sale.id,
          productName: sale.productName,
          totalStock: sale.totalStock,
          remainingStock: sale.remaining,
          startTime: iso(sale.startMs),
          endTime: iso(sale.endMs),
          status,
          endedReason,
          serverTime: iso(sale.nowMs),
        },
      },
      200,
    );
  });

  app.openAPIRegistry.registerPath(purchase);
  app.post(
    PURCHASE_PATH,
    bodyLimit({ maxSize: PURCHASE_BODY_LIMIT_BYTES, onError: (c) => reply(c, payloadTooLarge(c.var.requestId)) }),
    async (c) =>
      reply(
        c,
        await purchases.answerPurchase({
          contentType: c.req.header('content-type'),
          body: Buffer.from(await c.req.arrayBuffer()),
          requestId: c.var.requestId,
          receivedAtMs: parseRequestStart(c.req.header(REQUEST_START_HEADER)),
        }),
      ),
  );

  app.openapi(lookupPurchase, async (c) => {
    c.header('Cache-Control', 'no-store');
    const { userId } = c.req.valid('query');
    const found = await store.lookupPurchase(await requireCurrentSaleId(), userId);
    if (found.kind === 'NOT_REPLICATED') throw notYetReplicated(metrics);
    return c.json(
      {
        data:
          found.kind === 'FOUND'
            ? { purchased: true as const, purchaseId: found.purchaseId, purchasedAt: iso(found.purchasedAtMs) }
            : { purchased: false as const },
      },
      200,
    );
  });
}
