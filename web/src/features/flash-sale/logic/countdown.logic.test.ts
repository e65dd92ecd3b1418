import { describe, expect, it } from 'vitest';
import { countdownParts, formatCountdown, isoDuration, msUntil, spokenCountdown } from './countdown.logic';

const T = Date.parse('2030-01-01T12:00:00.000Z');

describe('msUntil', () => {
  it('counts against the server clock, not the local one', () => {
    // Local clock says 11:59:00, but the server is 50 s ahead: 10 s to go, not 60.
    const localNow = T - 60_000;
    expect(msUntil('2030-01-01T12:00:00.000Z', localNow, 0)).toBe(60_000);
    expect(msUntil('2030-01-01T12:00:00.000Z', localNow, 50_000)).toBe(10_000);
    expect(msUntil('2030-01-01T12:00:00.000Z', localNow, -30_000)).toBe(90_000);
  });

  it('never goes negative and treats unreadable times as due', () => {
    expect(msUntil('2030-01-01T12:00:00.000Z', T + 5000, 0)).toBe(0);
    expect(msUntil('garbage', T, 0)).toBe(0);
  });
});

describe('formatting', () => {
  it('rounds up to whole seconds so zero is shown only when due', () => {
    expect(countdownParts(1)).toEqual({ days: 0, hours: 0, minutes: 0, seconds: 1 });
    expect(formatCountdown(999)).toBe('00:01');
    expect(formatCountdown(1000)).toBe('00:01');
    expect(formatCountdown(1001)).toBe('00:02');
    expect(formatCountdown(0)).toBe('00:00');
    expect(formatCountdown(-5)).toBe('00:00');
  });

  it('grows units as needed', () => {
    expect(formatCountdown(249_000)).toBe('04:09');
    expect(formatCountdown(3_723_000)).toBe('1:02:03');
    expect(formatCountdown(2 * 86_400_000 + 3 * 3_600_000 + 4 * 60_000 + 5000)).toBe('2d 03:04:05');
  });

  it('gives an ISO duration for <time dateTime>', () => {
    expect(isoDuration(0)).toBe('PT0S');
    expect(isoDuration(3_723_000)).toBe('PT1H2M3S');
    expect(isoDuration(60_000)).toBe('PT1M');
    expect(isoDuration(86_400_000)).toBe('P1D');
    expect(isoDuration(86_400_000 + 5000)).toBe('P1DT5S');
  });

  it('speaks naturally', () => {
    expect(spokenCountdown(0)).toBe('now');
    expect(spokenCountdown(1000)).toBe('1 second');
    expect(spokenCountdown(61_000)).toBe('1 minute and 1 second');
    expect(spokenCountdown(3_723_000)).toBe('1 hour, 2 minutes and 3 seconds');
  });
});
