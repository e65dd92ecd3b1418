/**
 * The HTTP layer in process: the app built with a scripted store and asked
 * with app.request(), in milliseconds. What the store decides is scripted;
 * what the app makes of it (status codes, bodies, headers, validation,
 * limits, the classification of failures) is what is tested.
 */
import { ReplyError } from 'ioredis';
import { describe, expect, it } from 'vitest';
import type { AppDependencies } from './app.js';
import { ERROR_CATALOG } from './errors.js';
import { scriptedApp, type ScriptedAppOptions } from './testing/scripted-app.js';
import { SCRIPTED_SALE, type Script } from './testing/scripted-store.js';

function shop(script: Partial<Script> = {}, deps: Partial<Omit<AppDependencies, 'purchases'>> = {}, options: ScriptedAppOptions = {}) {
  const { app, metrics, claims, script: scripted } = scriptedApp(script, deps, options);
  const buy = (body: unknown, headers: Record<string, string> = { 'content-type': 'application/json' }) =>
    app.request('/api/v1/flash-sales/current/purchase', {
      method: 'POST',
      headers,
      body: typeof body === 'string' ? body : JSON.stringify(body),
    });
  const counter = async (name: string) =>
    (await metrics.registry.getMetricsAsJSON()).find((m) => m.name === name)?.values.reduce((sum, v) => sum + v.value, 0) ?? 0;
  return { app, buy, counter, claims, script: scripted };
}

const errorOf = async (response: Response) => ((await response.json()) as { error: { code: string; details?: unknown } }).error;

describe('a purchase, as the store decides it', () => {
  it('is 201 with the spec’s body, no-store, for a confirmed purchase', async () => {
    const { buy, claims } = shop();
    const response = await buy({ userId: '  Alice@Example.COM ' });
    expect(response.status).toBe(201);
    expect(response.headers.get('cache-control')).toBe('no-store');
    const { data } = (await response.json()) as { data: Record<string, unknown> };
    expect(data).toEqual({
      purchaseId: claims[0]!.purchaseId,
      userId: 'alice@example.com',
      productName: SCRIPTED_SALE.productName,
      status: 'confirmed',
      purchasedAt: new Date(SCRIPTED_SALE.startMs + 60_000).toISOString(),
    });
    expect(claims[0]!.userId).toBe('alice@example.com'); // normalised before it reaches Redis
  });

  it.each([
    ['SOLD_OUT', { kind: 'SOLD_OUT' }],
    ['SALE_NOT_ACTIVE', { kind: 'SALE_NOT_ACTIVE', nowMs: 1 }],
  ] as const)('is 409 %s', async (code, decision) => {
    const response = await shop({ claim: async () => decision }).buy({ userId: 'bob' });
    expect(response.status).toBe(409);
    expect(await errorOf(response)).toMatchObject({ code, message: ERROR_CATALOG[code].message });
  });

  it('is 409 ALREADY_PURCHASED with the original purchase, for someone else’s id', async () => {
    const original = '00000000-0000-4000-8000-0000000000aa';
    const response = await shop({ claim: async () => ({ kind: 'ALREADY_PURCHASED', purchaseId: original, purchasedAtMs: 0 }) }).buy({ userId: 'bob' });
    expect(response.status).toBe(409);
    expect(await errorOf(response)).toMatchObject({ code: 'ALREADY_PURCHASED', details: { purchaseId: original, purchasedAt: '1970-01-01T00:00:00.000Z' } });
  });

  it('is 201 when the store reports this request’s own purchase id (a replayed claim)', async () => {
    const response = await shop({ claim: async (_user, purchaseId) => ({ kind: 'ALREADY_PURCHASED', purchaseId, purchasedAtMs: 0 }) }).buy({ userId: 'bob' });
    expect(response.status).toBe(201);
  });

  it('is 503 with Retry-After, and counted, when no replica holds the purchase yet', async () => {
    const { buy, counter } = shop({ claim: async () => ({ kind: 'NOT_REPLICATED' }) });
    const response = await buy({ userId: 'bob' });
    expect(response.status).toBe(503);
    expect(response.headers.get('retry-after')).toBe('1');
    expect((await errorOf(response)).code).toBe('SERVICE_UNAVAILABLE');
    expect(await counter('flashflow_purchase_unreplicated_total')).toBe(1);
  });

  it('is 429 with Retry-After in whole seconds for a buyer over the attempt limit', async () => {
    const response = await shop({ claim: async () => ({ kind: 'RATE_LIMITED', retryAfterMs: 2_300 }) }).buy({ userId: 'bob' });
    expect(response.status).toBe(429);
    expect(response.headers.get('retry-after')).toBe('3');
  });

  it('is 404 SALE_NOT_FOUND without a current sale', async () => {
    const response = await shop({ currentSaleId: null }).buy({ userId: 'bob' });
    expect(response.status).toBe(404);
    expect((await errorOf(response)).code).toBe('SALE_NOT_FOUND');
  });
});

describe('failures', () => {
  it.each([
    ['a primary refusing writes without its replica', new ReplyError('NOREPLICAS Not enough good replicas to write.')],
    ['a command timeout', new Error('Command timed out')],
    ['a closed connection', new Error('Connection is closed.')],
    ['a cluster that is down', new ReplyError('CLUSTERDOWN The cluster is down')],
  ])('of Redis (%s) are 503 with Retry-After', async (_, failure) => {
    const response = await shop({ claim: () => Promise.reject(failure) }).buy({ userId: 'bob' });
    expect(response.status).toBe(503);
    expect(response.headers.get('retry-after')).toBe('1');
    expect((await errorOf(response)).code).toBe('SERVICE_UNAVAILABLE');
  });

  it('of our own code are 500 INTERNAL_ERROR, with no stack trace in the body', async () => {
    const response = await shop({ claim: () => Promise.reject(new TypeError('undefined is not a function')) }).buy({ userId: 'bob' });
    expect(response.status).toBe(500);
    const body = await response.text();
    expect(body).not.toMatch(/TypeError|at .*\.ts/);
    expect(JSON.parse(body).error.code).toBe('INTERNAL_ERROR');
  });

  it('are answered 503 within the request deadline when the store hangs', async () => {
    const started = Date.now();
    const response = await shop({ claim: () => new Promise(() => undefined) }).buy({ userId: 'bob' });
    expect(response.status).toBe(503);
    expect(response.headers.get('retry-after')).toBe('1');
    expect(Date.now() - started).toBeLessThan(1_000);
  });
});

describe('bad requests never reach the store', () => {
  it.each([
    ['a missing userId', {}, 400, 'VALIDATION_ERROR'],
    ['an empty userId', { userId: '   ' }, 400, 'VALIDATION_ERROR'],
    ['a userId that is not a string', { userId: 42 }, 400, 'VALIDATION_ERROR'],
    ['an unknown field', { userId: 'bob', admin: true }, 400, 'VALIDATION_ERROR'],
    ['malformed JSON', '{"userId":', 400, 'VALIDATION_ERROR'],
    ['a body over 4 KiB', { userId: 'x'.repeat(5_000) }, 413, 'PAYLOAD_TOO_LARGE'],
  ] as const)('%s is %d %s', async (_, body, status, code) => {
    const { buy, claims } = shop();
    const response = await buy(body);
    expect(response.status).toBe(status);
    expect((await errorOf(response)).code).toBe(code);
    expect(claims).toHaveLength(0);
  });

  it('a body that is not JSON is 415', async () => {
    const { buy, claims } = shop();
    const response = await buy('userId=bob', { 'content-type': 'application/x-www-form-urlencoded' });
    expect(response.status).toBe(415);
    expect(claims).toHaveLength(0);
  });

  it('a lookup with userId given twice is 400', async () => {
    const response = await shop().app.request('/api/v1/flash-sales/current/purchase?userId=a&userId=b');
    expect(response.status).toBe(400);
  });
});

describe('paths and methods', () => {
  it.each([
    ['/api/v1/flash-sales/current', 'DELETE', 'GET, HEAD'],
    ['/api/v1/flash-sales/current/purchase', 'PUT', 'GET, HEAD, POST'],
    ['/healthz', 'POST', 'GET, HEAD'],
  ])('%s answers %s with 405 and Allow: %s', async (path, method, allow) => {
    const response = await shop().app.request(path, { method });
    expect(response.status).toBe(405);
    expect(response.headers.get('allow')).toBe(allow);
    expect((await errorOf(response)).code).toBe('METHOD_NOT_ALLOWED');
  });

  it('an unknown path is 404 NOT_FOUND with the request id as correlationId', async () => {
    const response = await shop().app.request('/nowhere', { headers: { 'x-request-id': 'req-123' } });
    expect(response.status).toBe(404);
    expect(await errorOf(response)).toMatchObject({ code: 'NOT_FOUND', correlationId: 'req-123' });
  });
});

describe('health', () => {
  it('/readyz is 503 naming what is unreachable, and while draining', async () => {
    const failing = shop({}, { readinessChecks: { redis: () => Promise.reject(new Error('down')) } });
    const response = await failing.app.request('/readyz');
    expect(response.status).toBe(503);
    expect(await response.json()).toEqual({ status: 'unavailable', checks: { redis: 'unreachable' } });
    const draining = shop({}, { isAccepting: () => false });
    expect((await draining.app.request('/readyz')).status).toBe(503);
    expect((await draining.app.request('/healthz')).status).toBe(200);
  });
});
