/**
 * npm run loadtest [-- --smoke] [--instances N] [ramp spike duplicate-user herd status-storm]
 *
 * The whole load suite on a dedicated stack (loadtest/stacks.ts): for each
 * scenario a new sale from the operator command, k6 from many loopback
 * addresses, the reconciler drained, the invariants checked against Postgres
 * and Redis, and the T-10 report printed. Exits non-zero if any threshold or
 * invariant broke. Results: .flash/loadtest/<run>/<scenario>/, with k6's own
 * HTML report and the key series from the stack's Prometheus as a page and a
 * PNG (report/pictures.ts).
 *
 * --instances N splits each scenario over N k6 processes (execution segments,
 * harness.ts runSplitK6); their results make one report, and the stores are
 * checked once, after all of them. Bad arguments: a sentence and exit code 2.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { REPO_ROOT, type StackConfig } from '../stack/src/config.js';
import { parseLoadtestArgs } from './args.js';
import { runScenario, stopK6Runs, type ScenarioResult } from './harness.js';
import { ensureK6 } from './k6.js';
import { untilScrapedAfter, writeRunPictures } from './report/pictures.js';
import { LOAD_STACK_ENV, buildIfNeeded, say, targetFor, withStack } from './stacks.js';
import { scenarioPlans } from './suite.js';

const prometheusOf = (config: StackConfig) => `http://127.0.0.1:${config.PROMETHEUS_PORT}`;

/** The run's key series from the load stack's Prometheus, as a page and a PNG; a run without them says why. */
async function drawPictures(config: StackConfig, result: ScenarioResult, startedMs: number) {
  const run = { prometheusUrl: prometheusOf(config), startedMs, endedMs: Date.now() };
  try {
    const { html, png } = await writeRunPictures(result.resultDir, result.plan.name, run, `${result.plan.name}: ${result.plan.title}`, result.report);
    say(`  pictures: ${png}\n            ${html}`);
  } catch (error) {
    say(`  no pictures: ${error instanceof Error ? error.message : String(error)}`);
  }
}

async function main(argv: string[]): Promise<number> {
  const parsed = parseLoadtestArgs(argv);
  if (!parsed.ok) {
    for (const error of parsed.errors) process.stderr.write(`${error}\n`);
    return 2;
  }
  const { smoke, instances, scenarios } = parsed.args;
  const plans = scenarioPlans(smoke ? 'smoke' : 'full', scenarios);

  const runId = new Date().toISOString().replace(/[:.]/g, '-');
  const outDir = join(REPO_ROOT, '.flash/loadtest', runId);
  mkdirSync(outDir, { recursive: true });
  say(`==> k6: ${await ensureK6(say)}`);
  await buildIfNeeded();

  const results: ScenarioResult[] = [];
  await withStack(
    LOAD_STACK_ENV,
    async (config) => {
      const target = targetFor(config, outDir, `${hostname()}-${process.pid}`, true);
      for (const plan of plans) {
        say(`\n==> ${plan.name}: ${plan.title}${instances > 1 ? ` (over ${instances} k6 instances)` : ''}`);
        try {
          // A scrape from just before the load, so the run's first rates have a sample to start from.
          if (!(await untilScrapedAfter(prometheusOf(config), Date.now()))) say('  (Prometheus is not scraping the stack: the run will have no pictures)');
          const startedMs = Date.now();
          const result = await runScenario(target, plan, say, { instances });
          results.push(result);
          say('');
          say(result.report);
          say(`  results: ${result.resultDir}`);
          await drawPictures(config, result, startedMs);
        } catch (error) {
          say(`✗ ${plan.name} could not be run or verified: ${error instanceof Error ? error.message : String(error)}`);
          results.push({ plan, ok: false } as ScenarioResult);
        }
      }
    },
    stopK6Runs,
  );

  const failed = results.filter((r) => !r.ok);
  const lines = [
    `\n==> load suite (${smoke ? 'smoke' : 'full'} size${instances > 1 ? `, ${instances} k6 instances each` : ''}): ${results.length - failed.length} of ${results.length} scenarios kept every promise`,
    ...results.map((r) => `  ${r.ok ? '✓' : '✗'} ${r.plan.name}`),
    `  reports: ${outDir}`,
  ];
  say(lines.join('\n'));
  writeFileSync(join(outDir, 'T-10-reports.txt'), results.map((r) => r.report ?? `${r.plan.name}: not run\n`).join('\n'));
  if (failed.length) say(`\n✗ LOAD SUITE FAILED: ${failed.map((r) => r.plan.name).join(', ')}`);
  return failed.length ? 1 : 0;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    say(`✗ load suite failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
    process.exit(1);
  },
);
