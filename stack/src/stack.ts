/** Brings the whole local stack up, step by step, and hands back a way to stop it. */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { StackConfig } from './config.js';
import { Supervisor } from './processes.js';
import {
  prepareSale,
  startApiReplicas,
  startNginx,
  startPostgres,
  startPrometheus,
  startReconciler,
  startRedisCluster,
} from './services.js';

export interface RunningStack {
  supervisor: Supervisor;
  stop(): Promise<void>;
}

export async function startStack(config: StackConfig, report: (line: string) => void): Promise<RunningStack> {
  mkdirSync(config.logDir, { recursive: true });
  const supervisor = new Supervisor(config.logDir, join(config.stateDir, 'pids'), report);
  await supervisor.reapLeftovers();

  const steps: [string, () => Promise<void>][] = [
    ['Redis Cluster: six nodes, AOF on', () => startRedisCluster(config, supervisor, report)],
    [`PostgreSQL on port ${config.PG_PORT}`, () => startPostgres(config, supervisor, report)],
    ['Schema migrations and the current sale', () => prepareSale(config, report)],
    ['Reconciler (Redis Streams → Postgres)', () => startReconciler(config, supervisor)],
    [`API replicas on ports ${config.apiPorts.join(', ')}`, () => startApiReplicas(config, supervisor)],
    [`nginx on port ${config.NGINX_PORT}`, () => startNginx(config, supervisor, report)],
    [`Prometheus on port ${config.PROMETHEUS_PORT}, exporters for Redis (${config.REDIS_EXPORTER_PORT}), Postgres (${config.POSTGRES_EXPORTER_PORT}) and nginx (${config.NGINX_EXPORTER_PORT})`, () => startPrometheus(config, supervisor, report)],
  ];
  try {
    for (const [index, [title, step]] of steps.entries()) {
      const started = Date.now();
      report(`[${index + 1}/${steps.length}] ${title}`);
      await step();
      report(`  ready in ${((Date.now() - started) / 1000).toFixed(1)} s`);
    }
  } catch (error) {
    report(`! start failed: ${error instanceof Error ? error.message : String(error)}`);
    report(`  logs: ${config.logDir}`);
    await supervisor.stopAll();
    throw error;
  }
  return { supervisor, stop: () => supervisor.stopAll() };
}
