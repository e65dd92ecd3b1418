/**
 * What `kubectl apply` and `docker compose up` would be given, checked
 * offline (tools/validate/manifests.ts): every kustomization built by
 * kustomize as its apply command builds it, every object it yields valid for
 * kubeconform -strict against the Kubernetes release's own OpenAPI spec and
 * the CRDs' schemas, and docker-compose.yml loaded by compose-go. The first
 * run builds the pinned tools into .flash/tools (a minute or two); a tool
 * that cannot be built fails every test here with the reason.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { parseAllDocuments, parse as parseYaml } from 'yaml';
import { KUSTOMIZATIONS, composeCheck, kubeconform, kustomizeBuild, prepare, problems } from '../../tools/validate/manifests.js';
import { KUBERNETES_VERSION } from '../../tools/validate/schemas.js';
import { REPO_ROOT } from './config.js';

let prepared: Awaited<ReturnType<typeof prepare>> | undefined;
let unprepared: unknown;
const built = new Map<string, string>();

beforeAll(async () => {
  try {
    prepared = await prepare((line) => console.log(line));
    for (const { dir, flags } of KUSTOMIZATIONS) built.set(dir, await kustomizeBuild(prepared.tools, dir, flags));
  } catch (error) {
    // Every test fails with this (rather than being skipped, as after a failed hook).
    unprepared = error;
  }
}, 20 * 60_000);

/** The tools and schemas, or the reason there are none. */
function ready() {
  if (!prepared || unprepared) {
    const reason = unprepared instanceof Error ? unprepared.message : String(unprepared);
    throw new Error(`the offline validation could not start (tools/validate): ${reason}`);
  }
  return prepared;
}

const objectsIn = (yaml: string) => parseAllDocuments(yaml).filter((doc) => doc.contents !== null).length;

describe.each(KUSTOMIZATIONS)('kustomize build $dir', ({ dir }) => {
  it(`yields only objects valid for kubeconform -strict (Kubernetes ${KUBERNETES_VERSION}, and the CRDs)`, { timeout: 60_000 }, async () => {
    const { tools, schemas } = ready();
    const yaml = built.get(dir)!;
    const run = await kubeconform(tools, schemas, yaml, dir);
    // Every object is reported, none skipped for want of a schema.
    expect(run.results.length, run.raw).toBe(objectsIn(yaml));
    expect(problems(run), `kubeconform says:\n${problems(run).join('\n')}`).toEqual([]);
  });
});

describe('the validation itself', () => {
  it('made schemas for Kubernetes’ kinds and the k6-operator CRD', () => {
    const { counts } = ready().schemas;
    expect(counts.kubernetes).toBeGreaterThan(200);
    expect(counts.crds).toBeGreaterThanOrEqual(1);
  });

  it.each([
    ['a misspelt field', 'k8s', 'imagePullPolicy: IfNotPresent', 'imagePullPolicyy: IfNotPresent', /Deployment\/\S+ .*additional properties 'imagePullPolicyy' not allowed/],
    ['a wrong type', 'k8s', 'averageUtilization: 200', 'averageUtilization: "200"', /HorizontalPodAutoscaler\/api .*averageUtilization.*got string/],
    ['a missing required field', 'k8s', /^ {2}maxReplicas: \d+\n/m, '', /HorizontalPodAutoscaler\/api .*missing property 'maxReplicas'/],
    ['a quantity that is not one', 'k8s', 'cpu: 250m', 'cpu: [250m]', /requests\/cpu/],
    ['a kind with no schema', 'k8s', 'kind: Ingress', 'kind: Ingres', /Ingres\/nginx .*could not find schema/],
    ['a misspelt field of a custom resource', 'k8s/loadtest', 'parallelism:', 'parallelizm:', /TestRun\/flashflow-ramp .*additional properties 'parallelizm' not allowed/],
  ] as const)('refuses %s', { timeout: 60_000 }, async (_what, dir, from, to, expected) => {
    const { tools, schemas } = ready();
    const original = built.get(dir)!;
    const broken = original.replace(from, to);
    expect(broken, 'the breakage must change something').not.toBe(original);
    const run = await kubeconform(tools, schemas, broken, `${dir}, broken on purpose`);
    expect(problems(run).join('\n')).toMatch(expected);
  });
});

describe('docker-compose.yml', () => {
  it('loads in compose-go, the loader docker compose uses: schema, interpolation, references', { timeout: 60_000 }, async () => {
    const result = await composeCheck(ready().tools);
    expect(result.ok, result.output).toBe(true);
    // Every service, those behind a profile too.
    const services = Object.keys((parseYaml(readFileSync(join(REPO_ROOT, 'docker-compose.yml'), 'utf8'), { merge: true }) as { services: object }).services);
    expect(result.output).toContain(`${services.length} services (${services.sort().join(', ')})`);
  });

  it('is refused with a misspelt key or a dependency on a missing service', { timeout: 60_000 }, async () => {
    const { tools } = ready();
    const compose = readFileSync(join(REPO_ROOT, 'docker-compose.yml'), 'utf8');
    const dir = mkdtempSync(join(tmpdir(), 'flashflow-compose-'));
    for (const [name, text, expected] of [
      ['typo.yml', compose.replace('stop_grace_period: 15s', 'stop_grace_periodd: 15s'), /stop_grace_periodd/],
      ['dangling.yml', compose.replace('reconciler: { condition: service_healthy }', 'reconciller: { condition: service_healthy }'), /undefined service "reconciller"/],
    ] as const) {
      expect(text).not.toBe(compose);
      writeFileSync(join(dir, name), text);
      const result = await composeCheck(tools, join(dir, name));
      expect(result.ok, name).toBe(false);
      expect(result.output).toMatch(expected);
    }
  });
});
