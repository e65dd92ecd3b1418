/**
 * The benchmarks' load client (loadtest/herd/herd.c): built here with the
 * system's C compiler on first use, run once per measurement, its JSON
 * report parsed. Each shopper is a fresh connection from its own loopback
 * address, which is what a herd of real shoppers is to the server.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { z } from 'zod';
import { REPO_ROOT } from '../../stack/src/config.js';

const execFileAsync = promisify(execFile);
const SOURCE = join(REPO_ROOT, 'loadtest/herd/herd.c');
const BINARY = join(REPO_ROOT, '.flash/bin/herd');

const counts = z.record(z.string(), z.number().int().nonnegative());

export const HerdReportSchema = z.object({
  sent: z.number().int(),
  unsent: z.number().int(),
  answered: z.number().int(),
  seconds: z.number(),
  perSecond: z.number(),
  cpuSeconds: z.number(),
  /** Threads the client ran on (--threads; one per core unless told). Absent in results from before it had threads: one. */
  threads: z.number().int().positive().optional(),
  ms: z.object({ p50: z.number(), p90: z.number(), p99: z.number(), max: z.number() }),
  errors: z.object({ connect: z.number().int(), reset: z.number().int(), timeout: z.number().int(), parse: z.number().int() }),
  statuses: counts,
  unavailableWithoutRetryAfter: z.number().int(),
  /** Answers by status, for each second of the run. */
  timeline: z.array(counts),
});

export type HerdReport = z.infer<typeof HerdReportSchema>;

export interface HerdOptions {
  url: string;
  count: number;
  /** Closed: this many in flight. Open: `rate` arrivals a second. Neither: all `count` at once. */
  concurrency?: number;
  rate?: number;
  durationSeconds?: number;
  method?: 'GET' | 'POST';
  /** "%u" is the shopper's number. */
  body?: string;
  /** FIRST-LAST loopback addresses, one per shopper in turn. */
  addresses: string;
  timeoutMs?: number;
  /** Pin the client to these CPUs (taskset), so what it costs stays off the server's cores when that matters. */
  cpus?: string;
  /** Client threads, each with its share of the shoppers; one per core unless told. */
  threads?: number;
}

/** Compiles the client when it is missing or older than its source. */
export async function ensureHerdClient(): Promise<string> {
  if (existsSync(BINARY) && statSync(BINARY).mtimeMs >= statSync(SOURCE).mtimeMs) return BINARY;
  mkdirSync(join(REPO_ROOT, '.flash/bin'), { recursive: true });
  await execFileAsync('cc', ['-O2', '-Wall', '-Wextra', '-Werror', '-pthread', '-o', BINARY, SOURCE]);
  return BINARY;
}

export const errorCount = (report: HerdReport) =>
  report.errors.connect + report.errors.reset + report.errors.timeout + report.errors.parse + report.unsent;

export async function runHerd(options: HerdOptions): Promise<HerdReport> {
  const binary = await ensureHerdClient();
  const args = ['--url', options.url, '--count', String(options.count), '--addresses', options.addresses];
  if (options.concurrency) args.push('--concurrency', String(options.concurrency));
  if (options.rate) args.push('--rate', String(options.rate));
  if (options.durationSeconds) args.push('--duration', String(options.durationSeconds));
  if (options.method) args.push('--method', options.method);
  if (options.body) args.push('--body', options.body);
  if (options.timeoutMs) args.push('--timeout-ms', String(options.timeoutMs));
  if (options.threads) args.push('--threads', String(options.threads));
  const [command, commandArgs] = options.cpus ? ['taskset', ['-c', options.cpus, binary, ...args]] : [binary, args];
  const { stdout } = await execFileAsync(command, commandArgs, { maxBuffer: 16 * 1024 * 1024 });
  return HerdReportSchema.parse(JSON.parse(stdout));
}
