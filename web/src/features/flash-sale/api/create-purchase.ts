import { useCallback, useRef } from 'react';
import { useSWRConfig } from 'swr';
import useSWRMutation from 'swr/mutation';
import { NetworkError, apiRequest, apiUrl } from '../../../lib/api-client';
import { networkFailure, outcomeFromResponse, ownedPurchase, type PurchaseOutcome } from '../logic/outcome.logic';
import { saleKey } from './get-sale';
import { purchaseLookupKey } from './get-purchase';

/** POST /api/v1/flash-sales/current/purchase — one attempt, one outcome; never throws. */

export const purchaseKey = '/flash-sales/current/purchase';

export async function postPurchase(userId: string): Promise<PurchaseOutcome> {
  try {
    const res = await apiRequest(apiUrl(purchaseKey), { method: 'POST', body: JSON.stringify({ userId }) });
    return outcomeFromResponse(userId, {
      status: res.status,
      body: res.body,
      retryAfter: res.headers.get('Retry-After'),
      now: res.receivedAt,
    });
  } catch (error) {
    if (error instanceof NetworkError) return networkFailure();
    throw error;
  }
}

/**
 * `purchase(userId)` runs at most one attempt at a time (a second call while
 * one is in flight returns null without a request), then refreshes the sale
 * status and, when the shopper now owns one, the purchase lookup.
 */
export function usePurchase(saleId: string | null | undefined) {
  const { mutate } = useSWRConfig();
  const inFlight = useRef(false);
  const { trigger, isMutating, data, reset } = useSWRMutation<PurchaseOutcome, Error, string, string>(
    purchaseKey,
    (_key, { arg }) => postPurchase(arg),
  );

  const purchase = useCallback(
    async (userId: string): Promise<PurchaseOutcome | null> => {
      if (inFlight.current) return null;
      inFlight.current = true;
      try {
        const outcome = await trigger(userId);
        void mutate(saleKey);
        const owned = ownedPurchase(outcome);
        if (owned?.lookup) void mutate(purchaseLookupKey(owned.userId, saleId), owned.lookup, { revalidate: false });
        return outcome;
      } finally {
        inFlight.current = false;
      }
    },
    [trigger, mutate, saleId],
  );

  return { purchase, isPending: isMutating, outcome: data ?? null, reset };
}
