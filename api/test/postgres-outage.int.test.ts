/**
 * Purchases never touch Postgres, so Postgres going away must not take the
 * shop down: no service dies of a dropped connection, API replicas stay
 * ready, and the reconciler catches up once Postgres is back.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import type pg from 'pg';
import { loadEnv } from '../src/env.js';
import { createPgSaleRepository } from '../src/features/flash-sale/flash-sale.pg.js';
import { createLogger } from '../src/platform/logger.js';
import { createPgPool } from '../src/platform/postgres.js';
import { connectToStack, http, privilegedSession, purchase, reconciled, servicePid, testEnv } from './support.js';

const stack = connectToStack();
afterAll(() => stack.close());

const services = () => [...testEnv.FLASH_API_URLS.map((url) => `api-${new URL(url).port}`), 'reconciler'];

/** The superuser, on another database, so it can shut flash_flow off and survive what it does to it. */
const operatorSession = () => privilegedSession('superuser', 'postgres');

const terminateServiceConnections = (client: pg.Client) =>
  client.query(
    `SELECT pg_terminate_backend(pid) FROM pg_stat_activity
     WHERE datname = 'flash_flow' AND application_name LIKE 'flashflow-%' AND application_name NOT LIKE 'flashflow-integration%' AND application_name NOT LIKE 'flashflow-test%'`,
  );

describe('Postgres connections dropped under the services', () => {
  it('kill no service, and purchases keep flowing into Postgres', async () => {
    await stack.createSale({ stock: 50 });
    for (const url of testEnv.FLASH_API_URLS) await http('GET', `${url}/readyz`); // every pool holds an idle client
    const pids = services().map(servicePid);
    const operator = await operatorSession();
    try {
      await terminateServiceConnections(operator);
    } finally {
      await operator.end();
    }
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    expect(services().map(servicePid)).toEqual(pids);
    expect((await purchase('after.terminate')).status).toBe(201);
    await reconciled(stack);
  });
});

describe('Postgres refusing every connection', () => {
  it('leaves every API replica ready and selling; the reconciler catches up afterwards', async () => {
    await stack.createSale({ stock: 50 });
    const pids = services().map(servicePid);
    const operator = await operatorSession();
    try {
      await operator.query('ALTER DATABASE flash_flow ALLOW_CONNECTIONS false');
      await terminateServiceConnections(operator);
      for (const url of testEnv.FLASH_API_URLS) {
        const ready = await http('GET', `${url}/readyz`);
        expect(ready.status, ready.body).toBe(200);
      }
      for (let i = 0; i < 5; i += 1) expect((await purchase(`outage.buyer.${i}`)).status).toBe(201);
      await new Promise((resolve) => setTimeout(resolve, 2_000));
    } finally {
      await operator.query('ALTER DATABASE flash_flow ALLOW_CONNECTIONS true');
      await operator.end();
    }
    await reconciled(stack);
    expect(services().map(servicePid)).toEqual(pids);
  });
});

describe('a connection lost inside a transaction', () => {
  it('fails that transaction, and neither kills the process nor goes back to the pool', async () => {
    const pool = createPgPool(loadEnv(), 'flashflow-test-transaction', createLogger('test', 'silent', 2));
    const repository = createPgSaleRepository(pool);
    const operator = await operatorSession();
    try {
      const sale = { id: randomUUID(), productName: 'Lost transaction', totalStock: 1, startMs: Date.now(), endMs: Date.now() + 60_000 };
      // Between the INSERT and the COMMIT no query is in flight: the drop reaches the client as an 'error' event.
      const inserting = repository.insertSale(sale, async () => {
        await operator.query(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'flashflow-test-transaction'`);
        await new Promise((resolve) => setTimeout(resolve, 300));
      });
      await expect(inserting).rejects.toThrow();
      expect(pool.totalCount).toBe(0);
      // The pool serves again on a fresh connection, and the sale never existed.
      expect((await pool.query('SELECT 1 FROM flash_sales WHERE id = $1', [sale.id])).rowCount).toBe(0);
    } finally {
      await operator.end();
      await pool.end();
    }
  });
});
