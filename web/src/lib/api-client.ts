import { config } from '../config';

/**
 * The one place that talks HTTP. It never throws for an HTTP status (callers
 * decide what a 404 or a 409 means); it throws `NetworkError` only when no
 * answer came back at all.
 */

export type ApiResponse = {
  status: number;
  ok: boolean;
  headers: Headers;
  /** Parsed JSON, or null if the body was empty or not JSON (e.g. an nginx HTML error page). */
  body: unknown;
  /** Local clock (ms) when the answer arrived. */
  receivedAt: number;
};

export class NetworkError extends Error {
  override name = 'NetworkError';
}

export class ApiError extends Error {
  override name = 'ApiError';
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly correlationId?: string,
  ) {
    super(message);
  }
}

const REQUEST_TIMEOUT_MS = 10_000;

export function apiUrl(path: string, query?: Record<string, string>): string {
  const qs = query ? `?${new URLSearchParams(query).toString()}` : '';
  return `${config.apiBaseUrl}${path}${qs}`;
}

export async function apiRequest(url: string, init: RequestInit = {}): Promise<ApiResponse> {
  let response: Response;
  try {
    response = await fetch(url, {
      // Freshness is nginx's job (its ~1 s micro-cache); the browser must not add its own.
      cache: 'no-store',
      ...init,
      headers: { Accept: 'application/json', ...(init.body ? { 'Content-Type': 'application/json' } : {}), ...init.headers },
      signal: init.signal ?? timeoutSignal(REQUEST_TIMEOUT_MS),
    });
  } catch (cause) {
    throw new NetworkError('The shop could not be reached.', { cause });
  }
  const receivedAt = Date.now();
  let body: unknown = null;
  try {
    const text = await response.text();
    body = text ? JSON.parse(text) : null;
  } catch {
    body = null;
  }
  return { status: response.status, ok: response.ok, headers: response.headers, body, receivedAt };
}

function timeoutSignal(ms: number): AbortSignal | undefined {
  return typeof AbortSignal.timeout === 'function' ? AbortSignal.timeout(ms) : undefined;
}
