import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { Sale } from '../../web/src/features/flash-sale/api/schemas';

/**
 * The real shop, as the specs see it: its URL, the operator command that
 * creates sales, and the API's answers, which are the truth the page is
 * checked against (FE-1, FE-2).
 */

export const BASE_URL = (process.env.FLASH_BASE_URL ?? 'http://127.0.0.1:8080').replace(/\/+$/, '');
const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url));

/** The sale as the API returns it: the page's own schema of it. */
export type ApiSale = Sale;

export type PurchaseAnswer = { status: number; code: string | null; body: unknown };

/** Fails fast, with the fix in the message, when no shop is listening. */
export async function assertStackIsUp(): Promise<void> {
  try {
    const res = await fetch(`${BASE_URL}/api/v1/flash-sales/current`, { signal: AbortSignal.timeout(5000) });
    if (res.status !== 200 && res.status !== 404) throw new Error(`status endpoint answered ${res.status}`);
  } catch (error) {
    throw new Error(
      `The shop is not reachable at ${BASE_URL} (${error instanceof Error ? error.message : String(error)}). ` +
        'Start it with `npm start`, or run everything with `npm test`.',
    );
  }
}

/**
 * `npm run sale -- create … --replace`, with the environment of the stack
 * under test (the test command passes its overrides as FLASH_STACK_ENV). The
 * new sale replaces the one before and becomes current at once.
 */
export async function createSale(options: { stock: number; startsIn: string; duration: string; product: string }): Promise<{ id: string }> {
  const stackEnv = process.env.FLASH_STACK_ENV ? (JSON.parse(process.env.FLASH_STACK_ENV) as Record<string, string>) : {};
  const args = ['run', '--silent', 'sale', '--', 'create', '--stock', String(options.stock), '--starts-in', options.startsIn,
    '--duration', options.duration, '--product', options.product, '--replace'];
  const { code, stdout, stderr } = await run('npm', args, { ...process.env, ...stackEnv });
  if (code !== 0) throw new Error(`npm run sale -- create failed (${code}):\n${stderr}\n${stdout}`);
  const json = stdout.slice(stdout.indexOf('{'));
  const created = (JSON.parse(json) as { created?: { id?: unknown } }).created;
  if (typeof created?.id !== 'string') throw new Error(`unexpected output from the sale command:\n${stdout}`);
  await eventually(async () => {
    const sale = await getSale();
    if (sale?.id !== created.id) throw new Error(`the API still reports sale ${sale?.id ?? 'none'}, not ${created.id}`);
  }, { timeout: 10_000, what: 'the new sale to be current' });
  return { id: created.id };
}

/** The status as any shopper gets it: through nginx and its micro-cache. */
export async function getSale(): Promise<ApiSale | null> {
  const res = await fetch(`${BASE_URL}/api/v1/flash-sales/current`, { signal: AbortSignal.timeout(5000) });
  if (res.status === 404) return null;
  if (!res.ok) throw new Error(`GET current sale answered ${res.status}`);
  return ((await res.json()) as { data: ApiSale }).data;
}

export async function purchase(userId: string): Promise<PurchaseAnswer> {
  const res = await fetch(`${BASE_URL}/api/v1/flash-sales/current/purchase`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ userId }),
    signal: AbortSignal.timeout(5000),
  });
  const body: unknown = await res.json().catch(() => null);
  const code = (body as { error?: { code?: string } } | null)?.error?.code ?? null;
  return { status: res.status, code, body };
}

export async function lookupPurchase(userId: string): Promise<{ purchased: boolean; purchaseId?: string }> {
  const res = await fetch(`${BASE_URL}/api/v1/flash-sales/current/purchase?${new URLSearchParams({ userId })}`, {
    signal: AbortSignal.timeout(5000),
  });
  if (!res.ok) throw new Error(`GET purchase lookup answered ${res.status}`);
  return ((await res.json()) as { data: { purchased: boolean; purchaseId?: string } }).data;
}

/**
 * Waits until the API itself reports what a step needs, about the sale this
 * spec created. If another process made a different sale current, waiting is
 * pointless: it fails at once and says so.
 */
export async function apiSaleUntil(saleId: string, what: string, predicate: (sale: ApiSale) => boolean, timeout = 30_000): Promise<ApiSale> {
  return eventually(async () => {
    const sale = await getSale();
    if (sale && sale.id !== saleId) throw new SaleReplacedError(saleId, sale);
    if (!sale || !predicate(sale)) throw new Error(`API says ${JSON.stringify(sale)}`);
    return sale;
  }, { timeout, what });
}

export class SaleReplacedError extends Error {
  constructor(expected: string, current: ApiSale) {
    super(
      `the current sale is no longer ${expected} but ${current.id} ("${current.productName}", stock ${current.totalStock}): ` +
        'something else is creating sales on this stack; give the e2e specs a stack of their own (npm test does).',
    );
  }
}

/** Retries `check` until it stops throwing; rethrows its last error, named, at the deadline. */
export async function eventually<T>(check: () => Promise<T>, options: { timeout: number; what: string; interval?: number }): Promise<T> {
  const deadline = Date.now() + options.timeout;
  let last: unknown;
  for (;;) {
    try {
      return await check();
    } catch (error) {
      if (error instanceof SaleReplacedError) throw error;
      last = error;
    }
    if (Date.now() > deadline) {
      const detail = last instanceof Error ? last.message : String(last);
      throw new Error(`timed out after ${options.timeout} ms waiting for ${options.what}: ${detail}`);
    }
    await new Promise((r) => setTimeout(r, options.interval ?? 200));
  }
}

/** A short, unique suffix so reruns never meet earlier shoppers. */
export const runId = `${Date.now().toString(36)}${Math.floor(Math.random() * 1296).toString(36)}`;

function run(command: string, args: string[], env: NodeJS.ProcessEnv): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: REPO_ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('exit', (code) => resolve({ code: code ?? 1, stdout, stderr }));
  });
}
