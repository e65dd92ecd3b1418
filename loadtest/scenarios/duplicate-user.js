/**
 * duplicate-user: 100 virtual users press Buy at once with the same buyer id
 * (one person, many tabs and devices). Exactly one may succeed; every other
 * answer is 409 ALREADY_PURCHASED (NF-8, T-9). When this runs on several k6
 * instances they all use the same id on purpose: DUPLICATE_USER_ID.
 *   k6 run -e BASE_URL=… -e SALE_ID=… -e STOCK=10 --local-ips 127.23.0.1-127.23.255.254 loadtest/scenarios/duplicate-user.js
 */
import {
  SUMMARY_TREND_STATS,
  intEnv,
  purchase,
  purchaseThresholds,
  requireActiveSale,
  summaries,
  textEnv,
} from '../lib/flash.js';

const USER_ID = textEnv('DUPLICATE_USER_ID', 'same-buyer@example.com');

export const options = {
  scenarios: {
    'duplicate-user': { executor: 'per-vu-iterations', vus: intEnv('VUS', 100), iterations: 1, maxDuration: '60s' },
  },
  thresholds: {
    ...purchaseThresholds({ p50Ms: 1000, p99Ms: intEnv('P99_MS', 1000), maxConfirmed: 1 }),
    // The stock outlasts one buyer: nobody may be told SOLD_OUT.
    rejected_sold_out: ['count==0'],
  },
  summaryTrendStats: SUMMARY_TREND_STATS,
};

export const setup = requireActiveSale;

export default function () {
  purchase(USER_ID);
}

export const handleSummary = summaries('duplicate-user');
