/**
 * Dedicated stacks for the load suite and the benchmarks: their own ports and
 * state folders, clear of the shop (8080, 3001…, 7001…) and of the test
 * command's stack (18080, 13001…, 7101…). Redis ports stay below 10000 apart
 * from each other's cluster bus (each node also binds port + 10000).
 */
import { spawn } from 'node:child_process';
import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT, loadStackConfig, serviceEnv, type StackConfig } from '../stack/src/config.js';
import { Supervisor } from '../stack/src/processes.js';
import { startStack, type RunningStack } from '../stack/src/stack.js';
import type { LoadTarget } from './harness.js';
import type { StoreCoordinates } from './verify.js';

export const LOAD_STACK_ENV = {
  FLASH_STATE_DIR: '.flash/load',
  NGINX_PORT: '28080',
  API_BASE_PORT: '23001',
  REDIS_BASE_PORT: '7201',
  PG_PORT: '25433',
  RECONCILER_PORT: '29464',
  // The run's pictures are drawn from its Prometheus (report/pictures.ts).
  PROMETHEUS: 'true',
  PROMETHEUS_PORT: '29090',
  REDIS_EXPORTER_PORT: '29121',
  POSTGRES_EXPORTER_PORT: '29187',
  NGINX_EXPORTER_PORT: '29113',
  DEMO_SALE: 'false',
  LOG_LEVEL: 'warn',
};

export const BENCH_STACK_ENV = {
  FLASH_STATE_DIR: '.flash/bench',
  NGINX_PORT: '28180',
  API_BASE_PORT: '23101',
  API_REPLICAS: '3',
  REDIS_BASE_PORT: '7301',
  PG_PORT: '25533',
  RECONCILER_PORT: '29564',
  PROMETHEUS: 'false',
  DEMO_SALE: 'false',
  LOG_LEVEL: 'warn',
};

export const say = (line: string) => process.stdout.write(`${line}\n`);

/** The API and web page are served from dist/: build them as `npm start` does (LOADTEST_SKIP_BUILD=1 to skip). */
export async function buildIfNeeded(): Promise<void> {
  const built = existsSync(join(REPO_ROOT, 'api/dist/flashflow.js')) && existsSync(join(REPO_ROOT, 'web/dist/index.html'));
  if (process.env.LOADTEST_SKIP_BUILD === '1' && built) return;
  say('==> building the API and the web page (npm run build)');
  await new Promise<void>((resolve, reject) => {
    const child = spawn('npm', ['run', '--silent', 'build'], { cwd: REPO_ROOT, stdio: 'inherit' });
    child.on('error', reject);
    child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`npm run build exited with ${code}`))));
  });
}

/** How the load tools reach the stores: as the operator, as `npm run sale` does. */
export function storeCoordinates(config: StackConfig): StoreCoordinates {
  const { REDIS_NODES, REDIS_USERNAME, REDIS_PASSWORD, DATABASE_URL } = serviceEnv(config, 'operator');
  return { REDIS_NODES: REDIS_NODES!, REDIS_USERNAME: REDIS_USERNAME!, REDIS_PASSWORD: REDIS_PASSWORD!, DATABASE_URL: DATABASE_URL! };
}

export function targetFor(config: StackConfig, outDir: string, instance: string, webDashboard = false): LoadTarget {
  const services = storeCoordinates(config);
  return {
    baseUrl: config.baseUrl,
    stores: services,
    apiUrls: config.apiPorts.map((p) => `http://127.0.0.1:${p}`),
    reconcilerMetricsUrl: `http://127.0.0.1:${config.RECONCILER_PORT}/metrics`,
    outDir,
    instance,
    webDashboard,
  };
}

/**
 * Starts a fresh stack, runs `body`, and stops the stack afterwards: also when
 * `body` throws and on Ctrl-C / SIGTERM (after `onInterrupt`, which stops k6).
 */
export async function withStack<T>(
  env: Record<string, string>,
  body: (config: StackConfig, stack: RunningStack) => Promise<T>,
  /** Stops what the body started besides the stack (k6, extra processes); awaited before the stack stops. */
  onInterrupt: () => void | Promise<void>,
): Promise<T> {
  const config = loadStackConfig({ ...process.env, ...env });
  say(`==> starting a dedicated stack in ${config.stateDir} (nginx ${config.baseUrl}, API ${config.apiPorts.join(', ')})`);
  // A run killed outright leaves its processes behind: stop them (pid files) before wiping the state.
  const pidDir = join(config.stateDir, 'pids');
  if (existsSync(pidDir)) await new Supervisor(config.logDir, pidDir, say).reapLeftovers();
  rmSync(config.stateDir, { recursive: true, force: true });
  let stack: RunningStack | null = null;
  let interrupted = false;
  let stopping: Promise<void> | null = null;
  const interrupt = (signal: NodeJS.Signals) => {
    if (interrupted) return;
    interrupted = true;
    say(`\n==> ${signal}: stopping k6 and the stack`);
    const running = stack;
    // While the stack is still starting, it is stopped as soon as it is up (below).
    stopping = Promise.resolve()
      .then(onInterrupt)
      .catch(() => undefined)
      .then(() => running?.stop())
      .finally(() => {
        if (running) process.exit(130);
      });
  };
  process.on('SIGINT', interrupt);
  process.on('SIGTERM', interrupt);
  try {
    stack = await startStack(config, say);
    if (interrupted) {
      await stopping;
      await stack.stop();
      process.exit(130);
    }
    return await body(config, stack);
  } finally {
    // Interrupted: the stop under way ends the process; nothing may exit before it is done.
    if (stopping) await stopping;
    else if (!interrupted) {
      say('==> stopping the dedicated stack');
      await stack?.stop();
    }
    process.off('SIGINT', interrupt);
    process.off('SIGTERM', interrupt);
  }
}
