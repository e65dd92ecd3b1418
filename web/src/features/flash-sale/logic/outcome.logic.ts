import {
  AlreadyPurchasedDetailsSchema,
  ErrorEnvelopeSchema,
  PurchaseConfirmedSchema,
  envelope,
  type PurchaseLookup,
} from '../api/schemas';
import { foldIdentifier } from './identifier.logic';

/**
 * A purchase attempt's answer, turned into one of the outcomes the shopper
 * must be able to tell apart (FE-4), plus the "try again" cases that must not
 * end in silence (429, 503, no answer at all).
 */
export type PurchaseOutcome =
  | {
      kind: 'success';
      userId: string;
      purchaseId: string;
      purchasedAt: string;
      productName: string | null;
      /** True when restored from `GET …/purchase` after a reload rather than just bought. */
      restored: boolean;
    }
  | { kind: 'not_active' }
  | { kind: 'sold_out' }
  | { kind: 'already_purchased'; userId: string; purchaseId: string | null; purchasedAt: string | null }
  | { kind: 'invalid'; message: string }
  | {
      kind: 'try_again';
      cause: 'rate_limited' | 'unavailable' | 'network' | 'unexpected';
      retryAfterSeconds: number | null;
    };

export type OutcomeKind = PurchaseOutcome['kind'];

type Answer = { status: number; body: unknown; retryAfter: string | null; now: number };

const SuccessSchema = envelope(PurchaseConfirmedSchema);

/** Maps an HTTP answer to an outcome. `userId` is what was sent (already trimmed). */
export function outcomeFromResponse(userId: string, answer: Answer): PurchaseOutcome {
  const { status, body } = answer;

  if (status >= 200 && status < 300) {
    const ok = SuccessSchema.safeParse(body);
    if (!ok.success) return tryAgain('unexpected');
    return { kind: 'success', ...ok.data.data, restored: false };
  }

  const parsed = ErrorEnvelopeSchema.safeParse(body);
  const code = parsed.success ? parsed.data.error.code : null;

  switch (code) {
    case 'SALE_NOT_ACTIVE':
    case 'SALE_NOT_FOUND':
      return { kind: 'not_active' };
    case 'SOLD_OUT':
      return { kind: 'sold_out' };
    case 'ALREADY_PURCHASED': {
      const details = AlreadyPurchasedDetailsSchema.safeParse(parsed.success ? parsed.data.error.details : null);
      return {
        kind: 'already_purchased',
        // Not echoed by the server; shown and remembered the way it stores it.
        userId: foldIdentifier(userId),
        purchaseId: details.success ? details.data.purchaseId : null,
        purchasedAt: details.success ? details.data.purchasedAt : null,
      };
    }
    case 'VALIDATION_ERROR':
      return { kind: 'invalid', message: validationMessage(parsed.success ? parsed.data.error : null) };
    case 'RATE_LIMITED':
      return tryAgain('rate_limited', parseRetryAfter(answer.retryAfter, answer.now));
    case 'SERVICE_UNAVAILABLE':
      return tryAgain('unavailable', parseRetryAfter(answer.retryAfter, answer.now));
  }
  // No (readable) error code: fall back on the status, e.g. nginx's own 429/502/503 pages.
  if (status === 429) return tryAgain('rate_limited', parseRetryAfter(answer.retryAfter, answer.now));
  if (status === 502 || status === 503 || status === 504) return tryAgain('unavailable', parseRetryAfter(answer.retryAfter, answer.now));
  return tryAgain('unexpected');
}

export function networkFailure(): PurchaseOutcome {
  return tryAgain('network');
}

function tryAgain(cause: Extract<PurchaseOutcome, { kind: 'try_again' }>['cause'], retryAfterSeconds: number | null = null): PurchaseOutcome {
  return { kind: 'try_again', cause, retryAfterSeconds };
}

function validationMessage(error: { message: string; details?: unknown } | null): string {
  if (Array.isArray(error?.details)) {
    const first: unknown = error.details[0];
    if (first && typeof first === 'object' && 'message' in first && typeof first.message === 'string') {
      return first.message;
    }
  }
  return error?.message || 'Check your email or username.';
}

/** `Retry-After` is either delay-seconds or an HTTP date. */
export function parseRetryAfter(value: string | null, now: number): number | null {
  if (!value) return null;
  const trimmed = value.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed);
  const date = Date.parse(trimmed);
  if (Number.isNaN(date)) return null;
  return Math.max(0, Math.ceil((date - now) / 1000));
}

export type OutcomeVariant = 'success' | 'not-active' | 'sold-out' | 'already-purchased' | 'invalid' | 'try-again';

export type OutcomePresentation = {
  variant: OutcomeVariant;
  /** Decorative (the title carries the meaning); drawn from glyphs common fonts have. */
  icon: string;
  title: string;
  message: string;
  /** Rejections and failures interrupt (assertive); good news waits its turn (polite). */
  urgency: 'polite' | 'assertive';
};

/** Words and look for each outcome; every one of the four FE-4 outcomes differs in all of them. */
export function presentOutcome(outcome: PurchaseOutcome): OutcomePresentation {
  switch (outcome.kind) {
    case 'success':
      return {
        variant: 'success',
        icon: '✓',
        title: 'You got one!',
        message: outcome.restored
          ? `Your purchase as ${outcome.userId} is confirmed.`
          : `Purchase confirmed for ${outcome.userId}${outcome.productName ? `: one ${outcome.productName}` : ''}.`,
        urgency: 'polite',
      };
    case 'not_active':
      return {
        variant: 'not-active',
        icon: '‖',
        title: 'The sale is not running',
        message: 'Purchases are only accepted while the sale is active. Check the status above.',
        urgency: 'assertive',
      };
    case 'sold_out':
      return {
        variant: 'sold-out',
        icon: '✕',
        title: 'Sold out',
        message: 'Every item has been sold, so this attempt did not go through.',
        urgency: 'assertive',
      };
    case 'already_purchased':
      return {
        variant: 'already-purchased',
        icon: '↺',
        title: 'You already have one',
        message: `${outcome.userId} has already bought one. It is one per shopper.`,
        urgency: 'assertive',
      };
    case 'invalid':
      return { variant: 'invalid', icon: '!', title: 'Check your email or username', message: outcome.message, urgency: 'assertive' };
    case 'try_again':
      return { variant: 'try-again', icon: '↻', title: 'Please try again', message: tryAgainMessage(outcome), urgency: 'assertive' };
  }
}

function tryAgainMessage(outcome: Extract<PurchaseOutcome, { kind: 'try_again' }>): string {
  const wait = outcome.retryAfterSeconds
    ? ` in ${outcome.retryAfterSeconds} second${outcome.retryAfterSeconds === 1 ? '' : 's'}`
    : ' in a moment';
  switch (outcome.cause) {
    case 'rate_limited':
      return `Too many attempts. Try again${wait}.`;
    case 'unavailable':
      return `The shop is very busy right now. Try again${wait}.`;
    case 'network':
      return 'We could not reach the shop. Check your connection and try again.';
    case 'unexpected':
      return 'Something went wrong on our side. Try again in a moment.';
  }
}

/**
 * Whether an outcome proves the shopper owns one (FE-6): the identifier to
 * remember, as the server returned it when it did, and what the purchase
 * lookup would now answer when the outcome says so.
 */
export function ownedPurchase(outcome: PurchaseOutcome): { userId: string; lookup: PurchaseLookup | null } | null {
  if (outcome.kind === 'success') {
    return { userId: outcome.userId, lookup: { purchased: true, purchaseId: outcome.purchaseId, purchasedAt: outcome.purchasedAt } };
  }
  if (outcome.kind === 'already_purchased') {
    const lookup: PurchaseLookup | null =
      outcome.purchaseId && outcome.purchasedAt
        ? { purchased: true, purchaseId: outcome.purchaseId, purchasedAt: outcome.purchasedAt }
        : null;
    return { userId: outcome.userId, lookup };
  }
  return null;
}
