/**
 * Preloaded with `node --import ./dist/platform/telemetry.js` before any app
 * code, so the http, ioredis and pg modules are instrumented when first
 * loaded. Configured only by the standard OTEL_* variables (for example
 * OTEL_EXPORTER_OTLP_ENDPOINT, OTEL_SERVICE_NAME, OTEL_SDK_DISABLED).
 *
 * With OTEL_SDK_DISABLED=true nothing is loaded at all: instrumentations patch
 * modules as soon as they are constructed, whether or not anything exports,
 * and cost every request CPU and every replica ~60 MB.
 */
let shutdown = async (): Promise<void> => {};

if (process.env.OTEL_SDK_DISABLED !== 'true') {
  const [{ register }, { HttpInstrumentation }, { IORedisInstrumentation }, { PgInstrumentation }, { NodeSDK }] =
    await Promise.all([
      import('node:module'),
      import('@opentelemetry/instrumentation-http'),
      import('@opentelemetry/instrumentation-ioredis'),
      import('@opentelemetry/instrumentation-pg'),
      import('@opentelemetry/sdk-node'),
    ]);
  // The app is ES modules: ioredis and pg are reached through `import`, which
  // only import-in-the-middle's loader hook can instrument.
  register('@opentelemetry/instrumentation/hook.mjs', import.meta.url);
  const sdk = new NodeSDK({
    instrumentations: [
      new HttpInstrumentation({
        ignoreIncomingRequestHook: (req) => req.url === '/metrics',
        // nginx's request id (its access log's requestId), so one purchase is found from the edge to Postgres.
        headersToSpanAttributes: { server: { requestHeaders: ['x-request-id'] } },
      }),
      new IORedisInstrumentation(),
      new PgInstrumentation(),
    ],
  });
  sdk.start();
  shutdown = () => sdk.shutdown();
}

/** Flushes spans on shutdown; an API replica calls it after its server has drained (commands/api.ts). */
export const shutdownTelemetry = (): Promise<void> => shutdown();
