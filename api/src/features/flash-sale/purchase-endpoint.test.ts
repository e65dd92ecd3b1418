/**
 * The framework-free purchase path: served from Node's own request, it must
 * answer exactly as the Hono route does (the in-process tests of app.test.ts
 * go through Hono), and it sheds what waited too long.
 */
import { createServer, request as httpRequest, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { scriptedApp } from '../../testing/scripted-app.js';
import type { Script } from '../../testing/scripted-store.js';
import { chooseRequestId, parseRequestStart, PURCHASE_PATH, servePurchase } from './purchase-endpoint.js';

interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** One request over a real socket, the body written in the given chunks. */
function send(server: Server, headers: Record<string, string>, chunks: string[]): Promise<Reply> {
  const { port } = server.address() as AddressInfo;
  return new Promise((resolve, reject) => {
    const outgoing = httpRequest({ host: '127.0.0.1', port, method: 'POST', path: PURCHASE_PATH, headers }, (response) => {
      let body = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => (body += chunk));
      response.on('end', () => resolve({ status: response.statusCode!, headers: response.headers, body }));
    });
    // A server that refuses early may close before the whole body is written.
    outgoing.on('error', reject);
    for (const chunk of chunks) outgoing.write(chunk);
    outgoing.end();
  });
}

function rawServer(script: Partial<Script> = {}, options: Parameters<typeof scriptedApp>[2] = {}) {
  const shop = scriptedApp(script, {}, options);
  const server = createServer(servePurchase(shop.purchases, shop.metrics, true));
  return { ...shop, server };
}

const withoutCorrelation = (body: string) => body.replace(/"correlationId":"[^"]*"/, '"correlationId":"…"').replace(/"purchaseId":"[^"]*"/, '"purchaseId":"…"');

describe('served from Node’s request', () => {
  const raw = rawServer();
  beforeAll(() => new Promise<void>((resolve) => raw.server.listen(0, '127.0.0.1', resolve)));
  afterAll(() => new Promise<void>((resolve) => raw.server.close(() => resolve())));

  it.each([
    ['a purchase', 'application/json', '{"userId":"Alice@Example.com"}'],
    ['with a charset', 'application/json; charset=utf-8', '{"userId":"bob"}'],
    ['a +json type', 'application/vnd.api+json', '{"userId":"carol"}'],
    ['no userId', 'application/json', '{}'],
    ['an unknown field', 'application/json', '{"userId":"dave","admin":true}'],
    ['malformed JSON', 'application/json', '{"userId":'],
    ['an empty body', 'application/json', ''],
    ['an array', 'application/json', '[1]'],
    ['not JSON', 'application/x-www-form-urlencoded', 'userId=erin'],
    ['no content type', '', '{"userId":"frank"}'],
    ['an empty body without a type', '', ''],
    ['a body over 4 KiB', 'application/json', JSON.stringify({ userId: 'x'.repeat(5_000) })],
  ])('answers %s exactly as the Hono route does', async (_, contentType, body) => {
    const headers: Record<string, string> = contentType ? { 'content-type': contentType } : {};
    const viaNode = await send(raw.server, headers, [body]);
    const viaHono = await scriptedApp().app.request(PURCHASE_PATH, { method: 'POST', headers, body });
    expect(viaNode.status).toBe(viaHono.status);
    expect(withoutCorrelation(viaNode.body)).toBe(withoutCorrelation(await viaHono.text()));
    expect(viaNode.headers['content-type']).toBe('application/json');
    expect(viaNode.headers['cache-control']).toBe(viaHono.headers.get('cache-control'));
  });

  it('refuses a streamed body once it passes 4 KiB, without waiting for the rest', async () => {
    const reply = await send(raw.server, { 'content-type': 'application/json', 'transfer-encoding': 'chunked' }, [
      '{"userId":"',
      'x'.repeat(5_000),
    ]).catch((error: Error) => error);
    // Either the 413 arrives, or the socket closes mid-write after it: never a purchase.
    if (!(reply instanceof Error)) expect(reply.status).toBe(413);
    expect(raw.claims.filter((claim) => claim.userId.startsWith('xxx'))).toHaveLength(0);
  });

  it('echoes a well-formed X-Request-Id as the correlation id and counts the request', async () => {
    const reply = await send(raw.server, { 'content-type': 'application/json', 'x-request-id': 'edge-42' }, ['{}']);
    expect(reply.headers['x-request-id']).toBe('edge-42');
    expect(JSON.parse(reply.body).error.correlationId).toBe('edge-42');
    const counted = await raw.metrics.registry.getSingleMetricAsString('flashflow_http_requests_total');
    expect(counted).toContain(`flashflow_http_requests_total{method="POST",route="${PURCHASE_PATH}",status="400"}`);
  });
});

describe('admission', () => {
  const at = (ms: number) => `t=${(ms / 1000).toFixed(3)}`;
  const buy = (shop: ReturnType<typeof scriptedApp>, headers: Record<string, string>) =>
    shop.app.request(PURCHASE_PATH, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: '{"userId":"bob"}',
    });

  it('turns away at once, with 503 and Retry-After, a purchase that waited past the limit, without asking Redis', async () => {
    const now = 1_800_000_000_000;
    const shop = scriptedApp({}, {}, { admissionQueueLimitMs: 100, now: () => now });
    const response = await buy(shop, { 'x-request-start': at(now - 150) });
    expect(response.status).toBe(503);
    expect(response.headers.get('retry-after')).toBe('1');
    expect(shop.claims).toHaveLength(0);
    expect(await shop.metrics.registry.getSingleMetricAsString('flashflow_purchase_outcomes_total')).toContain('outcome="shed"} 1');
  });

  it('admits one that waited less, and one whose start is missing or implausible (a wrong clock is not a queue)', async () => {
    const now = 1_800_000_000_000;
    for (const header of [at(now - 50), undefined, at(now + 5_000), at(now - 3_600_000), 'yesterday']) {
      const shop = scriptedApp({}, {}, { admissionQueueLimitMs: 100, now: () => now });
      const response = await buy(shop, header === undefined ? {} : { 'x-request-start': header });
      expect(response.status, String(header)).toBe(201);
    }
  });

  it('counts the deadline from when the edge received the purchase', async () => {
    const hang: Partial<Script> = { claim: () => new Promise(() => undefined) };
    const shop = scriptedApp(hang, {}, { requestDeadlineMs: 1_000, admissionQueueLimitMs: 900 });
    const started = Date.now();
    const response = await buy(shop, { 'x-request-start': at(Date.now() - 800) });
    expect(response.status).toBe(503);
    expect(Date.now() - started).toBeLessThan(700);
  });
});

describe('headers from the edge', () => {
  it('X-Request-Start is nginx’s t=<seconds.milliseconds>', () => {
    expect(parseRequestStart('t=1764633600.123')).toBe(1_764_633_600_123);
    expect(parseRequestStart('t=1764633600')).toBe(1_764_633_600_000);
    expect(parseRequestStart('1764633600.123')).toBeUndefined();
    expect(parseRequestStart(undefined)).toBeUndefined();
  });

  it('X-Request-Id is kept only when trusted and well-formed', () => {
    expect(chooseRequestId('abc-123=', true)).toBe('abc-123=');
    expect(chooseRequestId('abc-123', false)).not.toBe('abc-123');
    expect(chooseRequestId('has space', true)).toMatch(/^[0-9a-f-]{36}$/);
    expect(chooseRequestId('x'.repeat(65), true)).toMatch(/^[0-9a-f-]{36}$/);
  });
});
