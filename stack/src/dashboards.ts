/** Every query of every Grafana dashboard (observability/grafana/dashboards), with the panel it belongs to. */
import { readdirSync, readFileSync } from 'node:fs';

const DASHBOARDS = new URL('../../observability/grafana/dashboards/', import.meta.url);

interface Panel {
  title?: string;
  type?: string;
  targets?: { expr?: string; legendFormat?: string }[];
  panels?: Panel[];
}

export interface DashboardQuery {
  /** `<file> › <panel title>`, for messages. */
  where: string;
  file: string;
  panel: string;
  /** Grafana's panel type: timeseries, stat, … */
  type: string;
  expr: string;
  /** The series' name template (`{{label}}`), if the panel sets one. */
  legend: string | undefined;
}

export function dashboardQueries(): DashboardQuery[] {
  const queries: DashboardQuery[] = [];
  const visit = (file: string, panels: Panel[] = []) => {
    for (const panel of panels) {
      const title = panel.title ?? '';
      for (const target of panel.targets ?? []) {
        if (target.expr) {
          queries.push({ where: `${file} › ${title}`, file, panel: title, type: panel.type ?? '', expr: target.expr, legend: target.legendFormat });
        }
      }
      visit(file, panel.panels);
    }
  };
  for (const file of readdirSync(DASHBOARDS).filter((name) => name.endsWith('.json'))) {
    visit(file, (JSON.parse(readFileSync(new URL(file, DASHBOARDS), 'utf8')) as { panels?: Panel[] }).panels);
  }
  return queries;
}

/** A panel's query as Grafana sends it: its variables filled in (every route and instance). */
export function withGrafanaVariables(expr: string, { rateInterval, range }: { rateInterval: string; range: string }): string {
  return expr
    .replaceAll('$__rate_interval', rateInterval)
    .replaceAll('$__range', range)
    .replaceAll('$instance', '.*')
    .replaceAll('$route', '.*');
}
