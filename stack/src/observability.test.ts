/**
 * The dashboards, the alert rules and the services agree on metric names:
 * every metric a panel or a rule queries is one the API replicas or the
 * reconciler export (or Prometheus's own `up`, or redis_exporter's
 * `redis_*`). Renaming a metric in code without its queries fails here.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { createApiMetrics, createReconcilerMetrics, PURCHASE_OUTCOMES } from '../../api/src/platform/metrics.js';
import { dashboardQueries } from './dashboards.js';

const read = (path: string) => readFileSync(new URL(`../../${path}`, import.meta.url), 'utf8');

function alertQueries(): { where: string; expr: string }[] {
  const rules = parseYaml(read('observability/prometheus/alerts.yml')) as { groups: { rules: { alert: string; expr: string }[] }[] };
  return rules.groups.flatMap((group) => group.rules.map((rule) => ({ where: `alert ${rule.alert}`, expr: rule.expr })));
}

async function exportedNames(): Promise<Set<string>> {
  const names = new Set<string>(['up']);
  for (const { registry } of [createApiMetrics(), createReconcilerMetrics()]) {
    for (const metric of await registry.getMetricsAsJSON()) {
      names.add(metric.name);
      if (String(metric.type) === 'histogram') for (const suffix of ['_bucket', '_sum', '_count']) names.add(`${metric.name}${suffix}`);
    }
  }
  return names;
}

/** Metric names in a PromQL expression: identifiers followed by a selector, a range or the end of a term. */
const metricNames = (expr: string) =>
  [...expr.replace(/\$__\w+/g, '1m').matchAll(/\b((?:flashflow|nodejs|process|redis)_[a-z0-9_]+|up)\b(?=\s*(?:\{|\[|\)|$|\s*[<>=!]))/g)].map((m) => m[1]!);

describe('the dashboards and the alerts', () => {
  const queries = [...dashboardQueries(), ...alertQueries()];

  it('find queries to check', () => {
    expect(dashboardQueries().length).toBeGreaterThan(20);
    expect(alertQueries().length).toBeGreaterThanOrEqual(10);
  });

  it('query only metrics that the services export', async () => {
    const exported = await exportedNames();
    const unknown = queries.flatMap(({ where, expr }) =>
      metricNames(expr)
        .filter((name) => !name.startsWith('redis_') && !exported.has(name))
        .map((name) => `${where}: ${name}`),
    );
    expect(unknown).toEqual([]);
  });

  it('each query names at least one metric', () => {
    expect(queries.filter(({ expr }) => metricNames(expr).length === 0)).toEqual([]);
  });
});

describe('the purchase outcomes', () => {
  it('are each exported from zero, so a rate over a replica’s first minutes is defined', async () => {
    const outcomes = (await createApiMetrics().registry.getSingleMetricAsString('flashflow_purchase_outcomes_total'))
      .split('\n')
      .filter((line) => line.startsWith('flashflow_purchase_outcomes_total{'));
    expect(outcomes).toEqual(PURCHASE_OUTCOMES.map((outcome) => `flashflow_purchase_outcomes_total{outcome="${outcome}"} 0`));
  });

  it('are each explained in docs/metrics.md', () => {
    const row = read('docs/metrics.md').split('\n').find((line) => line.startsWith('| `flashflow_purchase_outcomes_total`'))!;
    expect(PURCHASE_OUTCOMES.filter((outcome) => !row.includes(`\`${outcome}\``))).toEqual([]);
  });
});
