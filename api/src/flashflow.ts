/**
 * The one entry point of every Flash Flow process; api/bin/flashflow runs it
 * with the telemetry preloaded, in every environment:
 *   flashflow api            an API replica
 *   flashflow reconciler     Redis Streams → Postgres
 *   flashflow sale …         the operator command (create, report, ensure)
 *   flashflow migrate        applies the schema migrations, then exits
 * The environment is parsed once, here (env.ts).
 */
import { loadEnv } from './env.js';

const USAGE = 'usage: flashflow api | reconciler | sale <create|report|ensure> … | migrate';

const [command, ...args] = process.argv.slice(2);

switch (command) {
  case 'api': {
    const { runApi } = await import('./commands/api.js');
    runApi(loadEnv());
    break;
  }
  case 'reconciler': {
    const { runReconciler } = await import('./commands/reconciler.js');
    runReconciler(loadEnv());
    break;
  }
  case 'sale': {
    const { runSale } = await import('./commands/sale.js');
    process.exit(await runSale(loadEnv(), args));
    break;
  }
  case 'migrate': {
    const { runMigrate } = await import('./commands/migrate.js');
    process.exit(await runMigrate(loadEnv()).catch((error: unknown) => {
      process.stderr.write(`migrate: ${error instanceof Error ? error.message : String(error)}\n`);
      return 1;
    }));
    break;
  }
  default:
    process.stderr.write(`${command ? `unknown command "${command}"\n` : ''}${USAGE}\n`);
    process.exit(2);
}
