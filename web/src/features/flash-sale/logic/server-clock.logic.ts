/**
 * The server's clock, seen from the browser (requirements 1.1.5: client clocks
 * are untrusted). Each status answer carries `serverTime`; the offset is
 * `serverTime − local time at receipt`, so `Date.now() + offset` is our best
 * guess of the server's "now".
 *
 * One sample is biased low: the answer was produced before it arrived, and
 * nginx may serve it from its ~1 s micro-cache. Neither can make `serverTime`
 * later than the true server time at receipt, so every sample is a lower bound
 * of the true offset and the largest recent one is the best estimate (the same
 * idea as NTP keeping its least-delayed sample). Keeping only the last few
 * samples lets the estimate follow a server clock that was stepped backwards.
 */
export type ClockSample = { offsetMs: number; receivedAt: number };

export const MAX_CLOCK_SAMPLES = 10;

export function clockSample(serverTimeIso: string, receivedAt: number): ClockSample | null {
  const serverTime = Date.parse(serverTimeIso);
  if (Number.isNaN(serverTime)) return null;
  return { offsetMs: serverTime - receivedAt, receivedAt };
}

export function addClockSample(
  samples: readonly ClockSample[],
  sample: ClockSample | null,
  max: number = MAX_CLOCK_SAMPLES,
): readonly ClockSample[] {
  if (sample === null) return samples;
  const next = [...samples, sample];
  return next.length > max ? next.slice(next.length - max) : next;
}

/** Milliseconds to add to the local clock to get the server's; 0 until we know better. */
export function estimateOffset(samples: readonly ClockSample[]): number {
  if (samples.length === 0) return 0;
  return Math.max(...samples.map((s) => s.offsetMs));
}
