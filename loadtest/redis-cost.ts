/**
 * `npm run bench -- --redis`: what keeping a promise costs in Redis, measured
 * on a stack of its own, and written into docs/reliability.md.
 *   - time: claims per second and latency, the Lua script alone against the
 *     script plus the durability round that a promise waits for (ADR 0002),
 *     at the same concurrency, medians of BENCH_RUNS runs;
 *   - memory: bytes per buyer on the sale's shard, with the stream still
 *     holding every purchase and once the reconciler has trimmed what
 *     Postgres holds.
 */
import { randomUUID } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { z } from 'zod';
import { saleKeys } from '../api/src/features/flash-sale/flash-sale.logic.js';
import type { RedisSaleStore } from '../api/src/features/flash-sale/flash-sale.redis.js';
import { connectShopStore } from '../api/src/features/flash-sale/shop-store.js';
import { REPO_ROOT } from '../stack/src/config.js';
import { shardOf } from '../stack/src/redis-topology.js';
import { Redis } from 'ioredis';
import { createSale } from './harness.js';
import { BENCH_STACK_ENV, buildIfNeeded, say, targetFor, withStack } from './stacks.js';
import { connectStores, waitForReconcile } from './verify.js';

const Settings = z.object({
  BENCH_RUNS: z.coerce.number().int().min(1).max(20).default(3),
  BENCH_CLAIM_CONCURRENCY: z.coerce.number().int().min(1).max(2_000).default(50),
  BENCH_SECONDS: z.coerce.number().positive().max(600).default(5),
  /** Buyers for the memory measurement. */
  BENCH_MEMORY_BUYERS: z.coerce.number().int().min(1_000).max(1_000_000).default(100_000),
});

const REPORT = join(REPO_ROOT, 'docs/reliability.md');
const BEGIN = '<!-- redis-cost:begin (written by npm run bench -- --redis) -->';
const END = '<!-- redis-cost:end -->';

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
const percentile = (sorted: number[], q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
const fmt = (n: number, digits = 0) => n.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });

interface ClaimRun {
  perSecond: number;
  p50: number;
  p99: number;
}

/** Claims by distinct buyers, `concurrency` at a time, for `seconds`. */
async function claimLoop(store: RedisSaleStore, saleId: string, concurrency: number, seconds: number): Promise<ClaimRun> {
  const durations: number[] = [];
  const prefix = randomUUID().slice(0, 8);
  const deadline = Date.now() + seconds * 1000;
  let next = 0;
  const started = Date.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (Date.now() < deadline) {
        const t0 = performance.now();
        const outcome = await store.claim(saleId, `cost-${prefix}-${next++}`, randomUUID());
        if (outcome.kind !== 'CONFIRMED') throw new Error(`a claim was ${outcome.kind}, not CONFIRMED`);
        durations.push(performance.now() - t0);
      }
    }),
  );
  durations.sort((a, b) => a - b);
  return { perSecond: durations.length / ((Date.now() - started) / 1000), p50: percentile(durations, 0.5), p99: percentile(durations, 0.99) };
}

/** Sells every unit of a sale, to distinct buyers, 200 claims at a time. */
async function fill(store: RedisSaleStore, saleId: string, buyers: number): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: 200 }, async () => {
      while (next < buyers) {
        const outcome = await store.claim(saleId, `memory-buyer-${next++}`, randomUUID());
        if (outcome.kind !== 'CONFIRMED') throw new Error(`filling the sale: a claim was ${outcome.kind}`);
      }
    }),
  );
}

async function usedMemory(node: { host: string; port: number }, login: { username: string; password: string }): Promise<number> {
  const client = new Redis({ ...node, ...login, lazyConnect: true });
  try {
    await client.connect();
    return Number(/used_memory:(\d+)/.exec(await client.info('memory'))?.[1]);
  } finally {
    client.disconnect();
  }
}

export async function measureRedisCost(): Promise<number> {
  const settings = Settings.parse(process.env);
  await buildIfNeeded();
  return withStack(
    BENCH_STACK_ENV,
    async (config, stack) => {
      const target = targetFor(config, join(config.stateDir, 'bench'), 'redis-cost');
      const stores = connectStores(target.stores);
      const shop = connectShopStore(stores.env, 'bench-durable');
      try {
        say(`\n==> claims, ${settings.BENCH_CLAIM_CONCURRENCY} at a time, ${settings.BENCH_SECONDS} s each, ${settings.BENCH_RUNS} runs`);
        const scriptOnly: ClaimRun[] = [];
        const promised: ClaimRun[] = [];
        for (let run = 1; run <= settings.BENCH_RUNS; run += 1) {
          const plain = await createSale(target.stores, 1_000_000, 'Cost: the script alone');
          scriptOnly.push(await claimLoop(stores.store, plain, settings.BENCH_CLAIM_CONCURRENCY, settings.BENCH_SECONDS));
          const durable = await createSale(target.stores, 1_000_000, 'Cost: script and durability round');
          promised.push(await claimLoop(shop.store, durable, settings.BENCH_CLAIM_CONCURRENCY, settings.BENCH_SECONDS));
          say(
            `  run ${run}: script ${fmt(scriptOnly.at(-1)!.perSecond)}/s (p50 ${fmt(scriptOnly.at(-1)!.p50, 2)} ms), ` +
              `with the round ${fmt(promised.at(-1)!.perSecond)}/s (p50 ${fmt(promised.at(-1)!.p50, 2)} ms)`,
          );
        }

        const buyers = settings.BENCH_MEMORY_BUYERS;
        say(`\n==> memory of a sale with ${fmt(buyers)} buyers`);
        const saleId = await createSale(target.stores, buyers, 'Cost: memory');
        const keys = saleKeys(saleId);
        const { primary } = await shardOf(
          { nodes: config.redisNodes, username: target.stores.REDIS_USERNAME, password: target.stores.REDIS_PASSWORD },
          keys.sale,
        );
        const login = { username: target.stores.REDIS_USERNAME, password: target.stores.REDIS_PASSWORD };
        // Each buyer's attempt counter lives for the attempt window. The claims above
        // left one per buyer: they expire first, or their going would be counted against this sale.
        const countersGone = () => new Promise((resolve) => setTimeout(resolve, stores.env.BUYER_ATTEMPT_WINDOW_MS + 2_000));
        await countersGone();
        const before = await usedMemory(primary, login);
        // The reconciler waits, so the stream holds every purchase at first.
        await stack.supervisor.hold('reconciler');
        await fill(stores.store, saleId, buyers);
        await countersGone();
        const withStream = (await usedMemory(primary, login)) - before;
        const streamBytes = Number(await stores.redis.memory('USAGE', keys.purchases, 'SAMPLES', '0'));
        stack.supervisor.release('reconciler');
        await waitForReconcile(stores, saleId, 600_000);
        // The reconciler trims after each batch it persists.
        const deadline = Date.now() + 30_000;
        while ((await stores.redis.xlen(keys.purchases)) > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
        const trimmed = (await usedMemory(primary, login)) - before;
        const buyersHash = Number(await stores.redis.memory('USAGE', keys.buyers, 'SAMPLES', '0'));

        const row = (label: string, runs: ClaimRun[]) =>
          `| ${label} | ${fmt(median(runs.map((r) => r.perSecond)))} (${fmt(Math.min(...runs.map((r) => r.perSecond)))}–${fmt(Math.max(...runs.map((r) => r.perSecond)))}) | ${fmt(median(runs.map((r) => r.p50)), 2)} | ${fmt(median(runs.map((r) => r.p99)), 2)} |`;
        const body = [
          BEGIN,
          '',
          `Measured ${new Date().toISOString().slice(0, 10)} on ${cpus().length} cores, the whole stack on the same machine; medians of ${settings.BENCH_RUNS} runs (range in brackets), ${settings.BENCH_CLAIM_CONCURRENCY} claims at a time, distinct buyers.`,
          '',
          '| claim | claims/s | p50 ms | p99 ms |',
          '| --- | --- | --- | --- |',
          row('purchase.lua alone', scriptOnly),
          row('purchase.lua, then the durability round (what a 201 waits for)', promised),
          '',
          `Memory of one sale with ${fmt(buyers)} buyers, on its shard's primary (\`used_memory\` before and after):`,
          '',
          '| | total | per buyer |',
          '| --- | --- | --- |',
          `| every purchase also still in the stream | ${fmt(withStream / 2 ** 20, 1)} MiB | ${fmt(withStream / buyers)} B (stream alone ${fmt(streamBytes / buyers)} B) |`,
          `| after the reconciler trimmed the stream | ${fmt(trimmed / 2 ** 20, 1)} MiB | ${fmt(trimmed / buyers)} B (buyers hash ${fmt(buyersHash / buyers)} B) |`,
          '',
          END,
        ].join('\n');
        const text = readFileSync(REPORT, 'utf8');
        const start = text.indexOf(BEGIN);
        const end = text.indexOf(END);
        if (start < 0 || end < start) throw new Error(`${REPORT} lacks the markers ${BEGIN} … ${END}`);
        writeFileSync(REPORT, text.slice(0, start) + body + text.slice(end + END.length));
        say(`\n${body}\n\nwrote it into ${REPORT}`);
        return 0;
      } finally {
        await shop.close();
        await stores.close();
      }
    },
    () => undefined,
  );
}
