/**
 * A trace carried across the purchases stream: the API writes the W3C
 * traceparent of a sampled purchase into its stream entry, and the
 * reconciler continues that trace when it persists the purchase. Unsampled
 * purchases (and every purchase while the SDK is off) carry nothing.
 */
import { context, propagation, SpanKind, SpanStatusCode, trace, TraceFlags, type Attributes, type Context, type SpanContext } from '@opentelemetry/api';

/** The active span's traceparent if it is sampled, else '' (what purchase.lua takes as "untraced"). */
export function sampledTraceParent(): string {
  const span = trace.getActiveSpan();
  if (!span || !(span.spanContext().traceFlags & TraceFlags.SAMPLED)) return '';
  const carrier: { traceparent?: string } = {};
  propagation.inject(context.active(), carrier);
  return carrier.traceparent ?? '';
}

/** The context a traceparent names, to start spans in its trace; null for an unusable one. */
export function contextOfTraceParent(traceParent: string): { context: Context; spanContext: SpanContext } | null {
  const extracted = propagation.extract(context.active(), { traceparent: traceParent });
  const spanContext = trace.getSpanContext(extracted);
  return spanContext && trace.isSpanContextValid(spanContext) ? { context: extracted, spanContext } : null;
}

const tracer = trace.getTracer('flashflow');

/**
 * Runs `work` for a batch of traced items (a reconciler pass's purchases) in
 * one span that continues the first item's trace and links to every item's.
 * Each other item gets a span of the same name in its own trace, linked to
 * that one, so every sampled purchase is one trace end to end. A batch with
 * no traced item is a root span that the sampler decides on.
 */
export async function inContinuedTraces<T>(
  name: string,
  traceParents: string[],
  attributes: Attributes,
  work: () => Promise<T>,
): Promise<T> {
  const continued = traceParents.map(contextOfTraceParent).filter((found) => found !== null);
  const [first, ...others] = continued;
  const links = continued.map(({ spanContext }) => ({ context: spanContext }));
  const startTime = Date.now();
  return tracer.startActiveSpan(name, { kind: SpanKind.CONSUMER, attributes, links }, first?.context ?? context.active(), async (span) => {
    try {
      return await work();
    } catch (error) {
      span.recordException(error instanceof Error ? error : String(error));
      span.setStatus({ code: SpanStatusCode.ERROR });
      throw error;
    } finally {
      for (const other of others) {
        tracer.startSpan(name, { kind: SpanKind.CONSUMER, attributes, startTime, links: [{ context: span.spanContext() }] }, other.context).end();
      }
      span.end();
    }
  });
}
