import { describe, expect, it } from 'vitest';
import { addClockSample, clockSample, estimateOffset, type ClockSample } from './server-clock.logic';

const at = (serverIso: string, receivedAt: number) => clockSample(serverIso, receivedAt);

describe('server clock offset', () => {
  it('is serverTime minus the local time at receipt', () => {
    const received = Date.parse('2030-01-01T12:00:00.000Z');
    expect(at('2030-01-01T12:00:05.000Z', received)).toEqual({ offsetMs: 5000, receivedAt: received });
    expect(at('2030-01-01T11:59:58.500Z', received)).toEqual({ offsetMs: -1500, receivedAt: received });
  });

  it('ignores an unreadable serverTime', () => {
    expect(at('not a time', 0)).toBeNull();
    expect(addClockSample([], null)).toEqual([]);
  });

  it('is 0 before any sample', () => {
    expect(estimateOffset([])).toBe(0);
  });

  it('prefers the largest recent sample, since stale (micro-cached) answers only under-estimate', () => {
    let samples: readonly ClockSample[] = [];
    const base = Date.parse('2030-01-01T12:00:00.000Z');
    // True offset is +3000 ms; cached answers arrive up to a second "old".
    samples = addClockSample(samples, at('2030-01-01T12:00:02.200Z', base)); // 800 ms stale
    samples = addClockSample(samples, at('2030-01-01T12:00:03.950Z', base + 1000)); // 50 ms in flight
    samples = addClockSample(samples, at('2030-01-01T12:00:04.400Z', base + 2000)); // 600 ms stale
    expect(estimateOffset(samples)).toBe(2950);
  });

  it('keeps only the last few samples so a stepped-back server clock is followed', () => {
    let samples: readonly ClockSample[] = [{ offsetMs: 60_000, receivedAt: 0 }];
    for (let i = 1; i <= 3; i++) samples = addClockSample(samples, { offsetMs: 100, receivedAt: i }, 3);
    expect(samples).toHaveLength(3);
    expect(estimateOffset(samples)).toBe(100);
  });
});
