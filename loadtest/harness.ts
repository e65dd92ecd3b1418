/**
 * One scenario, start to finish: create its sale with the operator command,
 * run k6 from many loopback addresses, wait for the reconciler, verify the
 * stores and write the T-10 report. Used by `npm run loadtest` (run.ts) and
 * by the smoke suite in the test command (smoke.load.test.ts).
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { REPO_ROOT } from '../stack/src/config.js';
import { FLASHFLOW } from '../stack/src/services.js';
import { ensureK6 } from './k6.js';
import { counterSum, histogram, histogramDelta, quantile, scrape, type Histogram, type Sample } from './prom.js';
import type { ScenarioPlan } from './suite.js';
import {
  connectStores,
  readAttempts,
  rejectionsByReason,
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
}

export interface K6Summary {
  state?: { testRunDurationMs?: number };
  metrics: Record<string, { type: string; values: Record<string, number>; thresholds?: Record<string, { ok: boolean }> }>;
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
  /** Extra environment for k6 itself (K6_WEB_DASHBOARD…). */
  processEnv?: Record<string, string>;
  onLine?: Say;
}

/** Runs k6 and resolves with its exit code (0 all thresholds passed, 99 some failed) and its output. */
export async function runK6(run: K6Run): Promise<{ code: number | null; output: string }> {
  if (stopped) throw new Error('interrupted: no more k6 runs');
  const k6 = await ensureK6();
  const args = ['run', '--quiet', '--no-usage-report', '--log-format', 'json', '--local-ips', run.localIps];
  if (run.consoleFile) args.push('--console-output', run.consoleFile);
  for (const [key, value] of Object.entries(run.env)) args.push('-e', `${key}=${value}`);
  args.push(run.script);
  return new Promise((resolve, reject) => {
    const child = spawn(k6, args, {
      cwd: REPO_ROOT,
      env: { ...process.env, K6_NO_USAGE_REPORT: 'true', ...run.processEnv },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    running.add(child);
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

export async function runScenario(target: LoadTarget, plan: ScenarioPlan, say: Say): Promise<ScenarioResult> {
  const resultDir = join(target.outDir, plan.name);
  rmSync(resultDir, { recursive: true, force: true });
  mkdirSync(resultDir, { recursive: true });
  const consoleFile = join(resultDir, 'k6-console.jsonl');
  const stores = connectStores(target.stores);
  try {
    const [lagBefore, apiBefore] = await Promise.all([
      reconcileLagHistogram(target.reconcilerMetricsUrl),
      scrapeAll(target.apiUrls.map((u) => `${u}/metrics`)),
    ]);

    const saleId = await createSale(target.stores, plan.stock, `Load test: ${plan.name}`);
    say(`  sale ${saleId} created with the operator command (${plan.stock} units)`);

    const started = Date.now();
    const k6 = await runK6({
      script: plan.script,
      localIps: plan.localIps,
      consoleFile,
      env: {
        ...plan.env,
        BASE_URL: target.baseUrl,
        SALE_ID: saleId,
        STOCK: String(plan.stock),
        K6_INSTANCE: target.instance,
        SUMMARY_DIR: resultDir,
      },
      processEnv: target.webDashboard
        ? {
            K6_WEB_DASHBOARD: 'true',
            K6_WEB_DASHBOARD_PORT: '-1',
            K6_WEB_DASHBOARD_PERIOD: '1s',
            K6_WEB_DASHBOARD_EXPORT: join(resultDir, `${plan.name}.k6-report.html`),
          }
        : {},
      onLine: (line) => {
        if (line.trim() && !line.startsWith('{')) say(`  k6 | ${line}`);
        else if (line.includes('"level":"error"') || line.includes('"level":"warning"')) say(`  k6 | ${line}`);
      },
    });
    const wallSeconds = (Date.now() - started) / 1000;
    writeFileSync(join(resultDir, 'k6-output.log'), k6.output);

    let summary: K6Summary | null = null;
    try {
      summary = JSON.parse(readFileSync(join(resultDir, `${plan.name}.summary.json`), 'utf8')) as K6Summary;
    } catch {
      summary = null;
    }
    const failedThresholds = Object.entries(summary?.metrics ?? {}).flatMap(([name, metric]) =>
      Object.entries(metric.thresholds ?? {})
        .filter(([, r]) => !r.ok)
        .map(([expression]) => `${name}: ${expression}`),
    );

    const reconcileMs = await waitForReconcile(stores, saleId);
    const [lagAfter, apiAfter] = await Promise.all([
      reconcileLagHistogram(target.reconcilerMetricsUrl),
      scrapeAll(target.apiUrls.map((u) => `${u}/metrics`)),
    ]);
    const attempts = readAttempts(consoleFile);
    const verdict = await verifySale(stores, { id: saleId, stock: plan.stock }, attempts, plan.expectation);

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

    const k6Ok = k6.code === 0;
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
}

/** T-10: total attempts, successes, rejections by reason, final stock, latency, reconcile lag. */
export function t10Report(input: ReportInput): string {
  const { plan, summary, attempts, verdict } = input;
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
    `  latency (${statusOnly ? 'status' : 'purchase'})  p50 ${ms(v.med)}, p95 ${ms(v['p(95)'])}, p99 ${ms(v['p(99)'])}, max ${ms(v.max)}`,
    `  reconcile lag       ${input.reconcileLag ? `p50 ${seconds(input.reconcileLag.p50)}, p99 ${seconds(input.reconcileLag.p99)} over ${input.reconcileLag.count} purchases (histogram estimate)` : 'n/a'}; backlog drained ${(input.reconcileMs / 1000).toFixed(1)} s after k6 ended`,
    ...(input.apiStatusRequestsPerSecond !== null && statusOnly
      ? [`  reached the API     ${input.apiStatusRequestsPerSecond.toFixed(1)} status requests/s`]
      : []),
    `  k6                  exit ${input.k6Code} in ${input.wallSeconds.toFixed(1)} s; thresholds ${input.failedThresholds.length === 0 ? 'all passed' : `FAILED: ${input.failedThresholds.join('; ')}`}`,
    '  invariants',
    ...verdict.checks.map((c) => `    ${c.ok ? '✓' : '✗'} ${c.text}`),
    `  => ${input.k6Code === 0 && verdict.ok ? 'PASS' : 'FAIL'}`,
  ];
  return `${lines.join('\n')}\n`;
}
