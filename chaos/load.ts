/**
 * Shoppers for the fault suite: a steady stream of new buyers, each on a
 * fresh connection from a loopback address of its own, through nginx, as real
 * shoppers arrive. A shopper told 503 or 429, or who got no answer, tries
 * again after Retry-After until it has a final answer (201 or 409) or the
 * run ends. Every answer is kept, with when it came.
 */
import { request } from 'node:http';

export interface Answer {
  userId: string;
  /** Milliseconds since the epoch when the answer (or the failure) arrived. */
  at: number;
  /** HTTP status, or 0 when there was no HTTP answer at all. */
  status: number;
  code: string | null;
  purchaseId: string | null;
  /** Why there was no answer: a refused connection, a reset, a timeout. */
  failure: string | null;
  ms: number;
}

/** A client that waits longer than this has hung: recorded as a failure. */
const ANSWER_TIMEOUT_MS = 10_000;

/** 127.60.0.1 onwards: clear of the tests' (127.10+), k6's (127.21–127.25) and the bench's (127.30) shoppers. */
export function chaosShopperAddress(index: number): string {
  const host = (index % 254) + 1;
  const subnet = Math.floor(index / 254);
  return `127.${60 + Math.floor(subnet / 256)}.${subnet % 256}.${host}`;
}

let nextAddress = 0;

/** One purchase attempt on a connection of its own; never rejects. */
export function attemptPurchase(baseUrl: string, userId: string): Promise<Answer> {
  const started = Date.now();
  const body = JSON.stringify({ userId });
  const localAddress = chaosShopperAddress(nextAddress++);
  return new Promise((resolve) => {
    const done = (fields: Omit<Answer, 'userId' | 'at' | 'ms'>) =>
      resolve({ userId, at: Date.now(), ms: Date.now() - started, ...fields });
    const req = request(
      `${baseUrl}/api/v1/flash-sales/current/purchase`,
      {
        method: 'POST',
        agent: false,
        localAddress,
        headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
        timeout: ANSWER_TIMEOUT_MS,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('error', (error) => done({ status: 0, code: null, purchaseId: null, failure: error.message }));
        res.on('end', () => {
          let parsed: { data?: { purchaseId?: string }; error?: { code?: string; details?: { purchaseId?: string } } } = {};
          try {
            parsed = JSON.parse(Buffer.concat(chunks).toString('utf8')) as typeof parsed;
          } catch {
            // not JSON: the status says enough
          }
          done({
            status: res.statusCode ?? 0,
            code: parsed.error?.code ?? null,
            purchaseId: parsed.data?.purchaseId ?? parsed.error?.details?.purchaseId ?? null,
            failure: null,
          });
        });
      },
    );
    req.on('timeout', () => req.destroy(new Error(`no answer within ${ANSWER_TIMEOUT_MS} ms`)));
    req.on('error', (error) => done({ status: 0, code: null, purchaseId: null, failure: error.message }));
    req.end(body);
  });
}

/** Answers that end a shopper's attempts: they learnt what they got. */
const isFinal = (answer: Answer) => answer.status === 201 || answer.status === 409;
const RETRY_AFTER_MS = 1_000;

export interface Load {
  /** Sends `count` new shoppers at once (a herd), each retrying like the others. */
  herd(count: number): Promise<void>;
  /** Stops sending new shoppers, lets those still retrying finish (or gives up after `drainMs`), and returns every answer. */
  stop(drainMs?: number): Promise<Answer[]>;
}

/** Starts `perSecond` new shoppers a second (ids `<prefix>-<n>`), until stop(). */
export function startLoad(baseUrl: string, prefix: string, perSecond: number): Load {
  const answers: Answer[] = [];
  const shoppers = new Set<Promise<void>>();
  let accepting = true;
  let draining = false;
  let next = 0;

  const shop = (userId: string) => {
    const attempt = (async () => {
      for (;;) {
        const answer = await attemptPurchase(baseUrl, userId);
        answers.push(answer);
        if (isFinal(answer) || draining) return;
        await new Promise((resolve) => setTimeout(resolve, RETRY_AFTER_MS));
        if (draining) return;
      }
    })();
    shoppers.add(attempt);
    void attempt.finally(() => shoppers.delete(attempt));
  };

  // New shoppers arrive evenly, ticking every 10 ms.
  const started = Date.now();
  const ticker = setInterval(() => {
    if (!accepting) return;
    const due = Math.floor(((Date.now() - started) / 1000) * perSecond);
    while (next < due) shop(`${prefix}-${next++}`);
  }, 10);

  return {
    async herd(count) {
      const base = `${prefix}-herd-${next}`;
      next += 1;
      for (let i = 0; i < count; i += 1) shop(`${base}-${i}`);
    },
    async stop(drainMs = 20_000) {
      accepting = false;
      clearInterval(ticker);
      const deadline = setTimeout(() => (draining = true), drainMs);
      while (shoppers.size > 0) await Promise.race(shoppers);
      clearTimeout(deadline);
      return answers;
    },
  };
}
