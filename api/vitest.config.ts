import { defineConfig } from 'vitest/config';

/**
 * The API's own tests, with nothing running: pure rules and the app in
 * process (`npm test -w api`). The integration suites in test/ need the stack
 * that `npm test` starts (see the root vitest.config.ts).
 */
export default defineConfig({
  test: {
    environment: 'node',
    include: ['src/**/*.test.ts'],
  },
});
