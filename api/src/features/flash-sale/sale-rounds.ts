/**
 * Group commit, one lane per sale. The first request for a sale starts a
 * round at once; requests that arrive while it is under way wait and share
 * the next round. Light load: every round carries one request and waits for
 * nothing. A herd: a round carries what arrived during the last one, so Redis
 * and the replica pay per round trip, not per request, and the rounds grow
 * with the load instead of with a setting.
 */
export type RunRound<Item, Result> = (saleId: string, items: Item[]) => Promise<Result[]>;

interface Waiter<Item, Result> {
  item: Item;
  resolve: (result: Result) => void;
  reject: (failure: unknown) => void;
}

/**
 * `run` answers a round's items in order; when it throws, every item of the
 * round fails with it. `maxPerRound` bounds one round (how long it may hold a
 * shard), not how many rounds run: the next starts as soon as one ends.
 */
export function createSaleRounds<Item, Result>(run: RunRound<Item, Result>, maxPerRound: number) {
  const lanes = new Map<string, Waiter<Item, Result>[]>();

  const drain = async (saleId: string, waiting: Waiter<Item, Result>[]) => {
    while (waiting.length > 0) {
      const round = waiting.splice(0, maxPerRound);
      try {
        const results = await run(
          saleId,
          round.map((waiter) => waiter.item),
        );
        round.forEach((waiter, i) => waiter.resolve(results[i]!));
      } catch (failure) {
        for (const waiter of round) waiter.reject(failure);
      }
    }
    lanes.delete(saleId);
  };

  return (saleId: string, item: Item): Promise<Result> =>
    new Promise((resolve, reject) => {
      const waiting = lanes.get(saleId);
      if (waiting) {
        waiting.push({ item, resolve, reject });
        return;
      }
      const lane = [{ item, resolve, reject }];
      lanes.set(saleId, lane);
      void drain(saleId, lane);
    });
}
