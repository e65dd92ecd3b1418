import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  computeSaleStatus,
  parseBuyerRecord,
  parseClaimReply,
  parseDuration,
  PURCHASE_PRECEDENCE,
  saleKeys,
  UserIdSchema,
  USER_ID_MAX_LENGTH,
  USER_ID_PATTERN,
} from './flash-sale.logic.js';

describe('computeSaleStatus (FL-1..FL-5, T-1)', () => {
  const sale = { startMs: 1_000, endMs: 2_000, remaining: 5, closed: false };

  it.each([
    ['one ms before start', 999, 'upcoming', null],
    ['exactly at start', 1_000, 'active', null],
    ['inside the window', 1_500, 'active', null],
    ['one ms before end', 1_999, 'active', null],
    ['exactly at end (end is exclusive)', 2_000, 'ended', 'time'],
    ['after end', 5_000, 'ended', 'time'],
  ] as const)('%s → %s', (_label, now, status, endedReason) => {
    expect(computeSaleStatus(sale, now)).toEqual({ status, endedReason });
  });

  it('is ended (sold out) when stock reaches zero during the window (FL-4)', () => {
    expect(computeSaleStatus({ ...sale, remaining: 0 }, 1_500)).toEqual({ status: 'ended', endedReason: 'sold_out' });
  });

  it('says time, not sold out, once the window has closed with stock left or not', () => {
    expect(computeSaleStatus({ ...sale, remaining: 0 }, 2_000).endedReason).toBe('time');
  });

  it('is ended once closed with stock left (replaced), but stays sold out when closed after selling out', () => {
    expect(computeSaleStatus({ ...sale, closed: true }, 1_500)).toEqual({ status: 'ended', endedReason: 'time' });
    expect(computeSaleStatus({ ...sale, closed: true }, 500)).toEqual({ status: 'ended', endedReason: 'time' });
    expect(computeSaleStatus({ ...sale, remaining: 0, closed: true }, 1_500)).toEqual({ status: 'ended', endedReason: 'sold_out' });
  });

  it('never goes back from ended as time moves on (FL-5)', () => {
    const soldOut = { ...sale, remaining: 0 };
    for (let now = 1_000; now < 3_000; now += 7) {
      expect(computeSaleStatus(soldOut, now).status).toBe('ended');
    }
  });
});

describe('UserIdSchema', () => {
  const accept = (raw: unknown) => UserIdSchema.parse(raw);
  const reject = (raw: unknown) => expect(UserIdSchema.safeParse(raw).success).toBe(false);

  it('trims and case-folds so one shopper is one buyer', () => {
    expect(accept('  Alice@Example.COM ')).toBe('alice@example.com');
  });

  it('normalises Unicode to NFC', () => {
    expect(accept('Jose\u0301')).toBe('jos\u00e9');
  });

  it.each([[''], ['   '], ['\t\n'], ['two words'], ['bell\u0007'], ['zero\u200bwidth']])('rejects %j', (raw) => reject(raw));

  it.each([[null], [42], [['a']], [{}], [undefined]])('rejects non-strings: %j', (raw) => reject(raw));

  it('accepts the longest allowed identifier and rejects one more', () => {
    expect(accept('a'.repeat(USER_ID_MAX_LENGTH))).toHaveLength(USER_ID_MAX_LENGTH);
    reject('a'.repeat(USER_ID_MAX_LENGTH + 1));
  });

  it('counts characters, not UTF-16 units, as Postgres does', () => {
    expect([...accept('😀'.repeat(USER_ID_MAX_LENGTH))]).toHaveLength(USER_ID_MAX_LENGTH);
    reject('😀'.repeat(USER_ID_MAX_LENGTH + 1));
  });

  it.each([['\u00ad'], ['\u200e'], ['\u202e'], ['\u2060'], ['\ud800']])('rejects invisible or broken %j inside', (char) =>
    reject(`ab${JSON.parse(`"${char}"`)}cd`),
  );

  it('agrees with the pattern published in the OpenAPI document', () => {
    const published = new RegExp(USER_ID_PATTERN, 'u');
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 40 }), (raw) => {
        const accepted = UserIdSchema.safeParse(raw).success;
        expect(accepted).toBe(published.test(raw) && raw.isWellFormed());
      }),
      { numRuns: 2_000 },
    );
  });
});

describe('computeSaleStatus, as time passes and stock falls', () => {
  const order = { upcoming: 0, active: 1, ended: 2 };
  it('only ever moves forward (FL-5)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 1_000 }),
        fc.integer({ min: 1, max: 1_000 }),
        fc.array(fc.tuple(fc.integer({ min: 0, max: 50 }), fc.integer({ min: 0, max: 2 })), { maxLength: 60 }),
        fc.integer({ min: 1, max: 20 }),
        (startMs, length, steps, stock) => {
          let now = 0;
          let remaining = stock;
          const at = (now: number) => computeSaleStatus({ startMs, endMs: startMs + length, remaining, closed: false }, now).status;
          let previous = at(now);
          for (const [advance, sold] of steps) {
            now += advance;
            if (at(now) === 'active') remaining = Math.max(0, remaining - sold);
            const current = at(now);
            expect(order[current]).toBeGreaterThanOrEqual(order[previous]);
            previous = current;
          }
        },
      ),
    );
  });
});

describe('parseClaimReply', () => {
  it('reads every outcome of purchase.lua', () => {
    expect(parseClaimReply(['CONFIRMED', 'p1', '1700000000123', 7])).toEqual({
      kind: 'CONFIRMED',
      purchaseId: 'p1',
      purchasedAtMs: 1_700_000_000_123,
      unit: 7,
    });
    expect(parseClaimReply(['ALREADY_PURCHASED', 'p1', '5'])).toEqual({
      kind: 'ALREADY_PURCHASED',
      purchaseId: 'p1',
      purchasedAtMs: 5,
    });
    expect(parseClaimReply(['SALE_NOT_ACTIVE', '9'])).toEqual({ kind: 'SALE_NOT_ACTIVE', nowMs: 9 });
    expect(parseClaimReply(['SOLD_OUT'])).toEqual({ kind: 'SOLD_OUT' });
    expect(parseClaimReply(['NO_SALE'])).toEqual({ kind: 'NO_SALE' });
  });

  it('refuses replies it does not understand', () => {
    expect(() => parseClaimReply(['MAYBE'])).toThrow(/unknown purchase outcome/);
    expect(() => parseClaimReply('CONFIRMED')).toThrow(/unexpected/);
  });
});

describe('parseBuyerRecord', () => {
  it('splits the stored record', () => {
    expect(parseBuyerRecord('p1|1700|3')).toEqual({ purchaseId: 'p1', purchasedAtMs: 1700, unit: 3 });
  });
  it('returns null for a damaged record', () => {
    expect(parseBuyerRecord('p1')).toBeNull();
  });
});

describe('saleKeys', () => {
  it('puts every key of a sale in one hash slot, named by the sale id only', () => {
    const { attempts, ...named } = saleKeys('abc');
    const keys = [...Object.values(named), attempts('9f86d08')];
    expect(new Set(keys.map((key) => key.match(/\{[^}]+\}/)?.[0]))).toEqual(new Set(['{sale:abc}']));
  });
});

describe('parseDuration', () => {
  it.each([
    ['250ms', 250],
    ['30s', 30_000],
    ['5m', 300_000],
    ['2h', 7_200_000],
    ['1d', 86_400_000],
    ['1h30m', 5_400_000],
    ['0s', 0],
  ])('%s = %d ms', (text, ms) => expect(parseDuration(text)).toBe(ms));

  it.each([[''], ['5'], ['m'], ['5 m'], ['-5s'], ['5x'], ['1.5h'], ['5m junk']])('rejects %j', (text) =>
    expect(parseDuration(text)).toBeNull(),
  );
});

describe('the precedence of purchase outcomes', () => {
  it('is the order in which purchase.lua returns them', () => {
    const script = readFileSync(new URL('./purchase.lua', import.meta.url), 'utf8');
    const returned = [...script.matchAll(/return \{'([A-Z_]+)'/g)].map((match) => match[1]);
    expect(returned.filter((code) => (PURCHASE_PRECEDENCE as readonly string[]).includes(code!))).toEqual([...PURCHASE_PRECEDENCE]);
  });
});
