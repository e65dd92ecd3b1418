import { describe, expect, it } from 'vitest';
import { availability, endReason, lowStockMark, stockLevel, stockSentence } from './sale.logic';

describe('endReason (ended says sold out vs time ran out)', () => {
  it('is null unless ended', () => {
    expect(endReason({ status: 'active', endedReason: null, remainingStock: 0 })).toBeNull();
    expect(endReason({ status: 'upcoming', endedReason: null, remainingStock: 5 })).toBeNull();
  });

  it('trusts the server reason', () => {
    expect(endReason({ status: 'ended', endedReason: 'time', remainingStock: 0 })).toBe('time');
    expect(endReason({ status: 'ended', endedReason: 'sold_out', remainingStock: 0 })).toBe('sold_out');
  });

  it('falls back to the stock left when no reason is given', () => {
    expect(endReason({ status: 'ended', endedReason: null, remainingStock: 0 })).toBe('sold_out');
    expect(endReason({ status: 'ended', endedReason: null, remainingStock: 3 })).toBe('time');
  });
});

describe('stock', () => {
  it('marks the last 10 % (at least one unit) as low', () => {
    expect(lowStockMark(100)).toBe(10);
    expect(lowStockMark(5)).toBe(1);
    expect(stockLevel(42, 100)).toBe('plenty');
    expect(stockLevel(10, 100)).toBe('low');
    expect(stockLevel(1, 1)).toBe('low');
    expect(stockLevel(0, 100)).toBe('none');
  });

  it('reads as a sentence, clamped to the possible range', () => {
    expect(stockSentence(42, 100)).toBe('42 of 100 left');
    expect(stockSentence(-1, 100)).toBe('0 of 100 left');
  });
});

describe('availability (FE-3, FE-6)', () => {
  const active = { status: 'active' as const };

  it('allows buying only while active, not pending and not already owned', () => {
    expect(availability({ sale: active, pending: false, ownsOne: false })).toEqual({ canBuy: true });
  });

  it.each([
    [{ sale: undefined, pending: false, ownsOne: false }, 'loading'],
    [{ sale: null, pending: false, ownsOne: false }, 'no_sale'],
    [{ sale: { status: 'upcoming' as const }, pending: false, ownsOne: false }, 'upcoming'],
    [{ sale: { status: 'ended' as const }, pending: false, ownsOne: false }, 'ended'],
    [{ sale: active, pending: true, ownsOne: false }, 'pending'],
    [{ sale: active, pending: false, ownsOne: true }, 'owned'],
    [{ sale: { status: 'ended' as const }, pending: false, ownsOne: true }, 'owned'],
  ])('blocks %j as %s', (input, why) => {
    const result = availability(input);
    expect(result).toMatchObject({ canBuy: false, why });
  });
});
