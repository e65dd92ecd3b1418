/**
 * herd: the thundering herd. 10,000 distinct buyers arrive within one
 * second against 100 units: an arrival-rate executor starts a new buyer
 * every 0.1 ms however slowly the shop answers, so the shop cannot pace its
 * own load. Each arrival is a new buyer id; each virtual user its own source
 * address. Promises: no errors, no overselling, p99 under 2 s (nginx's
 * global purchase limit queues the herd at 4,000 r/s, so the last arrivals
 * wait about 1.5 s by design).
 *   k6 run -e BASE_URL=… -e SALE_ID=… -e STOCK=100 --local-ips 127.24.0.1-127.24.255.254 loadtest/scenarios/herd.js
 */
import exec from 'k6/execution';
import {
  STOCK,
  SUMMARY_TREND_STATS,
  buyerId,
  intEnv,
  purchase,
  purchaseThresholds,
  requireActiveSale,
  summaries,
  textEnv,
} from '../lib/flash.js';

const BUYERS = intEnv('BUYERS', 10000);
const WINDOW = textEnv('WINDOW', '1s');
// Every arrival may still be waiting for its answer when the last one comes:
// enough virtual users, allocated up front, that no arrival is dropped.
const VUS = intEnv('VUS', BUYERS);

export const options = {
  scenarios: {
    herd: {
      executor: 'constant-arrival-rate',
      rate: BUYERS,
      timeUnit: WINDOW,
      duration: WINDOW,
      preAllocatedVUs: VUS,
      maxVUs: VUS,
      gracefulStop: '30s',
    },
  },
  thresholds: {
    ...purchaseThresholds({ p50Ms: 1000, p99Ms: intEnv('P99_MS', 2000), maxConfirmed: STOCK || 100 }),
    // A dropped arrival is a buyer the herd did not send: the test would be smaller than it says.
    dropped_iterations: [`count<=${intEnv('MAX_DROPPED', 0)}`],
    // k6 also falls behind silently when the machine is short of CPU (arrivals it had no time to
    // start before the window closed are not counted as dropped): the herd must really arrive.
    iterations: [`count>=${Math.floor(BUYERS * intEnv('MIN_ARRIVAL_SHARE', 0.95))}`],
  },
  summaryTrendStats: SUMMARY_TREND_STATS,
};

export const setup = requireActiveSale;

export default function (data) {
  purchase(buyerId(data, 'herd', exec.vu.iterationInScenario));
}

export const handleSummary = summaries('herd');
