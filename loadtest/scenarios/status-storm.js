/**
 * status-storm: 10,000 requests per second on the status endpoint for 30 s,
 * every shopper's page polling at once. nginx's one-second micro-cache must
 * answer nearly all of them: the verifier counts how many reached the API.
 *   k6 run -e BASE_URL=… -e SALE_ID=… --local-ips 127.25.0.1-127.25.255.254 loadtest/scenarios/status-storm.js
 */
import { SUMMARY_TREND_STATS, getStatus, intEnv, requireActiveSale, summaries, textEnv } from '../lib/flash.js';

const RATE = intEnv('RATE', 10000);
// Each virtual user has its own address; enough of them that none nears the
// per-address status limit (50 r/s): about 10 r/s each at full rate. (More
// VUs cost k6 more CPU than they save in waiting on this two-core machine.)
const VUS = intEnv('VUS', Math.max(100, Math.ceil(RATE / 10)));
const DURATION = textEnv('DURATION', '30s');

export const options = {
  scenarios: {
    'status-storm': {
      executor: 'constant-arrival-rate',
      rate: RATE,
      timeUnit: '1s',
      duration: DURATION,
      preAllocatedVUs: VUS,
      maxVUs: VUS,
    },
  },
  thresholds: {
    'http_req_failed{name:status}': ['rate==0'],
    'checks{check:status answered 200 for the sale}': ['rate==1'],
    'http_req_duration{name:status}': ['p(50)<100', `p(99)<${intEnv('P99_MS', 250)}`],
    // The storm must really blow: at most 10% of the planned requests may go unsent for want of a free VU.
    dropped_iterations: [`count<=${Math.floor(RATE * seconds(DURATION) * 0.1)}`],
  },
  summaryTrendStats: SUMMARY_TREND_STATS,
};

function seconds(duration) {
  const match = /^(\d+)(ms|s|m)$/.exec(duration);
  if (!match) throw new Error(`DURATION must look like 30s, 500ms or 2m, got "${duration}"`);
  return Number(match[1]) * { ms: 0.001, s: 1, m: 60 }[match[2]];
}

export const setup = requireActiveSale;

export default function () {
  getStatus();
}

export const handleSummary = summaries('status-storm');
