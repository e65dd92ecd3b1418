import type { Sale, SaleStatus } from '../api/schemas';

/**
 * What the shopper is told about the sale, derived only from the server's
 * answer (FE-1): the status word, why it ended, how much is left, and whether
 * buying is possible right now (FE-3).
 */

export const STATUS_LABEL: Record<SaleStatus, string> = {
  upcoming: 'Upcoming',
  active: 'Active',
  ended: 'Ended',
};

export type EndReason = 'sold_out' | 'time';

/** Why an ended sale ended; trusts `endedReason`, falls back to the stock left. */
export function endReason(sale: Pick<Sale, 'status' | 'endedReason' | 'remainingStock'>): EndReason | null {
  if (sale.status !== 'ended') return null;
  if (sale.endedReason) return sale.endedReason;
  return sale.remainingStock <= 0 ? 'sold_out' : 'time';
}

export type StockLevel = 'plenty' | 'low' | 'none';

/** "Low" is the last 10 % (at least the last unit), so the meter turns amber near the end. */
export function stockLevel(remaining: number, total: number): StockLevel {
  if (remaining <= 0) return 'none';
  return remaining <= lowStockMark(total) ? 'low' : 'plenty';
}

export function lowStockMark(total: number): number {
  return Math.max(1, Math.floor(total * 0.1));
}

export function stockSentence(remaining: number, total: number): string {
  const left = Math.max(0, Math.min(remaining, total));
  return `${left} of ${total} left`;
}

export type Availability =
  | { canBuy: true }
  | { canBuy: false; why: 'loading' | 'no_sale' | 'upcoming' | 'ended' | 'pending' | 'owned'; hint: string };

/** FE-3 (button only while active), the pending state, and FE-6 (one per shopper). */
export function availability(input: {
  sale: Pick<Sale, 'status'> | null | undefined;
  pending: boolean;
  ownsOne: boolean;
}): Availability {
  const { sale, pending, ownsOne } = input;
  if (sale === undefined) return { canBuy: false, why: 'loading', hint: 'Checking the sale…' };
  if (sale === null) return { canBuy: false, why: 'no_sale', hint: 'There is no sale right now.' };
  if (ownsOne) return { canBuy: false, why: 'owned', hint: 'You already have one. It is one per shopper.' };
  if (sale.status === 'upcoming') return { canBuy: false, why: 'upcoming', hint: 'Buying opens when the sale starts.' };
  if (sale.status === 'ended') return { canBuy: false, why: 'ended', hint: 'The sale has ended.' };
  if (pending) return { canBuy: false, why: 'pending', hint: 'Placing your order…' };
  return { canBuy: true };
}
