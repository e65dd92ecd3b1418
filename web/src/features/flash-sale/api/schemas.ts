import { z } from 'zod';

/**
 * The API's response shapes (functional spec), parsed at the edge so the rest
 * of the page works with checked, typed data.
 */

export const SaleStatusSchema = z.enum(['upcoming', 'active', 'ended']);
export type SaleStatus = z.infer<typeof SaleStatusSchema>;

export const SaleSchema = z.object({
  id: z.string().min(1),
  productName: z.string(),
  totalStock: z.number().int().nonnegative(),
  remainingStock: z.number().int().nonnegative(),
  startTime: z.string(),
  endTime: z.string(),
  status: SaleStatusSchema,
  endedReason: z.enum(['sold_out', 'time']).nullable().optional().default(null),
  serverTime: z.string(),
});
export type Sale = z.infer<typeof SaleSchema>;

export const PurchaseConfirmedSchema = z.object({
  purchaseId: z.string(),
  userId: z.string(),
  productName: z.string(),
  status: z.literal('confirmed'),
  purchasedAt: z.string(),
});
export type PurchaseConfirmed = z.infer<typeof PurchaseConfirmedSchema>;

export const PurchaseLookupSchema = z.discriminatedUnion('purchased', [
  z.object({ purchased: z.literal(true), purchaseId: z.string(), purchasedAt: z.string() }),
  z.object({ purchased: z.literal(false) }),
]);
export type PurchaseLookup = z.infer<typeof PurchaseLookupSchema>;

export const AlreadyPurchasedDetailsSchema = z.object({
  purchaseId: z.string(),
  purchasedAt: z.string(),
});

/** `{"data": …}` around every success. */
export const envelope = <T extends z.ZodType>(data: T) => z.object({ data });

/** Every 4xx/5xx: `{"status":"error","code":409,"error":{"code":"SOLD_OUT",…}}`. */
export const ErrorEnvelopeSchema = z.object({
  error: z.object({
    code: z.string(),
    message: z.string().optional().default(''),
    correlationId: z.string().optional(),
    details: z.unknown().optional(),
  }),
});
export type ApiErrorBody = z.infer<typeof ErrorEnvelopeSchema>['error'];
