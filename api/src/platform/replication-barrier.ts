/**
 * Waits until a write has reached a replica, so a confirmed purchase survives
 * the failover of its primary (Redis replicates asynchronously).
 *
 * WAIT only covers writes made on its own connection, and it blocks that
 * connection while it waits, so it runs on a dedicated client: each round
 * makes a small write on the sale's slot (INCR of a probe key) and then WAITs,
 * which covers every write that slot's primary had applied before it.
 * Confirmations that arrive while a round is running share the next round:
 * replication's equivalent of a group commit.
 */
import type { Cluster } from 'ioredis';

/** Resolves once `replicas` replicas hold every write made on the key's slot so far, or the timeout passed. */
export type ReplicationBarrier = (probeKey: string) => Promise<{ acked: number; enough: boolean }>;

export function createReplicationBarrier(redis: Cluster, replicas: number, timeoutMs: number): ReplicationBarrier {
  const lanes = new Map<string, { running: boolean; waiters: ((result: { acked: number; enough: boolean }) => void)[] }>();

  const round = async (probeKey: string): Promise<number> => {
    const results = await redis.pipeline().incr(probeKey).wait(replicas, timeoutMs).exec();
    return Number(results?.[1]?.[1] ?? 0);
  };

  const drain = async (probeKey: string) => {
    const lane = lanes.get(probeKey)!;
    lane.running = true;
    while (lane.waiters.length > 0) {
      const batch = lane.waiters.splice(0);
      const acked = await round(probeKey).catch(() => 0);
      for (const resolve of batch) resolve({ acked, enough: acked >= replicas });
    }
    lanes.delete(probeKey);
  };

  return (probeKey) =>
    new Promise((resolve) => {
      const lane = lanes.get(probeKey) ?? { running: false, waiters: [] };
      lanes.set(probeKey, lane);
      lane.waiters.push(resolve);
      if (!lane.running) void drain(probeKey);
    });
}
