/** The capacity section of docs/benchmarks.md, from a run's results (capacity.ts). */
import type { CapacityResults, HerdCheck, Run } from './capacity.js';
import { API_ROLE, HARNESS_ROLE, NODE_FLOOR_ROLE, type CpuSplit } from './cpu.js';
import { errorCount, type HerdReport } from './herd-client.js';
import { fmt, median, medianWithSpread, pct } from './statistics.js';

/** The targets of issue 12, as ratios to the ceiling measured in the same run. */
export const CAPACITY_TARGETS = {
  herd1kP99: 5,
  herd10kP99: 5,
  soldOut: 0.5,
  buying: 0.3,
  status: 0.8,
} as const;

const reports = (runs: Run[]) => runs.map((r) => r.report);
const rates = (list: HerdReport[]) => list.map((r) => r.perSecond);
const p99s = (list: HerdReport[]) => list.map((r) => r.ms.p99);
const mark = (ok: boolean) => (ok ? '✓' : '✗');
function cpuLine(label: string, run: Run | undefined, node = API_ROLE): string {
  const cpu: CpuSplit = run?.cpu ?? {};
  const rate = run?.report.perSecond ?? NaN;
  const roles = Object.entries(cpu)
    .filter(([, cores]) => cores >= 0.01)
    .sort((a, b) => b[1] - a[1])
    .map(([role, cores]) => `${role} ${fmt(cores, 2)}`)
    .join(', ');
  const microseconds = ((cpu[node] ?? NaN) / rate) * 1e6;
  return `| ${label} | ${fmt(rate)} | ${Number.isFinite(microseconds) ? fmt(microseconds) : '–'} | ${fmt(((cpu.nginx ?? NaN) / rate) * 1e6)} | ${roles} |`;
}

const shopReplicas = (replicas: CapacityResults['replicas']) =>
  !replicas
    ? '3 replicas'
    : replicas.measured === replicas.stackDefault
      ? `${replicas.measured} replicas, as the local stack starts them here: one per core, at least two`
      : `${replicas.measured} replicas, the bench stack’s most; the local stack would start ${replicas.stackDefault} here`;

/** "a", "a and b", "a, b and c". */
const listed = (items: string[]) => (items.length < 2 ? items.join('') : `${items.slice(0, -1).join(', ')} and ${items.at(-1)}`);

function herdChecks(label: string, checks: HerdCheck[]): string {
  const failed = checks.flatMap((c, i) => c.checks.filter((x) => !x.ok).map((x) => `run ${i + 1}: ${x.text}`));
  const counts = checks.map((c) => JSON.stringify(c.report.statuses)).join(', ');
  return failed.length
    ? `- ${label}: ✗ ${failed.join('; ')} (answers ${counts})`
    : `- ${label}: ✓ in all ${checks.length} runs: every shopper 201 or 409, exactly the stock sold, as many 201s as purchases in Postgres, no buyer twice, Redis and Postgres agree (answers ${counts})`;
}

/** Cores a run used, by every role but those named: what the rest of the machine spent on it. */
const coresExcept = (run: Run | undefined, ...left: string[]) =>
  Object.entries(run?.cpu ?? {})
    .filter(([role]) => !left.includes(role))
    .reduce((sum, [, cores]) => sum + cores, 0);

/**
 * What the machine allows whatever a replica does, from this run's CPU split:
 * the buying path with replicas that cost nothing, and the overload's offered
 * rate answered by nginx alone. Absent for results without the core count.
 */
function machineBounds(r: CapacityResults, ceilingRate: number): string[] {
  const cores = r.cores;
  const buying = r.shop.buying[0];
  const ceiling = r.ceiling.closed[0];
  if (!cores || !buying?.cpu || !ceiling?.cpu) return [];
  const withoutApi = coresExcept(buying, API_ROLE, HARNESS_ROLE) / buying.report.perSecond;
  const bestBuying = cores / withoutApi;
  const perAnswerAtEdge = coresExcept(ceiling, HARNESS_ROLE) / ceiling.report.perSecond;
  const edgeCores = perAnswerAtEdge * r.overload.offeredPerSecond;
  return [
    '',
    '### What this machine allows, whatever a replica does',
    '',
    `- **Buying**: everything but the API replicas (nginx, Redis, the reconciler, Postgres, the client and the rest of the machine) spent ${fmt(withoutApi * 1e6)} µs of CPU per purchase in the buying run. With replicas that cost nothing, ${cores} cores would buy at most ${fmt(bestBuying)}/s, ${pct(bestBuying / ceilingRate)} of the ceiling (target ${pct(CAPACITY_TARGETS.buying)}).`,
    `- **Overload**: the ceiling run spent ${fmt(perAnswerAtEdge * 1e6)} µs of the machine's CPU per answer (nginx, the client and the rest). Answering the ${fmt(r.overload.offeredPerSecond)}/s offered at the edge alone, with no purchase served, would take ${fmt(edgeCores, 2)} of the ${cores} cores.`,
  ];
}

/** Results from before the client had threads ran on one. */
const clientThreads = (report: HerdReport | undefined) => {
  const threads = report?.threads ?? 1;
  return threads === 1 ? 'on one thread' : `on ${threads} threads`;
};

export function renderCapacity(r: CapacityResults): string {
  const c = r.ceiling;
  const s = r.shop;
  const herd1k = s.herd1k.map((h) => h.report);
  const herd10k = s.herd10k.map((h) => h.report);
  const ceilingRate = median(rates(reports(c.closed)));
  const ratio = (list: HerdReport[]) => median(rates(list)) / ceilingRate;
  const herdRatio = (shop: HerdReport[], ceiling: HerdReport[]) => median(p99s(shop)) / median(p99s(ceiling));
  const errors10k = herd10k.reduce((sum, h) => sum + errorCount(h), 0);
  const f = r.floor;
  const floorRate = f ? median(rates(reports(f.closed))) : NaN;
  const withFloor = (text: (floor: NonNullable<typeof f>) => string) => (f ? text(f) : '–');

  const rows = [
    {
      figure: '1,000-buyer herd, p99',
      ceiling: medianWithSpread(p99s(c.herd1k), 0, ' ms'),
      floor: withFloor((f) => `${medianWithSpread(p99s(f.herd1k), 0, ' ms')} (${fmt(herdRatio(f.herd1k, c.herd1k), 1)}×)`),
      shop: medianWithSpread(p99s(herd1k), 0, ' ms'),
      ratio: `${fmt(herdRatio(herd1k, c.herd1k), 1)}×`,
      target: `≤ ${CAPACITY_TARGETS.herd1kP99}×`,
      ok: herdRatio(herd1k, c.herd1k) <= CAPACITY_TARGETS.herd1kP99,
      ofFloor: withFloor((f) => `${fmt(herdRatio(herd1k, f.herd1k), 1)}×`),
    },
    {
      figure: '10,000-buyer herd, p99 (errors)',
      ceiling: medianWithSpread(p99s(c.herd10k), 0, ' ms'),
      floor: withFloor((f) => `${medianWithSpread(p99s(f.herd10k), 0, ' ms')} (${fmt(herdRatio(f.herd10k, c.herd10k), 1)}×)`),
      shop: `${medianWithSpread(p99s(herd10k), 0, ' ms')}, ${errors10k} errors`,
      ratio: `${fmt(herdRatio(herd10k, c.herd10k), 1)}×`,
      target: `≤ ${CAPACITY_TARGETS.herd10kP99}×, 0 errors`,
      ok: herdRatio(herd10k, c.herd10k) <= CAPACITY_TARGETS.herd10kP99 && errors10k === 0,
      ofFloor: withFloor((f) => `${fmt(herdRatio(herd10k, f.herd10k), 1)}×`),
    },
    ...(
      [
        ['sold-out path', reports(s.soldOut), CAPACITY_TARGETS.soldOut],
        ['buying path', reports(s.buying), CAPACITY_TARGETS.buying],
        ['status (micro-cache)', reports(s.status), CAPACITY_TARGETS.status],
      ] as const
    ).map(([figure, list, target]) => {
      // The status is nginx's micro-cache: it never reaches Node, so the floor does not bound it.
      const throughNode = figure !== 'status (micro-cache)';
      return {
        figure: `${figure}, ${r.concurrency} in flight`,
        ceiling: medianWithSpread(rates(reports(c.closed)), 0, '/s'),
        floor: throughNode ? withFloor((f) => `${medianWithSpread(rates(reports(f.closed)), 0, '/s')} (${pct(floorRate / ceilingRate)})`) : '–',
        shop: medianWithSpread(rates(list), 0, '/s'),
        ratio: pct(ratio(list)),
        target: `≥ ${pct(target)}`,
        ok: ratio(list) >= target,
        ofFloor: throughNode ? withFloor(() => pct(median(rates(list)) / floorRate)) : '–',
      };
    }),
  ];
  const floorMisses: [target: string, missed: boolean][] = f
    ? [
        ['the sold-out target', floorRate / ceilingRate < CAPACITY_TARGETS.soldOut],
        ['the buying target', floorRate / ceilingRate < CAPACITY_TARGETS.buying],
        ['the 1,000-buyer herd target', herdRatio(f.herd1k, c.herd1k) > CAPACITY_TARGETS.herd1kP99],
        ['the 10,000-buyer herd target', herdRatio(f.herd10k, c.herd10k) > CAPACITY_TARGETS.herd10kP99],
      ]
    : [];
  const floorBelow = floorMisses.filter(([, missed]) => missed).map(([target]) => target);
  const floorNote = !f
    ? []
    : [
        '',
        `The Node floor is the shop’s own nginx site in front of as many bare Node servers as the shop has replicas, each answering every request with the shop’s SOLD_OUT answer and doing nothing else (loadtest/bench/floor-server.ts): no path through a Node replica can be faster on this machine. ` +
          (floorBelow.length
            ? `The floor itself misses ${listed(floorBelow)}: that much of the gap is a Node process answering behind nginx on these two cores, not the shop’s own work.`
            : 'The floor meets every target: what separates the shop from them is its own work.'),
      ];

  const scalingRows = r.scaling.map(
    (p) => `| ${p.replicas} | ${p.cores} | ${fmt(p.soldOutPerSecond)} | ${fmt(p.buyingPerSecond)} |`,
  );
  const perCore = (replicas: number, key: 'soldOutPerSecond' | 'buyingPerSecond') => {
    const one = r.scaling.find((p) => p.replicas === replicas && p.cores === 1)?.[key] ?? NaN;
    const two = r.scaling.find((p) => p.replicas === replicas && p.cores === 2)?.[key] ?? NaN;
    return two / one;
  };
  const o = r.overload;

  return [
    `Measured on ${r.startedAt.slice(0, 16).replace('T', ' ')} UTC at commit ${r.commit}, on ${r.machine}.`,
    '',
    `The same client (loadtest/herd/herd.c: every shopper a fresh connection from its own loopback address; herds ${clientThreads(c.herd1k[0])}, throughput runs ${clientThreads(c.closed[0]?.report)}) against nginx answering by itself with the shop’s nginx.conf (the ceiling) and against the shop (${shopReplicas(r.replicas)}). Medians of ${c.herd1k.length} runs, the spread in brackets. Throughput runs keep ${r.concurrency} shoppers in flight.`,
    '',
    '| figure | ceiling | Node floor | Flash Flow | ratio | target | met | Flash Flow / floor |',
    '| --- | --- | --- | --- | --- | --- | --- | --- |',
    ...rows.map(
      (row) => `| ${row.figure} | ${row.ceiling} | ${row.floor} | ${row.shop} | ${row.ratio} | ${row.target} | ${mark(row.ok)} | ${row.ofFloor} |`,
    ),
    ...floorNote,
    '',
    'Every herd sells exactly its stock:',
    '',
    herdChecks('1,000 buyers, 1,000 units', s.herd1k),
    herdChecks('10,000 buyers, 1,000 units', s.herd10k),
    '',
    '### Where the CPU goes, per request',
    '',
    '| run | answers/s | API µs/request | nginx µs/request | cores by process |',
    '| --- | --- | --- | --- | --- |',
    cpuLine('ceiling', c.closed[0]),
    ...(f ? [cpuLine('Node floor', f.closed[0], NODE_FLOOR_ROLE)] : []),
    cpuLine('sold out', s.soldOut[0]),
    cpuLine('buying', s.buying[0]),
    cpuLine('status', s.status[0]),
    ...machineBounds(r, ceilingRate),
    '',
    '### Scaling: replicas pinned to one core, then two (`taskset`)',
    '',
    '| replicas | cores | sold out /s | buying /s |',
    '| --- | --- | --- | --- |',
    ...scalingRows,
    '',
    `From one core to two: ×${fmt(perCore(1, 'soldOutPerSecond'), 2)} sold out and ×${fmt(perCore(1, 'buyingPerSecond'), 2)} buying with one replica, ×${fmt(perCore(3, 'soldOutPerSecond'), 2)} and ×${fmt(perCore(3, 'buyingPerSecond'), 2)} with three. The load client, nginx and Redis share the same two cores, so two cores for the replicas is not twice the machine.`,
    '',
    `### Overload: ${fmt(o.offeredPerSecond)} purchases/s offered (${fmt(o.offeredPerSecond / o.capacityPerSecond, 1)}× the buying capacity)`,
    '',
    `Answers, over ${fmt(o.report.seconds)} s to the last one: ${JSON.stringify(o.report.statuses)}; p50 ${fmt(o.report.ms.p50)} ms, p99 ${fmt(o.report.ms.p99)} ms, longest ${fmt(o.report.ms.max)} ms; ${fmt(o.report.unsent)} the client could not send.`,
    '',
    ...o.checks.map((check) => `- ${mark(check.ok)} ${check.text}`),
    ...(o.kernel
      ? [
          '',
          `Before nginx read a byte: the kernel dropped ${fmt(o.kernel.listenOverflows)} connection attempts because nginx’s accept queue was full (ListenOverflows), and shoppers sent ${fmt(o.kernel.synRetransmits)} SYNs again (TCPSynRetrans). Linux sends an unanswered SYN again after 1 s, then 2 s, then 4 s: a shopper dropped twice is answered 3 s late at best, three times 7 s.`,
        ]
      : []),
    '',
    `Right after, second by second: ${o.recovery.timeline.map((second) => fmt(Object.values(second).reduce((a, b) => a + b, 0))).join(', ')} answers.`,
  ].join('\n');
}
