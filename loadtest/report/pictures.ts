/**
 * The pictures a load run leaves beside k6's own HTML report: a page with the
 * run's T-10 summary and its key series as charts (<scenario>.key-series.html)
 * and the same charts as a PNG, rendered by Debian's Chromium. The series are the Grafana panels' own queries
 * (stack/src/dashboards.ts), asked of the run's Prometheus over the run's
 * window, so the pictures show what an SRE's dashboard would have shown.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { dashboardQueries, withGrafanaVariables, type DashboardQuery } from '../../stack/src/dashboards.js';
import { lineChart, type ChartSpec, type Series } from './chart.js';

/** The key series, named by their dashboard panel: one home for each query. */
export const KEY_PANELS: { file: string; panel: string; unit: ChartSpec['unit'] }[] = [
  { file: 'flashflow-sale.json', panel: 'Purchase outcomes / s by reason', unit: 'per-second' },
  { file: 'flashflow-api.json', panel: 'Request duration p50 / p95 / p99', unit: 'seconds' },
  { file: 'flashflow-sale.json', panel: 'Remaining stock', unit: 'count' },
  { file: 'flashflow-sale.json', panel: 'Reconcile lag p50 / p99', unit: 'seconds' },
];

/** Prometheus scrapes every 5 s (observability/prometheus/prometheus.yml); Grafana's rule for $__rate_interval. */
const SCRAPE_INTERVAL_S = 5;

export function keyPanelQueries(): (typeof KEY_PANELS[number] & { queries: DashboardQuery[] })[] {
  const all = dashboardQueries();
  return KEY_PANELS.map((key) => {
    const queries = all.filter((q) => q.file === key.file && q.panel === key.panel && q.type === 'timeseries');
    if (queries.length === 0) throw new Error(`no timeseries panel "${key.panel}" in ${key.file}: was it renamed?`);
    return { ...key, queries };
  });
}

/** A series' name from the panel's legend template, as Grafana writes it. */
export function legendName(legend: string | undefined, labels: Record<string, string>): string {
  if (!legend) return Object.entries(labels).map(([k, v]) => `${k}=${v}`).join(', ') || 'value';
  return legend.replace(/\{\{\s*(\w+)\s*\}\}/g, (_, label: string) => labels[label] ?? '');
}

export interface RunWindow {
  prometheusUrl: string;
  fromMs: number;
  toMs: number;
}

async function queryRange({ prometheusUrl, fromMs, toMs }: RunWindow, expr: string, stepS: number) {
  const url = new URL('/api/v1/query_range', prometheusUrl);
  url.searchParams.set('query', expr);
  url.searchParams.set('start', String(fromMs / 1000));
  url.searchParams.set('end', String(toMs / 1000));
  url.searchParams.set('step', String(stepS));
  const answer = (await (await fetch(url, { signal: AbortSignal.timeout(10_000) })).json()) as {
    status: string;
    error?: string;
    data?: { result: { metric: Record<string, string>; values: [number, string][] }[] };
  };
  if (answer.status !== 'success') throw new Error(`Prometheus refused ${expr}: ${answer.error}`);
  return answer.data!.result;
}

/** Each key panel's series over the window. */
export async function keySeries(window: RunWindow): Promise<ChartSpec[]> {
  const spanS = Math.max(1, (window.toMs - window.fromMs) / 1000);
  const stepS = Math.max(1, Math.ceil(spanS / 240));
  const rateInterval = `${Math.max(4 * SCRAPE_INTERVAL_S, stepS + SCRAPE_INTERVAL_S)}s`;
  const charts: ChartSpec[] = [];
  for (const { panel, unit, queries } of keyPanelQueries()) {
    const series: Series[] = [];
    for (const { expr, legend } of queries) {
      const result = await queryRange(window, withGrafanaVariables(expr, { rateInterval, range: `${Math.ceil(spanS)}s` }), stepS);
      for (const { metric, values } of result) {
        series.push({ name: legendName(legend, metric), points: values.map(([t, v]) => [t, Number(v)]) });
      }
    }
    charts.push({ title: panel, unit, series, range: { from: window.fromMs / 1000, to: window.toMs / 1000 } });
  }
  return charts;
}

export interface ReportInput {
  title: string;
  /** The run's T-10 summary, as printed. */
  summary: string;
  charts: ChartSpec[];
}

const escapeHtml = (text: string) => text.replace(/[<>&"]/g, (c) => `&#${c.charCodeAt(0)};`);

export function reportHtml({ title, summary, charts }: ReportInput): string {
  return [
    '<!doctype html><html lang="en"><head><meta charset="utf-8">',
    `<title>${escapeHtml(title)}</title>`,
    '<style>body{font-family:sans-serif;margin:16px;color:#111827}#charts{display:grid;grid-template-columns:repeat(2,560px);gap:12px;width:1132px}',
    'pre{background:#f3f4f6;padding:12px;overflow-x:auto;font-size:12px}</style></head><body>',
    `<h1 style="font-size:18px">${escapeHtml(title)}</h1>`,
    `<div id="charts">${charts.map((chart) => lineChart(chart)).join('')}</div>`,
    `<h2 style="font-size:15px">Summary</h2><pre>${escapeHtml(summary)}</pre>`,
    '</body></html>',
  ].join('\n');
}

/**
 * Waits until Prometheus has scraped each of its targets (the replicas, the
 * reconciler, the exporters) after `ms`, so a window up to now holds their
 * state from then. True once it has; false if it never does (not running).
 */
export async function untilScrapedAfter(prometheusUrl: string, ms: number, timeoutMs = 20_000): Promise<boolean> {
  const url = new URL('/api/v1/targets?state=active', prometheusUrl);
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const answer = await fetch(url, { signal: AbortSignal.timeout(2_000) })
      .then((response) => response.json() as Promise<{ data?: { activeTargets: { lastScrape: string; health: string }[] } }>)
      .catch(() => null);
    const targets = answer?.data?.activeTargets ?? [];
    if (targets.length > 0 && targets.every((target) => target.health === 'up' && Date.parse(target.lastScrape) > ms)) return true;
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  return false;
}

/**
 * Writes `<name>.key-series.html` and `<name>.key-series.png` into `outDir`
 * once Prometheus has scraped the end of the run; returns their paths and
 * the charts. Start the window at a scrape from before the load
 * (untilScrapedAfter), so its first rates have a sample to start from.
 */
export async function writeRunPictures(
  outDir: string,
  name: string,
  run: { prometheusUrl: string; startedMs: number; endedMs: number },
  title: string,
  summary: string,
) {
  if (!(await untilScrapedAfter(run.prometheusUrl, run.endedMs))) {
    throw new Error(`Prometheus (${run.prometheusUrl}) has not scraped the stack since the run ended`);
  }
  // From the scrape before the load to the scrapes that saw its end.
  const charts = await keySeries({ prometheusUrl: run.prometheusUrl, fromMs: run.startedMs - (SCRAPE_INTERVAL_S + 1) * 1000, toMs: Date.now() });
  const html = join(outDir, `${name}.key-series.html`);
  const png = join(outDir, `${name}.key-series.png`);
  writeFileSync(html, reportHtml({ title, summary, charts }));
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    headless: true,
    args: ['--no-sandbox', '--disable-gpu'],
  });
  try {
    const page = await browser.newPage({ viewport: { width: 1164, height: 600 }, deviceScaleFactor: 1 });
    await page.goto(`file://${html}`);
    await page.locator('#charts').screenshot({ path: png });
  } finally {
    await browser.close();
  }
  return { html, png, charts };
}
