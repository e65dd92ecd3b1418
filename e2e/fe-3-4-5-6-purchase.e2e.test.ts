/**
 * FE-3  The buy button works only while the sale is active.
 * FE-4  Success, not active, sold out and already purchased each look different.
 * FE-5  Empty or whitespace-only identifiers are refused before any request.
 * FE-6  After a success, the page stays "you got one" (also after a reload) and
 *       another attempt for that identifier is prevented or clearly rejected.
 * Every outcome is the real server's answer; where an outcome needs the page's
 * view to lag the server (as it can by a second), that view is held still.
 */
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freezeSaleView, launchBrowser, openShop, screenshot, shopper } from './support/browser';
import { apiSaleUntil, assertStackIsUp, createSale, lookupPurchase, purchase, runId } from './support/stack';
import { disabledState, textOf } from './support/wait';

let browser: Browser;

beforeAll(async () => {
  await assertStackIsUp();
  browser = await launchBrowser();
});

afterAll(async () => {
  await browser?.close();
});

describe('FE-3, FE-4, FE-5, FE-6: buying one', () => {
  it('disabled until active; refuses blanks; success; you got one after reload; already purchased; sold out', async () => {
    const sale = await createSale({ stock: 2, startsIn: '8s', duration: '3m', product: `E2E Headphones ${runId}` });
    const alice = { typed: `Alice.${runId}@Example.com`, stored: `alice.${runId}@example.com` };

    const first = await openShop(browser);
    const view = shopper(first.page);
    // FE-3: upcoming, so the button is off and Enter does nothing.
    await textOf(view.state, 'Upcoming');
    await disabledState(view.buy, true);
    await textOf(view.buyHint, 'Buying opens when the sale starts.');
    await view.identifier.fill(alice.typed);
    await view.identifier.press('Enter');

    // FE-3: it turns on by itself when the sale starts.
    await apiSaleUntil(sale.id, 'the sale to start', (s) => s.status === 'active');
    await disabledState(view.buy, false, 6000);
    expect(first.posts).toHaveLength(0);

    // FE-5: blank and whitespace-only input is refused on the page.
    for (const blank of ['', '   ', '\t \t']) {
      await view.identifier.fill(blank);
      await view.buy.click();
      await textOf(view.problem, 'Enter your email or username.');
      expect(await view.identifier.getAttribute('aria-invalid')).toBe('true');
    }
    await screenshot(first.page, 'fe-5-validation');
    expect(first.posts).toHaveLength(0);

    // FE-4: success, keyboard only.
    await view.identifier.fill(alice.typed);
    await view.identifier.press('Enter');
    await view.outcome('success').waitFor({ timeout: 5000 });
    await textOf(view.outcome('success'), new RegExp(`You got one!.*Purchase confirmed for ${alice.stored.replace(/\./g, '\\.')}: one E2E Headphones`));
    expect(first.posts).toHaveLength(1);
    expect(await lookupPurchase(alice.stored)).toMatchObject({ purchased: true });
    expect(await first.page.evaluate(() => Object.values(localStorage))).toContain(alice.stored);
    await screenshot(first.page, 'fe-4-success');

    // FE-6: no second attempt for alice, now or after a reload.
    await disabledState(view.buy, true);
    await textOf(view.buyHint, `${alice.stored} already has one. It is one per shopper.`);
    await first.page.reload();
    await view.outcome('success').waitFor({ timeout: 5000 });
    await textOf(view.outcome('success'), new RegExp(`Your purchase as ${alice.stored.replace(/\./g, '\\.')} is confirmed\\.`));
    expect(await view.identifier.inputValue()).toBe(alice.stored);
    await disabledState(view.buy, true);
    await screenshot(first.page, 'fe-6-restored-after-reload');
    await first.context.close();

    // FE-4: the same shopper on another device is clearly rejected.
    const second = await openShop(browser);
    const view2 = shopper(second.page);
    await disabledState(view2.buy, false, 6000);
    await view2.identifier.fill(alice.typed.toUpperCase());
    await view2.buy.click();
    await view2.outcome('already-purchased').waitFor({ timeout: 5000 });
    await textOf(view2.outcome('already-purchased'), new RegExp(`You already have one.*${alice.stored.replace(/\./g, '\\.')} has already bought one`));
    await screenshot(second.page, 'fe-4-already-purchased');
    await second.context.close();

    // FE-4: sold out. This shopper's screen still says "1 left" while someone else takes it.
    const third = await openShop(browser);
    const view3 = shopper(third.page);
    await textOf(view3.stock, '1', 6000);
    const thaw = await freezeSaleView(third.page);
    expect((await purchase(`e2e-bob-${runId}`)).status).toBe(201);
    await apiSaleUntil(sale.id, 'the sale to sell out', (s) => s.status === 'ended' && s.endedReason === 'sold_out');
    await view3.identifier.fill(`carol-${runId}`);
    await view3.buy.click();
    await view3.outcome('sold-out').waitFor({ timeout: 5000 });
    await textOf(view3.outcome('sold-out'), /Sold out/);
    // Once the view catches up, the button goes off (FE-3) and the outcome stays.
    await thaw();
    await textOf(view3.state, 'Ended', 6000);
    await disabledState(view3.buy, true);
    await screenshot(third.page, 'fe-4-sold-out');
    await third.context.close();
  });

  it('not active: the sale ends while the shopper is still looking at "active"', async () => {
    const sale = await createSale({ stock: 5, startsIn: '2s', duration: '8s', product: `E2E Mug ${runId}` });
    const { context, page, posts } = await openShop(browser);
    const view = shopper(page);
    try {
      await apiSaleUntil(sale.id, 'the sale to start', (s) => s.status === 'active', 15_000);
      await disabledState(view.buy, false, 6000);
      await view.identifier.fill(`dave-${runId}`);
      const thaw = await freezeSaleView(page);
      await apiSaleUntil(sale.id, 'the sale to run out of time', (s) => s.status === 'ended', 20_000);
      await view.buy.click();
      await view.outcome('not-active').waitFor({ timeout: 5000 });
      await textOf(view.outcome('not-active'), /The sale is not running/);
      expect(posts).toHaveLength(1);
      await thaw();
      await textOf(view.state, 'Ended', 6000);
      await disabledState(view.buy, true);
      await screenshot(page, 'fe-4-not-active');
    } finally {
      await context.close();
    }
  });

  it('the four outcomes are visually distinct', async () => {
    // Rendered side by side from the classes the page uses, then compared by computed style.
    const { context, page } = await openShop(browser);
    try {
      const styles = await page.evaluate(() => {
        const variants = ['success', 'not-active', 'sold-out', 'already-purchased'];
        const host = document.createElement('div');
        document.body.append(host);
        return variants.map((v) => {
          const el = document.createElement('div');
          el.className = `result result--${v}`;
          host.append(el);
          const s = getComputedStyle(el);
          return `${s.backgroundColor}|${s.borderLeftColor}|${s.borderTopStyle}`;
        });
      });
      expect(new Set(styles).size).toBe(4);
    } finally {
      await context.close();
    }
  });
});
