/**
 * Who serves what in the Redis Cluster, as the cluster itself says right now
 * (CLUSTER SHARDS on the first node that answers), never a client's cached
 * view: after a failover, tests and the fault suite act on the truth.
 */
import { Redis } from 'ioredis';

export interface RedisNodeAddress {
  host: string;
  port: number;
}

/** The nodes to ask, and the user to ask as (one that may run CLUSTER and INFO: the admin). */
export interface RedisAccess {
  nodes: RedisNodeAddress[];
  username?: string;
  password?: string;
}

export interface Shard {
  primary: RedisNodeAddress;
  /** Replicas whose link to the primary is up. */
  replicas: RedisNodeAddress[];
  slots: [from: number, to: number][];
}

/** Runs `use` on one node, on a connection of its own that fails fast instead of retrying. */
export async function withNode<T>(access: RedisAccess, node: RedisNodeAddress, use: (client: Redis) => Promise<T>): Promise<T> {
  const client = new Redis({
    ...node,
    ...(access.username && { username: access.username }),
    ...(access.password && { password: access.password }),
    lazyConnect: true,
    commandTimeout: 1000,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
  });
  client.on('error', () => undefined);
  try {
    await client.connect();
    return await use(client);
  } finally {
    client.disconnect();
  }
}

const pairs = (list: unknown[]) => {
  const result: Record<string, unknown> = {};
  for (let i = 0; i + 1 < list.length; i += 2) result[String(list[i])] = list[i + 1];
  return result;
};

/** The shards as the first reachable node sees them. */
export async function clusterShards(access: RedisAccess): Promise<Shard[]> {
  for (const node of access.nodes) {
    try {
      return await withNode(access, node, async (client) => {
        const shards = (await client.call('CLUSTER', 'SHARDS')) as unknown[][];
        return shards.flatMap((raw) => {
          const shard = pairs(raw);
          const members = (shard.nodes as unknown[][]).map(pairs);
          const address = (member: Record<string, unknown>) => ({ host: String(member.ip), port: Number(member.port) });
          const primary = members.find((member) => member.role === 'master' && member.health !== 'fail');
          const ranges = (shard.slots as number[]) ?? [];
          const slots: [number, number][] = [];
          for (let i = 0; i + 1 < ranges.length; i += 2) slots.push([ranges[i]!, ranges[i + 1]!]);
          if (!primary || slots.length === 0) return [];
          const replicas = members.filter((member) => member.role === 'replica' && member.health === 'online').map(address);
          return [{ primary: address(primary), replicas, slots }];
        });
      });
    } catch {
      // ask the next node
    }
  }
  throw new Error('no Redis node answered CLUSTER SHARDS');
}

/**
 * The shard serving a key's slot. `without` leaves a node out of the asking:
 * one cut off or hung still believes what it believed before.
 */
export async function shardOf(access: RedisAccess, key: string, without?: RedisNodeAddress): Promise<Shard> {
  const asked = { ...access, nodes: access.nodes.filter((node) => !(without && node.host === without.host && node.port === without.port)) };
  const slot = await slotOf(asked, key);
  const shard = (await clusterShards(asked)).find((s) => s.slots.some(([from, to]) => slot >= from && slot <= to));
  if (!shard) throw new Error(`no shard serves slot ${slot} (${key})`);
  return shard;
}

async function slotOf(access: RedisAccess, key: string): Promise<number> {
  for (const node of access.nodes) {
    try {
      return await withNode(access, node, async (client) => Number(await client.cluster('KEYSLOT', key)));
    } catch {
      // ask the next node
    }
  }
  throw new Error('no Redis node answered CLUSTER KEYSLOT');
}

/**
 * True when every node answers with cluster_state:ok and every primary takes
 * writes: it counts its replica as good, the very count min-replicas-to-write
 * checks (refreshed once a second, so it can trail the replica's own state).
 */
export async function clusterInSync(access: RedisAccess, expectedShards = 3): Promise<boolean> {
  try {
    for (const node of access.nodes) {
      const state = await withNode(access, node, (client) => client.cluster('INFO'));
      if (!String(state).includes('cluster_state:ok')) return false;
    }
    const shards = await clusterShards(access);
    if (shards.length !== expectedShards) return false;
    for (const shard of shards) {
      const replication = await withNode(access, shard.primary, (client) => client.info('replication'));
      if (!/^role:master/m.test(replication) || !/^min_slaves_good_slaves:[1-9]/m.test(replication)) return false;
    }
    return true;
  } catch {
    return false;
  }
}
