import { render } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import type { ReactElement } from 'react';
import { SWRConfig } from 'swr';

/** Renders with a fresh SWR cache, as a first visit or a reload would. */
export function renderWithSWR(ui: ReactElement) {
  const user = userEvent.setup();
  const view = render(<SWRConfig value={{ provider: () => new Map() }}>{ui}</SWRConfig>);
  return { user, ...view };
}
