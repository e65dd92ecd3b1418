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

/** One schemathesis run of the document the stack serves, against `url`; returns its summary. */
function fuzz(url: string, name: string, selection: string[]) {
  const run = spawnSync(
    SCHEMATHESIS,
    [
      '--config-file', fileURLToPath(new URL('./schemathesis.toml', import.meta.url)),
      'run', `${testEnv.FLASH_BASE_URL}/api/v1/openapi.json`,
      '--url', url,
      ...selection,
      '--checks', 'all',
      '--max-examples', '100',
      // One client from one address: stay under nginx's per-address limit, as a polite client would.
      '--rate-limit', '9/s',
      '--seed', '20261122',
      '--no-color',
      '--report', 'junit',
      '--report-dir', join(testEnv.FLASH_STATE_DIR, 'schemathesis', name),
    ],
    // Run in the state folder: schemathesis keeps its example database in its working directory.
    { encoding: 'utf8', timeout: 240_000, cwd: testEnv.FLASH_STATE_DIR, env: { ...process.env, SCHEMATHESIS_HOOKS: '' } },
  );
  const output = `${run.stdout}\n${run.stderr}`;
  return {
    status: run.status,
    output,
    operations: Number(output.match(/Tested: (\d+)/)?.[1]),
    cases: Number(output.match(/(\d+) generated, (\d+) (?:passed|found)/)?.[1]),
  };
}

const PROBES = '^/(healthz|readyz)$';

describe('schemathesis', () => {
  it('finds no failure in any shopper operation, through nginx', async () => {
    expect(existsSync(SCHEMATHESIS), 'stack/flash.sh test installs schemathesis into .flash/venv').toBe(true);
    await stack.createSale({ stock: 100_000, durationMs: 3_600_000, productName: 'Fuzzed Widget' });
    // The probes are in the document, but they are each replica's own: nginx does not route them.
    const run = fuzz(testEnv.FLASH_BASE_URL, 'shop', ['--exclude-path-regex', PROBES]);
    console.info(`schemathesis through nginx: ${run.operations} operations, ${run.cases} cases generated`);
    expect(run.status, run.output.slice(-4_000)).toBe(0);
    expect(run.operations).toBe(3);
    expect(run.cases).toBeGreaterThan(100);
  });

  it('finds no failure in the probes, on a replica', async () => {
    const run = fuzz(testEnv.FLASH_API_URLS[0]!, 'probes', ['--include-path-regex', PROBES]);
    expect(run.status, run.output.slice(-4_000)).toBe(0);
    expect(run.operations).toBe(2);
  });
});
