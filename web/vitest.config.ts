import react from '@vitejs/plugin-react';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  plugins: [react()],
  test: {
    // The pure logic runs in node; component tests ask for jsdom in their first line.
    environment: 'node',
    include: ['src/**/*.test.{ts,tsx}'],
    setupFiles: ['./tests/setup.ts'],
    restoreMocks: true,
    unstubGlobals: true,
    // Fast polling so "updates without refresh" tests don't wait a full second.
    env: { VITE_POLL_INTERVAL_MS: '150' },
  },
});
