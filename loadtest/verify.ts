/**
 * After every scenario: the invariants, checked against the stores (T-8,
 * T-9, NF-7, NF-8), and the T-10 report. Reads Postgres and Redis through
 * the API's own modules, and what k6 saw from its purchase log.
 */
import { readFileSync } from 'node:fs';
import { loadEnv } from '../api/src/env.js';
import { saleKeys } from '../api/src/features/flash-sale/flash-sale.logic.js';
import { reconcileBacklog } from '../api/src/features/flash-sale/reconciler.js';
import { connectSaleTools } from '../api/src/features/flash-sale/sale-tools.js';
import type { Expectation } from './suite.js';

/** Where the stores are, and the operator's credentials (stacks.ts storeCoordinates). */
export interface StoreCoordinates {
  REDIS_NODES: string;
  REDIS_USERNAME: string;
  REDIS_PASSWORD: string;
  DATABASE_URL: string;
}

export function connectStores(coordinates: StoreCoordinates) {
  return connectSaleTools(loadEnv({ NODE_ENV: 'production', LOG_LEVEL: 'warn', ...coordinates }), 'loadtest-verifier');
}

export type Stores = ReturnType<typeof connectStores>;

/** One purchase answer as k6 logged it (loadtest/lib/flash.js). */
export interface Attempt {
  userId: string;
  status: number;
  code: string | null;
  purchaseId: string | null;
  ms: number;
}

/** Reads k6's --console-output file (written with --log-format json). */
export function readAttempts(consoleFile: string): Attempt[] {
  let text = '';
  try {
    text = readFileSync(consoleFile, 'utf8');
  } catch {
    return [];
  }
  const attempts: Attempt[] = [];
  for (const line of text.split('\n')) {
    if (!line.includes('\\"flash\\":\\"purchase\\"')) continue;
    try {
      const message = JSON.parse((JSON.parse(line) as { msg: string }).msg) as Attempt & { flash: string };
      if (message.flash === 'purchase') attempts.push(message);
    } catch {
      // not ours
    }
  }
  return attempts;
}

/** Waits until every purchase Redis confirmed for the sale is in Postgres. */
export async function waitForReconcile(stores: Stores, saleId: string, timeoutMs = 60_000): Promise<number> {
  const started = Date.now();
  const keys = saleKeys(saleId);
  for (;;) {
    const [backlog, buyers, persisted] = await Promise.all([
      reconcileBacklog(stores.redis, keys.purchases),
      stores.redis.hlen(keys.buyers),
      stores.repository.confirmedCount(saleId),
    ]);
    if (backlog === 0 && persisted === buyers) return Date.now() - started;
    if (Date.now() - started > timeoutMs) {
      throw new Error(
        `the reconciler did not catch up within ${timeoutMs / 1000} s: backlog ${backlog}, Redis buyers ${buyers}, Postgres rows ${persisted}`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

export interface StoreFacts {
  stock: number;
  confirmed: number;
  distinctBuyersInPostgres: number;
  redisRemaining: number | null;
  redisBuyers: number;
  postgresRemaining: number | null;
  units: number[];
}

export interface Verdict {
  facts: StoreFacts;
  /** Each invariant with whether it held: "✓ …" or "✗ …". */
  checks: { ok: boolean; text: string }[];
  ok: boolean;
}

/** What Postgres and Redis hold for a sale, read together. */
export async function readStoreFacts(stores: Stores, sale: { id: string; stock: number }) {
  const keys = saleKeys(sale.id);
  const [rowsResult, snapshot, redisBuyers, saleRow] = await Promise.all([
    stores.pool.query<{ id: string; user_id: string; unit_number: number }>(
      `SELECT id, user_id, unit_number FROM purchases WHERE flash_sale_id = $1 AND status = 'confirmed'`,
      [sale.id],
    ),
    stores.store.snapshot(sale.id),
    stores.redis.hlen(keys.buyers),
    stores.pool.query<{ remaining_stock: number; total_stock: number }>(
      'SELECT remaining_stock, total_stock FROM flash_sales WHERE id = $1',
      [sale.id],
    ),
  ]);
  const rows = rowsResult.rows;
  const facts: StoreFacts = {
    stock: sale.stock,
    confirmed: rows.length,
    distinctBuyersInPostgres: new Set(rows.map((r) => r.user_id)).size,
    redisRemaining: snapshot?.remaining ?? null,
    redisBuyers,
    postgresRemaining: saleRow.rows[0]?.remaining_stock ?? null,
    units: rows.map((r) => r.unit_number),
  };
  return { facts, rows };
}

/** The invariants that hold whoever the client was: no overselling, no buyer twice, units once each, both stores agree. */
export function storeInvariants(facts: StoreFacts): Verdict['checks'] {
  const { stock, confirmed } = facts;
  const unitsOk = new Set(facts.units).size === confirmed && facts.units.every((u) => Number.isInteger(u) && u >= 1 && u <= stock);
  return [
    { ok: confirmed <= stock, text: `no overselling: ${confirmed} ≤ ${stock}` },
    { ok: facts.distinctBuyersInPostgres === confirmed, text: `no buyer twice (${confirmed - facts.distinctBuyersInPostgres} repeated)` },
    { ok: unitsOk, text: `every unit sold once, numbered 1…${stock}` },
    { ok: facts.redisRemaining === stock - confirmed, text: `Redis remaining ${facts.redisRemaining} == stock ${stock} − confirmed ${confirmed}` },
    { ok: facts.redisBuyers === confirmed, text: `Redis buyers ${facts.redisBuyers} == Postgres purchases ${confirmed}` },
    { ok: facts.postgresRemaining === stock - confirmed, text: `Postgres remaining ${facts.postgresRemaining} == stock ${stock} − confirmed ${confirmed}` },
  ];
}

const plural = (n: number, word: string) => `${n.toLocaleString('en-US')} ${word}${n === 1 ? '' : 's'}`;

/**
 * The promises, checked against the stores:
 *   confirmed == min(stock, distinct buyers);  no buyer twice;
 *   Redis remaining == stock − confirmed (Postgres too);  every 201 k6 saw is a row in Postgres.
 */
export async function verifySale(
  stores: Stores,
  sale: { id: string; stock: number },
  attempts: Attempt[],
  expectation: Expectation,
): Promise<Verdict> {
  const { facts, rows } = await readStoreFacts(stores, sale);
  const { confirmed } = facts;

  // Buyers who competed: their attempt reached the claim and got a decision.
  const decided = attempts.filter(
    (a) => a.status === 201 || (a.status === 409 && (a.code === 'SOLD_OUT' || a.code === 'ALREADY_PURCHASED')),
  );
  const distinctBuyers = new Set(decided.map((a) => a.userId)).size;
  const seen201 = attempts.filter((a) => a.status === 201);
  const rowsById = new Map(rows.map((r) => [r.id, r]));

  const checks: Verdict['checks'] = [];
  const expect = (ok: boolean, text: string) => checks.push({ ok, text });

  const expected = Math.min(sale.stock, distinctBuyers);
  expect(
    confirmed === expected,
    `confirmed ${confirmed} == min(stock ${sale.stock}, ${plural(distinctBuyers, 'distinct buyer')}) = ${expected}`,
  );
  if (expectation === 'one-buyer') expect(confirmed === 1, `exactly one purchase for one buyer id (got ${confirmed})`);
  if (expectation === 'status-only') expect(confirmed === 0, `no purchase during a status-only run (got ${confirmed})`);
  checks.push(...storeInvariants(facts));
  const dupes201 = seen201.length - new Set(seen201.map((a) => a.userId)).size;
  expect(dupes201 === 0, `no buyer answered 201 twice (${dupes201} repeated)`);

  const missing = seen201.filter((a) => {
    const row = a.purchaseId ? rowsById.get(a.purchaseId) : undefined;
    return !row || row.user_id !== a.userId;
  });
  expect(
    missing.length === 0,
    `every 201 k6 saw (${seen201.length}) is a row in Postgres with its buyer` +
      (missing.length ? `; missing: ${missing.slice(0, 5).map((a) => `${a.userId}/${a.purchaseId}`).join(', ')}` : ''),
  );
  // With no lost answers, the client saw exactly what the stores hold.
  const undecided = attempts.length - decided.length;
  if (undecided === 0 && expectation !== 'status-only') {
    expect(seen201.length === confirmed, `k6 saw as many 201s (${seen201.length}) as Postgres holds purchases (${confirmed})`);
  }
  return { facts, checks, ok: checks.every((c) => c.ok) };
}

/** Rejections grouped the way T-10 asks: by reason. */
export function rejectionsByReason(attempts: Attempt[]): Record<string, number> {
  const reasons: Record<string, number> = {};
  for (const a of attempts) {
    if (a.status === 201) continue;
    const key = a.status === 0 ? (a.code ?? 'NETWORK_ERROR') : `${a.status} ${a.code ?? ''}`.trim();
    reasons[key] = (reasons[key] ?? 0) + 1;
  }
  return reasons;
}
