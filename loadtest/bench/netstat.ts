/**
 * The kernel's TCP counters (/proc/net/netstat, TcpExt), machine-wide: what
 * happened to connections before any server read a byte of them.
 */
import { readFileSync } from 'node:fs';

export interface ListenCounters {
  /** Connection attempts dropped because a listener's accept queue was full. */
  listenOverflows: number;
  /** SYNs sent again after going unanswered: Linux waits 1 s, then 2 s, then 4 s. */
  synRetransmits: number;
}

/** The TcpExt counters as name → value, from the text of /proc/net/netstat. */
export function parseTcpExt(text: string): Map<string, number> {
  const [names, values] = text.split('\n').filter((line) => line.startsWith('TcpExt:'));
  const counters = new Map<string, number>();
  if (!names || !values) return counters;
  const valueFields = values.split(/\s+/);
  names.split(/\s+/).forEach((name, i) => {
    if (i > 0) counters.set(name, Number(valueFields[i]));
  });
  return counters;
}

export function readListenCounters(): ListenCounters {
  const counters = parseTcpExt(readFileSync('/proc/net/netstat', 'utf8'));
  return { listenOverflows: counters.get('ListenOverflows') ?? 0, synRetransmits: counters.get('TCPSynRetrans') ?? 0 };
}

export const countersSince = (before: ListenCounters, after: ListenCounters): ListenCounters => ({
  listenOverflows: after.listenOverflows - before.listenOverflows,
  synRetransmits: after.synRetransmits - before.synRetransmits,
});
