/** The benchmarks' settings, from the environment, parsed once (`npm run bench` documents them in loadtest/README.md). */
import { z } from 'zod';

const count = (fallback: number) => z.coerce.number().int().positive().default(fallback);

export const BenchSettingsSchema = z.object({
  BENCH_RUNS: count(3).describe('runs of each measurement; the report gives the median and the spread'),
  BENCH_SECONDS: count(8).describe('length of each throughput run'),
  BENCH_VUS: count(1000).describe('k6 virtual users for the ceiling and status runs'),
  BENCH_PURCHASE_VUS: count(400).describe('k6 virtual users for the purchase runs'),
  BENCH_CLAIM_CONCURRENCY: count(50).describe('claims in flight when the claim alone is measured (Redis vs Postgres)'),
  BENCH_CONCURRENCY: count(200).describe('shoppers in flight in the herd client’s closed runs (each on a fresh connection)'),
  BENCH_OVERLOAD_SECONDS: count(30).describe('length of the overload run'),
  BENCH_OVERLOAD_FACTOR: count(5).describe('the overload run offers this many times the measured buying capacity'),
});

export type BenchSettings = z.infer<typeof BenchSettingsSchema>;

export function loadBenchSettings(source: NodeJS.ProcessEnv = process.env): BenchSettings {
  const parsed = BenchSettingsSchema.safeParse(source);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((issue) => `  ${issue.path.join('.')}: ${issue.message}`);
    process.stderr.write(`Invalid benchmark settings:\n${lines.join('\n')}\n`);
    process.exit(78); // EX_CONFIG
  }
  return parsed.data;
}
