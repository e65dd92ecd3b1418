/**
 * `flashflow sale`, the operator command:
 *   sale create --stock <n> --starts-in <duration> --duration <duration> [--product <name>] [--replace]
 *   sale report
 *   sale ensure
 * `ensure` is what every start runs (after `flashflow migrate`): make the
 * latest sale live, creating the demo sale (DEMO_SALE_*) when the shop has
 * none. Exit codes: 0
 * done, 1 failed, 2 bad arguments, 3 refused (a sale is running).
 */
import { parseArgs } from 'node:util';
import type { Env } from '../env.js';
import { SaleRefusal } from '../features/flash-sale/flash-sale.admin.js';
import { SaleRequestSchema, type SaleRequest } from '../features/flash-sale/flash-sale.logic.js';
import { connectSaleTools } from '../features/flash-sale/sale-tools.js';

const USAGE = `usage:
  npm run sale -- create --stock <n> --starts-in <duration> --duration <duration> [--product <name>] [--replace]
  npm run sale -- report
durations: 250ms, 30s, 5m, 2h, 1d, or combined like 1h30m
--replace: close the current sale if it is still upcoming or active (refused otherwise)`;

class UsageError extends Error {}

/** The flag each field of a sale request comes from. */
const FLAGS: Record<keyof SaleRequest, string> = {
  stock: '--stock',
  startsInMs: '--starts-in',
  durationMs: '--duration',
  productName: '--product',
};

function saleRequest(values: Record<string, string | boolean | undefined>): SaleRequest {
  const given = (flag: string) => (typeof values[flag] === 'string' ? (values[flag] as string) : undefined);
  const parsed = SaleRequestSchema.safeParse({
    stock: given('stock'),
    startsInMs: given('starts-in'),
    durationMs: given('duration'),
    productName: given('product'),
  });
  if (parsed.success) return parsed.data;
  const [issue] = parsed.error.issues;
  const flag = FLAGS[issue!.path[0] as keyof SaleRequest];
  throw new UsageError(issue!.code === 'invalid_type' ? `${flag} is required` : `${flag} ${issue!.message}`);
}

const print = (value: unknown) => process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);

async function sale(env: Env, argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  const { values } = parseArgs({
    args: rest,
    strict: true,
    options: {
      stock: { type: 'string' },
      'starts-in': { type: 'string' },
      duration: { type: 'string' },
      product: { type: 'string' },
      replace: { type: 'boolean' },
    },
  });
  if (command !== 'create' && command !== 'report' && command !== 'ensure') {
    throw new UsageError(command ? `unknown command "${command}"` : 'a command is required');
  }
  const input = command === 'create' ? { ...saleRequest(values), replace: values.replace === true } : null;

  const { admin, close } = connectSaleTools(env, 'sale-cli');
  try {
    if (input) {
      const created = await admin.createSale(input);
      print({ created: { ...created, startTime: new Date(created.startMs).toISOString(), endTime: new Date(created.endMs).toISOString() } });
    } else if (command === 'ensure') {
      const demo = env.DEMO_SALE
        ? { stock: env.DEMO_SALE_STOCK, startsInMs: env.DEMO_SALE_STARTS_IN, durationMs: env.DEMO_SALE_DURATION, productName: env.DEMO_SALE_PRODUCT }
        : null;
      const result = await admin.ensureCurrentSale(demo);
      print(result ? { saleId: result.sale.id, created: result.created } : { saleId: null, created: false });
    } else {
      print(await admin.report());
    }
    return 0;
  } finally {
    await close();
  }
}

export async function runSale(env: Env, argv: string[]): Promise<number> {
  try {
    return await sale(env, argv);
  } catch (error) {
    if (error instanceof UsageError || (error instanceof Error && 'code' in error && String(error.code).startsWith('ERR_PARSE_ARGS'))) {
      process.stderr.write(`sale: ${error.message}\n${USAGE}\n`);
      return 2;
    }
    process.stderr.write(`sale: ${error instanceof Error ? error.message : String(error)}\n`);
    // Refused (a sale is running and --replace was not given): the shop is fine, the operator decides.
    return error instanceof SaleRefusal ? 3 : 1;
  }
}
