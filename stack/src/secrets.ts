/**
 * The shop's passwords: generated once per install, kept only where the
 * environment keeps its data (the local stack's state folder, mode 0600; for
 * docker-compose and k8s, `npm run secrets` writes them outside git), and
 * never printed. Everything derived from them (the Redis ACL file, the
 * replicas' masterauth, the services' connection settings) is rendered here.
 */
import { createHash, randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { REPO_ROOT } from './config.js';

/** Who logs in to what: one password each. */
const SecretsSchema = z.object({
  redis: z.object({
    admin: z.string().min(32),
    replicator: z.string().min(32),
    api: z.string().min(32),
    reconciler: z.string().min(32),
    exporter: z.string().min(32),
  }),
  postgres: z.object({
    /** The cluster's superuser (`postgres`): the stack's own setup only. */
    superuser: z.string().min(32),
    /** Owns the schema and runs the migrations. */
    owner: z.string().min(32),
    reconciler: z.string().min(32),
    /** The sale command. */
    operator: z.string().min(32),
    /** postgres_exporter: Postgres's statistics (pg_monitor), no table. */
    monitor: z.string().min(32),
  }),
  /** Grafana's admin (docker-compose and k8s; the local stack runs no Grafana). */
  grafana: z.object({ admin: z.string().min(32) }),
});

export type Secrets = z.infer<typeof SecretsSchema>;
export type RedisUser = keyof Secrets['redis'];

/** The Postgres roles each login is, as migrations/ grants them rights. */
export const PG_ROLES = {
  owner: 'flashflow_owner',
  reconciler: 'flashflow_reconciler',
  operator: 'flashflow_operator',
  monitor: 'flashflow_monitor',
} as const;

/** 32 random bytes, URL-safe: fits a URL, an env file and a Redis ACL line without quoting. */
const password = () => randomBytes(32).toString('base64url');

export function generateSecrets(): Secrets {
  return {
    redis: { admin: password(), replicator: password(), api: password(), reconciler: password(), exporter: password() },
    postgres: { superuser: password(), owner: password(), reconciler: password(), operator: password(), monitor: password() },
    grafana: { admin: password() },
  };
}

/** Reads the secrets kept in `dir`, or creates them there on first use (the folder 0700, the file 0600). */
export function loadOrCreateSecrets(dir: string): Secrets {
  const file = join(dir, 'secrets.json');
  if (existsSync(file)) {
    const stored = JSON.parse(readFileSync(file, 'utf8')) as { postgres?: Record<string, string> };
    // A login this version added gets its password now; the others stay as they are.
    const added = stored.postgres !== undefined && stored.postgres.monitor === undefined;
    if (added) stored.postgres!.monitor = password();
    const parsed = SecretsSchema.safeParse(stored);
    if (!parsed.success) throw new Error(`${file} is not a secrets file this version understands; move it away to make new secrets`);
    if (added) writeFileSync(file, `${JSON.stringify(parsed.data, null, 2)}\n`, { mode: 0o600 });
    return parsed.data;
  }
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  chmodSync(dir, 0o700);
  const secrets = generateSecrets();
  writeFileSync(file, `${JSON.stringify(secrets, null, 2)}\n`, { mode: 0o600 });
  return secrets;
}

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

/** stack/redis/users.acl.template with this install's password hashes; comments dropped (ACL files take none). */
export function renderRedisAcl(secrets: Secrets): string {
  const template = readFileSync(join(REPO_ROOT, 'stack/redis/users.acl.template'), 'utf8');
  const hashes: Record<string, string> = Object.fromEntries(
    Object.entries(secrets.redis).map(([user, secret]) => [`${user.toUpperCase()}_SHA256`, sha256(secret)]),
  );
  return `${template
    .split('\n')
    .filter((line) => line.trim() !== '' && !line.trim().startsWith('#'))
    .map((line) =>
      line.replace(/\$\{([A-Z]+_SHA256)\}/g, (_, name: string) => {
        const hash = hashes[name];
        if (!hash) throw new Error(`users.acl.template names ${name}, which has no password`);
        return hash;
      }),
    )
    .join('\n')}\n`;
}

/**
 * What a node adds to redis-node.conf: its users, and how a replica logs in
 * to its primary. Kept in a file (not on the command line, where `ps` shows it).
 */
export function renderRedisSecretsConf(secrets: Secrets, aclPath: string): string {
  return [
    `aclfile ${aclPath}`,
    'masteruser replicator',
    `masterauth ${secrets.redis.replicator}`,
    '',
  ].join('\n');
}
