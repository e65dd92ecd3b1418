/**
 * The faults, made real on this machine: signals to the stack's processes,
 * services held down and brought back, a network partition by packet filter,
 * the whole stack stopped and started, and a crash injected into a command.
 */
import { execFile, spawn } from 'node:child_process';
import { promisify } from 'node:util';
import { REPO_ROOT, serviceEnv, type StackConfig } from '../stack/src/config.js';
import type { RedisNodeAddress } from '../stack/src/redis-topology.js';
import { FLASHFLOW } from '../stack/src/services.js';

const execFileAsync = promisify(execFile);

/**
 * Cuts `node` off from every other node of the stack's cluster, in both
 * directions (packets between their addresses on the stack's ports are
 * dropped, so established links stall as in a real partition), while
 * clients, which connect from 127.0.0.1, still reach everyone. Resolves with
 * the heal, which removes the filter.
 */
export async function partition(config: StackConfig, node: RedisNodeAddress): Promise<() => Promise<void>> {
  const others = config.redisNodes.filter((other) => other.host !== node.host).map((other) => other.host);
  const ports = config.redisNodes.flatMap(({ port }) => [port, port + 10_000]).join(', ');
  const table = `flashflow_chaos_${config.NGINX_PORT}`;
  const rules = [
    `ip saddr ${node.host} ip daddr { ${others.join(', ')} } tcp dport { ${ports} } drop`,
    `ip saddr ${node.host} ip daddr { ${others.join(', ')} } tcp sport { ${ports} } drop`,
    `ip saddr { ${others.join(', ')} } ip daddr ${node.host} tcp dport { ${ports} } drop`,
    `ip saddr { ${others.join(', ')} } ip daddr ${node.host} tcp sport { ${ports} } drop`,
  ];
  const ruleset = `table inet ${table} {\n  chain output {\n    type filter hook output priority 0; policy accept;\n${rules.map((r) => `    ${r}\n`).join('')}  }\n}\n`;
  await nft(['-f', '-'], ruleset);
  return () => nft(['delete', 'table', 'inet', table]);
}

async function nft(args: string[], input?: string): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    const child = spawn('nft', args, { stdio: ['pipe', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', (error) =>
      reject(new Error(`nft is needed for the partition (Debian's nftables, run as root): ${error.message}`)),
    );
    child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`nft ${args.join(' ')} failed: ${stderr.trim()}`))));
    child.stdin.end(input ?? '');
  });
}

/** Removes a partition a killed run may have left behind. */
export async function healLeftoverPartition(config: StackConfig): Promise<void> {
  await nft(['delete', 'table', 'inet', `flashflow_chaos_${config.NGINX_PORT}`]).catch(() => undefined);
}

/**
 * `sale create --replace`, crashed at a failpoint (platform/failpoints.ts):
 * the process kills itself at that step, as a crash there would. Resolves
 * with how it ended.
 */
export async function crashedSaleCreate(config: StackConfig, failpoint: string): Promise<{ signal: string | null; stderr: string }> {
  try {
    await execFileAsync(
      FLASHFLOW,
      ['sale', 'create', '--stock', '10', '--starts-in', '0s', '--duration', '5m', '--replace'],
      { env: { ...process.env, ...serviceEnv(config, 'operator'), FLASH_FAILPOINT: failpoint }, cwd: REPO_ROOT },
    );
    return { signal: null, stderr: '' };
  } catch (error) {
    const { signal, stderr } = error as { signal?: string; stderr?: string };
    return { signal: signal ?? null, stderr: stderr ?? '' };
  }
}
