import { describe, expect, it } from 'vitest';
import type { CapacityResults } from './capacity.js';
import { renderCapacity } from './capacity-report.js';
import type { HerdReport } from './herd-client.js';

const report = (perSecond: number, p99: number, statuses: Record<string, number> = { '200': 1 }): HerdReport => ({
  sent: 1,
  unsent: 0,
  answered: 1,
  seconds: 8,
  perSecond,
  cpuSeconds: 1,
  threads: 2,
  ms: { p50: p99 / 2, p90: p99, p99, max: p99 },
  errors: { connect: 0, reset: 0, timeout: 0, parse: 0 },
  statuses,
  unavailableWithoutRetryAfter: 0,
  timeline: [{ '201': perSecond }, { '201': perSecond }],
});

function results(floor: { rate: number; herd1k: number; herd10k: number } | undefined): CapacityResults {
  const herd = (p99: number) => ({ report: report(1000, p99, { '201': 1000 }), checks: [{ ok: true, text: 'fine' }] });
  return {
    startedAt: '2026-12-02T06:00:00.000Z',
    commit: 'abc1234',
    machine: '2 × test CPU, 1.0 GiB',
    concurrency: 200,
    ceiling: { herd1k: [report(0, 30)], herd10k: [report(0, 300)], closed: [{ report: report(30_000, 10) }] },
    ...(floor
      ? { floor: { herd1k: [report(0, floor.herd1k)], herd10k: [report(0, floor.herd10k)], closed: [{ report: report(floor.rate, 10) }] } }
      : {}),
    shop: {
      herd1k: [herd(240)],
      herd10k: [herd(1_800)],
      soldOut: [{ report: report(9_000, 50) }],
      buying: [{ report: report(3_000, 80) }],
      status: [{ report: report(27_000, 20) }],
    },
    scaling: [],
    overload: {
      capacityPerSecond: 3_000,
      offeredPerSecond: 15_000,
      report: report(4_000, 4_000, { '201': 10, '503': 10 }),
      recovery: report(3_000, 80),
      checks: [{ ok: true, text: 'fine' }],
    },
  };
}

describe('the capacity section', () => {
  it('shows the Node floor beside the ceiling, and the shop as a share of it', () => {
    const measured = results({ rate: 12_000, herd1k: 120, herd10k: 1_650 });
    measured.ceiling.herd1k[0] = { ...measured.ceiling.herd1k[0]!, threads: 1 };
    const text = renderCapacity(measured);
    expect(text).toContain(
      '| sold-out path, 200 in flight | 30,000/s (30,000–30,000) | 12,000/s (12,000–12,000) (40%) | 9,000/s (9,000–9,000) | 30% | ≥ 50% | ✗ | 75% |',
    );
    expect(text).toContain('| 1,000-buyer herd, p99 | 30 ms (30–30) | 120 ms (120–120) (4.0×) | 240 ms (240–240) | 8.0× | ≤ 5× | ✗ | 2.0× |');
    // The status never reaches Node: the floor does not bound it.
    expect(text).toContain('| status (micro-cache), 200 in flight | 30,000/s (30,000–30,000) | – |');
    expect(text).toContain('every shopper a fresh connection from its own loopback address; herds on one thread, throughput runs on 2 threads)');
    expect(text).toContain('The floor itself misses the sold-out target and the 10,000-buyer herd target:');
  });

  it('says when the floor meets every target', () => {
    expect(renderCapacity(results({ rate: 20_000, herd1k: 60, herd10k: 600 }))).toContain('The floor meets every target');
  });

  it('says how many replicas the shop had, and whether that is what the local stack starts', () => {
    const at = (measured: number, stackDefault: number) => renderCapacity({ ...results(undefined), replicas: { measured, stackDefault } });
    expect(at(2, 2)).toContain('against the shop (2 replicas, as the local stack starts them here: one per core, at least two)');
    expect(at(3, 8)).toContain('against the shop (3 replicas, the bench stack’s most; the local stack would start 8 here)');
    expect(renderCapacity(results(undefined))).toContain('against the shop (3 replicas)');
  });

  it('renders older results that have no floor', () => {
    const text = renderCapacity(results(undefined));
    expect(text).toContain('| sold-out path, 200 in flight | 30,000/s (30,000–30,000) | – | 9,000/s (9,000–9,000) | 30% | ≥ 50% | ✗ | – |');
    expect(text).not.toContain('The Node floor is');
  });

  it('says what the machine allows whatever a replica does, from the run’s own CPU split', () => {
    const measured = { ...results(undefined), cores: 2 };
    measured.ceiling.closed[0] = { ...measured.ceiling.closed[0]!, cpu: { nginx: 0.8, 'load client (k6 or herd)': 1.0, 'bench harness (node)': 0.5 } };
    measured.shop.buying[0] = {
      ...measured.shop.buying[0]!,
      cpu: { 'API replicas (node)': 0.6, 'Redis Cluster (6 nodes)': 0.45, nginx: 0.3, 'bench harness (node)': 0.2, PostgreSQL: 0.15 },
    };
    const text = renderCapacity(measured);
    // 0.9 cores at 3,000/s: 300 µs a purchase, so 2 cores buy at most 6,667/s, 22% of 30,000/s.
    expect(text).toContain('spent 300 µs of CPU per purchase in the buying run. With replicas that cost nothing, 2 cores would buy at most 6,667/s, 22% of the ceiling (target 30%).');
    // 1.8 cores at 30,000/s: 60 µs an answer; 3,000/s × 5 offered.
    expect(text).toContain(`the ceiling run spent 60 µs of the machine's CPU per answer (nginx, the client and the rest). Answering the 15,000/s offered`);
    expect(text).toContain('would take 0.90 of the 2 cores.');
    expect(renderCapacity(results(undefined))).not.toContain('What this machine allows');
  });

  it('says what the kernel did with the overload’s connections before nginx accepted them', () => {
    const measured = results(undefined);
    expect(renderCapacity(measured)).not.toContain('ListenOverflows');
    measured.overload = { ...measured.overload, kernel: { listenOverflows: 1_200, synRetransmits: 1_500 } };
    expect(renderCapacity(measured)).toContain(
      'the kernel dropped 1,200 connection attempts because nginx’s accept queue was full (ListenOverflows), and shoppers sent 1,500 SYNs again',
    );
  });
});
