import { trace } from '@opentelemetry/api';
import { pino, type Logger } from 'pino';

/** JSON logs; each line carries the active trace id so logs and traces join up. */
export function createLogger(name: string, level: string): Logger {
  return pino({
    name,
    level,
    base: { service: name, pid: process.pid },
    timestamp: pino.stdTimeFunctions.isoTime,
    mixin() {
      const span = trace.getActiveSpan();
      return span ? { traceId: span.spanContext().traceId } : {};
    },
  });
}

export type { Logger };
