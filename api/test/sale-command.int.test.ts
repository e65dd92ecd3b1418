/** The operator command against the test stack: its interface, its errors, and restarts that resume. */
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { saleKeys } from '../src/features/flash-sale/flash-sale.logic.js';
import { connectToStack, purchase, reconciled } from './support.js';

const stack = connectToStack();
afterAll(() => stack.close());

const CLI = fileURLToPath(new URL('../dist/cli/sale.js', import.meta.url));

async function sale(...args: string[]) {
  try {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, [CLI, ...args]);
    return { code: 0, stdout, stderr };
  } catch (error) {
    const { code, stdout, stderr } = error as { code: number; stdout: string; stderr: string };
    return { code, stdout, stderr };
  }
}

describe('sale create', () => {
  it('creates a sale that becomes the current one', async () => {
    const result = await sale('create', '--stock', '7', '--starts-in', '0s', '--duration', '5m', '--product', 'CLI Widget');
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
  const demo = ['--demo-stock', '50', '--demo-starts-in', '0s', '--demo-duration', '1h'];

  it('resumes the running sale instead of creating or resetting one', async () => {
    const created = await stack.createSale({ stock: 3 });
    expect((await purchase('resume.buyer')).status).toBe(201);
    const result = await sale('ensure', ...demo);
    expect(JSON.parse(result.stdout)).toEqual({ saleId: created.id, created: false });
    expect((await stack.store.snapshot(created.id))?.remaining).toBe(2);
  });

  it('rebuilds a sale Redis lost from what Postgres holds', async () => {
    const created = await stack.createSale({ stock: 3 });
    expect((await purchase('survivor')).status).toBe(201);
    await reconciled(stack);
    const keys = saleKeys(created.id);
    await stack.redis.del(keys.sale, keys.buyers); // the purchases stream stays: it is already reconciled

    const result = await sale('ensure', ...demo);
    expect(JSON.parse(result.stdout)).toEqual({ saleId: created.id, created: false });
    expect((await stack.store.snapshot(created.id))?.remaining).toBe(2);
    const again = await purchase('survivor');
    expect(again.status).toBe(409);
    expect(again.json().error.code).toBe('ALREADY_PURCHASED');
  });
});
