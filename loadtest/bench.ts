/**
 * npm run bench: measures, in one run on this machine, how close the stack
 * comes to what the machine can do, and rewrites the generated sections of
 * docs/benchmarks.md. This file holds the k6 measurements and the entry point:
 *   1. the ceiling: nginx answering a static 200 with the stack's worker settings
 *   2. status through the micro-cache, and how many requests reach the API
 *   3. the purchase path with 1, 2 and 3 API replicas: buying, and rejecting after sell-out
 *   4. the claim itself: Lua on Redis Cluster vs a Postgres transaction
 *   5. peak RSS of each replica and reconcile lag under the herd
 * plus where the CPU goes. The rest lives in bench/: capacity.ts (the herd
 * client's figures, issue 12's targets), cpu.ts (CPU per process group),
 * profile.ts (a replica's --cpu-prof), nginx-variants.ts (ceilings and
 * partial shops), statistics.ts, settings.ts (BENCH_*, parsed once) and
 * report.ts with page-sections.ts (the page).
 * `npm run bench -- --capacity` measures only the capacity section,
 * `-- --redis` only what a promise costs in Redis (loadtest/redis-cost.ts),
 * `-- --render <results.json>` rewrites the page from a run's raw results.
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
import { measureCapacity } from './bench/capacity.js';
import { renderCapacity } from './bench/capacity-report.js';
import { ensureHerdClient } from './bench/herd-client.js';
import { summariseProfile } from './bench/profile.js';
import { renderSections, writeBenchmarkPage, type ClaimRun, type HerdRun, type HttpRun, type LoadShape, type Measured, type Results } from './bench/report.js';
import { loadBenchSettings } from './bench/settings.js';
import { fmt, percentile } from './bench/statistics.js';
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
const SHAPE: LoadShape = {
  runs: RUNS,
  seconds: SECONDS,
  vus: VUS,
  purchaseVus: PURCHASE_VUS,
  claimConcurrency: CLAIM_CONCURRENCY,
  thinkSeconds: THINK,
  addresses: BENCH_IPS,
  k6Version: K6_VERSION,
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

// ------------------------------------------------------------------ main

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
  const markdown = writeBenchmarkPage({ ...renderSections(full, SHAPE), capacity: renderCapacity(full.capacity) });
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

/** `npm run bench -- --render <results.json>` rewrites docs/benchmarks.md from a run's raw results. */
async function render(file: string): Promise<number> {
  const results = JSON.parse(readFileSync(file, 'utf8')) as Results;
  results.herdNginxErrors ??= {};
  results.idleRss ??= [];
  writeBenchmarkPage({ ...renderSections(results, SHAPE), ...(results.capacity ? { capacity: renderCapacity(results.capacity) } : {}) });
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
