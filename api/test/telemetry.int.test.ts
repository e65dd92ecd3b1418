/**
 * Traces leave the API and the reconciler over OTLP, and one purchase is one
 * trace: nginx's request id on the HTTP server span, the Lua claim and the
 * replica wait beneath it, the trace carried in the stream entry, and the
 * reconciler's span with its Postgres insert beneath that. A small OTLP/HTTP
 * receiver stands in for the collector.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectToStack, http, servicePid, waitFor } from './support.js';

interface ReceivedSpan {
  service: string;
  scope: string;
  name: string;
  traceId: string;
  spanId: string;
  parentSpanId: string;
  attributes: Record<string, unknown>;
  links: { traceId: string; spanId: string }[];
}

type OtlpValue = { stringValue?: string; intValue?: string; arrayValue?: { values: OtlpValue[] } };
const valueOf = (value: OtlpValue): unknown => value.arrayValue ? value.arrayValue.values.map(valueOf) : (value.stringValue ?? value.intValue);

const stack = connectToStack();
const spans: ReceivedSpan[] = [];
const reconcilerLog: string[] = [];
let receiver: Server;
let replica: ChildProcess;
let reconciler: ChildProcess;
const REPLICA_PORT = 13_099;
const RECONCILER_PORT = 13_098;
const FLASHFLOW = fileURLToPath(new URL('../bin/flashflow', import.meta.url));

function receiveSpans(body: string) {
  const payload = JSON.parse(body) as {
    resourceSpans: {
      resource: { attributes: { key: string; value: OtlpValue }[] };
      scopeSpans: {
        scope: { name: string };
        spans: {
          name: string;
          traceId: string;
          spanId: string;
          parentSpanId?: string;
          attributes?: { key: string; value: OtlpValue }[];
          links?: { traceId: string; spanId: string }[];
        }[];
      }[];
    }[];
  };
  for (const { resource, scopeSpans } of payload.resourceSpans) {
    const service = String(valueOf(resource.attributes.find((a) => a.key === 'service.name')?.value ?? {}) ?? '');
    for (const { scope, spans: batch } of scopeSpans) {
      for (const span of batch) {
        spans.push({
          service,
          scope: scope.name,
          name: span.name,
          traceId: span.traceId,
          spanId: span.spanId,
          parentSpanId: span.parentSpanId ?? '',
          attributes: Object.fromEntries((span.attributes ?? []).map(({ key, value }) => [key, valueOf(value)])),
          links: (span.links ?? []).map(({ traceId, spanId }) => ({ traceId, spanId })),
        });
      }
    }
  }
}

/** A process of the shop that exports every trace to the receiver. */
function traced(args: string[], serviceName: string, env: Record<string, string>): ChildProcess {
  const { port } = receiver.address() as AddressInfo;
  return spawn(FLASHFLOW, args, {
    env: {
      ...process.env,
      ...env,
      OTEL_SDK_DISABLED: 'false',
      OTEL_SERVICE_NAME: serviceName,
      OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${port}`,
      OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
      // The shop samples a tenth of its traces (stack/flashflow.env); this test follows one purchase.
      OTEL_TRACES_SAMPLER: 'always_on',
      OTEL_BSP_SCHEDULE_DELAY: '100',
    },
    stdio: ['ignore', 'pipe', 'ignore'],
  });
}

const ready = (port: number, what: string) =>
  waitFor(async () => (await http('GET', `http://127.0.0.1:${port}/readyz`).catch(() => null))?.status === 200, 15_000, what);

let stackReconciler: number;

beforeAll(async () => {
  receiver = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk));
    req.on('end', () => {
      receiveSpans(body);
      res.setHeader('content-type', 'application/json');
      res.end('{}');
    });
  }).listen(0, '127.0.0.1');
  await new Promise((resolve) => receiver.once('listening', resolve));

  replica = traced(['api'], 'flashflow-api', { PORT: String(REPLICA_PORT) });
  // The stack's own reconciler pauses, so this traced one persists the purchase.
  stackReconciler = servicePid('reconciler');
  process.kill(stackReconciler, 'SIGSTOP');
  reconciler = traced(['reconciler'], 'flashflow-reconciler', { RECONCILER_PORT: String(RECONCILER_PORT), LOG_LEVEL: 'debug' });
  reconciler.stdout!.setEncoding('utf8').on('data', (chunk: string) => reconcilerLog.push(...chunk.split('\n').filter(Boolean)));
  await ready(REPLICA_PORT, 'the traced replica');
  await ready(RECONCILER_PORT, 'the traced reconciler');
});

afterAll(async () => {
  replica?.kill('SIGTERM');
  if (reconciler) {
    const exited = new Promise((resolve) => reconciler.once('exit', resolve));
    reconciler.kill('SIGTERM');
    await exited;
  }
  if (stackReconciler) process.kill(stackReconciler, 'SIGCONT');
  receiver?.close();
  await stack.close();
});

describe('OpenTelemetry traces', () => {
  it('follow one purchase from nginx’s request id through Redis and the stream to its Postgres insert', async () => {
    await stack.createSale({ stock: 5 });
    const requestId = 'b6a1e4c2d3f40718293a4b5c6d7e8f90';
    const answer = await http('POST', `http://127.0.0.1:${REPLICA_PORT}/api/v1/flash-sales/current/purchase`, {
      body: JSON.stringify({ userId: 'traced.buyer' }),
      // What nginx adds to every request it forwards (nginx/snippets/proxy-to-api.conf).
      headers: { 'content-type': 'application/json', 'x-request-id': requestId },
    });
    expect(answer.status, answer.body).toBe(201);

    const server = await waitFor(
      async () => spans.find((s) => s.scope.includes('instrumentation-http') && s.name.startsWith('POST')) ?? null,
      10_000,
      'the server span',
    );
    expect(server.service).toBe('flashflow-api');
    expect(server.attributes['http.request.header.x-request-id']).toEqual([requestId]);

    const persisted = await waitFor(
      async () => spans.find((s) => s.traceId === server.traceId && s.name === 'flashflow.reconcile persist') ?? null,
      15_000,
      'the reconciler’s span in the purchase’s trace',
    );
    const inTrace = await waitFor(
      async () => {
        const trace = spans.filter((s) => s.traceId === server.traceId);
        return trace.some((s) => s.scope.includes('instrumentation-pg') && /INSERT/i.test(String(s.attributes['db.statement'] ?? s.attributes['db.query.text'] ?? s.name)))
          ? trace
          : null;
      },
      15_000,
      'the Postgres insert in the purchase’s trace',
    );
    const childrenOf = (parent: ReceivedSpan) => inTrace.filter((s) => s.parentSpanId === parent.spanId);
    const redisCalls = childrenOf(server).filter((s) => s.scope.includes('ioredis')).map((s) => s.name);
    expect(redisCalls, 'the Lua claim and the replica wait, beneath the HTTP span').toEqual(expect.arrayContaining([expect.stringMatching(/^evalsha$|^eval$/), 'wait']));

    // The stream carried the trace: the reconciler's span is the HTTP span's child, in another service.
    expect(persisted).toMatchObject({ service: 'flashflow-reconciler', parentSpanId: server.spanId });
    expect(persisted.links).toContainEqual({ traceId: server.traceId, spanId: server.spanId });
    expect(childrenOf(persisted).some((s) => s.scope.includes('instrumentation-pg')), 'the insert beneath the reconciler’s span').toBe(true);
  });

  it('puts the trace id on the log lines written while persisting it', async () => {
    const persisted = spans.find((s) => s.name === 'flashflow.reconcile persist' && s.parentSpanId !== '');
    expect(persisted, 'the previous test’s purchase was persisted in a trace').toBeDefined();
    const lines = reconcilerLog.map((line) => JSON.parse(line) as { msg: string; traceId?: string });
    expect(lines.filter((line) => line.msg === 'purchases persisted').map((line) => line.traceId)).toContain(persisted!.traceId);
  });
});
