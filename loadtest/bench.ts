/**
 * npm run bench: measures, in one run on this machine, how close the stack
 * comes to what the machine can do, and writes docs/benchmarks.md.
 *   1. the ceiling: nginx answering a static 200 with the stack's worker settings
 *   2. status through the micro-cache, and how many requests reach the API
 *   3. the purchase path with 1, 2 and 3 API replicas: buying, and rejecting after sell-out
 *   4. the claim itself: Lua on Redis Cluster vs a Postgres transaction
 *   5. peak RSS of each replica and reconcile lag under the herd
 * plus where the CPU goes (per process, and a --cpu-prof of one replica).
 * Settings: BENCH_RUNS (3), BENCH_SECONDS (8), BENCH_VUS (1000), BENCH_CLAIM_CONCURRENCY (50).
 * `npm run bench -- --redis` measures only what a promise costs in Redis (loadtest/redis-cost.ts).
 */
import { randomUUID } from 'node:crypto';
import { execFile } from 'node:child_process';
import { mkdirSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { cpus, hostname, loadavg, release, totalmem } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { REPO_ROOT, serviceEnv, type StackConfig } from '../stack/src/config.js';
import { Supervisor, waitUntil } from '../stack/src/processes.js';
import { createSale, runK6, runScenario, stopK6Runs, type K6Summary, type LoadTarget } from './harness.js';
import { K6_VERSION, ensureK6 } from './k6.js';
import { connectShopStore } from '../api/src/features/flash-sale/shop-store.js';
import { readPid, withCpu, type CpuSplit } from './bench/cpu.js';
import { ceilingSite, shopSite, startNginxVariant } from './bench/nginx-variants.js';
import { measureCapacity, type CapacityResults } from './bench/capacity.js';
import { renderCapacity } from './bench/capacity-report.js';
import { spliceSections } from './bench/page-sections.js';
import { ensureHerdClient } from './bench/herd-client.js';
import { loadBenchSettings } from './bench/settings.js';
import { fmt, median, pct, percentile, spread } from './bench/statistics.js';
import { measureRedisCost } from './redis-cost.js';
import { createPgClaim } from './pg-claim.js';
import { counterSum, scrape } from './prom.js';
import { BENCH_STACK_ENV, buildIfNeeded, say, storeCoordinates, targetFor, withStack } from './stacks.js';
import { scenarioPlans } from './suite.js';
import { connectStores, type Stores } from './verify.js';

const execFileAsync = promisify(execFile);

/** What must be stopped besides the stack if the bench is interrupted (extra nginx, extra replicas). */
const cleanups: (() => Promise<void>)[] = [];
const onInterrupt = async () => {
  stopK6Runs();
  for (const cleanup of cleanups) await cleanup().catch(() => undefined);
};

const settings = loadBenchSettings();
const RUNS = settings.BENCH_RUNS;
const SECONDS = settings.BENCH_SECONDS;
/** Each VU pauses this long between requests: ≤ 10 requests/s per source address, nginx's purchase limit. */
const THINK = 0.1;
const VUS = settings.BENCH_VUS;
const PURCHASE_VUS = settings.BENCH_PURCHASE_VUS;
const CLAIM_CONCURRENCY = settings.BENCH_CLAIM_CONCURRENCY;
const HTTP_SCRIPT = join(REPO_ROOT, 'loadtest/bench/http.js');
const BENCH_IPS = '127.30.0.1-127.30.255.254';

interface HttpRun {
  rps: number;
  /** k6's time to open a TCP connection, 99th percentile (ms). */
  connectP99?: number;
  p50: number;
  p99: number;
  requests: number;
  unexpected: number;
  statuses: Record<string, number>;
  cpu?: CpuSplit;
  apiRps?: number;
}

interface Measured {
  label: string;
  runs: HttpRun[];
}

const summarise = (m: Measured) => {
  const rps = m.runs.map((r) => r.rps);
  return {
    rps: median(rps),
    rpsSpread: spread(rps),
    p50: median(m.runs.map((r) => r.p50)),
    p99: median(m.runs.map((r) => r.p99)),
    unexpected: m.runs.reduce((t, r) => t + r.unexpected, 0),
    requests: m.runs.reduce((t, r) => t + r.requests, 0),
    statuses: m.runs.reduce<Record<string, number>>((all, r) => {
      for (const [s, n] of Object.entries(r.statuses)) all[s] = (all[s] ?? 0) + n;
      return all;
    }, {}),
    apiRps: m.runs.some((r) => r.apiRps !== undefined) ? median(m.runs.map((r) => r.apiRps ?? 0)) : undefined,
  };
};


// ------------------------------------------------------------ measurements

interface HttpBench {
  url: string;
  vus?: number;
  duration?: string;
  kind: 'static' | 'status' | 'purchase';
  mode?: 'closed' | 'open';
  rate?: number;
  prefix?: string;
}

async function k6Bench(outDir: string, label: string, bench: HttpBench): Promise<HttpRun> {
  const file = join(outDir, `${label.replace(/[^a-z0-9]+/gi, '-')}-${randomUUID().slice(0, 8)}.json`);
  const { code, output } = await runK6({
    script: HTTP_SCRIPT,
    localIps: BENCH_IPS,
    env: {
      URL: bench.url,
      KIND: bench.kind,
      MODE: bench.mode ?? 'closed',
      RATE: String(bench.rate ?? 10000),
      VUS: String(bench.vus ?? VUS),
      THINK: String(THINK),
      DURATION: bench.duration ?? `${SECONDS}s`,
      PREFIX: bench.prefix ?? randomUUID().slice(0, 8),
      SUMMARY_FILE: file,
    },
  });
  if (code !== 0) throw new Error(`k6 failed (${code}) for ${label}:\n${output.slice(-2000)}`);
  const summary = JSON.parse(readFileSync(file, 'utf8')) as K6Summary;
  const m = summary.metrics;
  const statuses: Record<string, number> = {};
  for (const [name, metric] of Object.entries(m)) {
    const s = /^http_reqs\{status:(\d+)\}$/.exec(name)?.[1];
    if (s && metric.values.count) statuses[s] = metric.values.count;
  }
  return {
    connectP99: m.http_req_connecting?.values['p(99)'] ?? NaN,
    rps: m.http_reqs?.values.rate ?? 0,
    p50: m.http_req_duration?.values.med ?? NaN,
    p99: m.http_req_duration?.values['p(99)'] ?? NaN,
    requests: m.http_reqs?.values.count ?? 0,
    unexpected: m.unexpected_responses?.values.count ?? 0,
    statuses,
  };
}

async function wrkCeiling(url: string): Promise<HttpRun> {
  const { stdout } = await execFileAsync('wrk', ['-t2', '-c256', `-d${Math.min(SECONDS, 5)}s`, '--latency', url]);
  const rps = Number(/Requests\/sec:\s+([\d.]+)/.exec(stdout)?.[1] ?? NaN);
  const latency = (label: string) => {
    const match = new RegExp(`\\s${label}%\\s+([\\d.]+)(us|ms|s)`).exec(stdout);
    if (!match) return NaN;
    const value = Number(match[1]);
    return match[2] === 'us' ? value / 1000 : match[2] === 's' ? value * 1000 : value;
  };
  const requests = Number(/(\d+) requests in/.exec(stdout)?.[1] ?? 0);
  const non2xx = Number(/Non-2xx or 3xx responses: (\d+)/.exec(stdout)?.[1] ?? 0);
  return { rps, p50: latency('50'), p99: latency('99'), requests, unexpected: non2xx, statuses: {} };
}

async function apiStatusRequests(apiUrls: string[]) {
  const samples = (await Promise.all(apiUrls.map((u) => scrape(`${u}/metrics`).catch(() => [])))).flat();
  return counterSum(
    samples,
    'flashflow_http_requests_total',
    (l) => l.method === 'GET' && l.route === '/api/v1/flash-sales/current',
  );
}

interface ClaimRun {
  ops: number;
  p50: number;
  p99: number;
  outcomes: Record<string, number>;
}

async function claimLoop(claim: (i: number) => Promise<string>): Promise<ClaimRun> {
  const durations: number[] = [];
  const outcomes: Record<string, number> = {};
  const deadline = Date.now() + Math.min(SECONDS, 5) * 1000;
  let next = 0;
  const started = Date.now();
  await Promise.all(
    Array.from({ length: CLAIM_CONCURRENCY }, async () => {
      while (Date.now() < deadline) {
        const t0 = performance.now();
        const outcome = await claim(next++);
        durations.push(performance.now() - t0);
        outcomes[outcome] = (outcomes[outcome] ?? 0) + 1;
      }
    }),
  );
  const seconds = (Date.now() - started) / 1000;
  durations.sort((a, b) => a - b);
  return { ops: durations.length / seconds, p50: percentile(durations, 0.5), p99: percentile(durations, 0.99), outcomes };
}

/** The store as the API replicas build it: each confirmed purchase is checked on a replica (WAIT) before it counts. */
function replicaAckedStore(stores: Stores) {
  const replicas = stores.env.REDIS_MIN_REPLICA_ACKS;
  if (replicas <= 0) return null;
  const shop = connectShopStore(stores.env, 'bench-durability');
  return { store: shop.store, replicas, close: shop.close };
}

function peakRss(stateDir: string, apiPorts: number[]) {
  return apiPorts.map((port) => {
    const pid = readPid(join(stateDir, 'pids', `api-${port}.pid`));
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (field: string) => Number(new RegExp(`${field}:\\s+(\\d+) kB`).exec(status)?.[1] ?? NaN);
    return { port, pid, hwmMb: kb('VmHWM') / 1024, rssMb: kb('VmRSS') / 1024 };
  });
}

/** Restarts each API replica (the supervisor brings it back), so a herd's peak RSS is not an earlier run's. */
async function restartReplicas(config: StackConfig) {
  for (const port of config.apiPorts) {
    const pidFile = join(config.stateDir, 'pids', `api-${port}.pid`);
    const old = readPid(pidFile);
    process.kill(old, 'SIGTERM');
    await waitUntil(
      () => {
        try {
          const pid = readPid(pidFile);
          return pid > 0 && pid !== old;
        } catch {
          return false;
        }
      },
      30_000,
      `API replica ${port} to be restarted`,
    );
    await waitUntil(() => fetch(`http://127.0.0.1:${port}/readyz`).then((r) => r.ok), 30_000, `API replica ${port}`);
  }
}

function resetPeakRss(stateDir: string, apiPorts: number[]) {
  for (const port of apiPorts) {
    const pid = readPid(join(stateDir, 'pids', `api-${port}.pid`));
    // "5" resets the peak resident set size (VmHWM) to the current RSS.
    writeFileSync(`/proc/${pid}/clear_refs`, '5');
  }
}

/** Resident memory of a replica that started and is idle: as the stack starts it, and without two of its flags. */
async function idleReplicaRss(config: StackConfig) {
  const supervisor = new Supervisor(config.logDir, join(config.stateDir, 'pids'), say);
  cleanups.push(() => supervisor.stopAll());
  const variants: { how: string; flags: string[] }[] = [
    {
      how: 'as the stack starts it (--import telemetry.js, which loads nothing while tracing is off)',
      flags: ['--import', join(REPO_ROOT, 'api/dist/platform/telemetry.js')],
    },
    {
      how: 'with --enable-source-maps added',
      flags: ['--enable-source-maps', '--import', join(REPO_ROOT, 'api/dist/platform/telemetry.js')],
    },
    { how: 'without the telemetry preload', flags: [] },
  ];
  const results: { how: string; rssMb: number }[] = [];
  for (const [index, variant] of variants.entries()) {
    const port = config.API_BASE_PORT + 20 + index;
    const child = supervisor.start({
      name: `api-memory-${port}`,
      command: process.execPath,
      args: [...variant.flags, join(REPO_ROOT, 'api/dist/flashflow.js'), 'api'],
      env: { ...serviceEnv(config, 'api'), PORT: String(port), OTEL_SERVICE_NAME: 'flashflow-api' },
      cwd: REPO_ROOT,
    });
    try {
      await waitUntil(() => fetch(`http://127.0.0.1:${port}/readyz`).then((r) => r.ok), 30_000, 'an idle replica');
      await new Promise((resolve) => setTimeout(resolve, 3000));
      const status = readFileSync(`/proc/${child.pid}/status`, 'utf8');
      const rssMb = Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1] ?? NaN) / 1024;
      results.push({ how: variant.how, rssMb });
      say(`  ${variant.how}: ${fmt(rssMb)} MB`);
    } finally {
      await supervisor.stopAll();
    }
  }
  return results;
}

// ------------------------------------------------------------- CPU profile

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
}

function summariseProfile(file: string) {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as { nodes: ProfileNode[] };
  // Shares of the time the replica was busy: idle samples are counted apart.
  const all = profile.nodes.reduce((t, n) => t + (n.hitCount ?? 0), 0);
  const idle = profile.nodes.filter((n) => n.callFrame.functionName === '(idle)').reduce((t, n) => t + (n.hitCount ?? 0), 0);
  const total = all - idle;
  const byFunction = new Map<string, number>();
  const byArea = new Map<string, number>();
  for (const node of profile.nodes) {
    const hits = node.hitCount ?? 0;
    if (!hits || node.callFrame.functionName === '(idle)') continue;
    const { functionName, url, lineNumber } = node.callFrame;
    const area = areaOf(functionName, url);
    byArea.set(area, (byArea.get(area) ?? 0) + hits);
    const where = url ? `${url.replace(/^file:\/\//, '').replace(REPO_ROOT, '').replace(/.*node_modules\//, '')}:${lineNumber + 1}` : '';
    const key = `${functionName || '(anonymous)'} ${where}`.trim();
    byFunction.set(key, (byFunction.get(key) ?? 0) + hits);
  }
  const top = (map: Map<string, number>, n: number) =>
    [...map].sort((a, b) => b[1] - a[1]).slice(0, n).map(([name, hits]) => ({ name, share: hits / total }));
  return { idleShare: all ? idle / all : 0, areas: top(byArea, 12), functions: top(byFunction, 15) };
}

function areaOf(functionName: string, url: string): string {
  if (functionName === '(garbage collector)') return 'garbage collection';
  if (functionName === '(idle)') return 'idle (waiting for I/O)';
  if (functionName === '(program)') return 'V8/native (program)';
  if (url.includes('node_modules/')) {
    const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url)?.[1] ?? 'dependency';
    return `dependency: ${pkg}`;
  }
  if (url.startsWith('node:') || (!url.startsWith('file:') && url !== '')) return 'Node.js core (http, net, streams…)';
  if (url.includes('/api/dist/')) return 'Flash Flow API code';
  return url ? 'other' : 'native (no url)';
}

// ------------------------------------------------------------------ main

interface Results {
  machine: Record<string, string>;
  startedAt: string;
  minutes: number;
  loadBefore: number[];
  loadAfter: number[];
  ceilingK6: Measured;
  ceilingWrk: Measured;
  status: Measured;
  statusOpen: Measured;
  purchase: { replicas: number; buy: Measured; reject: Measured }[];
  claimRedis: ClaimRun[];
  claimRedisAcked: ClaimRun[];
  claimPg: ClaimRun[];
  burst: HerdRun[];
  herd: HerdRun[];
  profile: ReturnType<typeof summariseProfile> | null;
  profileFile: string | null;
  cpuBuy: CpuSplit | null;
  cpuReject: CpuSplit | null;
  cpuCeiling: CpuSplit | null;
  cpuStatus: CpuSplit | null;
  herdStatic: Measured;
  herdNginxErrors: Record<string, number>;
  idleRss: { how: string; rssMb: number }[];
  capacity: CapacityResults;
}

interface HerdRun {
  buyers: number;
  p50: number;
  p99: number;
  errors: number;
  arrivals: number;
  ok: boolean;
  invariantsOk: boolean;
  lagP99: number | null;
  rss: { port: number; hwmMb: number }[];
  statuses: string;
}

async function machineFacts(k6: string): Promise<Record<string, string>> {
  const version = async (cmd: string, args: string[]) => {
    try {
      const { stdout, stderr } = await execFileAsync(cmd, args);
      return (stdout || stderr).trim().split('\n')[0]!;
    } catch (error) {
      return ((error as { stderr?: string }).stderr ?? 'n/a').trim().split('\n')[0]!;
    }
  };
  const pgBin = readdirSync('/usr/lib/postgresql').sort().reverse()[0];
  return {
    cpus: `${cpus().length} × ${cpus()[0]?.model ?? 'unknown'}`,
    memory: `${(totalmem() / 1024 ** 3).toFixed(1)} GiB`,
    kernel: release(),
    host: hostname(),
    node: process.version,
    nginx: await version('nginx', ['-v']),
    redis: await version('redis-server', ['--version']),
    postgres: await version(`/usr/lib/postgresql/${pgBin}/bin/postgres`, ['--version']),
    k6: await version(k6, ['version']),
    wrk: await version('wrk', ['--version']),
  };
}

async function main(): Promise<number> {
  const started = Date.now();
  const k6 = await ensureK6(say);
  await buildIfNeeded();
  const outDir = join(REPO_ROOT, '.flash/bench-results', new Date().toISOString().replace(/[:.]/g, '-'));
  mkdirSync(outDir, { recursive: true });
  const machine = await machineFacts(k6);
  const loadBefore = loadavg();
  say(`==> benchmarks: ${RUNS} runs of ${SECONDS} s each, ${VUS} virtual users; results in ${outDir}`);

  const results = await withStack(
    BENCH_STACK_ENV,
    async (config) => {
      const extra = new Supervisor(config.logDir, join(config.stateDir, 'pids'), say);
      const profiled = new Supervisor(config.logDir, join(config.stateDir, 'pids'), say);
      cleanups.push(() => profiled.stopAll(), () => extra.stopAll());
      const stores = connectStores(targetFor(config, outDir, 'bench').stores);
      try {
        const capacity = await measureCapacity({ config, extra, stores, storesEnv: storeCoordinates(config), settings, say });
        return { ...(await measureAll(config, extra, profiled, stores, outDir)), capacity };
      } finally {
        await profiled.stopAll();
        await extra.stopAll();
        await stores.close();
      }
    },
    onInterrupt,
  );
  const full: Results = {
    ...results,
    machine,
    startedAt: new Date(started).toISOString(),
    minutes: (Date.now() - started) / 60_000,
    loadBefore,
    loadAfter: loadavg(),
  };
  writeFileSync(join(outDir, 'results.json'), JSON.stringify(full, null, 2));
  const markdown = writeBenchmarkPage({ ...renderSections(full), capacity: renderCapacity(full.capacity) });
  say(`\n${markdown}`);
  say(`==> wrote docs/benchmarks.md (raw: ${join(outDir, 'results.json')}) in ${full.minutes.toFixed(1)} min`);
  return 0;
}

type Partial = Omit<Results, 'machine' | 'startedAt' | 'minutes' | 'loadBefore' | 'loadAfter' | 'capacity'>;

/** `npm run bench -- --capacity`: only the capacity measurements, spliced into docs/benchmarks.md. */
async function capacityOnly(): Promise<number> {
  await ensureHerdClient();
  await buildIfNeeded();
  const outDir = join(REPO_ROOT, '.flash/bench-results', `capacity-${new Date().toISOString().replace(/[:.]/g, '-')}`);
  mkdirSync(outDir, { recursive: true });
  const capacity = await withStack(
    BENCH_STACK_ENV,
    async (config) => {
      const extra = new Supervisor(config.logDir, join(config.stateDir, 'pids'), say);
      cleanups.push(() => extra.stopAll());
      const stores = connectStores(targetFor(config, outDir, 'bench').stores);
      try {
        return await measureCapacity({ config, extra, stores, storesEnv: storeCoordinates(config), settings, say });
      } finally {
        await extra.stopAll();
        await stores.close();
      }
    },
    onInterrupt,
  );
  writeFileSync(join(outDir, 'capacity.json'), JSON.stringify(capacity, null, 2));
  const section = renderCapacity(capacity);
  writeBenchmarkPage({ capacity: section });
  say(`\n${section}\n==> wrote the capacity section of docs/benchmarks.md (raw: ${join(outDir, 'capacity.json')})`);
  return 0;
}

async function measureAll(
  config: StackConfig,
  extra: Supervisor,
  profiled: Supervisor,
  stores: Stores,
  outDir: string,
): Promise<Partial> {
  const base = config.NGINX_PORT;
  const ceilingUrl = await startNginxVariant(config, extra, 'ceiling', base + 1, () => ceilingSite(base + 1));
  const shopUrls: Record<number, string> = { [config.apiPorts.length]: config.baseUrl };
  for (let replicas = 1; replicas < config.apiPorts.length; replicas++) {
    const port = base + 1 + replicas;
    shopUrls[replicas] = await startNginxVariant(config, extra, `api${replicas}`, port, ({ cacheDir }) =>
      shopSite(config, port, config.apiPorts.slice(0, replicas), cacheDir),
    );
  }
  const apiUrls = config.apiPorts.map((p) => `http://127.0.0.1:${p}`);
  const statusPath = '/api/v1/flash-sales/current';
  const purchasePath = `${statusPath}/purchase`;
  const storesEnv = storeCoordinates(config);

  const repeat = async (label: string, once: (run: number) => Promise<HttpRun>): Promise<Measured> => {
    const runs: HttpRun[] = [];
    for (let run = 1; run <= RUNS; run++) {
      const result = await once(run);
      runs.push(result);
      say(
        `  ${label} #${run}: ${fmt(result.rps)} req/s, p50 ${fmt(result.p50, 1)} ms, p99 ${fmt(result.p99, 1)} ms` +
          `${result.unexpected ? `, ${result.unexpected} unexpected` : ''}${result.apiRps !== undefined ? `, ${fmt(result.apiRps, 1)} reached the API/s` : ''}` +
          ` ${JSON.stringify(result.statuses)}`,
      );
    }
    return { label, runs };
  };

  // A sale for the status and ceiling runs: active, plenty of stock.
  await createSale(storesEnv, 1_000_000, 'Benchmark');

  say('\n==> 1. the ceiling: nginx answering a static 200');
  let cpuCeiling: CpuSplit | null = null;
  const ceilingK6 = await repeat('static 200 (k6)', async (run) => {
    const { result, cpu } = await withCpu(config.stateDir, () => k6Bench(outDir, 'ceiling', { url: `${ceilingUrl}/`, kind: 'static' }));
    if (run === 1) cpuCeiling = cpu;
    return result;
  });
  const ceilingWrk = await repeat('static 200 (wrk)', () => wrkCeiling(`${ceilingUrl}/`));

  say('\n==> 2. status through the micro-cache');
  const status = await repeat('status, same client as the ceiling', () =>
    k6Bench(outDir, 'status', { url: `${config.baseUrl}${statusPath}`, kind: 'status' }),
  );
  let cpuStatus: CpuSplit | null = null;
  const statusOpen = await repeat('status at 10,000 req/s offered', async (run) => {
    const before = await apiStatusRequests(apiUrls);
    const t0 = Date.now();
    const { result, cpu } = await withCpu(config.stateDir, () =>
      k6Bench(outDir, 'status-open', { url: `${config.baseUrl}${statusPath}`, kind: 'status', mode: 'open', rate: 10000 }),
    );
    if (run === 1) cpuStatus = cpu;
    const seconds = (Date.now() - t0) / 1000;
    return { ...result, apiRps: ((await apiStatusRequests(apiUrls)) - before) / seconds };
  });
  // The herd's shape against nothing but nginx: what the load generator and the kernel can do alone.
  const herdStatic = await repeat('10,000 arrivals in 1 s, static 200', () =>
    k6Bench(outDir, 'herd-static', { url: `${ceilingUrl}/`, kind: 'static', mode: 'open', rate: 10000, vus: 10000, duration: '1s' }),
  );

  say('\n==> 3. the purchase path through nginx, by number of API replicas');
  const purchase: Partial['purchase'] = [];
  let cpuBuy: CpuSplit | null = null;
  let cpuReject: CpuSplit | null = null;
  for (let replicas = 1; replicas <= config.apiPorts.length; replicas++) {
    const url = `${shopUrls[replicas]}${purchasePath}`;
    const buy = await repeat(`${replicas} replica(s), buying`, async (run) => {
      await createSale(storesEnv, 1_000_000, 'Benchmark: buying');
      const { result, cpu } = await withCpu(config.stateDir, () => k6Bench(outDir, `buy-${replicas}`, { url, kind: 'purchase', vus: PURCHASE_VUS }));
      if (replicas === config.apiPorts.length && run === 1) cpuBuy = cpu;
      return result;
    });
    const reject = await repeat(`${replicas} replica(s), sold out`, async (run) => {
      await createSale(storesEnv, 1, 'Benchmark: sold out');
      const { result, cpu } = await withCpu(config.stateDir, () => k6Bench(outDir, `reject-${replicas}`, { url, kind: 'purchase', vus: PURCHASE_VUS }));
      if (replicas === config.apiPorts.length && run === 1) cpuReject = cpu;
      return result;
    });
    purchase.push({ replicas, buy, reject });
  }

  say(`\n==> 4. the claim itself, ${CLAIM_CONCURRENCY} at a time: Lua on Redis Cluster vs a Postgres transaction`);
  const claimRedis: ClaimRun[] = [];
  const claimRedisAcked: ClaimRun[] = [];
  const claimPg: ClaimRun[] = [];
  const acked = replicaAckedStore(stores);
  const pgClaim = createPgClaim(stores.pool);
  // The claim loops share one pool; give it room for the concurrency.
  (stores.pool.options as { max: number }).max = CLAIM_CONCURRENCY;
  for (let run = 1; run <= RUNS; run++) {
    const redisSale = await createSale(storesEnv, 1_000_000, 'Benchmark: Redis claim');
    const prefix = randomUUID().slice(0, 8);
    const r = await claimLoop((i) => stores.store.claim(redisSale, `claim-${prefix}-${i}`, randomUUID()).then((o) => o.kind));
    claimRedis.push(r);
    say(`  Redis Lua claim #${run}: ${fmt(r.ops)} claims/s, p50 ${fmt(r.p50, 2)} ms, p99 ${fmt(r.p99, 2)} ms ${JSON.stringify(r.outcomes)}`);
    if (acked) {
      const ackedSale = await createSale(storesEnv, 1_000_000, 'Benchmark: Redis claim, replica-acknowledged');
      const a = await claimLoop((i) => acked.store.claim(ackedSale, `claim-${prefix}-acked-${i}`, randomUUID()).then((o) => o.kind));
      claimRedisAcked.push(a);
      say(`  Redis Lua claim + replica ack (WAIT ${acked.replicas}) #${run}: ${fmt(a.ops)} claims/s, p50 ${fmt(a.p50, 2)} ms, p99 ${fmt(a.p99, 2)} ms`);
    }

    const pgSale = randomUUID();
    const now = Date.now();
    await stores.repository.insertSale({ id: pgSale, productName: 'Benchmark: Postgres claim', totalStock: 1_000_000, startMs: now - 1000, endMs: now + 600_000 });
    const p = await claimLoop((i) => pgClaim(pgSale, `claim-${prefix}-${i}`, randomUUID()));
    claimPg.push(p);
    const check = await stores.pool.query<{ sold: number; rows: number }>(
      `SELECT s.total_stock - s.remaining_stock AS sold, (SELECT count(*) FROM purchases WHERE flash_sale_id = s.id) AS rows
       FROM flash_sales s WHERE s.id = $1`,
      [pgSale],
    );
    const consistent = check.rows[0] && Number(check.rows[0].sold) === Number(check.rows[0].rows);
    say(`  Postgres transactional claim #${run}: ${fmt(p.ops)} claims/s, p50 ${fmt(p.p50, 2)} ms, p99 ${fmt(p.p99, 2)} ms ${JSON.stringify(p.outcomes)}${consistent ? '' : ' ✗ stock and rows disagree'}`);
  }

  await acked?.close();

  say('\n==> 5. herds through nginx (3 replicas): errors, latency, reconcile lag, peak RSS per replica');
  const target: LoadTarget = { ...targetFor(config, outDir, `bench-${process.pid}`) };
  const herdRun = async (buyers: number): Promise<HerdRun> => {
    await restartReplicas(config);
    resetPeakRss(config.stateDir, config.apiPorts);
    const plan = scenarioPlans('full', ['herd'])[0]!;
    plan.env = { ...plan.env, BUYERS: String(buyers) };
    const result = await runScenario({ ...target, outDir: join(outDir, `herd-${buyers}-${randomUUID().slice(0, 4)}`) }, plan, () => undefined);
    const rss = peakRss(config.stateDir, config.apiPorts);
    const latency = result.summary?.metrics['http_req_duration{name:purchase}']?.values ?? {};
    const errors = result.summary?.metrics.unexpected_responses?.values.count ?? NaN;
    const statusLine = /rejections\s+(.*)/.exec(result.report)?.[1] ?? '';
    const run: HerdRun = {
      buyers,
      p50: latency.med ?? NaN,
      p99: latency['p(99)'] ?? NaN,
      errors,
      arrivals: result.attempts,
      ok: result.ok,
      invariantsOk: result.verdict.ok,
      lagP99: result.reconcileLag?.p99 ?? null,
      rss,
      statuses: statusLine,
    };
    say(
      `  ${fmt(buyers)} buyers: ${run.arrivals} arrived, p50 ${fmt(run.p50)} ms, p99 ${fmt(run.p99)} ms, ${run.errors} errors; ` +
        `invariants ${run.invariantsOk ? 'held' : 'BROKEN'}; lag p99 ${run.lagP99 === null ? 'n/a' : `${fmt(run.lagP99 * 1000)} ms`}; ` +
        `peak RSS ${rss.map((r) => `${fmt(r.hwmMb)} MB`).join(' / ')}; rejections ${statusLine}`,
    );
    return run;
  };
  const burst: HerdRun[] = [];
  const herd: HerdRun[] = [];
  const errorLog = join(config.logDir, 'nginx-error.log');
  for (let run = 1; run <= RUNS; run++) burst.push(await herdRun(1000));
  const errorLogBefore = statSync(errorLog).size;
  for (let run = 1; run <= RUNS; run++) herd.push(await herdRun(10000));
  // Why nginx answered 503 during the 10,000-buyer herds, from its error log.
  const herdNginxErrors: Record<string, number> = {};
  const appended = readFileSync(errorLog, 'utf8').slice(errorLogBefore);
  for (const reason of [
    'upstream timed out (110: Connection timed out) while connecting to upstream',
    'no live upstreams while connecting to upstream',
    'upstream timed out (110: Connection timed out) while reading response header from upstream',
    'connect() failed (111: Connection refused) while connecting to upstream',
    'worker_connections are not enough',
  ]) {
    const count = appended.split(reason).length - 1;
    if (count) herdNginxErrors[reason] = count;
  }

  say('\n==> memory: an idle replica started three ways');
  const idleRss = await idleReplicaRss(config);

  say('\n==> where the time goes: one replica under --cpu-prof, buying');
  let profile: Partial['profile'] = null;
  let profileFile: string | null = null;
  try {
    const profileDir = join(outDir, 'cpu-profile');
    mkdirSync(profileDir, { recursive: true });
    const port = config.API_BASE_PORT + 10;
    profiled.start({
      name: `api-profiled-${port}`,
      command: process.execPath,
      args: [
        '--cpu-prof',
        `--cpu-prof-dir=${profileDir}`,
        '--enable-source-maps',
        '--import', join(REPO_ROOT, 'api/dist/platform/telemetry.js'),
        join(REPO_ROOT, 'api/dist/flashflow.js'),
        'api',
      ],
      env: { ...serviceEnv(config, 'api'), PORT: String(port), OTEL_SERVICE_NAME: 'flashflow-api' },
      cwd: REPO_ROOT,
    });
    await waitUntil(() => fetch(`http://127.0.0.1:${port}/readyz`).then((r) => r.ok), 30_000, 'the profiled replica');
    const nginxPort = base + 9;
    const url = await startNginxVariant(config, extra, 'profiled', nginxPort, ({ cacheDir }) => shopSite(config, nginxPort, [port], cacheDir));
    await createSale(storesEnv, 1_000_000, 'Benchmark: profile');
    const run = await k6Bench(outDir, 'profiled', { url: `${url}${purchasePath}`, kind: 'purchase', vus: PURCHASE_VUS });
    say(`  profiled replica: ${fmt(run.rps)} req/s (profiling costs some)`);
    await profiled.stopAll();
    const file = readdirSync(profileDir).find((f) => f.endsWith('.cpuprofile'));
    if (file) {
      profileFile = join(profileDir, file);
      profile = summariseProfile(profileFile);
    }
  } catch (error) {
    say(`  ! profile skipped: ${error instanceof Error ? error.message : String(error)}`);
  }

  return {
    ceilingK6,
    ceilingWrk,
    claimRedisAcked,
    status,
    statusOpen,
    purchase,
    claimRedis,
    claimPg,
    burst,
    herd,
    profile,
    profileFile,
    herdNginxErrors,
    idleRss,
    cpuBuy,
    cpuReject,
    cpuCeiling,
    cpuStatus,
    herdStatic,
  };
}

// ---------------------------------------------------------------- report

const BENCHMARK_PAGE = join(REPO_ROOT, 'docs/benchmarks.md');

/** Rewrites the generated sections of docs/benchmarks.md, leaving the prose kept by hand; returns the page. */
function writeBenchmarkPage(sections: Record<string, string>): string {
  const page = spliceSections(readFileSync(BENCHMARK_PAGE, 'utf8'), sections);
  writeFileSync(BENCHMARK_PAGE, page);
  return page;
}

/** The sections of docs/benchmarks.md that this run writes; the prose around them is kept by hand. */
function renderSections(r: Results): Record<string, string> {
  const ceiling = summarise(r.ceilingK6);
  const status = summarise(r.status);
  const statusOpen = summarise(r.statusOpen);
  const rows = (m: Measured, ratioTo: number) => {
    const s = summarise(m);
    return `| ${m.label} | ${fmt(s.rps)} | ${fmt(s.rpsSpread.min)}–${fmt(s.rpsSpread.max)} | ${fmt(s.p50, 1)} | ${fmt(s.p99, 1)} | ${pct(s.rps / ratioTo)} | ${describeStatuses(s.statuses)} |`;
  };
  const purchase3 = r.purchase.find((p) => p.replicas === 3) ?? r.purchase[r.purchase.length - 1]!;
  const buyBest = Math.max(...r.purchase.map((p) => summarise(p.buy).rps));
  const rejectBest = Math.max(...r.purchase.map((p) => summarise(p.reject).rps));
  const redis = median(r.claimRedis.map((c) => c.ops));
  const pg = median(r.claimPg.map((c) => c.ops));
  const burstP99 = median(r.burst.map((h) => h.p99));
  const herdP99 = median(r.herd.map((h) => h.p99));
  const herdP50At1k = median(r.burst.map((h) => h.p50));
  const burstErrors = r.burst.reduce((t, h) => t + h.errors, 0);
  const herdErrors = r.herd.reduce((t, h) => t + h.errors, 0);
  const rssPeak = Math.max(...r.herd.flatMap((h) => h.rss.map((x) => x.hwmMb)));
  const lagP99s = r.herd.map((h) => h.lagP99).filter((x): x is number => x !== null);
  const lagP99 = lagP99s.length ? median(lagP99s) : NaN;

  type Target = { what: string; measured: string; target: string; met: boolean; gap: string };
  const targets: Target[] = [];
  const ratioTarget = (what: string, value: number, goal: number) =>
    targets.push({
      what,
      measured: pct(value),
      target: `≥ ${pct(goal)}`,
      met: value >= goal,
      gap: value >= goal ? '' : `missed by ${((goal - value) * 100).toFixed(0)} points (${(goal / value).toFixed(1)}× short)`,
    });
  ratioTarget('purchase path (buying, best replica count) / ceiling', buyBest / ceiling.rps, 0.3);
  ratioTarget('rejection path after sell-out (best) / ceiling', rejectBest / ceiling.rps, 0.5);
  ratioTarget('status through the micro-cache / ceiling', status.rps / ceiling.rps, 0.8);
  targets.push({
    what: 'API requests per second behind the status storm',
    measured: `${fmt(statusOpen.apiRps ?? NaN, 1)}/s at ${fmt(statusOpen.rps)} req/s served`,
    target: 'a few per second',
    met: (statusOpen.apiRps ?? Infinity) <= 5,
    gap: (statusOpen.apiRps ?? Infinity) <= 5 ? '' : 'more than 5/s',
  });
  const latencyTarget = (what: string, errors: number, p99: number, goal: number) =>
    targets.push({
      what,
      measured: `${errors} errors, p99 ${fmt(p99)} ms`,
      target: `0 errors, p99 < ${fmt(goal)} ms`,
      met: errors === 0 && p99 < goal,
      gap:
        errors === 0 && p99 < goal
          ? ''
          : [errors ? `${errors} errors` : '', p99 >= goal ? `p99 ${(p99 / goal).toFixed(1)}× the bound` : ''].filter(Boolean).join(', '),
    });
  latencyTarget('1,000-buyer burst (1 s)', burstErrors, burstP99, 250);
  latencyTarget('10,000-buyer herd (1 s)', herdErrors, herdP99, 2000);
  targets.push({
    what: 'median at 1,000 buyers (NF-2)',
    measured: `${fmt(herdP50At1k)} ms`,
    target: '< 1,000 ms',
    met: herdP50At1k < 1000,
    gap: herdP50At1k < 1000 ? '' : `${(herdP50At1k / 1000).toFixed(1)}× the bound`,
  });
  targets.push({
    what: 'Redis claim / Postgres transactional claim',
    measured: `${(redis / pg).toFixed(1)}×`,
    target: '≥ 10×',
    met: redis / pg >= 10,
    gap: redis / pg >= 10 ? '' : `${(10 / (redis / pg)).toFixed(1)}× short`,
  });
  targets.push({
    what: 'API replica peak RSS under the herd',
    measured: `${fmt(rssPeak)} MB`,
    target: '< 150 MB',
    met: rssPeak < 150,
    gap: rssPeak < 150 ? '' : `${fmt(rssPeak - 150)} MB over`,
  });
  targets.push({
    what: 'reconcile lag p99 during the herd',
    measured: `${fmt(lagP99 * 1000)} ms`,
    target: '< 1,000 ms',
    met: lagP99 < 1,
    gap: lagP99 < 1 ? '' : `${(lagP99).toFixed(1)} s`,
  });

  const cpuTable = (title: string, cpu: CpuSplit | null) =>
    cpu
      ? [
          `| ${title} | cores |`,
          '| --- | ---: |',
          ...Object.entries(cpu)
            .sort((a, b) => b[1] - a[1])
            .filter(([, v]) => v >= 0.005)
            .map(([role, cores]) => `| ${role} | ${cores.toFixed(2)} |`),
          '',
        ].join('\n')
      : '';

  const m = r.machine;
  return {
    run: `Measured by \`npm run bench\` (loadtest/bench.ts) in one run on ${r.startedAt.slice(0, 16).replace('T', ' ')} UTC, ${r.minutes.toFixed(1)} minutes.
Every figure is the **median of ${RUNS} runs** of ${SECONDS} s (spread: lowest–highest), all on the same
machine as the whole stack *and* the load generator. Ratios compare figures from this same run.
Regenerate with \`npm run bench\`; raw numbers land in \`.flash/bench-results/<time>/results.json\`.
`,
    machine: `| | |
| --- | --- |
| CPUs (nproc) | ${m.cpus} |
| memory | ${m.memory} |
| kernel | ${m.kernel} |
| Node.js | ${m.node} |
| nginx | ${m.nginx} |
| Redis | ${m.redis} |
| PostgreSQL | ${m.postgres} |
| load generator | ${m.k6} (built from source, pinned ${K6_VERSION}); ${(m.wrk ?? '').split(' ').slice(0, 2).join(' ')} |
| load average before / after | ${r.loadBefore.map((x) => x.toFixed(2)).join(' ')} / ${r.loadAfter.map((x) => x.toFixed(2)).join(' ')} (the machine is shared) |

**The load shape** of the sections below (the capacity section above uses the herd client instead): k6, closed loop, each virtual user sending from
its own loopback address (\`--local-ips ${BENCH_IPS}\`) and pausing ${THINK * 1000} ms between requests, so no
address exceeds nginx's per-address purchase limit (10 r/s). The ceiling and the status endpoint get ${fmt(VUS)}
virtual users (at most ${fmt(VUS / THINK)} req/s offered); the purchase path gets ${fmt(PURCHASE_VUS)} (at most
${fmt(PURCHASE_VUS / THINK)} req/s offered, more than the replicas answer here).
The rows "at 10,000 req/s offered" and the herds are open model instead: arrivals at a fixed rate, whatever
the answers. k6 shares the 2 CPUs with everything it measures, so the "ceiling" is the ceiling *through this
client*; wrk (one address, 256 connections, ${Math.min(SECONDS, 5)} s) shows nginx alone.
`,
    ceiling: `| what | req/s (median) | spread | p50 ms | p99 ms | of ceiling | answers |
| --- | ---: | ---: | ---: | ---: | ---: | --- |
${rows(r.ceilingK6, ceiling.rps)}
${rows(r.ceilingWrk, ceiling.rps)}
${rows(r.status, ceiling.rps)}
${rows(r.statusOpen, ceiling.rps)}

While k6 offered 10,000 status requests per second (open model, ${fmt(statusOpen.rps)} req/s served), **${fmt(statusOpen.apiRps ?? NaN, 1)} requests per second reached the API**
(summed over the replicas' \`flashflow_http_requests_total\`): the one-second micro-cache with
\`proxy_cache_lock\` and background updates lets about one request per second through, whatever the client rate.
`,
    purchase: `| replicas | phase | req/s (median) | spread | p50 ms | p99 ms | of ceiling | answers |
| ---: | --- | ---: | ---: | ---: | ---: | ---: | --- |
${r.purchase
  .flatMap((p) =>
    (['buy', 'reject'] as const).map((phase) => {
      const s = summarise(p[phase]);
      return `| ${p.replicas} | ${phase === 'buy' ? 'buying' : 'sold out'} | ${fmt(s.rps)} | ${fmt(s.rpsSpread.min)}–${fmt(s.rpsSpread.max)} | ${fmt(s.p50, 1)} | ${fmt(s.p99, 1)} | ${pct(s.rps / ceiling.rps)} | ${describeStatuses(s.statuses)} |`;
    }),
  )
  .join('\n')}
`,
    claim: `${CLAIM_CONCURRENCY} claims in flight at a time from one Node process, ${Math.min(SECONDS, 5)} s per run, a new buyer per claim.

| claim | claims/s (median) | spread | p50 ms | p99 ms |
| --- | ---: | ---: | ---: | ---: |
| Redis Lua script | ${fmt(redis)} | ${fmt(spread(r.claimRedis.map((c) => c.ops)).min)}–${fmt(spread(r.claimRedis.map((c) => c.ops)).max)} | ${fmt(median(r.claimRedis.map((c) => c.p50)), 2)} | ${fmt(median(r.claimRedis.map((c) => c.p99)), 2)} |
${
  r.claimRedisAcked.length
    ? `| Redis Lua script + replica acknowledgement (WAIT, as the API now answers) | ${fmt(median(r.claimRedisAcked.map((c) => c.ops)))} | ${fmt(spread(r.claimRedisAcked.map((c) => c.ops)).min)}–${fmt(spread(r.claimRedisAcked.map((c) => c.ops)).max)} | ${fmt(median(r.claimRedisAcked.map((c) => c.p50)), 2)} | ${fmt(median(r.claimRedisAcked.map((c) => c.p99)), 2)} |\n`
    : ''
}| Postgres transaction | ${fmt(pg)} | ${fmt(spread(r.claimPg.map((c) => c.ops)).min)}–${fmt(spread(r.claimPg.map((c) => c.ops)).max)} | ${fmt(median(r.claimPg.map((c) => c.p50)), 2)} | ${fmt(median(r.claimPg.map((c) => c.p99)), 2)} |

Redis is **${(redis / pg).toFixed(1)}×** the Postgres claim at the same concurrency.
`,
    herds: `| buyers in 1 s | run | arrived | p50 ms | p99 ms | errors | answers | invariants | reconcile lag p99 | peak RSS per replica (MB) |
| ---: | ---: | ---: | ---: | ---: | ---: | --- | --- | ---: | --- |
${[...r.burst, ...r.herd]
  .map(
    (h, i) =>
      `| ${fmt(h.buyers)} | ${(i % RUNS) + 1} | ${fmt(h.arrivals)} | ${fmt(h.p50)} | ${fmt(h.p99)} | ${h.errors} | ${h.statuses} | ${h.invariantsOk ? 'held' : '**broken**'} | ${h.lagP99 === null ? 'n/a' : `${fmt(h.lagP99 * 1000)} ms`} | ${h.rss.map((x) => fmt(x.hwmMb)).join(' / ')} |`,
  )
  .join('\n')}

The same shape, 10,000 arrivals within one second from 10,000 addresses, against the static 200
(nothing behind nginx) shows what the load generator and the kernel manage on their own:

| run | requests answered | p50 ms | p99 ms | TCP connect p99 ms | not 200 |
| ---: | ---: | ---: | ---: | ---: | ---: |
${r.herdStatic.runs
  .map((h, i) => `| ${i + 1} | ${fmt(h.requests)} | ${fmt(h.p50)} | ${fmt(h.p99)} | ${fmt(h.connectP99 ?? NaN)} | ${fmt(h.unexpected)} |`)
  .join('\n')}
`,
    targets: `| target | measured | goal | verdict |
| --- | --- | --- | --- |
${targets.map((t) => `| ${t.what} | ${t.measured} | ${t.target} | ${t.met ? 'met' : `**missed**: ${t.gap}`} |`).join('\n')}
`,
    cpu: `CPU used per process group while k6 ran (cores, averaged over the run; 2.00 = the whole machine):

${cpuTable('static 200 (ceiling)', r.cpuCeiling)}
${cpuTable('status at 10,000 req/s offered', r.cpuStatus)}
${cpuTable(`purchase, buying, ${purchase3.replicas} replicas`, r.cpuBuy)}
${cpuTable(`purchase, sold out, ${purchase3.replicas} replicas`, r.cpuReject)}
`,
    profile: r.profile
      ? `One API replica under \`node --cpu-prof\` while k6 bought through it (self time; the profile is
\`${r.profileFile?.replace(REPO_ROOT, '')}\`, open it in Chrome DevTools or speedscope for the flame graph):

| area | share of busy time |
| --- | ---: |
${r.profile.areas.map((a) => `| ${a.name} | ${pct(a.share)} |`).join('\n')}

The replica was idle (waiting for I/O) ${pct(r.profile.idleShare)} of the profile; the shares above are of the busy time, and include
the replica's start-up (module loading) in the first second of the profile.

| hottest functions (self time) | share |
| --- | ---: |
${r.profile.functions.map((f) => `| \`${f.name.replace(/\|/g, '\\|')}\` | ${(f.share * 100).toFixed(1)}% |`).join('\n')}
`
      : 'The CPU profile could not be taken in this run.',
  };
}

function describeStatuses(statuses: Record<string, number>): string {
  const entries = Object.entries(statuses).sort((a, b) => b[1] - a[1]);
  if (!entries.length) return '';
  return entries.map(([s, n]) => `${s === '0' ? 'no answer' : s}: ${fmt(n)}`).join(', ');
}

/** `npm run bench -- --render <results.json>` rewrites docs/benchmarks.md from a run's raw results. */
async function render(file: string): Promise<number> {
  const results = JSON.parse(readFileSync(file, 'utf8')) as Results;
  results.herdNginxErrors ??= {};
  results.idleRss ??= [];
  writeBenchmarkPage({ ...renderSections(results), ...(results.capacity ? { capacity: renderCapacity(results.capacity) } : {}) });
  say(`==> wrote docs/benchmarks.md from ${file}`);
  return 0;
}

const [flag, file] = process.argv.slice(2);
const chosen =
  flag === '--render' && file ? render(file) : flag === '--redis' ? measureRedisCost() : flag === '--capacity' ? capacityOnly() : main();
chosen.then(
  (code) => process.exit(code),
  (error: unknown) => {
    say(`✗ benchmark failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
    process.exit(1);
  },
);
