/**
 * The dashboards, the alert rules and the services agree on metric names:
 * every metric a panel or a rule queries is one the API replicas or the
 * reconciler export (or Prometheus's own `up`, or redis_exporter's
 * `redis_*`). Renaming a metric in code without its queries fails here.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { createApiMetrics, createReconcilerMetrics } from '../../api/src/platform/metrics.js';

const read = (path: string) => readFileSync(new URL(`../../${path}`, import.meta.url), 'utf8');
const DASHBOARDS = 'observability/grafana/dashboards';

/** Every `expr` of every panel target, with where it comes from. */
function panelQueries(): { where: string; expr: string }[] {
  type Panel = { title?: string; targets?: { expr?: string }[]; panels?: Panel[] };
  const queries: { where: string; expr: string }[] = [];
  const visit = (file: string, panels: Panel[] = []) => {
    for (const panel of panels) {
      for (const target of panel.targets ?? []) if (target.expr) queries.push({ where: `${file} › ${panel.title}`, expr: target.expr });
      visit(file, panel.panels);
    }
  };
  for (const file of readdirSync(new URL(`../../${DASHBOARDS}`, import.meta.url)).filter((f) => f.endsWith('.json'))) {
    visit(file, (JSON.parse(read(`${DASHBOARDS}/${file}`)) as { panels?: Panel[] }).panels);
  }
  return queries;
}

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
  const queries = [...panelQueries(), ...alertQueries()];

  it('find queries to check', () => {
    expect(panelQueries().length).toBeGreaterThan(20);
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
