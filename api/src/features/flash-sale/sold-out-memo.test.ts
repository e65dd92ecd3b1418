import { describe, expect, it } from 'vitest';
import type { RedisSaleStore } from './flash-sale.redis.js';
import { createSoldOutMemo } from './sold-out-memo.js';

const sale = { id: 's1', productName: 'Widget', totalStock: 2, startMs: 0, endMs: 10_000 };

/** A store whose copy of the buyers is durable, or (null) not yet held by a replica. */
function storeWithBuyers(calls: { count: number }, durable: () => boolean = () => true) {
  return {
    durableBuyers: async () => {
      calls.count += 1;
      return durable() ? new Map([['ann', { purchaseId: 'p-ann', purchasedAtMs: 5, unit: 1 }]]) : null;
    },
  } as unknown as RedisSaleStore;
}

describe('the sold-out memo', () => {
  it('knows nothing until a sale has sold out', () => {
    const memo = createSoldOutMemo(storeWithBuyers({ count: 0 }), () => 1_000);
    expect(memo.answer('s1', 'ann')).toBeNull();
  });

  it('then answers as the script would: buyers already purchased, everyone else sold out', async () => {
    const calls = { count: 0 };
    const memo = createSoldOutMemo(storeWithBuyers(calls), () => 1_000);
    await memo.remember(sale);
    await memo.remember(sale);
    expect(calls.count).toBe(1);
    expect(memo.answer('s1', 'ann')).toEqual({ kind: 'ALREADY_PURCHASED', purchaseId: 'p-ann', purchasedAtMs: 5 });
    expect(memo.answer('s1', 'bob')).toEqual({ kind: 'SOLD_OUT' });
    expect(memo.answer('other-sale', 'bob')).toBeNull();
  });

  it('steps aside near the end, where the script’s clock decides SALE_NOT_ACTIVE', async () => {
    let now = 1_000;
    const memo = createSoldOutMemo(storeWithBuyers({ count: 0 }), () => now);
    await memo.remember(sale);
    now = sale.endMs - 1_000;
    expect(memo.answer('s1', 'bob')).toBeNull();
  });

  it('keeps no copy that replicas do not hold yet, and copies again at the next sell-out answer', async () => {
    const calls = { count: 0 };
    let durable = false;
    const memo = createSoldOutMemo(storeWithBuyers(calls, () => durable), () => 1_000);
    await memo.remember(sale);
    expect(memo.answer('s1', 'ann')).toBeNull();
    durable = true;
    await memo.remember(sale);
    expect(calls.count).toBe(2);
    expect(memo.answer('s1', 'ann')).toMatchObject({ kind: 'ALREADY_PURCHASED', purchaseId: 'p-ann' });
  });

  it('does not copy very large sales', async () => {
    const calls = { count: 0 };
    const memo = createSoldOutMemo(storeWithBuyers(calls), () => 1_000);
    await memo.remember({ ...sale, totalStock: 1_000_000 });
    expect(calls.count).toBe(0);
    expect(memo.answer('s1', 'bob')).toBeNull();
  });
});
