/**
 * `npm run loadtest [-- --smoke] [--instances N] [scenario…]`, parsed at the
 * edge with zod: a bad value is refused with a sentence and exit code 2
 * (run.ts), never a stack trace.
 */
import { z } from 'zod';
import { MAX_INSTANCES } from './distributed.js';
import { SCENARIO_NAMES, type ScenarioName } from './suite.js';

export interface LoadtestArgs {
  smoke: boolean;
  /** k6 processes per scenario, each running one execution segment (1: one process, as always). */
  instances: number;
  scenarios: ScenarioName[];
}

const instancesMessage = `--instances takes a whole number from 1 to ${MAX_INSTANCES}`;

export const LoadtestArgsSchema = z.object({
  smoke: z.boolean().default(false),
  instances: z
    .string()
    .default('1')
    .refine((raw) => /^\d+$/.test(raw.trim()), { error: (issue) => `${instancesMessage}, not "${String(issue.input)}"` })
    .transform((raw) => Number(raw.trim()))
    .pipe(z.number().int().min(1, { error: (issue) => `${instancesMessage}, not ${String(issue.input)}` }).max(MAX_INSTANCES, {
      error: (issue) => `${instancesMessage}, not ${String(issue.input)}`,
    })),
  scenarios: z.array(z.string()).transform((names, ctx) => {
    const unknown = names.filter((n) => !SCENARIO_NAMES.includes(n as ScenarioName));
    if (unknown.length) {
      ctx.issues.push({ code: 'custom', input: names, message: `unknown scenario ${unknown.join(', ')}; choose from ${SCENARIO_NAMES.join(', ')}` });
      return z.NEVER;
    }
    return names.length ? (names as ScenarioName[]) : SCENARIO_NAMES;
  }),
});

const USAGE = 'usage: npm run loadtest [-- --smoke] [--instances N] [scenario…]';

/** The arguments, or every reason they were refused (one sentence each, then the usage line). */
export function parseLoadtestArgs(argv: string[]): { ok: true; args: LoadtestArgs } | { ok: false; errors: string[] } {
  const errors: string[] = [];
  const raw: { smoke?: boolean; instances?: string; scenarios: string[] } = { scenarios: [] };
  for (let i = 0; i < argv.length; i += 1) {
    const arg = argv[i]!;
    if (arg === '--smoke') raw.smoke = true;
    else if (arg === '--instances' || arg.startsWith('--instances=')) {
      const value = arg === '--instances' ? argv[(i += 1)] : arg.slice('--instances='.length);
      if (value === undefined) errors.push(`${instancesMessage}: none given`);
      else raw.instances = value;
    } else if (arg.startsWith('-')) errors.push(`unknown option ${arg}`);
    else raw.scenarios.push(arg);
  }
  const parsed = LoadtestArgsSchema.safeParse(raw);
  if (!parsed.success) errors.push(...parsed.error.issues.map((issue) => issue.message));
  if (errors.length || !parsed.success) return { ok: false, errors: [...errors, USAGE] };
  return { ok: true, args: parsed.data };
}
