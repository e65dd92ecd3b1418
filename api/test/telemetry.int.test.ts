/**
 * Traces leave an API replica over OTLP: a purchase is one trace whose server
 * span has the Redis calls beneath it. A small OTLP/HTTP receiver stands in
 * for the collector.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectToStack, http, waitFor } from './support.js';

const stack = connectToStack();
const spans: { scope: string; name: string; traceId: string; service: string }[] = [];
let receiver: Server;
let replica: ChildProcess;
const REPLICA_PORT = 13_099;

beforeAll(async () => {
  receiver = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk));
    req.on('end', () => {
      const payload = JSON.parse(body) as {
        resourceSpans: {
          resource: { attributes: { key: string; value: { stringValue?: string } }[] };
          scopeSpans: { scope: { name: string }; spans: { name: string; traceId: string }[] }[];
        }[];
      };
      for (const { resource, scopeSpans } of payload.resourceSpans) {
        const service = resource.attributes.find((a) => a.key === 'service.name')?.value.stringValue ?? '';
        for (const { scope, spans: batch } of scopeSpans) {
          for (const span of batch) spans.push({ scope: scope.name, name: span.name, traceId: span.traceId, service });
        }
      }
      res.setHeader('content-type', 'application/json');
      res.end('{}');
    });
  }).listen(0, '127.0.0.1');
  await new Promise((resolve) => receiver.once('listening', resolve));
  const { port } = receiver.address() as AddressInfo;

  replica = spawn(
    fileURLToPath(new URL('../bin/flashflow', import.meta.url)),
    ['api'],
    {
      env: {
        ...process.env,
        PORT: String(REPLICA_PORT),
        OTEL_SDK_DISABLED: 'false',
        OTEL_SERVICE_NAME: 'flashflow-api',
        OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${port}`,
        OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
        // The shop samples a tenth of its traces (stack/flashflow.env); this test follows one purchase.
        OTEL_TRACES_SAMPLER: 'always_on',
        OTEL_BSP_SCHEDULE_DELAY: '100',
      },
      stdio: 'ignore',
    },
  );
  await waitFor(
    async () => (await http('GET', `http://127.0.0.1:${REPLICA_PORT}/readyz`).catch(() => null))?.status === 200,
    15_000,
    'the traced replica',
  );
});

afterAll(async () => {
  replica?.kill('SIGTERM');
  receiver?.close();
  await stack.close();
});

describe('OpenTelemetry traces', () => {
  it('carry a purchase from the HTTP server span down to its Redis calls', async () => {
    await stack.createSale({ stock: 5 });
    const answer = await http('POST', `http://127.0.0.1:${REPLICA_PORT}/api/v1/flash-sales/current/purchase`, {
      body: JSON.stringify({ userId: 'traced.buyer' }),
      headers: { 'content-type': 'application/json' },
    });
    expect(answer.status).toBe(201);

    const server = await waitFor(
      async () => spans.find((s) => s.scope.includes('instrumentation-http') && s.name.startsWith('POST')) ?? null,
      10_000,
      'the server span',
    );
    expect(server.service).toBe('flashflow-api');
    const inTrace = await waitFor(
      async () => {
        const found = spans.filter((s) => s.traceId === server.traceId && s.scope.includes('ioredis'));
        return found.some((s) => s.name === 'evalsha' || s.name === 'eval') ? found : null;
      },
      10_000,
      'the Redis spans of that trace',
    );
    expect(inTrace.length).toBeGreaterThan(0);
  });
});
