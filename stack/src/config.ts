/** The local stack's settings: parsed once from the environment, with zod. */
import { availableParallelism } from 'node:os';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { resolve } from 'node:path';
import { z } from 'zod';
import { EnvSchema } from '../../api/src/env.js';
import { loadOrCreateSecrets, PG_ROLES, type RedisUser, type Secrets } from './secrets.js';

export const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url));

/** The shop's database on the local Postgres cluster. */
export const DATABASE_NAME = 'flash_flow';

/** `KEY=value` lines, `#` comments: the env-file format compose and kustomize read. */
export function parseEnvFile(text: string): Record<string, string> {
  const variables: Record<string, string> = {};
  for (const [index, raw] of text.split('\n').entries()) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const match = /^([A-Z][A-Z0-9_]*)=(.*)$/.exec(line);
    if (!match) throw new Error(`env file line ${index + 1} is not KEY=value: ${raw}`);
    variables[match[1]!] = match[2]!;
  }
  return variables;
}

/** What every service gets in every environment (stack/flashflow.env). */
export const SHARED_SERVICE_ENV = parseEnvFile(readFileSync(resolve(REPO_ROOT, 'stack/flashflow.env'), 'utf8'));

const port = z.coerce.number().int().min(1).max(65535);
const MAX_API_REPLICAS = 16;

/**
 * A replica is one Node thread: more replicas than cores only share them, and
 * each then answers fewer requests per wake-up at a higher cost apiece (the
 * capacity benchmark's scaling table).
 */
export const defaultApiReplicas = () => Math.min(MAX_API_REPLICAS, Math.max(2, availableParallelism()));
const flag = z.enum(['true', 'false', '1', '0']).transform((v) => v === 'true' || v === '1');

export const StackSchema = z.object({
  FLASH_STATE_DIR: z.string().default('.flash/shop').describe('where the local stack keeps its data and logs'),
  NGINX_PORT: port.default(8080).describe('the shop’s port'),
  API_REPLICAS: z.coerce
    .number()
    .int()
    .min(1)
    .max(MAX_API_REPLICAS)
    .optional()
    .describe('how many API replicas; unset: one per core (`nproc`), as nginx has a worker per core, and at least two, so one can fail while another serves'),
  API_BASE_PORT: port.default(3001).describe('the first replica’s port; the others follow'),
  REDIS_BASE_PORT: port.default(7001).describe('the first Redis node’s port; six nodes on consecutive ports, each with an address of its own, 127.0.2.1 to 127.0.2.6'),
  PG_PORT: port.default(5433).describe('PostgreSQL'),
  RECONCILER_PORT: port.default(9464).describe('the reconciler’s metrics and probes'),
  PROMETHEUS_PORT: port.default(9090).describe('Prometheus'),
  REDIS_EXPORTER_PORT: port.default(9121).describe('redis_exporter, started with Prometheus'),
  POSTGRES_EXPORTER_PORT: port.default(9187).describe('postgres_exporter, started with Prometheus'),
  NGINX_EXPORTER_PORT: port.default(9113).describe('nginx-prometheus-exporter, started with Prometheus'),
  PROMETHEUS: flag.prefault('true').describe('start Prometheus and its exporters (Redis, Postgres, nginx) when they are installed'),
  OTEL_EXPORTER_OTLP_ENDPOINT: z.url().optional().describe('where traces go (OTLP over HTTP); without it the services load no tracing at all'),
});

/** Settings of the services themselves (api/src/env.ts) that the stack passes on as given: DEMO_SALE, LOG_LEVEL, … */
const SERVICE_VARIABLES = Object.keys(EnvSchema.shape);

export type StackConfig = ReturnType<typeof loadStackConfig>;

export function loadStackConfig(source: NodeJS.ProcessEnv = process.env) {
  const parsed = StackSchema.safeParse(source);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((issue) => `  ${issue.path.join('.')}: ${issue.message}`);
    throw new Error(`Invalid stack settings:\n${lines.join('\n')}`);
  }
  const env = parsed.data;
  // The services parse their own settings; check them now, so a bad one stops the start with its name.
  const passedOn = Object.fromEntries(
    Object.entries(source).filter((entry): entry is [string, string] => SERVICE_VARIABLES.includes(entry[0]) && entry[1] !== undefined),
  );
  const services = EnvSchema.safeParse(passedOn);
  if (!services.success) {
    const lines = services.error.issues.map((issue) => `  ${issue.path.join('.')}: ${issue.message}`);
    throw new Error(`Invalid service settings:\n${lines.join('\n')}`);
  }
  const stateDir = resolve(REPO_ROOT, env.FLASH_STATE_DIR);
  // Six nodes on consecutive ports. Each has a loopback address of its own and
  // makes its own connections from it, so a fault between two nodes can be
  // injected by address (chaos/faults.ts) while clients still reach both.
  const redisNodes = Array.from({ length: 6 }, (_, i) => ({ host: `127.0.2.${i + 1}`, port: env.REDIS_BASE_PORT + i }));
  const apiPorts = Array.from({ length: env.API_REPLICAS ?? defaultApiReplicas() }, (_, i) => env.API_BASE_PORT + i);
  return {
    ...env,
    stateDir,
    logDir: resolve(stateDir, 'logs'),
    redisNodes,
    apiPorts,
    passedOn,
    secretsDir: resolve(stateDir, 'secrets'),
    baseUrl: `http://127.0.0.1:${env.NGINX_PORT}`,
  };
}

/** Who a service process is: what it may do in Redis and Postgres follows from it. */
export type ServiceRole = 'api' | 'reconciler' | 'operator' | 'migrate';

/** This install's passwords (created in the state folder on first use). */
export const stackSecrets = (config: StackConfig): Secrets => loadOrCreateSecrets(config.secretsDir);

/** A Postgres URL for one of the shop's roles on the local cluster. */
export function databaseUrl(config: StackConfig, login: keyof typeof PG_ROLES): string {
  return `postgres://${PG_ROLES[login]}:${stackSecrets(config).postgres[login]}@127.0.0.1:${config.PG_PORT}/${DATABASE_NAME}`;
}

/**
 * The environment a service process gets: the shared file, what the stack
 * was given for the services, the local addresses, and the credentials of
 * its role, and nothing it does not need (an API replica has no Postgres URL).
 */
export function serviceEnv(config: StackConfig, role: ServiceRole): Record<string, string> {
  const { redis } = stackSecrets(config);
  const redisUser = { api: 'api', reconciler: 'reconciler', operator: 'admin', migrate: null }[role] as RedisUser | null;
  const database = { api: null, reconciler: 'reconciler', operator: 'operator', migrate: 'owner' }[role] as
    | 'owner'
    | 'reconciler'
    | 'operator'
    | null;
  return {
    ...SHARED_SERVICE_ENV,
    ...config.passedOn,
    REDIS_NODES: config.redisNodes.map(({ host, port }) => `${host}:${port}`).join(','),
    RECONCILER_PORT: String(config.RECONCILER_PORT),
    ...(redisUser && { REDIS_USERNAME: redisUser, REDIS_PASSWORD: redis[redisUser] }),
    ...(database && { DATABASE_URL: databaseUrl(config, database) }),
    ...(config.OTEL_EXPORTER_OTLP_ENDPOINT
      ? { OTEL_EXPORTER_OTLP_ENDPOINT: config.OTEL_EXPORTER_OTLP_ENDPOINT }
      : { OTEL_SDK_DISABLED: 'true' }),
  };
}
