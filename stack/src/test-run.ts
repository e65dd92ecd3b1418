/**
 * Everything `npm test` proves, in order: typecheck, lint, then a throwaway
 * stack on its own ports and state folder, every vitest project against it
 * (unit, web components, integration, end-to-end, load smoke), the short
 * fault suite (chaos/), which breaks the stack on purpose and so comes last,
 * and the stack stopped. Ends with one line: "N passed, N failed".
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { runScenarios, type StackHandle } from '../../chaos/runner.js';
import { SCENARIOS } from '../../chaos/scenarios.js';
import { REPO_ROOT, loadStackConfig, serviceEnv, stackSecrets } from './config.js';
import { logsHolding } from './log-scan.js';
import { Supervisor } from './processes.js';
import { startStack } from './stack.js';

/** The test stack has ports of its own (Redis: 100 above the shop, since each node also uses port + 10000), so both can run at once. */
const TEST_STACK_ENV = {
  FLASH_STATE_DIR: '.flash/test',
  // The same replicas on every machine, so the suites test the same stack everywhere.
  API_REPLICAS: '3',
  NGINX_PORT: '18080',
  API_BASE_PORT: '13001',
  REDIS_BASE_PORT: '7101', // not 17001: the shop's cluster bus uses port + 10000
  PG_PORT: '15433',
  RECONCILER_PORT: '19464',
  // Prometheus runs, so a test can ask it for every dashboard panel's query.
  PROMETHEUS_PORT: '19090',
  REDIS_EXPORTER_PORT: '19121',
  POSTGRES_EXPORTER_PORT: '19187',
  NGINX_EXPORTER_PORT: '19113',
  DEMO_SALE: 'false',
  LOG_LEVEL: 'warn',
};

const say = (line: string) => process.stdout.write(`${line}\n`);

/** The step running now, so an interrupted run can stop it. */
let runningStep: ChildProcess | null = null;
let interrupted = false;

function runStep(command: string, args: string[], env: Record<string, string> = {}): Promise<boolean> {
  return new Promise((resolve) => {
    // A process group of its own, so an interrupt reaches what the step started (npx → vitest → its workers).
    const child = spawn(command, args, { cwd: REPO_ROOT, stdio: 'inherit', env: { ...process.env, ...env }, detached: true });
    runningStep = child;
    const done = (ok: boolean) => {
      runningStep = null;
      // An interrupted run goes no further: stopOnInterrupt stops the stack and exits.
      if (!interrupted) resolve(ok);
    };
    child.on('exit', (code) => done(code === 0));
    child.on('error', () => done(false));
  });
}

/** The test stack while it runs, so an interrupted run can stop it. */
let stackToStop: StackHandle | null = null;

/**
 * Ctrl-C, or a CI job cancelled: the running step and the test stack stop
 * before the run exits (128 + the signal's number), so nothing is left
 * holding the test ports. (Interrupted while the stack starts, what started
 * is stopped by the next run, from its pid files.)
 */
function stopOnInterrupt() {
  const onSignal = (signal: NodeJS.Signals) => {
    interrupted = true;
    say(`\n==> ${signal}: stopping${stackToStop ? ' the test stack' : ''}`);
    if (runningStep?.pid) process.kill(-runningStep.pid, signal);
    void (stackToStop?.running.stop() ?? Promise.resolve()).finally(() => process.exit(signal === 'SIGINT' ? 130 : 143));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
}

/**
 * `npm test -- --shuffle=<seed>` runs the suites' files and tests in an order
 * shuffled by that seed: each must pass whatever ran before it.
 */
function vitestOrder(args: string[]): string[] {
  const shuffle = args.find((arg) => arg.startsWith('--shuffle'));
  if (!shuffle) return [];
  const seed = shuffle.split('=')[1] ?? String(Date.now());
  if (!/^\d+$/.test(seed)) throw new Error(`--shuffle takes a numeric seed, not "${seed}"`);
  say(`(files and tests in the order shuffled by seed ${seed})`);
  return ['--sequence.shuffle', `--sequence.seed=${seed}`];
}

export async function runTestCommand(args: string[] = []): Promise<number> {
  const order = vitestOrder(args);
  stopOnInterrupt();
  let passed = 0;
  let failed = 0;
  const check = async (name: string, command: string, args: string[]) => {
    say(`\n==> ${name}`);
    if (await runStep(command, args)) passed += 1;
    else {
      failed += 1;
      say(`✗ ${name} failed`);
    }
  };
  await check('typecheck', 'npm', ['run', '--silent', 'typecheck']);
  await check('lint', 'npm', ['run', '--silent', 'lint']);
  await check('alert rules (promtool test rules)', 'promtool', ['test', 'rules', 'observability/prometheus/alerts.test.yml']);

  const config = loadStackConfig({ ...process.env, ...TEST_STACK_ENV });
  say(`\n==> starting a test stack in ${config.stateDir}`);
  // A test run that was killed may have left its processes: stop them before wiping their pid files.
  await new Supervisor(config.logDir, join(config.stateDir, 'pids'), say).reapLeftovers();
  rmSync(config.stateDir, { recursive: true, force: true });
  const stack: StackHandle = { config, running: await startStack(config, say) };
  stackToStop = stack;
  const reportFile = join(config.stateDir, 'vitest-report.json');
  try {
    say('\n==> vitest: unit, web, integration and end-to-end suites');
    await runStep('npx', ['vitest', 'run', ...order, '--reporter=default', '--reporter=json', `--outputFile.json=${reportFile}`], {
      // The tests act as the operator; those that prove what other roles may not do read their passwords from here.
      ...serviceEnv(config, 'operator'),
      FLASH_SECRETS_DIR: config.secretsDir,
      NODE_ENV: 'test', // React's test helpers (act) exist only outside production builds
      FLASH_BASE_URL: config.baseUrl,
      FLASH_API_URLS: config.apiPorts.map((p) => `http://127.0.0.1:${p}`).join(','),
      FLASH_STATE_DIR: config.stateDir,
      FLASH_PROMETHEUS_URL: `http://127.0.0.1:${config.PROMETHEUS_PORT}`,
      FLASH_STACK_ENV: JSON.stringify(TEST_STACK_ENV),
    });
    say('\n==> the fault suite, short versions (npm run chaos runs them all, at full length)');
    for (const result of await runScenarios(stack, SCENARIOS.filter((s) => s.smoke), { smoke: true, say })) {
      if (result.violations.length === 0) passed += 1;
      else failed += 1;
    }
  } finally {
    stackToStop = null;
    say('\n==> stopping the test stack');
    await stack.running.stop();
  }
  const leftovers = readdirSync(join(config.stateDir, 'pids'));
  if (leftovers.length === 0) passed += 1;
  else {
    failed += 1;
    say(`✗ processes still running after stop: ${leftovers.join(', ')}`);
  }
  // After everything, faults included: no password reached any log.
  const secrets = Object.values(stackSecrets(config)).flatMap((group) => Object.values(group));
  const leaking = logsHolding(config.logDir, secrets);
  if (leaking.length === 0) passed += 1;
  else {
    failed += 1;
    say(`✗ a password is written in ${leaking.join(', ')}`);
  }

  try {
    const results = JSON.parse(readFileSync(reportFile, 'utf8')) as {
      numPassedTests: number;
      numFailedTests: number;
      numTotalTestSuites: number;
      numFailedTestSuites: number;
      success: boolean;
    };
    passed += results.numPassedTests;
    failed += results.numFailedTests;
    // A suite that fails to load has no failed tests, yet it failed.
    if (!results.success && results.numFailedTests === 0) failed += Math.max(1, results.numFailedTestSuites);
  } catch {
    say('✗ vitest wrote no report');
    failed += 1;
  }
  say(`\n${passed} passed, ${failed} failed`);
  return failed === 0 ? 0 : 1;
}
