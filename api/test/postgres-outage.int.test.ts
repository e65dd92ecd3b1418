/**
 * Purchases never touch Postgres, so Postgres going away must not take the
 * shop down: no service dies of a dropped connection, API replicas stay
 * ready, and the reconciler catches up once Postgres is back.
 */
import { afterAll, describe, expect, it } from 'vitest';
import type pg from 'pg';
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
