/**
 * ramp: shoppers keep arriving. 0 → 1,000 virtual users over 30 s against
 * 100 units (T-7, NF-1, NF-2). Each virtual user is one shopper with one
 * buyer id and its own source address: the page asks for the sale, the
 * shopper presses Buy, and after a final answer (bought, already bought,
 * sold out) only keeps watching the page, about once a second. Promises: no
 * errors, no overselling, median under 1 s (NF-2) and p99 under 250 ms (the
 * 1,000-buyer target of issue 5).
 *   k6 run -e BASE_URL=… -e SALE_ID=… -e STOCK=100 --local-ips 127.21.0.1-127.21.255.254 loadtest/scenarios/ramp.js
 */
import {
  STOCK,
  SUMMARY_TREND_STATS,
  buyerId,
  getStatus,
  intEnv,
  purchase,
  purchaseThresholds,
  requireActiveSale,
  summaries,
  textEnv,
  think,
} from '../lib/flash.js';

const VUS = intEnv('VUS', 1000);

export const options = {
  scenarios: {
    ramp: {
      executor: 'ramping-vus',
      startVUs: 0,
      // Up over RAMP, then a short hold so the last shoppers to arrive get to press Buy.
      stages: [
        { duration: textEnv('RAMP', '30s'), target: VUS },
        { duration: textEnv('HOLD', '3s'), target: VUS },
      ],
      gracefulRampDown: '5s',
      gracefulStop: '10s',
    },
  },
  thresholds: {
    ...purchaseThresholds({ p50Ms: 1000, p99Ms: intEnv('P99_MS', 250), maxConfirmed: STOCK || 100 }),
    'http_req_failed{name:status}': ['rate==0'],
  },
  summaryTrendStats: SUMMARY_TREND_STATS,
};

export const setup = requireActiveSale;

/** Per virtual user: has this shopper had a final answer yet? */
let answered = false;

export default function (data) {
  getStatus();
  if (!answered) answered = purchase(buyerId(data, 'ramp')).final;
  think(1);
}

export const handleSummary = summaries('ramp');
