/** Every outcome of the API through nginx, with the spec's codes and shapes (PR-1..PR-4, T-4, T-6). */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { api, connectToStack, http, purchase, testEnv, waitFor } from './support.js';

const stack = connectToStack();
afterAll(() => stack.close());

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

function expectError(answer: Awaited<ReturnType<typeof http>>, status: number, code: string) {
  expect(answer.status, answer.body).toBe(status);
  const body = answer.json();
  expect(body).toMatchObject({ status: 'error', code: status, error: { code, message: expect.any(String) } });
  // The correlation id is the request id nginx assigned and returned.
  expect(body.error.correlationId).toBe(answer.headers['x-request-id']);
  expect(answer.body).not.toMatch(/\bat .+\.(js|ts):\d+/); // no stack trace
  return body;
}

// Each test starts from a sale of its own (2 units): none relies on another having run.
describe('an active sale with stock', () => {
  let saleId: string;
  beforeEach(async () => {
    saleId = (await stack.createSale({ stock: 2, productName: 'Outcome Widget' })).id;
  });

  it('reports itself active with its stock and the server time', async () => {
    // Straight from a replica: nginx's micro-cache may still hold the previous sale for a second.
    const answer = await http('GET', `${testEnv.FLASH_API_URLS[0]}/api/v1/flash-sales/current`);
    expect(answer.status).toBe(200);
    const { data } = answer.json();
    expect(data).toMatchObject({
      id: saleId,
      productName: 'Outcome Widget',
      totalStock: 2,
      remainingStock: 2,
      status: 'active',
      endedReason: null,
    });
    expect(Date.parse(data.serverTime)).toBeGreaterThanOrEqual(Date.parse(data.startTime));
  });

  it('confirms a purchase with 201 and the spec’s body (PR-1)', async () => {
    const answer = await purchase('  Buyer.One@Example.com ');
    expect(answer.status, answer.body).toBe(201);
    expect(answer.json().data).toMatchObject({
      purchaseId: expect.stringMatching(UUID),
      userId: 'buyer.one@example.com',
      productName: 'Outcome Widget',
      status: 'confirmed',
    });
    expect(answer.headers['cache-control']).toBe('no-store');
  });

  it('answers a repeat with ALREADY_PURCHASED and the original purchase id (PR-2)', async () => {
    expect((await purchase('Buyer.One@Example.com')).status).toBe(201);
    const lookup = await http('GET', api('/flash-sales/current/purchase?userId=BUYER.ONE@example.com'));
    expect(lookup.status).toBe(200);
    const original = lookup.json().data;
    expect(original).toMatchObject({ purchased: true, purchaseId: expect.stringMatching(UUID) });

    const body = expectError(await purchase('buyer.one@example.com'), 409, 'ALREADY_PURCHASED');
    expect(body.error.details).toEqual({ purchaseId: original.purchaseId, purchasedAt: original.purchasedAt });
  });

  it('says a buyer who never bought has not purchased', async () => {
    const lookup = await http('GET', api('/flash-sales/current/purchase?userId=nobody'));
    expect(lookup.json()).toEqual({ data: { purchased: false } });
  });

  it('sells the last unit, then answers SOLD_OUT, and the sale reads as ended: sold out (PR-4, FL-4)', async () => {
    expect((await purchase('buyer.one')).status).toBe(201);
    expect((await purchase('buyer.two')).status).toBe(201);
    expectError(await purchase('buyer.three'), 409, 'SOLD_OUT');
    const { data } = (await waitFor(
      async () => {
        const answer = await http('GET', `${testEnv.FLASH_API_URLS[0]}/api/v1/flash-sales/current`);
        return answer.json().data.status === 'ended' ? answer : null;
      },
      3_000,
      'ended status',
    )).json();
    expect(data).toMatchObject({ remainingStock: 0, status: 'ended', endedReason: 'sold_out' });
  });

  it('still tells an earlier buyer ALREADY_PURCHASED once sold out, not SOLD_OUT', async () => {
    expect((await purchase('buyer.one')).status).toBe(201);
    expect((await purchase('buyer.two')).status).toBe(201);
    expectError(await purchase('buyer.two'), 409, 'ALREADY_PURCHASED');
  });
});

describe('a sale that has not started', () => {
  beforeAll(() => stack.createSale({ startsInMs: 3_600_000 }));

  it('is upcoming and rejects purchases with SALE_NOT_ACTIVE (FL-1, PR-3)', async () => {
    const status = await http('GET', `${testEnv.FLASH_API_URLS[0]}/api/v1/flash-sales/current`);
    expect(status.json().data).toMatchObject({ status: 'upcoming', endedReason: null, remainingStock: 10 });
    expectError(await purchase('early.bird'), 409, 'SALE_NOT_ACTIVE');
    const lookup = await http('GET', api('/flash-sales/current/purchase?userId=early.bird'));
    expect(lookup.json()).toEqual({ data: { purchased: false } });
  });
});

describe('a sale whose time has run out', () => {
  beforeAll(async () => {
    await stack.createSale({ durationMs: 300 });
    await new Promise((resolve) => setTimeout(resolve, 400));
  });

  it('is ended by time and rejects purchases with SALE_NOT_ACTIVE (FL-3, PR-3)', async () => {
    const status = await http('GET', `${testEnv.FLASH_API_URLS[0]}/api/v1/flash-sales/current`);
    expect(status.json().data).toMatchObject({ status: 'ended', endedReason: 'time', remainingStock: 10 });
    expectError(await purchase('late.comer'), 409, 'SALE_NOT_ACTIVE');
  });
});

describe('bad input never reaches the sale', () => {
  let saleId: string;
  beforeAll(async () => {
    saleId = (await stack.createSale({ stock: 5 })).id;
  });

  const post = (body: string | undefined, contentType = 'application/json') =>
    http('POST', api('/flash-sales/current/purchase'), {
      body,
      headers: contentType ? { 'content-type': contentType } : {},
    });

  it.each([
    ['an empty identifier', JSON.stringify({ userId: '' })],
    ['a whitespace identifier', JSON.stringify({ userId: '   ' })],
    ['a number', JSON.stringify({ userId: 42 })],
    ['null', JSON.stringify({ userId: null })],
    ['an array', JSON.stringify({ userId: ['a'] })],
    ['no userId', '{}'],
    ['unknown fields', JSON.stringify({ userId: 'ok', admin: true })],
    ['malformed JSON', '{"userId": '],
    ['a JSON string', '"alice"'],
    ['control characters', JSON.stringify({ userId: 'al\u0000ice' })],
  ])('answers 400 VALIDATION_ERROR to %s', async (_label, body) => {
    expectError(await post(body), 400, 'VALIDATION_ERROR');
  });

  it('answers 400 to a missing or empty body', async () => {
    expectError(await post(undefined), 400, 'VALIDATION_ERROR');
    expectError(await post(''), 400, 'VALIDATION_ERROR');
    expectError(await post(undefined, ''), 400, 'VALIDATION_ERROR');
  });

  it('answers 400 to an ambiguous or malformed query string', async () => {
    expectError(await http('GET', api('/flash-sales/current/purchase?userId=a&userId=b')), 400, 'VALIDATION_ERROR');
    expectError(await http('GET', api('/flash-sales/current/purchase?userId[]=a')), 400, 'VALIDATION_ERROR');
    const stray = await http('GET', api('/flash-sales/current/purchase?userId=%zz&x=%'));
    expect(stray.status).toBe(200); // undecodable escapes are read literally, never a 500
  });

  it('answers 415 to a body that is not JSON', async () => {
    expectError(await post('userId=alice', 'application/x-www-form-urlencoded'), 415, 'UNSUPPORTED_MEDIA_TYPE');
  });

  it('answers 413 in the API’s shape to an oversized body', async () => {
    expectError(await post(JSON.stringify({ userId: 'x'.repeat(10_000) })), 413, 'PAYLOAD_TOO_LARGE');
  });

  it('answers 400 to a lookup without a valid userId', async () => {
    expectError(await http('GET', api('/flash-sales/current/purchase')), 400, 'VALIDATION_ERROR');
    expectError(await http('GET', api('/flash-sales/current/purchase?userId=%20')), 400, 'VALIDATION_ERROR');
  });

  it('answers 404 and 405 in the API’s shape', async () => {
    expectError(await http('GET', api('/no-such-thing')), 404, 'NOT_FOUND');
    const wrongMethod = expectError(await http('DELETE', api('/flash-sales/current')), 405, 'METHOD_NOT_ALLOWED');
    expect(wrongMethod).toBeTruthy();
  });

  it('left the stock untouched', async () => {
    const snapshot = await stack.store.snapshot(saleId);
    expect(snapshot?.remaining).toBe(5);
  });
});

describe('health endpoints of a replica', () => {
  it('answers /healthz and /readyz, which checks only what purchases need: Redis', async () => {
    const base = testEnv.FLASH_API_URLS[0];
    expect((await http('GET', `${base}/healthz`)).json()).toEqual({ status: 'ok' });
    expect((await http('GET', `${base}/readyz`)).json()).toEqual({ status: 'ok', checks: { redis: 'ok' } });
  });
});
