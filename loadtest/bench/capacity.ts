/**
 * Capacity: what the shop serves on this machine, as ratios to nginx
 * answering by itself (the ceiling), measured in the same run with the same
 * client (loadtest/herd/herd.c, a fresh connection per shopper, each from
 * its own address). Herds, the sold-out, buying and status paths, how the
 * purchase path scales with replicas and cores, and overload.
 */
import { execFile, execFileSync } from 'node:child_process';
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { defaultApiReplicas, type StackConfig } from '../../stack/src/config.js';
import type { Supervisor } from '../../stack/src/processes.js';
import { createSale } from '../harness.js';
import { readStoreFacts, storeInvariants, waitForReconcile, type StoreCoordinates, type Stores } from '../verify.js';
import { readPid, withCpu, type CpuSplit } from './cpu.js';
import { errorCount, runHerd, type HerdOptions, type HerdReport } from './herd-client.js';
import { countersSince, readListenCounters, type ListenCounters } from './netstat.js';
import { ceilingSite, shopSite, startNginxVariant, startNodeFloor } from './nginx-variants.js';
import type { BenchSettings } from './settings.js';
import { fmt, median } from './statistics.js';

const execFileAsync = promisify(execFile);

const PURCHASE_PATH = '/api/v1/flash-sales/current/purchase';
const STATUS_PATH = '/api/v1/flash-sales/current';
/** Each herd sells this much: the 1,000-buyer herd buys it all, the 10,000-buyer herd mostly meets SOLD_OUT. */
const HERD_STOCK = 1_000;
/** A buying run never sells out. */
const ENDLESS_STOCK = 1_000_000;
/** "Full speed returns within 2 s": the second second after the overload serves at least this share of capacity. */
const RECOVERED_SHARE = 0.8;
/** No answer later than this (the overload promise). */
const LONGEST_ANSWER_MS = 5_000;

export interface Run {
  report: HerdReport;
  cpu?: CpuSplit;
}

export interface HerdCheck {
  report: HerdReport;
  /** Every shopper 201 or 409, the stores agree, exactly the stock sold. */
  checks: { ok: boolean; text: string }[];
}

export interface ScalingPoint {
  replicas: number;
  cores: number;
  soldOutPerSecond: number;
  buyingPerSecond: number;
}

export interface OverloadResult {
  capacityPerSecond: number;
  offeredPerSecond: number;
  report: HerdReport;
  recovery: HerdReport;
  checks: { ok: boolean; text: string }[];
  /** What the kernel did with connections during the overload, before nginx accepted them (absent in older results). */
  kernel?: ListenCounters;
}

export interface CapacityResults {
  /** When the measurement started (ISO 8601), and on which commit. */
  startedAt: string;
  commit: string;
  machine: string;
  /** The machine's cores (absent in older results). */
  cores?: number;
  concurrency: number;
  /** How many replicas the shop had, and how many the local stack starts on this machine (absent in older results: 3). */
  replicas?: { measured: number; stackDefault: number };
  ceiling: { herd1k: HerdReport[]; herd10k: HerdReport[]; closed: Run[] };
  /** The shop's nginx in front of bare Node servers answering SOLD_OUT (floor-server.ts); absent in older results. */
  floor?: { herd1k: HerdReport[]; herd10k: HerdReport[]; closed: Run[] };
  shop: { herd1k: HerdCheck[]; herd10k: HerdCheck[]; soldOut: Run[]; buying: Run[]; status: Run[] };
  scaling: ScalingPoint[];
  overload: OverloadResult;
}

type Say = (line: string) => void;

function currentCommit(): string {
  try {
    return execFileSync('git', ['rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).trim();
  } catch {
    return 'unknown';
  }
}

const describeMachine = () =>
  `${cpus().length} × ${cpus()[0]?.model.trim() ?? 'unknown CPU'}, ${(totalmem() / 2 ** 30).toFixed(1)} GiB`;

/** A /16 of loopback addresses per measurement, so no address meets nginx's per-address limits. */
function addressBlocks() {
  let next = 0;
  return () => {
    const block = 64 + (next++ % 64);
    return `127.${block}.0.1-127.${block}.255.254`;
  };
}

const line = (label: string, r: HerdReport) =>
  `  ${label}: ${fmt(r.perSecond)} answers/s, p50 ${fmt(r.ms.p50, 1)} ms, p99 ${fmt(r.ms.p99, 1)} ms, max ${fmt(r.ms.max)} ms, ` +
  `${errorCount(r)} errors ${JSON.stringify(r.statuses)}; client ${fmt((r.cpuSeconds / r.seconds) * 100)}% of a core`;

export async function measureCapacity(input: {
  config: StackConfig;
  extra: Supervisor;
  stores: Stores;
  storesEnv: StoreCoordinates;
  settings: BenchSettings;
  say: Say;
}): Promise<CapacityResults> {
  const { config, extra, stores, storesEnv, settings, say } = input;
  const startedAt = new Date().toISOString();
  const runs = settings.BENCH_RUNS;
  const seconds = settings.BENCH_SECONDS;
  const concurrency = settings.BENCH_CONCURRENCY;
  const addresses = addressBlocks();
  const base = config.NGINX_PORT + 20;
  const ceilingUrl = await startNginxVariant(config, extra, 'capacity-ceiling', base, () => ceilingSite(base));
  // The shop as `npm start` runs it here, up to the bench stack's replicas (it has three, for the scaling runs).
  const stackDefault = defaultApiReplicas();
  const replicas = Math.min(stackDefault, config.apiPorts.length);
  const shop =
    replicas === config.apiPorts.length
      ? config.baseUrl
      : await startNginxVariant(config, extra, 'capacity-shop', base + 11, ({ cacheDir }) =>
          shopSite(config, base + 11, config.apiPorts.slice(0, replicas), cacheDir),
        );

  const closed = (url: string, extraOptions: Partial<HerdOptions> = {}) =>
    runHerd({ url, count: 100_000_000, concurrency, durationSeconds: seconds, addresses: addresses(), ...extraOptions });
  const purchase = (url: string, prefix: string, extraOptions: Partial<HerdOptions> = {}) =>
    closed(`${url}${PURCHASE_PATH}`, { method: 'POST', body: `{"userId":"${prefix}-%u"}`, ...extraOptions });
  // A herd on one client thread: on a thread per core, the client's threads take both cores from nginx while
  // they connect, and the ceiling's own herd p99 doubled (65 ms against 32 ms for 1,000): the stricter ceiling.
  const herd = (url: string, count: number, body?: string) =>
    runHerd({ url, count, threads: 1, addresses: addresses(), ...(body ? { method: 'POST' as const, body } : {}) });
  const repeat = async <T>(label: string, once: (run: number) => Promise<T>, report: (value: T) => HerdReport) => {
    const values: T[] = [];
    for (let run = 1; run <= runs; run++) {
      const value = await once(run);
      values.push(value);
      say(line(`${label} #${run}`, report(value)));
    }
    return values;
  };
  const withCpuOnFirst = (measure: () => Promise<HerdReport>) => {
    let first = true;
    return async (): Promise<Run> => {
      if (!first) return { report: await measure() };
      first = false;
      const { result, cpu } = await withCpu(config.stateDir, measure);
      return { report: result, cpu };
    };
  };

  say('\n==> capacity 1. the ceiling: nginx answering by itself, with the shop’s nginx.conf');
  const ceiling = {
    herd1k: await repeat('1,000 at once', () => herd(`${ceilingUrl}/`, 1_000), (r) => r),
    herd10k: await repeat('10,000 at once', () => herd(`${ceilingUrl}/`, 10_000), (r) => r),
    closed: await repeat(`${concurrency} in flight`, withCpuOnFirst(() => closed(`${ceilingUrl}/`)), (r) => r.report),
  };

  say('\n==> capacity 1b. the Node floor: the shop’s nginx in front of bare Node servers that answer SOLD_OUT and nothing else');
  const floorUrl = await startNodeFloor(config, extra, base + 10, replicas);
  // JIT-warm, as the shop is below.
  await purchase(floorUrl, 'floor-warm', { durationSeconds: 3 });
  const floor = {
    herd1k: await repeat('1,000 at once', () => herd(`${floorUrl}${PURCHASE_PATH}`, 1_000, '{"userId":"floor-%u"}'), (r) => r),
    herd10k: await repeat('10,000 at once', () => herd(`${floorUrl}${PURCHASE_PATH}`, 10_000, '{"userId":"floor-%u"}'), (r) => r),
    closed: await repeat(`${concurrency} in flight`, withCpuOnFirst(() => purchase(floorUrl, 'floor')), (r) => r.report),
  };

  say(`\n==> capacity 2. the shop through nginx, ${replicas} replicas (the local stack starts ${stackDefault} here: one per core, at least two)`);
  // JIT-warm every replica on both paths, and give each the sold-out memo.
  await createSale(storesEnv, 1, 'Capacity: warm-up');
  await purchase(shop, `warm-${Date.now()}`, { durationSeconds: 3 });
  await createSale(storesEnv, ENDLESS_STOCK, 'Capacity: warm-up');
  await purchase(shop, `warm-buy-${Date.now()}`, { durationSeconds: 3 });

  await createSale(storesEnv, 1, 'Capacity: sold out');
  await purchase(shop, `sold-out-warm-${Date.now()}`, { durationSeconds: 1 });
  const soldOut = await repeat('sold out', withCpuOnFirst(() => purchase(shop, `sold-out-${Date.now()}`)), (r) => r.report);
  const buyingSale = await createSale(storesEnv, ENDLESS_STOCK, 'Capacity: buying');
  const buying = await repeat('buying', withCpuOnFirst(() => purchase(shop, `buying-${Date.now()}`)), (r) => r.report);
  // The reconciler's backlog from the buying runs is not the status path's cost: it runs on a settled stack.
  await waitForReconcile(stores, buyingSale, 120_000);
  const status = await repeat('status', withCpuOnFirst(() => closed(`${shop}${STATUS_PATH}`)), (r) => r.report);

  const checkedHerd = async (count: number): Promise<HerdCheck> => {
    const saleId = await createSale(storesEnv, HERD_STOCK, `Capacity: herd of ${count}`);
    const report = await herd(`${shop}${PURCHASE_PATH}`, count, `{"userId":"herd-${count}-${Date.now()}-%u"}`);
    await waitForReconcile(stores, saleId);
    const { facts } = await readStoreFacts(stores, { id: saleId, stock: HERD_STOCK });
    const decided = (report.statuses['201'] ?? 0) + (report.statuses['409'] ?? 0);
    const checks = [
      { ok: decided === count, text: `every shopper got 201 or 409 (${fmt(decided)} of ${fmt(count)})` },
      { ok: facts.confirmed === Math.min(HERD_STOCK, count), text: `sold exactly ${fmt(Math.min(HERD_STOCK, count))} (${fmt(facts.confirmed)})` },
      { ok: (report.statuses['201'] ?? 0) === facts.confirmed, text: `as many 201s as purchases in Postgres (${fmt(report.statuses['201'] ?? 0)})` },
      ...storeInvariants(facts),
    ];
    return { report, checks };
  };
  const herd1k = await repeat('1,000 buyers at once', () => checkedHerd(1_000), (r) => r.report);
  const herd10k = await repeat('10,000 buyers at once', () => checkedHerd(10_000), (r) => r.report);

  say('\n==> capacity 3. scaling: 1, 2 and 3 replicas, pinned to one core and then to two');
  const scaling = await measureScaling({ config, extra, storesEnv, seconds, purchase, say });

  say(`\n==> capacity 4. overload: ${settings.BENCH_OVERLOAD_FACTOR}× the buying capacity for ${settings.BENCH_OVERLOAD_SECONDS} s`);
  const capacityPerSecond = median(buying.map((r) => r.report.perSecond));
  const overload = await measureOverload({ stores, storesEnv, shop, capacityPerSecond, settings, addresses, purchase, say });

  return { startedAt, commit: currentCommit(), machine: describeMachine(), cores: cpus().length, concurrency, replicas: { measured: replicas, stackDefault }, ceiling, floor, shop: { herd1k, herd10k, soldOut, buying, status }, scaling, overload };
}

async function pinReplicas(config: StackConfig, cpus: string) {
  for (const port of config.apiPorts) {
    const pid = readPid(join(config.stateDir, 'pids', `api-${port}.pid`));
    await execFileAsync('taskset', ['-a', '-p', '-c', cpus, String(pid)]);
  }
}

async function measureScaling(input: {
  config: StackConfig;
  extra: Supervisor;
  storesEnv: StoreCoordinates;
  seconds: number;
  purchase: (url: string, prefix: string, options?: Partial<HerdOptions>) => Promise<HerdReport>;
  say: Say;
}): Promise<ScalingPoint[]> {
  const { config, extra, storesEnv, purchase, say } = input;
  const points: ScalingPoint[] = [];
  const allCores = `0-${cpus().length - 1}`;
  try {
    for (let replicas = 1; replicas <= config.apiPorts.length; replicas++) {
      const port = config.NGINX_PORT + 20 + replicas;
      const url = await startNginxVariant(config, extra, `capacity-${replicas}`, port, ({ cacheDir }) =>
        shopSite(config, port, config.apiPorts.slice(0, replicas), cacheDir),
      );
      for (const [cores, cpus] of [[1, '0'], [2, '0,1']] as const) {
        await pinReplicas(config, cpus);
        await createSale(storesEnv, 1, 'Capacity: scaling, sold out');
        await purchase(url, `scale-warm-${Date.now()}`, { durationSeconds: 1 });
        const soldOut = await purchase(url, `scale-sold-out-${Date.now()}`, { durationSeconds: input.seconds });
        await createSale(storesEnv, ENDLESS_STOCK, 'Capacity: scaling, buying');
        const buying = await purchase(url, `scale-buying-${Date.now()}`, { durationSeconds: input.seconds });
        points.push({ replicas, cores, soldOutPerSecond: soldOut.perSecond, buyingPerSecond: buying.perSecond });
        say(`  ${replicas} replica(s) on ${cores} core(s): sold out ${fmt(soldOut.perSecond)}/s, buying ${fmt(buying.perSecond)}/s`);
      }
    }
  } finally {
    await pinReplicas(config, allCores);
  }
  return points;
}

async function measureOverload(input: {
  stores: Stores;
  storesEnv: StoreCoordinates;
  shop: string;
  capacityPerSecond: number;
  settings: BenchSettings;
  addresses: () => string;
  purchase: (url: string, prefix: string, options?: Partial<HerdOptions>) => Promise<HerdReport>;
  say: Say;
}): Promise<OverloadResult> {
  const { stores, storesEnv, shop, capacityPerSecond, settings, say } = input;
  const offeredPerSecond = Math.round(capacityPerSecond * settings.BENCH_OVERLOAD_FACTOR);
  const saleId = await createSale(storesEnv, ENDLESS_STOCK, 'Capacity: overload');
  const countersBefore = readListenCounters();
  const report = await runHerd({
    url: `${shop}${PURCHASE_PATH}`,
    count: offeredPerSecond * settings.BENCH_OVERLOAD_SECONDS,
    rate: offeredPerSecond,
    durationSeconds: settings.BENCH_OVERLOAD_SECONDS,
    method: 'POST',
    body: `{"userId":"overload-${Date.now()}-%u"}`,
    addresses: input.addresses(),
    timeoutMs: 10_000,
  });
  const kernel = countersSince(countersBefore, readListenCounters());
  say(line('overload', report));
  say(`  kernel: ${fmt(kernel.listenOverflows)} connection attempts dropped by a full accept queue, ${fmt(kernel.synRetransmits)} SYNs sent again`);
  // Straight after: the buying path at the usual concurrency, second by second.
  const recovery = await input.purchase(shop, `recovery-${Date.now()}`, { durationSeconds: 5 });
  say(line('right after', recovery));
  await waitForReconcile(stores, saleId, 120_000);
  const { facts } = await readStoreFacts(stores, { id: saleId, stock: ENDLESS_STOCK });

  const allowed = new Set(['201', '409', '429', '503']);
  const others = Object.entries(report.statuses).filter(([status]) => !allowed.has(status));
  const confirmedAnswers = (report.statuses['201'] ?? 0) + (recovery.statuses['201'] ?? 0);
  const secondSecond = Object.values(recovery.timeline[1] ?? {}).reduce((sum, n) => sum + n, 0);
  const checks = [
    { ok: others.length === 0, text: `every answer 201, 409, 429 or 503 (others: ${others.length ? JSON.stringify(Object.fromEntries(others)) : 'none'})` },
    { ok: report.unavailableWithoutRetryAfter === 0, text: `every 503 with Retry-After (${report.unavailableWithoutRetryAfter} without)` },
    { ok: report.errors.timeout === 0 && report.ms.max <= LONGEST_ANSWER_MS, text: `no answer later than 5 s (longest ${fmt(report.ms.max)} ms, ${report.errors.timeout} unanswered after 10 s)` },
    { ok: errorCount(report) === 0, text: `no connection refused or reset (${errorCount(report)}, of which ${report.unsent} the client could not send)` },
    { ok: facts.confirmed >= confirmedAnswers, text: `no 201 lost: ${fmt(confirmedAnswers)} answered 201, ${fmt(facts.confirmed)} purchases in Postgres` },
    ...storeInvariants(facts),
    {
      ok: secondSecond >= RECOVERED_SHARE * capacityPerSecond,
      text: `full speed within 2 s after: ${fmt(secondSecond)} answers in the second second, capacity ${fmt(capacityPerSecond)}/s`,
    },
  ];
  return { capacityPerSecond, offeredPerSecond, report, recovery, checks, kernel };
}
