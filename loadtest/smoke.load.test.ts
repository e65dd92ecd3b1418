/**
 * A short run of each k6 scenario against the test stack, each followed by
 * the invariant checks against the stores (T-7…T-10, NF-1, NF-7, NF-8 at
 * smoke size; `npm run loadtest` runs them at full size), and the herd once
 * more split over two k6 processes (`npm run loadtest -- --instances 2`),
 * with the pictures of its key series drawn from the stack's Prometheus.
 */
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { REPO_ROOT } from '../stack/src/config.js';
import { runScenario, type LoadTarget } from './harness.js';
import { ensureK6 } from './k6.js';
import { untilScrapedAfter, writeRunPictures } from './report/pictures.js';
import { scenarioPlans } from './suite.js';

const env = z
  .object({
    FLASH_BASE_URL: z.url(),
    FLASH_API_URLS: z.string().transform((v) => v.split(',').filter(Boolean)),
    FLASH_STATE_DIR: z.string(),
    REDIS_NODES: z.string(),
    REDIS_USERNAME: z.string(),
    REDIS_PASSWORD: z.string(),
    DATABASE_URL: z.string(),
    RECONCILER_PORT: z.coerce.number().int().optional(),
    FLASH_PROMETHEUS_URL: z.url(),
  })
  .parse(process.env);

const target: LoadTarget = {
  baseUrl: env.FLASH_BASE_URL,
  stores: { REDIS_NODES: env.REDIS_NODES, REDIS_USERNAME: env.REDIS_USERNAME, REDIS_PASSWORD: env.REDIS_PASSWORD, DATABASE_URL: env.DATABASE_URL },
  apiUrls: env.FLASH_API_URLS,
  reconcilerMetricsUrl: env.RECONCILER_PORT ? `http://127.0.0.1:${env.RECONCILER_PORT}/metrics` : null,
  outDir: resolve(REPO_ROOT, env.FLASH_STATE_DIR, 'load-smoke'),
  instance: `smoke-${process.pid}`,
};

const log = (line: string) => {
  if (line.startsWith('  k6 |')) return; // k6's own summary is in the result folder
  console.log(line);
};

describe('load smoke: each scenario, small, then the invariants', () => {
  beforeAll(async () => {
    await ensureK6(log);
  });

  for (const plan of scenarioPlans('smoke')) {
    it(`${plan.name}: ${plan.title}`, async () => {
      const result = await runScenario(target, plan, log);
      console.log(result.report);
      expect(result.verdict.checks.filter((c) => !c.ok).map((c) => c.text), result.report).toEqual([]);
      expect(result.failedThresholds, result.report).toEqual([]);
      expect(result.k6ExitCode, result.report).toBe(0);
    });
  }

  it('herd over 2 k6 instances (execution segments): sells exactly its stock, one report over both, and its pictures', async () => {
    const plan = scenarioPlans('smoke', ['herd'])[0]!;
    // A scrape from just before the herd, so its rates have a sample to start from.
    expect(await untilScrapedAfter(env.FLASH_PROMETHEUS_URL, Date.now()), 'Prometheus scrapes the API replicas').toBe(true);
    const startedMs = Date.now();
    const result = await runScenario({ ...target, outDir: join(target.outDir, 'instances-2') }, plan, log, { instances: 2 });
    console.log(result.report);
    expect(result.verdict.checks.filter((c) => !c.ok).map((c) => c.text), result.report).toEqual([]);
    expect(result.failedThresholds, result.report).toEqual([]);
    expect(result.k6ExitCode, result.report).toBe(0);
    expect(result.split?.segments).toEqual(['0:1/2', '1/2:1']);
    expect(result.split?.exitCodes).toEqual([0, 0]);
    // Exactly its stock: the herd outnumbers the units, and the stores were checked once, after both.
    expect(result.verdict.facts.confirmed, result.report).toBe(plan.stock);
    expect(result.verdict.facts.redisRemaining).toBe(0);
    // One summary of both processes: every arrival of either is one purchase attempt, and one report.
    expect(result.summary?.metrics.iterations?.values.count).toBe(result.attempts);
    expect(result.summary?.metrics['http_req_duration{name:purchase}']?.values['p(99)']).toBeGreaterThan(0);
    expect(result.report.match(/^T-10 report:/gm)).toHaveLength(1);

    // The pictures, from the stack's Prometheus: the herd's outcomes are on the chart, and the PNG is one.
    const run = { prometheusUrl: env.FLASH_PROMETHEUS_URL, startedMs, endedMs: Date.now() };
    const pictures = await writeRunPictures(result.resultDir, plan.name, run, plan.title, result.report);
    const outcomes = pictures.charts.find((chart) => chart.title === 'Purchase outcomes / s by reason')!;
    const peak = (name: string) => Math.max(0, ...(outcomes.series.find((series) => series.name === name)?.points ?? []).map(([, v]) => v).filter(Number.isFinite));
    expect({ confirmed: peak('confirmed') > 0, sold_out: peak('sold_out') > 0 }, 'the herd’s 201s and 409s are on the chart').toEqual({ confirmed: true, sold_out: true });
    expect(readFileSync(pictures.png).subarray(0, 8).toString('hex')).toBe('89504e470d0a1a0a');
    expect(readFileSync(pictures.html, 'utf8')).toContain('<svg');
  });
});
