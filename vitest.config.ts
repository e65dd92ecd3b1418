import { defineConfig } from 'vitest/config';

/**
 * Every suite in one run. The api, unit and web tests need nothing running
 * (`npm run test:unit` runs just those); the
 * integration, end-to-end and k6 smoke suites expect the stack that `npm test`
 * starts (stack/src/test-run.ts) and run one after the other, one file at a
 * time, because they move the shared "current sale".
 */
export default defineConfig({
  test: {
    projects: [
      { extends: './api/vitest.config.ts', root: './api', test: { name: 'api', sequence: { groupOrder: 0 } } },
      {
        test: {
          name: 'unit',
          include: ['stack/src/**/*.test.ts', 'loadtest/**/*.unit.test.ts', 'chaos/**/*.test.ts'],
          environment: 'node',
          sequence: { groupOrder: 0 },
        },
      },
      { extends: './web/vitest.config.ts', root: './web', test: { name: 'web', sequence: { groupOrder: 0 } } },
      {
        test: {
          name: 'integration',
          include: ['api/test/**/*.int.test.ts'],
          environment: 'node',
          fileParallelism: false,
          testTimeout: 60_000,
          hookTimeout: 60_000,
          sequence: { groupOrder: 1 },
        },
      },
      { extends: './e2e/vitest.config.ts', root: './e2e', test: { name: 'e2e', sequence: { groupOrder: 2 } } },
      {
        extends: './loadtest/vitest.config.ts',
        root: './loadtest',
        test: { name: 'load-smoke', sequence: { groupOrder: 3 } },
      },
    ],
  },
});
