import { describe, expect, it } from 'vitest';
import { networkFailure, outcomeFromResponse, ownedPurchase, parseRetryAfter, presentOutcome, type PurchaseOutcome } from './outcome.logic';

const NOW = Date.parse('2030-01-01T12:00:00.000Z');
const answer = (status: number, body: unknown, retryAfter: string | null = null) => ({ status, body, retryAfter, now: NOW });
const apiError = (status: number, code: string, details?: unknown) => ({
  status: 'error',
  code: status,
  error: { code, message: `server says ${code}`, correlationId: 'c-1', ...(details === undefined ? {} : { details }) },
});

describe('outcomeFromResponse', () => {
  it('201 is a success carrying the identifier as the server returned it', () => {
    const body = {
      data: {
        purchaseId: 'p-1',
        userId: 'alice@example.com',
        productName: 'Mechanical Keyboard',
        status: 'confirmed',
        purchasedAt: '2030-01-01T12:00:01.000Z',
      },
    };
    expect(outcomeFromResponse('Alice@Example.com', answer(201, body))).toEqual({
      kind: 'success',
      purchaseId: 'p-1',
      userId: 'alice@example.com',
      productName: 'Mechanical Keyboard',
      status: 'confirmed',
      purchasedAt: '2030-01-01T12:00:01.000Z',
      restored: false,
    });
  });

  it('maps the three 409 rejections', () => {
    expect(outcomeFromResponse('a', answer(409, apiError(409, 'SALE_NOT_ACTIVE')))).toEqual({ kind: 'not_active' });
    expect(outcomeFromResponse('a', answer(409, apiError(409, 'SOLD_OUT')))).toEqual({ kind: 'sold_out' });
    expect(
      outcomeFromResponse(' Bob ', answer(409, apiError(409, 'ALREADY_PURCHASED', { purchaseId: 'p-9', purchasedAt: '2030-01-01T11:00:00Z' }))),
    ).toEqual({ kind: 'already_purchased', userId: 'bob', purchaseId: 'p-9', purchasedAt: '2030-01-01T11:00:00Z' });
  });

  it('tolerates ALREADY_PURCHASED without details', () => {
    expect(outcomeFromResponse('a', answer(409, apiError(409, 'ALREADY_PURCHASED')))).toEqual({
      kind: 'already_purchased',
      userId: 'a',
      purchaseId: null,
      purchasedAt: null,
    });
  });

  it('treats a missing sale as not active', () => {
    expect(outcomeFromResponse('a', answer(404, apiError(404, 'SALE_NOT_FOUND')))).toEqual({ kind: 'not_active' });
  });

  it('shows the first validation problem', () => {
    const body = apiError(400, 'VALIDATION_ERROR', [{ path: 'userId', message: 'userId must not contain whitespace' }]);
    expect(outcomeFromResponse('a', answer(400, body))).toEqual({ kind: 'invalid', message: 'userId must not contain whitespace' });
    expect(outcomeFromResponse('a', answer(400, apiError(400, 'VALIDATION_ERROR')))).toEqual({
      kind: 'invalid',
      message: 'server says VALIDATION_ERROR',
    });
  });

  it('turns 429 and 503 into try-again, with the wait when known', () => {
    expect(outcomeFromResponse('a', answer(429, apiError(429, 'RATE_LIMITED'), '3'))).toEqual({
      kind: 'try_again',
      cause: 'rate_limited',
      retryAfterSeconds: 3,
    });
    expect(outcomeFromResponse('a', answer(503, apiError(503, 'SERVICE_UNAVAILABLE')))).toEqual({
      kind: 'try_again',
      cause: 'unavailable',
      retryAfterSeconds: null,
    });
  });

  it('copes with non-JSON error pages from nginx', () => {
    expect(outcomeFromResponse('a', answer(429, null, '1'))).toMatchObject({ kind: 'try_again', cause: 'rate_limited', retryAfterSeconds: 1 });
    expect(outcomeFromResponse('a', answer(502, null))).toMatchObject({ kind: 'try_again', cause: 'unavailable' });
    expect(outcomeFromResponse('a', answer(500, null))).toMatchObject({ kind: 'try_again', cause: 'unexpected' });
    expect(outcomeFromResponse('a', answer(201, { data: { nope: true } }))).toMatchObject({ kind: 'try_again', cause: 'unexpected' });
    expect(outcomeFromResponse('a', answer(409, apiError(409, 'SOMETHING_NEW')))).toMatchObject({ kind: 'try_again', cause: 'unexpected' });
  });

  it('has a network failure outcome', () => {
    expect(networkFailure()).toEqual({ kind: 'try_again', cause: 'network', retryAfterSeconds: null });
  });
});

describe('parseRetryAfter', () => {
  it('reads seconds and HTTP dates', () => {
    expect(parseRetryAfter('5', NOW)).toBe(5);
    expect(parseRetryAfter(' 0 ', NOW)).toBe(0);
    expect(parseRetryAfter(new Date(NOW + 2500).toUTCString(), NOW)).toBe(2);
    expect(parseRetryAfter(new Date(NOW - 5000).toUTCString(), NOW)).toBe(0);
    expect(parseRetryAfter(null, NOW)).toBeNull();
    expect(parseRetryAfter('soon', NOW)).toBeNull();
  });
});

describe('presentOutcome (FE-4: four visually distinct outcomes)', () => {
  const four: PurchaseOutcome[] = [
    { kind: 'success', userId: 'alice', purchaseId: 'p', purchasedAt: 't', productName: 'Keyboard', restored: false },
    { kind: 'not_active' },
    { kind: 'sold_out' },
    { kind: 'already_purchased', userId: 'alice', purchaseId: 'p', purchasedAt: 't' },
  ];

  it('gives each of the four its own variant, icon and title', () => {
    const shown = four.map(presentOutcome);
    for (const key of ['variant', 'icon', 'title', 'message'] as const) {
      expect(new Set(shown.map((s) => s[key])).size).toBe(4);
    }
    expect(shown.map((s) => s.variant)).toEqual(['success', 'not-active', 'sold-out', 'already-purchased']);
  });

  it('names the shopper in success and already-purchased', () => {
    expect(presentOutcome(four[0]!).message).toBe('Purchase confirmed for alice: one Keyboard.');
    expect(presentOutcome({ ...(four[0] as Extract<PurchaseOutcome, { kind: 'success' }>), restored: true }).message).toBe(
      'Your purchase as alice is confirmed.',
    );
    expect(presentOutcome(four[3]!).message).toContain('alice has already bought one');
  });

  it('says "try again" for every transient failure, with the wait when known', () => {
    const msg = (o: PurchaseOutcome) => presentOutcome(o).message;
    expect(msg({ kind: 'try_again', cause: 'rate_limited', retryAfterSeconds: 1 })).toBe('Too many attempts. Try again in 1 second.');
    expect(msg({ kind: 'try_again', cause: 'rate_limited', retryAfterSeconds: null })).toBe('Too many attempts. Try again in a moment.');
    expect(msg({ kind: 'try_again', cause: 'unavailable', retryAfterSeconds: 4 })).toBe('The shop is very busy right now. Try again in 4 seconds.');
    expect(msg({ kind: 'try_again', cause: 'network', retryAfterSeconds: null })).toMatch(/try again/i);
    expect(msg({ kind: 'try_again', cause: 'unexpected', retryAfterSeconds: null })).toMatch(/try again/i);
  });
});

describe('ownedPurchase (FE-6)', () => {
  it('remembers the identifier the server returned after a success', () => {
    expect(
      ownedPurchase({ kind: 'success', userId: 'alice@example.com', purchaseId: 'p', purchasedAt: 't', productName: null, restored: false }),
    ).toEqual({ userId: 'alice@example.com', lookup: { purchased: true, purchaseId: 'p', purchasedAt: 't' } });
  });

  it('remembers after "already purchased", with the lookup only when details came along', () => {
    expect(ownedPurchase({ kind: 'already_purchased', userId: 'bob', purchaseId: 'p', purchasedAt: 't' })).toEqual({
      userId: 'bob',
      lookup: { purchased: true, purchaseId: 'p', purchasedAt: 't' },
    });
    expect(ownedPurchase({ kind: 'already_purchased', userId: 'bob', purchaseId: null, purchasedAt: null })).toEqual({
      userId: 'bob',
      lookup: null,
    });
  });

  it('proves nothing otherwise', () => {
    expect(ownedPurchase({ kind: 'sold_out' })).toBeNull();
    expect(ownedPurchase({ kind: 'not_active' })).toBeNull();
    expect(ownedPurchase({ kind: 'try_again', cause: 'network', retryAfterSeconds: null })).toBeNull();
  });
});
