/**
 * Where the CPU goes during a measurement, by role: the stack's processes
 * (from their pid files), the load client, this harness, and everything
 * else on the machine, from /proc.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

const LOAD_CLIENT = 'load client (k6 or herd)';

/** A pid file of the stack's supervisor: "<pid>" or "<pid> <stop signal>". */
export const readPid = (file: string) => Number.parseInt(readFileSync(file, 'utf8'), 10);

/** Role → cores it used on average over the measurement. */
export type CpuSplit = Record<string, number>;

interface ProcStat {
  pid: number;
  ppid: number;
  comm: string;
  ticks: number;
}

function readProcs(): Map<number, ProcStat> {
  const procs = new Map<number, ProcStat>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const text = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const close = text.lastIndexOf(')');
      const comm = text.slice(text.indexOf('(') + 1, close);
      const fields = text.slice(close + 2).split(' ');
      procs.set(Number(entry), {
        pid: Number(entry),
        ppid: Number(fields[1]),
        comm,
        ticks: Number(fields[11]) + Number(fields[12]),
      });
    } catch {
      // gone
    }
  }
  return procs;
}

/** The API replicas' role, and the bare Node servers of the capacity floor (floor-server.ts). */
export const API_ROLE = 'API replicas (node)';
export const NODE_FLOOR_ROLE = 'Node floor servers (node)';
/** The benchmark itself: it only waits while a run is measured. */
export const HARNESS_ROLE = 'bench harness (node)';

/** A supervised service's role, by its name (its pid file's); any other keeps its own name. */
const ROLE_BY_NAME: [name: RegExp, role: string][] = [
  [/^api-/, API_ROLE],
  [/^node-floor-/, NODE_FLOOR_ROLE],
  [/^redis-/, 'Redis Cluster (6 nodes)'],
  [/^nginx/, 'nginx'],
  [/^postgres$/, 'PostgreSQL'],
  [/^reconciler$/, 'reconciler (node)'],
];

/** Our processes by role: the stack's pid files, k6, this process; children count for their parent's role. */
function cpuByRole(stateDir: string): Map<string, number> {
  const roles = new Map<number, string>([[process.pid, HARNESS_ROLE]]);
  const pidDir = join(stateDir, 'pids');
  for (const file of readdirSync(pidDir)) {
    const pid = readPid(join(pidDir, file));
    const name = file.replace(/\.pid$/, '');
    roles.set(pid, ROLE_BY_NAME.find(([pattern]) => pattern.test(name))?.[1] ?? name);
  }
  const procs = readProcs();
  const totals = new Map<string, number>();
  for (const proc of procs.values()) {
    let role: string | undefined = proc.comm === 'k6' || proc.comm === 'herd' ? LOAD_CLIENT : undefined;
    for (let p: ProcStat | undefined = proc, hops = 0; !role && p && hops < 10; p = procs.get(p.ppid), hops++) {
      role = roles.get(p.pid);
    }
    if (role) totals.set(role, (totals.get(role) ?? 0) + proc.ticks);
  }
  return totals;
}

/** CPU of this process's children that have exited and been waited for: the load client, once a run is over. */
function reapedChildrenTicks(): number {
  const text = readFileSync('/proc/self/stat', 'utf8');
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
  return Number(fields[13]) + Number(fields[14]); // cutime, cstime
}

/** Runs body and reports the cores each of our processes used meanwhile, and everything else on the machine. */
export async function withCpu<T>(stateDir: string, body: () => Promise<T>): Promise<{ result: T; cpu: CpuSplit }> {
  const hz = 100; // USER_HZ on Linux
  const reapedBefore = reapedChildrenTicks();
  const before = cpuByRole(stateDir);
  const [totalBefore] = systemTicks();
  const started = Date.now();
  const result = await body();
  const seconds = (Date.now() - started) / 1000;
  const after = cpuByRole(stateDir);
  const [totalAfter] = systemTicks();
  const cpu: CpuSplit = {};
  for (const [role, ticks] of after) cpu[role] = (ticks - (before.get(role) ?? 0)) / hz / seconds;
  // The load client has exited by now: its CPU shows up as this process's reaped children.
  cpu[LOAD_CLIENT] = (reapedChildrenTicks() - reapedBefore) / hz / seconds;
  const ours = Object.values(cpu).reduce((a, b) => a + b, 0);
  cpu['everything else on the machine'] = Math.max(0, (totalAfter - totalBefore) / hz / seconds - ours);
  return { result, cpu };
}

/** Busy ticks of the whole machine (all CPUs), from /proc/stat. */
function systemTicks(): [number] {
  const line = readFileSync('/proc/stat', 'utf8').split('\n')[0]!;
  const [, user, nice, system, , , irq, softirq, steal] = line.trim().split(/\s+/).map(Number);
  return [user! + nice! + system! + irq! + softirq! + steal!];
}
