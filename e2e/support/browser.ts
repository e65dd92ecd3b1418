import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type BrowserContext, type Page, type Request, type Route } from 'playwright-core';
import { BASE_URL, eventually, getSale, type ApiSale } from './stack';

/**
 * Debian's Chromium driven by playwright-core (no browser download), a
 * phone-sized page, and the few things every spec asks of it. Elements are
 * found by role and label, as a shopper (or a screen reader) finds them.
 */

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run', '--disable-sync'];
/** Run artifacts, beside the stack's other state (git-ignored); docs/screenshots keeps copies for the README. */
const SCREENSHOTS = join(process.env.FLASH_STATE_DIR ?? fileURLToPath(new URL('../../.flash/e2e', import.meta.url)), 'screenshots/');

export const PHONE = { width: 390, height: 844 };

export function launchBrowser(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM, headless: true, args: ARGS });
}

/** A fresh shopper: own storage, phone viewport, every POST it sends recorded. */
export async function openShop(browser: Browser): Promise<{ context: BrowserContext; page: Page; posts: Request[] }> {
  const context = await browser.newContext({ viewport: PHONE, deviceScaleFactor: 1, baseURL: BASE_URL, locale: 'en-GB', timezoneId: 'UTC' });
  const page = await context.newPage();
  const posts: Request[] = [];
  page.on('request', (request) => {
    if (request.method() === 'POST') posts.push(request);
  });
  await page.goto('/');
  return { context, page, posts };
}

export async function screenshot(page: Page, name: string): Promise<void> {
  mkdirSync(SCREENSHOTS, { recursive: true });
  await page.screenshot({ path: `${SCREENSHOTS}${name}.png`, fullPage: true, animations: 'disabled' });
}

export const shopper = (page: Page) => ({
  state: page.getByTestId('sale-state'),
  product: page.getByRole('heading', { level: 1 }),
  timer: page.getByRole('timer'),
  stock: page.getByTestId('remaining-stock'),
  meter: page.getByRole('meter', { name: 'Stock left' }),
  endedReason: page.getByTestId('ended-reason'),
  identifier: page.getByLabel('Your email or username'),
  buy: page.getByRole('button', { name: /buy now|buying/i }),
  buyHint: page.getByTestId('buy-hint'),
  problem: page.getByTestId('identifier-problem'),
  result: page.getByTestId('purchase-result'),
  outcome: (variant: 'success' | 'not-active' | 'sold-out' | 'already-purchased' | 'try-again') => page.getByTestId(`outcome-${variant}`),
});

const STATE_WORD: Record<ApiSale['status'], string> = { upcoming: 'Upcoming', active: 'Active', ended: 'Ended' };

/**
 * FE-1/FE-2: what the page shows equals what the API says, read at about the
 * same moment. Both can lag the truth by the ~1 s micro-cache plus a poll, so
 * the comparison is retried for a few seconds.
 */
export async function expectPageMatchesApi(page: Page, timeout = 5000): Promise<ApiSale> {
  const view = shopper(page);
  return eventually(
    async () => {
      const sale = await getSale();
      if (!sale) throw new Error('the API reports no sale');
      const shown = (await view.state.textContent({ timeout: 1000 }))?.trim();
      if (shown !== STATE_WORD[sale.status]) throw new Error(`page shows "${shown}", API says ${sale.status}`);
      const product = (await view.product.textContent({ timeout: 1000 }))?.trim();
      if (product !== sale.productName) throw new Error(`page shows product "${product}", API says "${sale.productName}"`);
      if (sale.status === 'active') {
        const stock = (await view.stock.textContent({ timeout: 1000 }))?.trim();
        if (stock !== String(sale.remainingStock)) throw new Error(`page shows stock ${stock}, API says ${sale.remainingStock}`);
        const meter = await view.meter.getAttribute('value', { timeout: 1000 });
        if (meter !== String(sale.remainingStock)) throw new Error(`meter shows ${meter}, API says ${sale.remainingStock}`);
      }
      return sale;
    },
    { timeout, what: 'the page to match the API', interval: 250 },
  );
}

/**
 * Holds the page's view of the sale at its current answer (as a shopper's
 * screen is, for up to a second or two), so a purchase can race the real
 * server's state. The purchase itself still goes to the real API.
 */
export async function freezeSaleView(page: Page): Promise<() => Promise<void>> {
  const pattern = '**/api/v1/flash-sales/current';
  const frozen = await (await page.request.get('/api/v1/flash-sales/current')).text();
  const handler = (route: Route) => route.fulfill({ status: 200, contentType: 'application/json', body: frozen });
  await page.route(pattern, handler);
  return () => page.unroute(pattern, handler);
}
