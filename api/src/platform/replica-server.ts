/** An API replica's HTTP server, as nginx meets it: the replica and the benchmark's Node floor both build it here. */
import { createServer, type RequestListener, type Server } from 'node:http';

/** A herd arrives as thousands of connections at once: a deeper accept queue than Node's 511. */
export const LISTEN_BACKLOG = 4096;
/**
 * nginx reuses idle upstream connections for up to 30 s (keepalive_timeout in
 * nginx/templates). If the replica closed one first (Node's default is 5 s), a
 * POST sent on it would meet a reset that nginx must not retry: outlive nginx.
 */
const KEEP_ALIVE_MS = 65_000;

export function createReplicaServer(listener: RequestListener): Server {
  const server = createServer(listener);
  server.keepAliveTimeout = KEEP_ALIVE_MS;
  server.headersTimeout = KEEP_ALIVE_MS + 1_000;
  return server;
}
