import { useNow } from '../../../lib/use-now';
import { formatCountdown, isoDuration, msUntil, spokenCountdown } from '../logic/countdown.logic';

type Props = {
  /** Shown before the time, e.g. "Starts in". */
  label: string;
  /** Shown instead once the target is reached (the status poll then moves the page on). */
  doneText: string;
  /** ISO-8601 instant on the server's clock. */
  target: string;
  /** Server clock minus local clock, from the status answers. */
  clockOffsetMs: number;
};

/** Time left until `target` by the server's clock (client clocks are untrusted). */
export function Countdown({ label, doneText, target, clockOffsetMs }: Props) {
  const now = useNow(250);
  const left = msUntil(target, now, clockOffsetMs);
  if (left <= 0) {
    return (
      <p className="countdown countdown--done" data-testid="countdown">
        {doneText}
      </p>
    );
  }
  return (
    <p className="countdown" data-testid="countdown">
      <span className="countdown__label">{label}</span>{' '}
      <time role="timer" className="countdown__value" dateTime={isoDuration(left)} aria-label={`${label} ${spokenCountdown(left)}`}>
        {formatCountdown(left)}
      </time>
    </p>
  );
}
