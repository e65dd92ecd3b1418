import { vi } from 'vitest';
import type { Sale } from '../src/features/flash-sale/api/schemas';

/**
 * A stand-in for the API behind `fetch`, for component tests: it answers the
 * three endpoints from in-memory state that a test can change mid-flight.
 */

/** The sale as the status endpoint returns it; the fake adds serverTime when it answers. */
export type FakeSale = Omit<Sale, 'serverTime'>;

type Reply = { status: number; body?: unknown; headers?: Record<string, string> } | 'network-error';
type PurchaseHandler = (userId: string) => Reply | Promise<Reply>;

export type Call = { method: string; path: string; query: URLSearchParams; body: unknown };

export function errorBody(status: number, code: string, details?: unknown) {
  return { status: 'error', code: status, error: { code, message: code.toLowerCase(), correlationId: 'test', ...(details ? { details } : {}) } };
}

export function makeSale(overrides: Partial<FakeSale> = {}, serverNow = Date.now()): FakeSale {
  return {
    id: 'sale-1',
    productName: 'Mechanical Keyboard',
    totalStock: 100,
    remainingStock: 42,
    startTime: new Date(serverNow - 60_000).toISOString(),
    endTime: new Date(serverNow + 3_600_000).toISOString(),
    status: 'active',
    endedReason: null,
    ...overrides,
  };
}

export function fakeApi(options: { sale?: FakeSale | null; clockOffsetMs?: number } = {}) {
  const state = {
    sale: options.sale === undefined ? makeSale() : options.sale,
    clockOffsetMs: options.clockOffsetMs ?? 0,
    statusFails: false,
    purchases: new Map<string, { purchaseId: string; purchasedAt: string }>(),
  };
  const calls: Call[] = [];

  /** Default purchase behaviour: the server's rules in miniature. */
  let onPurchase: PurchaseHandler = (rawUserId) => {
    const userId = rawUserId.toLowerCase();
    const sale = state.sale;
    if (!sale) return { status: 404, body: errorBody(404, 'SALE_NOT_FOUND') };
    const owned = state.purchases.get(userId);
    if (owned) return { status: 409, body: errorBody(409, 'ALREADY_PURCHASED', owned) };
    if (sale.status === 'ended' && sale.endedReason === 'sold_out') return { status: 409, body: errorBody(409, 'SOLD_OUT') };
    if (sale.status !== 'active') return { status: 409, body: errorBody(409, 'SALE_NOT_ACTIVE') };
    const purchase = { purchaseId: `p-${state.purchases.size + 1}-0000-0000`, purchasedAt: new Date().toISOString() };
    state.purchases.set(userId, purchase);
    sale.remainingStock -= 1;
    if (sale.remainingStock === 0) Object.assign(sale, { status: 'ended', endedReason: 'sold_out' });
    return { status: 201, body: { data: { ...purchase, userId, productName: sale.productName, status: 'confirmed' } } };
  };

  const fetchMock = vi.fn(async (input: RequestInfo | URL, init?: RequestInit): Promise<Response> => {
    const url = new URL(String(input), 'http://flash.test');
    const method = (init?.method ?? 'GET').toUpperCase();
    const body: unknown = typeof init?.body === 'string' ? JSON.parse(init.body) : null;
    calls.push({ method, path: url.pathname, query: url.searchParams, body });

    let reply: Reply;
    if (url.pathname === '/api/v1/flash-sales/current' && method === 'GET') {
      if (state.statusFails) reply = 'network-error';
      else if (!state.sale) reply = { status: 404, body: errorBody(404, 'SALE_NOT_FOUND') };
      else reply = { status: 200, body: { data: { ...state.sale, serverTime: new Date(Date.now() + state.clockOffsetMs).toISOString() } } };
    } else if (url.pathname === '/api/v1/flash-sales/current/purchase' && method === 'POST') {
      reply = await onPurchase(String((body as { userId?: unknown } | null)?.userId ?? ''));
    } else if (url.pathname === '/api/v1/flash-sales/current/purchase' && method === 'GET') {
      const owned = state.purchases.get((url.searchParams.get('userId') ?? '').toLowerCase());
      reply = { status: 200, body: { data: owned ? { purchased: true, ...owned } : { purchased: false } } };
    } else {
      reply = { status: 404, body: errorBody(404, 'NOT_FOUND') };
    }

    if (reply === 'network-error') throw new TypeError('Failed to fetch');
    return new Response(reply.body === undefined ? null : JSON.stringify(reply.body), {
      status: reply.status,
      headers: { 'Content-Type': 'application/json', ...reply.headers },
    });
  });

  vi.stubGlobal('fetch', fetchMock);

  return {
    state,
    calls,
    fetch: fetchMock,
    posts: () => calls.filter((c) => c.method === 'POST'),
    lookups: () => calls.filter((c) => c.method === 'GET' && c.path.endsWith('/purchase')),
    setSale(patch: Partial<FakeSale> | null) {
      state.sale = patch === null ? null : { ...(state.sale ?? makeSale()), ...patch };
    },
    onPurchase(handler: PurchaseHandler) {
      onPurchase = handler;
    },
  };
}

/** A promise the test resolves when it chooses, to hold a request "in flight". */
export function deferred<T>() {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}
