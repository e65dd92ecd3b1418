/** Each part of the local stack: how it is configured, started and judged ready. */
import { chmodSync, chownSync, copyFileSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT, databaseUrl, serviceEnv, stackSecrets, type StackConfig } from './config.js';
import { apiUpstreamServers } from './nginx-config.js';
import { waitUntil, type Supervisor } from './processes.js';
import { renderRedisAcl, renderRedisSecretsConf, type Secrets } from './secrets.js';
import { makeTraversable, postgresBinDir, run, runWithInput, userIds } from './system.js';

type Report = (line: string) => void;

const REDIS_NODE_CONF = join(REPO_ROOT, 'stack/redis/redis-node.conf');
/**
 * Persistence is off the shopper's path (a 201 is promised once Redis replicas
 * hold it), so on a machine short of CPU the reconciler and Postgres yield to
 * nginx, the replicas and Redis, and catch up after. Under 5× overload this
 * took the kernel's dropped connection attempts from thousands to none
 * (docs/adr/0005-admission.md, "Background work at a lower CPU priority").
 * In Kubernetes each runs in a pod of its own, with its own CPU request.
 */
export const BACKGROUND_NICENESS = 10;

export async function startRedisCluster(config: StackConfig, supervisor: Supervisor, report: Report) {
  // Users and passwords live in the state folder (0700): the ACL file with
  // hashes, and the replicas' login, which redis-node.conf includes.
  const secrets = stackSecrets(config);
  const aclFile = join(config.secretsDir, 'redis-users.acl');
  const secretsConf = join(config.secretsDir, 'redis-secrets.conf');
  writeFileSync(aclFile, renderRedisAcl(secrets), { mode: 0o600 });
  writeFileSync(secretsConf, renderRedisSecretsConf(secrets, aclFile), { mode: 0o600 });
  const admin = adminCli(config);
  for (const node of config.redisNodes) {
    const dir = join(config.stateDir, 'redis', String(node.port));
    mkdirSync(dir, { recursive: true });
    supervisor.start({
      name: redisServiceName(node),
      command: 'redis-server',
      args: [
        REDIS_NODE_CONF,
        '--port', String(node.port),
        '--dir', dir,
        '--bind', node.host,
        '--cluster-announce-ip', node.host,
        '--bind-source-addr', node.host,
        '--include', secretsConf,
      ],
      // A node that dies comes back from its AOF and rejoins, as a StatefulSet
      // would bring it back: a primary left without its replica refuses writes
      // (min-replicas-to-write), so the shard needs it back to sell again.
      restart: true,
    });
  }
  for (const node of config.redisNodes) {
    await waitUntil(() => admin(node, 'PING').then((r) => r.trim() === 'PONG'), 20_000, `redis on ${node.host}:${node.port}`);
  }

  const first = config.redisNodes[0]!;
  const info = await admin(first, 'CLUSTER', 'INFO');
  if (/cluster_slots_assigned:0\b/.test(info) && /cluster_known_nodes:1\b/.test(info)) {
    report('  forming the cluster: 3 primaries, 3 replicas');
    await run(
      'redis-cli',
      ['--user', 'admin', '--cluster', 'create', ...config.redisNodes.map(({ host, port }) => `${host}:${port}`), '--cluster-replicas', '1', '--cluster-yes'],
      { env: { REDISCLI_AUTH: secrets.redis.admin } },
    );
  } else {
    report('  cluster already formed: resuming with its data');
  }
  for (const node of config.redisNodes) {
    await waitUntil(
      () => admin(node, 'CLUSTER', 'INFO').then((r) => r.includes('cluster_state:ok')),
      60_000,
      `cluster state ok on ${node.host}:${node.port}`,
    );
  }
  // Primaries accept writes only with a replica in sync (min-replicas-to-write).
  for (const node of config.redisNodes) {
    await waitUntil(
      async () => {
        const replication = await admin(node, 'INFO', 'replication');
        if (replication.includes('role:slave')) return /master_link_status:up/.test(replication);
        return /slave\d+:[^\n]*state=online/.test(replication);
      },
      60_000,
      `${node.host}:${node.port} to be in sync with its replica or primary`,
    );
  }
}

/** The supervisor's name for a Redis node (its log file and pid file are named after it). */
export const redisServiceName = (node: { port: number }) => `redis-${node.port}`;

/** redis-cli as the admin user; the password goes in the environment (REDISCLI_AUTH), never on a command line. */
function adminCli(config: StackConfig) {
  const { admin } = stackSecrets(config).redis;
  return (node: { host: string; port: number }, ...args: string[]) =>
    run('redis-cli', ['--user', 'admin', '-h', node.host, '-p', String(node.port), ...args], { env: { REDISCLI_AUTH: admin } });
}

export async function startPostgres(config: StackConfig, supervisor: Supervisor, report: Report) {
  const bin = postgresBinDir();
  const { uid, gid } = await userIds('postgres');
  const root = join(config.stateDir, 'postgres');
  const dataDir = join(root, 'data');
  const socketDir = join(root, 'run');
  for (const dir of [root, socketDir]) {
    mkdirSync(dir, { recursive: true });
    chownSync(dir, uid, gid);
  }
  makeTraversable(root, report);

  const { postgres: passwords } = stackSecrets(config);
  if (!existsSync(join(dataDir, 'PG_VERSION'))) {
    report('  initialising a new database cluster');
    // The superuser's password is read from a file that only postgres can read, then removed.
    const pwfile = join(root, 'superuser.pw');
    writeFileSync(pwfile, `${passwords.superuser}\n`, { mode: 0o600 });
    chownSync(pwfile, uid, gid);
    try {
      await run(
        join(bin, 'initdb'),
        ['-D', dataDir, '-U', 'postgres', '-E', 'UTF8', '--no-locale', '--auth-local=scram-sha-256', '--auth-host=scram-sha-256', `--pwfile=${pwfile}`],
        { uid, gid, cwd: root },
      );
    } finally {
      rmSync(pwfile, { force: true });
    }
  }
  // The socket is for postgres alone (and root); everyone else comes by TCP with a password.
  chmodSync(socketDir, 0o700);
  supervisor.start({
    name: 'postgres',
    niceness: BACKGROUND_NICENESS,
    command: join(bin, 'postgres'),
    args: [
      '-D', dataDir,
      '-p', String(config.PG_PORT),
      '-k', socketDir,
      '-c', 'listen_addresses=127.0.0.1',
      '-c', 'max_connections=200',
    ],
    cwd: root,
    uid,
    gid,
    // SIGINT is PostgreSQL's "fast" shutdown: roll back open work and stop now.
    stopSignal: 'SIGINT',
  });
  const sql = (database: string, text: string) =>
    runWithInput(join(bin, 'psql'), ['-h', socketDir, '-p', String(config.PG_PORT), '-U', 'postgres', '-d', database, '-v', 'ON_ERROR_STOP=1', '-tA', '-f', '-'], text, {
      uid,
      gid,
      cwd: root,
      env: { PGPASSWORD: passwords.superuser },
    });
  await waitUntil(() => sql('postgres', 'SELECT 1'), 30_000, 'postgres to accept connections');
  await sql('postgres', provisioningSql(passwords));
  // Only now, so that a cluster made by an older version (trusting the socket,
  // its superuser without a password) could be given its passwords first.
  if (writeHba(dataDir)) await sql('postgres', 'SELECT pg_reload_conf()');
}

/**
 * No `trust` anywhere. Over TCP everyone gives a password. On the socket,
 * which only the postgres OS user can reach (its folder is 0700), that user
 * is the superuser by `peer` (so the stack can always set the passwords,
 * rotated ones too); anyone else there gives a password. True when changed.
 */
function writeHba(dataDir: string): boolean {
  const file = join(dataDir, 'pg_hba.conf');
  const wanted = [
    '# Written by the local stack (stack/src/services.ts).',
    'local all postgres peer',
    'local all all scram-sha-256',
    'host all all 127.0.0.1/32 scram-sha-256',
    '',
  ].join('\n');
  if (readFileSync(file, 'utf8') === wanted) return false;
  writeFileSync(file, wanted);
  return true;
}

const ROLES_SQL = join(REPO_ROOT, 'stack/postgres/roles.sql');

/**
 * The superuser's password, then stack/postgres/roles.sql (shared with
 * docker-compose and k8s) with this install's passwords as psql variables:
 * all on stdin.
 */
function provisioningSql(passwords: Secrets['postgres']) {
  return [
    `ALTER ROLE postgres PASSWORD '${passwords.superuser}';`,
    `\\set owner_password '${passwords.owner}'`,
    `\\set reconciler_password '${passwords.reconciler}'`,
    `\\set operator_password '${passwords.operator}'`,
    `\\set monitor_password '${passwords.monitor}'`,
    readFileSync(ROLES_SQL, 'utf8'),
  ].join('\n');
}

/** The one launcher of every Node process (api/bin/flashflow): the images, compose, k8s and Tilt run it too. */
export const FLASHFLOW = join(REPO_ROOT, 'api/bin/flashflow');

/** The operator command, as the operator (its own Redis user and Postgres role). */
export function saleCommand(config: StackConfig, args: string[]) {
  return run(FLASHFLOW, ['sale', ...args], { env: serviceEnv(config, 'operator'), cwd: REPO_ROOT });
}

/** The schema migrations, as the owner of the schema, then the current sale, as the operator. */
export async function prepareSale(config: StackConfig, report: Report) {
  await run(FLASHFLOW, ['migrate'], { env: serviceEnv(config, 'migrate'), cwd: REPO_ROOT });
  const result = JSON.parse(await saleCommand(config, ['ensure'])) as { saleId: string | null; created: boolean };
  if (!result.saleId) report('  no sale yet (DEMO_SALE=false): create one with npm run sale -- create …');
  else if (result.created) report(`  created the demo sale ${result.saleId}`);
  else report(`  resuming sale ${result.saleId}`);
}

export async function startReconciler(config: StackConfig, supervisor: Supervisor) {
  supervisor.start({
    name: 'reconciler',
    niceness: BACKGROUND_NICENESS,
    command: FLASHFLOW,
    args: ['reconciler'],
    env: { ...serviceEnv(config, 'reconciler'), OTEL_SERVICE_NAME: 'flashflow-reconciler' },
    cwd: REPO_ROOT,
    restart: true,
  });
  await waitUntil(
    () => fetch(`http://127.0.0.1:${config.RECONCILER_PORT}/healthz`).then((r) => r.ok),
    30_000,
    'the reconciler',
  );
}

export async function startApiReplicas(config: StackConfig, supervisor: Supervisor) {
  for (const port of config.apiPorts) {
    supervisor.start({
      name: `api-${port}`,
      command: FLASHFLOW,
      args: ['api'],
      env: { ...serviceEnv(config, 'api'), PORT: String(port), OTEL_SERVICE_NAME: 'flashflow-api' },
      cwd: REPO_ROOT,
      restart: true,
    });
  }
  for (const port of config.apiPorts) {
    await waitUntil(() => fetch(`http://127.0.0.1:${port}/readyz`).then((r) => r.ok), 30_000, `API replica on port ${port}`);
  }
}

/** Renders nginx/templates/*.template the way the nginx image's envsubst does. */
/** Where the local nginx serves stub_status (the site's last server block). */
export const nginxStatusSocket = (config: StackConfig) => join(config.stateDir, 'nginx', 'status.sock');

export function renderTemplate(template: string, values: Record<string, string>): string {
  return template.replace(/\$\{([A-Z0-9_]+)\}/g, (match, name: string) => values[name] ?? match);
}

export async function startNginx(config: StackConfig, supervisor: Supervisor, report: Report) {
  const root = join(config.stateDir, 'nginx');
  const cacheDir = join(root, 'cache');
  const tempDir = join(root, 'tmp');
  const worker = await userIds('www-data').then(() => 'www-data').catch(() => 'nobody');
  const { uid, gid } = await userIds(worker);
  for (const dir of [root, cacheDir, tempDir]) {
    mkdirSync(dir, { recursive: true });
    chownSync(dir, uid, gid);
  }
  makeTraversable(join(REPO_ROOT, 'web/dist/index.html'), report);
  makeTraversable(join(REPO_ROOT, 'nginx/snippets/proxy-to-api.conf'), report);

  const site = renderTemplate(readFileSync(join(REPO_ROOT, 'nginx/templates/flash-flow.conf.template'), 'utf8'), {
    NGINX_PORT: String(config.NGINX_PORT),
    API_UPSTREAM_SERVERS: apiUpstreamServers(config.apiPorts.map((port) => `127.0.0.1:${port}`)),
    WEB_ROOT: join(REPO_ROOT, 'web/dist'),
    NGINX_CACHE_DIR: cacheDir,
    NGINX_CONF_DIR: join(REPO_ROOT, 'nginx'),
    NGINX_STATUS_SOCKET: nginxStatusSocket(config),
  });
  writeFileSync(join(root, 'flash-flow.conf'), site);
  writeFileSync(
    join(root, 'nginx.conf'),
    renderTemplate(readFileSync(join(REPO_ROOT, 'nginx/nginx.conf.template'), 'utf8'), {
      NGINX_USER_DIRECTIVE: `user ${worker};`,
      NGINX_PID_FILE: join(root, 'nginx.pid'),
      NGINX_ERROR_LOG: join(config.logDir, 'nginx-error.log'),
      NGINX_TEMP_DIR: tempDir,
      NGINX_SITE_CONF: join(root, 'flash-flow.conf'),
      NGINX_ACCESS_LOG: join(config.logDir, 'nginx-access.log'),
    }),
  );
  const args = ['-p', root, '-c', join(root, 'nginx.conf'), '-e', join(config.logDir, 'nginx-error.log')];
  await run('nginx', [...args, '-t', '-q']);
  // SIGQUIT: finish the requests in flight, then stop.
  supervisor.start({ name: 'nginx', command: 'nginx', args: [...args, '-g', 'daemon off;'], stopSignal: 'SIGQUIT' });
  await waitUntil(() => fetch(`${config.baseUrl}/api/v1/flash-sales/current`).then((r) => r.status < 500), 20_000, 'nginx');
}

export async function startPrometheus(config: StackConfig, supervisor: Supervisor, report: Report) {
  const binary = await run('sh', ['-c', 'command -v prometheus']).catch(() => '');
  if (!config.PROMETHEUS || !binary.trim()) {
    report('  skipped (not installed, or PROMETHEUS=false)');
    return;
  }
  // One redis_exporter for every node: Prometheus asks it for each in turn (/scrape?target=).
  const exporterAddress = `127.0.0.1:${config.REDIS_EXPORTER_PORT}`;
  // It logs in as the exporter user (INFO and the like, no key), as in compose and k8s.
  supervisor.start({
    name: 'redis-exporter',
    command: 'prometheus-redis-exporter',
    args: ['-web.listen-address', exporterAddress],
    env: { REDIS_USER: 'exporter', REDIS_PASSWORD: stackSecrets(config).redis.exporter },
    restart: true,
  });
  // postgres_exporter logs in as the monitor role (pg_monitor: statistics, no table).
  const postgresExporter = `127.0.0.1:${config.POSTGRES_EXPORTER_PORT}`;
  supervisor.start({
    name: 'postgres-exporter',
    command: 'prometheus-postgres-exporter',
    args: [`--web.listen-address=${postgresExporter}`],
    env: { DATA_SOURCE_NAME: `${databaseUrl(config, 'monitor')}?sslmode=disable` },
    restart: true,
  });
  // nginx's stub_status, read from its unix socket.
  const nginxExporter = `127.0.0.1:${config.NGINX_EXPORTER_PORT}`;
  supervisor.start({
    name: 'nginx-exporter',
    command: 'prometheus-nginx-exporter',
    args: ['-nginx.scrape-uri', `unix:${nginxStatusSocket(config)}:/stub_status`, '-web.listen-address', nginxExporter],
    restart: true,
  });
  // prometheus.yml reads its targets from targets/ beside it: here, the local addresses.
  const root = join(config.stateDir, 'prometheus');
  mkdirSync(join(root, 'data'), { recursive: true });
  mkdirSync(join(root, 'targets', 'redis'), { recursive: true });
  writeFileSync(
    join(root, 'targets', 'local.json'),
    JSON.stringify([
      { targets: config.apiPorts.map((p) => `127.0.0.1:${p}`), labels: { job: 'flashflow-api' } },
      { targets: [`127.0.0.1:${config.RECONCILER_PORT}`], labels: { job: 'flashflow-reconciler' } },
      { targets: [postgresExporter], labels: { job: 'postgres' } },
      { targets: [nginxExporter], labels: { job: 'nginx' } },
    ]),
  );
  writeFileSync(
    join(root, 'targets', 'redis', 'local.json'),
    JSON.stringify([
      { targets: config.redisNodes.map(({ host, port }) => `redis://${host}:${port}`), labels: { __exporter: exporterAddress } },
    ]),
  );
  for (const file of ['prometheus.yml', 'alerts.yml']) {
    copyFileSync(join(REPO_ROOT, 'observability/prometheus', file), join(root, file));
  }
  supervisor.start({
    name: 'prometheus',
    command: binary.trim(),
    args: [
      `--config.file=${join(root, 'prometheus.yml')}`,
      `--storage.tsdb.path=${join(root, 'data')}`,
      `--web.listen-address=127.0.0.1:${config.PROMETHEUS_PORT}`,
      '--storage.tsdb.retention.time=7d',
    ],
  });
  await waitUntil(() => fetch(`http://127.0.0.1:${config.PROMETHEUS_PORT}/-/ready`).then((r) => r.ok), 30_000, 'prometheus');
}
