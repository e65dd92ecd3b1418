/**
 * The pure rules of reconciling: reading a stream entry, and telling a
 * replayed purchase from one that collides with a different purchase.
 */

export interface PersistablePurchase {
  purchaseId: string;
  userId: string;
  unit: number;
  purchasedAtMs: number;
}

/** One entry of a sale's purchases stream: [id, [field, value, field, value, …]]. */
export type StreamEntry = [id: string, fields: string[]];

export type ReadEntry =
  /** traceParent: the purchase's trace (W3C traceparent), when it was sampled. */
  | { entryId: string; purchase: PersistablePurchase; traceParent?: string }
  | { entryId: string; malformed: Record<string, string> };

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const TRACEPARENT = /^00-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$/;

/** Reads an entry purchase.lua wrote; anything else (a missing or bad field) is malformed. */
export function readEntry([entryId, fields]: StreamEntry): ReadEntry {
  const values: Record<string, string> = {};
  for (let i = 0; i + 1 < fields.length; i += 2) values[fields[i]!] = fields[i + 1]!;
  const unit = Number(values.unit);
  const purchasedAtMs = Number(values.purchased_at_ms);
  const { purchase_id: purchaseId, user_id: userId } = values;
  if (
    purchaseId === undefined || !UUID.test(purchaseId) ||
    userId === undefined || userId.length === 0 ||
    !Number.isSafeInteger(unit) || unit <= 0 ||
    !Number.isSafeInteger(purchasedAtMs)
  ) {
    return { entryId, malformed: values };
  }
  const purchase = { purchaseId, userId, unit, purchasedAtMs };
  // A trace is a diagnostic: one that cannot be read is dropped, never the purchase.
  return values.traceparent !== undefined && TRACEPARENT.test(values.traceparent)
    ? { entryId, purchase, traceParent: values.traceparent }
    : { entryId, purchase };
}

export type ConflictReason = 'buyer_already_has_purchase' | 'unit_already_sold' | 'malformed_entry';

export interface PurchaseConflict {
  purchase: PersistablePurchase;
  reason: ConflictReason;
  conflictingPurchaseId: string | null;
}

/**
 * Of the purchases an insert did not store, which were replays (the same
 * purchase, already there) and which collide with a different one. `stored`
 * holds the sale's rows that share an id, a buyer or a unit with them.
 */
export function classifyUnstored(
  unstored: PersistablePurchase[],
  stored: { purchaseId: string; userId: string; unit: number }[],
): PurchaseConflict[] {
  const conflicts: PurchaseConflict[] = [];
  for (const purchase of unstored) {
    const same = stored.find((row) => row.purchaseId === purchase.purchaseId);
    if (same && same.userId === purchase.userId && same.unit === purchase.unit) continue;
    const byBuyer = stored.find((row) => row.userId === purchase.userId && row.purchaseId !== purchase.purchaseId);
    const byUnit = stored.find((row) => row.unit === purchase.unit && row.purchaseId !== purchase.purchaseId);
    if (byBuyer) conflicts.push({ purchase, reason: 'buyer_already_has_purchase', conflictingPurchaseId: byBuyer.purchaseId });
    else if (byUnit) conflicts.push({ purchase, reason: 'unit_already_sold', conflictingPurchaseId: byUnit.purchaseId });
    // The same id stored with another buyer or unit: the entry cannot be what purchase.lua wrote.
    else conflicts.push({ purchase, reason: 'malformed_entry', conflictingPurchaseId: same?.purchaseId ?? null });
  }
  return conflicts;
}
