/** docs/benchmarks.md from a run's results: the sections between the page's markers, each rendered here (page-sections.ts splices them). */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT } from '../../stack/src/config.js';
import type { CapacityResults } from './capacity.js';
import type { CpuSplit } from './cpu.js';
import { spliceSections } from './page-sections.js';
import type { ProfileSummary } from './profile.js';
import { fmt, median, pct, spread } from './statistics.js';

/** How the k6 sections loaded the stack, for the page to say. */
export interface LoadShape {
  runs: number;
  seconds: number;
  vus: number;
  purchaseVus: number;
  claimConcurrency: number;
  /** Each virtual user's pause between requests. */
  thinkSeconds: number;
  /** The loopback range the virtual users send from. */
  addresses: string;
  k6Version: string;
}

export interface HttpRun {
  rps: number;
  /** k6's time to open a TCP connection, 99th percentile (ms). */
  connectP99?: number;
  p50: number;
  p99: number;
  requests: number;
  unexpected: number;
  statuses: Record<string, number>;
  cpu?: CpuSplit;
  apiRps?: number;
}

export interface Measured {
  label: string;
  runs: HttpRun[];
}

export const summarise = (m: Measured) => {
  const rps = m.runs.map((r) => r.rps);
  return {
    rps: median(rps),
    rpsSpread: spread(rps),
    p50: median(m.runs.map((r) => r.p50)),
    p99: median(m.runs.map((r) => r.p99)),
    unexpected: m.runs.reduce((t, r) => t + r.unexpected, 0),
    requests: m.runs.reduce((t, r) => t + r.requests, 0),
    statuses: m.runs.reduce<Record<string, number>>((all, r) => {
      for (const [s, n] of Object.entries(r.statuses)) all[s] = (all[s] ?? 0) + n;
      return all;
    }, {}),
    apiRps: m.runs.some((r) => r.apiRps !== undefined) ? median(m.runs.map((r) => r.apiRps ?? 0)) : undefined,
  };
};


export interface ClaimRun {
  ops: number;
  p50: number;
  p99: number;
  outcomes: Record<string, number>;
}


export interface Results {
  machine: Record<string, string>;
  startedAt: string;
  minutes: number;
  loadBefore: number[];
  loadAfter: number[];
  ceilingK6: Measured;
  ceilingWrk: Measured;
  status: Measured;
  statusOpen: Measured;
  purchase: { replicas: number; buy: Measured; reject: Measured }[];
  claimRedis: ClaimRun[];
  claimRedisAcked: ClaimRun[];
  claimPg: ClaimRun[];
  burst: HerdRun[];
  herd: HerdRun[];
  profile: ProfileSummary | null;
  profileFile: string | null;
  cpuBuy: CpuSplit | null;
  cpuReject: CpuSplit | null;
  cpuCeiling: CpuSplit | null;
  cpuStatus: CpuSplit | null;
  herdStatic: Measured;
  herdNginxErrors: Record<string, number>;
  idleRss: { how: string; rssMb: number }[];
  capacity: CapacityResults;
}

export interface HerdRun {
  buyers: number;
  p50: number;
  p99: number;
  errors: number;
  arrivals: number;
  ok: boolean;
  invariantsOk: boolean;
  lagP99: number | null;
  rss: { port: number; hwmMb: number }[];
  statuses: string;
}

const BENCHMARK_PAGE = join(REPO_ROOT, 'docs/benchmarks.md');

/** Rewrites the generated sections of docs/benchmarks.md, leaving the prose kept by hand; returns the page. */
export function writeBenchmarkPage(sections: Record<string, string>): string {
  const page = spliceSections(readFileSync(BENCHMARK_PAGE, 'utf8'), sections);
  writeFileSync(BENCHMARK_PAGE, page);
  return page;
}

/** The sections of docs/benchmarks.md that this run writes; the prose around them is kept by hand. */
export function renderSections(r: Results, shape: LoadShape): Record<string, string> {
  const ceiling = summarise(r.ceilingK6);
  const status = summarise(r.status);
  const statusOpen = summarise(r.statusOpen);
  const rows = (m: Measured, ratioTo: number) => {
    const s = summarise(m);
    return `| ${m.label} | ${fmt(s.rps)} | ${fmt(s.rpsSpread.min)}–${fmt(s.rpsSpread.max)} | ${fmt(s.p50, 1)} | ${fmt(s.p99, 1)} | ${pct(s.rps / ratioTo)} | ${describeStatuses(s.statuses)} |`;
  };
  const purchase3 = r.purchase.find((p) => p.replicas === 3) ?? r.purchase[r.purchase.length - 1]!;
  const buyBest = Math.max(...r.purchase.map((p) => summarise(p.buy).rps));
  const rejectBest = Math.max(...r.purchase.map((p) => summarise(p.reject).rps));
  const redis = median(r.claimRedis.map((c) => c.ops));
  const pg = median(r.claimPg.map((c) => c.ops));
  const burstP99 = median(r.burst.map((h) => h.p99));
  const herdP99 = median(r.herd.map((h) => h.p99));
  const herdP50At1k = median(r.burst.map((h) => h.p50));
  const burstErrors = r.burst.reduce((t, h) => t + h.errors, 0);
  const herdErrors = r.herd.reduce((t, h) => t + h.errors, 0);
  const rssPeak = Math.max(...r.herd.flatMap((h) => h.rss.map((x) => x.hwmMb)));
  const lagP99s = r.herd.map((h) => h.lagP99).filter((x): x is number => x !== null);
  const lagP99 = lagP99s.length ? median(lagP99s) : NaN;

  type Target = { what: string; measured: string; target: string; met: boolean; gap: string };
  const targets: Target[] = [];
  const ratioTarget = (what: string, value: number, goal: number) =>
    targets.push({
      what,
      measured: pct(value),
      target: `≥ ${pct(goal)}`,
      met: value >= goal,
      gap: value >= goal ? '' : `missed by ${((goal - value) * 100).toFixed(0)} points (${(goal / value).toFixed(1)}× short)`,
    });
  ratioTarget('purchase path (buying, best replica count) / ceiling', buyBest / ceiling.rps, 0.3);
  ratioTarget('rejection path after sell-out (best) / ceiling', rejectBest / ceiling.rps, 0.5);
  ratioTarget('status through the micro-cache / ceiling', status.rps / ceiling.rps, 0.8);
  targets.push({
    what: 'API requests per second behind the status storm',
    measured: `${fmt(statusOpen.apiRps ?? NaN, 1)}/s at ${fmt(statusOpen.rps)} req/s served`,
    target: 'a few per second',
    met: (statusOpen.apiRps ?? Infinity) <= 5,
    gap: (statusOpen.apiRps ?? Infinity) <= 5 ? '' : 'more than 5/s',
  });
  const latencyTarget = (what: string, errors: number, p99: number, goal: number) =>
    targets.push({
      what,
      measured: `${errors} errors, p99 ${fmt(p99)} ms`,
      target: `0 errors, p99 < ${fmt(goal)} ms`,
      met: errors === 0 && p99 < goal,
      gap:
        errors === 0 && p99 < goal
          ? ''
          : [errors ? `${errors} errors` : '', p99 >= goal ? `p99 ${(p99 / goal).toFixed(1)}× the bound` : ''].filter(Boolean).join(', '),
    });
  latencyTarget('1,000-buyer burst (1 s)', burstErrors, burstP99, 250);
  latencyTarget('10,000-buyer herd (1 s)', herdErrors, herdP99, 2000);
  targets.push({
    what: 'median at 1,000 buyers (NF-2)',
    measured: `${fmt(herdP50At1k)} ms`,
    target: '< 1,000 ms',
    met: herdP50At1k < 1000,
    gap: herdP50At1k < 1000 ? '' : `${(herdP50At1k / 1000).toFixed(1)}× the bound`,
  });
  targets.push({
    what: 'Redis claim / Postgres transactional claim',
    measured: `${(redis / pg).toFixed(1)}×`,
    target: '≥ 10×',
    met: redis / pg >= 10,
    gap: redis / pg >= 10 ? '' : `${(10 / (redis / pg)).toFixed(1)}× short`,
  });
  targets.push({
    what: 'API replica peak RSS under the herd',
    measured: `${fmt(rssPeak)} MB`,
    target: '< 150 MB',
    met: rssPeak < 150,
    gap: rssPeak < 150 ? '' : `${fmt(rssPeak - 150)} MB over`,
  });
  targets.push({
    what: 'reconcile lag p99 during the herd',
    measured: `${fmt(lagP99 * 1000)} ms`,
    target: '< 1,000 ms',
    met: lagP99 < 1,
    gap: lagP99 < 1 ? '' : `${(lagP99).toFixed(1)} s`,
  });

  const cpuTable = (title: string, cpu: CpuSplit | null) =>
    cpu
      ? [
          `| ${title} | cores |`,
          '| --- | ---: |',
          ...Object.entries(cpu)
            .sort((a, b) => b[1] - a[1])
            .filter(([, v]) => v >= 0.005)
            .map(([role, cores]) => `| ${role} | ${cores.toFixed(2)} |`),
          '',
        ].join('\n')
      : '';

  const m = r.machine;
  return {
    run: `Measured by \`npm run bench\` (loadtest/bench.ts) in one run on ${r.startedAt.slice(0, 16).replace('T', ' ')} UTC, ${r.minutes.toFixed(1)} minutes.
Every figure is the **median of ${shape.runs} runs** of ${shape.seconds} s (spread: lowest–highest), all on the same
machine as the whole stack *and* the load generator. Ratios compare figures from this same run.
Regenerate with \`npm run bench\`; raw numbers land in \`.flash/bench-results/<time>/results.json\`.
`,
    machine: `| | |
| --- | --- |
| CPUs (nproc) | ${m.cpus} |
| memory | ${m.memory} |
| kernel | ${m.kernel} |
| Node.js | ${m.node} |
| nginx | ${m.nginx} |
| Redis | ${m.redis} |
| PostgreSQL | ${m.postgres} |
| load generator | ${m.k6} (built from source, pinned ${shape.k6Version}); ${(m.wrk ?? '').split(' ').slice(0, 2).join(' ')} |
| load average before / after | ${r.loadBefore.map((x) => x.toFixed(2)).join(' ')} / ${r.loadAfter.map((x) => x.toFixed(2)).join(' ')} (the machine is shared) |

**The load shape** of the sections below (the capacity section above uses the herd client instead): k6, closed loop, each virtual user sending from
its own loopback address (\`--local-ips ${shape.addresses}\`) and pausing ${shape.thinkSeconds * 1000} ms between requests, so no
address exceeds nginx's per-address purchase limit (10 r/s). The ceiling and the status endpoint get ${fmt(shape.vus)}
virtual users (at most ${fmt(shape.vus / shape.thinkSeconds)} req/s offered); the purchase path gets ${fmt(shape.purchaseVus)} (at most
${fmt(shape.purchaseVus / shape.thinkSeconds)} req/s offered, more than the replicas answer here).
The rows "at 10,000 req/s offered" and the herds are open model instead: arrivals at a fixed rate, whatever
the answers. k6 shares the 2 CPUs with everything it measures, so the "ceiling" is the ceiling *through this
client*; wrk (one address, 256 connections, ${Math.min(shape.seconds, 5)} s) shows nginx alone.
`,
    ceiling: `| what | req/s (median) | spread | p50 ms | p99 ms | of ceiling | answers |
| --- | ---: | ---: | ---: | ---: | ---: | --- |
${rows(r.ceilingK6, ceiling.rps)}
${rows(r.ceilingWrk, ceiling.rps)}
${rows(r.status, ceiling.rps)}
${rows(r.statusOpen, ceiling.rps)}

While k6 offered 10,000 status requests per second (open model, ${fmt(statusOpen.rps)} req/s served), **${fmt(statusOpen.apiRps ?? NaN, 1)} requests per second reached the API**
(summed over the replicas' \`flashflow_http_requests_total\`): the one-second micro-cache with
\`proxy_cache_lock\` and background updates lets about one request per second through, whatever the client rate.
`,
    purchase: `| replicas | phase | req/s (median) | spread | p50 ms | p99 ms | of ceiling | answers |
| ---: | --- | ---: | ---: | ---: | ---: | ---: | --- |
${r.purchase
  .flatMap((p) =>
    (['buy', 'reject'] as const).map((phase) => {
      const s = summarise(p[phase]);
      return `| ${p.replicas} | ${phase === 'buy' ? 'buying' : 'sold out'} | ${fmt(s.rps)} | ${fmt(s.rpsSpread.min)}–${fmt(s.rpsSpread.max)} | ${fmt(s.p50, 1)} | ${fmt(s.p99, 1)} | ${pct(s.rps / ceiling.rps)} | ${describeStatuses(s.statuses)} |`;
    }),
  )
  .join('\n')}
`,
    claim: `${shape.claimConcurrency} claims in flight at a time from one Node process, ${Math.min(shape.seconds, 5)} s per run, a new buyer per claim.

| claim | claims/s (median) | spread | p50 ms | p99 ms |
| --- | ---: | ---: | ---: | ---: |
| Redis Lua script | ${fmt(redis)} | ${fmt(spread(r.claimRedis.map((c) => c.ops)).min)}–${fmt(spread(r.claimRedis.map((c) => c.ops)).max)} | ${fmt(median(r.claimRedis.map((c) => c.p50)), 2)} | ${fmt(median(r.claimRedis.map((c) => c.p99)), 2)} |
${
  r.claimRedisAcked.length
    ? `| Redis Lua script + replica acknowledgement (WAIT, as the API now answers) | ${fmt(median(r.claimRedisAcked.map((c) => c.ops)))} | ${fmt(spread(r.claimRedisAcked.map((c) => c.ops)).min)}–${fmt(spread(r.claimRedisAcked.map((c) => c.ops)).max)} | ${fmt(median(r.claimRedisAcked.map((c) => c.p50)), 2)} | ${fmt(median(r.claimRedisAcked.map((c) => c.p99)), 2)} |\n`
    : ''
}| Postgres transaction | ${fmt(pg)} | ${fmt(spread(r.claimPg.map((c) => c.ops)).min)}–${fmt(spread(r.claimPg.map((c) => c.ops)).max)} | ${fmt(median(r.claimPg.map((c) => c.p50)), 2)} | ${fmt(median(r.claimPg.map((c) => c.p99)), 2)} |

Redis is **${(redis / pg).toFixed(1)}×** the Postgres claim at the same concurrency.
`,
    herds: `| buyers in 1 s | run | arrived | p50 ms | p99 ms | errors | answers | invariants | reconcile lag p99 | peak RSS per replica (MB) |
| ---: | ---: | ---: | ---: | ---: | ---: | --- | --- | ---: | --- |
${[...r.burst, ...r.herd]
  .map(
    (h, i) =>
      `| ${fmt(h.buyers)} | ${(i % shape.runs) + 1} | ${fmt(h.arrivals)} | ${fmt(h.p50)} | ${fmt(h.p99)} | ${h.errors} | ${h.statuses} | ${h.invariantsOk ? 'held' : '**broken**'} | ${h.lagP99 === null ? 'n/a' : `${fmt(h.lagP99 * 1000)} ms`} | ${h.rss.map((x) => fmt(x.hwmMb)).join(' / ')} |`,
  )
  .join('\n')}

The same shape, 10,000 arrivals within one second from 10,000 addresses, against the static 200
(nothing behind nginx) shows what the load generator and the kernel manage on their own:

| run | requests answered | p50 ms | p99 ms | TCP connect p99 ms | not 200 |
| ---: | ---: | ---: | ---: | ---: | ---: |
${r.herdStatic.runs
  .map((h, i) => `| ${i + 1} | ${fmt(h.requests)} | ${fmt(h.p50)} | ${fmt(h.p99)} | ${fmt(h.connectP99 ?? NaN)} | ${fmt(h.unexpected)} |`)
  .join('\n')}
`,
    targets: `| target | measured | goal | verdict |
| --- | --- | --- | --- |
${targets.map((t) => `| ${t.what} | ${t.measured} | ${t.target} | ${t.met ? 'met' : `**missed**: ${t.gap}`} |`).join('\n')}
`,
    cpu: `CPU used per process group while k6 ran (cores, averaged over the run; 2.00 = the whole machine):

${cpuTable('static 200 (ceiling)', r.cpuCeiling)}
${cpuTable('status at 10,000 req/s offered', r.cpuStatus)}
${cpuTable(`purchase, buying, ${purchase3.replicas} replicas`, r.cpuBuy)}
${cpuTable(`purchase, sold out, ${purchase3.replicas} replicas`, r.cpuReject)}
`,
    profile: r.profile
      ? `One API replica under \`node --cpu-prof\` while k6 bought through it (self time; the profile is
\`${r.profileFile?.replace(REPO_ROOT, '')}\`, open it in Chrome DevTools or speedscope for the flame graph):

| area | share of busy time |
| --- | ---: |
${r.profile.areas.map((a) => `| ${a.name} | ${pct(a.share)} |`).join('\n')}

The replica was idle (waiting for I/O) ${pct(r.profile.idleShare)} of the profile; the shares above are of the busy time, and include
the replica's start-up (module loading) in the first second of the profile.

| hottest functions (self time) | share |
| --- | ---: |
${r.profile.functions.map((f) => `| \`${f.name.replace(/\|/g, '\\|')}\` | ${(f.share * 100).toFixed(1)}% |`).join('\n')}
`
      : 'The CPU profile could not be taken in this run.',
  };
}

function describeStatuses(statuses: Record<string, number>): string {
  const entries = Object.entries(statuses).sort((a, b) => b[1] - a[1]);
  if (!entries.length) return '';
  return entries.map(([s, n]) => `${s === '0' ? 'no answer' : s}: ${fmt(n)}`).join(', ');
}

