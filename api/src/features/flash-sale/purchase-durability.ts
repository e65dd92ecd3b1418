/**
 * When a purchase may be promised to a shopper (ADR 0002).
 *
 * Redis replicates asynchronously: a primary that is cut off, or fails, can
 * lose what its replicas never received. So before any answer that tells a
 * shopper a unit is theirs (a 201, an ALREADY_PURCHASED, a lookup that says
 * "purchased"), one round on the sale's slot checks that
 *   1. the primary serving the sale now holds exactly this purchase for the
 *      buyer (HMGET of the buyers hash), and
 *   2. the required number of replicas hold everything that primary had at
 *      that moment (INCR of a probe key, then WAIT on the same connection).
 * Both run in one pipeline, which goes to one node, so they describe the same
 * node even when a failover moved the slot since the claim: a claim taken by
 * an old primary that its successor never received fails check 1, and one
 * taken by a primary whose replica is silent fails check 2. A round of claims
 * runs purchase.lua itself in that pipeline, before the probe (runDurably):
 * what the script answers is what the node that WAITs holds, so check 1
 * holds by construction and a 201 costs one round trip, not two.
 *
 * WAIT blocks its connection, so the rounds run on a client of their own, and
 * the checks that arrive while a round is under way share the next one
 * (sale-rounds.ts): the cost is one round trip per batch, not per purchase.
 */
import type { ChainableCommander, Cluster } from 'ioredis';
import { parseBuyerRecord, saleKeys } from './flash-sale.logic.js';
import { createSaleRounds } from './sale-rounds.js';

/** Adds the commands of one round to a pipeline (all on the sale's slot): reads, or a round of purchase.lua. */
export type RoundCommands = (pipeline: ChainableCommander) => ChainableCommander;

/** What one round's commands answered, each with its error, and whether enough replicas hold everything the primary had after them. */
export interface DurableRound {
  replies: [Error | null, unknown][];
  durable: boolean;
}

export interface DurabilityCheck {
  /**
   * Runs `commands` on the sale's primary, then waits for replicas to catch
   * up with it, in one pipeline: for commands that may fail on their own, such
   * as a round of purchase.lua. Rejects when the pipeline could not be sent.
   */
  runDurably(saleId: string, commands: RoundCommands): Promise<DurableRound>;
  /**
   * runDurably for reads: the replies, and whether enough replicas hold
   * everything they saw (false when the wait itself failed); null when a read failed.
   */
  readDurably(saleId: string, reads: RoundCommands): Promise<{ replies: unknown[]; durable: boolean } | null>;
  /** True when the sale's primary holds `purchaseId` as the buyer's purchase, and enough replicas hold it too. */
  holds(saleId: string, userId: string, purchaseId: string): Promise<boolean>;
  /** The sale's buyers hash as its primary holds it, once enough replicas hold all of it; null otherwise. */
  durableBuyers(saleId: string): Promise<Record<string, string> | null>;
  /** True when the sale's primary holds its state (`sale`) or its closed marker (`closed`), and enough replicas do too. */
  saleHolds(saleId: string, what: 'sale' | 'closed'): Promise<boolean>;
}

export interface DurabilityOptions {
  /** Replicas that must acknowledge: REDIS_MIN_REPLICA_ACKS. Zero trusts the primary's disk alone. */
  replicas: number;
  /** How long WAIT may block before the answer is "not durable (yet)". */
  timeoutMs: number;
}

/** A purchase waiting to be promised. */
interface Holder {
  userId: string;
  purchaseId: string;
}

/** One round reads every buyer it judges in one HMGET; this bounds that reply. */
const MAX_BUYERS_PER_ROUND = 1_000;

/** The verdict of one round, for each buyer asked about: their purchase is held, and durably. */
export function judgeRound(
  waiters: Holder[],
  users: string[],
  round: { records: (string | null)[]; durable: boolean } | null,
): boolean[] {
  if (!round?.durable) return waiters.map(() => false);
  const held = new Map(users.map((userId, i) => [userId, parseBuyerRecord(round.records[i] ?? '')?.purchaseId]));
  return waiters.map(({ userId, purchaseId }) => held.get(userId) === purchaseId);
}

export function createDurabilityCheck(redis: Cluster, { replicas, timeoutMs }: DurabilityOptions): DurabilityCheck {
  /**
   * One round: `commands`, then the probe and WAIT. ioredis does not
   * redirect a pipeline that writes, so a round sent to a node that no longer
   * serves the slot learns the new topology and is sent once more.
   */
  const runDurably = async (saleId: string, commands: RoundCommands): Promise<DurableRound> => {
    const probe = saleKeys(saleId).replicationProbe;
    const once = async () => (await commands(redis.pipeline()).incr(probe).wait(replicas, timeoutMs).exec())!;
    let results = await once();
    if (results.some(([error]) => error && /^(MOVED|ASK) /.test(error.message))) {
      await new Promise<void>((resolve) => redis.refreshSlotsCache(() => resolve()));
      results = await once();
    }
    const [probed, waited] = results.slice(-2) as [[Error | null, unknown], [Error | null, unknown]];
    return {
      replies: results.slice(0, -2) as [Error | null, unknown][],
      durable: !probed[0] && !waited[0] && Number(waited[1]) >= replicas,
    };
  };

  /** A round of reads; null when a read failed or the round could not be sent (a failed wait only makes it not durable). */
  const readDurably = async (saleId: string, reads: RoundCommands) => {
    const round = await runDurably(saleId, reads).catch(() => null);
    if (!round || round.replies.some(([error]) => error)) return null;
    return { replies: round.replies.map(([, reply]) => reply), durable: round.durable };
  };

  const holdsInRound = createSaleRounds<Holder, boolean>(async (saleId, holders) => {
    const users = [...new Set(holders.map((holder) => holder.userId))];
    const result = await readDurably(saleId, (pipeline) => pipeline.hmget(saleKeys(saleId).buyers, ...users));
    return judgeRound(holders, users, result && { records: result.replies[0] as (string | null)[], durable: result.durable });
  }, MAX_BUYERS_PER_ROUND);

  return {
    runDurably,
    readDurably,

    holds(saleId, userId, purchaseId) {
      return replicas === 0 ? Promise.resolve(true) : holdsInRound(saleId, { userId, purchaseId });
    },

    async durableBuyers(saleId) {
      const result = await readDurably(saleId, (pipeline) => pipeline.hgetall(saleKeys(saleId).buyers));
      return result?.durable ? (result.replies[0] as Record<string, string>) : null;
    },

    async saleHolds(saleId, what) {
      const key = saleKeys(saleId)[what];
      const result = await readDurably(saleId, (pipeline) => pipeline.exists(key));
      return result !== null && result.durable && result.replies[0] === 1;
    },
  };
}
