/**
 * The load suite: each k6 scenario with the sale it runs against, at full
 * size (npm run loadtest, issue 5) and at smoke size (the test command).
 */
import { join } from 'node:path';
import { REPO_ROOT } from '../stack/src/config.js';

export type ScenarioName = 'ramp' | 'spike' | 'duplicate-user' | 'herd' | 'status-storm';
export type Size = 'full' | 'smoke';

/** What the verifier expects of the stores afterwards. */
export type Expectation =
  /** Distinct buyers: confirmed == min(stock, distinct buyers). */
  | 'distinct-buyers'
  /** One buyer id from every virtual user: exactly one confirmed. */
  | 'one-buyer'
  /** Nobody buys; nearly nothing may reach the API. */
  | 'status-only';

export interface ScenarioPlan {
  name: ScenarioName;
  /** What it models, for the report's heading. */
  title: string;
  script: string;
  stock: number;
  expectation: Expectation;
  /** Source addresses for k6's --local-ips: each virtual user gets its own. */
  localIps: string;
  /** -e settings for the script (sizes); BASE_URL, SALE_ID, STOCK and the rest are added by the harness. */
  env: Record<string, string>;
  /** For status-only: how many requests per second may reach the API at most. */
  maxApiRequestsPerSecond?: number;
}

export const SCENARIO_NAMES: ScenarioName[] = ['ramp', 'spike', 'duplicate-user', 'herd', 'status-storm'];

const script = (name: ScenarioName) => join(REPO_ROOT, 'loadtest/scenarios', `${name}.js`);
/** 127.<octet>.0.1 – 127.<octet>.255.254: 65,000 loopback addresses, none ending in .0 or .255. */
const addresses = (octet: number) => `127.${octet}.0.1-127.${octet}.255.254`;

const FULL: Record<ScenarioName, Omit<ScenarioPlan, 'name' | 'script'>> = {
  ramp: {
    title: '0 → 1,000 virtual users over 30 s against 100 units',
    stock: 100,
    expectation: 'distinct-buyers',
    localIps: addresses(21),
    env: { VUS: '1000', RAMP: '30s', HOLD: '3s' },
  },
  spike: {
    title: '500 virtual users at once against 50 units',
    stock: 50,
    expectation: 'distinct-buyers',
    localIps: addresses(22),
    env: { VUS: '500' },
  },
  'duplicate-user': {
    title: '100 virtual users with the same buyer id',
    stock: 10,
    expectation: 'one-buyer',
    localIps: addresses(23),
    env: { VUS: '100' },
  },
  herd: {
    title: '10,000 distinct buyers arriving within one second against 100 units',
    stock: 100,
    expectation: 'distinct-buyers',
    localIps: addresses(24),
    env: { BUYERS: '10000', WINDOW: '1s' },
  },
  'status-storm': {
    title: '10,000 status requests per second for 30 s',
    stock: 100,
    expectation: 'status-only',
    localIps: addresses(25),
    env: { RATE: '10000', DURATION: '30s' },
    maxApiRequestsPerSecond: 5,
  },
};

/** Same shapes, small: the whole set in well under two minutes on two cores. */
const SMOKE: Record<ScenarioName, Omit<ScenarioPlan, 'name' | 'script'>> = {
  ramp: {
    title: '0 → 100 virtual users over 5 s against 10 units',
    stock: 10,
    expectation: 'distinct-buyers',
    localIps: addresses(21),
    env: { VUS: '100', RAMP: '5s', HOLD: '2s' },
  },
  spike: {
    title: '100 virtual users at once against 10 units',
    stock: 10,
    expectation: 'distinct-buyers',
    localIps: addresses(22),
    env: { VUS: '100' },
  },
  'duplicate-user': {
    title: '50 virtual users with the same buyer id',
    stock: 10,
    expectation: 'one-buyer',
    localIps: addresses(23),
    env: { VUS: '50' },
  },
  herd: {
    title: '1,000 distinct buyers arriving within one second against 20 units',
    stock: 20,
    expectation: 'distinct-buyers',
    localIps: addresses(24),
    // A busy two-core machine makes k6 start fewer arrivals than planned; the smoke accepts 80%.
    env: { BUYERS: '1000', WINDOW: '1s', MIN_ARRIVAL_SHARE: '0.8' },
  },
  'status-storm': {
    title: '1,000 status requests per second for 5 s',
    stock: 10,
    expectation: 'status-only',
    localIps: addresses(25),
    env: { RATE: '1000', DURATION: '5s' },
    maxApiRequestsPerSecond: 5,
  },
};

export function scenarioPlans(size: Size, only: ScenarioName[] = SCENARIO_NAMES): ScenarioPlan[] {
  const table = size === 'full' ? FULL : SMOKE;
  return only.map((name) => ({ name, script: script(name), ...table[name] }));
}
