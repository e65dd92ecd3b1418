/**
 * Each part may do its job and nothing else (docs/security.md): every
 * refusal is proven against the running stack, as the role it is about.
 */
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { Cluster, Redis } from 'ioredis';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { loadEnv } from '../src/env.js';
import { saleKeys } from '../src/features/flash-sale/flash-sale.logic.js';
import { logsHolding } from '../../stack/src/log-scan.js';
import { PG_ROLES } from '../../stack/src/secrets.js';
import { connectToStack, http, servicePid, stackSecrets, testEnv } from './support.js';

const stack = connectToStack();
const nodes = loadEnv().REDIS_NODES;
const clients: { quit(): Promise<unknown> }[] = [];
afterAll(async () => {
  await Promise.allSettled(clients.map((client) => client.quit()));
  await stack.close();
});

/** One node, directly, logged in as given (or not at all); connection errors are the test's answers. */
function nodeAs(login: { username: string; password: string } | null) {
  const node = new Redis({ ...nodes[0]!, ...login, maxRetriesPerRequest: 0, retryStrategy: () => null });
  node.on('error', () => undefined);
  clients.push({ quit: async () => node.disconnect() });
  return node;
}

/** A cluster client logged in as one of the shop's Redis users that may use the cluster. */
function redisAs(user: 'api' | 'reconciler') {
  const cluster = new Cluster(nodes, {
    scaleReads: 'master',
    redisOptions: { username: user, password: stackSecrets().redis[user], maxRetriesPerRequest: 0, commandTimeout: 2_000 },
  });
  clients.push(cluster);
  return cluster;
}

const refused = async (attempt: Promise<unknown>) => {
  const error = await attempt.then(() => null, (thrown: Error) => thrown);
  expect(error?.message, 'the command was allowed').toMatch(/NOPERM|NOAUTH|WRONGPASS/);
};

describe('Redis', () => {
  it('refuses a client that does not log in, and a wrong password', async () => {
    await refused(nodeAs(null).get(saleKeys('any').sale));
    await refused(nodeAs({ username: 'api', password: 'not-the-password-at-all' }).get(saleKeys('any').sale));
    // The default user keeps its rights for the AOF's replay (users.acl.template), so it must be unreachable.
    await refused(nodeAs({ username: 'default', password: '' }).get(saleKeys('any').sale));
  });

  it('lets the API’s user buy and read, and nothing that could harm a sale', async () => {
    const sale = await stack.createSale({ stock: 5 });
    const keys = saleKeys(sale.id);
    const apiUser = redisAs('api');
    expect(await apiUser.hget(keys.sale, 'total')).toBe('5');
    await refused(apiUser.flushall());
    await refused(apiUser.config('GET', 'maxmemory'));
    await refused(apiUser.keys('flash:*'));
    await refused(apiUser.del(keys.sale));
    await refused(apiUser.call('SCRIPT', 'FLUSH'));
    await refused(apiUser.set('flash:current-sale', 'another-sale'));
    expect(await stack.redis.exists(keys.sale)).toBe(1);
  });

  it('lets the reconciler’s user read a sale but never write its state or its buyers', async () => {
    const sale = await stack.createSale({ stock: 5 });
    const keys = saleKeys(sale.id);
    const reconciler = redisAs('reconciler');
    expect(await reconciler.hget(keys.sale, 'total')).toBe('5');
    await refused(reconciler.hset(keys.sale, 'remaining', '999'));
    await refused(reconciler.hset(keys.buyers, 'someone', 'x|1|1'));
    await refused(reconciler.del(keys.sale));
    await refused(reconciler.flushall());
    expect(await stack.redis.hget(keys.sale, 'remaining')).toBe('5');
  });

  it('lets the exporter and the replication user read no key at all', async () => {
    for (const user of ['exporter', 'replicator'] as const) {
      await refused(nodeAs({ username: user, password: stackSecrets().redis[user] }).get('flash:current-sale'));
    }
  });
});

/** A session as one of the shop's Postgres roles. */
async function postgresAs(login: 'reconciler' | 'operator' | 'monitor') {
  const url = new URL(loadEnv().DATABASE_URL!);
  url.username = PG_ROLES[login];
  url.password = stackSecrets().postgres[login];
  const client = new pg.Client({ connectionString: url.toString(), application_name: `flashflow-test-${login}` });
  await client.connect();
  clients.push({ quit: () => client.end() });
  return client;
}

const denied = async (client: pg.Client, sql: string) => {
  const error = await client.query(sql).then(() => null, (thrown: Error) => thrown);
  expect(error?.message, `${sql} was allowed`).toMatch(/permission denied|must be owner/);
};

describe('Postgres', () => {
  it.each(['reconciler', 'operator'] as const)('refuses the %s role whatever is not its job', async (login) => {
    const client = await postgresAs(login);
    await client.query('SELECT count(*) FROM purchases'); // it may read
    await denied(client, 'DROP TABLE purchases');
    await denied(client, 'DELETE FROM purchases');
    await denied(client, 'TRUNCATE flash_sales');
    await denied(client, 'ALTER TABLE purchases ADD COLUMN note text');
    await denied(client, "UPDATE purchases SET status = 'failed'");
    await denied(client, "UPDATE flash_sales SET product_name = 'renamed'");
    await denied(client, 'DELETE FROM purchase_conflicts');
  });

  it('lets the exporter’s role read Postgres’s statistics and none of the shop’s rows', async () => {
    const client = await postgresAs('monitor');
    expect((await client.query('SELECT count(*) AS n FROM pg_stat_activity')).rows[0].n).toBeGreaterThan(0);
    // Not even the schema is visible to it: every name is refused at public.
    for (const table of ['purchases', 'flash_sales', 'purchase_conflicts']) await denied(client, `SELECT count(*) FROM public.${table}`);
    await denied(client, 'DROP TABLE public.purchases');
    await denied(client, "INSERT INTO public.purchase_conflicts (raw_entry) VALUES ('{}')");
  });

  it('refuses the reconciler the one thing only the operator does: creating a sale', async () => {
    const client = await postgresAs('reconciler');
    await denied(
      client,
      `INSERT INTO flash_sales (id, product_name, total_stock, remaining_stock, start_time, end_time)
       VALUES (gen_random_uuid(), 'x', 1, 1, now(), now() + interval '1 hour')`,
    );
  });

  it('gives an API replica no Postgres login at all', () => {
    const port = new URL(testEnv.FLASH_API_URLS[0]!).port;
    const environment = readFileSync(`/proc/${servicePid(`api-${port}`)}/environ`, 'utf8').split('\0');
    expect(environment.some((variable) => variable.startsWith('DATABASE_URL='))).toBe(false);
  });

  it('trusts nobody: the socket is the postgres user’s alone, and every login needs its password', async () => {
    const root = join(testEnv.FLASH_STATE_DIR, 'postgres');
    expect(statSync(join(root, 'run')).mode & 0o077).toBe(0);
    const hba = readFileSync(join(root, 'data', 'pg_hba.conf'), 'utf8');
    expect(hba).not.toMatch(/\btrust\b/);
    // peer only for the postgres OS user, on the socket only it can reach
    expect(hba.split('\n').filter((line) => /\bpeer\b/.test(line))).toEqual(['local all postgres peer']);
    const url = new URL(loadEnv().DATABASE_URL!);
    url.username = 'postgres';
    url.password = 'guessed';
    const guess = new pg.Client({ connectionString: url.toString() });
    const error = await guess.connect().then(() => null, (thrown: Error) => thrown);
    expect(error?.message).toMatch(/password authentication failed/);
  });
});

describe('the stack’s secrets', () => {
  it('appear in no log of any part of the stack', () => {
    const logs = join(testEnv.FLASH_STATE_DIR, 'logs');
    const secrets = Object.values(stackSecrets()).flatMap((group) => Object.values(group));
    expect(logsHolding(logs, secrets), 'logs holding a password').toEqual([]);
  });

  it('are readable by their owner only', () => {
    expect(statSync(testEnv.FLASH_SECRETS_DIR).mode & 0o077).toBe(0);
    expect(statSync(join(testEnv.FLASH_SECRETS_DIR, 'secrets.json')).mode & 0o077).toBe(0);
  });
});

describe('nginx', () => {
  it('serves its stub_status only on the exporter’s unix socket, never on the public port', async () => {
    const answer = await http('GET', `${testEnv.FLASH_BASE_URL}/stub_status`);
    expect(answer.body).not.toMatch(/Active connections|server accepts handled/);
  });

  it.each(['/metrics', '/healthz', '/readyz'])('never serves %s to the public', async (path) => {
    const answer = await http('GET', `${testEnv.FLASH_BASE_URL}${path}`);
    expect(answer.status).toBe(404);
    expect(answer.json().error.code).toBe('NOT_FOUND');
    expect(answer.body).not.toMatch(/flashflow_|nodejs_|"checks"/);
  });
});
