/**
 * The local stack's command line (called by stack/flash.sh after bootstrap):
 *   start        start every part, print the shop's URL, stop all on Ctrl-C / SIGTERM
 *   test         typecheck, lint, start a throwaway stack, run every test suite, stop it
 *   sale …       the operator command, against the running shop
 *   stop         stop a shop whose supervisor was killed
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { REPO_ROOT, loadStackConfig, serviceEnv } from './config.js';
import { Supervisor } from './processes.js';
import { startStack } from './stack.js';
import { runTestCommand } from './test-run.js';

const report = (line: string) => process.stdout.write(`${line}\n`);

async function start(): Promise<number> {
  const config = loadStackConfig();
  const stack = await startStack(config, report);
  report(`\nFlash Flow is open: ${config.baseUrl}`);
  report(`  status:  curl ${config.baseUrl}/api/v1/flash-sales/current`);
  report(`  operate: npm run sale -- report`);
  report(`  logs:    ${config.logDir}`);
  report('Press Ctrl-C to stop everything.');
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  report('\nstopping…');
  await stack.stop();
  report('stopped; data kept in ' + config.stateDir);
  return 0;
}

function sale(args: string[]): Promise<number> {
  const config = loadStackConfig();
  const child = spawn(process.execPath, [join(REPO_ROOT, 'api/dist/cli/sale.js'), ...args], {
    env: { ...process.env, ...serviceEnv(config) },
    stdio: 'inherit',
  });
  return new Promise((resolve) => child.on('exit', (code) => resolve(code ?? 1)));
}

async function stop(): Promise<number> {
  const config = loadStackConfig();
  await new Supervisor(config.logDir, join(config.stateDir, 'pids'), report).reapLeftovers();
  return 0;
}

const [command, ...args] = process.argv.slice(2);
const commands: Record<string, () => Promise<number>> = {
  start,
  test: runTestCommand,
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
