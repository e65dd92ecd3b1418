import { describe, expect, it } from 'vitest';
import { parseConfig } from './config';

describe('parseConfig', () => {
  it('works with no env at all (same-origin behind nginx)', () => {
    expect(parseConfig({})).toEqual({
      apiBaseUrl: '/api/v1',
      pollIntervalMs: 1000,
      identifierStorageKey: 'flash-flow:purchased-identifier',
    });
  });

  it('coerces the poll interval and trims a trailing slash from the base URL', () => {
    const config = parseConfig({ VITE_API_BASE_URL: 'http://localhost:8080/api/v1/', VITE_POLL_INTERVAL_MS: '500' });
    expect(config.apiBaseUrl).toBe('http://localhost:8080/api/v1');
    expect(config.pollIntervalMs).toBe(500);
  });

  it('names every bad key', () => {
    expect(() => parseConfig({ VITE_POLL_INTERVAL_MS: 'soon' })).toThrow(/VITE_POLL_INTERVAL_MS/);
    expect(() => parseConfig({ VITE_POLL_INTERVAL_MS: '5' })).toThrow(/VITE_POLL_INTERVAL_MS/);
  });
});
