/**
 * k6, found or built. k6 is neither on npm (the `k6` package there is a
 * placeholder) nor in Debian, so when it is not on PATH we build the pinned
 * version from source with the Go toolchain into .flash/bin, once, and say so.
 */
import { execFile, spawn } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { promisify } from 'node:util';
import { REPO_ROOT } from '../stack/src/config.js';

const execFileAsync = promisify(execFile);

/** Pinned: v1.8.1 builds with Go ≥ 1.25 (this machine has 1.26). */
export const K6_VERSION = 'v1.8.1';
export const K6_BIN_DIR = join(REPO_ROOT, '.flash/bin');

const GO_CANDIDATES = ['go', '/usr/local/go/bin/go', '/usr/lib/go/bin/go'];

async function versionOf(binary: string): Promise<string | null> {
  try {
    const { stdout } = await execFileAsync(binary, ['version'], { timeout: 10_000 });
    return /k6 (v\d+\.\d+\.\d+)/.exec(stdout)?.[1] ?? null;
  } catch {
    return null;
  }
}

function onPath(name: string): string | null {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (dir && existsSync(join(dir, name))) return join(dir, name);
  }
  return null;
}

async function findGo(): Promise<string> {
  for (const candidate of GO_CANDIDATES) {
    try {
      await execFileAsync(candidate, ['version'], { timeout: 10_000 });
      return candidate;
    } catch {
      // next
    }
  }
  throw new Error('k6 is not on PATH and no Go toolchain was found to build it (looked for go, /usr/local/go/bin/go)');
}

let found: Promise<string> | null = null;

/**
 * The k6 binary to run: K6_BINARY if set, then `k6` on PATH, then the one we
 * built before, else a fresh `go install go.k6.io/k6@<pinned>`.
 */
export function ensureK6(say: (line: string) => void = (line) => process.stdout.write(`${line}\n`)): Promise<string> {
  found ??= locate(say).catch((error: unknown) => {
    found = null;
    throw error;
  });
  return found;
}

async function locate(say: (line: string) => void): Promise<string> {
  const explicit = process.env.K6_BINARY;
  if (explicit) {
    if (!(await versionOf(explicit))) throw new Error(`K6_BINARY=${explicit} is not a working k6`);
    return explicit;
  }
  const system = onPath('k6');
  if (system && (await versionOf(system))) return system;

  const built = join(K6_BIN_DIR, 'k6');
  if ((await versionOf(built)) === K6_VERSION) return built;

  const go = await findGo();
  mkdirSync(K6_BIN_DIR, { recursive: true });
  say(`==> k6 is not on PATH: building k6 ${K6_VERSION} with "go install go.k6.io/k6@${K6_VERSION}" into ${K6_BIN_DIR}`);
  say('    (once; takes a few minutes on 2 cores; later runs reuse it)');
  const started = Date.now();
  await new Promise<void>((resolve, reject) => {
    const child = spawn(go, ['install', `go.k6.io/k6@${K6_VERSION}`], {
      env: { ...process.env, GOBIN: K6_BIN_DIR, CGO_ENABLED: '0' },
      stdio: ['ignore', 'inherit', 'inherit'],
    });
    child.on('error', reject);
    child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`go install go.k6.io/k6@${K6_VERSION} exited with ${code}`))));
  });
  const version = await versionOf(built);
  if (version !== K6_VERSION) throw new Error(`built ${built} but it reports ${version ?? 'no version'}`);
  say(`    built k6 ${version} in ${((Date.now() - started) / 1000).toFixed(0)} s`);
  return built;
}

/** Standalone: `tsx loadtest/k6.ts` prints the k6 it would use, building it if need be. */
if (process.argv[1] && import.meta.url === new URL(`file://${process.argv[1]}`).href) {
  ensureK6().then(
    (binary) => process.stdout.write(`${binary}\n`),
    (error: unknown) => {
      process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
      process.exit(1);
    },
  );
}
