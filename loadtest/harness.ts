/**
 * One scenario, start to finish: create its sale with the operator command,
 * run k6 from many loopback addresses (one process, or several that each run
 * an execution segment: runSplitK6), wait for the reconciler, verify the
 * stores once and write the T-10 report. Used by `npm run loadtest` (run.ts)
 * and by the smoke suite in the test command (smoke.load.test.ts).
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { createReadStream, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { createGunzip } from 'node:zlib';
import { REPO_ROOT } from '../stack/src/config.js';
import { FLASHFLOW } from '../stack/src/services.js';
import {
  TrendSamples,
  executionSegments,
  inspectedThresholds,
  instanceName,
  mergeSummaries,
  sharedBuyerIds,
  splitAddressRange,
  type K6Summary,
} from './distributed.js';
import { ensureK6 } from './k6.js';
import { counterSum, histogram, histogramDelta, quantile, scrape, type Histogram, type Sample } from './prom.js';
import type { ScenarioPlan } from './suite.js';
import {
  connectStores,
  readAttempts,
  rejectionsByReason,
  type Attempt,
  verifySale,
  waitForReconcile,
  type StoreCoordinates,
  type Verdict,
} from './verify.js';

const execFileAsync = promisify(execFile);

export interface LoadTarget {
  /** nginx, the shop's front door. */
  baseUrl: string;
  stores: StoreCoordinates;
  /** Each API replica directly, for its /metrics. */
  apiUrls: string[];
  /** The reconciler's metrics endpoint, for the reconcile lag; null to skip. */
  reconcilerMetricsUrl: string | null;
  /** Results go to <outDir>/<scenario>/. */
  outDir: string;
  /** Buyer-id prefix (K6_INSTANCE): unique per k6 instance and run. */
  instance: string;
  /** Also export k6's own HTML report (the web dashboard's export). */
  webDashboard?: boolean;
}

export interface ScenarioResult {
  plan: ScenarioPlan;
  saleId: string;
  k6ExitCode: number | null;
  failedThresholds: string[];
  attempts: number;
  verdict: Verdict;
  report: string;
  ok: boolean;
  resultDir: string;
  /** Parsed k6 summary (handleSummary's JSON). */
  summary: K6Summary | null;
  apiStatusRequestsPerSecond: number | null;
  reconcileLag: { p50: number | null; p99: number | null; count: number } | null;
  /** Set when the scenario ran over several k6 processes (--instances). */
  split: SplitRun | null;
}

export type { K6Summary } from './distributed.js';

/** How one scenario's k6 ran when it was split over several processes. */
export interface SplitRun {
  /** --execution-segment of each process, in order. */
  segments: string[];
  /** Each process's --local-ips: disjoint. */
  localIps: string[];
  /** Each process's K6_INSTANCE, the prefix of its buyer ids. */
  instances: string[];
  exitCodes: (number | null)[];
}

type Say = (line: string) => void;

const running = new Set<ChildProcess>();
let stopped = false;

/** Stops every k6 this process started, and refuses to start more (Ctrl-C). */
export function stopK6Runs(): void {
  stopped = true;
  for (const child of running) child.kill('SIGTERM');
}

/** The operator command, exactly as an operator runs it (replacing the sale before); returns the new sale's id. */
export async function createSale(stores: StoreCoordinates, stock: number, product: string): Promise<string> {
  const { stdout } = await execFileAsync(
    FLASHFLOW,
    [
      'sale',
      'create',
      '--stock', String(stock),
      '--starts-in', '0s',
      '--duration', '15m',
      '--product', product,
      '--replace',
    ],
    { env: { ...process.env, NODE_ENV: 'production', LOG_LEVEL: 'warn', OTEL_SDK_DISABLED: 'true', ...stores }, cwd: REPO_ROOT },
  );
  const created = (JSON.parse(stdout) as { created?: { id?: string } }).created;
  if (!created?.id) throw new Error(`the operator command printed no sale id: ${stdout}`);
  return created.id;
}

export interface K6Run {
  script: string;
  env: Record<string, string>;
  localIps: string;
  consoleFile?: string;
  /** More k6 run flags (execution segments, --paused, --out…), before the script. */
  args?: string[];
  /** Extra environment for k6 itself (K6_WEB_DASHBOARD…). */
  processEnv?: Record<string, string>;
  onLine?: Say;
}

/** A k6 that was started; `done` resolves with its exit code (0 all thresholds passed, 99 some failed) and its output. */
export interface StartedK6 {
  child: ChildProcess;
  done: Promise<{ code: number | null; output: string }>;
}

export async function startK6(run: K6Run): Promise<StartedK6> {
  if (stopped) throw new Error('interrupted: no more k6 runs');
  const k6 = await ensureK6();
  const args = ['run', '--quiet', '--no-usage-report', '--log-format', 'json', '--local-ips', run.localIps];
  if (run.consoleFile) args.push('--console-output', run.consoleFile);
  for (const [key, value] of Object.entries(run.env)) args.push('-e', `${key}=${value}`);
  args.push(...(run.args ?? []), run.script);
  const child = spawn(k6, args, {
    cwd: REPO_ROOT,
    env: { ...process.env, K6_NO_USAGE_REPORT: 'true', ...run.processEnv },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  running.add(child);
  const done = new Promise<{ code: number | null; output: string }>((resolve, reject) => {
    let output = '';
    let pending = '';
    const take = (chunk: Buffer) => {
      const text = chunk.toString('utf8');
      output += text;
      pending += text;
      const lines = pending.split('\n');
      pending = lines.pop() ?? '';
      for (const line of lines) run.onLine?.(line);
    };
    child.stdout.on('data', take);
    child.stderr.on('data', take);
    child.on('error', (error) => {
      running.delete(child);
      reject(error);
    });
    child.on('exit', (code) => {
      running.delete(child);
      if (pending) run.onLine?.(pending);
      resolve({ code, output });
    });
  });
  // Whoever awaits `done` sees a failure to start; until then it is no unhandled rejection.
  done.catch(() => undefined);
  return { child, done };
}

/** Runs k6 and resolves with its exit code (0 all thresholds passed, 99 some failed) and its output. */
export async function runK6(run: K6Run): Promise<{ code: number | null; output: string }> {
  return (await startK6(run)).done;
}

async function scrapeAll(urls: string[]): Promise<Sample[]> {
  const results = await Promise.allSettled(urls.map(scrape));
  return results.flatMap((r) => (r.status === 'fulfilled' ? r.value : []));
}

const STATUS_ROUTE = '/api/v1/flash-sales/current';
const statusRequests = (samples: Sample[]) =>
  counterSum(samples, 'flashflow_http_requests_total', (l) => l.method === 'GET' && l.route === STATUS_ROUTE);

async function reconcileLagHistogram(url: string | null): Promise<Histogram | null> {
  if (!url) return null;
  try {
    return histogram(await scrape(url), 'flashflow_reconcile_lag_seconds');
  } catch {
    return null;
  }
}

const ms = (value: number | undefined) => (value === undefined ? 'n/a' : `${value.toFixed(1)} ms`);
const seconds = (value: number | null) => (value === null ? 'n/a' : `${(value * 1000).toFixed(0)} ms`);

/** k6's lines worth showing: its own text, and its JSON log lines at warning or error. */
function k6Lines(say: Say, tag = ''): Say {
  return (line) => {
    if (line.trim() && !line.startsWith('{')) say(`  k6 | ${tag}${line}`);
    else if (line.includes('"level":"error"') || line.includes('"level":"warning"')) say(`  k6 | ${tag}${line}`);
  };
}

function webDashboardEnv(target: LoadTarget, dir: string, scenario: string): Record<string, string> {
  return target.webDashboard
    ? {
        K6_WEB_DASHBOARD: 'true',
        K6_WEB_DASHBOARD_PORT: '-1',
        K6_WEB_DASHBOARD_PERIOD: '1s',
        K6_WEB_DASHBOARD_EXPORT: join(dir, `${scenario}.k6-report.html`),
      }
    : {};
}

function readText(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return '';
  }
}

function readSummary(file: string): K6Summary | null {
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as K6Summary;
  } catch {
    return null;
  }
}

/** What k6 produced for a scenario, from one process or merged from several. */
interface K6Outcome {
  code: number | null;
  summary: K6Summary | null;
  attempts: Attempt[];
  /** Why the thresholds could not all be evaluated (split runs only). */
  problems: string[];
  split?: SplitRun;
  /** Buyer ids each process used (split runs only). */
  buyersByInstance?: Set<string>[];
}

/** One k6 process for the whole scenario: how every run went before --instances, unchanged. */
async function runOneK6(
  target: LoadTarget,
  plan: ScenarioPlan,
  env: Record<string, string>,
  resultDir: string,
  say: Say,
): Promise<K6Outcome> {
  const consoleFile = join(resultDir, 'k6-console.jsonl');
  const k6 = await runK6({
    script: plan.script,
    localIps: plan.localIps,
    consoleFile,
    env: { ...env, K6_INSTANCE: target.instance, SUMMARY_DIR: resultDir },
    processEnv: webDashboardEnv(target, resultDir, plan.name),
    onLine: k6Lines(say),
  });
  writeFileSync(join(resultDir, 'k6-output.log'), k6.output);
  return {
    code: k6.code,
    summary: readSummary(join(resultDir, `${plan.name}.summary.json`)),
    attempts: readAttempts(consoleFile),
    problems: [],
  };
}

/** Ports nothing listens on now, one per process, for k6's REST API (--address). */
async function freePorts(count: number): Promise<number[]> {
  const servers = await Promise.all(
    Array.from(
      { length: count },
      () =>
        new Promise<ReturnType<typeof createServer>>((resolve, reject) => {
          const server = createServer();
          server.once('error', reject);
          server.listen(0, '127.0.0.1', () => resolve(server));
        }),
    ),
  );
  const ports = servers.map((server) => {
    const address = server.address();
    return typeof address === 'object' && address ? address.port : 0;
  });
  await Promise.all(servers.map((server) => new Promise((resolve) => server.close(resolve))));
  return ports;
}

/** k6's ExecutionStatusPausedBeforeRun: VUs initialised, waiting to be resumed (before setup()). */
const K6_PAUSED_BEFORE_RUN = 4;

async function k6Status(port: number): Promise<{ status: number; paused: boolean } | null> {
  try {
    const response = await fetch(`http://127.0.0.1:${port}/v1/status`, { signal: AbortSignal.timeout(2_000) });
    if (!response.ok) return null;
    return ((await response.json()) as { data: { attributes: { status: number; paused: boolean } } }).data.attributes;
  } catch {
    return null; // not listening yet
  }
}

async function waitUntilPaused(port: number, k6: StartedK6, label: string, timeoutMs = 180_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (k6.child.exitCode !== null || k6.child.signalCode !== null) {
      throw new Error(`k6 ${label} exited (${k6.child.exitCode ?? k6.child.signalCode}) before its virtual users were ready`);
    }
    const status = await k6Status(port);
    if (status && status.paused && status.status === K6_PAUSED_BEFORE_RUN) return;
    if (Date.now() > deadline) throw new Error(`k6 ${label} did not get its virtual users ready within ${timeoutMs / 1000} s`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

async function resumeK6(port: number): Promise<void> {
  const response = await fetch(`http://127.0.0.1:${port}/v1/status`, {
    method: 'PATCH',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ data: { type: 'status', id: 'default', attributes: { paused: false } } }),
    signal: AbortSignal.timeout(5_000),
  });
  if (!response.ok) throw new Error(`k6 on port ${port} refused to resume: ${response.status} ${await response.text()}`);
}

/** The script's thresholds with these settings, as k6 itself reads them (`k6 inspect`). */
async function scriptThresholds(script: string, env: Record<string, string>): Promise<Record<string, string[]>> {
  const k6 = await ensureK6();
  const args = ['inspect', ...Object.entries(env).flatMap(([key, value]) => ['-e', `${key}=${value}`]), script];
  const { stdout } = await execFileAsync(k6, args, { cwd: REPO_ROOT, maxBuffer: 16 * 1024 * 1024 });
  return inspectedThresholds(JSON.parse(stdout));
}

/** The samples of the given trends in k6's gzipped JSON outputs, streamed (a full-size run writes millions of lines). */
async function readTrendSamples(files: string[], keys: string[]): Promise<TrendSamples> {
  const samples = new TrendSamples(keys);
  for (const file of files) {
    const input = createReadStream(file);
    const gunzip = createGunzip();
    input.on('error', (error) => gunzip.destroy(error));
    let pending = '';
    for await (const chunk of input.pipe(gunzip)) {
      pending += (chunk as Buffer).toString('utf8');
      const lines = pending.split('\n');
      pending = lines.pop() ?? '';
      for (const line of lines) samples.addLine(line);
    }
    if (pending) samples.addLine(pending);
  }
  return samples;
}

/**
 * The scenario over n k6 processes, as k6-operator distributes a test: the same
 * script and settings, each process one execution segment of it (its share of
 * the VUs and arrivals), its own loopback addresses and buyer-id prefix. All
 * start paused and are resumed together once every one has its VUs ready, so
 * a herd still arrives within its window. Each runs without thresholds and
 * writes its raw samples; the summaries are merged and the thresholds
 * evaluated once over the union (distributed.ts).
 */
async function runSplitK6(
  target: LoadTarget,
  plan: ScenarioPlan,
  env: Record<string, string>,
  resultDir: string,
  n: number,
  say: Say,
): Promise<K6Outcome> {
  const { sequence, segments } = executionSegments(n);
  const localIps = splitAddressRange(plan.localIps, n);
  const names = segments.map((_, i) => instanceName(target.instance, i, n));
  const dirs = segments.map((_, i) => join(resultDir, `instance-${i + 1}`));
  for (const dir of dirs) mkdirSync(dir, { recursive: true });
  const [thresholds, ports] = await Promise.all([scriptThresholds(plan.script, env), freePorts(n)]);
  say(`  k6 over ${n} processes, execution segments ${segments.join(', ')} (sequence ${sequence})`);

  const started: StartedK6[] = [];
  try {
    for (const [i, segment] of segments.entries()) {
      started.push(
        await startK6({
          script: plan.script,
          localIps: localIps[i]!,
          consoleFile: join(dirs[i]!, 'k6-console.jsonl'),
          env: { ...env, K6_INSTANCE: names[i]!, SUMMARY_DIR: dirs[i]!, SUMMARY_STDOUT: 'false' },
          args: [
            '--execution-segment', segment,
            '--execution-segment-sequence', sequence,
            '--no-thresholds',
            '--paused',
            '--address', `127.0.0.1:${ports[i]}`,
            '--out', `json=${join(dirs[i]!, 'k6-metrics.json.gz')}`,
          ],
          processEnv: webDashboardEnv(target, dirs[i]!, plan.name),
          onLine: k6Lines(say, `[${i + 1}/${n}] `),
        }),
      );
    }
    await Promise.all(started.map((k6, i) => waitUntilPaused(ports[i]!, k6, `${i + 1}/${n}`)));
    await Promise.all(ports.map(resumeK6));
  } catch (error) {
    for (const k6 of started) k6.child.kill('SIGTERM');
    const outputs = await Promise.allSettled(started.map((k6) => k6.done));
    outputs.forEach((o, i) => {
      if (o.status === 'fulfilled') writeFileSync(join(dirs[i]!, 'k6-output.log'), o.value.output);
    });
    throw error;
  }
  const runs = await Promise.all(started.map((k6) => k6.done));
  runs.forEach((run, i) => writeFileSync(join(dirs[i]!, 'k6-output.log'), run.output));

  const exitCodes = runs.map((run) => run.code);
  const split: SplitRun = { segments, localIps, instances: names, exitCodes };
  const perInstance = dirs.map((dir) => readAttempts(join(dir, 'k6-console.jsonl')));
  // One purchase log for the scenario, as with one process.
  writeFileSync(join(resultDir, 'k6-console.jsonl'), dirs.map((dir) => readText(join(dir, 'k6-console.jsonl'))).join(''));

  const problems: string[] = [];
  const parts = dirs.map((dir) => readSummary(join(dir, `${plan.name}.summary.json`)));
  let summary: K6Summary | null = null;
  const missing = parts.flatMap((part, i) => (part ? [] : [i + 1]));
  if (missing.length) problems.push(`no k6 summary from instance ${missing.join(', ')}: thresholds not evaluated`);
  else {
    try {
      const present = parts as K6Summary[];
      const trends = present.flatMap((p) => Object.keys(p.metrics).filter((key) => p.metrics[key]!.type === 'trend'));
      const samples = await readTrendSamples(
        dirs.map((dir) => join(dir, 'k6-metrics.json.gz')),
        [...new Set(trends)],
      );
      summary = mergeSummaries(present, (key) => samples.get(key), thresholds);
      writeFileSync(join(resultDir, `${plan.name}.summary.json`), JSON.stringify({ ...summary, split }, null, 2));
    } catch (error) {
      problems.push(`the ${n} summaries could not be merged: ${error instanceof Error ? error.message : String(error)}`);
    }
  }
  return {
    code: exitCodes.every((code) => code === 0) ? 0 : (exitCodes.find((code) => code !== 0) ?? null),
    summary,
    attempts: perInstance.flat(),
    problems,
    split,
    buyersByInstance: perInstance.map((attempts) => new Set(attempts.map((a) => a.userId))),
  };
}

export interface RunOptions {
  /** k6 processes for the scenario, each running one execution segment (default 1: one process, as always). */
  instances?: number;
}

export async function runScenario(target: LoadTarget, plan: ScenarioPlan, say: Say, options: RunOptions = {}): Promise<ScenarioResult> {
  const instances = options.instances ?? 1;
  const resultDir = join(target.outDir, plan.name);
  rmSync(resultDir, { recursive: true, force: true });
  mkdirSync(resultDir, { recursive: true });
  const stores = connectStores(target.stores);
  try {
    const [lagBefore, apiBefore] = await Promise.all([
      reconcileLagHistogram(target.reconcilerMetricsUrl),
      scrapeAll(target.apiUrls.map((u) => `${u}/metrics`)),
    ]);

    const saleId = await createSale(target.stores, plan.stock, `Load test: ${plan.name}`);
    say(`  sale ${saleId} created with the operator command (${plan.stock} units)`);

    const started = Date.now();
    const env = { ...plan.env, BASE_URL: target.baseUrl, SALE_ID: saleId, STOCK: String(plan.stock) };
    const k6 =
      instances === 1
        ? await runOneK6(target, plan, env, resultDir, say)
        : await runSplitK6(target, plan, env, resultDir, instances, say);
    const wallSeconds = (Date.now() - started) / 1000;

    const { summary, attempts } = k6;
    const failedThresholds = [
      ...Object.entries(summary?.metrics ?? {}).flatMap(([name, metric]) =>
        Object.entries(metric.thresholds ?? {})
          .filter(([, r]) => !r.ok)
          .map(([expression]) => `${name}: ${expression}`),
      ),
      ...k6.problems,
    ];

    const reconcileMs = await waitForReconcile(stores, saleId);
    const [lagAfter, apiAfter] = await Promise.all([
      reconcileLagHistogram(target.reconcilerMetricsUrl),
      scrapeAll(target.apiUrls.map((u) => `${u}/metrics`)),
    ]);
    // Once, over what every process saw, against the stores.
    const verdict = await verifySale(stores, { id: saleId, stock: plan.stock }, attempts, plan.expectation);
    if (k6.buyersByInstance && plan.expectation !== 'one-buyer') {
      // Two processes sending the same buyer id would turn a second shopper into ALREADY_PURCHASED.
      const shared = sharedBuyerIds(k6.buyersByInstance);
      verdict.checks.push({
        ok: shared.length === 0,
        text: `no buyer id sent by two of the ${instances} k6 instances (${shared.length} shared${shared.length ? `: ${shared.slice(0, 3).join(', ')}` : ''})`,
      });
      verdict.ok = verdict.checks.every((c) => c.ok);
    }

    // How much of the status traffic reached the API, per second of the run.
    const runSeconds = (summary?.state?.testRunDurationMs ?? wallSeconds * 1000) / 1000;
    const apiStatusRequestsPerSecond =
      apiBefore.length && apiAfter.length ? (statusRequests(apiAfter) - statusRequests(apiBefore)) / runSeconds : null;
    if (plan.maxApiRequestsPerSecond !== undefined) {
      const rate = apiStatusRequestsPerSecond;
      verdict.checks.push({
        ok: rate !== null && rate <= plan.maxApiRequestsPerSecond,
        text: `status requests reaching the API: ${rate === null ? 'unknown' : `${rate.toFixed(1)}/s`} ≤ ${plan.maxApiRequestsPerSecond}/s (micro-cache)`,
      });
      verdict.ok = verdict.checks.every((c) => c.ok);
    }

    const lag = lagBefore && lagAfter ? histogramDelta(lagAfter, lagBefore) : null;
    const reconcileLag = lag ? { p50: quantile(lag, 0.5), p99: quantile(lag, 0.99), count: lag.count } : null;

    // One process exits 99 when a threshold failed; split processes run without thresholds, evaluated over their union.
    const k6Ok = k6.code === 0 && failedThresholds.length === 0;
    const report = t10Report({
      plan,
      saleId,
      summary,
      attempts,
      verdict,
      k6Code: k6.code,
      failedThresholds,
      reconcileMs,
      reconcileLag,
      apiStatusRequestsPerSecond,
      wallSeconds,
      split: k6.split,
    });
    writeFileSync(join(resultDir, 't10-report.txt'), report);
    return {
      plan,
      saleId,
      k6ExitCode: k6.code,
      failedThresholds,
      attempts: attempts.length,
      verdict,
      report,
      ok: k6Ok && verdict.ok,
      resultDir,
      summary,
      apiStatusRequestsPerSecond,
      reconcileLag,
      split: k6.split ?? null,
    };
  } finally {
    await stores.close();
  }
}

interface ReportInput {
  plan: ScenarioPlan;
  saleId: string;
  summary: K6Summary | null;
  attempts: ReturnType<typeof readAttempts>;
  verdict: Verdict;
  k6Code: number | null;
  failedThresholds: string[];
  reconcileMs: number;
  reconcileLag: { p50: number | null; p99: number | null; count: number } | null;
  apiStatusRequestsPerSecond: number | null;
  wallSeconds: number;
  /** Several k6 processes: the latency is over the union of their samples, the thresholds over the merged summary. */
  split?: SplitRun | undefined;
}

/** T-10: total attempts, successes, rejections by reason, final stock, latency, reconcile lag. */
export function t10Report(input: ReportInput): string {
  const { plan, summary, attempts, verdict, split } = input;
  const thresholds = input.failedThresholds.length === 0 ? 'all passed' : `FAILED: ${input.failedThresholds.join('; ')}`;
  const statusOnly = plan.expectation === 'status-only';
  const latencyMetric = summary?.metrics[statusOnly ? 'http_req_duration{name:status}' : 'http_req_duration{name:purchase}'];
  const v = latencyMetric?.values ?? {};
  const iterations = summary?.metrics.iterations?.values;
  const successes = attempts.filter((a) => a.status === 201).length;
  const reasons = Object.entries(rejectionsByReason(attempts))
    .sort((a, b) => b[1] - a[1])
    .map(([reason, n]) => `${reason} ${n}`)
    .join(', ');
  const f = verdict.facts;
  const lines = [
    `T-10 report: ${plan.name}: ${plan.title}`,
    `  sale                ${input.saleId} (stock ${plan.stock})`,
    statusOnly
      ? `  status requests     ${iterations?.count ?? 'n/a'} (${iterations ? `${(iterations.rate ?? 0).toFixed(0)}/s` : 'n/a'}; dropped arrivals ${summary?.metrics.dropped_iterations?.values.count ?? 0})`
      : `  attempts            ${attempts.length}${plan.env.BUYERS ? ` (of ${plan.env.BUYERS} arrivals planned within ${plan.env.WINDOW ?? '1s'})` : ''}`,
    `  successes (201)     ${successes}`,
    `  rejections          ${attempts.length - successes}${reasons ? `: ${reasons}` : ''}`,
    `  final stock         Redis ${f.redisRemaining}, Postgres ${f.postgresRemaining} (confirmed ${f.confirmed} of ${f.stock})`,
    `  latency (${statusOnly ? 'status' : 'purchase'})  p50 ${ms(v.med)}, p95 ${ms(v['p(95)'])}, p99 ${ms(v['p(99)'])}, max ${ms(v.max)}` +
      (split ? ` (over all ${split.segments.length} instances' samples)` : ''),
    `  reconcile lag       ${input.reconcileLag ? `p50 ${seconds(input.reconcileLag.p50)}, p99 ${seconds(input.reconcileLag.p99)} over ${input.reconcileLag.count} purchases (histogram estimate)` : 'n/a'}; backlog drained ${(input.reconcileMs / 1000).toFixed(1)} s after k6 ended`,
    ...(input.apiStatusRequestsPerSecond !== null && statusOnly
      ? [`  reached the API     ${input.apiStatusRequestsPerSecond.toFixed(1)} status requests/s`]
      : []),
    split
      ? `  k6                  ${split.segments.length} instances (execution segments ${split.segments.join(', ')}), exit ${split.exitCodes.join(', ')} in ${input.wallSeconds.toFixed(1)} s; thresholds over their union ${thresholds}`
      : `  k6                  exit ${input.k6Code} in ${input.wallSeconds.toFixed(1)} s; thresholds ${thresholds}`,
    '  invariants',
    ...verdict.checks.map((c) => `    ${c.ok ? '✓' : '✗'} ${c.text}`),
    `  => ${input.k6Code === 0 && input.failedThresholds.length === 0 && verdict.ok ? 'PASS' : 'FAIL'}`,
  ];
  return `${lines.join('\n')}\n`;
}
