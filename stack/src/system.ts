/** Small wrappers over the host: run a command, find a binary, look up a user, open a path to a user. */
import { execFile, spawn } from 'node:child_process';
import { chmodSync, readdirSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import { promisify } from 'node:util';

const execFileAsync = promisify(execFile);

export async function run(
  command: string,
  args: string[],
  options: { uid?: number; gid?: number; env?: Record<string, string>; cwd?: string } = {},
): Promise<string> {
  try {
    const { stdout } = await execFileAsync(command, args, {
      ...options,
      env: { ...process.env, ...options.env },
      maxBuffer: 16 * 1024 * 1024,
    });
    return stdout;
  } catch (error) {
    const { stderr, stdout, message } = error as { stderr?: string; stdout?: string; message: string };
    throw new Error(`${command} ${args.join(' ')} failed: ${(stderr || stdout || message).trim()}`);
  }
}

/**
 * Runs a command with `input` on its stdin: for what must not appear on a
 * command line (`ps` shows those to every user), such as SQL with passwords.
 */
export function runWithInput(
  command: string,
  args: string[],
  input: string,
  options: { uid?: number; gid?: number; env?: Record<string, string>; cwd?: string } = {},
): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { ...options, env: { ...process.env, ...options.env }, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('exit', (code) => (code === 0 ? resolve(stdout) : reject(new Error(`${command} ${args.join(' ')} failed: ${(stderr || stdout).trim()}`))));
    child.stdin.end(input);
  });
}

export async function userIds(name: string): Promise<{ uid: number; gid: number }> {
  const [uid, gid] = await Promise.all([run('id', ['-u', name]), run('id', ['-g', name])]);
  return { uid: Number(uid), gid: Number(gid) };
}

/** The newest PostgreSQL server installed from Debian's packages. */
export function postgresBinDir(): string {
  const versions = readdirSync('/usr/lib/postgresql')
    .filter((v) => /^\d+$/.test(v))
    .sort((a, b) => Number(b) - Number(a));
  if (!versions[0]) throw new Error('PostgreSQL is not installed (expected /usr/lib/postgresql/<version>)');
  return `/usr/lib/postgresql/${versions[0]}/bin`;
}

/**
 * Services that drop root (postgres, nginx workers) must be able to walk down
 * to their files. Adds search permission (o+x, never read) to any ancestor
 * that lacks it, and says which.
 */
export function makeTraversable(path: string, report: (line: string) => void): void {
  for (let dir = dirname(path); dir !== dirname(dir); dir = dirname(dir)) {
    const mode = statSync(dir).mode;
    if ((mode & 0o001) === 0) {
      chmodSync(dir, mode | 0o001);
      report(`  gave other users search permission (o+x) on ${dir} so services can reach their data`);
    }
  }
}
