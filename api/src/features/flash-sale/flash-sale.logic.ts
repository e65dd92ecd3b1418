/**
 * The pure rules of a flash sale: no I/O, no clock of their own. The purchase
 * decision itself lives in purchase.lua, where it is atomic; these functions
 * describe the same rules for status reads, input and responses.
 */
import { z } from 'zod';

export type SaleStatus = 'upcoming' | 'active' | 'ended';
export type EndedReason = 'sold_out' | 'time';

/** What an operator decides about a sale when creating it; never changes afterwards. */
export interface SaleDefinition {
  id: string;
  productName: string;
  totalStock: number;
  startMs: number;
  endMs: number;
}

export interface SaleWindow {
  startMs: number;
  endMs: number;
  remaining: number;
  /** Closed for good (its closed marker is set): replaced by another sale, or over and settling. */
  closed: boolean;
}

/**
 * upcoming before start; active in [start, end) with stock; ended at end, at
 * zero stock, or once closed with stock left (as purchase.lua decides).
 */
export function computeSaleStatus(
  sale: SaleWindow,
  nowMs: number,
): { status: SaleStatus; endedReason: EndedReason | null } {
  if (nowMs >= sale.endMs) return { status: 'ended', endedReason: 'time' };
  if (sale.closed && sale.remaining > 0) return { status: 'ended', endedReason: 'time' };
  if (nowMs < sale.startMs) return { status: 'upcoming', endedReason: null };
  if (sale.remaining <= 0) return { status: 'ended', endedReason: 'sold_out' };
  return { status: 'active', endedReason: null };
}

export const USER_ID_MAX_LENGTH = 254; // the longest valid e-mail address, in characters

/** Exactly the characters String.prototype.trim removes, spelled out so any regex engine agrees. */
const WHITESPACE = '\\t\\n\\u000b\\f\\r \\u00a0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000\\ufeff';
const CONTROL = '\\u0000-\\u001f\\u007f-\\u009f';
/** Invisible formatting characters: soft hyphen, zero-width and direction marks. */
const INVISIBLE = '\\u00ad\\u200b-\\u200f\\u202a-\\u202e\\u2060-\\u2064\\u2066-\\u2069';

/**
 * What a client may send: optional surrounding whitespace around one run of
 * characters that are neither whitespace, control nor invisible. Published
 * in the OpenAPI document as the field's pattern.
 */
export const USER_ID_PATTERN = `^[${WHITESPACE}]*[^${WHITESPACE}${CONTROL}${INVISIBLE}]+[${WHITESPACE}]*$`;

const characters = (text: string) => [...text].length;
const USER_ID_REGEX = new RegExp(USER_ID_PATTERN, 'u');

/**
 * A buyer is a username or an e-mail address. Shops treat both
 * case-insensitively, so "Alice@Example.com" and "alice@example.com" are one
 * buyer: surrounding whitespace is trimmed, the text is NFC-normalised and
 * lower-cased. It must be 1..254 characters (Unicode code points, as Postgres
 * counts them) before and after, with no whitespace, control or invisible
 * (zero-width, direction) characters that would make two ids look alike.
 */
export const UserIdSchema = z
  .string({ error: 'userId must be a string' })
  .refine((raw) => raw.trim().length > 0, { error: 'userId must not be empty or whitespace', abort: true })
  .refine((raw) => characters(raw) <= USER_ID_MAX_LENGTH, {
    error: `userId must be at most ${USER_ID_MAX_LENGTH} characters`,
    abort: true,
  })
  .refine((raw) => USER_ID_REGEX.test(raw) && raw.isWellFormed(), {
    error: 'userId must not contain whitespace, control or invisible characters',
    abort: true,
  })
  .transform((raw) => raw.trim().normalize('NFC').toLowerCase())
  .refine((normalised) => characters(normalised) <= USER_ID_MAX_LENGTH, {
    error: `userId must be at most ${USER_ID_MAX_LENGTH} characters once lower-cased`,
  });

/**
 * The order in which purchase.lua checks, stated here once: the OpenAPI
 * document and the README say it, and a test reads the script's order.
 */
export const PURCHASE_PRECEDENCE = ['ALREADY_PURCHASED', 'RATE_LIMITED', 'SALE_NOT_ACTIVE', 'SOLD_OUT'] as const;

/** What purchase.lua decided, parsed from its reply. */
export type ClaimOutcome =
  | { kind: 'CONFIRMED'; purchaseId: string; purchasedAtMs: number; unit: number }
  | { kind: 'ALREADY_PURCHASED'; purchaseId: string; purchasedAtMs: number }
  | { kind: 'RATE_LIMITED'; retryAfterMs: number }
  | { kind: 'SALE_NOT_ACTIVE'; nowMs: number }
  | { kind: 'SOLD_OUT' }
  | { kind: 'NO_SALE' };

export function parseClaimReply(reply: unknown): ClaimOutcome {
  if (!Array.isArray(reply) || typeof reply[0] !== 'string') {
    throw new Error(`unexpected purchase script reply: ${JSON.stringify(reply)}`);
  }
  const [kind, ...rest] = reply as [string, ...(string | number)[]];
  switch (kind) {
    case 'CONFIRMED':
      return {
        kind,
        purchaseId: String(rest[0]),
        purchasedAtMs: Number(rest[1]),
        unit: Number(rest[2]),
      };
    case 'ALREADY_PURCHASED':
      return { kind, purchaseId: String(rest[0]), purchasedAtMs: Number(rest[1]) };
    case 'RATE_LIMITED':
      return { kind, retryAfterMs: Number(rest[0]) };
    case 'SALE_NOT_ACTIVE':
      return { kind, nowMs: Number(rest[0]) };
    case 'SOLD_OUT':
    case 'NO_SALE':
      return { kind };
    default:
      throw new Error(`unknown purchase outcome: ${kind}`);
  }
}

/**
 * What a purchase attempt comes to: the script's decision, or NOT_REPLICATED
 * when the purchase it names is not yet held by enough replicas to be
 * promised (purchase-durability.ts). The shopper may retry; it is safe.
 */
export type PurchaseDecision = ClaimOutcome | { kind: 'NOT_REPLICATED' };

export interface BuyerRecord {
  purchaseId: string;
  purchasedAtMs: number;
  unit: number;
}

/** A buyer record as stored in the buyers hash: "<purchaseId>|<purchasedAtMs>|<unit>" (purchase.lua writes it too). */
export function formatBuyerRecord({ purchaseId, purchasedAtMs, unit }: BuyerRecord): string {
  return `${purchaseId}|${purchasedAtMs}|${unit}`;
}

export function parseBuyerRecord(record: string): BuyerRecord | null {
  const [purchaseId, purchasedAt, unit] = record.split('|');
  if (!purchaseId || !purchasedAt || !unit) return null;
  return { purchaseId, purchasedAtMs: Number(purchasedAt), unit: Number(unit) };
}

/**
 * Key names of a sale. Every key carries the sale id as its hash tag, so the
 * Lua script may touch them all; no user input ever becomes part of a key.
 */
export function saleKeys(saleId: string) {
  const tag = `{sale:${saleId}}`;
  return {
    sale: `flash:${tag}:sale`,
    buyers: `flash:${tag}:buyers`,
    purchases: `flash:${tag}:purchases`,
    /** Exists once the sale is closed for good; purchase.lua then confirms nothing more in it. */
    closed: `flash:${tag}:closed`,
    /** Written before each WAIT for replicas, so the WAIT covers everything the node held (purchase-durability.ts). */
    replicationProbe: `flash:${tag}:replication-probe`,
    /** A buyer's attempt counter, named by a digest so the buyer id itself never reaches a key. */
    attempts: (buyerDigest: string) => `flash:${tag}:attempts:${buyerDigest}`,
  };
}

/** Points at the sale that /current serves. */
export const CURRENT_SALE_KEY = 'flash:current-sale';

/** Durations as operators type them: 90s, 5m, 2h, 1d, 250ms, or combined like 1h30m. */
export function parseDuration(text: string): number | null {
  const units: Record<string, number> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 };
  const pattern = /(\d+)(ms|s|m|h|d)/gy;
  let total = 0;
  let consumed = 0;
  for (const match of text.trim().matchAll(pattern)) {
    total += Number(match[1]) * units[match[2]!]!;
    consumed += match[0].length;
  }
  if (consumed === 0 || consumed !== text.trim().length) return null;
  return total;
}

/** A duration as an operator types it, in milliseconds. */
export const DurationSchema = z.string().transform((text, context) => {
  const ms = parseDuration(text);
  if (ms === null) {
    context.addIssue({ code: 'custom', message: `is not a duration: "${text}" (for example 30s, 5m, 1h30m)` });
    return z.NEVER;
  }
  return ms;
});

export const MAX_STOCK = 1_000_000;
export const DEFAULT_PRODUCT = 'Limited Edition Widget';

/**
 * What an operator asks for when creating a sale (`sale create`, and the demo
 * sale a fresh shop creates from DEMO_SALE_*): one schema, one set of rules.
 */
export const SaleRequestSchema = z.object({
  stock: z.string().transform((text, context) => {
    const stock = Number(text.trim());
    if (!/^\d+$/.test(text.trim()) || stock < 1 || stock > MAX_STOCK) {
      context.addIssue({ code: 'custom', message: `must be a whole number from 1 to ${MAX_STOCK}, got "${text}"` });
      return z.NEVER;
    }
    return stock;
  }),
  startsInMs: DurationSchema,
  durationMs: DurationSchema.refine((ms) => ms > 0, { error: 'must be a positive duration' }),
  productName: z
    .string()
    .trim()
    .max(200, { error: 'must be at most 200 characters' })
    .optional()
    .transform((name) => name || DEFAULT_PRODUCT),
});

export type SaleRequest = z.infer<typeof SaleRequestSchema>;
