import type { Logger } from './logger.js';

/**
 * On SIGTERM or SIGINT runs `drain` once, then exits; a timer forces the exit
 * if draining hangs, so an orchestrator never waits forever.
 */
export function onShutdownSignal(logger: Logger, graceMs: number, drain: () => Promise<void>) {
  let started = false;
  const shutdown = (signal: NodeJS.Signals) => {
    if (started) return;
    started = true;
    logger.info({ signal }, 'shutting down');
    setTimeout(() => {
      logger.error({ graceMs }, 'shutdown took too long; exiting');
      process.exit(1);
    }, graceMs).unref();
    drain().then(
      () => process.exit(0),
      (error: unknown) => {
        logger.error({ err: error }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', shutdown);
  process.on('SIGINT', shutdown);
}
