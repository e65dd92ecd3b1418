/**
 * The Go tools the offline validation runs, pinned, built once into
 * .flash/tools/bin with the Go toolchain (as loadtest/k6.ts builds k6), and
 * reused while their build info names the pinned version:
 *   kubeconform    validates Kubernetes objects against JSON schemas
 *   kustomize      builds k8s/ as `kubectl kustomize` does
 *   compose-check  tools/validate/compose-check: docker-compose.yml through
 *                  compose-go, the loader docker compose itself uses
 * kubeconform is the newest release; kustomize and compose-go are the newest
 * that build with Go 1.26 (kustomize v5.8.3 asks for Go 1.27, compose-go
 * v2.17.0 for 1.26.11).
 */
import { execFile, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { REPO_ROOT } from '../../stack/src/config.js';

const execFileAsync = promisify(execFile);

export const TOOLS_DIR = join(REPO_ROOT, '.flash/tools');
export const TOOLS_BIN = join(TOOLS_DIR, 'bin');
const COMPOSE_CHECK_SOURCE = join(REPO_ROOT, 'tools/validate/compose-check');

export const KUBECONFORM = { module: 'github.com/yannh/kubeconform', pkg: 'github.com/yannh/kubeconform/cmd/kubeconform', version: 'v0.8.0' };
export const KUSTOMIZE = { module: 'sigs.k8s.io/kustomize/kustomize/v5', pkg: 'sigs.k8s.io/kustomize/kustomize/v5', version: 'v5.8.2' };

export type Say = (line: string) => void;
const defaultSay: Say = (line) => process.stdout.write(`${line}\n`);

const GO_CANDIDATES = ['go', '/usr/local/go/bin/go', '/usr/lib/go/bin/go'];

let goBinary: Promise<string> | null = null;

/** The Go toolchain: `go` on PATH or in the usual places. */
export function findGo(): Promise<string> {
  goBinary ??= (async () => {
    for (const candidate of GO_CANDIDATES) {
      try {
        await execFileAsync(candidate, ['version'], { timeout: 10_000 });
        return candidate;
      } catch {
        // next
      }
    }
    goBinary = null;
    throw new Error(
      `no Go toolchain found (looked for ${GO_CANDIDATES.join(', ')}): the manifest validation builds kubeconform, kustomize and compose-check with it. Install Go ≥ 1.26 (https://go.dev/dl/) and run again.`,
    );
  })();
  return goBinary;
}

/** Runs go with the given arguments, its output shown as it comes (module downloads, errors). */
export async function runGo(args: string[], env: Record<string, string> = {}, cwd = REPO_ROOT): Promise<string> {
  const go = await findGo();
  return new Promise((resolve, reject) => {
    const child = spawn(go, args, { cwd, env: { ...process.env, CGO_ENABLED: '0', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
      process.stderr.write(chunk);
    });
    child.on('error', reject);
    child.on('exit', (code) =>
      code === 0 ? resolve(stdout) : reject(new Error(`go ${args.join(' ')} exited with ${code}:\n${(stderr || stdout).trim()}`)),
    );
  });
}

/** The directory of a module version in Go's module cache, downloading it (through GOPROXY) if need be. */
export async function goModuleDir(module: string, version: string): Promise<string> {
  // Outside any module, so nothing in the repo decides what is downloaded.
  mkdirSync(TOOLS_DIR, { recursive: true });
  const out = JSON.parse(await runGo(['mod', 'download', '-json', `${module}@${version}`], {}, TOOLS_DIR)) as { Dir?: string; Error?: string };
  if (!out.Dir) throw new Error(`go mod download ${module}@${version}: ${out.Error ?? 'no directory'}`);
  return out.Dir;
}

/** The module version a go-built binary was built from (its build info, `go version -m`), or null. */
async function builtVersion(binary: string, module: string): Promise<string | null> {
  if (!existsSync(binary)) return null;
  try {
    const { stdout } = await execFileAsync(await findGo(), ['version', '-m', binary], { timeout: 10_000 });
    return new RegExp(`^\\s*mod\\s+${module.replace(/[.]/g, '\\.')}\\s+(\\S+)`, 'm').exec(stdout)?.[1] ?? 'unknown';
  } catch {
    return 'unknown';
  }
}

/**
 * Builds into a fresh folder, then moves the binary into place: an
 * interrupted build never leaves a half-written tool, and two test runs
 * building at once each end with a whole one.
 */
async function buildInto(name: string, build: (gobin: string) => Promise<void>): Promise<string> {
  mkdirSync(TOOLS_BIN, { recursive: true });
  const scratch = mkdtempSync(join(TOOLS_DIR, `.build-${name}-`));
  try {
    await build(scratch);
    renameSync(join(scratch, name), join(TOOLS_BIN, name));
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
  return join(TOOLS_BIN, name);
}

async function ensureInstalled(name: string, tool: { module: string; pkg: string; version: string }, say: Say): Promise<string> {
  const binary = join(TOOLS_BIN, name);
  const seen = await builtVersion(binary, tool.module);
  if (seen === tool.version) return binary;
  say(`==> ${name} ${tool.version}: ${seen === null ? 'not built yet' : `have ${seen}`}; go install ${tool.pkg}@${tool.version} into ${TOOLS_BIN}`);
  say('    (once; up to a minute or two on 2 cores; later runs reuse it)');
  const started = Date.now();
  await buildInto(name, (gobin) => runGo(['install', `${tool.pkg}@${tool.version}`], { GOBIN: gobin }).then(() => undefined));
  const built = await builtVersion(binary, tool.module);
  if (built !== tool.version) throw new Error(`built ${binary} but its build info says ${built ?? 'nothing'}, not ${tool.version}`);
  say(`    built ${name} ${tool.version} in ${((Date.now() - started) / 1000).toFixed(0)} s`);
  return binary;
}

/** compose-check is versioned by its sources: any change to them rebuilds it. */
function composeCheckStamp(): string {
  const hash = createHash('sha256');
  for (const file of ['go.mod', 'go.sum', 'main.go']) hash.update(readFileSync(join(COMPOSE_CHECK_SOURCE, file)));
  return hash.digest('hex').slice(0, 16);
}

async function ensureComposeCheck(say: Say): Promise<string> {
  const stamp = composeCheckStamp();
  const binary = join(TOOLS_BIN, 'compose-check');
  const stampFile = `${binary}.sources`;
  const built = existsSync(binary) && existsSync(stampFile) ? readFileSync(stampFile, 'utf8') : null;
  if (built === stamp) return binary;
  say(`==> compose-check (tools/validate/compose-check, sources ${stamp}): go build into ${TOOLS_BIN}`);
  const started = Date.now();
  await buildInto('compose-check', (gobin) =>
    runGo(['build', '-trimpath', '-buildvcs=false', '-o', join(gobin, 'compose-check'), '.'], {}, COMPOSE_CHECK_SOURCE).then(() => undefined),
  );
  writeFileSync(stampFile, stamp);
  say(`    built compose-check in ${((Date.now() - started) / 1000).toFixed(0)} s`);
  return binary;
}

export interface GoTools {
  kubeconform: string;
  kustomize: string;
  composeCheck: string;
}

let tools: Promise<GoTools> | null = null;

/** The three binaries, built first where missing or of another version. */
export function ensureGoTools(say: Say = defaultSay): Promise<GoTools> {
  tools ??= (async () => {
    mkdirSync(TOOLS_DIR, { recursive: true });
    // One after the other: the machine may have two cores, and other work on them.
    const kubeconform = await ensureInstalled('kubeconform', KUBECONFORM, say);
    const kustomize = await ensureInstalled('kustomize', KUSTOMIZE, say);
    const composeCheck = await ensureComposeCheck(say);
    return { kubeconform, kustomize, composeCheck };
  })().catch((error: unknown) => {
    tools = null;
    throw error;
  });
  return tools;
}
