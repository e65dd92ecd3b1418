import { describe, expect, it } from 'vitest';
import { countersSince, parseTcpExt } from './netstat.js';

const NETSTAT = `TcpExt: SyncookiesSent ListenOverflows ListenDrops TCPSynRetrans
TcpExt: 0 1408 1408 1467
IpExt: InNoRoutes InTruncatedPkts
IpExt: 0 0
`;

describe('the kernel’s listen counters', () => {
  it('reads TcpExt by name, not by position', () => {
    const counters = parseTcpExt(NETSTAT);
    expect(counters.get('ListenOverflows')).toBe(1408);
    expect(counters.get('TCPSynRetrans')).toBe(1467);
    expect(counters.has('InNoRoutes')).toBe(false);
  });

  it('gives what happened between two readings', () => {
    expect(countersSince({ listenOverflows: 10, synRetransmits: 5 }, { listenOverflows: 25, synRetransmits: 9 })).toEqual({
      listenOverflows: 15,
      synRetransmits: 4,
    });
  });
});
