/**
 * Crash points for the fault suite. FLASH_FAILPOINT names one step; a process
 * reaching it kills itself with SIGKILL, exactly as a crash at that step
 * would, so the suite can prove what such a crash leaves behind. Unset in
 * every real deployment, where crashAt does nothing.
 */
export const FAILPOINTS = ['sale-create:after-postgres-insert', 'sale-create:after-redis-initialise'] as const;

export type Failpoint = (typeof FAILPOINTS)[number];

export function crashAt(armed: Failpoint | undefined, point: Failpoint): void {
  if (armed === point) process.kill(process.pid, 'SIGKILL');
}
