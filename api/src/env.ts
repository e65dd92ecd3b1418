/**
 * The services' settings, parsed once at the edge (flashflow.ts). Each one's
 * default and meaning are written here only: the README's table is generated
 * from this schema (npm run generate).
 */
import { z } from 'zod';
import { DEFAULT_PRODUCT, SaleRequestSchema } from './features/flash-sale/flash-sale.logic.js';
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

const port = z.coerce.number().int().min(1).max(65535);
const milliseconds = z.coerce.number().int().positive();

export const EnvSchema = z.object({
  NODE_ENV: z.enum(['development', 'production', 'test']).default('development').describe('`production` in every environment (stack/flashflow.env)'),
  HOST: z.string().default('127.0.0.1').describe('the address the API replicas and the reconciler listen on (`0.0.0.0` in containers)'),
  PORT: port.default(3000).describe('an API replica’s port'),
  RECONCILER_PORT: port.default(9464).describe('the reconciler’s `/metrics`, `/healthz` and `/readyz`'),
  REDIS_NODES: z
    .string()
    .default('127.0.2.1:7001,127.0.2.2:7002,127.0.2.3:7003')
    .transform((value) => value.split(',').map((node) => node.trim()))
    .pipe(z.array(hostPort).min(1))
    .describe('seed nodes of the Redis Cluster, `host:port,…`; the client discovers the rest'),
  REDIS_USERNAME: z
    .string()
    .regex(/^[a-z][a-z0-9-]*$/, 'must be a Redis user name (lower-case letters, digits, dashes)')
    .optional()
    .describe('the Redis user this process logs in as (its ACL says what it may do); unset: none'),
  REDIS_PASSWORD: z
    .string()
    .regex(/^[\x21-\x7e]{16,}$/, 'must be at least 16 printable characters, without spaces')
    .optional()
    .describe('that user’s password (a secret: from the state folder, an untracked env file or a Secret, never from git)'),
  REDIS_COMMAND_TIMEOUT_MS: milliseconds.default(1_000).describe('a Redis command not answered within this fails (the shopper gets 503)'),
  REDIS_MIN_REPLICA_ACKS: z.coerce
    .number()
    .int()
    .min(0)
    .max(5)
    .default(1)
    .describe(
      'replicas that must hold a purchase before a shopper is told it is theirs: the replicas each primary has, and its `min-replicas-to-write` (0 trusts the primary’s disk alone)',
    ),
  REDIS_REPLICA_ACK_TIMEOUT_MS: milliseconds.default(500).describe('how long that check waits for them before the shopper gets 503 (retrying is safe)'),
  REQUEST_DEADLINE_MS: milliseconds
    .default(3_000)
    .describe('every API request is answered within this, with 503 if need be, counted for a purchase from when nginx received it; under nginx’s `proxy_read_timeout` (5 s)'),
  ADMISSION_QUEUE_LIMIT_MS: milliseconds
    .default(2_000)
    .describe(
      'a purchase that waited longer than this since nginx received it (`X-Request-Start`) is answered 503 with Retry-After at once, instead of asking Redis: the replicas are behind (docs/adr/0005-admission.md); under `REQUEST_DEADLINE_MS`',
    ),
  BUYER_ATTEMPT_LIMIT: z.coerce.number().int().positive().default(10).describe('purchase attempts one buyer may make per window, from any address'),
  BUYER_ATTEMPT_WINDOW_MS: milliseconds.default(10_000).describe('that window'),
  TRUST_REQUEST_ID: booleanFlag.prefault('true').describe('take nginx’s `X-Request-Id` as the correlation id'),
  DATABASE_URL: z
    .url({ protocol: /^postgres(ql)?$/, error: 'must be a postgres:// URL' })
    .optional()
    .describe('Postgres, with the role and password of this process, for the reconciler, `migrate` and the sale command (API replicas have none)'),
  PG_POOL_MAX: z.coerce.number().int().positive().default(10).describe('the reconciler’s Postgres connections'),
  RECONCILER_CLAIM_IDLE_MS: milliseconds.default(5_000).describe('an entry pending this long on another consumer is presumed orphaned and reclaimed'),
  RECONCILER_BATCH_SIZE: z.coerce.number().int().positive().max(10_000).default(500).describe('stream entries persisted per transaction'),
  RECONCILER_IDLE_WAIT_MS: milliseconds
    .default(1_000)
    .describe('after a pass that found nothing, the reconciler blocks on the current sale’s stream until a purchase arrives or this passes (closing sales are checked this often)'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info').describe('pino level'),
  SHUTDOWN_GRACE_MS: milliseconds.default(10_000).describe('from SIGTERM to a forced exit, if draining hangs'),
  DEMO_SALE: booleanFlag.prefault('true').describe('`sale ensure` (every start) creates a demo sale when the shop has no sale at all'),
  DEMO_SALE_STOCK: SaleRequestSchema.shape.stock.prefault('100').describe('its stock'),
  DEMO_SALE_STARTS_IN: SaleRequestSchema.shape.startsInMs.prefault('1m').describe('when it starts, from its creation'),
  DEMO_SALE_DURATION: SaleRequestSchema.shape.durationMs.prefault('1h').describe('how long it lasts'),
  DEMO_SALE_PRODUCT: SaleRequestSchema.shape.productName.prefault(DEFAULT_PRODUCT).describe('its product'),
  FLASH_FAILPOINT: z.enum(FAILPOINTS).optional().describe('fault suite only: crash at this step (api/src/platform/failpoints.ts)'),
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
