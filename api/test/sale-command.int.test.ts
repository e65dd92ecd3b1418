/** The operator command against the test stack: its interface, its errors, and restarts that resume. */
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { saleKeys } from '../src/features/flash-sale/flash-sale.logic.js';
import { randomUUID } from 'node:crypto';
import { connectToStack, purchase, reconciled, servicePid } from './support.js';

const stack = connectToStack();
afterAll(() => stack.close());

const FLASHFLOW = fileURLToPath(new URL('../bin/flashflow', import.meta.url));

async function sale(...args: string[]) {
  return saleWith({}, ...args);
}

async function saleWith(env: Record<string, string>, ...args: string[]) {
  try {
    const { stdout, stderr } = await promisify(execFile)(FLASHFLOW, ['sale', ...args], { env: { ...process.env, ...env } });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const { code, stdout, stderr } = error as { code: number; stdout: string; stderr: string };
    return { code, stdout, stderr };
  }
}

describe('sale create', () => {
  it('creates a sale that becomes the current one', async () => {
    const result = await sale('create', '--stock', '7', '--starts-in', '0s', '--duration', '5m', '--product', 'CLI Widget', '--replace');
    expect(result.code, result.stderr).toBe(0);
    const { created } = JSON.parse(result.stdout);
    expect(created).toMatchObject({ productName: 'CLI Widget', totalStock: 7 });
    expect(Date.parse(created.endTime) - Date.parse(created.startTime)).toBe(300_000);
    expect(await stack.store.currentSaleId()).toBe(created.id);
  });

  it.each([
    [['create', '--stock', 'many', '--starts-in', '0s', '--duration', '5m'], /--stock must be a whole number/],
    [['create', '--stock', '0', '--starts-in', '0s', '--duration', '5m'], /--stock must be a whole number/],
    [['create', '--stock', '5', '--starts-in', 'soon', '--duration', '5m'], /--starts-in is not a duration/],
    [['create', '--stock', '5', '--starts-in', '0s', '--duration', '0s'], /--duration must be a positive duration/],
    [['create', '--stock', '5', '--starts-in', '0s'], /--duration is required/],
    [['create', '--stock', '5', '--starts-in', '0s', '--duration', '5m', '--colour', 'red'], /Unknown option '--colour'/],
    [['launch'], /unknown command "launch"/],
    [[], /a command is required/],
  ])('refuses %j with a clear message and exit code 2', async (args, message) => {
    const result = await sale(...args);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(message);
    expect(result.stderr).toContain('usage:');
  });
});

describe('bad settings at the operator’s edge', () => {
  const secret = 'do-not-print-this-password-0123456789';
  it.each([
    ['a malformed database URL', { DATABASE_URL: `postgres://flashflow_operator:${secret}@:99999/flash_flow` }, /DATABASE_URL: must be a postgres:\/\/ URL/],
    ['a database URL of another kind', { DATABASE_URL: `mysql://root:${secret}@db/shop` }, /DATABASE_URL: must be a postgres:\/\/ URL/],
    ['a password with a space in it', { REDIS_PASSWORD: `${secret} x` }, /REDIS_PASSWORD: must be at least 16 printable characters/],
    ['a port out of range', { RECONCILER_PORT: '70000', REDIS_PASSWORD: secret }, /RECONCILER_PORT/],
    ['a Redis node without a port', { REDIS_NODES: 'redis-1', REDIS_PASSWORD: secret }, /REDIS_NODES/],
  ])('stops on %s with exit code 78 and the variable’s name, never its value', async (_, env, message) => {
    const result = await saleWith(env, 'report');
    expect(result.code).toBe(78);
    expect(result.stderr).toMatch(message);
    expect(`${result.stdout}${result.stderr}`).not.toContain(secret);
  });
});

describe('sale report', () => {
  it('prints the sale, its status, both stores’ counts and the backlog as one JSON object', async () => {
    const created = await stack.createSale({ stock: 4, productName: 'Report Widget' });
    expect((await purchase('report.buyer')).status).toBe(201);
    await reconciled(stack);
    const result = await sale('report');
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout)).toMatchObject({
      sale: { id: created.id, productName: 'Report Widget', totalStock: 4 },
      status: 'active',
      endedReason: null,
      redis: { remainingStock: 3, buyers: 1 },
      postgres: { confirmedPurchases: 1, remainingStock: 3 },
      reconcileBacklog: 0,
    });
  });
});

describe('sale ensure (what every start runs)', () => {

  it('resumes the running sale instead of creating or resetting one', async () => {
    const created = await stack.createSale({ stock: 3 });
    expect((await purchase('resume.buyer')).status).toBe(201);
    const result = await sale('ensure');
    expect(JSON.parse(result.stdout)).toEqual({ saleId: created.id, created: false });
    expect((await stack.store.snapshot(created.id))?.remaining).toBe(2);
  });

  it('rebuilds a sale Redis lost from what Postgres holds', async () => {
    const created = await stack.createSale({ stock: 3 });
    expect((await purchase('survivor')).status).toBe(201);
    await reconciled(stack);
    const keys = saleKeys(created.id);
    await stack.redis.del(keys.sale, keys.buyers); // the purchases stream stays: it is already reconciled

    const result = await sale('ensure');
    expect(JSON.parse(result.stdout)).toEqual({ saleId: created.id, created: false });
    expect((await stack.store.snapshot(created.id))?.remaining).toBe(2);
    const again = await purchase('survivor');
    expect(again.status).toBe(409);
    expect(again.json().error.code).toBe('ALREADY_PURCHASED');
  });
});

describe('sale create while a sale is live or upcoming', () => {
  it.each([
    ['active', 0],
    ['upcoming', 60_000],
  ])('refuses to replace an %s sale without --replace', async (_, startsInMs) => {
    const running = await stack.createSale({ stock: 3, startsInMs });
    const result = await sale('create', '--stock', '7', '--starts-in', '0s', '--duration', '5m');
    expect(result.code).toBe(3);
    expect(result.stderr).toMatch(new RegExp(`sale ${running.id} is (active|upcoming).*--replace`));
    expect(await stack.store.currentSaleId()).toBe(running.id);
  });

  it('with --replace closes the running sale, so nobody buys in it any more', async () => {
    const running = await stack.createSale({ stock: 3 });
    const result = await sale('create', '--stock', '7', '--starts-in', '0s', '--duration', '5m', '--replace');
    expect(result.code, result.stderr).toBe(0);
    expect(await stack.store.currentSaleId()).toBe(JSON.parse(result.stdout).created.id);
    expect((await stack.store.claim(running.id, 'late.buyer', randomUUID())).kind).toBe('SALE_NOT_ACTIVE');
  });

  it.each(['after-postgres-insert', 'after-redis-initialise'])(
    'leaves no orphan when killed %s',
    async (failpoint) => {
      const running = await stack.createSale({ stock: 3 });
      const sales = async () => Number((await stack.pool.query('SELECT count(*) AS n FROM flash_sales')).rows[0].n);
      const before = await sales();
      const result = await saleWith({ FLASH_FAILPOINT: `sale-create:${failpoint}` }, 'create', '--stock', '7', '--starts-in', '0s', '--duration', '5m', '--replace');
      expect(result.code).not.toBe(0);
      expect(await sales()).toBe(before); // nothing committed in Postgres…
      expect(await stack.store.currentSaleId()).toBe(running.id); // …and the pointer never moved
      const again = await sale('create', '--stock', '7', '--starts-in', '0s', '--duration', '5m', '--replace');
      expect(again.code, again.stderr).toBe(0);
    },
  );
});

describe('sale ensure never re-issues a unit', () => {
  const unitOf = async (saleId: string, userId: string) => (await stack.store.findPurchase(saleId, userId))?.unit;

  it('after Redis lost a sale whose units in Postgres have a gap', async () => {
    const created = await stack.createSale({ stock: 6 });
    expect((await purchase('gap.one')).status).toBe(201);
    expect((await purchase('gap.two')).status).toBe(201);
    await reconciled(stack);
    // Unit 4 was sold too (say its buyer's record was rebuilt from Postgres before); unit 3 never made it.
    await stack.repository.persistPurchases(created.id, [{ purchaseId: randomUUID(), userId: 'gap.four', unit: 4, purchasedAtMs: Date.now() }]);
    const keys = saleKeys(created.id);
    await stack.redis.del(keys.sale, keys.buyers, keys.purchases);

    const ensured = await sale('ensure');
    expect(ensured.code, ensured.stderr).toBe(0);
    expect((await purchase('gap.new')).status).toBe(201);
    expect([1, 2, 4]).not.toContain(await unitOf(created.id, 'gap.new'));
  });

  it('after Redis lost a sale whose stream still holds purchases Postgres does not have yet', async () => {
    const created = await stack.createSale({ stock: 6 });
    const reconciler = servicePid('reconciler');
    process.kill(reconciler, 'SIGSTOP');
    try {
      expect((await purchase('unpersisted.one')).status).toBe(201);
      expect((await purchase('unpersisted.two')).status).toBe(201);
      const keys = saleKeys(created.id);
      await stack.redis.del(keys.sale, keys.buyers); // the stream survives

      const result = await sale('ensure');
      expect(result.code, result.stderr).toBe(0);
    } finally {
      process.kill(reconciler, 'SIGCONT');
    }
    expect((await purchase('unpersisted.one')).json().error?.code).toBe('ALREADY_PURCHASED');
    expect((await purchase('after.rebuild')).status).toBe(201);
    expect([1, 2]).not.toContain(await unitOf(created.id, 'after.rebuild'));
    await reconciled(stack);
    expect((await stack.repository.confirmedPurchases(created.id)).map((p) => p.unit).sort()).toEqual([1, 2, 3]);
  });
});
