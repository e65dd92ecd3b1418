import { describe, expect, it } from 'vitest';
import { markedSection, spliceSections } from './page-sections.js';

describe('the benchmark page’s generated sections', () => {
  const page = ['# Benchmarks', 'kept by hand', markedSection('ceiling', 'old table'), 'more prose', markedSection('herds', 'old herds'), ''].join('\n');

  it('replaces only what is between a section’s markers', () => {
    const next = spliceSections(page, { ceiling: 'new table\n' });
    expect(next).toBe(page.replace('old table', 'new table'));
    expect(spliceSections(next, { ceiling: 'new table' })).toBe(next);
  });

  it('replaces several sections and leaves the prose between them', () => {
    const next = spliceSections(page, { ceiling: 'a', herds: 'b' });
    expect(next.split('\n')).toEqual(['# Benchmarks', 'kept by hand', ...markedSection('ceiling', 'a').split('\n'), 'more prose', ...markedSection('herds', 'b').split('\n'), '']);
  });

  it('refuses a section the page has no place for', () => {
    expect(() => spliceSections(page, { profile: 'x' })).toThrow(/no markers for: profile/);
  });
});
