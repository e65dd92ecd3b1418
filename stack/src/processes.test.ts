/** The supervisor runs real processes: a service's niceness reaches it and everything it starts. */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { getPriority, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Supervisor, waitUntil } from './processes.js';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** Starts `sh -c script` under a supervisor of its own and returns what it printed once it ended. */
async function output(script: string, niceness?: number): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), 'flash-supervisor-'));
  dirs.push(dir);
  const supervisor = new Supervisor(join(dir, 'logs'), join(dir, 'pids'), () => {});
  const exited = new Promise<void>((resolve) => supervisor.onExit(() => resolve()));
  supervisor.start({ name: 'probe', command: 'sh', args: ['-c', script], ...(niceness === undefined ? {} : { niceness }) });
  await exited;
  const log = join(dir, 'logs', 'probe.log');
  return waitUntil(() => readFileSync(log, 'utf8').trim() || null, 5_000, 'the probe’s output');
}

describe('the supervisor', () => {
  it('runs a service at its niceness, and what that service starts inherits it', async () => {
    const expected = Math.min(19, getPriority() + 10);
    expect(await output('nice; sh -c nice', 10)).toBe(`${expected}\n${expected}`);
  });

  it('leaves a service without one at the supervisor’s own', async () => {
    expect(Number(await output('nice'))).toBe(getPriority());
  });
});
