import { z } from 'zod';
import { SaleRequestSchema } from './features/flash-sale/flash-sale.logic.js';
import { FAILPOINTS } from './platform/failpoints.js';

const hostPort = z
  .string()
  .regex(/^[^\s:,]+:\d{1,5}$/, 'expected host:port')
  .transform((value) => {
    const [host, port] = value.split(':') as [string, string];
    return { host, port: Number(port) };
  });

const booleanFlag = z
  .enum(['true', 'false', '1', '0'])
  .transform((value) => value === 'true' || value === '1');

export const EnvSchema = z.object({
  NODE_ENV: z.enum(['development', 'production', 'test']).default('development'),
  PORT: z.coerce.number().int().min(1).max(65535).default(3000),
  HOST: z.string().default('127.0.0.1'),
  /** Seed nodes of the Redis Cluster; the client discovers the rest. */
  REDIS_NODES: z
    .string()
    .default('127.0.2.1:7001,127.0.2.2:7002,127.0.2.3:7003')
    .transform((value) => value.split(',').map((node) => node.trim()))
    .pipe(z.array(hostPort).min(1)),
  REDIS_COMMAND_TIMEOUT_MS: z.coerce.number().int().positive().default(1000),
  DATABASE_URL: z.url().default('postgres://flash:flash@127.0.0.1:5433/flash_flow'),
  PG_POOL_MAX: z.coerce.number().int().positive().default(10),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  /** Time between SIGTERM and a forced exit if draining hangs. */
  SHUTDOWN_GRACE_MS: z.coerce.number().int().positive().default(10_000),
  /** The reconciler serves /metrics and /healthz here. */
  RECONCILER_PORT: z.coerce.number().int().min(1).max(65535).default(9464),
  /** An entry pending this long on a consumer is presumed orphaned and reclaimed. */
  RECONCILER_CLAIM_IDLE_MS: z.coerce.number().int().positive().default(5000),
  RECONCILER_BATCH_SIZE: z.coerce.number().int().positive().max(10_000).default(500),
  /** Pause between passes when nothing was new: bounds reconcile lag and idle CPU. */
  RECONCILER_IDLE_POLL_MS: z.coerce.number().int().positive().default(50),
  /**
   * Replicas that must hold a purchase before a shopper is told it is theirs
   * (0: trust the primary's disk alone). Each primary has this many replicas
   * and refuses writes without them (min-replicas-to-write in redis-node.conf).
   */
  REDIS_MIN_REPLICA_ACKS: z.coerce.number().int().min(0).max(5).default(1),
  /** How long that check waits for the replicas before the shopper gets 503 (retrying is safe). */
  REDIS_REPLICA_ACK_TIMEOUT_MS: z.coerce.number().int().positive().default(500),
  /** Purchase attempts one buyer may make per window, whatever address they come from. */
  BUYER_ATTEMPT_LIMIT: z.coerce.number().int().positive().default(10),
  BUYER_ATTEMPT_WINDOW_MS: z.coerce.number().int().positive().default(10_000),
  /**
   * An API request not answered within this is answered 503 (retrying is
   * safe). Under nginx's proxy_read_timeout (5 s), so nginx never gives up first.
   */
  REQUEST_DEADLINE_MS: z.coerce.number().int().positive().default(3_000),
  /** Trust the X-Request-Id set by nginx as the correlation id. */
  TRUST_REQUEST_ID: booleanFlag.default(true),
  /** `sale ensure` creates this demo sale when the shop has no sale at all; false: none. */
  DEMO_SALE: booleanFlag.default(true),
  DEMO_SALE_STOCK: SaleRequestSchema.shape.stock.prefault('100'),
  DEMO_SALE_STARTS_IN: SaleRequestSchema.shape.startsInMs.prefault('1m'),
  DEMO_SALE_DURATION: SaleRequestSchema.shape.durationMs.prefault('1h'),
  DEMO_SALE_PRODUCT: SaleRequestSchema.shape.productName,
  /** Fault suite only: crash at this step (platform/failpoints.ts). */
  FLASH_FAILPOINT: z.enum(FAILPOINTS).optional(),
});

export type Env = z.infer<typeof EnvSchema>;

/** Parses the environment once, at the edge; on failure prints every bad key and exits. */
export function loadEnv(source: NodeJS.ProcessEnv = process.env): Env {
  const parsed = EnvSchema.safeParse(source);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((issue) => `  ${issue.path.join('.')}: ${issue.message}`);
    process.stderr.write(`Invalid environment:\n${lines.join('\n')}\n`);
    process.exit(78); // EX_CONFIG
  }
  return parsed.data;
}
