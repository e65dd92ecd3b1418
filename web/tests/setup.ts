import { cleanup } from '@testing-library/react';
import { afterEach } from 'vitest';
import './matchers';

// Vitest does not inject globals, so testing-library cannot register its own cleanup.
afterEach(() => {
  cleanup();
  window.localStorage.clear();
});
