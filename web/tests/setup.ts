import { cleanup } from '@testing-library/react';
import { afterEach } from 'vitest';
import './matchers';

// Vitest does not inject globals, so testing-library cannot register its own cleanup.
// Only the component tests have a DOM (jsdom); the logic tests run in node.
afterEach(() => {
  if (typeof window === 'undefined') return;
  cleanup();
  window.localStorage.clear();
});
