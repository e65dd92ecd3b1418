/**
 * The load client against a tiny server in this process: every shape counts
 * what it sent and what came back, by status and by second, and a shopper
 * the server never answers is a timeout, not an answer.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { errorCount, runHerd } from '../bench/herd-client.js';

const seen = { addresses: new Set<string>(), bodies: [] as string[] };
let server: Server;
let url = '';

beforeAll(async () => {
  server = createServer((request, response) => {
    seen.addresses.add(request.socket.remoteAddress ?? '');
    let body = '';
    request.on('data', (chunk: Buffer) => (body += chunk.toString()));
    request.on('end', () => {
      seen.bodies.push(body);
      if (request.url === '/never') return; // no answer: the client must give up
      if (request.url === '/busy') return response.writeHead(503, { 'Retry-After': '1' }).end();
      if (request.url === '/busy-without-retry-after') return response.writeHead(503).end();
      const status = request.url === '/conflict' ? 409 : 201;
      response.writeHead(status, { 'Content-Type': 'application/json' }).end('{"ok":true}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}, 120_000);

afterAll(() => {
  server.closeAllConnections();
  return new Promise<void>((resolve) => server.close(() => resolve()));
});

describe('the herd client', () => {
  it('sends a herd all at once, each shopper from its own address with its own body', async () => {
    const report = await runHerd({
      url: `${url}/buy`, count: 200, method: 'POST', body: '{"userId":"shopper-%u"}', addresses: '127.50.0.1-127.50.0.200',
    });
    expect(report).toMatchObject({ sent: 200, answered: 200, statuses: { '201': 200 } });
    expect(errorCount(report)).toBe(0);
    expect(seen.addresses.size).toBeGreaterThanOrEqual(200);
    expect(new Set(seen.bodies.filter((b) => b.includes('shopper-'))).size).toBe(200);
    expect(report.timeline.reduce((sum, second) => sum + (second['201'] ?? 0), 0)).toBe(200);
  });

  it('keeps a closed run at its concurrency until the count is sent', async () => {
    const report = await runHerd({ url: `${url}/conflict`, count: 500, concurrency: 20, addresses: '127.50.1.1-127.50.1.254' });
    expect(report).toMatchObject({ sent: 500, answered: 500, statuses: { '409': 500 } });
  });

  it('sends an open run at its rate for its duration', async () => {
    const report = await runHerd({ url: `${url}/buy`, count: 100_000, rate: 200, durationSeconds: 2, addresses: '127.50.2.1-127.50.2.254' });
    expect(report.sent).toBeGreaterThanOrEqual(390);
    expect(report.sent).toBeLessThanOrEqual(402);
    expect(report.answered).toBe(report.sent);
  });

  it('splits the shoppers over its threads, every one sent once with its own number', async () => {
    const before = seen.bodies.length;
    const report = await runHerd({
      url: `${url}/buy`, count: 301, concurrency: 10, threads: 3, method: 'POST', body: '{"userId":"threaded-%u"}',
      addresses: '127.50.5.1-127.50.5.254',
    });
    expect(report).toMatchObject({ threads: 3, sent: 301, answered: 301, statuses: { '201': 301 } });
    const numbers = seen.bodies.slice(before).map((body) => Number(/threaded-(\d+)/.exec(body)?.[1]));
    expect(new Set(numbers).size).toBe(301);
    expect(Math.min(...numbers)).toBe(0);
    expect(Math.max(...numbers)).toBe(300);
    const herd = await runHerd({ url: `${url}/buy`, count: 50, threads: 4, addresses: '127.50.6.1-127.50.6.254' });
    expect(herd).toMatchObject({ threads: 4, sent: 50, answered: 50 });
  });

  it('counts the 503s that do not say when to retry', async () => {
    const said = await runHerd({ url: `${url}/busy`, count: 10, addresses: '127.50.4.1-127.50.4.10' });
    expect(said).toMatchObject({ statuses: { '503': 10 }, unavailableWithoutRetryAfter: 0 });
    const silent = await runHerd({ url: `${url}/busy-without-retry-after`, count: 10, addresses: '127.50.4.1-127.50.4.10' });
    expect(silent).toMatchObject({ statuses: { '503': 10 }, unavailableWithoutRetryAfter: 10 });
  });

  it('counts a shopper never answered as a timeout', async () => {
    const report = await runHerd({ url: `${url}/never`, count: 3, addresses: '127.50.3.1-127.50.3.3', timeoutMs: 300 });
    expect(report).toMatchObject({ sent: 3, answered: 0, errors: { timeout: 3 } });
  });
});
