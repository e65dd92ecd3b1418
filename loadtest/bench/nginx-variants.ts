/**
 * More nginx instances beside the bench stack's own, with the stack's very
 * nginx.conf (workers, events, buffers, logging) and another site: the
 * ceiling (nginx answering by itself) and the shop over a subset of the
 * replicas.
 */
import { execFile } from 'node:child_process';
import { chownSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { REPO_ROOT, type StackConfig } from '../../stack/src/config.js';
import { apiUpstreamServers } from '../../stack/src/nginx-config.js';
import { waitUntil, type Supervisor } from '../../stack/src/processes.js';
import { renderTemplate } from '../../stack/src/services.js';
import { userIds } from '../../stack/src/system.js';

const execFileAsync = promisify(execFile);

/** nginx with the stack's own nginx.conf (same workers, events, buffers, logging), another site. */
export async function startNginxVariant(
  config: StackConfig,
  supervisor: Supervisor,
  name: string,
  port: number,
  site: (dirs: { cacheDir: string }) => string,
) {
  const stackRoot = join(config.stateDir, 'nginx');
  const root = join(config.stateDir, `nginx-${name}`);
  const cacheDir = join(root, 'cache');
  const tempDir = join(root, 'tmp');
  const worker = /^user (\S+);/m.exec(readFileSync(join(stackRoot, 'nginx.conf'), 'utf8'))?.[1] ?? 'nobody';
  const { uid, gid } = await userIds(worker);
  for (const dir of [root, cacheDir, tempDir]) {
    mkdirSync(dir, { recursive: true });
    chownSync(dir, uid, gid);
  }
  writeFileSync(join(root, 'site.conf'), site({ cacheDir }));
  const main = readFileSync(join(stackRoot, 'nginx.conf'), 'utf8')
    .replaceAll(join(stackRoot, 'flash-flow.conf'), join(root, 'site.conf'))
    .replaceAll(join(stackRoot, 'tmp'), tempDir)
    .replaceAll(join(stackRoot, 'nginx.pid'), join(root, 'nginx.pid'))
    .replaceAll('nginx-access.log', `nginx-${name}-access.log`)
    .replaceAll('nginx-error.log', `nginx-${name}-error.log`);
  writeFileSync(join(root, 'nginx.conf'), main);
  const args = ['-p', root, '-c', join(root, 'nginx.conf'), '-e', join(config.logDir, `nginx-${name}-error.log`)];
  await execFileAsync('nginx', [...args, '-t', '-q']);
  supervisor.start({ name: `nginx-${name}`, command: 'nginx', args: [...args, '-g', 'daemon off;'], stopSignal: 'SIGQUIT' });
  await waitUntil(() => fetch(`http://127.0.0.1:${port}/`).then(() => true), 20_000, `nginx ${name}`);
  return `http://127.0.0.1:${port}`;
}

/**
 * The Node floor (floor-server.ts): `servers` bare Node servers, as many as
 * the shop's replicas, behind nginx with the shop's own site. Returns nginx's URL.
 */
export async function startNodeFloor(config: StackConfig, supervisor: Supervisor, nginxPort: number, servers: number) {
  const ports = Array.from({ length: servers }, (_, i) => config.API_BASE_PORT + 40 + i);
  for (const port of ports) {
    supervisor.start({
      name: `node-floor-${port}`,
      command: process.execPath,
      args: ['--import', 'tsx', join(REPO_ROOT, 'loadtest/bench/floor-server.ts'), String(port)],
      cwd: REPO_ROOT,
    });
    await waitUntil(() => fetch(`http://127.0.0.1:${port}/`).then(() => true), 20_000, `node floor ${port}`);
  }
  return startNginxVariant(config, supervisor, 'capacity-floor', nginxPort, ({ cacheDir }) => shopSite(config, nginxPort, ports, cacheDir));
}

export function shopSite(config: StackConfig, port: number, apiPorts: number[], cacheDir: string) {
  return renderTemplate(readFileSync(join(REPO_ROOT, 'nginx/templates/flash-flow.conf.template'), 'utf8'), {
    NGINX_PORT: String(port),
    API_UPSTREAM_SERVERS: apiUpstreamServers(apiPorts.map((port) => `127.0.0.1:${port}`)),
    WEB_ROOT: join(REPO_ROOT, 'web/dist'),
    NGINX_CACHE_DIR: cacheDir,
    NGINX_CONF_DIR: join(REPO_ROOT, 'nginx'),
    NGINX_STATUS_SOCKET: join(dirname(cacheDir), 'status.sock'),
  });
}

/** The shop's access-log format, so the ceiling logs every request exactly as the shop does. */
const logFormat = () =>
  /log_format flashflow[^;]*;/.exec(readFileSync(join(REPO_ROOT, 'nginx/templates/flash-flow.conf.template'), 'utf8'))?.[0] ?? '';

export const ceilingSite = (port: number) => `# The ceiling: nginx answering by itself, nothing behind it.
${logFormat()}
server {
  listen ${port} reuseport backlog=4096;
  server_name _;
  keepalive_timeout 30s;
  location / {
    default_type application/json;
    return 200 '{"data":{"status":"active"}}';
  }
}
`;
