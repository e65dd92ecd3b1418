import { context, propagation, SpanStatusCode, trace, TraceFlags } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { AlwaysOnSampler, BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { inContinuedTraces, sampledTraceParent } from './trace-context.js';

const exporter = new InMemorySpanExporter();
// Sampling set here: the provider would otherwise take OTEL_TRACES_SAMPLER from the environment (the shop's is 10%).
const provider = new BasicTracerProvider({ sampler: new AlwaysOnSampler(), spanProcessors: [new SimpleSpanProcessor(exporter)] });

beforeAll(() => {
  trace.setGlobalTracerProvider(provider);
  propagation.setGlobalPropagator(new W3CTraceContextPropagator());
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
});
afterAll(() => {
  trace.disable();
  propagation.disable();
  context.disable();
});
beforeEach(() => exporter.reset());

const purchaseTrace = (n: number) => ({ traceId: String(n).repeat(32), spanId: String(n).repeat(16) });
const traceParentOf = ({ traceId, spanId }: { traceId: string; spanId: string }) => `00-${traceId}-${spanId}-01`;

describe('the traceparent a purchase carries', () => {
  it('is the active span’s when it is sampled, and nothing otherwise', () => {
    expect(sampledTraceParent()).toBe('');
    const tracer = provider.getTracer('test');
    tracer.startActiveSpan('sampled', (span) => {
      const { traceId, spanId } = span.spanContext();
      expect(sampledTraceParent()).toBe(`00-${traceId}-${spanId}-01`);
      span.end();
    });
    const unsampled = trace.wrapSpanContext({ ...purchaseTrace(1), traceFlags: TraceFlags.NONE });
    context.with(trace.setSpan(context.active(), unsampled), () => expect(sampledTraceParent()).toBe(''));
  });
});

describe('a batch of traced purchases', () => {
  it('continues the first one’s trace, gives each other one a span in its own trace, and links them both ways', async () => {
    const [first, second, third] = [purchaseTrace(1), purchaseTrace(2), purchaseTrace(3)];
    const traceParents = [first, second, third].map(traceParentOf);
    const seen = await inContinuedTraces('persist', [...traceParents, 'unreadable'], { batch: 3 }, async () => trace.getActiveSpan()?.spanContext());

    const spans = exporter.getFinishedSpans();
    const batch = spans.find((span) => span.spanContext().spanId === seen?.spanId)!;
    expect(batch.spanContext().traceId).toBe(first.traceId);
    expect(batch.parentSpanContext?.spanId).toBe(first.spanId);
    expect(batch.links.map((link) => link.context.traceId)).toEqual([first.traceId, second.traceId, third.traceId]);
    for (const other of [second, third]) {
      const own = spans.find((span) => span.spanContext().traceId === other.traceId)!;
      expect(own.parentSpanContext?.spanId).toBe(other.spanId);
      expect(own.links.map((link) => link.context.spanId)).toEqual([batch.spanContext().spanId]);
    }
    expect(spans).toHaveLength(3);
  });

  it('records a failure on the span and still throws it', async () => {
    await expect(inContinuedTraces('persist', [], {}, async () => Promise.reject(new Error('Postgres is down')))).rejects.toThrow('Postgres is down');
    const [span] = exporter.getFinishedSpans();
    expect(span?.status.code).toBe(SpanStatusCode.ERROR);
    expect(span?.events.map((event) => event.name)).toContain('exception');
  });
});
