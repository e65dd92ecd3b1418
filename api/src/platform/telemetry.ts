/**
 * Preloaded with `node --import ./dist/platform/telemetry.js` before any app
 * code, so the http, ioredis and pg modules are instrumented when first
 * loaded. Configured only by the standard OTEL_* variables (for example
 * OTEL_EXPORTER_OTLP_ENDPOINT, OTEL_SERVICE_NAME, OTEL_SDK_DISABLED).
 */
import { register } from 'node:module';
import { HttpInstrumentation } from '@opentelemetry/instrumentation-http';
import { IORedisInstrumentation } from '@opentelemetry/instrumentation-ioredis';
import { PgInstrumentation } from '@opentelemetry/instrumentation-pg';
import { NodeSDK } from '@opentelemetry/sdk-node';

// The app is ES modules: ioredis and pg are reached through `import`, which
// only import-in-the-middle's loader hook can instrument.
register('@opentelemetry/instrumentation/hook.mjs', import.meta.url);

const sdk = new NodeSDK({
  instrumentations: [
    new HttpInstrumentation({ ignoreIncomingRequestHook: (req) => req.url === '/metrics' }),
    new IORedisInstrumentation(),
    new PgInstrumentation(),
  ],
});
sdk.start();

/** Flushes spans on shutdown; main.ts calls it after the server has drained. */
export const shutdownTelemetry = (): Promise<void> => sdk.shutdown();
