import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { logsHolding } from './log-scan.js';

describe('scanning logs for secrets', () => {
  it('finds a secret anywhere in a log bigger than one read, also across two reads', () => {
    const dir = mkdtempSync(join(tmpdir(), 'log-scan-'));
    const secret = 'QmFzZTY0VXJsU2VjcmV0T2ZGb3J0eVRocmVlQ2hhcnM';
    const oneRead = 1 << 20;
    writeFileSync(join(dir, 'clean.log'), 'x'.repeat(3 * oneRead));
    writeFileSync(join(dir, 'across.log'), 'x'.repeat(oneRead - 10) + secret + 'x'.repeat(100));
    writeFileSync(join(dir, 'late.log'), 'x'.repeat(2 * oneRead + 5) + secret);
    expect(logsHolding(dir, [secret, 'another-password']).sort()).toEqual(['across.log', 'late.log']);
  });
});
