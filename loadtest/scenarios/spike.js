/**
 * spike: 500 shoppers press Buy at the same instant against 50 units.
 * Every virtual user starts together, sends one purchase with its own buyer
 * id from its own source address, and is done. Promises: no errors, no
 * overselling, median under 1 s (NF-2) and p99 under 1 s: 500 connections
 * opened in the same millisecond queue in the kernel and in nginx first.
 *   k6 run -e BASE_URL=… -e SALE_ID=… -e STOCK=50 --local-ips 127.22.0.1-127.22.255.254 loadtest/scenarios/spike.js
 */
import {
  STOCK,
  SUMMARY_TREND_STATS,
  buyerId,
  intEnv,
  purchase,
  purchaseThresholds,
  requireActiveSale,
  summaries,
} from '../lib/flash.js';

export const options = {
  scenarios: {
    spike: { executor: 'per-vu-iterations', vus: intEnv('VUS', 500), iterations: 1, maxDuration: '60s' },
  },
  thresholds: purchaseThresholds({ p50Ms: 1000, p99Ms: intEnv('P99_MS', 1000), maxConfirmed: STOCK || 50 }),
  summaryTrendStats: SUMMARY_TREND_STATS,
};

export const setup = requireActiveSale;

export default function (data) {
  purchase(buyerId(data, 'spike'));
}

export const handleSummary = summaries('spike');
