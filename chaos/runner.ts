/**
 * Runs fault scenarios against a running local stack: for each, a sale of
 * its own, a steady purchase load from many loopback addresses, the fault,
 * and then the invariants (verify.ts) plus the scenario's own checks. Any
 * process that dies without the scenario having killed it fails the run.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadEnv } from '../api/src/env.js';
import { saleKeys } from '../api/src/features/flash-sale/flash-sale.logic.js';
import { connectSaleTools } from '../api/src/features/flash-sale/sale-tools.js';
import { createLogger } from '../api/src/platform/logger.js';
import { serviceEnv, stackSecrets, type StackConfig } from '../stack/src/config.js';
import type { ServiceExit } from '../stack/src/processes.js';
import { clusterInSync, shardOf, type RedisAccess } from '../stack/src/redis-topology.js';
import { redisServiceName } from '../stack/src/services.js';
import { startStack, type RunningStack } from '../stack/src/stack.js';
import { healLeftoverPartition } from './faults.js';
import { startLoad } from './load.js';
import type { Scenario, ScenarioContext } from './scenarios.js';
import { verify, type Verdict } from './verify.js';

/** Load before the fault, and after it was healed. */
const WARM_UP_MS = 3_000;
const RECOVERY_MS = { full: 10_000, smoke: 5_000 };
/** No scenario may take longer than this, whatever hangs. */
const SCENARIO_TIMEOUT_MS = 240_000;

export interface ScenarioResult extends Verdict {
  name: string;
  title: string;
  seconds: number;
}

/** The stack under test; a scenario may stop it and start a new one on the same data. */
export interface StackHandle {
  config: StackConfig;
  running: RunningStack;
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

async function waitFor(check: () => Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check().catch(() => false))) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs / 1000} s waiting for ${what}`);
    await sleep(200);
  }
}

const answersOk = async (url: string) => (await fetch(url, { signal: AbortSignal.timeout(2_000) }).catch(() => null))?.status === 200;

export async function runScenarios(
  handle: StackHandle,
  scenarios: Scenario[],
  { smoke, say }: { smoke: boolean; say: (line: string) => void },
): Promise<ScenarioResult[]> {
  const { config } = handle;
  await healLeftoverPartition(config);
  // Its own connections see the faults too (a Postgres stop drops them): that is expected, not worth a line.
  const tools = connectSaleTools(loadEnv({ ...process.env, ...serviceEnv(config, 'operator') }), 'chaos', createLogger('chaos', 'error', 2));
  const admin = { nodes: config.redisNodes, username: 'admin', password: stackSecrets(config).redis.admin };
  const urls = {
    apiReadiness: config.apiPorts.map((port) => `http://127.0.0.1:${port}/readyz`),
    reconcilerHealth: `http://127.0.0.1:${config.RECONCILER_PORT}/healthz`,
    reconcilerReadiness: `http://127.0.0.1:${config.RECONCILER_PORT}/readyz`,
  };
  const healthy = () =>
    waitFor(
      async () =>
        (await clusterInSync(admin)) &&
        (await Promise.all([...urls.apiReadiness, urls.reconcilerReadiness].map(answersOk))).every(Boolean),
      90_000,
      'every Redis primary in sync with its replica, and every service ready',
    );

  const results: ScenarioResult[] = [];
  try {
    for (const scenario of scenarios) {
      say(`\n--- ${scenario.name}: ${scenario.title}`);
      const started = Date.now();
      await healthy();
      const result = await Promise.race([
        runOne(handle, scenario, { smoke, tools, urls, healthy, admin }),
        sleep(SCENARIO_TIMEOUT_MS).then(() => {
          throw new Error(`${scenario.name} did not finish within ${SCENARIO_TIMEOUT_MS / 1000} s`);
        }),
      ]).catch((error: unknown): Verdict => ({
        requests: 0, confirmed: 0, unavailable: 0, unreachable: 0, lost: 0, oversold: 0, agreeMs: null, healMs: 0,
        violations: [`the scenario failed: ${error instanceof Error ? error.message : String(error)}`],
      }));
      const outcome = { name: scenario.name, title: scenario.title, seconds: (Date.now() - started) / 1000, ...result };
      results.push(outcome);
      say(describe(outcome));
      await healLeftoverPartition(config);
    }
  } finally {
    await tools.close();
  }
  return results;
}

function describe(result: ScenarioResult): string {
  const figures =
    `${result.requests} requests, ${result.confirmed} × 201, ${result.unavailable} × 503, ${result.unreachable} unanswered; ` +
    `lost ${result.lost}, oversold ${result.oversold}; agreed ${result.agreeMs === null ? 'never' : `${(result.agreeMs / 1000).toFixed(1)} s`} after the load, ` +
    `healed ${(result.healMs / 1000).toFixed(1)} s after the fault (${result.seconds.toFixed(0)} s)`;
  if (result.violations.length === 0) return `✓ ${result.name}: ${figures}`;
  return [`✗ ${result.name}: ${figures}`, ...result.violations.slice(0, 20).map((v) => `    ${v}`)].join('\n');
}

async function runOne(
  handle: StackHandle,
  scenario: Scenario,
  shared: {
    smoke: boolean;
    tools: ReturnType<typeof connectSaleTools>;
    urls: ScenarioContext['urls'];
    healthy: () => Promise<void>;
    admin: RedisAccess;
  },
): Promise<Verdict> {
  const { config } = handle;
  const { tools, urls, smoke, admin } = shared;
  const violations: string[] = [];
  const expected = new Map<string, number>();
  const unexpected: ServiceExit[] = [];
  let restarting = false;
  const listen = () =>
    handle.running.supervisor.onExit((exit) => {
      const count = expected.get(exit.name) ?? 0;
      if (count > 0) expected.set(exit.name, count - 1);
      else if (!restarting) unexpected.push(exit);
    });
  let unlisten = listen();
  const expectExit = (name: string) => expected.set(name, (expected.get(name) ?? 0) + 1);

  const sale = await tools.admin.createSale({
    productName: `Chaos: ${scenario.name}`,
    stock: scenario.stock,
    startsInMs: 0,
    durationMs: 30 * 60_000,
    replace: true,
  });
  const load = startLoad(config.baseUrl, `chaos-${scenario.name}-${sale.id.slice(0, 8)}`, scenario.rate);
  const window = { faultStart: Number.POSITIVE_INFINITY, faultEnd: Number.POSITIVE_INFINITY };
  const context: ScenarioContext = {
    shard: (without) => shardOf(admin, saleKeys(sale.id).sale, without),
    redisService: redisServiceName,
    apiServices: config.apiPorts.map((port) => `api-${port}`),
    herd: (count) => load.herd(count),
    faultStarts: () => (window.faultStart = Date.now()),
    faultHealed: () => (window.faultEnd = Date.now()),
    signal(service, signal) {
      const pid = handle.running.supervisor.pid(service);
      if (!pid) throw new Error(`${service} is not running`);
      if (signal === 'SIGKILL' || signal === 'SIGTERM') expectExit(service);
      process.kill(pid, signal);
    },
    async hold(service, signal) {
      expectExit(service);
      await handle.running.supervisor.hold(service, signal);
    },
    release: (service) => handle.running.supervisor.release(service),
    async restartStack() {
      restarting = true;
      unlisten();
      await handle.running.stop();
      handle.running = await startStack(config, () => undefined);
      unlisten = listen();
      restarting = false;
    },
    healthy: shared.healthy,
    probe(targets) {
      const statuses: Record<string, number[]> = Object.fromEntries(targets.map((url) => [url, []]));
      const timer = setInterval(() => {
        for (const url of targets) {
          void fetch(url, { signal: AbortSignal.timeout(900) })
            .then((res) => res.status)
            .catch(() => 0)
            .then((status) => statuses[url]!.push(status));
        }
      }, 1_000);
      return {
        stop() {
          clearInterval(timer);
          return statuses;
        },
      };
    },
    urls,
    stack: config,
    currentSaleId: () => tools.store.currentSaleId(),
    countSales: async () => Number((await tools.pool.query<{ n: number }>('SELECT count(*) AS n FROM flash_sales')).rows[0]?.n),
    saleId: sale.id,
    violation: (message) => violations.push(message),
    waitFor,
    sleep,
    smoke,
  };

  let answers;
  try {
    await sleep(WARM_UP_MS);
    await scenario.inject(context);
    await sleep(smoke ? RECOVERY_MS.smoke : RECOVERY_MS.full);
  } finally {
    answers = await load.stop();
  }
  const loadEndedAt = Date.now();
  const verdict = await verify(tools, sale, answers, window, scenario.expectations, loadEndedAt);
  unlisten();
  for (const exit of unexpected) {
    violations.push(`${exit.name} (pid ${exit.pid}) died unexpectedly (${exit.signal ?? `exit code ${exit.code}`}): ${logTail(config, exit.name)}`);
  }
  return { ...verdict, violations: [...verdict.violations, ...violations] };
}

/** The last lines of a service's log, for a death nobody caused. */
function logTail(config: StackConfig, name: string): string {
  try {
    return readFileSync(join(config.logDir, `${name}.log`), 'utf8').trim().split('\n').slice(-3).join(' | ').slice(0, 600);
  } catch {
    return '(no log)';
  }
}
