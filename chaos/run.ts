/**
 * The fault suite (docs/reliability.md):
 *   npm run chaos                        every scenario on a stack of its own; rewrites the table in docs/reliability.md
 *   npm run chaos -- --rounds 3          every scenario, three times in a row
 *   npm run chaos -- --only a,b          some scenarios (names as in chaos/scenarios.ts)
 *   npm run chaos -- --smoke             the short versions that `npm test` runs
 * Exits 0 only if every scenario kept every promise.
 */
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { z } from 'zod';
import { REPO_ROOT, loadStackConfig } from '../stack/src/config.js';
import { Supervisor } from '../stack/src/processes.js';
import { startStack } from '../stack/src/stack.js';
import { runScenarios, type ScenarioResult, type StackHandle } from './runner.js';
import { SCENARIOS } from './scenarios.js';

/** A stack of its own, on ports clear of the shop's, the tests', the load suite's and the benchmark's. */
const CHAOS_STACK_ENV = {
  FLASH_STATE_DIR: '.flash/chaos',
  // The same replicas on every machine, so every scenario meets the same stack.
  API_REPLICAS: '3',
  NGINX_PORT: '28280',
  API_BASE_PORT: '23201',
  REDIS_BASE_PORT: '7601',
  PG_PORT: '25633',
  RECONCILER_PORT: '29664',
  PROMETHEUS: 'false',
  DEMO_SALE: 'false',
  LOG_LEVEL: 'warn',
};

const say = (line: string) => process.stdout.write(`${line}\n`);
const REPORT = join(REPO_ROOT, 'docs/reliability.md');
const BEGIN = '<!-- chaos:results:begin (written by npm run chaos) -->';
const END = '<!-- chaos:results:end -->';

const ArgsSchema = z.object({
  smoke: z.boolean().default(false),
  rounds: z.coerce.number().int().min(1).max(10).default(1),
  only: z
    .string()
    .transform((list) => list.split(',').map((name) => name.trim()))
    .refine((names) => names.every((name) => SCENARIOS.some((s) => s.name === name)), {
      message: `unknown scenario; the scenarios are: ${SCENARIOS.map((s) => s.name).join(', ')}`,
    })
    .optional(),
});

function parse(argv: string[]) {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    options: { smoke: { type: 'boolean' }, rounds: { type: 'string' }, only: { type: 'string' } },
  });
  const parsed = ArgsSchema.safeParse(values);
  if (!parsed.success) {
    throw new UsageError(parsed.error.issues.map((issue) => `--${issue.path.join('.')}: ${issue.message}`).join('\n'));
  }
  return parsed.data;
}

class UsageError extends Error {}

function table(rounds: ScenarioResult[][]): string {
  const seconds = (ms: number | null) => (ms === null ? 'never' : `${(ms / 1000).toFixed(1)} s`);
  const cell = (name: string, pick: (r: ScenarioResult) => string) =>
    rounds.map((results) => results.find((r) => r.name === name)).map((r) => (r ? pick(r) : '–')).join(' / ');
  const ran = SCENARIOS.filter((scenario) => rounds.some((results) => results.some((r) => r.name === scenario.name)));
  const rows = ran.map((scenario) =>
    [
      scenario.title,
      cell(scenario.name, (r) => String(r.requests)),
      cell(scenario.name, (r) => String(r.confirmed)),
      cell(scenario.name, (r) => String(r.unavailable)),
      cell(scenario.name, (r) => String(r.lost)),
      cell(scenario.name, (r) => String(r.oversold)),
      cell(scenario.name, (r) => seconds(r.agreeMs)),
      cell(scenario.name, (r) => seconds(r.healMs)),
      cell(scenario.name, (r) => (r.violations.length === 0 ? 'pass' : '**fail**')),
      `\`npm run chaos -- --only ${scenario.name}\``,
    ].join(' | '),
  );
  return [
    '| scenario | requests | 201 | 503 | lost | oversold | agree after load | heal after fault | result | command |',
    '| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |',
    ...rows.map((row) => `| ${row} |`),
  ].join('\n');
}

function writeReport(rounds: ScenarioResult[][]) {
  const text = readFileSync(REPORT, 'utf8');
  const start = text.indexOf(BEGIN);
  const end = text.indexOf(END);
  if (start < 0 || end < start) throw new Error(`${REPORT} lacks the markers ${BEGIN} … ${END}`);
  const machine = `${cpus().length} cores (${cpus()[0]?.model.trim() ?? 'unknown CPU'}), ${(totalmem() / 2 ** 30).toFixed(0)} GiB`;
  const body = [
    BEGIN,
    '',
    `${rounds.length} round${rounds.length === 1 ? '' : 's'} in a row, values per round separated by “/”; ${new Date().toISOString().slice(0, 10)}, ${machine}.`,
    '',
    table(rounds),
    '',
    END,
  ].join('\n');
  writeFileSync(REPORT, text.slice(0, start) + body + text.slice(end + END.length));
}

async function main(): Promise<number> {
  const args = parse(process.argv.slice(2));
  const scenarios = SCENARIOS.filter((s) => (args.only ? args.only.includes(s.name) : !args.smoke || s.smoke));
  const config = loadStackConfig({ ...process.env, ...CHAOS_STACK_ENV });
  say(`==> starting a stack for the fault suite in ${config.stateDir} (${config.baseUrl})`);
  const pidDir = join(config.stateDir, 'pids');
  if (existsSync(pidDir)) await new Supervisor(config.logDir, pidDir, say).reapLeftovers();
  rmSync(config.stateDir, { recursive: true, force: true });
  const handle: StackHandle = { config, running: await startStack(config, say) };
  let interrupted = false;
  const interrupt = () => {
    if (interrupted) return;
    interrupted = true;
    say('\n==> interrupted: stopping the stack');
    void handle.running.stop().finally(() => process.exit(130));
  };
  process.on('SIGINT', interrupt);
  process.on('SIGTERM', interrupt);

  const rounds: ScenarioResult[][] = [];
  try {
    for (let round = 1; round <= args.rounds; round += 1) {
      if (args.rounds > 1) say(`\n==> round ${round} of ${args.rounds}`);
      rounds.push(await runScenarios(handle, scenarios, { smoke: args.smoke, say }));
    }
  } finally {
    say('\n==> stopping the stack');
    await handle.running.stop();
  }
  const failed = rounds.flat().filter((r) => r.violations.length > 0);
  say(`\n${table(rounds)}\n`);
  if (!args.only && !args.smoke) {
    writeReport(rounds);
    say(`wrote the table into ${REPORT}`);
  }
  say(`${rounds.flat().length - failed.length} passed, ${failed.length} failed`);
  return failed.length === 0 ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    say(`chaos: ${error instanceof Error ? error.message : String(error)}`);
    process.exit(error instanceof UsageError ? 2 : 1);
  },
);
