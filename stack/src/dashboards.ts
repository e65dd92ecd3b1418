/** Every query of every Grafana dashboard (observability/grafana/dashboards), with the panel it belongs to. */
import { readdirSync, readFileSync } from 'node:fs';

const DASHBOARDS = new URL('../../observability/grafana/dashboards/', import.meta.url);

interface Panel {
  title?: string;
  targets?: { expr?: string }[];
  panels?: Panel[];
}

export function dashboardQueries(): { where: string; expr: string }[] {
  const queries: { where: string; expr: string }[] = [];
  const visit = (file: string, panels: Panel[] = []) => {
    for (const panel of panels) {
      for (const target of panel.targets ?? []) if (target.expr) queries.push({ where: `${file} › ${panel.title}`, expr: target.expr });
      visit(file, panel.panels);
    }
  };
  for (const file of readdirSync(DASHBOARDS).filter((name) => name.endsWith('.json'))) {
    visit(file, (JSON.parse(readFileSync(new URL(file, DASHBOARDS), 'utf8')) as { panels?: Panel[] }).panels);
  }
  return queries;
}
