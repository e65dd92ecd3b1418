/** One API replica's `node --cpu-prof` profile, summarised: self time by area (Node, V8, each dependency, our code) and by function. */
import { readFileSync } from 'node:fs';
import { REPO_ROOT } from '../../stack/src/config.js';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
}

export function summariseProfile(file: string) {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as { nodes: ProfileNode[] };
  // Shares of the time the replica was busy: idle samples are counted apart.
  const all = profile.nodes.reduce((t, n) => t + (n.hitCount ?? 0), 0);
  const idle = profile.nodes.filter((n) => n.callFrame.functionName === '(idle)').reduce((t, n) => t + (n.hitCount ?? 0), 0);
  const total = all - idle;
  const byFunction = new Map<string, number>();
  const byArea = new Map<string, number>();
  for (const node of profile.nodes) {
    const hits = node.hitCount ?? 0;
    if (!hits || node.callFrame.functionName === '(idle)') continue;
    const { functionName, url, lineNumber } = node.callFrame;
    const area = areaOf(functionName, url);
    byArea.set(area, (byArea.get(area) ?? 0) + hits);
    const where = url ? `${url.replace(/^file:\/\//, '').replace(REPO_ROOT, '').replace(/.*node_modules\//, '')}:${lineNumber + 1}` : '';
    const key = `${functionName || '(anonymous)'} ${where}`.trim();
    byFunction.set(key, (byFunction.get(key) ?? 0) + hits);
  }
  const top = (map: Map<string, number>, n: number) =>
    [...map].sort((a, b) => b[1] - a[1]).slice(0, n).map(([name, hits]) => ({ name, share: hits / total }));
  return { idleShare: all ? idle / all : 0, areas: top(byArea, 12), functions: top(byFunction, 15) };
}

function areaOf(functionName: string, url: string): string {
  if (functionName === '(garbage collector)') return 'garbage collection';
  if (functionName === '(idle)') return 'idle (waiting for I/O)';
  if (functionName === '(program)') return 'V8/native (program)';
  if (url.includes('node_modules/')) {
    const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url)?.[1] ?? 'dependency';
    return `dependency: ${pkg}`;
  }
  if (url.startsWith('node:') || (!url.startsWith('file:') && url !== '')) return 'Node.js core (http, net, streams…)';
  if (url.includes('/api/dist/')) return 'Flash Flow API code';
  return url ? 'other' : 'native (no url)';
}

export type ProfileSummary = ReturnType<typeof summariseProfile>;
