/**
 * What every Flash Flow k6 scenario shares: the endpoints, the shopper's two
 * requests, the fail-fast setup, the counters thresholds are written on, and
 * the summary files. No remote imports: the load machine may have no network.
 *
 * Settings arrive with -e (the runner, loadtest/run.ts, passes them):
 *   BASE_URL     the shop's front door (nginx), e.g. http://127.0.0.1:28080
 *   SALE_ID      the sale the runner created with the operator command; setup() refuses any other
 *   STOCK        its units, for the "never more confirmations than units" threshold
 *   K6_INSTANCE  prefix that keeps buyer ids unique when several k6 instances run one scenario
 *                (default: a random one drawn by each instance's setup())
 *   SUMMARY_DIR  where handleSummary writes <scenario>.summary.json and .summary.html
 *   SUMMARY_STDOUT  false: no text summary on stdout (one k6 of several: the runner prints their merged report)
 *
 * Every purchase answer is logged as one JSON line (console.log; the runner
 * sends it to a file with --console-output and --log-format json), so the
 * verifier can check each 201 against Postgres:
 *   {"flash":"purchase","userId":…,"status":201,"code":null,"purchaseId":…,"ms":12.3}
 */
import http from 'k6/http';
import exec from 'k6/execution';
import { check, fail, sleep } from 'k6';
import { Counter } from 'k6/metrics';

export const BASE_URL = (__ENV.BASE_URL || 'http://127.0.0.1:8080').replace(/\/$/, '');
export const SALE_ID = __ENV.SALE_ID || '';
/** Set per instance when one scenario runs on several k6 instances; otherwise setup() draws one. */
export const INSTANCE = __ENV.K6_INSTANCE || '';
export const STOCK = intEnv('STOCK', 0);

const STATUS_URL = `${BASE_URL}/api/v1/flash-sales/current`;
const PURCHASE_URL = `${STATUS_URL}/purchase`;

/** A purchase is answered 201 or 409; anything else (429, 5xx, no answer) is a broken promise. */
const PURCHASE_ANSWERS = http.expectedStatuses(201, 409);
const STATUS_ANSWERS = http.expectedStatuses(200);

export const confirmed = new Counter('purchases_confirmed');
export const soldOut = new Counter('rejected_sold_out');
export const alreadyPurchased = new Counter('rejected_already_purchased');
/** 409 SALE_NOT_ACTIVE, 429 from nginx or the per-buyer limit, 5xx, timeouts, refused connections. */
export const unexpected = new Counter('unexpected_responses');

export function intEnv(name, fallback) {
  const raw = __ENV[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value)) throw new Error(`${name} must be a number, got "${raw}"`);
  return value;
}

export function textEnv(name, fallback) {
  const raw = __ENV[name];
  return raw === undefined || raw === '' ? fallback : raw;
}

/**
 * A buyer id no other VU, iteration or k6 instance produces:
 * <instance>-<scenario>-<vu>[-<suffix>]. `data` is what setup() returned.
 */
export function buyerId(data, scenario, suffix) {
  return `${data.instance}-${scenario}-${exec.vu.idInTest}${suffix === undefined ? '' : `-${suffix}`}`;
}

/** Thresholds every purchase scenario keeps; callers add latency bounds and their own. */
export function purchaseThresholds({ p50Ms, p99Ms, maxConfirmed }) {
  return {
    // No 5xx, no 429, no network errors, no "not active": only 201 and 409 SOLD_OUT / ALREADY_PURCHASED.
    unexpected_responses: ['count==0'],
    'http_req_failed{name:purchase}': ['rate==0'],
    'checks{check:purchase answered}': ['rate==1'],
    // What the client saw never exceeds the stock (the verifier checks the stores too).
    purchases_confirmed: [`count<=${maxConfirmed}`],
    'http_req_duration{name:purchase}': [`p(50)<${p50Ms}`, `p(99)<${p99Ms}`],
  };
}

export const SUMMARY_TREND_STATS = ['avg', 'min', 'med', 'max', 'p(90)', 'p(95)', 'p(99)'];

/**
 * setup(): the sale the runner created must be the current one and active,
 * as seen through nginx (its status micro-cache may lag a second or two).
 * Anything else stops the test before a single purchase is sent.
 */
export function requireActiveSale() {
  if (!SALE_ID) {
    fail('SALE_ID is not set: create the sale with the operator command (api/dist/cli/sale.js create …) and pass -e SALE_ID=<id>');
  }
  confirmed.add(0);
  soldOut.add(0);
  alreadyPurchased.add(0);
  unexpected.add(0);
  const deadline = Date.now() + intEnv('SETUP_TIMEOUT_MS', 15000);
  let seen = 'nothing yet';
  while (Date.now() < deadline) {
    const res = http.get(STATUS_URL, { tags: { name: 'setup' }, timeout: '5s', responseCallback: STATUS_ANSWERS });
    if (res.status === 200) {
      const sale = res.json('data');
      if (sale && sale.id === SALE_ID && sale.status === 'active') {
        // setup() runs once per k6 instance and its result reaches every VU: one prefix per instance.
        const instance = INSTANCE || `k6${Date.now().toString(36)}${Math.floor(Math.random() * 1e6).toString(36)}`;
        return { saleId: sale.id, totalStock: sale.totalStock, instance };
      }
      seen = sale ? `sale ${sale.id} (${sale.status})` : 'no sale';
    } else {
      seen = `HTTP ${res.status} ${res.error || ''}`.trim();
    }
    sleep(0.25);
  }
  return fail(`the current sale at ${STATUS_URL} is not ${SALE_ID} or not active (last seen: ${seen})`);
}

/** The shopper's page asking for the sale; true when it answered 200 for our sale. */
export function getStatus() {
  const res = http.get(STATUS_URL, { tags: { name: 'status' }, timeout: '10s', responseCallback: STATUS_ANSWERS });
  // A substring test, not a JSON parse: at 10,000 requests a second k6's own CPU is the scarce thing.
  const ours = res.status === 200 && typeof res.body === 'string' && res.body.indexOf(`"id":"${SALE_ID}"`) >= 0;
  return check(res, { 'status answered 200 for the sale': () => ours });
}

/**
 * One purchase attempt. Returns { status, code, final }: final means the
 * buyer has their answer (bought, already bought, sold out) and stops trying.
 */
export function purchase(userId) {
  const res = http.post(PURCHASE_URL, JSON.stringify({ userId }), {
    headers: { 'Content-Type': 'application/json' },
    tags: { name: 'purchase' },
    timeout: '30s',
    responseCallback: PURCHASE_ANSWERS,
  });
  let code = null;
  let purchaseId = null;
  try {
    if (res.status === 201) purchaseId = res.json('data.purchaseId');
    else if (res.body) code = res.json('error.code');
  } catch {
    code = 'UNPARSEABLE';
  }
  const known = (res.status === 201 && purchaseId) || (res.status === 409 && (code === 'SOLD_OUT' || code === 'ALREADY_PURCHASED'));
  check(res, { 'purchase answered': () => known });
  if (res.status === 201) confirmed.add(1);
  else if (code === 'SOLD_OUT') soldOut.add(1);
  else if (code === 'ALREADY_PURCHASED') alreadyPurchased.add(1);
  if (!known) unexpected.add(1);
  // The verifier's evidence: k6 writes console output to the file given with --console-output.
  console.log(
    JSON.stringify({
      flash: 'purchase',
      userId,
      status: res.status,
      code: code || (res.status === 0 ? `NETWORK_${res.error_code}` : null),
      purchaseId,
      ms: Math.round(res.timings.duration * 100) / 100,
    }),
  );
  return { status: res.status, code, final: Boolean(known) };
}

/** A pause that never lets one VU exceed the per-address purchase limit. */
export function think(seconds) {
  if (seconds > 0) sleep(seconds);
}

// ---------------------------------------------------------------- summaries

const escapeHtml = (value) =>
  String(value).replace(/[&<>"']/g, (ch) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[ch]);

function formatValue(name, type, key, value) {
  if (typeof value !== 'number') return String(value);
  if (key === 'rate' && type === 'rate') return `${(value * 100).toFixed(2)}%`;
  if (key === 'rate') return `${value.toFixed(1)}/s`;
  if (type === 'trend' && /duration|waiting|blocked|connecting|sending|receiving/.test(name)) return `${value.toFixed(2)} ms`;
  return Number.isInteger(value) ? String(value) : value.toFixed(2);
}

function thresholdLines(data) {
  const lines = [];
  for (const [name, metric] of Object.entries(data.metrics)) {
    for (const [expression, result] of Object.entries(metric.thresholds || {})) {
      lines.push({ ok: result.ok, text: `${name}: ${expression}` });
    }
  }
  return lines;
}

function textSummary(scenario, data) {
  const lines = [`\n${scenario}: ${data.state && data.state.testRunDurationMs ? (data.state.testRunDurationMs / 1000).toFixed(1) : '?'} s`];
  for (const { ok, text } of thresholdLines(data)) lines.push(`  ${ok ? '✓' : '✗'} ${text}`);
  const show = [
    'http_reqs',
    'http_req_duration{name:purchase}',
    'http_req_duration{name:status}',
    'purchases_confirmed',
    'rejected_sold_out',
    'rejected_already_purchased',
    'unexpected_responses',
    'dropped_iterations',
    'vus_max',
  ];
  for (const name of show) {
    const metric = data.metrics[name];
    if (!metric) continue;
    const values = Object.entries(metric.values)
      .filter(([key]) => key !== 'thresholds')
      .map(([key, value]) => `${key}=${formatValue(name, metric.type, key, value)}`)
      .join(' ');
    lines.push(`  ${name}: ${values}`);
  }
  return `${lines.join('\n')}\n`;
}

function htmlReport(scenario, data) {
  const thresholds = thresholdLines(data)
    .map(({ ok, text }) => `<tr class="${ok ? 'ok' : 'bad'}"><td>${ok ? 'pass' : 'FAIL'}</td><td>${escapeHtml(text)}</td></tr>`)
    .join('');
  const metrics = Object.entries(data.metrics)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(
      ([name, metric]) =>
        `<tr><td>${escapeHtml(name)}</td><td>${escapeHtml(metric.type)}</td><td>${Object.entries(metric.values)
          .map(([key, value]) => `${escapeHtml(key)}=${escapeHtml(formatValue(name, metric.type, key, value))}`)
          .join(', ')}</td></tr>`,
    )
    .join('');
  const passed = thresholdLines(data).every((line) => line.ok);
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Flash Flow load test: ${escapeHtml(scenario)}</title>
<style>body{font:14px system-ui,sans-serif;margin:2rem;color:#222}table{border-collapse:collapse;margin:1rem 0}
td,th{border:1px solid #ccc;padding:.3rem .6rem;text-align:left;vertical-align:top}.ok td:first-child{color:#176317}
.bad td:first-child{color:#b00020;font-weight:bold}h1 small{font-weight:normal;color:#666}</style></head>
<body><h1>${escapeHtml(scenario)} <small>${passed ? 'all thresholds passed' : 'THRESHOLDS FAILED'}</small></h1>
<p>Sale ${escapeHtml(SALE_ID)} at ${escapeHtml(BASE_URL)}, instance ${escapeHtml((data.setup_data && data.setup_data.instance) || INSTANCE)},
${data.state && data.state.testRunDurationMs ? (data.state.testRunDurationMs / 1000).toFixed(1) : '?'} s.</p>
<h2>Thresholds</h2><table><tr><th>result</th><th>threshold</th></tr>${thresholds}</table>
<h2>Metrics</h2><table><tr><th>metric</th><th>type</th><th>values</th></tr>${metrics}</table>
</body></html>
`;
}

/** handleSummary for every scenario: JSON for machines, HTML for people, a short text for the terminal. */
export function summaries(scenario) {
  return (data) => {
    const dir = (__ENV.SUMMARY_DIR || '.').replace(/\/$/, '');
    return {
      [`${dir}/${scenario}.summary.json`]: JSON.stringify(data, null, 2),
      [`${dir}/${scenario}.summary.html`]: htmlReport(scenario, data),
      ...(__ENV.SUMMARY_STDOUT === 'false' ? {} : { stdout: textSummary(scenario, data) }),
    };
  };
}
