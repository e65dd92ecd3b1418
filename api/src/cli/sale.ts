/**
 * The operator command:
 *   sale create --stock <n> --starts-in <duration> --duration <duration> [--product <name>] [--replace]
 *   sale report
 *   sale ensure [--demo-stock <n> --demo-starts-in <d> --demo-duration <d> --demo-product <name>]
 * `ensure` is what the stack runs at start: migrate, then make the latest sale live.
 */
import { parseArgs } from 'node:util';
import { loadEnv } from '../env.js';
import { SaleRefusal, type NewSale } from '../features/flash-sale/flash-sale.admin.js';
import { parseDuration } from '../features/flash-sale/flash-sale.logic.js';
import { connectSaleTools } from '../features/flash-sale/sale-tools.js';
import { migrateDatabase } from '../platform/postgres.js';

const USAGE = `usage:
  npm run sale -- create --stock <n> --starts-in <duration> --duration <duration> [--product <name>] [--replace]
  npm run sale -- report
durations: 250ms, 30s, 5m, 2h, 1d, or combined like 1h30m
--replace: close the current sale if it is still upcoming or active (refused otherwise)`;

class UsageError extends Error {}

function saleOptions(values: Record<string, string | boolean | undefined>, prefix = ''): Omit<NewSale, 'replace'> {
  const text = (name: string) => {
    const value = values[`${prefix}${name}`];
    if (typeof value !== 'string' || value.trim() === '') throw new UsageError(`--${prefix}${name} is required`);
    return value.trim();
  };
  const stock = Number(text('stock'));
  if (!Number.isSafeInteger(stock) || stock <= 0 || stock > 1_000_000) {
    throw new UsageError(`--${prefix}stock must be a whole number from 1 to 1000000, got "${text('stock')}"`);
  }
  const startsInMs = parseDuration(text('starts-in'));
  if (startsInMs === null) throw new UsageError(`--${prefix}starts-in is not a duration: "${text('starts-in')}"`);
  const durationMs = parseDuration(text('duration'));
  if (durationMs === null || durationMs <= 0) {
    throw new UsageError(`--${prefix}duration must be a positive duration, got "${text('duration')}"`);
  }
  const product = typeof values[`${prefix}product`] === 'string' ? String(values[`${prefix}product`]).trim() : '';
  if (product.length > 200) throw new UsageError(`--${prefix}product must be at most 200 characters`);
  return { productName: product || 'Limited Edition Widget', stock, startsInMs, durationMs };
}

async function main(argv: string[]): Promise<number> {
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
      'demo-stock': { type: 'string' },
      'demo-starts-in': { type: 'string' },
      'demo-duration': { type: 'string' },
      'demo-product': { type: 'string' },
    },
  });
  if (command !== 'create' && command !== 'report' && command !== 'ensure') {
    throw new UsageError(command ? `unknown command "${command}"` : 'a command is required');
  }
  const input = command === 'create' ? { ...saleOptions(values), replace: values.replace === true } : null;
  const demo = command === 'ensure' && values['demo-stock'] ? saleOptions(values, 'demo-') : null;

  const { admin, pool, close } = connectSaleTools(loadEnv(), 'sale-cli');
  try {
    if (command === 'create' && input) {
      const sale = await admin.createSale(input);
      print({ created: { ...sale, startTime: new Date(sale.startMs).toISOString(), endTime: new Date(sale.endMs).toISOString() } });
    } else if (command === 'ensure') {
      await migrateDatabase(pool);
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

const print = (value: unknown) => process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    if (error instanceof UsageError || (error instanceof Error && 'code' in error && String(error.code).startsWith('ERR_PARSE_ARGS'))) {
      process.stderr.write(`sale: ${error.message}\n${USAGE}\n`);
      process.exit(2);
    }
    process.stderr.write(`sale: ${error instanceof Error ? error.message : String(error)}\n`);
    // Refused (a sale is running and --replace was not given): the shop is fine, the operator decides.
    process.exit(error instanceof SaleRefusal ? 3 : 1);
  },
);
