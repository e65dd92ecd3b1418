/**
 * The sale rules, decided by purchase.lua on the real Redis Cluster:
 * the lifecycle through HTTP (T-5), the window's edges by the server clock,
 * and a model-based property test of every purchase rule (T-2, T-3, NF-9).
 */
import { randomUUID } from 'node:crypto';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { CURRENT_SALE_KEY, saleKeys, type ClaimOutcome, type SaleDefinition } from '../src/features/flash-sale/flash-sale.logic.js';
import { createRedisSaleStore } from '../src/features/flash-sale/flash-sale.redis.js';
import { PURCHASE_SCRIPT } from '../src/features/flash-sale/sale-scripts.js';
import { api, connectToStack, http, purchase, testEnv, waitFor } from './support.js';

const stack = connectToStack();
afterAll(() => stack.close());

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
/** Straight from a replica: the lifecycle must be seen as it happens, not through the 1 s cache. */
const status = async () => (await http('GET', `${testEnv.FLASH_API_URLS[0]}/api/v1/flash-sales/current`)).json().data;
const codeOf = async (answer: Promise<Awaited<ReturnType<typeof http>>>) => {
  const settled = await answer;
  return settled.status === 201 ? 'CONFIRMED' : settled.json().error.code;
};

describe('the whole lifecycle through the API (T-5)', () => {
  it('upcoming → active → purchases → sold out → ended, and ended stays ended', async () => {
    await stack.createSale({ stock: 2, startsInMs: 1_500, durationMs: 60_000 });
    expect(await status()).toMatchObject({ status: 'upcoming', remainingStock: 2 });
    expect(await codeOf(purchase('lifecycle-a'))).toBe('SALE_NOT_ACTIVE');

    await waitFor(async () => (await status()).status === 'active', 5_000, 'the sale to open');
    expect(await codeOf(purchase('lifecycle-a'))).toBe('CONFIRMED');
    expect(await status()).toMatchObject({ status: 'active', remainingStock: 1 });
    expect(await codeOf(purchase('lifecycle-b'))).toBe('CONFIRMED');
    expect(await status()).toMatchObject({ status: 'ended', endedReason: 'sold_out', remainingStock: 0 });
    expect(await codeOf(purchase('lifecycle-c'))).toBe('SOLD_OUT');
    expect(await codeOf(purchase('lifecycle-a'))).toBe('ALREADY_PURCHASED');
    await sleep(1_000);
    expect(await status()).toMatchObject({ status: 'ended', endedReason: 'sold_out' });
  });

  it('upcoming → active → ended by time, with stock left', async () => {
    await stack.createSale({ stock: 5, startsInMs: 1_000, durationMs: 1_500 });
    expect((await status()).status).toBe('upcoming');
    await waitFor(async () => (await status()).status === 'active', 5_000, 'the sale to open');
    expect(await codeOf(purchase('in-time'))).toBe('CONFIRMED');
    await waitFor(async () => (await status()).status === 'ended', 5_000, 'the sale to close');
    expect(await status()).toMatchObject({ status: 'ended', endedReason: 'time', remainingStock: 4 });
    expect(await codeOf(purchase('too-late'))).toBe('SALE_NOT_ACTIVE');
    expect(await codeOf(purchase('in-time'))).toBe('ALREADY_PURCHASED');
  });

  it('reports status and stock consistently while purchases run (IM-1, IM-2)', async () => {
    const sale = await stack.createSale({ stock: 40 });
    const buying = Promise.all(Array.from({ length: 40 }, (_, i) => purchase(`consistent-${i}`)));
    const seen: number[] = [];
    for (let i = 0; i < 10; i += 1) seen.push((await status()).remainingStock);
    await buying;
    // Every read is a whole number of purchases, and stock only ever goes down.
    expect(seen).toEqual([...seen].sort((a, b) => b - a));
    expect((await stack.store.snapshot(sale.id))?.remaining).toBe(0);
  });
});

/** A sale the API does not serve (not current), for exercising the script directly. */
async function privateSale(window: { startOffsetMs: number; endOffsetMs: number }, stock: number) {
  const id = randomUUID();
  const nowMs = await stack.store.serverTimeMs(id);
  const sale: SaleDefinition = {
    id,
    productName: 'Rule Widget',
    totalStock: stock,
    startMs: nowMs + window.startOffsetMs,
    endMs: nowMs + window.endOffsetMs,
  };
  await stack.store.initialiseSale(sale, { remaining: stock, buyers: new Map(), closed: false });
  return { sale, nowMs };
}

describe('the window’s edges, by the Redis server clock (FL-2, FL-3, PR-3)', () => {
  it('opens exactly at start', async () => {
    const { sale } = await privateSale({ startOffsetMs: 0, endOffsetMs: 60_000 }, 1);
    expect((await stack.store.claim(sale.id, 'first', randomUUID())).kind).toBe('CONFIRMED');
  });

  it('rejects a purchase decided at or after the end, even one that arrived while active', async () => {
    // The end is the clock's current millisecond: by the time the script runs, now >= end.
    const { sale } = await privateSale({ startOffsetMs: -60_000, endOffsetMs: 0 }, 1);
    const outcome = await stack.store.claim(sale.id, 'at-the-end', randomUUID());
    expect(outcome).toMatchObject({ kind: 'SALE_NOT_ACTIVE' });
    expect((outcome as { nowMs: number }).nowMs).toBeGreaterThanOrEqual(sale.endMs);
    expect((await stack.store.snapshot(sale.id))?.remaining).toBe(1);
  });

  it('rejects before start', async () => {
    const { sale } = await privateSale({ startOffsetMs: 60_000, endOffsetMs: 120_000 }, 1);
    expect((await stack.store.claim(sale.id, 'early', randomUUID())).kind).toBe('SALE_NOT_ACTIVE');
  });
});

/**
 * Model-based: random sales (upcoming, active or ended; 1–5 units) and random
 * sequences of attempts by a few buyers, run through the real script and
 * through a ten-line model of the rules. Every outcome must match, and the
 * stores must agree with the model afterwards.
 */
describe('the purchase rules against a model (T-2, T-3, PR-1..PR-4, IM-3..IM-5)', () => {
  const ATTEMPT_LIMIT = 3;
  const store = createRedisSaleStore(stack.redis, { attemptLimit: { attempts: ATTEMPT_LIMIT, windowMs: 60_000 } });
  const phases = { upcoming: { startOffsetMs: 60_000, endOffsetMs: 120_000 }, active: { startOffsetMs: -1_000, endOffsetMs: 120_000 }, ended: { startOffsetMs: -120_000, endOffsetMs: -1 } };

  function model(phase: keyof typeof phases, stock: number) {
    let remaining = stock;
    const buyers = new Set<string>();
    const attempts = new Map<string, number>();
    return {
      attempt(user: string): ClaimOutcome['kind'] {
        if (buyers.has(user)) return 'ALREADY_PURCHASED';
        attempts.set(user, (attempts.get(user) ?? 0) + 1);
        if (attempts.get(user)! > ATTEMPT_LIMIT) return 'RATE_LIMITED';
        if (phase !== 'active') return 'SALE_NOT_ACTIVE';
        if (remaining === 0) return 'SOLD_OUT';
        remaining -= 1;
        buyers.add(user);
        return 'CONFIRMED';
      },
      get remaining() {
        return remaining;
      },
      buyers,
    };
  }

  it('matches the model for every sequence', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom('upcoming', 'active', 'ended') as fc.Arbitrary<keyof typeof phases>,
        fc.integer({ min: 1, max: 5 }),
        fc.array(fc.constantFrom('ann', 'bob', 'cy', 'dee', 'eve', 'fay', 'gus'), { minLength: 1, maxLength: 25 }),
        async (phase, stock, attempts) => {
          const { sale } = await privateSale(phases[phase], stock);
          const expected = model(phase, stock);
          for (const user of attempts) {
            const outcome = await store.claim(sale.id, user, randomUUID());
            expect(outcome.kind).toBe(expected.attempt(user));
          }
          const snapshot = await stack.store.snapshot(sale.id);
          expect(snapshot?.remaining).toBe(expected.remaining);
          expect(snapshot!.remaining).toBeGreaterThanOrEqual(0);
          expect(await stack.redis.hlen(saleKeys(sale.id).buyers)).toBe(expected.buyers.size);
          expect(await stack.redis.xlen(saleKeys(sale.id).purchases)).toBe(expected.buyers.size);
        },
      ),
      { numRuns: 40 },
    );
  });

  it('matches the model when the attempts arrive together, and one call of the script decides several', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom('upcoming', 'active', 'ended') as fc.Arbitrary<keyof typeof phases>,
        fc.integer({ min: 1, max: 5 }),
        fc.array(fc.constantFrom('ann', 'bob', 'cy', 'dee', 'eve', 'fay', 'gus'), { minLength: 2, maxLength: 25 }),
        async (phase, stock, attempts) => {
          const { sale } = await privateSale(phases[phase], stock);
          const expected = model(phase, stock);
          // The first claim starts a round alone; the rest share the next one, in the order sent.
          const outcomes = await Promise.all(attempts.map((user) => store.claim(sale.id, user, randomUUID())));
          expect(outcomes.map((outcome) => outcome.kind)).toEqual(attempts.map((user) => expected.attempt(user)));
          expect((await stack.store.snapshot(sale.id))?.remaining).toBe(expected.remaining);
          expect(await stack.redis.hlen(saleKeys(sale.id).buyers)).toBe(expected.buyers.size);
          expect(await stack.redis.xlen(saleKeys(sale.id).purchases)).toBe(expected.buyers.size);
        },
      ),
      { numRuns: 40 },
    );
  });

  it('keeps the invariants when the attempts race (NF-7, NF-8, NF-9)', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 20 }),
        fc.array(fc.integer({ min: 0, max: 30 }), { minLength: 1, maxLength: 120 }),
        async (stock, buyerIndexes) => {
          const { sale } = await privateSale(phases.active, stock);
          const outcomes = await Promise.all(
            buyerIndexes.map((i) => stack.store.claim(sale.id, `racer-${i}`, randomUUID())),
          );
          const confirmed = outcomes.filter((o) => o.kind === 'CONFIRMED') as Extract<ClaimOutcome, { kind: 'CONFIRMED' }>[];
          const distinct = new Set(buyerIndexes).size;
          expect(confirmed.length).toBe(Math.min(stock, distinct));
          const snapshot = await stack.store.snapshot(sale.id);
          expect(snapshot?.remaining).toBe(stock - confirmed.length);
          // Units are handed out once each, 1..n.
          expect(confirmed.map((c) => c.unit).sort((a, b) => a - b)).toEqual(
            Array.from({ length: confirmed.length }, (_, i) => i + 1),
          );
        },
      ),
      { numRuns: 30 },
    );
  });
});

describe('a round of claims on the Cluster client', () => {
  it('reaches the sale’s shard whatever is sent beside it', async () => {
    // ioredis groups automatic pipelines by a command's first key, and for a
    // defined script with a variable number of keys it takes the key count for
    // it: a round would travel with commands for other shards, and fail.
    const sizes = Array.from({ length: 24 }, (_, i) => i + 1);
    const { sale } = await privateSale({ startOffsetMs: -1_000, endOffsetMs: 120_000 }, sizes.reduce((sum, size) => sum + size));
    const keys = saleKeys(sale.id);
    const buyers = (size: number) => Array.from({ length: size }, (_, i) => `round-${size}-buyer-${i}`);
    const round = (size: number) =>
      stack.redis.eval(
        PURCHASE_SCRIPT,
        4 + size,
        keys.sale,
        keys.buyers,
        keys.purchases,
        keys.closed,
        ...buyers(size).map((buyer) => keys.attempts(buyer)),
        10,
        10_000,
        ...buyers(size).flatMap((buyer) => [buyer, randomUUID(), '']),
      ) as Promise<string[][]>;
    // Every round and reads of keys on every shard, in one tick.
    const reads = Array.from({ length: 30 }, (_, i) => stack.redis.get(`unrelated-${i}`));
    const rounds = await Promise.all(sizes.map(round));
    await Promise.all(reads);
    expect(rounds.map((replies) => replies.length)).toEqual(sizes);
    expect(new Set(rounds.flat().map(([outcome]) => outcome))).toEqual(new Set(['CONFIRMED']));
  });
});

describe('the current-sale pointer', () => {
  it('is read once per reuse window, and a new sale is every replica’s once setCurrentSale returns', async () => {
    const first = await stack.createSale({ productName: 'Pointer: first' });
    const second = await stack.createSale({ productName: 'Pointer: second' });
    // Two replicas' stores with a window long enough to be seen from here (POINTER_REUSE_MS in production).
    const pointerReuseMs = 1_000;
    const replica = createRedisSaleStore(stack.redis, { pointerReuseMs });
    const operator = createRedisSaleStore(stack.redis, { pointerReuseMs });
    expect(await replica.currentSaleId()).toBe(second.id);

    // Moved behind the stores' backs, the pointer is not read again while the last read is fresh…
    await stack.redis.set(CURRENT_SALE_KEY, first.id);
    expect(await replica.currentSaleId()).toBe(second.id);
    await sleep(pointerReuseMs);
    expect(await replica.currentSaleId()).toBe(first.id);

    // …and setCurrentSale outlasts every read made before it wrote.
    await operator.setCurrentSale(second.id);
    expect(await replica.currentSaleId()).toBe(second.id);
  });
});

describe('the OpenAPI document', () => {
  it('is served through nginx and describes every endpoint', async () => {
    const answer = await http('GET', api('/openapi.json'));
    expect(answer.status).toBe(200);
    const document = answer.json();
    expect(document.openapi).toBe('3.1.0');
    // The probes are in it too (each replica's own, not routed by nginx).
    expect(Object.keys(document.paths).sort()).toEqual([
      '/api/v1/flash-sales/current',
      '/api/v1/flash-sales/current/purchase',
      '/healthz',
      '/readyz',
    ]);
    expect(Object.keys(document.paths['/api/v1/flash-sales/current/purchase']).sort()).toEqual(['get', 'post']);
  });
});
