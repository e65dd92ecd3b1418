import { describe, expect, it } from 'vitest';
import { formatValue, lineChart, niceTicks } from './chart.js';
import { KEY_PANELS, keyPanelQueries, legendName, reportHtml } from './pictures.js';

describe('the run report’s charts', () => {
  it('choose round axis steps that cover the largest value', () => {
    expect(niceTicks(97)).toEqual([0, 50, 100]);
    expect(niceTicks(0.0042)).toEqual([0, 0.002, 0.004, 0.006]);
    expect(niceTicks(0)).toEqual([0, 1]);
  });

  it('write values in the unit of the series', () => {
    expect(formatValue(0.0123, 'seconds')).toBe('12.3 ms');
    expect(formatValue(2.5, 'seconds')).toBe('2.5 s');
    expect(formatValue(12_500, 'per-second')).toBe('12.5k/s');
    expect(formatValue(300, 'count')).toBe('300');
  });

  it('draw each series as a line, broken where Prometheus had no value', () => {
    const svg = lineChart({
      title: 'Reconcile lag p50 / p99',
      unit: 'seconds',
      series: [{ name: 'p99', points: [[0, 0.1], [5, 0.2], [10, Number.NaN], [15, 0.3], [20, 0.1]] }],
    });
    expect(svg.match(/<polyline/g)).toHaveLength(2);
    expect(svg).toContain('■ p99');
  });

  it('say so when a chart has no data instead of drawing empty axes', () => {
    expect(lineChart({ title: 'Remaining stock', unit: 'count', series: [] })).toContain('no data in this run');
  });
});

describe('the key series', () => {
  it('are panels that exist on the Grafana dashboards, so a renamed panel fails here', () => {
    const panels = keyPanelQueries();
    expect(panels.map((p) => p.panel)).toEqual(KEY_PANELS.map((p) => p.panel));
    for (const panel of panels) expect(panel.queries.length).toBeGreaterThan(0);
  });

  it('are named as Grafana names them, from the legend template', () => {
    expect(legendName('{{outcome}}', { outcome: 'confirmed' })).toBe('confirmed');
    expect(legendName('p99', {})).toBe('p99');
    expect(legendName(undefined, { instance: 'a:1' })).toBe('instance=a:1');
  });

  it('sit in a page with the run’s summary, escaped', () => {
    const html = reportHtml({ title: 'herd <smoke>', summary: '201: 10 & 409: 0', charts: [] });
    expect(html).toContain('herd &#60;smoke&#62;');
    expect(html).toContain('201: 10 &#38; 409: 0');
  });
});

describe('a chart’s legend', () => {
  it('wraps onto more lines instead of running over the title or off the chart', () => {
    const names = ['already_purchased', 'confirmed', 'rate_limited', 'sale_not_active', 'shed', 'sold_out', 'unavailable', 'unreplicated'];
    const svg = lineChart({ title: 'Purchase outcomes / s by reason', unit: 'per-second', series: names.map((name) => ({ name, points: [[0, 1], [1, 2]] })) });
    const rows = new Set([...svg.matchAll(/<text x="[\d.]+" y="(\d+)" fill="#[0-9a-f]{6}">■/g)].map((m) => m[1]));
    expect(rows.size).toBeGreaterThan(1);
    for (const [, x] of svg.matchAll(/<text x="([\d.]+)" y="\d+" fill="#[0-9a-f]{6}">■/g)) expect(Number(x)).toBeLessThan(560);
  });
});
