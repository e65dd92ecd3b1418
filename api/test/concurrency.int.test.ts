/**
 * The thundering herd through nginx, each shopper from its own loopback
 * address: no overselling, one unit per buyer, nothing lost on the way to
 * Postgres (NF-1, NF-7, NF-8, PR-5, PR-6, IM-3, IM-4).
 */
import { afterAll, describe, expect, it } from 'vitest';
import { connectToStack, http, purchase, reconciled, servicePid, shopperAddress, testEnv } from './support.js';

const stack = connectToStack();
afterAll(() => stack.close());

function tally(statuses: { status: number; code?: string }[]) {
  const counts: Record<string, number> = {};
  for (const { status, code } of statuses) {
    const key = code ? `${status} ${code}` : String(status);
    counts[key] = (counts[key] ?? 0) + 1;
  }
  return counts;
}

describe('1,000 distinct buyers against 100 units', () => {
  it('confirms exactly 100, answers 900 SOLD_OUT, and persists exactly those 100', async () => {
    const sale = await stack.createSale({ stock: 100, productName: 'Herd Widget' });
    const answers = await Promise.all(
      Array.from({ length: 1_000 }, (_, i) => purchase(`herd-buyer-${i}`, shopperAddress(i))),
    );
    const outcomes = answers.map((a) => ({
      status: a.status,
      code: a.status === 201 ? undefined : a.json().error?.code,
      data: a.status === 201 ? a.json().data : undefined,
    }));
    expect(tally(outcomes)).toEqual({ '201': 100, '409 SOLD_OUT': 900 });

    const confirmed = outcomes.filter((o) => o.status === 201).map((o) => o.data);
    expect(new Set(confirmed.map((c) => c.userId)).size).toBe(100);

    const report = await reconciled(stack);
    expect(report.redis.remainingStock).toBe(0);
    const rows = await stack.repository.confirmedPurchases(sale.id);
    expect(rows).toHaveLength(100);
    expect(new Set(rows.map((r) => r.purchaseId))).toEqual(new Set(confirmed.map((c) => c.purchaseId)));
    expect(new Set(rows.map((r) => r.unit))).toEqual(new Set(Array.from({ length: 100 }, (_, i) => i + 1)));
    const stored = await stack.repository.latestSale();
    expect(stored).toMatchObject({ id: sale.id, remainingStock: 0 });
  });
});

describe('100 concurrent attempts by one buyer', () => {
  it('confirms exactly one and takes exactly one unit', async () => {
    const sale = await stack.createSale({ stock: 50, productName: 'Duplicate Widget' });
    const answers = await Promise.all(
      Array.from({ length: 100 }, (_, i) => purchase('same.buyer@example.com', shopperAddress(2_000 + i))),
    );
    const outcomes = answers.map((a) => ({ status: a.status, code: a.status === 201 ? undefined : a.json().error?.code }));
    expect(tally(outcomes)).toEqual({ '201': 1, '409 ALREADY_PURCHASED': 99 });

    const purchaseId = answers.find((a) => a.status === 201)!.json().data.purchaseId;
    for (const rejected of answers.filter((a) => a.status === 409)) {
      expect(rejected.json().error.details.purchaseId).toBe(purchaseId);
    }
    expect((await stack.store.snapshot(sale.id))?.remaining).toBe(49);
    await reconciled(stack);
    const rows = await stack.repository.confirmedPurchases(sale.id);
    expect(rows.map((r) => r.purchaseId)).toEqual([purchaseId]);
  });
});

describe('after a sell-out', () => {
  const replica = testEnv.FLASH_API_URLS[0]!;
  const claimsSeenBy = async (base: string) => {
    const metrics = (await http('GET', `${base}/metrics`)).body;
    return Number(metrics.match(/^flashflow_purchase_claim_duration_seconds_count (\d+)/m)?.[1] ?? NaN);
  };
  const buyDirect = (userId: string) =>
    http('POST', `${replica}/api/v1/flash-sales/current/purchase`, {
      body: JSON.stringify({ userId }),
      headers: { 'content-type': 'application/json' },
    });

  it('a replica answers rejections itself, exactly as Redis would', async () => {
    await stack.createSale({ stock: 2, productName: 'Memo Widget' });
    const first = await buyDirect('memo-ann');
    expect(first.status).toBe(201);
    expect((await buyDirect('memo-bob')).status).toBe(201);
    expect((await buyDirect('memo-cy')).json().error.code).toBe('SOLD_OUT'); // Redis says so; the replica remembers
    await new Promise((resolve) => setTimeout(resolve, 200));

    const claimsBefore = await claimsSeenBy(replica);
    const answers = await Promise.all([
      ...Array.from({ length: 50 }, (_, i) => buyDirect(`memo-late-${i}`)),
      buyDirect('memo-ann'),
    ]);
    expect(await claimsSeenBy(replica)).toBe(claimsBefore);
    expect(answers.slice(0, 50).map((a) => a.json().error.code)).toEqual(Array(50).fill('SOLD_OUT'));
    const repeat = answers[50]!.json().error;
    expect(repeat.code).toBe('ALREADY_PURCHASED');
    expect(repeat.details.purchaseId).toBe(first.json().data.purchaseId);
  });
});

describe('the reconciler killed in the middle of a herd (NF-4)', () => {
  it('is restarted and persists every confirmed purchase exactly once', async () => {
    const sale = await stack.createSale({ stock: 300, productName: 'Crash Widget' });
    const pid = servicePid('reconciler');
    const herd = Promise.all(
      Array.from({ length: 600 }, (_, i) => purchase(`crash-buyer-${i}`, shopperAddress(5_000 + i))),
    );
    await new Promise((resolve) => setTimeout(resolve, 150));
    process.kill(pid, 'SIGKILL');
    const answers = await herd;
    const confirmed = answers.filter((a) => a.status === 201).map((a) => a.json().data.purchaseId as string);
    expect(confirmed).toHaveLength(300);

    await reconciled(stack);
    const rows = await stack.repository.confirmedPurchases(sale.id);
    expect(new Set(rows.map((r) => r.purchaseId))).toEqual(new Set(confirmed));
    expect(rows).toHaveLength(300);
  });
});
