/**
 * A line chart as a self-contained SVG: what the run report draws its key
 * series with. Pure, so it is unit-tested, and needs no charting library.
 */

export interface Series {
  name: string;
  /** [unix seconds, value], in time order; NaN values (Prometheus's "NaN", an empty histogram) are gaps. */
  points: [number, number][];
}

export interface ChartSpec {
  title: string;
  /** How a value on the y axis is written: '/s', 'ms', 'units'. */
  unit: 'per-second' | 'seconds' | 'count';
  series: Series[];
  /** The time axis, in unix seconds; by default the span of the points. Charts of one run share it. */
  range?: { from: number; to: number };
  width?: number;
  height?: number;
}

const PALETTE = ['#2563eb', '#dc2626', '#16a34a', '#d97706', '#7c3aed', '#0891b2', '#db2777', '#4b5563'];
const MARGIN = { right: 16, bottom: 28, left: 64 };
const LEGEND_LINE = 14;
/** About how wide a legend entry is: sans-serif at 11 px. */
const legendWidth = (name: string) => 18 + name.length * 6.2;

const escapeXml = (text: string) => text.replace(/[<>&"']/g, (c) => `&#${c.charCodeAt(0)};`);

/** Round, human steps (1, 2, 5 × 10^n) for an axis from 0 to at least `max`. */
export function niceTicks(max: number, count = 4): number[] {
  if (!(max > 0)) return [0, 1];
  const rough = max / count;
  const magnitude = 10 ** Math.floor(Math.log10(rough));
  const step = [1, 2, 5, 10].map((m) => m * magnitude).find((candidate) => candidate >= rough)!;
  const ticks: number[] = [];
  for (let tick = 0; tick < max + step / 2; tick += step) ticks.push(Number(tick.toPrecision(12)));
  if (ticks.at(-1)! < max) ticks.push(Number((ticks.at(-1)! + step).toPrecision(12)));
  return ticks;
}

export function formatValue(value: number, unit: ChartSpec['unit']): string {
  if (unit === 'seconds') return value >= 1 ? `${Number(value.toPrecision(3))} s` : `${Number((value * 1000).toPrecision(3))} ms`;
  const text = Math.abs(value) >= 1000 ? `${Number((value / 1000).toPrecision(3))}k` : `${Number(value.toPrecision(3))}`;
  return unit === 'per-second' ? `${text}/s` : text;
}

/** The chart; a chart with no data at all says so instead of drawing empty axes. */
/** Legend entries laid out in lines under the title, wrapping at the chart's width. */
function legendLayout(names: string[], width: number): { name: string; x: number; line: number }[] {
  const placed: { name: string; x: number; line: number }[] = [];
  let x = MARGIN.left;
  let line = 0;
  for (const name of names) {
    if (x > MARGIN.left && x + legendWidth(name) > width - MARGIN.right) [x, line] = [MARGIN.left, line + 1];
    placed.push({ name, x, line });
    x += legendWidth(name);
  }
  return placed;
}

export function lineChart({ title, unit, series, range, width = 560, height = 240 }: ChartSpec): string {
  const legend = legendLayout(series.map((s) => s.name), width);
  const top = 24 + (legend.length ? (legend.at(-1)!.line + 1) * LEGEND_LINE : 0);
  const plot = { width: width - MARGIN.left - MARGIN.right, height: height - top - MARGIN.bottom };
  const points = series.flatMap((s) => s.points.filter(([, v]) => Number.isFinite(v)));
  const header = `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" role="img" aria-label="${escapeXml(title)}" font-family="sans-serif" font-size="11">`;
  const titleText = `<text x="${MARGIN.left}" y="16" font-size="13" font-weight="bold">${escapeXml(title)}</text>`;
  if (points.length === 0) {
    return `${header}${titleText}<text x="${width / 2}" y="${height / 2}" text-anchor="middle" fill="#6b7280">no data in this run</text></svg>`;
  }
  const times = points.map(([t]) => t);
  const { from, to } = range ?? { from: Math.min(...times), to: Math.max(...times) };
  const ticks = niceTicks(Math.max(...points.map(([, v]) => v)));
  const highest = ticks.at(-1)!;
  const x = (t: number) => MARGIN.left + (to === from ? plot.width / 2 : ((t - from) / (to - from)) * plot.width);
  const y = (v: number) => top + plot.height - (v / highest) * plot.height;

  const grid = ticks
    .map((tick) => `<line x1="${MARGIN.left}" x2="${MARGIN.left + plot.width}" y1="${y(tick)}" y2="${y(tick)}" stroke="#e5e7eb"/>` +
      `<text x="${MARGIN.left - 6}" y="${y(tick) + 4}" text-anchor="end" fill="#374151">${escapeXml(formatValue(tick, unit))}</text>`)
    .join('');
  const elapsed = [0, 0.5, 1]
    .map((share) => {
      const t = from + share * (to - from);
      return `<text x="${x(t)}" y="${height - 8}" text-anchor="middle" fill="#374151">${Math.round(t - from)} s</text>`;
    })
    .join('');
  const lines = series
    .map((s, index) => {
      // A gap (NaN) ends one polyline and starts the next.
      const runs: string[][] = [[]];
      for (const [t, v] of s.points) {
        if (Number.isFinite(v)) runs.at(-1)!.push(`${x(t).toFixed(1)},${y(v).toFixed(1)}`);
        else if (runs.at(-1)!.length) runs.push([]);
      }
      const colour = PALETTE[index % PALETTE.length];
      return runs
        .filter((run) => run.length)
        .map((run) => run.length === 1
          ? `<circle cx="${run[0]!.split(',')[0]}" cy="${run[0]!.split(',')[1]}" r="2" fill="${colour}"/>`
          : `<polyline fill="none" stroke="${colour}" stroke-width="1.5" points="${run.join(' ')}"/>`)
        .join('');
    })
    .join('');
  const legendText = legend
    .map(({ name, x: at, line }, index) => `<text x="${at}" y="${34 + line * LEGEND_LINE}" fill="${PALETTE[index % PALETTE.length]}">■ ${escapeXml(name)}</text>`)
    .join('');
  const axes = `<line x1="${MARGIN.left}" x2="${MARGIN.left}" y1="${top}" y2="${top + plot.height}" stroke="#9ca3af"/>` +
    `<line x1="${MARGIN.left}" x2="${MARGIN.left + plot.width}" y1="${top + plot.height}" y2="${top + plot.height}" stroke="#9ca3af"/>`;
  return `${header}${titleText}${legendText}${grid}${axes}${lines}${elapsed}</svg>`;
}
