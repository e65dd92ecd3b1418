/**
 * `npm run secrets -- compose | k8s [--rotate]`: makes the passwords for a
 * docker-compose or Kubernetes shop, outside git (.secrets/ is ignored), and
 * the files those environments read them from. Existing secrets are kept
 * unless --rotate is given. Nothing secret is printed.
 *
 *   compose  .secrets/compose/redis/   the ACL file, the nodes' secrets conf and
 *                                      the health check's password, mounted
 *                                      read-only into every Redis container
 *            .env                      the passwords and connection URLs that
 *                                      docker-compose.yml interpolates
 *   k8s      .secrets/k8s/secrets.yaml the Secrets the manifests reference:
 *                                      kubectl apply -f .secrets/k8s/secrets.yaml
 */
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { stringify } from 'yaml';
import { DATABASE_NAME, REPO_ROOT } from './config.js';
import { loadOrCreateSecrets, PG_ROLES, renderRedisAcl, renderRedisSecretsConf, type Secrets } from './secrets.js';

/** Where Redis containers find the secrets (compose mounts, k8s Secret volumes). */
export const REDIS_SECRETS_MOUNT = '/etc/flashflow/secrets';

const say = (line: string) => process.stdout.write(`${line}\n`);

function writeSecretFile(path: string, content: string) {
  writeFileSync(path, content, { mode: 0o600 });
}

/** The files a Redis node reads its users and its replication login from. */
function redisFiles(secrets: Secrets): Record<string, string> {
  return {
    'redis-users.acl': renderRedisAcl(secrets),
    'redis-secrets.conf': renderRedisSecretsConf(secrets, `${REDIS_SECRETS_MOUNT}/redis-users.acl`),
    // For the cluster's own scripts (redis-cluster.sh) and health checks, which log in as these users.
    'admin.password': `${secrets.redis.admin}\n`,
    'exporter.password': `${secrets.redis.exporter}\n`,
  };
}

/** Every credential the services and Postgres take from their environment, by variable name. */
export function credentialVariables(secrets: Secrets, postgresHost: string): Record<string, string> {
  const url = (login: 'owner' | 'reconciler' | 'operator') =>
    `postgres://${PG_ROLES[login]}:${secrets.postgres[login]}@${postgresHost}:5432/${DATABASE_NAME}`;
  return {
    FLASHFLOW_REDIS_API_PASSWORD: secrets.redis.api,
    FLASHFLOW_REDIS_RECONCILER_PASSWORD: secrets.redis.reconciler,
    FLASHFLOW_REDIS_ADMIN_PASSWORD: secrets.redis.admin,
    FLASHFLOW_REDIS_EXPORTER_PASSWORD: secrets.redis.exporter,
    FLASHFLOW_POSTGRES_SUPERUSER_PASSWORD: secrets.postgres.superuser,
    FLASHFLOW_POSTGRES_OWNER_PASSWORD: secrets.postgres.owner,
    FLASHFLOW_POSTGRES_RECONCILER_PASSWORD: secrets.postgres.reconciler,
    FLASHFLOW_POSTGRES_OPERATOR_PASSWORD: secrets.postgres.operator,
    FLASHFLOW_POSTGRES_MONITOR_PASSWORD: secrets.postgres.monitor,
    FLASHFLOW_DATABASE_URL_OWNER: url('owner'),
    FLASHFLOW_DATABASE_URL_RECONCILER: url('reconciler'),
    FLASHFLOW_DATABASE_URL_OPERATOR: url('operator'),
    FLASHFLOW_GRAFANA_ADMIN_PASSWORD: secrets.grafana.admin,
  };
}

function compose(dir: string, secrets: Secrets) {
  // The Redis containers run as their image's redis user, so their files are
  // readable by all inside a folder that .secrets/ (0700) keeps from others.
  const redisDir = join(dir, 'redis');
  mkdirSync(redisDir, { recursive: true, mode: 0o755 });
  for (const [file, content] of Object.entries(redisFiles(secrets))) writeFileSync(join(redisDir, file), content, { mode: 0o644 });
  const env = Object.entries(credentialVariables(secrets, 'postgres'))
    .map(([name, value]) => `${name}=${value}`)
    .join('\n');
  writeSecretFile(join(REPO_ROOT, '.env'), `# Written by npm run secrets -- compose. Never commit it (.gitignore).\n${env}\n`);
  say(`wrote ${redisDir} and .env; docker compose up reads them`);
}

function k8s(dir: string, secrets: Secrets) {
  const secret = (name: string, stringData: Record<string, string>) => ({
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name, namespace: 'flash-flow', labels: { 'app.kubernetes.io/part-of': 'flash-flow' } },
    type: 'Opaque',
    stringData,
  });
  const documents = [
    secret('flashflow-redis-users', redisFiles(secrets)),
    secret('flashflow-credentials', credentialVariables(secrets, 'postgres')),
  ];
  const file = join(dir, 'secrets.yaml');
  writeSecretFile(file, documents.map((document) => stringify(document)).join('---\n'));
  say(`wrote ${file}; apply it before the manifests: kubectl apply -f ${file}`);
}

const { values, positionals } = parseArgs({ allowPositionals: true, options: { rotate: { type: 'boolean' } } });
const target = positionals[0];
if (target !== 'compose' && target !== 'k8s') {
  process.stderr.write('usage: npm run secrets -- compose | k8s [--rotate]\n');
  process.exit(2);
}
const dir = join(REPO_ROOT, '.secrets', target);
if (values.rotate && existsSync(dir)) rmSync(dir, { recursive: true });
mkdirSync(join(REPO_ROOT, '.secrets'), { recursive: true, mode: 0o700 });
mkdirSync(dir, { recursive: true, mode: 0o700 });
const secrets = loadOrCreateSecrets(dir);
if (target === 'compose') compose(dir, secrets);
else k8s(dir, secrets);
