/**
 * The local stack, docker-compose, k8s and Tilt describe one system: every
 * Node process is started by the one launcher with a subcommand, reads the
 * one shared env file, sets only the variables that really differ per
 * environment (all of them ones the services know), and the ports agree.
 * This fails when an environment drifts.
 */
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments, parse as parseYaml } from 'yaml';
import { EnvSchema } from '../../api/src/env.js';
import { K6_VERSION } from '../../loadtest/k6.js';
import { K6_SCRIPTS_FILE, K6_SCRIPT_FOLDERS, k6ScriptsConfigMaps } from '../../tools/k8s/k6-scripts.js';
import { REPO_ROOT, SHARED_SERVICE_ENV, loadStackConfig, serviceEnv } from './config.js';
import { apiUpstreamServers } from './nginx-config.js';
import { FLASHFLOW } from './services.js';

const read = (path: string) => readFileSync(new URL(`../../${path}`, import.meta.url), 'utf8');

const SUBCOMMANDS = ['api', 'reconciler', 'sale', 'migrate'];
const LAUNCHER = 'api/bin/flashflow';
/** What may differ per environment: addresses, ports, secrets, who is who. Everything else comes from the shared file. */
const PER_ENVIRONMENT = new Set([
  'HOST', 'PORT', 'RECONCILER_PORT', 'REDIS_NODES', 'REDIS_USERNAME', 'REDIS_PASSWORD', 'DATABASE_URL',
  'OTEL_EXPORTER_OTLP_ENDPOINT', 'OTEL_SERVICE_NAME', 'OTEL_RESOURCE_ATTRIBUTES', 'OTEL_SDK_DISABLED', 'POD_NAME',
]);
const KNOWN = (name: string) => name in EnvSchema.shape || name.startsWith('OTEL_') || name === 'POD_NAME';

const dockerfile = read('api/Dockerfile');
const imageEnv = Object.fromEntries(
  [...(/^ENV ([\s\S]+?)\n(?!\s)/m.exec(dockerfile)?.[1] ?? '').matchAll(/([A-Z_]+)=(\S+)/g)].map((m) => [m[1]!, m[2]!]),
);
const API_PORT = Number(imageEnv.PORT);
const RECONCILER_PORT = Number(imageEnv.RECONCILER_PORT);

describe('the launcher', () => {
  it('is the image’s entrypoint, with the API as its default command, and what the local stack runs', () => {
    expect(dockerfile).toContain(`ENTRYPOINT ["${LAUNCHER}"]`);
    expect(dockerfile).toContain('CMD ["api"]');
    expect(FLASHFLOW).toBe(`${REPO_ROOT}${LAUNCHER}`);
  });

  it('is what Tilt runs for the operator command', () => {
    const tiltfile = read('Tiltfile');
    expect(tiltfile).not.toMatch(/api\/dist\//);
    expect([...tiltfile.matchAll(/SALE = '[^']*'/g)].every(([line]) => line.includes(`${LAUNCHER} sale `))).toBe(true);
  });

  it('stays the only place that writes node’s command line', () => {
    for (const path of ['docker-compose.yml', 'Tiltfile', ...readdirSync(new URL('../../k8s', import.meta.url)).filter((f) => f.endsWith('.yaml')).map((f) => `k8s/${f}`)]) {
      expect(read(path), path).not.toMatch(/--import|api\/dist\/|--enable-source-maps/);
    }
  });
});

describe('docker-compose', () => {
  const compose = parseYaml(read('docker-compose.yml'), { merge: true }) as {
    services: Record<string, { image?: string; command?: string[]; entrypoint?: string[]; env_file?: string[]; environment?: Record<string, string> }>;
  };
  const nodeServices = Object.entries(compose.services).filter(([, service]) => service.image?.startsWith('flashflow/api'));

  it('runs every Node service through the launcher, with the shared env file and only per-environment variables', () => {
    expect(nodeServices.map(([name]) => name).sort()).toEqual(['api-1', 'api-2', 'api-3', 'migrate', 'reconciler', 'sale', 'sale-ensure']);
    for (const [name, service] of nodeServices) {
      const command = [...(service.entrypoint ?? []), ...(service.command ?? [])];
      const subcommand = service.entrypoint ? command[1] : command[0];
      if (service.entrypoint) expect(service.entrypoint[0], name).toBe(LAUNCHER);
      expect(SUBCOMMANDS, name).toContain(subcommand);
      expect(service.env_file, name).toEqual(['stack/flashflow.env']);
      for (const variable of Object.keys(service.environment ?? {})) {
        expect(KNOWN(variable), `${name} sets ${variable}, which no service reads`).toBe(true);
        expect(PER_ENVIRONMENT.has(variable), `${name} sets ${variable}: put it in stack/flashflow.env`).toBe(true);
      }
    }
  });

  it('scrapes and proxies the ports the image listens on', () => {
    const targets = JSON.parse(read('observability/prometheus/targets/compose.json')) as { targets: string[]; labels: { job: string } }[];
    const portsOf = (job: string) => targets.find((t) => t.labels.job === job)!.targets.map((t) => Number(t.split(':')[1]));
    expect(new Set(portsOf('flashflow-api'))).toEqual(new Set([API_PORT]));
    expect(portsOf('flashflow-reconciler')).toEqual([RECONCILER_PORT]);
  });

  it('gives nginx the same upstream lines as the local stack, one per replica', () => {
    const nginx = compose.services.nginx!.environment!.API_UPSTREAM_SERVERS!;
    const replicas = nodeServices.map(([name]) => name).filter((name) => name.startsWith('api-'));
    expect(nginx.split(/;\s*/).filter(Boolean).map((line) => `${line};`)).toEqual(
      apiUpstreamServers(replicas.map((name) => `${name}:${API_PORT}`)).split('\n  '),
    );
  });
});

/** The manifests of a kustomization folder (every .yaml but kustomization.yaml), object by object. */
const manifestsIn = (dir: string) =>
  readdirSync(new URL(`../../${dir}`, import.meta.url))
    .filter((file) => file.endsWith('.yaml') && file !== 'kustomization.yaml')
    .flatMap((file) =>
      parseAllDocuments(read(`${dir}/${file}`)).map((doc) => ({ file: `${dir}/${file}`, object: doc.toJS() as Record<string, any> })), // eslint-disable-line @typescript-eslint/no-explicit-any
    );

/**
 * The pods k6-operator makes from a TestRun (k6.io/v1alpha1, v0.0.19:
 * pkg/resources/jobs): the runners, the initializer (the runner's settings
 * when it has none of its own) and the starter, each one container.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
const testRunPods = (spec: Record<string, any>) =>
  (['runner', 'initializer', 'starter'] as const).map((role) => {
    const pod = (role === 'initializer' ? (spec.initializer ?? spec.runner) : spec[role]) ?? {};
    return {
      role,
      pod: {
        securityContext: pod.securityContext,
        automountServiceAccountToken: pod.automountServiceAccountToken === 'false' ? false : undefined,
        volumes: pod.volumes,
        containers: [{ name: 'k6', securityContext: pod.containerSecurityContext }],
      },
    };
  });

describe('Kubernetes', () => {
  const manifests = [...manifestsIn('k8s'), ...manifestsIn('k8s/loadtest')];
  const containers = manifests.flatMap(({ file, object }) => {
    const pod = object.spec?.template?.spec ?? object.spec?.jobTemplate?.spec?.template?.spec;
    return [...(pod?.initContainers ?? []), ...(pod?.containers ?? [])].map((container: Record<string, any>) => ({ file, container })); // eslint-disable-line @typescript-eslint/no-explicit-any
  });
  const nodeContainers = containers.filter(({ container }) => String(container.image).startsWith('flashflow/api'));

  it('runs every Node container through the image’s launcher, with the shared ConfigMap and only per-environment variables', () => {
    expect(nodeContainers.length).toBeGreaterThanOrEqual(3);
    for (const { file, container } of nodeContainers) {
      expect(container.command, `${file}: the entrypoint is the launcher; give args`).toBeUndefined();
      expect(SUBCOMMANDS, file).toContain(container.args?.[0]);
      expect(container.envFrom, file).toContainEqual({ configMapRef: { name: 'flashflow-env' } });
      for (const { name } of container.env ?? []) {
        expect(KNOWN(name), `${file} sets ${name}, which no service reads`).toBe(true);
        expect(PER_ENVIRONMENT.has(name), `${file} sets ${name}: put it in stack/flashflow.env`).toBe(true);
      }
    }
  });

  it('builds the ConfigMap from the shared env file, adding only per-environment variables', () => {
    const kustomization = parseYaml(read('k8s/kustomization.yaml')) as { configMapGenerator: { name: string; envs?: string[]; literals?: string[] }[] };
    const env = kustomization.configMapGenerator.find((g) => g.name === 'flashflow-env')!;
    expect(env.envs).toEqual(['../stack/flashflow.env']);
    for (const literal of env.literals ?? []) expect(PER_ENVIRONMENT.has(literal.split('=')[0]!), literal).toBe(true);
  });

  it('passes Pod Security “restricted” in every pod, as the namespace enforces (the k6-operator’s too)', () => {
    const pods = manifests.flatMap(({ file, object }) => {
      const where = `${file} ${object.kind}/${object.metadata.name}`;
      if (object.kind === 'TestRun') return testRunPods(object.spec).map(({ role, pod }) => ({ where: `${where} ${role}`, pod }));
      const pod = object.spec?.template?.spec ?? object.spec?.jobTemplate?.spec?.template?.spec;
      return pod ? [{ where, pod }] : [];
    });
    expect(pods.length).toBeGreaterThan(13);
    for (const { where, pod } of pods) {
      expect(pod.hostNetwork || pod.hostPID || pod.hostIPC, `${where} shares the host's namespaces`).toBeFalsy();
      expect((pod.volumes ?? []).some((v: Record<string, unknown>) => v.hostPath), `${where} mounts a host path`).toBe(false);
      for (const container of [...(pod.initContainers ?? []), ...pod.containers]) {
        const at = `${where}, container ${container.name}`;
        const context = container.securityContext ?? {};
        expect(context.runAsNonRoot ?? pod.securityContext?.runAsNonRoot, `${at}: runAsNonRoot`).toBe(true);
        expect(context.runAsUser ?? pod.securityContext?.runAsUser, `${at}: runs as root`).not.toBe(0);
        expect(context.privileged, `${at}: privileged`).toBeFalsy();
        expect(context.allowPrivilegeEscalation, `${at}: allowPrivilegeEscalation`).toBe(false);
        expect(context.capabilities?.drop ?? [], `${at}: capabilities`).toContain('ALL');
        expect(context.capabilities?.add ?? [], `${at}: adds capabilities`).toEqual([]);
        const seccomp = context.seccompProfile?.type ?? pod.securityContext?.seccompProfile?.type;
        expect(['RuntimeDefault', 'Localhost'], `${at}: seccomp`).toContain(seccomp);
      }
    }
  });

  it('exposes the ports the image listens on', () => {
    const portOf = (args0: string) =>
      nodeContainers.find(({ container }) => container.args[0] === args0)!.container.ports[0].containerPort;
    expect(portOf('api')).toBe(API_PORT);
    expect(portOf('reconciler')).toBe(RECONCILER_PORT);
  });
});

describe('Kubernetes: the kustomizations', () => {
  const kustomization = (dir: string) => parseYaml(read(`${dir}/kustomization.yaml`)) as { resources: string[] };
  const filesIn = (dir: string) =>
    readdirSync(new URL(`../../${dir}`, import.meta.url)).filter((file) => file.endsWith('.yaml') && file !== 'kustomization.yaml').sort();

  it.each(['k8s', 'k8s/loadtest'])('%s lists every manifest beside it', (dir) => {
    expect([...kustomization(dir).resources].sort()).toEqual(filesIn(dir));
  });

  it('never applies the load test with the shop: k8s/loadtest is a kustomization of its own', () => {
    expect(kustomization('k8s').resources.filter((resource) => resource.includes('loadtest'))).toEqual([]);
    expect(manifestsIn('k8s').filter(({ object }) => object.kind === 'TestRun')).toEqual([]);
  });
});

describe('Kubernetes: autoscaling the API', () => {
  const objects = manifestsIn('k8s').map(({ object }) => object);
  const find = (kind: string, name: string) => objects.find((o) => o.kind === kind && o.metadata.name === name)!;
  const hpa = find('HorizontalPodAutoscaler', 'api');
  const deployment = find('Deployment', 'api');
  const cronJobs = ['api-prescale', 'api-scale-back'].map((name) => find('CronJob', name));
  const minReplicasOf = (cronJob: Record<string, any>) => Number(cronJob.spec.jobTemplate.spec.template.spec.containers[0].env.find((e: { name: string }) => e.name === 'MIN_REPLICAS').value); // eslint-disable-line @typescript-eslint/no-explicit-any

  it('scales the api Deployment, which leaves its replica count to the HPA and requests CPU for its target', () => {
    expect(hpa.spec.scaleTargetRef).toEqual({ apiVersion: 'apps/v1', kind: 'Deployment', name: 'api' });
    expect(deployment.spec.replicas, 'a replicas field would be re-applied over the HPA’s count').toBeUndefined();
    const api = deployment.spec.template.spec.containers.find((c: { name: string }) => c.name === 'api');
    expect(api.resources.requests.cpu).toBeDefined();
    expect(hpa.spec.metrics.map((m: { type: string }) => m.type).sort()).toEqual(['Pods', 'Resource']);
  });

  it('asks the adapter for the in-flight metric k8s/README.md’s rule serves, from a histogram the API exports', () => {
    const metric = hpa.spec.metrics.find((m: { type: string }) => m.type === 'Pods').pods.metric.name;
    const readme = read('k8s/README.md');
    expect(readme).toContain(`as: ${metric}`);
    const source = /metricsQuery: .*?(flashflow_\w+?)_sum/.exec(readme)?.[1];
    expect(source, 'the adapter rule in k8s/README.md').toBeDefined();
    expect(read('api/src/platform/metrics.ts')).toContain(`name: '${source}'`);
  });

  it('pre-scales and scales back with two CronJobs that differ only in name, schedule and minReplicas', () => {
    const [prescale, scaleBack] = cronJobs as [Record<string, any>, Record<string, any>]; // eslint-disable-line @typescript-eslint/no-explicit-any
    expect(minReplicasOf(scaleBack), 'api-scale-back returns to the HPA’s own minReplicas').toBe(hpa.spec.minReplicas);
    expect(minReplicasOf(prescale)).toBeGreaterThan(hpa.spec.minReplicas);
    expect(minReplicasOf(prescale), 'the API server refuses minReplicas above maxReplicas').toBeLessThanOrEqual(hpa.spec.maxReplicas);
    const comparable = (cronJob: Record<string, any>) => { // eslint-disable-line @typescript-eslint/no-explicit-any
      const copy = structuredClone(cronJob);
      delete copy.metadata.name;
      delete copy.spec.schedule;
      copy.spec.jobTemplate.spec.template.spec.containers[0].env = copy.spec.jobTemplate.spec.template.spec.containers[0].env.filter((e: { name: string }) => e.name !== 'MIN_REPLICAS');
      return copy;
    };
    expect(comparable(scaleBack)).toEqual(comparable(prescale));
    for (const cronJob of cronJobs) {
      expect(cronJob.spec.suspend, `${cronJob.metadata.name} waits for an SRE’s schedule`).toBe(true);
      expect(cronJob.spec.jobTemplate.spec.template.spec.containers[0].args).toEqual(['patch', 'horizontalpodautoscaler/api', '--type=merge', '--patch={"spec":{"minReplicas":$(MIN_REPLICAS)}}']);
    }
  });

  it('lets the CronJobs’ ServiceAccount get and patch that one HPA, nothing else', () => {
    const account = cronJobs[0]!.spec.jobTemplate.spec.template.spec.serviceAccountName;
    const bindings = objects.filter((o) => o.kind === 'RoleBinding' && o.subjects.some((subject: { name: string }) => subject.name === account));
    expect(bindings).toHaveLength(1);
    expect(objects.filter((o) => o.kind === 'ClusterRoleBinding')).toEqual([]);
    expect(find('Role', bindings[0]!.roleRef.name).rules).toEqual([
      { apiGroups: ['autoscaling'], resources: ['horizontalpodautoscalers'], resourceNames: [hpa.metadata.name], verbs: ['get', 'patch'] },
    ]);
  });
});

describe('Kubernetes: disruption budgets', () => {
  const objects = manifestsIn('k8s').map(({ object }) => object);
  const workloads = objects.filter((o) => ['Deployment', 'StatefulSet'].includes(o.kind));
  const budgets = objects.filter((o) => o.kind === 'PodDisruptionBudget');
  const selects = (selector: Record<string, string>, labels: Record<string, string>) => Object.entries(selector).every(([k, v]) => labels[k] === v);

  it.each(['api', 'nginx', 'redis'])('%s: voluntary disruptions take at most one pod at a time', (name) => {
    const workload = workloads.find((w) => w.metadata.name === name)!;
    const matching = budgets.filter((b) => selects(b.spec.selector.matchLabels, workload.spec.template.metadata.labels));
    expect(matching).toHaveLength(1);
    expect(matching[0]!.spec).toMatchObject({ maxUnavailable: 1 });
  });
});

describe('Kubernetes: the Ingress', () => {
  const objects = manifestsIn('k8s').map(({ object }) => object);

  it('routes only to the nginx Service, by a port it has; only the controller may reach that port', () => {
    const ingress = objects.find((o) => o.kind === 'Ingress')!;
    const backends = ingress.spec.rules.flatMap((rule: { http: { paths: { backend: { service: { name: string; port: { name: string } } } }[] } }) =>
      rule.http.paths.map((path) => path.backend.service),
    );
    const service = objects.find((o) => o.kind === 'Service' && o.metadata.name === 'nginx')!;
    expect(backends).toEqual([{ name: 'nginx', port: { name: service.spec.ports[0].name } }]);
    const policy = objects.find((o) => o.kind === 'NetworkPolicy' && o.metadata.name === 'nginx')!;
    const shopPort = policy.spec.ingress.find((rule: { ports: { port: number }[] }) => rule.ports.some((p) => p.port === 8080));
    expect(shopPort.from).toHaveLength(1);
    expect(Object.keys(shopPort.from[0]).sort(), 'the namespace and the pods together, not either').toEqual(['namespaceSelector', 'podSelector']);
  });

  it('ships nginx the real-address config with the site, with no placeholder for the image to fill', () => {
    const kustomization = read('k8s/kustomization.yaml');
    expect(kustomization).toContain('real-ip.conf.template=nginx/real-ip.conf.template');
    const directives = read('k8s/nginx/real-ip.conf.template')
      .split('\n')
      .filter((line) => line.trim() && !line.trim().startsWith('#'));
    expect(directives.filter((line) => line.includes('$'))).toEqual([]);
    expect(directives).toContain('real_ip_recursive off;');
  });
});

describe('Kubernetes: the load test', () => {
  const objects = manifestsIn('k8s/loadtest').map(({ object }) => object);
  const testRun = objects.find((o) => o.kind === 'TestRun')!;
  const runner = testRun.spec.runner;
  const env = Object.fromEntries(runner.env.map((e: { name: string; value: string }) => [e.name, e.value]));

  it(`runs the scripts as loadtest/ has them (${K6_SCRIPTS_FILE} is what npm run generate writes)`, () => {
    expect(read(K6_SCRIPTS_FILE), `${K6_SCRIPTS_FILE} is stale: run npm run generate`).toBe(k6ScriptsConfigMaps());
  });

  it('mounts each generated ConfigMap where the generator says, and runs a scenario that is there', () => {
    for (const { configMap, mountPath } of K6_SCRIPT_FOLDERS) {
      const volume = runner.volumes.find((v: { configMap?: { name: string } }) => v.configMap?.name === configMap);
      expect(volume, configMap).toBeDefined();
      expect(runner.volumeMounts).toContainEqual({ name: volume.name, mountPath, readOnly: true });
    }
    const scenarios = K6_SCRIPT_FOLDERS.find((f) => f.configMap === 'k6-scenarios')!;
    expect(testRun.spec.script.localFile.startsWith(`${scenarios.mountPath}/`)).toBe(true);
    expect(readdirSync(new URL(`../../${scenarios.folder}`, import.meta.url))).toContain(testRun.spec.script.localFile.split('/').pop());
  });

  it('uses the k6 the repo builds, against the nginx Service', () => {
    expect(`v${runner.image.split(':')[1]}`).toBe(K6_VERSION);
    const nginx = manifestsIn('k8s').find(({ object }) => object.kind === 'Service' && object.metadata.name === 'nginx')!.object;
    expect(env.BASE_URL).toBe(`http://nginx:${nginx.spec.ports[0].port}`);
  });

  it('keeps each k6 pod, one client address to nginx, under its per-address status limit', () => {
    const statusRate = Number(/zone=status_per_address:\S+ rate=(\d+)r\/s/.exec(read('nginx/templates/flash-flow.conf.template'))?.[1]);
    expect(statusRate).toBeGreaterThan(0);
    // ramp: each shopper asks for the status about once a second.
    expect(testRun.spec.script.localFile).toMatch(/\/ramp\.js$/);
    expect(Number(env.VUS) / testRun.spec.parallelism).toBeLessThan(statusRate);
  });
});

describe('the shared env file', () => {
  it('sets only variables the services know, none that differ per environment', () => {
    for (const name of Object.keys(SHARED_SERVICE_ENV)) {
      expect(KNOWN(name), `stack/flashflow.env sets ${name}, which no service reads`).toBe(true);
      expect(PER_ENVIRONMENT.has(name), `${name} differs per environment: set it there`).toBe(false);
    }
  });

  it('holds values the services accept, and the local stack passes all of it on', () => {
    expect(EnvSchema.safeParse(SHARED_SERVICE_ENV).success).toBe(true);
    const local = serviceEnv(loadStackConfig({ FLASH_STATE_DIR: mkdtempSync(join(tmpdir(), 'flashflow-env-')) }), 'api');
    for (const [name, value] of Object.entries(SHARED_SERVICE_ENV)) expect(local[name], name).toBe(value);
  });
});

describe('nginx’s site template', () => {
  const configLines = read('nginx/templates/flash-flow.conf.template')
    .split('\n')
    .filter((line) => !line.trim().startsWith('#'))
    .join('\n');
  const placeholders = [...new Set([...configLines.matchAll(/\$\{([A-Z0-9_]+)\}/g)].map((m) => m[1]!))];
  const nginxDockerfile = read('nginx/Dockerfile');
  const imageDefaults = [...(/^ENV ([\s\S]+?)\n(?!\s)/m.exec(nginxDockerfile)?.[1] ?? '').matchAll(/([A-Z_]+)=/g)].map((m) => m[1]!);

  it('has every placeholder set in docker-compose and in k8s (or defaulted by the image)', () => {
    expect(placeholders.length).toBeGreaterThan(3);
    const compose = parseYaml(read('docker-compose.yml'), { merge: true }) as { services: { nginx: { environment: Record<string, string> } } };
    const k8sNginx = parseAllDocuments(read('k8s/nginx.yaml'))
      .map((doc) => doc.toJS() as { kind: string; spec?: { template?: { spec?: { containers: { name: string; env?: { name: string }[] }[] } } } })
      .find((object) => object.kind === 'Deployment')!
      .spec!.template!.spec!.containers.find((container) => container.name === 'nginx')!;
    const set = {
      'docker-compose': new Set([...Object.keys(compose.services.nginx.environment), ...imageDefaults]),
      k8s: new Set([...(k8sNginx.env ?? []).map((variable) => variable.name), ...imageDefaults]),
    };
    for (const [environment, names] of Object.entries(set)) {
      expect(placeholders.filter((name) => !names.has(name)), environment).toEqual([]);
    }
  });
});
