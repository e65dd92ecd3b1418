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
  /** Start it again if it dies, as an orchestrator would (stateless services, and Redis nodes, which rejoin). */
  restart?: boolean;
  /** Its CPU priority (nice), inherited by every process it starts: higher yields to the others. */
  niceness?: number;
}

/** One end of a process, as every listener is told of it. */
export interface ServiceExit {
  name: string;
  pid: number;
  code: number | null;
  signal: NodeJS.Signals | null;
  at: number;
}

interface Service {
  spec: ServiceSpec;
  child: ChildProcess;
  exited: Promise<void>;
  /** Held down on purpose (hold()): not restarted until release(). */
  held: boolean;
}

const STOP_TIMEOUT_MS = 15_000;
const RESTART_DELAY_MS = 500;

export class Supervisor {
  /** In start order; a restarted service keeps its place. */
  private readonly services = new Map<string, Service>();
  private readonly exitListeners = new Set<(exit: ServiceExit) => void>();
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
    // Through nice(1), which execs the program: the niceness is set before it can start any process of its own.
    const [command, args] =
      spec.niceness === undefined ? [spec.command, spec.args] : ['nice', ['-n', String(spec.niceness), spec.command, ...spec.args]];
    const child = spawn(command, args, {
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
    const service: Service = { spec, child, exited: Promise.resolve(), held: false };
    service.exited = new Promise<void>((resolve) => {
      child.once('exit', (code, signal) => {
        rmSync(pidFile, { force: true });
        for (const listener of this.exitListeners) {
          listener({ name: spec.name, pid: child.pid ?? 0, code, signal, at: Date.now() });
        }
        if (!this.stopping && !service.held) {
          const restart = spec.restart ? `; restarting in ${RESTART_DELAY_MS} ms` : '';
          this.report(`! ${spec.name} exited (${signal ?? `code ${code}`})${restart}; see ${join(this.logDir, `${spec.name}.log`)}`);
          if (spec.restart) setTimeout(() => this.stopping || service.held || this.start(spec), RESTART_DELAY_MS);
        }
        resolve();
      });
      child.once('error', (error) => {
        this.report(`! ${spec.name} failed to start: ${error.message}`);
        resolve();
      });
    });
    this.services.set(spec.name, service);
    return child;
  }

  /** The running process of a service, if it is up. */
  pid(name: string): number | null {
    const child = this.services.get(name)?.child;
    return child && child.exitCode === null && child.signalCode === null ? (child.pid ?? null) : null;
  }

  /** Tells `listener` of every process that ends, expected or not. Returns a way to stop listening. */
  onExit(listener: (exit: ServiceExit) => void): () => void {
    this.exitListeners.add(listener);
    return () => this.exitListeners.delete(listener);
  }

  /**
   * Takes a service down and keeps it down until release(): with its stop
   * signal, or with `signal` (SIGKILL: a crash). Resolves once it has exited.
   */
  async hold(name: string, signal?: NodeJS.Signals): Promise<void> {
    const service = this.require(name);
    service.held = true;
    const { child, spec, exited } = service;
    if (child.exitCode === null && child.signalCode === null) child.kill(signal ?? spec.stopSignal ?? 'SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), STOP_TIMEOUT_MS);
    await exited;
    clearTimeout(timer);
  }

  /** Starts a held service again, as it was first started. */
  release(name: string): void {
    const service = this.require(name);
    if (!service.held) return;
    service.held = false;
    this.start(service.spec);
  }

  private require(name: string): Service {
    const service = this.services.get(name);
    if (!service) throw new Error(`no service named ${name}`);
    return service;
  }

  /** Stops everything, last started first. A supervisor is done once stopped. */
  async stopAll(): Promise<void> {
    this.stopping = true;
    for (const { spec, child, exited } of [...this.services.values()].reverse()) {
      if (child.exitCode !== null || child.signalCode !== null) continue;
      child.kill(spec.stopSignal ?? 'SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), STOP_TIMEOUT_MS);
      await exited;
      clearTimeout(timer);
    }
    this.services.clear();
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
