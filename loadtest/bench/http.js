/**
 * The benchmarks' load shape (loadtest/bench.ts runs it): one request kind,
 * the same client for every target so ratios compare like with like.
 *   MODE=closed  VUS virtual users, each its own source address, looping for
 *                DURATION with THINK seconds between requests (THINK keeps each
 *                address under nginx's per-address limits; the shop cannot
 *                tell a looping VU from shoppers behind one address).
 *   MODE=open    RATE requests per second for DURATION, whatever the answers.
 *   KIND=static | status | purchase  (purchase: a new buyer id per request)
 * Writes only a JSON summary to SUMMARY_FILE.
 */
import http from 'k6/http';
import exec from 'k6/execution';
import { sleep } from 'k6';
import { Counter } from 'k6/metrics';

const URL = __ENV.URL;
const KIND = __ENV.KIND || 'static';
const MODE = __ENV.MODE || 'closed';
const VUS = Number(__ENV.VUS || 1000);
const DURATION = __ENV.DURATION || '8s';
const THINK = Number(__ENV.THINK || 0.1);
const PREFIX = __ENV.PREFIX || 'bench';

const unexpected = new Counter('unexpected_responses');
const expected = KIND === 'purchase' ? http.expectedStatuses(201, 409) : http.expectedStatuses(200);

export const options = {
  scenarios: {
    bench:
      MODE === 'open'
        ? {
            executor: 'constant-arrival-rate',
            rate: Number(__ENV.RATE || 10000),
            timeUnit: '1s',
            duration: DURATION,
            preAllocatedVUs: VUS,
            maxVUs: VUS,
          }
        : { executor: 'constant-vus', vus: VUS, duration: DURATION, gracefulStop: '5s' },
  },
  summaryTrendStats: ['avg', 'min', 'med', 'max', 'p(90)', 'p(95)', 'p(99)'],
  // Bench runs measure; they never stop early, and the JSON says what broke.
  // (Always-true thresholds make k6 keep a count per answer status in the summary.)
  thresholds: Object.fromEntries(
    ['unexpected_responses', ...[0, 200, 201, 409, 429, 502, 503, 504].map((s) => `http_reqs{status:${s}}`)].map((m) => [
      m,
      ['count>=0'],
    ]),
  ),
};

const params = {
  headers: { 'Content-Type': 'application/json' },
  timeout: '30s',
  responseCallback: expected,
};

export default function () {
  let res;
  if (KIND === 'purchase') {
    const userId = `${PREFIX}-${exec.vu.idInTest}-${exec.vu.iterationInScenario}`;
    res = http.post(URL, JSON.stringify({ userId }), params);
    if (res.status !== 201 && res.status !== 409) unexpected.add(1);
  } else {
    res = http.get(URL, params);
    if (res.status !== 200) unexpected.add(1);
  }
  if (MODE === 'closed' && THINK > 0) sleep(THINK);
}

export function handleSummary(data) {
  return { [__ENV.SUMMARY_FILE]: JSON.stringify(data) };
}
