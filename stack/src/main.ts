/**
 * The local stack's command line (called by stack/flash.sh after bootstrap):
 *   start        start every part, print the shop's URL, stop all on Ctrl-C / SIGTERM
 *   test         typecheck, lint, start a throwaway stack, run every test suite, stop it
 *   sale …       the operator command, against the running shop
 *   stop         stop a shop whose supervisor was killed
 */
import { spawn } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadStackConfig, serviceEnv, type StackConfig } from './config.js';
import { isAlive, Supervisor, waitUntil } from './processes.js';
import { FLASHFLOW } from './services.js';
import { startStack } from './stack.js';
import { runTestCommand } from './test-run.js';

const report = (line: string) => process.stdout.write(`${line}\n`);

/** One supervisor per state folder: its pid lives here while it runs. */
const supervisorPidFile = (config: StackConfig) => join(config.stateDir, 'supervisor.pid');

function runningSupervisor(config: StackConfig): number | null {
  try {
    const pid = Number(readFileSync(supervisorPidFile(config), 'utf8'));
    return isAlive(pid) ? pid : null;
  } catch {
    return null;
  }
}

async function start(): Promise<number> {
  const config = loadStackConfig();
  const already = runningSupervisor(config);
  if (already) {
    report(`Flash Flow is already running from ${config.stateDir} (pid ${already}); stop it with npm stop.`);
    return 1;
  }
  mkdirSync(config.stateDir, { recursive: true });
  writeFileSync(supervisorPidFile(config), String(process.pid));
  const stopRequested = new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  try {
    const stack = await startStack(config, report);
    report(`\nFlash Flow is open: ${config.baseUrl}`);
    report(`  status:  curl ${config.baseUrl}/api/v1/flash-sales/current`);
    report(`  operate: npm run sale -- report`);
    report(`  logs:    ${config.logDir}`);
    report('Press Ctrl-C to stop everything.');
    await stopRequested;
    report('\nstopping…');
    await stack.stop();
    report(`stopped; data kept in ${config.stateDir}`);
    return 0;
  } finally {
    rmSync(supervisorPidFile(config), { force: true });
  }
}

function sale(args: string[]): Promise<number> {
  const config = loadStackConfig();
  const child = spawn(FLASHFLOW, ['sale', ...args], {
    env: { ...process.env, ...serviceEnv(config, 'operator') },
    stdio: 'inherit',
  });
  return new Promise((resolve) => child.on('exit', (code) => resolve(code ?? 1)));
}

/** Asks a running shop to stop (as Ctrl-C would), then clears anything a killed supervisor left. */
async function stop(): Promise<number> {
  const config = loadStackConfig();
  const supervisor = runningSupervisor(config);
  if (supervisor) {
    report(`stopping Flash Flow (pid ${supervisor})…`);
    process.kill(supervisor, 'SIGTERM');
    await waitUntil(() => !isAlive(supervisor), 120_000, 'the shop to stop');
  }
  await new Supervisor(config.logDir, join(config.stateDir, 'pids'), report).reapLeftovers();
  report('stopped');
  return 0;
}

const [command, ...args] = process.argv.slice(2);
const commands: Record<string, () => Promise<number>> = {
  start,
  test: () => runTestCommand(args),
  sale: () => sale(args),
  stop,
};
const chosen = command ? commands[command] : undefined;
if (!chosen) {
  report(`usage: stack/flash.sh ${Object.keys(commands).join('|')}`);
  process.exit(2);
}
chosen().then(
  (code) => process.exit(code),
  (error: unknown) => {
    report(`\n${error instanceof Error ? error.message : String(error)}`);
    process.exit(1);
  },
);
