/**
 * FE-1  The page shows the sale's state (upcoming, active, ended) as the API reports it.
 * FE-2  While active, the stock on the page follows the server's within a moment.
 * FE-7  All of it without a reload: the page below is loaded once per sale.
 * Plus: the countdown comes from the server clock; ended says sold out vs time ran out.
 */
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectPageMatchesApi, launchBrowser, openShop, screenshot, shopper } from './support/browser';
import { apiSaleUntil, assertStackIsUp, createSale, getSale, purchase, runId } from './support/stack';
import { textOf } from './support/wait';

let browser: Browser;

beforeAll(async () => {
  await assertStackIsUp();
  browser = await launchBrowser();
});

afterAll(async () => {
  await browser?.close();
});

describe('FE-1, FE-2, FE-7: the sale as the server sees it, live', () => {
  it('upcoming → active → sold out, on one page load', async () => {
    const product = `E2E Keyboard ${runId}`;
    const sale = await createSale({ stock: 3, startsIn: '10s', duration: '3m', product });
    const { context, page } = await openShop(browser);
    const view = shopper(page);
    try {
      // Upcoming, with a countdown by the server's clock.
      const upcoming = await expectPageMatchesApi(page);
      expect(upcoming).toMatchObject({ id: sale.id, status: 'upcoming', productName: product });
      const api = await getSale();
      const apiSecondsLeft = (Date.parse(api!.startTime) - Date.parse(api!.serverTime)) / 1000;
      const shown = await textOf(view.timer, /^\d\d:\d\d$/);
      const [mm, ss] = shown.split(':').map(Number);
      expect(Math.abs(mm! * 60 + ss! - apiSecondsLeft)).toBeLessThanOrEqual(2.5);
      await screenshot(page, 'fe-1-upcoming');

      // Active, by itself: state, stock number and meter equal the API's.
      await apiSaleUntil(sale.id, 'the sale to start', (s) => s.status === 'active');
      const active = await expectPageMatchesApi(page, 6000);
      expect(active.remainingStock).toBe(3);
      await screenshot(page, 'fe-2-active');

      // Stock bought elsewhere shows up here (FE-2).
      expect((await purchase(`e2e-one-${runId}`)).status).toBe(201);
      await textOf(view.stock, '2', 5000);
      await expectPageMatchesApi(page);

      // The last two go: ended, because it sold out.
      expect((await purchase(`e2e-two-${runId}`)).status).toBe(201);
      expect((await purchase(`e2e-three-${runId}`)).status).toBe(201);
      const ended = await apiSaleUntil(sale.id, 'the sale to end', (s) => s.status === 'ended');
      expect(ended).toMatchObject({ endedReason: 'sold_out', remainingStock: 0 });
      await expectPageMatchesApi(page);
      await textOf(view.endedReason, 'Sold out. All 3 have been sold.');
      await screenshot(page, 'fe-1-ended-sold-out');
    } finally {
      await context.close();
    }
  });

  it('a sale that runs out of time ends saying so, not "sold out"', async () => {
    const product = `E2E Lamp ${runId}`;
    const sale = await createSale({ stock: 5, startsIn: '3s', duration: '10s', product });
    const { context, page } = await openShop(browser);
    const view = shopper(page);
    try {
      await apiSaleUntil(sale.id, 'the sale to start', (s) => s.status === 'active', 15_000);
      await expectPageMatchesApi(page, 6000);
      await textOf(view.timer, /^00:(0\d|10)$/);

      const ended = await apiSaleUntil(sale.id, 'the sale to run out of time', (s) => s.status === 'ended', 20_000);
      expect(ended).toMatchObject({ endedReason: 'time', remainingStock: 5 });
      await expectPageMatchesApi(page);
      await textOf(view.endedReason, /^Time ran out\. The sale ended at .+ with 5 of 5 unsold\.$/);
      expect(await page.getByText('Sold out').count()).toBe(0);
      await screenshot(page, 'fe-1-ended-time');
    } finally {
      await context.close();
    }
  });
});
