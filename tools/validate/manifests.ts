/**
 * Offline validation of what would be sent to a cluster or to docker
 * compose, with no cluster and no network past the Go module proxy:
 *
 * - every kustomization (k8s/, and k8s/loadtest on its own) built by
 *   kustomize exactly as it is applied (README: `kubectl kustomize
 *   --load-restrictor LoadRestrictionsNone k8s`, `kubectl apply -k
 *   k8s/loadtest`), then every object it yields checked by kubeconform
 *   -strict against the Kubernetes release's schemas and the CRDs'
 *   (schemas.ts): an unknown or misspelt field, a wrong type, a missing
 *   required field, a kind with no schema all fail;
 * - docker-compose.yml loaded by compose-go (compose-check/).
 *
 * stack/src/manifests-validate.test.ts runs this in `npm test`; standalone:
 *
 *   node --import tsx tools/validate/manifests.ts
 */
import { execFile } from 'node:child_process';
import { resolve } from 'node:path';
import { REPO_ROOT } from '../../stack/src/config.js';
import { ensureGoTools, type GoTools, type Say } from './go-tools.js';
import { KUBERNETES_VERSION, ensureSchemas, type SchemaLocations } from './schemas.js';


/** Every kustomization, with the flags its documented apply command uses (k8s/README.md). */
export const KUSTOMIZATIONS = [
  // Its ConfigMaps come from the shared files outside k8s/.
  { dir: 'k8s', flags: ['--load-restrictor', 'LoadRestrictionsNone'] },
  // `kubectl apply -k k8s/loadtest`: the default load restrictor, so that command works.
  { dir: 'k8s/loadtest', flags: [] },
] as const;

export interface ObjectResult {
  kind: string;
  name: string;
  version: string;
  status: 'statusValid' | 'statusInvalid' | 'statusError' | 'statusSkipped' | 'statusEmpty';
  /** kubeconform's message (every violation, with its path). */
  messages: string[];
}

export interface KubeconformRun {
  source: string;
  results: ObjectResult[];
  /** What kubeconform printed, for a failure's report. */
  raw: string;
}

async function run(binary: string, args: string[], input?: string): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = execFile(binary, args, { cwd: REPO_ROOT, maxBuffer: 64 * 2 ** 20, timeout: 120_000 }, (error, stdout, stderr) => {
      if (error && typeof error.code !== 'number') reject(error);
      else resolve({ code: error ? (error.code as number) : 0, stdout, stderr });
    });
    if (input !== undefined) child.stdin!.end(input);
  });
}

/** The objects a kustomization yields, as YAML: what `kubectl kustomize` (and so `kubectl apply -k`) sends. */
export async function kustomizeBuild(tools: GoTools, dir: string, flags: readonly string[]): Promise<string> {
  const { code, stdout, stderr } = await run(tools.kustomize, ['build', ...flags, dir]);
  if (code !== 0) throw new Error(`kustomize build ${[...flags, dir].join(' ')} failed:\n${stderr.trim()}`);
  return stdout;
}

/** kubeconform -strict over a YAML stream, every object reported (valid ones too). */
export async function kubeconform(tools: GoTools, schemas: SchemaLocations, yaml: string, source: string): Promise<KubeconformRun> {
  const args = [
    '-strict',
    '-verbose',
    '-output', 'json',
    '-kubernetes-version', KUBERNETES_VERSION,
    // Only these: without a -schema-location kubeconform would fetch from GitHub.
    '-schema-location', schemas.kubernetes,
    '-schema-location', schemas.crds,
    '-n', '4',
  ];
  const { stdout, stderr } = await run(tools.kubeconform, [...args, '-'], yaml);
  let parsed: { resources?: { kind: string; name: string; version: string; status: ObjectResult['status']; msg: string; validationErrors?: { path: string; msg: string }[] }[] };
  try {
    parsed = JSON.parse(stdout) as typeof parsed;
  } catch {
    throw new Error(`kubeconform printed no JSON for ${source}:\n${stdout}${stderr}`);
  }
  const results = (parsed.resources ?? []).map((r) => ({
    kind: r.kind,
    name: r.name,
    version: r.version,
    status: r.status,
    // kubeconform's message names every violation, nested ones too (its validationErrors keep only the
    // outermost, e.g. "/spec: validation failed"): those only when it has no message.
    messages: r.msg ? [r.msg] : (r.validationErrors ?? []).map((e) => `${e.path || '/'}: ${e.msg}`),
  }));
  return { source, results, raw: `${stdout}${stderr}` };
}

/** Every object that is not valid, one line each with kubeconform's words. */
export function problems(run: KubeconformRun): string[] {
  return run.results
    .filter((r) => r.status !== 'statusValid')
    .map((r) => `${run.source}: ${r.kind}/${r.name} (${r.version}) ${r.status.replace('status', '').toLowerCase()}: ${r.messages.join('; ') || 'no message'}`);
}

export async function composeCheck(tools: GoTools, file = 'docker-compose.yml'): Promise<{ ok: boolean; output: string }> {
  const { code, stdout, stderr } = await run(tools.composeCheck, ['-project-directory', REPO_ROOT, resolve(REPO_ROOT, file)]);
  return { ok: code === 0, output: `${stdout}${stderr}`.trim() };
}

/** The tools and the schemas, built or made first where missing. */
export async function prepare(say?: Say): Promise<{ tools: GoTools; schemas: SchemaLocations }> {
  const tools = await ensureGoTools(say);
  const schemas = await ensureSchemas(say);
  return { tools, schemas };
}

/** Standalone: every check, a line per kustomization and for compose; exit 1 on any problem. */
async function main(): Promise<number> {
  const say: Say = (line) => process.stdout.write(`${line}\n`);
  const { tools, schemas } = await prepare(say);
  let failures = 0;
  for (const { dir, flags } of KUSTOMIZATIONS) {
    const started = Date.now();
    const result = await kubeconform(tools, schemas, await kustomizeBuild(tools, dir, flags), dir);
    const bad = problems(result);
    failures += bad.length;
    say(`${bad.length ? '✗' : '✓'} ${dir}: ${result.results.length - bad.length} of ${result.results.length} objects valid (kubeconform -strict, Kubernetes ${KUBERNETES_VERSION}) in ${Date.now() - started} ms`);
    for (const line of bad) say(`    ${line}`);
  }
  const compose = await composeCheck(tools);
  if (!compose.ok) failures += 1;
  say(`${compose.ok ? '✓' : '✗'} ${compose.output}`);
  return failures ? 1 : 0;
}

if (process.argv[1] && import.meta.url === new URL(`file://${process.argv[1]}`).href) {
  main().then(
    (code) => process.exit(code),
    (error: unknown) => {
      process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
      process.exit(1);
    },
  );
}
