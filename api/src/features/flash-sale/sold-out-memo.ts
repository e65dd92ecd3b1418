/**
 * Once a sale has sold out, nothing about it can change: stock stays at zero
 * and the set of buyers is final. A replica that has seen SOLD_OUT copies the
 * buyers once and answers later attempts itself (ALREADY_PURCHASED for a
 * buyer, SOLD_OUT for anyone else) instead of asking Redis each time.
 *
 * Near the end of the window the script's answer for non-buyers becomes
 * SALE_NOT_ACTIVE, judged by Redis's clock, so the memo steps aside a margin
 * before the end and lets Redis decide. While the memo answers, the per-buyer
 * attempt limit is not counted: those attempts cost Redis nothing.
 */
import type { BuyerRecord, ClaimOutcome, SaleDefinition } from './flash-sale.logic.js';
import type { RedisSaleStore } from './flash-sale.redis.js';

/** Larger sales are not copied into every replica's memory. */
const MAX_BUYERS_IN_MEMORY = 100_000;
/** Allowance for the difference between this replica's clock and Redis's. */
const END_MARGIN_MS = 1_000;

interface Memo {
  endMs: number;
  buyers: Map<string, BuyerRecord>;
}

export function createSoldOutMemo(store: RedisSaleStore, now: () => number = Date.now) {
  const memos = new Map<string, Memo>();
  const loading = new Set<string>();

  return {
    /** The outcome Redis would give, when it is already known here; null otherwise. */
    answer(saleId: string, userId: string): ClaimOutcome | null {
      const memo = memos.get(saleId);
      if (!memo || now() >= memo.endMs - END_MARGIN_MS) return null;
      const bought = memo.buyers.get(userId);
      return bought
        ? { kind: 'ALREADY_PURCHASED', purchaseId: bought.purchaseId, purchasedAtMs: bought.purchasedAtMs }
        : { kind: 'SOLD_OUT' };
    },

    /**
     * Called when Redis answered SOLD_OUT: copies the final buyers, once per
     * sale, and only a copy that replicas hold too (its ALREADY_PURCHASED
     * answers are promises). A copy that is not durable yet is tried again at
     * the next SOLD_OUT.
     */
    async remember(sale: SaleDefinition): Promise<void> {
      if (memos.has(sale.id) || loading.has(sale.id) || sale.totalStock > MAX_BUYERS_IN_MEMORY) return;
      loading.add(sale.id);
      try {
        const buyers = await store.durableBuyers(sale.id);
        if (buyers) memos.set(sale.id, { endMs: sale.endMs, buyers });
      } finally {
        loading.delete(sale.id);
      }
    },
  };
}

