/**
 * nginx as the shield (issue 6): rate limits answer in the API's shape, the
 * status micro-cache absorbs polling without going stale, purchases are never
 * cached, a dead replica is routed around, and headers are where they belong.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { api, connectToStack, http, purchase, servicePid, shopperAddress, testEnv, waitFor } from './support.js';

const stack = connectToStack();
afterAll(() => stack.close());

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function expectRateLimited(answer: Awaited<ReturnType<typeof http>>) {
  expect(answer.status).toBe(429);
  expect(answer.headers['retry-after']).toMatch(/^\d+$/);
  expect(answer.json()).toMatchObject({
    status: 'error',
    code: 429,
    error: { code: 'RATE_LIMITED', correlationId: answer.headers['x-request-id'] },
  });
}

describe('rate limits', () => {
  it('turn away one address that floods purchases with 429 RATE_LIMITED, and nobody else', async () => {
    await stack.createSale({ stock: 1_000 });
    const flooder = shopperAddress(200_000);
    const answers = await Promise.all(
      Array.from({ length: 60 }, (_, i) => purchase(`flood-${i}`, flooder)),
    );
    const limited = answers.filter((a) => a.status === 429);
    expect(limited.length).toBeGreaterThan(0);
    expectRateLimited(limited[0]!);
    // Within the burst the same address was served.
    expect(answers.filter((a) => a.status === 201).length).toBeGreaterThanOrEqual(20);
    // Another shopper at the same moment is not limited.
    expect((await purchase('bystander', shopperAddress(200_001))).status).toBe(201);
  });

  it('limit one buyer hammering from many addresses in the API (per-buyer, in Redis)', async () => {
    await stack.createSale({ stock: 10, startsInMs: 3_600_000 }); // not started: every try is a rejection
    const answers: Awaited<ReturnType<typeof http>>[] = [];
    for (let i = 0; i < 12; i += 1) answers.push(await purchase('hammer@example.com', shopperAddress(210_000 + i)));
    expect(answers.slice(0, 10).map((a) => a.json().error.code)).toEqual(Array(10).fill('SALE_NOT_ACTIVE'));
    for (const answer of answers.slice(10)) expectRateLimited(answer);
  });
});

describe('the status micro-cache', () => {
  async function apiStatusRequests(): Promise<number> {
    let total = 0;
    for (const base of testEnv.FLASH_API_URLS) {
      const metrics = (await http('GET', `${base}/metrics`).catch(() => null))?.body ?? '';
      for (const line of metrics.split('\n')) {
        if (line.startsWith('flashflow_http_requests_total{') && line.includes('route="/api/v1/flash-sales/current"')) {
          total += Number(line.split(' ').pop());
        }
      }
    }
    return total;
  }

  it('lets only a few requests a second reach the API at 2,000 per second, about 2 s stale at most', async () => {
    const sale = await stack.createSale({ stock: 1_000 });
    await sleep(2_100); // let the previous sale's cached status expire
    const before = await apiStatusRequests();
    // When the truth stopped being each value: remaining stock v was true until changedAt[v].
    const changedAt = new Map<number, number>();
    let maxStalenessMs = 0;
    let sent = 0;
    let bought = 0;
    const started = Date.now();
    while (Date.now() - started < 4_000) {
      const tick = Date.now();
      // Truth changes while the storm goes on: one purchase per tick.
      const remainingBefore = (await stack.store.snapshot(sale.id))!.remaining;
      if ((await purchase(`storm-buyer-${bought}`)).status === 201) {
        bought += 1;
        changedAt.set(remainingBefore, Date.now());
      }
      // 100 shoppers every 50 ms: 2,000 status requests per second.
      const answers = await Promise.all(
        Array.from({ length: 100 }, (_, i) => http('GET', api('/flash-sales/current'), { from: shopperAddress(300_000 + i) })),
      );
      const received = Date.now();
      sent += answers.length;
      for (const answer of answers) {
        expect(answer.status).toBe(200);
        const stoppedBeingTrue = changedAt.get(answer.json().data.remainingStock as number);
        if (stoppedBeingTrue !== undefined) maxStalenessMs = Math.max(maxStalenessMs, received - stoppedBeingTrue);
      }
      await sleep(Math.max(0, 50 - (Date.now() - tick)));
    }
    const elapsedS = (Date.now() - started) / 1_000;
    const reachedApiPerS = ((await apiStatusRequests()) - before) / elapsedS;
    console.info(
      `status storm: ${(sent / elapsedS).toFixed(0)} req/s through nginx, ${reachedApiPerS.toFixed(1)} req/s reached the API, ` +
        `oldest answer ${maxStalenessMs} ms behind the truth`,
    );
    expect(sent / elapsedS).toBeGreaterThan(500);
    expect(bought).toBeGreaterThan(10);
    expect(reachedApiPerS).toBeLessThanOrEqual(5);
    // nginx keeps cache times in whole seconds, so "about two seconds" is up to 2.5 s here.
    expect(maxStalenessMs).toBeLessThan(2_500);
  });
});

describe('purchases are never cached', () => {
  it('gives two buyers in the same second their own answers', async () => {
    await stack.createSale({ stock: 10 });
    const [first, second] = await Promise.all([purchase('own.answer.1'), purchase('own.answer.2')]);
    expect(first!.status).toBe(201);
    expect(second!.status).toBe(201);
    expect(first!.json().data.userId).toBe('own.answer.1');
    expect(second!.json().data.userId).toBe('own.answer.2');
    expect(first!.json().data.purchaseId).not.toBe(second!.json().data.purchaseId);
    expect(first!.headers['x-cache-status']).toBeUndefined();
  });
});

describe('headers', () => {
  const securityHeaders = {
    'x-content-type-options': 'nosniff',
    'referrer-policy': 'no-referrer',
    'x-frame-options': 'DENY',
  };

  it('mark the page shell no-cache and hashed assets immutable, with security headers on both', async () => {
    const shell = await http('GET', testEnv.FLASH_BASE_URL + '/');
    expect(shell.status).toBe(200);
    expect(shell.headers).toMatchObject({ ...securityHeaders, 'cache-control': 'no-cache' });
    expect(shell.headers['content-security-policy']).toContain("frame-ancestors 'none'");

    const asset = shell.body.match(/\/assets\/[^"]+\.js/)?.[0];
    expect(asset).toBeDefined();
    const script = await http('GET', testEnv.FLASH_BASE_URL + asset, { headers: { 'accept-encoding': 'gzip' } });
    expect(script.status).toBe(200);
    expect(script.headers).toMatchObject({
      ...securityHeaders,
      'cache-control': 'public, max-age=31536000, immutable',
      'content-encoding': 'gzip',
    });
  });

  it('let the status be cached for a second and purchases never', async () => {
    const status = await http('GET', api('/flash-sales/current'));
    expect(status.headers['cache-control']).toBe('public, max-age=1, stale-while-revalidate=1, stale-if-error=5');
    expect(status.headers['x-cache-status']).toMatch(/HIT|MISS|EXPIRED|UPDATING|STALE/);
    const bought = await purchase('header.check');
    expect(bought.headers['cache-control']).toBe('no-store');
    expect(bought.headers).toMatchObject(securityHeaders);
  });
});

describe('a replica killed mid-run', () => {
  it('is routed around; requests on the other replicas are unaffected', async () => {
    await stack.createSale({ stock: 100_000 });
    const victimPort = new URL(testEnv.FLASH_API_URLS[1]!).port;
    const victimPid = servicePid(`api-${victimPort}`);

    let shopper = 400_000;
    const wave = () =>
      Promise.all(Array.from({ length: 50 }, () => {
        const id = shopper++;
        return purchase(`survivor-${id}`, shopperAddress(id));
      }));

    const during = wave();
    await sleep(5);
    process.kill(victimPid, 'SIGKILL');
    const duringAnswers = await during;
    // Only requests that were inside the killed replica can fail, and they fail cleanly.
    for (const answer of duringAnswers) expect([201, 503]).toContain(answer.status);

    const after = (await wave()).concat(await wave());
    expect(after.map((a) => a.status)).toEqual(Array(after.length).fill(201));

    // The stack's supervisor restarts it, as an orchestrator would, and nginx takes it back.
    await waitFor(
      async () => (await http('GET', `${testEnv.FLASH_API_URLS[1]}/readyz`).catch(() => null))?.status === 200,
      15_000,
      'the replica to be restarted',
    );
  });
});
