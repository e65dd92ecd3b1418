/**
 * The fault scenarios. Each runs during a steady purchase load (and some
 * during a herd) on a sale of its own; it injects its fault, marks when the
 * fault began and when it was healed, and may add checks of its own. The
 * runner (run.ts) then checks the invariants (verify.ts).
 */
import type { StackConfig } from '../stack/src/config.js';
import type { RedisNodeAddress, Shard } from '../stack/src/redis-topology.js';
import { crashedSaleCreate, partition } from './faults.js';
import type { Expectations } from './verify.js';

export interface ScenarioContext {
  /** The sale's shard as the cluster says now; `without` leaves a node out of the asking (it may be cut off or hung). */
  shard(without?: RedisNodeAddress): Promise<Shard>;
  /** The supervisor's name for the Redis node at this address. */
  redisService(node: { port: number }): string;
  apiServices: string[];
  /** Sends `count` new shoppers at once. */
  herd(count: number): Promise<void>;
  faultStarts(): void;
  /** The fault is removed (the node is back, the link restored): from here the shop must heal by itself. */
  faultHealed(): void;
  /** Sends a signal to a service's process, as a crash (SIGKILL) or hang (SIGSTOP) would. */
  signal(service: string, signal: NodeJS.Signals): void;
  /** Takes a service down (a crash with SIGKILL, otherwise its stop signal) and keeps it down until release. */
  hold(service: string, signal?: NodeJS.Signals): Promise<void>;
  release(service: string): void;
  /** Stops the whole stack as `npm stop` would and starts it again on the same data. */
  restartStack(): Promise<void>;
  /** Resolves once every Redis primary has its replica in sync and every service answers. */
  healthy(): Promise<void>;
  /** Polls URLs every second, as Kubernetes probes would; stop() returns each URL's statuses. */
  probe(urls: string[]): { stop(): Record<string, number[]> };
  urls: { apiReadiness: string[]; reconcilerHealth: string; reconcilerReadiness: string };
  stack: StackConfig;
  currentSaleId(): Promise<string | null>;
  countSales(): Promise<number>;
  saleId: string;
  /** Records a failure this scenario found itself. */
  violation(message: string): void;
  waitFor(check: () => Promise<boolean>, timeoutMs: number, what: string): Promise<void>;
  sleep(ms: number): Promise<void>;
  smoke: boolean;
}

export interface Scenario {
  name: string;
  title: string;
  /** Part of the short suite inside `npm test`. */
  smoke: boolean;
  stock: number;
  /** New shoppers a second during the scenario. */
  rate: number;
  expectations: Expectations;
  inject(context: ScenarioContext): Promise<void>;
}

/** Waits until the shard serving the sale is served by another node than `old`. */
async function failedOver(context: ScenarioContext, old: Shard) {
  await context.waitFor(
    async () => (await context.shard(old.primary).catch(() => old)).primary.host !== old.primary.host,
    30_000,
    `the replica of ${old.primary.host}:${old.primary.port} to be promoted`,
  );
}

const BIG_STOCK = 1_000_000;
/** 503s are expected while a shard has no writable primary, and for a few seconds after it rejoins. */
const WHILE_FAILING_OVER: Expectations = { unavailableUntilMsAfterHeal: 10_000, unreachableDuringFault: false };
const NEVER_UNAVAILABLE: Expectations = { unavailableUntilMsAfterHeal: false, unreachableDuringFault: false };

export const SCENARIOS: Scenario[] = [
  {
    name: 'api-replica-killed',
    title: '`kill -9` an API replica (the supervisor restarts it)',
    smoke: false,
    stock: BIG_STOCK,
    rate: 100,
    // Requests inside the killed replica end as 503 at nginx; the others carry on.
    expectations: { unavailableUntilMsAfterHeal: 2_000, unreachableDuringFault: false },
    async inject(context) {
      const victim = context.apiServices[0]!;
      context.faultStarts();
      context.signal(victim, 'SIGKILL');
      await context.waitFor(
        async () => (await fetch(context.urls.apiReadiness[0]!).catch(() => null))?.status === 200,
        30_000,
        `${victim} to be back`,
      );
      context.faultHealed();
    },
  },
  {
    name: 'reconciler-killed-thrice',
    title: '`kill -9` the reconciler, three times',
    smoke: true,
    stock: BIG_STOCK,
    rate: 100,
    expectations: NEVER_UNAVAILABLE,
    async inject(context) {
      context.faultStarts();
      for (let kill = 0; kill < 3; kill += 1) {
        context.signal('reconciler', 'SIGKILL');
        await context.sleep(200);
        await context.waitFor(
          async () => (await fetch(context.urls.reconcilerHealth).catch(() => null))?.status === 200,
          30_000,
          'the reconciler to be back',
        );
        await context.sleep(1_000);
      }
      context.faultHealed();
    },
  },
  {
    name: 'postgres-stopped',
    title: 'Postgres stopped for 30 s, every replica’s `/readyz` polled each second',
    smoke: true,
    stock: BIG_STOCK,
    rate: 100,
    // Purchases never touch Postgres: not one shopper may notice.
    expectations: NEVER_UNAVAILABLE,
    async inject(context) {
      const probes = context.probe([...context.urls.apiReadiness, context.urls.reconcilerHealth]);
      context.faultStarts();
      await context.hold('postgres');
      await context.sleep(context.smoke ? 10_000 : 30_000);
      context.release('postgres');
      context.faultHealed();
      await context.waitFor(
        async () => (await fetch(context.urls.reconcilerReadiness).catch(() => null))?.status === 200,
        60_000,
        'the reconciler to be ready again',
      );
      for (const [url, statuses] of Object.entries(probes.stop())) {
        const bad = statuses.filter((status) => status !== 200);
        if (bad.length > 0) context.violation(`${url} answered ${bad.join(', ')} during the outage (${statuses.length} probes)`);
      }
    },
  },
  {
    name: 'primary-killed',
    title: '`kill -9` the sale’s Redis primary; it is restarted after the failover and rejoins as a replica',
    smoke: true,
    stock: BIG_STOCK,
    rate: 100,
    expectations: WHILE_FAILING_OVER,
    async inject(context) {
      const before = await context.shard();
      const victim = context.redisService(before.primary);
      context.faultStarts();
      await context.hold(victim, 'SIGKILL');
      await failedOver(context, before);
      context.release(victim);
      context.faultHealed();
      await context.healthy();
    },
  },
  {
    name: 'primary-killed-in-herd',
    title: '`kill -9` the sale’s Redis primary as 1,000 buyers arrive at once for 300 units',
    smoke: false,
    stock: 300,
    rate: 20,
    expectations: WHILE_FAILING_OVER,
    async inject(context) {
      const before = await context.shard();
      const victim = context.redisService(before.primary);
      await context.herd(1_000);
      await context.sleep(50);
      context.faultStarts();
      await context.hold(victim, 'SIGKILL');
      await failedOver(context, before);
      context.release(victim);
      context.faultHealed();
      await context.healthy();
    },
  },
  {
    name: 'primary-hung',
    title: '`SIGSTOP` the sale’s Redis primary past the node timeout, then `SIGCONT`',
    smoke: false,
    stock: BIG_STOCK,
    rate: 100,
    expectations: WHILE_FAILING_OVER,
    async inject(context) {
      const before = await context.shard();
      const victim = context.redisService(before.primary);
      context.faultStarts();
      context.signal(victim, 'SIGSTOP');
      try {
        await failedOver(context, before);
        await context.sleep(1_000);
      } finally {
        context.signal(victim, 'SIGCONT');
      }
      context.faultHealed();
      await context.healthy();
    },
  },
  {
    name: 'primary-partitioned',
    title: 'the sale’s primary cut off from its replica and the other primaries (API replicas still reach it), then healed',
    smoke: true,
    stock: BIG_STOCK,
    rate: 100,
    expectations: WHILE_FAILING_OVER,
    async inject(context) {
      const before = await context.shard();
      context.faultStarts();
      const heal = await partition(context.stack, before.primary);
      try {
        await failedOver(context, before);
        await context.sleep(2_000);
      } finally {
        await heal();
      }
      context.faultHealed();
      await context.healthy();
    },
  },
  {
    name: 'replica-then-primary-down',
    title: 'the sale’s replica down, then its primary killed (the supervisor restarts the primary)',
    smoke: false,
    stock: BIG_STOCK,
    rate: 100,
    expectations: WHILE_FAILING_OVER,
    async inject(context) {
      const before = await context.shard();
      const replica = context.redisService(before.replicas[0]!);
      context.faultStarts();
      await context.hold(replica, 'SIGKILL');
      await context.sleep(2_000);
      context.signal(context.redisService(before.primary), 'SIGKILL');
      await context.sleep(5_000);
      context.release(replica);
      context.faultHealed();
      await context.healthy();
    },
  },
  {
    name: 'stack-restarted',
    title: 'the whole stack stopped and started again mid-sale',
    smoke: false,
    stock: BIG_STOCK,
    rate: 100,
    // While it is down nobody answers; once it is back, it serves within seconds.
    expectations: { unavailableUntilMsAfterHeal: 5_000, unreachableDuringFault: true },
    async inject(context) {
      context.faultStarts();
      await context.restartStack();
      context.faultHealed();
    },
  },
  {
    name: 'sale-create-crashed',
    title: '`sale create --replace` killed between its Postgres and Redis steps, and after its Redis step',
    smoke: true,
    stock: BIG_STOCK,
    rate: 100,
    // The running sale must not notice.
    expectations: NEVER_UNAVAILABLE,
    async inject(context) {
      const sales = await context.countSales();
      context.faultStarts();
      for (const failpoint of ['sale-create:after-postgres-insert', 'sale-create:after-redis-initialise']) {
        const { signal, stderr } = await crashedSaleCreate(context.stack, failpoint);
        if (signal !== 'SIGKILL') context.violation(`sale create did not crash at ${failpoint} (${signal ?? 'exited'}): ${stderr}`);
        if ((await context.countSales()) !== sales) context.violation(`a sale create killed at ${failpoint} left a row in Postgres`);
        if ((await context.currentSaleId()) !== context.saleId) context.violation(`a sale create killed at ${failpoint} moved the current sale`);
      }
      context.faultHealed();
    },
  },
];
