import { z } from 'zod';

/**
 * The page's only reader of `import.meta.env`. Every setting has a default that
 * works behind nginx (same origin, `/api/` proxied), so a plain `vite build`
 * needs no env at all.
 */
const ConfigSchema = z.object({
  VITE_API_BASE_URL: z
    .string()
    .trim()
    .min(1)
    .default('/api/v1')
    .transform((url) => url.replace(/\/+$/, '')),
  /** How often the status endpoint is polled (nginx micro-caches it for ~1 s). */
  VITE_POLL_INTERVAL_MS: z.coerce.number().int().min(100).max(60_000).default(1000),
  /** localStorage key under which the identifier of a confirmed purchase is kept. */
  VITE_IDENTIFIER_STORAGE_KEY: z.string().min(1).default('flash-flow:purchased-identifier'),
});

export type Config = {
  apiBaseUrl: string;
  pollIntervalMs: number;
  identifierStorageKey: string;
};

export function parseConfig(env: Record<string, unknown>): Config {
  const parsed = ConfigSchema.safeParse(env);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');
    throw new Error(`Invalid web configuration: ${problems}`);
  }
  return {
    apiBaseUrl: parsed.data.VITE_API_BASE_URL,
    pollIntervalMs: parsed.data.VITE_POLL_INTERVAL_MS,
    identifierStorageKey: parsed.data.VITE_IDENTIFIER_STORAGE_KEY,
  };
}

export const config: Config = parseConfig(import.meta.env);
