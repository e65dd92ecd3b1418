/**
 * The Node floor: a bare node:http server that answers every request with
 * the shop's SOLD_OUT answer (same status, headers and body), reading the
 * body first as a replica does, and doing nothing else: no Redis, no
 * validation, no metrics. Behind the shop's nginx it is what any path through
 * a Node replica costs at the least (capacity.ts).
 *
 *   node --import tsx loadtest/bench/floor-server.ts PORT
 */
import { errorBody } from '../../api/src/errors.js';
import { createReplicaServer, LISTEN_BACKLOG } from '../../api/src/platform/replica-server.js';

const port = Number(process.argv[2]);
if (!Number.isInteger(port) || port < 1 || port > 65535) {
  process.stderr.write('usage: floor-server.ts PORT\n');
  process.exit(2);
}

const server = createReplicaServer((request, response) => {
  request.resume();
  request.on('end', () => {
    const requestId = (request.headers['x-request-id'] as string | undefined) ?? 'floor';
    const body = JSON.stringify(errorBody({ code: 'SOLD_OUT' }, requestId));
    response.writeHead(409, {
      'Cache-Control': 'no-store',
      'Content-Type': 'application/json',
      'Content-Length': Buffer.byteLength(body),
      'X-Request-Id': requestId,
    });
    response.end(body);
  });
});
server.listen({ port, host: '127.0.0.1', backlog: LISTEN_BACKLOG });
