import { trace } from '@opentelemetry/api';
import { pino, type Logger } from 'pino';

/**
 * JSON logs; each line carries the active trace id so logs and traces join up.
 * Commands whose stdout is their result log to stderr (fd 2).
 */
export function createLogger(name: string, level: string, fd: 1 | 2 = 1): Logger {
  return pino(
    {
      name,
      level,
      base: { service: name, pid: process.pid },
      timestamp: pino.stdTimeFunctions.isoTime,
      // A failed command's arguments can hold a password (ioredis's AUTH), a
      // pg error its connection: never written, whatever logs them.
      redact: { paths: ['err.command.args', 'err.client', '*.password', '*.connectionString', 'DATABASE_URL'], censor: '[redacted]' },
      mixin() {
        const span = trace.getActiveSpan();
        return span ? { traceId: span.spanContext().traceId } : {};
      },
    },
    pino.destination(fd),
  );
}

export type { Logger };
