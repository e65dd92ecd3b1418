import { describe, expect, it } from 'vitest';
import { judgeRound } from './purchase-durability.js';

const ann = { userId: 'ann', purchaseId: 'p-ann' };
const bob = { userId: 'bob', purchaseId: 'p-bob' };
const record = (purchaseId: string, unit = 1) => `${purchaseId}|1700000000000|${unit}`;

describe('judging one durability round', () => {
  it('promises each purchase the serving primary holds, once replicas caught up with it', () => {
    expect(judgeRound([ann, bob], ['ann', 'bob'], { records: [record('p-ann'), record('p-bob', 2)], durable: true })).toEqual([true, true]);
  });

  it('promises nothing when the replicas did not acknowledge in time, or the round failed', () => {
    expect(judgeRound([ann], ['ann'], { records: [record('p-ann')], durable: false })).toEqual([false]);
    expect(judgeRound([ann, bob], ['ann', 'bob'], null)).toEqual([false, false]);
  });

  it('refuses a purchase the serving primary does not hold: the claim ran on a primary that has since been replaced', () => {
    expect(judgeRound([ann], ['ann'], { records: [null], durable: true })).toEqual([false]);
  });

  it('refuses a purchase when the primary holds another one for that buyer', () => {
    expect(judgeRound([ann], ['ann'], { records: [record('p-other')], durable: true })).toEqual([false]);
  });

  it('judges several waiters for one buyer (a shopper pressing twice) by that buyer’s one record', () => {
    const again = { userId: 'ann', purchaseId: 'p-ann' };
    const stale = { userId: 'ann', purchaseId: 'p-old' };
    expect(judgeRound([ann, again, stale], ['ann'], { records: [record('p-ann')], durable: true })).toEqual([true, true, false]);
  });
});
