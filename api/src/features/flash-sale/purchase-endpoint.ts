/**
 * POST /api/v1/flash-sales/current/purchase, the path a herd hits. A replica
 * serves it straight from Node's request (servePurchase, commands/api.ts):
 * no WHATWG Request, no framework, nothing allocated or logged that the
 * answer does not need, and a sold-out sale answered from memory. Hono
 * routes to the same answerPurchase for the in-process tests, and
 * flash-sale.routes.ts describes it in the OpenAPI document.
 */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { ApiError, classifyFailure, ERROR_CATALOG, errorBody, type Refusal } from '../../errors.js';
import type { Logger } from '../../platform/logger.js';
import type { ApiMetrics, PurchaseOutcome } from '../../platform/metrics.js';
import type { ClaimOutcome, PurchaseDecision } from './flash-sale.logic.js';
import type { RedisSaleStore } from './flash-sale.redis.js';
import { PurchaseRequestSchema } from './flash-sale.schemas.js';
import { createSoldOutMemo } from './sold-out-memo.js';

export const PURCHASE_PATH = '/api/v1/flash-sales/current/purchase';
/** The purchase body is one short identifier; anything bigger is not a purchase. */
export const PURCHASE_BODY_LIMIT_BYTES = 4096;
/** nginx's X-Request-Start, `t=<seconds since the epoch, to the millisecond>`. */
export const REQUEST_START_HEADER = 'x-request-start';

export interface PurchaseRequest {
  contentType: string | undefined;
  body: Buffer;
  requestId: string;
  /** When the edge received the request (X-Request-Start), if it said. */
  receivedAtMs: number | undefined;
}

export interface Answer {
  status: number;
  headers: Record<string, string>;
  body: string;
}

export interface PurchaseEndpointDependencies {
  store: RedisSaleStore;
  metrics: ApiMetrics;
  logger: Logger;
  /** Every purchase is answered within this of the edge receiving it (REQUEST_DEADLINE_MS). */
  requestDeadlineMs: number;
  /** A purchase that waited longer than this for its turn is turned away at once (ADMISSION_QUEUE_LIMIT_MS). */
  admissionQueueLimitMs: number;
  now?: () => number;
}

/** What Hono's JSON validator accepts: application/json and application/<anything>+json, with parameters. */
const JSON_CONTENT_TYPE = /^application\/([a-z-.]+\+)?json(;\s*[a-zA-Z0-9-]+=([^;]+))*$/;
const REQUEST_ID = /^[\w\-=]{1,64}$/;
const REQUEST_START = /^t=(\d+(?:\.\d+)?)$/;
/** An X-Request-Start further off than this is a clock that is wrong, not a queue: ignored. */
const PLAUSIBLE_AGE_MS = 60_000;

const iso = (ms: number) => new Date(ms).toISOString();
const NO_STORE = { 'Cache-Control': 'no-store' };
const RETRY_SOON = { 'Cache-Control': 'no-store', 'Retry-After': '1' };
const DEADLINE_PASSED = Symbol('deadline passed');

/** The answer to a body over PURCHASE_BODY_LIMIT_BYTES. */
export function payloadTooLarge(requestId: string): Answer {
  return { status: 413, headers: NO_STORE, body: JSON.stringify(errorBody({ code: 'PAYLOAD_TOO_LARGE' }, requestId)) };
}

/** prom-client hashes a metric's labels on every call: each label set's child, looked up once. */
function cachedChildren<Child, Label extends string = string>(make: (label: Label) => Child): (label: Label) => Child {
  const children = new Map<Label, Child>();
  return (label) => {
    let child = children.get(label);
    if (!child) children.set(label, (child = make(label)));
    return child;
  };
}

/** The edge's receive time from X-Request-Start, or undefined when absent or unreadable. */
export function parseRequestStart(header: string | undefined): number | undefined {
  const match = header === undefined ? null : REQUEST_START.exec(header);
  return match ? Math.round(Number(match[1]) * 1000) : undefined;
}

/** The correlation id: the edge's when trusted and well-formed, else a fresh one. */
export function chooseRequestId(header: string | undefined, trusted: boolean): string {
  return trusted && header !== undefined && REQUEST_ID.test(header) ? header : randomUUID();
}

function readUserId(request: PurchaseRequest): string {
  // An empty body is judged like JSON's undefined: "expected object".
  if (request.body.length > 0 && !JSON_CONTENT_TYPE.test(request.contentType ?? '')) {
    throw new ApiError('UNSUPPORTED_MEDIA_TYPE');
  }
  let json: unknown;
  if (request.body.length > 0) {
    try {
      json = JSON.parse(request.body.toString('utf8'));
    } catch {
      throw new ApiError('VALIDATION_ERROR', 'Malformed JSON in request body');
    }
  }
  const parsed = PurchaseRequestSchema.safeParse(json);
  if (!parsed.success) {
    throw new ApiError(
      'VALIDATION_ERROR',
      undefined,
      parsed.error.issues.map((issue) => ({ path: issue.path.join('.'), message: issue.message })),
    );
  }
  return parsed.data.userId;
}

export function createPurchaseEndpoint(deps: PurchaseEndpointDependencies) {
  const { store, metrics, logger } = deps;
  const now = deps.now ?? Date.now;
  const soldOut = createSoldOutMemo(store);
  const countOutcome = cachedChildren((outcome: PurchaseOutcome) => metrics.purchaseOutcomes.labels({ outcome }));

  const refuse = (refusal: Refusal, requestId: string, headers: Record<string, string> = NO_STORE): Answer => ({
    status: ERROR_CATALOG[refusal.code].status,
    headers: refusal.code === 'SERVICE_UNAVAILABLE' ? RETRY_SOON : headers,
    body: JSON.stringify(errorBody(refusal, requestId)),
  });

  const unavailable = (outcome: PurchaseOutcome, requestId: string) => {
    countOutcome(outcome).inc();
    return refuse({ code: 'SERVICE_UNAVAILABLE' }, requestId);
  };

  async function decide(userId: string, requestId: string, receivedAtMs: number | undefined): Promise<Answer> {
    const saleId = await store.currentSaleId();
    const definition = saleId ? await store.definition(saleId) : null;
    if (!saleId || !definition) return refuse({ code: 'SALE_NOT_FOUND' }, requestId);

    const known = soldOut.answer(saleId, userId);
    if (known) return answerOutcome(known, userId, '', definition.productName, requestId);

    // Only now, with Redis to ask, does a long wait matter: beyond the limit the
    // replicas are behind, and a fast 503 beats an answer after the shopper gave up.
    if (receivedAtMs !== undefined && now() - receivedAtMs > deps.admissionQueueLimitMs) {
      return unavailable('shed', requestId);
    }

    const purchaseId = randomUUID();
    const stopTimer = metrics.claimDuration.startTimer();
    let outcome: PurchaseDecision;
    try {
      outcome = await store.claim(saleId, userId, purchaseId);
    } catch (failure) {
      countOutcome('unavailable').inc();
      throw failure;
    } finally {
      stopTimer();
    }
    if (outcome.kind === 'SOLD_OUT') {
      soldOut.remember(definition).catch((failure: unknown) => logger.warn({ err: failure, saleId }, 'could not copy the buyers of a sold-out sale'));
    }
    if (outcome.kind === 'NOT_REPLICATED') {
      metrics.unreplicatedPurchases.inc();
      return unavailable('unreplicated', requestId);
    }
    return answerOutcome(outcome, userId, purchaseId, definition.productName, requestId);
  }

  function answerOutcome(outcome: ClaimOutcome, userId: string, purchaseId: string, productName: string, requestId: string): Answer {
    const confirmed = (purchasedAtMs: number): Answer => {
      countOutcome('confirmed').inc();
      const data = { purchaseId, userId, productName, status: 'confirmed', purchasedAt: iso(purchasedAtMs) };
      return { status: 201, headers: NO_STORE, body: JSON.stringify({ data }) };
    };
    switch (outcome.kind) {
      case 'CONFIRMED':
        return confirmed(outcome.purchasedAtMs);
      case 'ALREADY_PURCHASED':
        // A retry inside ioredis can replay our own claim after a dropped
        // connection: the script then reports this very purchase id, and it is ours.
        if (outcome.purchaseId === purchaseId) return confirmed(outcome.purchasedAtMs);
        countOutcome('already_purchased').inc();
        return refuse(
          { code: 'ALREADY_PURCHASED', details: { purchaseId: outcome.purchaseId, purchasedAt: iso(outcome.purchasedAtMs) } },
          requestId,
        );
      case 'RATE_LIMITED':
        countOutcome('rate_limited').inc();
        return refuse({ code: 'RATE_LIMITED', message: 'Too many attempts for this buyer; try again shortly.' }, requestId, {
          ...NO_STORE,
          'Retry-After': String(Math.max(1, Math.ceil(outcome.retryAfterMs / 1000))),
        });
      case 'SALE_NOT_ACTIVE':
        countOutcome('sale_not_active').inc();
        return refuse({ code: 'SALE_NOT_ACTIVE' }, requestId);
      case 'SOLD_OUT':
        countOutcome('sold_out').inc();
        return refuse({ code: 'SOLD_OUT' }, requestId);
      case 'NO_SALE':
        return refuse({ code: 'SALE_NOT_FOUND' }, requestId);
    }
  }

  /** The answer to one purchase request: never throws, never later than the deadline. */
  async function answerPurchase(request: PurchaseRequest): Promise<Answer> {
    let timer: NodeJS.Timeout | undefined;
    try {
      const userId = readUserId(request);
      const age = request.receivedAtMs === undefined ? 0 : now() - request.receivedAtMs;
      const receivedAtMs = age >= 0 && age < PLAUSIBLE_AGE_MS ? request.receivedAtMs : undefined;
      const deadline = new Promise<typeof DEADLINE_PASSED>((resolve) => {
        timer = setTimeout(resolve, Math.max(0, deps.requestDeadlineMs - (receivedAtMs === undefined ? 0 : age)), DEADLINE_PASSED);
      });
      const answer = await Promise.race([decide(userId, request.requestId, receivedAtMs), deadline]);
      return answer === DEADLINE_PASSED ? unavailable('unavailable', request.requestId) : answer;
    } catch (thrown) {
      const failure = classifyFailure(thrown as Error);
      if (failure.status >= 500 && !(thrown instanceof ApiError)) {
        logger.error({ err: thrown, requestId: request.requestId, path: PURCHASE_PATH }, 'request failed');
      }
      return refuse(failure, request.requestId);
    } finally {
      clearTimeout(timer);
    }
  }

  return { answerPurchase };
}

export type PurchaseEndpoint = ReturnType<typeof createPurchaseEndpoint>;

/**
 * Node's request and response around answerPurchase, with the same metrics
 * and X-Request-Id as every other route. A body over the limit is refused
 * without being read further.
 */
export function servePurchase(endpoint: PurchaseEndpoint, metrics: ApiMetrics, trustRequestId: boolean) {
  const duration = metrics.httpDuration.labels({ method: 'POST', route: PURCHASE_PATH });
  const countAnswer = cachedChildren((status: string) => metrics.httpRequests.labels({ method: 'POST', route: PURCHASE_PATH, status }));
  return (request: IncomingMessage, response: ServerResponse) => {
    const stopTimer = duration.startTimer();
    const requestId = chooseRequestId(request.headers['x-request-id'] as string | undefined, trustRequestId);
    const send = (answer: Answer) => {
      response.writeHead(answer.status, {
        ...answer.headers,
        'Content-Type': 'application/json',
        'Content-Length': Buffer.byteLength(answer.body),
        'X-Request-Id': requestId,
      });
      response.end(answer.body);
      stopTimer();
      countAnswer(String(answer.status)).inc();
    };
    // The rest of the body is not read, so the connection cannot carry another request.
    const tooLarge = () => {
      const answer = payloadTooLarge(requestId);
      send({ ...answer, headers: { ...answer.headers, Connection: 'close' } });
    };

    if (Number(request.headers['content-length'] ?? 0) > PURCHASE_BODY_LIMIT_BYTES) return tooLarge();
    const chunks: Buffer[] = [];
    let length = 0;
    request.on('data', (chunk: Buffer) => {
      length += chunk.length;
      if (length > PURCHASE_BODY_LIMIT_BYTES) {
        request.removeAllListeners('data').removeAllListeners('end').resume();
        tooLarge();
      } else {
        chunks.push(chunk);
      }
    });
    request.on('end', () => {
      void endpoint
        .answerPurchase({
          contentType: request.headers['content-type'],
          body: chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks),
          requestId,
          receivedAtMs: parseRequestStart(request.headers[REQUEST_START_HEADER] as string | undefined),
        })
        .then(send);
    });
  };
}
