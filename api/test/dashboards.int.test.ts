/**
 * Every panel of every Grafana dashboard shows data: after a little real
 * traffic (purchases, a sell-out, status polls), the stack's own Prometheus
 * answers each panel target's query with at least one series. A renamed
 * metric, label or job leaves a panel empty and fails here.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { dashboardQueries, withGrafanaVariables } from '../../stack/src/dashboards.js';
import { api, connectToStack, http, purchase, reconciled, testEnv } from './support.js';

const stack = connectToStack();
afterAll(() => stack.close());

/** What Grafana substitutes before it asks Prometheus: every variable at "All", a short window. */
const asGrafanaSends = (expr: string) => withGrafanaVariables(expr, { rateInterval: '1m', range: '5m' });

async function query(expr: string): Promise<unknown[]> {
  const url = new URL('/api/v1/query', testEnv.FLASH_PROMETHEUS_URL);
  url.searchParams.set('query', expr);
  const answer = (await (await fetch(url)).json()) as { status: string; error?: string; data?: { result: unknown[] } };
  if (answer.status !== 'success') throw new Error(`Prometheus refused ${expr}: ${answer.error}`);
  return answer.data!.result;
}

describe('the exporters, through the live Prometheus', () => {
  it.each([
    ['redis', 'redis_up', 6],
    ['postgres', 'pg_up', 1],
    ['nginx', 'nginx_up', 1],
  ])('%s: every target is scraped and reaches what it watches', { timeout: 60_000 }, async (job, subjectUp, targets) => {
    const upSeries = async (expr: string) => ((await query(expr)) as { value: [number, string] }[]).map((series) => series.value[1]);
    const givingUpAt = Date.now() + 45_000;
    let answer = { scraped: await upSeries(`up{job="${job}"}`), subject: await upSeries(subjectUp) };
    while ((answer.scraped.length < targets || answer.scraped.includes('0') || !answer.subject.every((v) => v === '1')) && Date.now() < givingUpAt) {
      await new Promise((resolve) => setTimeout(resolve, 2_000));
      answer = { scraped: await upSeries(`up{job="${job}"}`), subject: await upSeries(subjectUp) };
    }
    expect(answer.scraped).toEqual(Array(targets).fill('1'));
    expect(answer.subject.length).toBeGreaterThanOrEqual(1);
    expect(answer.subject.every((v) => v === '1')).toBe(true);
  });
});

describe('the Grafana dashboards, against the live Prometheus', () => {
  it('have data in every panel after a short sale', { timeout: 90_000 }, async () => {
    const queries = dashboardQueries();
    expect(queries.length).toBeGreaterThan(20);

    // A sale that sells out, a few refusals, and the page polling the status.
    await stack.createSale({ stock: 20 });
    for (let i = 0; i < 30; i += 1) expect([201, 409]).toContain((await purchase(`dashboards.${i}`)).status);
    for (let i = 0; i < 20; i += 1) await http('GET', api('/flash-sales/current'));
    await reconciled(stack);

    // Rates need two scrapes of the new counts (every 5 s): ask until every panel has a series, or 45 s pass.
    const emptyPanels = async () => {
      const empty: string[] = [];
      for (const { where, expr } of queries) if ((await query(asGrafanaSends(expr))).length === 0) empty.push(`${where}: ${expr}`);
      return empty;
    };
    const givingUpAt = Date.now() + 45_000;
    let empty = await emptyPanels();
    while (empty.length > 0 && Date.now() < givingUpAt) {
      await new Promise((resolve) => setTimeout(resolve, 2_000));
      empty = await emptyPanels();
    }
    expect(empty).toEqual([]);
  });
});
