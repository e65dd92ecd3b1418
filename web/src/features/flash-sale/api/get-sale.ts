import { useState } from 'react';
import useSWR, { type SWRConfiguration } from 'swr';
import { config } from '../../../config';
import { ApiError, apiRequest, apiUrl } from '../../../lib/api-client';
import { addClockSample, clockSample, estimateOffset, type ClockSample } from '../logic/server-clock.logic';
import { ErrorEnvelopeSchema, SaleSchema, envelope, type Sale } from './schemas';

/** GET /api/v1/flash-sales/current — the sale's status, polled (see docs/adr/0003-polling-vs-push.md). */

export const saleKey = '/flash-sales/current';

export type SaleSnapshot = {
  /** null: there is no sale (404 SALE_NOT_FOUND), which is an answer, not an error. */
  sale: Sale | null;
  /** Local clock when the answer arrived, for the server clock offset. */
  receivedAt: number;
};

const SaleResponseSchema = envelope(SaleSchema);

export async function fetchCurrentSale(): Promise<SaleSnapshot> {
  const res = await apiRequest(apiUrl(saleKey));
  if (res.ok) {
    const parsed = SaleResponseSchema.safeParse(res.body);
    if (!parsed.success) throw new ApiError(res.status, 'BAD_RESPONSE', 'The sale status could not be read.');
    return { sale: parsed.data.data, receivedAt: res.receivedAt };
  }
  const error = ErrorEnvelopeSchema.safeParse(res.body);
  const code = error.success ? error.data.error.code : `HTTP_${res.status}`;
  if (res.status === 404 && code === 'SALE_NOT_FOUND') return { sale: null, receivedAt: res.receivedAt };
  throw new ApiError(res.status, code, error.success ? error.data.error.message : 'The sale status is unavailable.');
}

/** Polling every ~1 s while the tab is visible; revalidates when the shopper comes back. */
export function saleSwrOptions(pollIntervalMs: number): SWRConfiguration<SaleSnapshot, Error> {
  return {
    refreshInterval: pollIntervalMs,
    refreshWhenHidden: false,
    refreshWhenOffline: false,
    revalidateOnFocus: true,
    revalidateOnReconnect: true,
    // SWR reuses a finished request for `dedupingInterval` after it settles;
    // keep it under the poll interval so every tick really asks the server.
    dedupingInterval: Math.floor(pollIntervalMs / 2),
    focusThrottleInterval: pollIntervalMs,
    // SWR stops polling while the last request failed and hands over to
    // onErrorRetry; its default backoff grows to minutes, far too slow for a
    // flash sale. Retry quickly, capped at 5 s, and only while visible.
    onErrorRetry: (_error, _key, _config, revalidate, { retryCount }) => {
      if (typeof document !== 'undefined' && document.visibilityState === 'hidden') return;
      const delay = Math.min(pollIntervalMs * 2 ** Math.min(retryCount, 5), 5000);
      setTimeout(() => void revalidate({ retryCount }), delay);
    },
  };
}

export function useSale() {
  const [samples, setSamples] = useState<readonly ClockSample[]>([]);
  const { data, error, isLoading } = useSWR<SaleSnapshot, Error>(saleKey, fetchCurrentSale, {
    ...saleSwrOptions(config.pollIntervalMs),
    onSuccess: (snapshot) => {
      if (!snapshot.sale) return;
      const sample = clockSample(snapshot.sale.serverTime, snapshot.receivedAt);
      setSamples((prev) => addClockSample(prev, sample));
    },
  });
  return {
    /** undefined while the first answer is awaited; null when there is no sale. */
    sale: data?.sale,
    /** Add to Date.now() to get the server's clock. */
    clockOffsetMs: estimateOffset(samples),
    /** Set when the latest poll failed; `sale` still holds the last good answer. */
    error: error ?? null,
    isLoading,
  };
}
