/**
 * schemathesis, a fuzzer nobody here wrote, against the stack through nginx,
 * driven by the OpenAPI document the API serves: no server errors, answers
 * that match the schema, only documented status codes, valid input accepted
 * and invalid input rejected.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { connectToStack, testEnv } from './support.js';

const stack = connectToStack();
afterAll(() => stack.close());

const SCHEMATHESIS = fileURLToPath(new URL('../../.flash/venv/bin/st', import.meta.url));

describe('schemathesis', () => {
  it('finds no failure in any operation', async () => {
    expect(existsSync(SCHEMATHESIS), 'stack/flash.sh test installs schemathesis into .flash/venv').toBe(true);
    await stack.createSale({ stock: 100_000, durationMs: 3_600_000, productName: 'Fuzzed Widget' });
    const run = spawnSync(
      SCHEMATHESIS,
      [
        'run', `${testEnv.FLASH_BASE_URL}/api/v1/openapi.json`,
        '--url', testEnv.FLASH_BASE_URL,
        '--checks', 'all',
        '--max-examples', '100',
        // One client from one address: stay under nginx's per-address limit, as a polite client would.
        '--rate-limit', '9/s',
        '--seed', '20261122',
        '--no-color',
        '--report', 'junit',
        '--report-dir', join(testEnv.FLASH_STATE_DIR, 'schemathesis'),
      ],
      // Run in the state folder: schemathesis keeps its example database in its working directory.
      { encoding: 'utf8', timeout: 240_000, cwd: testEnv.FLASH_STATE_DIR, env: { ...process.env, SCHEMATHESIS_HOOKS: '' } },
    );
    const output = `${run.stdout}\n${run.stderr}`;
    const cases = output.match(/(\d+) generated, (\d+) (?:passed|found)/);
    const operations = output.match(/Tested: (\d+)/);
    console.info(`schemathesis: ${operations?.[1] ?? '?'} operations, ${cases?.[1] ?? '?'} cases generated`);
    expect(run.status, output.slice(-4_000)).toBe(0);
    expect(Number(operations?.[1])).toBe(3);
    expect(Number(cases?.[1])).toBeGreaterThan(100);
  });
});
