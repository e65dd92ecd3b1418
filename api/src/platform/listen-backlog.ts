/**
 * A herd arrives as thousands of connections at once. Each replica queues this
 * many unaccepted connections (Node's default is 511; Linux caps the value at
 * net.core.somaxconn), and nginx opens no more than this to one replica
 * (`max_conns`), so what a replica could not even queue is turned away at the
 * edge, cheaply, instead of waiting (docs/adr/0005-admission.md).
 */
export const LISTEN_BACKLOG = 4096;
