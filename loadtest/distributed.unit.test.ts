import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseLoadtestArgs } from './args.js';
import {
  TrendSamples,
  executionSegments,
  inspectedThresholds,
  instanceName,
  k6Percentile,
  mergeSummaries,
  parseMetricKey,
  parseThreshold,
  sharedBuyerIds,
  splitAddressRange,
  trendValues,
  type K6Summary,
} from './distributed.js';

const ipNumber = (ip: string) => ip.split('.').reduce((n, p) => n * 256 + Number(p), 0);

describe('cutting a scenario into k6 execution segments', () => {
  it('gives one process the whole test and n processes equal, contiguous shares', () => {
    expect(executionSegments(1)).toEqual({ sequence: '0,1', segments: ['0:1'] });
    expect(executionSegments(2)).toEqual({ sequence: '0,1/2,1', segments: ['0:1/2', '1/2:1'] });
    expect(executionSegments(4)).toEqual({ sequence: '0,1/4,1/2,3/4,1', segments: ['0:1/4', '1/4:1/2', '1/2:3/4', '3/4:1'] });
    expect(() => executionSegments(0)).toThrow();
  });

  it('ends each segment where the next begins, from 0 to 1, for every n up to 64', () => {
    for (let n = 1; n <= 64; n += 1) {
      const { sequence, segments } = executionSegments(n);
      expect(sequence.split(',')).toHaveLength(n + 1);
      expect(segments[0]!.startsWith('0:')).toBe(true);
      expect(segments.at(-1)!.endsWith(':1')).toBe(true);
      segments.slice(1).forEach((segment, i) => expect(segment.split(':')[0]).toBe(segments[i]!.split(':')[1]));
    }
  });
});

describe("each process's source addresses and buyer ids", () => {
  it('cuts the loopback range into ranges that share no address and cover it all', () => {
    expect(splitAddressRange('127.24.0.1-127.24.255.254', 1)).toEqual(['127.24.0.1-127.24.255.254']);
    expect(splitAddressRange('127.24.0.1-127.24.255.254', 2)).toEqual(['127.24.0.1-127.24.127.255', '127.24.128.0-127.24.255.254']);
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 64 }), fc.integer({ min: 0, max: 2000 }), (n, extra) => {
        const from = ipNumber('127.21.0.1');
        const to = from + n + extra - 1;
        const last = [24, 16, 8, 0].map((s) => Math.floor(to / 2 ** s) % 256).join('.');
        const ranges = splitAddressRange(`127.21.0.1-${last}`, n).map((r) => r.split('-').map(ipNumber) as [number, number]);
        expect(ranges).toHaveLength(n);
        expect(ranges[0]![0]).toBe(from);
        expect(ranges.at(-1)![1]).toBe(to);
        ranges.forEach(([start, end], i) => {
          expect(end).toBeGreaterThanOrEqual(start);
          if (i > 0) expect(start).toBe(ranges[i - 1]![1] + 1);
        });
      }),
    );
  });

  it('refuses what it cannot cut: too few addresses, lists, CIDR blocks', () => {
    expect(() => splitAddressRange('127.24.0.1-127.24.0.2', 3)).toThrow(/too few for 3/);
    expect(() => splitAddressRange('127.24.0.1,127.24.0.2', 2)).toThrow(/single/);
    expect(() => splitAddressRange('127.24.0.0/16', 2)).toThrow(/single/);
    expect(() => splitAddressRange('127.24.0.300-127.24.1.1', 2)).toThrow(/not an IPv4/);
  });

  it('keeps one process’s buyer-id prefix and gives each of several its own', () => {
    expect(instanceName('host-42', 0, 1)).toBe('host-42');
    const names = [0, 1, 2].map((i) => instanceName('host-42', i, 3));
    expect(names).toEqual(['host-42-1of3', 'host-42-2of3', 'host-42-3of3']);
    // lib/flash.js buyerId: <instance>-<scenario>-<vu>-<iteration>; VU numbers may repeat across processes.
    const ids = names.map((name) => new Set([1, 2, 3].map((vu) => `${name}-herd-${vu}-0`)));
    expect(sharedBuyerIds(ids)).toEqual([]);
  });

  it('finds buyer ids two processes both sent, not one process sending an id twice', () => {
    expect(sharedBuyerIds([['a', 'b', 'b'], ['c'], ['d', 'a']])).toEqual(['a']);
    expect(sharedBuyerIds([['a', 'a'], ['b']])).toEqual([]);
  });
});

describe('percentiles over the union of raw samples', () => {
  it('interpolate between the two nearest ranks, as k6 does (TrendSink.P)', () => {
    const sorted = [10, 20, 30, 40];
    expect(k6Percentile(sorted, 0.5)).toBe(25);
    expect(k6Percentile(sorted, 0.99)).toBeCloseTo(39.7, 10);
    expect(k6Percentile(sorted, 0)).toBe(10);
    expect(k6Percentile(sorted, 1)).toBe(40);
    expect(k6Percentile([7], 0.99)).toBe(7);
    expect(k6Percentile([], 0.5)).toBe(0);
    const values = trendValues([3, 1, 2, 10], ['avg', 'min', 'med', 'max', 'p(90)', 'count']);
    expect(values).toMatchObject({ avg: 4, min: 1, med: 2.5, max: 10, count: 4 });
    expect(values['p(90)']).toBeCloseTo(3 + (10 - 3) * 0.7, 10);
  });

  it('are not the average of the parts’ percentiles', () => {
    const fast = Array.from({ length: 199 }, () => 10);
    const slow = [1000];
    const p99 = (values: number[]) => trendValues(values, ['p(99)'])['p(99)']!;
    expect(p99([...fast, ...slow])).toBeCloseTo(10, 10);
    expect((p99(fast) + p99(slow)) / 2).toBe(505);
  });

  it('merge to exactly what one process would have computed, however the samples were split', () => {
    fc.assert(
      fc.property(
        fc.array(fc.double({ min: 0, max: 5000, noNaN: true }), { minLength: 1, maxLength: 300 }),
        fc.integer({ min: 1, max: 8 }),
        (values, n) => {
          const parts = Array.from({ length: n }, (_, i) => values.filter((_, j) => j % n === i));
          const summaries: K6Summary[] = parts
            .filter((part) => part.length > 0)
            .map((part) => ({
              state: { testRunDurationMs: 1000 },
              options: { summaryTrendStats: ['min', 'med', 'max', 'p(99)'] },
              metrics: { http_req_duration: { type: 'trend', values: trendValues(part, ['min', 'max']) } },
            }));
          const merged = mergeSummaries(summaries, () => values, {});
          expect(merged.metrics.http_req_duration!.values).toEqual(trendValues(values, ['min', 'med', 'max', 'p(99)']));
        },
      ),
    );
  });
});

describe('merging the summaries of processes that ran together', () => {
  const part = (iterations: number, passes: number, fails: number, durationMs: number, durations: number[]): K6Summary => ({
    state: { testRunDurationMs: durationMs },
    options: { summaryTrendStats: ['avg', 'min', 'med', 'max', 'p(95)', 'p(99)'] },
    metrics: {
      iterations: { type: 'counter', values: { count: iterations, rate: iterations / (durationMs / 1000) } },
      'checks{check:purchase answered}': { type: 'rate', values: { rate: passes / (passes + fails), passes, fails } },
      vus_max: { type: 'gauge', values: { value: 500, min: 500, max: 500 } },
      'http_req_duration{name:purchase}': { type: 'trend', contains: 'time', values: trendValues(durations, ['min', 'max']) },
    },
  });
  const a = [5, 6, 7, 8];
  const b = [100, 200];
  const raw = (key: string) => (key === 'http_req_duration{name:purchase}' ? [...a, ...b] : undefined);

  it('adds counts, passes and fails, and VUs, over the longest run, with percentiles from the raw samples', () => {
    const merged = mergeSummaries([part(500, 499, 1, 2000, a), part(480, 480, 0, 2500, b)], raw, {});
    expect(merged.state).toEqual({ testRunDurationMs: 2500 });
    expect(merged.metrics.iterations!.values).toEqual({ count: 980, rate: 980 / 2.5 });
    expect(merged.metrics['checks{check:purchase answered}']!.values).toEqual({ rate: 979 / 980, passes: 979, fails: 1 });
    expect(merged.metrics.vus_max!.values).toEqual({ value: 1000, min: 1000, max: 1000 });
    const latency = merged.metrics['http_req_duration{name:purchase}']!;
    expect(latency.contains).toBe('time');
    expect(latency.values).toEqual(trendValues([5, 6, 7, 8, 100, 200], ['avg', 'min', 'med', 'max', 'p(95)', 'p(99)']));
  });

  it("evaluates the script's thresholds once, over the whole test", () => {
    const merged = mergeSummaries([part(500, 500, 0, 1000, a), part(480, 480, 0, 1000, b)], raw, {
      // Each half of a 1,000-arrival herd fails "count>=800"; the whole does not.
      iterations: ['count>=800', 'count>=1000'],
      'checks{check:purchase answered}': ['rate==1'],
      'http_req_duration{name:purchase}': ['p(50)<100', 'p(99)<150'],
      dropped_iterations: ['count<=0'],
    });
    const verdicts = Object.fromEntries(
      Object.entries(merged.metrics).flatMap(([key, m]) => Object.entries(m.thresholds ?? {}).map(([t, r]) => [`${key}: ${t}`, r.ok])),
    );
    expect(verdicts).toEqual({
      'iterations: count>=800': true,
      'iterations: count>=1000': false,
      'checks{check:purchase answered}: rate==1': true,
      'http_req_duration{name:purchase}: p(50)<100': true,
      'http_req_duration{name:purchase}: p(99)<150': false,
      // Nobody emitted it: evaluated as empty, as k6 does at the end of a test.
      'dropped_iterations: count<=0': true,
    });
  });

  it('refuses to merge a trend without raw samples, or samples that are not what k6 summarised', () => {
    expect(() => mergeSummaries([part(1, 1, 0, 1000, a)], () => undefined, {})).toThrow(/no raw samples/);
    expect(() => mergeSummaries([part(1, 1, 0, 1000, a)], () => [5, 6, 7], {})).toThrow(/not what k6 summarised/);
  });

  it('fails a threshold it cannot evaluate instead of passing it', () => {
    const merged = mergeSummaries([part(10, 1, 0, 1000, a)], () => a, { iterations: ['p(99)<5'] });
    expect(merged.metrics.iterations!.thresholds).toEqual({ 'p(99)<5': { ok: false } });
  });
});

describe("reading k6's own formats", () => {
  it('reads threshold expressions and metric names as k6 writes them', () => {
    expect(parseThreshold('p(99)<2000')).toEqual({ aggregation: 'p(99)', operator: '<', value: 2000 });
    expect(parseThreshold('count >= 800')).toEqual({ aggregation: 'count', operator: '>=', value: 800 });
    expect(parseThreshold('rate==0')).toEqual({ aggregation: 'rate', operator: '==', value: 0 });
    expect(parseThreshold('p(99.9)<=1.5')).toEqual({ aggregation: 'p(99.9)', operator: '<=', value: 1.5 });
    expect(() => parseThreshold('p99<10')).toThrow();
    expect(parseMetricKey('checks{check:purchase answered}')).toEqual({ metric: 'checks', tags: { check: 'purchase answered' } });
    expect(parseMetricKey('http_req_duration{name:purchase,method:POST}')).toEqual({
      metric: 'http_req_duration',
      tags: { name: 'purchase', method: 'POST' },
    });
    expect(parseMetricKey('iterations')).toEqual({ metric: 'iterations', tags: {} });
  });

  it("takes thresholds from k6 inspect's options, as text or as objects", () => {
    expect(
      inspectedThresholds({ thresholds: { iterations: ['count>=800'], unexpected_responses: [{ threshold: 'count==0', abortOnFail: true }] } }),
    ).toEqual({ iterations: ['count>=800'], unexpected_responses: ['count==0'] });
    expect(inspectedThresholds({ thresholds: null })).toEqual({});
  });

  it("collects each trend's samples from k6's JSON output, submetrics by their tags", () => {
    const samples = new TrendSamples(['http_req_duration', 'http_req_duration{name:purchase}']);
    const point = (metric: string, value: number, tags: Record<string, string>) =>
      JSON.stringify({ metric, type: 'Point', data: { time: '2026-12-02T03:13:24Z', value, tags } });
    for (const line of [
      '{"type":"Metric","data":{"name":"http_req_duration","type":"trend","contains":"time"},"metric":"http_req_duration"}',
      point('http_req_duration', 12.5, { name: 'purchase', status: '201' }),
      point('http_req_duration', 3, { name: 'status', status: '200' }),
      point('http_req_duration', 40, { name: 'purchase', status: '409' }),
      point('http_req_waiting', 11, { name: 'purchase' }),
      point('http_reqs', 1, { name: 'purchase' }),
      '',
    ]) {
      samples.addLine(line);
    }
    expect(samples.get('http_req_duration')).toEqual([12.5, 3, 40]);
    expect(samples.get('http_req_duration{name:purchase}')).toEqual([12.5, 40]);
    expect(samples.get('http_req_waiting')).toBeUndefined();
  });
});

describe('npm run loadtest arguments', () => {
  it('keep today’s defaults: every scenario, full size, one k6 process', () => {
    expect(parseLoadtestArgs([])).toEqual({
      ok: true,
      args: { smoke: false, instances: 1, scenarios: ['ramp', 'spike', 'duplicate-user', 'herd', 'status-storm'] },
    });
    expect(parseLoadtestArgs(['--smoke', 'herd'])).toEqual({ ok: true, args: { smoke: true, instances: 1, scenarios: ['herd'] } });
  });

  it('take --instances N and --instances=N from 1 to 64', () => {
    expect(parseLoadtestArgs(['--smoke', '--instances', '2', 'herd'])).toEqual({
      ok: true,
      args: { smoke: true, instances: 2, scenarios: ['herd'] },
    });
    expect(parseLoadtestArgs(['--instances=64', 'spike'])).toMatchObject({ ok: true, args: { instances: 64 } });
  });

  it('refuse anything else with a sentence that names the option', () => {
    for (const bad of [['--instances', '0'], ['--instances', '65'], ['--instances', 'two'], ['--instances', '2.5'], ['--instances', '-1'], ['--instances']]) {
      const parsed = parseLoadtestArgs(bad);
      expect(parsed.ok, bad.join(' ')).toBe(false);
      if (!parsed.ok) expect(parsed.errors[0]).toMatch(/^--instances takes a whole number from 1 to 64/);
    }
    expect(parseLoadtestArgs(['--smok'])).toMatchObject({ ok: false, errors: ['unknown option --smok', expect.stringMatching(/^usage:/)] });
    expect(parseLoadtestArgs(['herds'])).toMatchObject({ ok: false, errors: [expect.stringMatching(/^unknown scenario herds; choose from ramp/), expect.any(String)] });
  });
});
