/** Starts the stack's processes, keeps their logs and pid files, and stops them in reverse order. */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, openSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface ServiceSpec {
  name: string;
  command: string;
  args: string[];
  env?: Record<string, string>;
  cwd?: string;
  uid?: number;
  gid?: number;
  /** The signal that asks this program for a clean, prompt shutdown. */
  stopSignal?: NodeJS.Signals;
  /** Start it again if it dies, as an orchestrator would (stateless services only). */
  restart?: boolean;
}

interface Running {
  spec: ServiceSpec;
  child: ChildProcess;
  exited: Promise<void>;
}

const STOP_TIMEOUT_MS = 15_000;
const RESTART_DELAY_MS = 500;

export class Supervisor {
  private readonly running: Running[] = [];
  private stopping = false;

  constructor(
    private readonly logDir: string,
    private readonly pidDir: string,
    private readonly report: (line: string) => void,
  ) {
    mkdirSync(logDir, { recursive: true });
    mkdirSync(pidDir, { recursive: true });
  }

  /** Kills processes a previous run left behind (its supervisor was killed), so ports are free. */
  async reapLeftovers(): Promise<void> {
    for (const file of readdirSync(this.pidDir)) {
      const path = join(this.pidDir, file);
      let content: string;
      try {
        content = readFileSync(path, 'utf8');
        rmSync(path);
      } catch {
        continue; // its own supervisor removed it meanwhile
      }
      const [pidText, signal = 'SIGTERM'] = content.split(' ');
      const pid = Number(pidText);
      if (!isAlive(pid)) continue;
      this.report(`stopping ${file.replace(/\.pid$/, '')} (pid ${pid}) left over from an earlier run`);
      process.kill(pid, signal as NodeJS.Signals);
      await waitUntil(() => !isAlive(pid), STOP_TIMEOUT_MS).catch(() => process.kill(pid, 'SIGKILL'));
    }
  }

  start(spec: ServiceSpec): ChildProcess {
    const log = openSync(join(this.logDir, `${spec.name}.log`), 'a');
    const child = spawn(spec.command, spec.args, {
      cwd: spec.cwd,
      env: { ...process.env, ...spec.env },
      stdio: ['ignore', log, log],
      // Its own process group: a Ctrl-C reaches only the supervisor, which stops children in order.
      detached: true,
      ...(spec.uid === undefined ? {} : { uid: spec.uid, gid: spec.gid }),
    });
    const pidFile = join(this.pidDir, `${spec.name}.pid`);
    // "<pid> <stop signal>", so a later run can stop it the way it likes to be stopped.
    if (child.pid) writeFileSync(pidFile, `${child.pid} ${spec.stopSignal ?? 'SIGTERM'}`);
    const exited = new Promise<void>((resolve) => {
      child.once('exit', (code, signal) => {
        rmSync(pidFile, { force: true });
        if (!this.stopping) {
          const restart = spec.restart ? `; restarting in ${RESTART_DELAY_MS} ms` : '';
          this.report(`! ${spec.name} exited (${signal ?? `code ${code}`})${restart}; see ${join(this.logDir, `${spec.name}.log`)}`);
          if (spec.restart) setTimeout(() => this.stopping || this.start(spec), RESTART_DELAY_MS);
        }
        resolve();
      });
      child.once('error', (error) => {
        this.report(`! ${spec.name} failed to start: ${error.message}`);
        resolve();
      });
    });
    this.running.push({ spec, child, exited });
    return child;
  }

  /** Stops everything, last started first. A supervisor is done once stopped. */
  async stopAll(): Promise<void> {
    this.stopping = true;
    for (const { spec, child, exited } of [...this.running].reverse()) {
      if (child.exitCode !== null || child.signalCode !== null) continue;
      child.kill(spec.stopSignal ?? 'SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), STOP_TIMEOUT_MS);
      await exited;
      clearTimeout(timer);
    }
    this.running.length = 0;
  }
}

export function isAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Polls `check` until it returns truthy (or resolves truthy) or the time runs out. */
export async function waitUntil<T>(
  check: () => T | Promise<T>,
  timeoutMs: number,
  what = 'condition',
): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  while (Date.now() < deadline) {
    try {
      const value = await check();
      if (value) return value as NonNullable<T>;
    } catch (error) {
      lastError = error;
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  const reason = lastError instanceof Error ? `: ${lastError.message}` : '';
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${reason}`);
}
