/**
 * Countdowns are measured against the server's clock: local now + offset
 * (see server-clock.logic.ts), never the shopper's clock alone.
 */

/** Milliseconds from the server's "now" until `targetIso`, never negative. */
export function msUntil(targetIso: string, localNow: number, offsetMs: number): number {
  const target = Date.parse(targetIso);
  if (Number.isNaN(target)) return 0;
  return Math.max(0, target - (localNow + offsetMs));
}

type Parts = { days: number; hours: number; minutes: number; seconds: number };

/** Whole seconds, rounded up: "00:01" stays on screen until the moment itself. */
export function countdownParts(ms: number): Parts {
  let total = Math.max(0, Math.ceil(ms / 1000));
  const days = Math.floor(total / 86_400);
  total -= days * 86_400;
  const hours = Math.floor(total / 3600);
  total -= hours * 3600;
  const minutes = Math.floor(total / 60);
  return { days, hours, minutes, seconds: total - minutes * 60 };
}

const pad = (n: number) => String(n).padStart(2, '0');

/** "04:09", "1:02:03", "2d 03:04:05". */
export function formatCountdown(ms: number): string {
  const { days, hours, minutes, seconds } = countdownParts(ms);
  if (days > 0) return `${days}d ${pad(hours)}:${pad(minutes)}:${pad(seconds)}`;
  if (hours > 0) return `${hours}:${pad(minutes)}:${pad(seconds)}`;
  return `${pad(minutes)}:${pad(seconds)}`;
}

/** ISO-8601 duration for `<time dateTime>`, e.g. "PT1H2M3S", "P2DT3H4M5S", "PT0S". */
export function isoDuration(ms: number): string {
  const { days, hours, minutes, seconds } = countdownParts(ms);
  const date = days > 0 ? `P${days}D` : 'P';
  const time = `${hours ? `${hours}H` : ''}${minutes ? `${minutes}M` : ''}${seconds ? `${seconds}S` : ''}`;
  if (!time) return days > 0 ? date : 'PT0S';
  return `${date}T${time}`;
}

/** Words for screen readers: "1 hour, 2 minutes and 3 seconds". */
export function spokenCountdown(ms: number): string {
  const { days, hours, minutes, seconds } = countdownParts(ms);
  const words = (
    [
      [days, 'day'],
      [hours, 'hour'],
      [minutes, 'minute'],
      [seconds, 'second'],
    ] as const
  )
    .filter(([n]) => n > 0)
    .map(([n, unit]) => `${n} ${unit}${n === 1 ? '' : 's'}`);
  if (words.length === 0) return 'now';
  if (words.length === 1) return words[0] ?? 'now';
  return `${words.slice(0, -1).join(', ')} and ${words[words.length - 1]}`;
}
