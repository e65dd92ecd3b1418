// @vitest-environment jsdom
import { act, render, screen } from '@testing-library/react';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { Countdown } from './Countdown';

describe('Countdown', () => {
  const localNow = Date.parse('2030-01-01T12:00:00.000Z');

  beforeEach(() => {
    vi.useFakeTimers({ now: localNow });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('ticks down by the server clock and hands over once due', () => {
    // The server is 10 s behind this browser; the sale starts at 12:00:05 server time.
    render(<Countdown label="Starts in" doneText="Starting…" target="2030-01-01T12:00:05.000Z" clockOffsetMs={-10_000} />);
    expect(screen.getByRole('timer', { name: 'Starts in 15 seconds' })).toHaveTextContent('00:15');
    expect(screen.getByRole('timer')).toHaveAttribute('datetime', 'PT15S');

    act(() => vi.advanceTimersByTime(5000));
    expect(screen.getByRole('timer')).toHaveTextContent('00:10');

    act(() => vi.advanceTimersByTime(10_000));
    expect(screen.queryByRole('timer')).not.toBeInTheDocument();
    expect(screen.getByTestId('countdown')).toHaveTextContent('Starting…');
  });
});
