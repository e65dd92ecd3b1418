/**
 * One scenario over N k6 processes (`npm run loadtest -- --instances N`), the
 * pure parts: how the test is cut (k6 execution segments, as k6-operator
 * distributes a test), which loopback addresses and buyer ids each process
 * gets, and how their results become one summary again. No I/O here: the
 * harness (harness.ts) starts the processes and reads their files.
 *
 * Why raw samples: a percentile of the union is not any mix of the parts'
 * percentiles (the p99 of two halves says nothing exact about the p99 of the
 * whole), so every process also writes k6's JSON output (each sample as it
 * happened), and every trend is computed again over the union of those samples,
 * the way k6 computes it for one process (linear interpolation between the two
 * nearest ranks, TrendSink.P). Counters and rates add up exactly from the
 * parts' summaries (counts, passes and fails). The thresholds are the script's
 * own, evaluated once over the merged metrics: each process's verdict would be
 * about its share only (a "count>=800 arrivals" threshold fails on each half of
 * a 1,000-arrival herd), so the processes run with --no-thresholds.
 */

/** Enough for any machine this runs on; each process still needs its own addresses and VUs. */
export const MAX_INSTANCES = 64;

// ------------------------------------------------------------- segments

const gcd = (a: number, b: number): number => (b === 0 ? a : gcd(b, a % b));

/** i/n as k6 writes a rational: 0, 1, or a reduced fraction. */
function fraction(i: number, n: number): string {
  if (i === 0) return '0';
  if (i === n) return '1';
  const d = gcd(i, n);
  return `${i / d}/${n / d}`;
}

export interface ExecutionSegments {
  /** --execution-segment-sequence, the same for every process: "0,1/3,2/3,1". */
  sequence: string;
  /** --execution-segment of process i: "0:1/3", "1/3:2/3", "2/3:1". */
  segments: string[];
}

/** N equal execution segments covering the whole test. */
export function executionSegments(n: number): ExecutionSegments {
  if (!Number.isInteger(n) || n < 1) throw new Error(`cannot cut a test into ${n} segments`);
  const points = Array.from({ length: n + 1 }, (_, i) => fraction(i, n));
  return { sequence: points.join(','), segments: points.slice(0, -1).map((from, i) => `${from}:${points[i + 1]}`) };
}

// ------------------------------------------------------------ addresses

function ipToNumber(ip: string): number {
  const parts = ip.trim().split('.');
  if (parts.length !== 4 || parts.some((p) => !/^\d{1,3}$/.test(p) || Number(p) > 255)) throw new Error(`not an IPv4 address: "${ip}"`);
  return parts.reduce((n, p) => n * 256 + Number(p), 0);
}

const numberToIp = (n: number) => [24, 16, 8, 0].map((shift) => Math.floor(n / 2 ** shift) % 256).join('.');

/**
 * Cuts a --local-ips range ("127.24.0.1-127.24.255.254", or one address) into
 * n contiguous ranges that share no address. k6 gives its i-th VU the i-th
 * address of its own list (counting VUs per process), so two processes given
 * the same range would send their first shoppers from the same addresses.
 */
export function splitAddressRange(range: string, n: number): string[] {
  const ends = range.split('-');
  if (ends.length > 2 || range.includes(',') || range.includes('/')) {
    throw new Error(`only a single "from-to" address range can be split, got "${range}"`);
  }
  const from = ipToNumber(ends[0]!);
  const to = ipToNumber(ends[1] ?? ends[0]!);
  const count = to - from + 1;
  if (count < n) throw new Error(`${range} has ${Math.max(count, 0)} addresses: too few for ${n} k6 instances`);
  return Array.from({ length: n }, (_, i) => {
    const start = from + Math.floor((i * count) / n);
    const end = from + Math.floor(((i + 1) * count) / n) - 1;
    return `${numberToIp(start)}-${numberToIp(end)}`;
  });
}

/**
 * K6_INSTANCE of process i of n: the prefix of every buyer id it makes
 * (lib/flash.js buyerId: <instance>-<scenario>-<vu>[-<iteration>]). One
 * process keeps the prefix it is given; several each get their own, so no two
 * processes can make the same buyer id whatever their VU numbers.
 */
export function instanceName(base: string, i: number, n: number): string {
  return n === 1 ? base : `${base}-${i + 1}of${n}`;
}

/** Buyer ids that more than one process used (their sets must not overlap). */
export function sharedBuyerIds(buyersByInstance: Iterable<string>[]): string[] {
  const owner = new Map<string, number>();
  const shared = new Set<string>();
  buyersByInstance.forEach((buyers, i) => {
    for (const id of buyers) {
      const seen = owner.get(id);
      if (seen === undefined) owner.set(id, i);
      else if (seen !== i) shared.add(id);
    }
  });
  return [...shared];
}

// ------------------------------------------------------------- summaries

export interface SummaryMetric {
  type: string;
  contains?: string;
  values: Record<string, number>;
  thresholds?: Record<string, { ok: boolean }>;
}

/** What handleSummary receives (and lib/flash.js writes as <scenario>.summary.json), as far as we read it. */
export interface K6Summary {
  state?: { testRunDurationMs?: number };
  options?: { summaryTrendStats?: string[] };
  metrics: Record<string, SummaryMetric>;
}

/** k6's percentile (TrendSink.P): linear between the two nearest ranks; q in 0…1, values sorted ascending. */
export function k6Percentile(sorted: ArrayLike<number>, q: number): number {
  const count = sorted.length;
  if (count === 0) return 0;
  if (count === 1) return sorted[0]!;
  const i = q * (count - 1);
  const below = sorted[Math.floor(i)]!;
  const above = sorted[Math.ceil(i)]!;
  return below + (above - below) * (i - Math.floor(i));
}

function trendValue(sorted: Float64Array, stat: string): number {
  if (sorted.length === 0) return 0;
  if (stat === 'min') return sorted[0]!;
  if (stat === 'max') return sorted[sorted.length - 1]!;
  if (stat === 'count') return sorted.length;
  if (stat === 'avg') return sorted.reduce((sum, v) => sum + v, 0) / sorted.length;
  if (stat === 'med') return k6Percentile(sorted, 0.5);
  const p = /^p\((\d+(?:\.\d+)?)\)$/.exec(stat);
  if (p) return k6Percentile(sorted, Number(p[1]) / 100);
  throw new Error(`unknown trend statistic "${stat}"`);
}

/** A trend's summary values (summaryTrendStats: avg, min, med, max, p(95)…) over the given samples. */
export function trendValues(samples: number[], stats: string[]): Record<string, number> {
  const sorted = Float64Array.from(samples).sort();
  return Object.fromEntries(stats.map((stat) => [stat, trendValue(sorted, stat)]));
}

/** "http_req_duration{name:purchase,method:POST}" → the metric and the tags a sample must carry (k6's ParseMetricName). */
export function parseMetricKey(key: string): { metric: string; tags: Record<string, string> } {
  const open = key.indexOf('{');
  if (open < 0) return { metric: key, tags: {} };
  if (!key.endsWith('}')) throw new Error(`malformed metric name "${key}"`);
  const tags: Record<string, string> = {};
  for (const pair of key.slice(open + 1, -1).split(',')) {
    const colon = pair.indexOf(':');
    if (colon < 0) throw new Error(`malformed tag "${pair}" in "${key}"`);
    tags[pair.slice(0, colon).trim()] = pair.slice(colon + 1).trim().replace(/^["']+|["']+$/g, '');
  }
  return { metric: key.slice(0, open), tags };
}

/**
 * Collects the samples of some trends (metrics and submetrics, by summary key)
 * from k6's JSON output, one line at a time:
 *   {"metric":"http_req_duration","type":"Point","data":{"time":…,"value":12.3,"tags":{"name":"purchase",…}}}
 */
export class TrendSamples {
  private readonly wanted = new Map<string, { key: string; tags: [string, string][] }[]>();
  private readonly samples = new Map<string, number[]>();

  constructor(keys: Iterable<string>) {
    for (const key of keys) {
      const { metric, tags } = parseMetricKey(key);
      const list = this.wanted.get(metric) ?? [];
      list.push({ key, tags: Object.entries(tags) });
      this.wanted.set(metric, list);
      this.samples.set(key, []);
    }
  }

  addLine(line: string): void {
    if (!line.includes('"type":"Point"')) return;
    const name = /"metric":"([^"]*)"/.exec(line)?.[1];
    const filters = name === undefined ? undefined : this.wanted.get(name);
    if (!filters) return;
    const point = JSON.parse(line) as { data: { value: number; tags?: Record<string, string> | null } };
    const tags = point.data.tags ?? {};
    for (const { key, tags: required } of filters) {
      if (required.every(([tag, value]) => tags[tag] === value)) this.samples.get(key)!.push(point.data.value);
    }
  }

  get(key: string): number[] | undefined {
    return this.samples.get(key);
  }
}

// ------------------------------------------------------------ thresholds

/** "p(99)<2000" → aggregation, operator, value (k6's grammar: aggregation whitespace* operator whitespace* float). */
export function parseThreshold(expression: string): { aggregation: string; operator: string; value: number } {
  const match = /^\s*(count|rate|value|avg|min|med|max|p\(\d+(?:\.\d+)?\))\s*(===|==|!=|<=|>=|<|>)\s*(-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?)\s*$/.exec(
    expression,
  );
  if (!match) throw new Error(`cannot read the threshold "${expression}"`);
  return { aggregation: match[1]!, operator: match[2]!, value: Number(match[3]) };
}

function compare(left: number, operator: string, right: number): boolean {
  switch (operator) {
    case '<':
      return left < right;
    case '<=':
      return left <= right;
    case '>':
      return left > right;
    case '>=':
      return left >= right;
    case '!=':
      return left !== right;
    default:
      return left === right; // == and ===
  }
}

/**
 * The value a threshold's aggregation takes on a merged metric, as k6's
 * Thresholds.Run defines it; a metric nobody emitted counts as empty (0), as
 * k6 evaluates it at the end of a test.
 */
function aggregate(metric: SummaryMetric | undefined, samples: number[] | undefined, aggregation: string): number {
  if (!metric) return 0;
  if (metric.type === 'trend') {
    if (!samples) throw new Error('no raw samples');
    return trendValues(samples, [aggregation])[aggregation]!;
  }
  const available: Record<string, string[]> = { counter: ['count', 'rate'], rate: ['rate'], gauge: ['value'] };
  if (!available[metric.type]?.includes(aggregation)) throw new Error(`a ${metric.type} has no ${aggregation}`);
  return metric.values[aggregation] ?? 0;
}

// ---------------------------------------------------------------- merging

export const DEFAULT_TREND_STATS = ['avg', 'min', 'med', 'max', 'p(90)', 'p(95)'];

/**
 * One summary from the summaries of processes that ran at the same time:
 *   counters   count = Σ count, rate = count / the longest run;
 *   rates      passes = Σ, fails = Σ, rate = passes / (passes + fails);
 *   gauges     Σ of each value (vus_max: the VUs of all processes; a peak is an upper bound);
 *   trends     every statistic again over the union of the raw samples (`samples`), never from the parts' values;
 * then every threshold (the script's, from `k6 inspect`) evaluated over the result.
 */
export function mergeSummaries(
  parts: K6Summary[],
  samples: (key: string) => number[] | undefined,
  thresholds: Record<string, string[]>,
): K6Summary {
  if (parts.length === 0) throw new Error('no summaries to merge');
  const durationMs = Math.max(...parts.map((p) => p.state?.testRunDurationMs ?? 0));
  const trendStats = parts[0]!.options?.summaryTrendStats ?? DEFAULT_TREND_STATS;
  const keys = new Set(parts.flatMap((p) => Object.keys(p.metrics)));
  const metrics: Record<string, SummaryMetric> = {};

  for (const key of keys) {
    const present = parts.map((p) => p.metrics[key]).filter((m): m is SummaryMetric => m !== undefined);
    const { type, contains } = present[0]!;
    const sum = (value: string) => present.reduce((total, m) => total + (m.values[value] ?? 0), 0);
    let values: Record<string, number>;
    if (type === 'counter') {
      const count = sum('count');
      values = { count, rate: durationMs > 0 ? count / (durationMs / 1000) : 0 };
    } else if (type === 'rate') {
      const passes = sum('passes');
      const fails = sum('fails');
      values = { rate: passes + fails > 0 ? passes / (passes + fails) : 0, passes, fails };
    } else if (type === 'gauge') {
      values = Object.fromEntries(Object.keys(present[0]!.values).map((v) => [v, sum(v)]));
    } else if (type === 'trend') {
      const raw = samples(key);
      if (!raw) throw new Error(`no raw samples of ${key}: its percentiles cannot be merged`);
      values = trendValues(raw, trendStats);
      // The union must hold exactly the samples the parts summarised: same extremes.
      const min = Math.min(...present.map((m) => m.values.min ?? Infinity));
      const max = Math.max(...present.map((m) => m.values.max ?? -Infinity));
      const merged = trendValues(raw, ['min', 'max']);
      if (raw.length === 0 || merged.min !== min || merged.max !== max) {
        throw new Error(`the raw samples of ${key} (${raw.length}, ${merged.min}…${merged.max}) are not what k6 summarised (${min}…${max})`);
      }
    } else {
      throw new Error(`unknown metric type "${type}" of ${key}`);
    }
    metrics[key] = { type, ...(contains === undefined ? {} : { contains }), values };
  }

  for (const [key, expressions] of Object.entries(thresholds)) {
    const results: Record<string, { ok: boolean }> = {};
    for (const expression of expressions) {
      const { aggregation, operator, value } = parseThreshold(expression);
      let ok: boolean;
      try {
        ok = compare(aggregate(metrics[key], samples(key), aggregation), operator, value);
      } catch {
        ok = false; // a threshold that cannot be evaluated over the union has not passed
      }
      results[expression] = { ok };
    }
    // A threshold on a metric no process emitted (dropped_iterations when none were dropped) was evaluated as empty.
    metrics[key] = { ...(metrics[key] ?? { type: 'counter', values: { count: 0, rate: 0 } }), thresholds: results };
  }

  return { state: { testRunDurationMs: durationMs }, options: { summaryTrendStats: trendStats }, metrics };
}

/** The thresholds of `k6 inspect`'s options: each expression as a string, whether given as text or as {threshold, abortOnFail}. */
export function inspectedThresholds(options: unknown): Record<string, string[]> {
  const raw = (options as { thresholds?: Record<string, unknown[]> | null } | null)?.thresholds ?? {};
  return Object.fromEntries(
    Object.entries(raw).map(([key, list]) => [
      key,
      (list ?? []).map((t) => (typeof t === 'string' ? t : String((t as { threshold?: unknown }).threshold))),
    ]),
  );
}
