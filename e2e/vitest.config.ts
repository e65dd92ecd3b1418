import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

/**
 * End-to-end specs: a real Chromium (Debian's, driven by playwright-core)
 * against the real stack through nginx at FLASH_BASE_URL. They move the one
 * "current sale", so they run one file at a time, after the other suites.
 *   npx vitest run -c e2e/vitest.config.ts      (stack running: npm start)
 */
export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  test: {
    name: 'e2e',
    include: ['**/*.e2e.test.ts'],
    environment: 'node',
    fileParallelism: false,
    testTimeout: 120_000,
    hookTimeout: 60_000,
    sequence: { groupOrder: 2 },
  },
});
