/** The local stack's settings: parsed once from the environment, with zod. */
import { fileURLToPath } from 'node:url';
import { resolve } from 'node:path';
import { z } from 'zod';

export const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url));

const port = z.coerce.number().int().min(1).max(65535);
const flag = z.enum(['true', 'false', '1', '0']).transform((v) => v === 'true' || v === '1');

const StackSchema = z.object({
  FLASH_STATE_DIR: z.string().default('.flash/shop'),
  NGINX_PORT: port.default(8080),
  API_REPLICAS: z.coerce.number().int().min(1).max(16).default(3),
  API_BASE_PORT: port.default(3001),
  REDIS_BASE_PORT: port.default(7001),
  PG_PORT: port.default(5433),
  RECONCILER_PORT: port.default(9464),
  PROMETHEUS_PORT: port.default(9090),
  /** redis_exporter, started with Prometheus. */
  REDIS_EXPORTER_PORT: port.default(9121),
  /** Prometheus (and redis_exporter) are started when installed; set false to skip them. */
  PROMETHEUS: flag.default(true),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  /** Create a demo sale at start when no sale exists yet. */
  DEMO_SALE: flag.default(true),
  DEMO_SALE_STOCK: z.coerce.number().int().positive().default(100),
  DEMO_SALE_STARTS_IN: z.string().default('1m'),
  DEMO_SALE_DURATION: z.string().default('1h'),
  DEMO_SALE_PRODUCT: z.string().default('Limited Edition Widget'),
  /** OTLP endpoint for traces; without one the SDK is disabled locally. */
  OTEL_EXPORTER_OTLP_ENDPOINT: z.url().optional(),
});

export type StackConfig = ReturnType<typeof loadStackConfig>;

export function loadStackConfig(source: NodeJS.ProcessEnv = process.env) {
  const parsed = StackSchema.safeParse(source);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((issue) => `  ${issue.path.join('.')}: ${issue.message}`);
    throw new Error(`Invalid stack settings:\n${lines.join('\n')}`);
  }
  const env = parsed.data;
  const stateDir = resolve(REPO_ROOT, env.FLASH_STATE_DIR);
  // Six nodes on consecutive ports. Each has a loopback address of its own and
  // makes its own connections from it, so a fault between two nodes can be
  // injected by address (chaos/faults.ts) while clients still reach both.
  const redisNodes = Array.from({ length: 6 }, (_, i) => ({ host: `127.0.2.${i + 1}`, port: env.REDIS_BASE_PORT + i }));
  const apiPorts = Array.from({ length: env.API_REPLICAS }, (_, i) => env.API_BASE_PORT + i);
  return {
    ...env,
    stateDir,
    logDir: resolve(stateDir, 'logs'),
    redisNodes,
    apiPorts,
    databaseUrl: `postgres://flash:flash@127.0.0.1:${env.PG_PORT}/flash_flow`,
    baseUrl: `http://127.0.0.1:${env.NGINX_PORT}`,
  };
}

/** The environment every API replica, the reconciler and the sale command get. */
export function serviceEnv(config: StackConfig): Record<string, string> {
  return {
    NODE_ENV: 'production',
    REDIS_NODES: config.redisNodes.map(({ host, port }) => `${host}:${port}`).join(','),
    DATABASE_URL: config.databaseUrl,
    RECONCILER_PORT: String(config.RECONCILER_PORT),
    LOG_LEVEL: config.LOG_LEVEL,
    // Traces only: metrics go to Prometheus, logs to files.
    ...(config.OTEL_EXPORTER_OTLP_ENDPOINT
      ? {
          OTEL_EXPORTER_OTLP_ENDPOINT: config.OTEL_EXPORTER_OTLP_ENDPOINT,
          OTEL_METRICS_EXPORTER: 'none',
          OTEL_LOGS_EXPORTER: 'none',
        }
      : { OTEL_SDK_DISABLED: 'true' }),
  };
}
