import { describe, expect, it } from 'vitest';
import { fmt, median, medianWithSpread, pct, percentile, spread } from './statistics.js';

describe('the benchmark statistics', () => {
  it('take the median of odd and even counts, without reordering the input', () => {
    const values = [5, 1, 3];
    expect(median(values)).toBe(3);
    expect(values).toEqual([5, 1, 3]);
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(median([])).toBeNaN();
  });

  it('take percentiles by nearest rank', () => {
    const sorted = Array.from({ length: 100 }, (_, i) => i + 1);
    expect(percentile(sorted, 0.5)).toBe(50);
    expect(percentile(sorted, 0.99)).toBe(99);
    expect(percentile(sorted, 1)).toBe(100);
    expect(percentile([7], 0.99)).toBe(7);
    expect(percentile([], 0.5)).toBeNaN();
  });

  it('print spreads, ratios and what could not be measured', () => {
    expect(spread([3, 1, 2])).toEqual({ min: 1, max: 3 });
    expect(medianWithSpread([10.26, 9.5, 12], 1, ' ms')).toBe('10.3 ms (9.5–12.0)');
    expect(fmt(12345.678, 1)).toBe('12,345.7');
    expect(fmt(NaN)).toBe('n/a');
    expect(pct(0.456)).toBe('46%');
    expect(pct(NaN)).toBe('n/a');
  });
});
