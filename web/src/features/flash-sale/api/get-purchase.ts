import useSWR from 'swr';
import { ApiError, apiRequest, apiUrl } from '../../../lib/api-client';
import { ErrorEnvelopeSchema, PurchaseLookupSchema, envelope, type PurchaseLookup } from './schemas';

/**
 * GET /api/v1/flash-sales/current/purchase?userId=… — did this shopper already
 * buy one? Used after a reload to restore the "you got one" state (FE-6).
 * The sale id is part of the key so a new sale is asked about afresh.
 */

export const purchaseLookupPath = '/flash-sales/current/purchase';

export type PurchaseLookupKey = readonly [path: typeof purchaseLookupPath, userId: string, saleId: string];

export function purchaseLookupKey(userId: string | null | undefined, saleId: string | null | undefined): PurchaseLookupKey | null {
  return userId && saleId ? [purchaseLookupPath, userId, saleId] : null;
}

const LookupResponseSchema = envelope(PurchaseLookupSchema);

export async function fetchPurchaseLookup([path, userId]: PurchaseLookupKey): Promise<PurchaseLookup> {
  const res = await apiRequest(apiUrl(path, { userId }));
  if (res.ok) {
    const parsed = LookupResponseSchema.safeParse(res.body);
    if (parsed.success) return parsed.data.data;
    throw new ApiError(res.status, 'BAD_RESPONSE', 'The purchase lookup could not be read.');
  }
  const error = ErrorEnvelopeSchema.safeParse(res.body);
  if (res.status === 404) return { purchased: false };
  throw new ApiError(
    res.status,
    error.success ? error.data.error.code : `HTTP_${res.status}`,
    error.success ? error.data.error.message : 'The purchase lookup failed.',
  );
}

export function usePurchaseLookup(userId: string | null | undefined, saleId: string | null | undefined) {
  const { data, error, isLoading } = useSWR<PurchaseLookup, Error, PurchaseLookupKey | null>(
    purchaseLookupKey(userId, saleId),
    fetchPurchaseLookup,
    { revalidateOnFocus: false, revalidateIfStale: false, errorRetryCount: 3 },
  );
  return { lookup: data, error: error ?? null, isLoading };
}
