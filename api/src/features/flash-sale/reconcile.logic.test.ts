import { describe, expect, it } from 'vitest';
import { classifyUnstored, readEntry } from './reconcile.logic.js';

const id = '0f8fad5b-d9cb-469f-a165-70867728950e';
const other = '7c9e6679-7425-40de-944b-e07fc1f90ae7';

describe('reading a stream entry', () => {
  it('reads what purchase.lua writes', () => {
    const entry = readEntry(['1-0', ['purchase_id', id, 'user_id', 'ann', 'unit', '3', 'purchased_at_ms', '1700000000000']]);
    expect(entry).toEqual({ entryId: '1-0', purchase: { purchaseId: id, userId: 'ann', unit: 3, purchasedAtMs: 1700000000000 } });
  });

  it('reads the trace a sampled purchase carries, and persists a purchase whose trace is unreadable', () => {
    const fields = ['purchase_id', id, 'user_id', 'ann', 'unit', '3', 'purchased_at_ms', '1700000000000'];
    const traceParent = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';
    expect(readEntry(['1-0', [...fields, 'traceparent', traceParent]])).toMatchObject({ traceParent, purchase: { unit: 3 } });
    const unreadable = readEntry(['1-0', [...fields, 'traceparent', 'not-a-trace']]);
    expect(unreadable).toMatchObject({ purchase: { unit: 3 } });
    expect(unreadable).not.toHaveProperty('traceParent');
  });

  it.each([
    ['a missing field', ['purchase_id', id, 'user_id', 'ann', 'unit', '3']],
    ['a purchase id that is no UUID', ['purchase_id', 'nope', 'user_id', 'ann', 'unit', '3', 'purchased_at_ms', '1']],
    ['a unit that is no positive whole number', ['purchase_id', id, 'user_id', 'ann', 'unit', '0', 'purchased_at_ms', '1']],
    ['an empty buyer', ['purchase_id', id, 'user_id', '', 'unit', '3', 'purchased_at_ms', '1']],
  ])('calls an entry with %s malformed, keeping its fields', (_, fields) => {
    const entry = readEntry(['2-0', fields]);
    expect(entry).toMatchObject({ entryId: '2-0', malformed: expect.any(Object) });
  });
});

describe('telling replays from conflicts', () => {
  const purchase = { purchaseId: id, userId: 'ann', unit: 1, purchasedAtMs: 1 };

  it('ignores a replay of a purchase already stored', () => {
    expect(classifyUnstored([purchase], [{ purchaseId: id, userId: 'ann', unit: 1 }])).toEqual([]);
  });

  it('names the purchase a conflicting one collides with: the buyer first, then the unit', () => {
    expect(classifyUnstored([purchase], [{ purchaseId: other, userId: 'ann', unit: 2 }])).toEqual([
      { purchase, reason: 'buyer_already_has_purchase', conflictingPurchaseId: other },
    ]);
    expect(classifyUnstored([purchase], [{ purchaseId: other, userId: 'bob', unit: 1 }])).toEqual([
      { purchase, reason: 'unit_already_sold', conflictingPurchaseId: other },
    ]);
  });

  it('calls a purchase id stored with another buyer or unit malformed: the entry cannot be the script’s', () => {
    expect(classifyUnstored([purchase], [{ purchaseId: id, userId: 'bob', unit: 1 }])).toEqual([
      { purchase, reason: 'malformed_entry', conflictingPurchaseId: id },
    ]);
  });
});
