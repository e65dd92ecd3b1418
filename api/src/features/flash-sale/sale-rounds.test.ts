import { describe, expect, it } from 'vitest';
import { createSaleRounds } from './sale-rounds.js';

/** A round runner that records each round and answers when told to. */
function scriptedRounds() {
  const rounds: { saleId: string; items: number[]; finish: (failure?: Error) => void }[] = [];
  const run = (saleId: string, items: number[]) =>
    new Promise<number[]>((resolve, reject) => {
      rounds.push({ saleId, items, finish: (failure) => (failure ? reject(failure) : resolve(items.map((item) => item * 10))) });
    });
  return { rounds, run };
}

const settle = () => new Promise((resolve) => setImmediate(resolve));

describe('rounds per sale', () => {
  it('starts the first request at once, alone', async () => {
    const { rounds, run } = scriptedRounds();
    const submit = createSaleRounds(run, 100);
    const answer = submit('a', 1);
    expect(rounds.map((round) => round.items)).toEqual([[1]]);
    rounds[0]!.finish();
    expect(await answer).toBe(10);
  });

  it('gathers what arrives during a round into the next one, and answers each in order', async () => {
    const { rounds, run } = scriptedRounds();
    const submit = createSaleRounds(run, 100);
    const answers = [1, 2, 3, 4].map((item) => submit('a', item));
    expect(rounds.map((round) => round.items)).toEqual([[1]]);
    rounds[0]!.finish();
    await settle();
    expect(rounds.map((round) => round.items)).toEqual([[1], [2, 3, 4]]);
    rounds[1]!.finish();
    expect(await Promise.all(answers)).toEqual([10, 20, 30, 40]);
  });

  it('bounds a round, and runs the rest in the rounds after it', async () => {
    const { rounds, run } = scriptedRounds();
    const submit = createSaleRounds(run, 2);
    const answers = [1, 2, 3, 4, 5, 6].map((item) => submit('a', item));
    for (let i = 0; i < 4 && rounds[i]; i += 1) {
      rounds[i]!.finish();
      await settle();
    }
    expect(rounds.map((round) => round.items)).toEqual([[1], [2, 3], [4, 5], [6]]);
    expect(await Promise.all(answers)).toEqual([10, 20, 30, 40, 50, 60]);
  });

  it('keeps sales apart: one sale’s round does not wait for another’s', () => {
    const { rounds, run } = scriptedRounds();
    const submit = createSaleRounds(run, 100);
    void submit('a', 1);
    void submit('b', 2);
    expect(rounds.map(({ saleId, items }) => [saleId, items])).toEqual([
      ['a', [1]],
      ['b', [2]],
    ]);
  });

  it('fails every request of a failed round, and only those: the next round runs', async () => {
    const { rounds, run } = scriptedRounds();
    const submit = createSaleRounds(run, 100);
    const first = submit('a', 1);
    const second = submit('a', 2);
    rounds[0]!.finish(new Error('timed out'));
    await expect(first).rejects.toThrow('timed out');
    await settle();
    rounds[1]!.finish();
    expect(await second).toBe(20);
  });

  it('starts afresh once a lane is empty', async () => {
    const { rounds, run } = scriptedRounds();
    const submit = createSaleRounds(run, 100);
    const first = submit('a', 1);
    rounds[0]!.finish();
    await first;
    await settle();
    const later = submit('a', 2);
    expect(rounds.map((round) => round.items)).toEqual([[1], [2]]);
    rounds[1]!.finish();
    expect(await later).toBe(20);
  });
});
