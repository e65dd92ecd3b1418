/**
 * What must hold after every fault: each promise any shopper was given is in
 * Redis and in Postgres, with the same purchase id and unit; no unit was
 * sold twice and no more than the stock; the two stores agree soon after;
 * and shoppers only ever heard 201, 409, 429 or, while the fault lasted, 503.
 */
import { saleKeys, parseBuyerRecord } from '../api/src/features/flash-sale/flash-sale.logic.js';
import { reconcileBacklog } from '../api/src/features/flash-sale/reconciler.js';
import type { SaleTools } from '../api/src/features/flash-sale/sale-tools.js';
import type { Answer } from './load.js';

/** Within this long after the fault was healed, the two stores must agree. */
export const AGREE_WITHIN_MS = 30_000;

export interface Window {
  /** When the fault was injected and when it was healed (ms since the epoch). */
  faultStart: number;
  faultEnd: number;
}

export interface Expectations {
  /** 503s are allowed while the fault lasts and this long after it was healed; false: none at all. */
  unavailableUntilMsAfterHeal: number | false;
  /** Refused connections are allowed while the fault lasts (the whole shop was down). */
  unreachableDuringFault: boolean;
}

export interface Verdict {
  requests: number;
  confirmed: number;
  unavailable: number;
  unreachable: number;
  /** Promises (201, ALREADY_PURCHASED) not found in both stores as given. */
  lost: number;
  /** Units beyond the stock, or given twice. */
  oversold: number;
  /** From the end of the load until Redis and Postgres agreed; null if they never did within the limit. */
  agreeMs: number | null;
  /** From the heal until the last answer that was not final or a plain rejection (503, no answer); 0 if none. */
  healMs: number;
  violations: string[];
}

/** Every promise made, per buyer: 201 and ALREADY_PURCHASED both name the buyer's purchase. */
function promisesOf(answers: Answer[]) {
  const promised = new Map<string, Set<string>>();
  for (const answer of answers) {
    const names = answer.status === 201 || (answer.status === 409 && answer.code === 'ALREADY_PURCHASED');
    if (!names || !answer.purchaseId) continue;
    promised.set(answer.userId, (promised.get(answer.userId) ?? new Set()).add(answer.purchaseId));
  }
  return promised;
}

export async function verify(
  tools: SaleTools,
  sale: { id: string; totalStock: number },
  answers: Answer[],
  window: Window,
  expectations: Expectations,
  loadEndedAt: number,
): Promise<Verdict> {
  const violations: string[] = [];
  const keys = saleKeys(sale.id);

  // The answers themselves.
  const allowed = new Set([201, 409, 429, 503]);
  const unavailable = answers.filter((a) => a.status === 503);
  const unreachable = answers.filter((a) => a.status === 0);
  for (const answer of answers) {
    if (answer.status !== 0 && !allowed.has(answer.status)) {
      violations.push(`${answer.userId} was answered ${answer.status} ${answer.code ?? ''}`.trim());
    }
    if (answer.status === 409 && !['ALREADY_PURCHASED', 'SOLD_OUT', 'SALE_NOT_ACTIVE'].includes(answer.code ?? '')) {
      violations.push(`${answer.userId} was answered 409 ${answer.code ?? '(no code)'}`);
    }
  }
  const inFault = (a: Answer, afterHealMs: number) => a.at >= window.faultStart && a.at <= window.faultEnd + afterHealMs;
  if (expectations.unavailableUntilMsAfterHeal === false) {
    if (unavailable.length > 0) violations.push(`${unavailable.length} answers were 503, where none may be`);
  } else {
    const outside = unavailable.filter((a) => !inFault(a, expectations.unavailableUntilMsAfterHeal as number));
    if (outside.length > 0) violations.push(`${outside.length} answers were 503 outside the fault (first at ${new Date(outside[0]!.at).toISOString()})`);
  }
  const badUnreachable = unreachable.filter((a) => !(expectations.unreachableDuringFault && inFault(a, 0)));
  if (badUnreachable.length > 0) {
    violations.push(`${badUnreachable.length} attempts got no answer (${[...new Set(badUnreachable.map((a) => a.failure))].slice(0, 3).join('; ')})`);
  }
  const late = answers.filter((a) => a.ms > 5_000 && a.status !== 0);
  if (late.length > 0) violations.push(`${late.length} answers took longer than 5 s (slowest ${Math.max(...late.map((a) => a.ms))} ms)`);
  const afterHeal = answers.filter((a) => (a.status === 503 || a.status === 0) && a.at > window.faultEnd);
  const healMs = afterHeal.length === 0 ? 0 : Math.max(...afterHeal.map((a) => a.at)) - window.faultEnd;

  // Never a second unit: every promise to one buyer names the same purchase.
  const promised = promisesOf(answers);
  for (const [userId, ids] of promised) {
    if (ids.size > 1) violations.push(`${userId} was promised ${ids.size} different purchases: ${[...ids].join(', ')}`);
  }

  // The two stores agree, soon after.
  const agreeDeadline = Math.max(loadEndedAt, window.faultEnd) + AGREE_WITHIN_MS;
  let agreeMs: number | null = null;
  let redisBuyers = new Map<string, { purchaseId: string; unit: number }>();
  let rows: { purchaseId: string; userId: string; unit: number }[] = [];
  for (;;) {
    const [records, stored, backlog] = await Promise.all([
      tools.redis.hgetall(keys.buyers).catch(() => null),
      tools.repository.confirmedPurchases(sale.id).catch(() => null),
      reconcileBacklog(tools.redis, keys.purchases).catch(() => -1),
    ]);
    if (records && stored) {
      redisBuyers = new Map(
        Object.entries(records).flatMap(([userId, record]) => {
          const parsed = parseBuyerRecord(record);
          return parsed ? [[userId, { purchaseId: parsed.purchaseId, unit: parsed.unit }] as const] : [];
        }),
      );
      rows = stored;
      const same =
        backlog === 0 &&
        rows.length === redisBuyers.size &&
        rows.every((row) => {
          const buyer = redisBuyers.get(row.userId);
          return buyer?.purchaseId === row.purchaseId && buyer.unit === row.unit;
        });
      if (same) {
        agreeMs = Date.now() - loadEndedAt;
        break;
      }
    }
    if (Date.now() > agreeDeadline) {
      violations.push(
        `Redis and Postgres did not agree within ${AGREE_WITHIN_MS / 1000} s: ${redisBuyers.size} buyers in Redis, ${rows.length} rows in Postgres, backlog ${backlog}`,
      );
      break;
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }

  // Every promise is in both stores, as given.
  const rowById = new Map(rows.map((row) => [row.purchaseId, row]));
  let lost = 0;
  for (const [userId, ids] of promised) {
    for (const purchaseId of ids) {
      const buyer = redisBuyers.get(userId);
      const row = rowById.get(purchaseId);
      if (buyer?.purchaseId !== purchaseId || row?.userId !== userId || row.unit !== buyer.unit) {
        lost += 1;
        violations.push(
          `promise lost: ${userId} was told ${purchaseId}; Redis holds ${buyer ? `${buyer.purchaseId} (unit ${buyer.unit})` : 'nothing'}, Postgres ${row ? `unit ${row.unit} for ${row.userId}` : 'nothing'}`,
        );
      }
    }
  }

  // No unit twice, none beyond the stock.
  const units = [...redisBuyers.values()].map((b) => b.unit);
  const twice = units.length - new Set(units).size;
  const beyond = Math.max(0, redisBuyers.size - sale.totalStock) + units.filter((unit) => unit > sale.totalStock).length;
  const oversold = twice + beyond;
  if (oversold > 0) violations.push(`oversold: ${twice} units given twice, ${beyond} beyond the stock of ${sale.totalStock}`);
  const snapshot = await tools.store.snapshot(sale.id).catch(() => null);
  if (snapshot && snapshot.remaining + redisBuyers.size > sale.totalStock) {
    violations.push(`Redis counts ${snapshot.remaining} remaining and ${redisBuyers.size} buyers for a stock of ${sale.totalStock}`);
  }
  const conflicts = await tools.repository.conflictCount(sale.id);
  if (conflicts > 0) violations.push(`${conflicts} purchases were recorded as conflicts`);

  return {
    requests: answers.length,
    confirmed: answers.filter((a) => a.status === 201).length,
    unavailable: unavailable.length,
    unreachable: unreachable.length,
    lost,
    oversold,
    agreeMs,
    healMs,
    violations,
  };
}
