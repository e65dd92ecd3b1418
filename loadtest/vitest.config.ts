import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

/**
 * The load smoke: every k6 scenario at a small size against the stack the
 * test command started (FLASH_BASE_URL, REDIS_NODES, DATABASE_URL…), with the
 * invariants checked against Postgres and Redis after each. The scenarios
 * move the shared "current sale", so they run one at a time, after the
 * integration and end-to-end suites. The first run may build k6 (minutes).
 *   npx vitest run -c loadtest/vitest.config.ts      (with the test stack's env)
 */
export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  test: {
    name: 'load-smoke',
    include: ['**/*.load.test.ts'],
    environment: 'node',
    fileParallelism: false,
    testTimeout: 120_000,
    // Building k6 from source on first use takes a few minutes on two cores.
    hookTimeout: 900_000,
    sequence: { groupOrder: 3 },
  },
});
