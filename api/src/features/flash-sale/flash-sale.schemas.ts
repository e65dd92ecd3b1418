/** Request and response shapes of §4; the same schemas validate requests and generate the OpenAPI document. */
import { z } from '@hono/zod-openapi';
import { ERROR_CODES } from '../../errors.js';
import { USER_ID_MAX_LENGTH, USER_ID_PATTERN, UserIdSchema } from './flash-sale.logic.js';

// Described on a plain string piped into the rule, so the document does not
// depend on which module loaded zod's OpenAPI extension first.
const UserId = z
  .string({ error: 'userId must be a string' })
  .openapi({
    type: 'string',
    minLength: 1,
    maxLength: USER_ID_MAX_LENGTH,
    pattern: USER_ID_PATTERN,
    description:
      'A username or e-mail address. Trimmed, NFC-normalised and lower-cased; 1–254 characters, no whitespace, control or invisible characters.',
    example: 'alice@example.com',
  })
  .pipe(UserIdSchema);

export const PurchaseRequestSchema = z
  .strictObject({ userId: UserId })
  .openapi('PurchaseRequest');

/** Unknown query parameters (cache busters, tracking) are ignored; only userId counts. */
export const PurchaseLookupQuerySchema = z.object({ userId: UserId }).openapi('PurchaseLookupQuery');

const Instant = z.iso.datetime().openapi({ example: '2026-02-24T10:00:05.000Z' });

export const SaleSchema = z
  .object({
    id: z.uuid(),
    productName: z.string(),
    totalStock: z.int().positive(),
    remainingStock: z.int().nonnegative(),
    startTime: Instant,
    endTime: Instant,
    status: z.enum(['upcoming', 'active', 'ended']),
    endedReason: z
      .enum(['sold_out', 'time'])
      .nullable()
      .openapi({ description: 'Why an ended sale ended; null unless status is ended.' }),
    serverTime: Instant.openapi({
      description: 'The server clock when this answer was computed, for countdowns.',
    }),
  })
  .openapi('Sale');

export const SaleResponseSchema = z.object({ data: SaleSchema }).openapi('SaleResponse');

export const PurchaseConfirmedSchema = z
  .object({
    data: z.object({
      purchaseId: z.uuid(),
      userId: z.string(),
      productName: z.string(),
      status: z.literal('confirmed'),
      purchasedAt: Instant,
    }),
  })
  .openapi('PurchaseConfirmed');

export const PurchaseLookupSchema = z
  .object({
    data: z.union([
      z.object({ purchased: z.literal(true), purchaseId: z.uuid(), purchasedAt: Instant }),
      z.object({ purchased: z.literal(false) }),
    ]),
  })
  .openapi('PurchaseLookup');

export const ErrorSchema = z
  .object({
    status: z.literal('error'),
    code: z.int().openapi({ description: 'The HTTP status code.' }),
    error: z.object({
      code: z.enum(ERROR_CODES),
      message: z.string(),
      correlationId: z.string().openapi({ description: 'The request id; quote it when reporting a problem.' }),
      details: z.unknown().optional(),
    }),
  })
  .openapi('Error');
