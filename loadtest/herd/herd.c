/*
 * herd: the benchmarks' load client. Every request is one shopper: a fresh
 * TCP connection from a loopback address of its own, one HTTP/1.1 request,
 * the whole answer read, the connection closed. epoll, nothing allocated per
 * request, and --threads T threads (default: one per core), each with its
 * share of the shoppers, so that on loopback, where the kernel's work for
 * both ends lands largely on the sender, one thread is not what runs out.
 *
 *   herd --url http://127.0.0.1:8080/path --count N
 *        [--concurrency C | --rate R] [--duration SECONDS]
 *        [--method POST] [--body '{"userId":"b-%u"}']
 *        [--addresses 127.40.0.1-127.40.255.254] [--timeout-ms 10000]
 *        [--threads T]
 *
 * Three shapes:
 *   - a herd (neither --concurrency nor --rate): all N shoppers at once;
 *   - closed (--concurrency C): C in flight, each replaced as it finishes;
 *   - open (--rate R): R new shoppers a second whatever the answers do, the
 *     way real shoppers arrive; a shopper the client had no room to start
 *     is counted as "unsent" (the client, not the server, fell behind).
 * Closed and open runs stop after N shoppers or --duration seconds. Thread t
 * of T sends shoppers t, t+T, t+2T, … with a T-th of the concurrency or rate.
 * "%u" in the body is the shopper's number. Prints one JSON object: counts
 * by status, errors by kind, 503s without Retry-After, latency percentiles
 * (from the start of connect to the last byte), the rate, the CPU this
 * client used, and a timeline: answers by status for each second.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_REQUEST 8192
#define MAX_HEAD 2048
#define READ_BUFFER 65536
#define MAX_SECONDS 600
#define TRACKED_STATUSES 600

enum state { IDLE, CONNECTING, WRITING, READING };

struct shopper {
  int fd;
  enum state state;
  double started;
  size_t written;
  size_t request_length;
  char request[MAX_REQUEST];
  /* the answer: its head kept for parsing, the rest only counted */
  size_t received;
  size_t header_end;
  long content_length;
  int status;
  char head[MAX_HEAD];
};

static struct {
  const char *host;
  int port;
  const char *path;
  const char *method;
  const char *body;
  uint32_t count;
  uint32_t concurrency;
  double rate;
  double duration;
  double timeout;
  uint32_t first_address;
  uint32_t last_address;
  uint32_t threads;
} options = {.host = "127.0.0.1", .port = 80, .path = "/", .method = "GET", .count = 1000, .timeout = 10.0};

static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec + t.tv_nsec / 1e9;
}

static void fail(const char *what) {
  fprintf(stderr, "herd: %s\n", what);
  exit(2);
}

static uint32_t parse_address(const char *text) {
  struct in_addr address;
  if (inet_pton(AF_INET, text, &address) != 1) fail("bad address in --addresses");
  return ntohl(address.s_addr);
}

static void parse_url(const char *url) {
  static char host[256];
  if (strncmp(url, "http://", 7) != 0) fail("--url must start with http://");
  const char *rest = url + 7;
  const char *slash = strchr(rest, '/');
  const char *colon = strchr(rest, ':');
  int has_port = colon && (!slash || colon < slash);
  size_t host_length = has_port ? (size_t)(colon - rest) : (slash ? (size_t)(slash - rest) : strlen(rest));
  if (host_length >= sizeof host) fail("host too long");
  memcpy(host, rest, host_length);
  host[host_length] = 0;
  options.host = host;
  options.port = has_port ? atoi(colon + 1) : 80;
  options.path = slash ? slash : "/";
}

/* One thread's shoppers and what came back to them; merged when every thread is done. */
struct worker {
  pthread_t thread;
  uint32_t index;
  /* this thread's share: shoppers to send, in flight (closed), arrivals a second (open) */
  uint32_t count;
  uint32_t concurrency;
  double rate;
  uint32_t slots;
  int epoll_fd;
  uint32_t launched;
  /* latencies in microseconds, one per answer; answers by status, per second */
  uint32_t *latencies;
  uint32_t answered;
  uint32_t status_counts[TRACKED_STATUSES];
  uint32_t (*timeline)[TRACKED_STATUSES];
  uint32_t timeline_seconds;
  uint32_t errors_connect, errors_reset, errors_timeout, errors_parse, unsent;
  /* 503s that did not say when to retry: the shop promises Retry-After on every one. */
  uint32_t unavailable_without_retry_after;
};

static struct sockaddr_in remote;
/* When every thread started: the timeline's second 0 and the end of --duration. */
static double began;

static int compare(const void *a, const void *b) {
  uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
  return x < y ? -1 : x > y;
}

static void build_request(struct shopper *s, uint32_t number) {
  char body[MAX_REQUEST / 2] = "";
  if (options.body) snprintf(body, sizeof body, options.body, number);
  size_t body_length = strlen(body);
  int n = options.body
              ? snprintf(s->request, MAX_REQUEST,
                         "%s %s HTTP/1.1\r\nHost: %s:%d\r\nConnection: close\r\n"
                         "Content-Type: application/json\r\nContent-Length: %zu\r\n\r\n%s",
                         options.method, options.path, options.host, options.port, body_length, body)
              : snprintf(s->request, MAX_REQUEST, "%s %s HTTP/1.1\r\nHost: %s:%d\r\nConnection: close\r\n\r\n",
                         options.method, options.path, options.host, options.port);
  if (n <= 0 || n >= MAX_REQUEST) fail("request too long");
  s->request_length = (size_t)n;
}

/* Starts the worker's next shopper in slot s; returns 1 if it is in flight. */
static int start(struct worker *w, struct shopper *s) {
  uint32_t number = w->index + options.threads * w->launched++;
  uint32_t span = options.last_address - options.first_address + 1;
  struct sockaddr_in local = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(options.first_address + number % span)};
  s->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
  if (s->fd < 0) fail("socket: out of file descriptors? (ulimit -n)");
  int one = 1;
  setsockopt(s->fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  setsockopt(s->fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof one);
  setsockopt(s->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  if (bind(s->fd, (struct sockaddr *)&local, sizeof local) != 0) fail("bind to a source address");
  build_request(s, number);
  s->started = now();
  s->written = s->received = s->header_end = 0;
  s->status = 0;
  s->content_length = -1;
  s->state = CONNECTING;
  if (connect(s->fd, (struct sockaddr *)&remote, sizeof remote) != 0 && errno != EINPROGRESS) {
    close(s->fd);
    s->fd = -1;
    s->state = IDLE;
    w->errors_connect += 1;
    return 0;
  }
  struct epoll_event event = {.events = EPOLLOUT | EPOLLIN | EPOLLRDHUP, .data.ptr = s};
  epoll_ctl(w->epoll_fd, EPOLL_CTL_ADD, s->fd, &event);
  return 1;
}

static void finish(struct worker *w, struct shopper *s, int ok) {
  /* The answer is in: close at once, without the FIN handshake and TIME_WAIT,
     which would cost this client (and the kernel) more than the request. */
  struct linger abort_close = {1, 0};
  setsockopt(s->fd, SOL_SOCKET, SO_LINGER, &abort_close, sizeof abort_close);
  close(s->fd);
  s->fd = -1;
  s->state = IDLE;
  if (!ok) return;
  double t = now();
  w->latencies[w->answered++] = (uint32_t)((t - s->started) * 1e6);
  int status = s->status > 0 && s->status < TRACKED_STATUSES ? s->status : 0;
  w->status_counts[status] += 1;
  uint32_t second = (uint32_t)(t - began);
  if (second < MAX_SECONDS) {
    w->timeline[second][status] += 1;
    if (second + 1 > w->timeline_seconds) w->timeline_seconds = second + 1;
  }
}

/* Reads what has arrived: 1 once the whole answer is in, 0 for more, -1 on failure. */
static int read_answer(struct worker *w, struct shopper *s, char *buffer) {
  for (;;) {
    ssize_t n = read(s->fd, buffer, READ_BUFFER);
    if (n > 0) {
      if (s->received < MAX_HEAD - 1) {
        size_t room = MAX_HEAD - 1 - s->received;
        size_t keep = (size_t)n < room ? (size_t)n : room;
        memcpy(s->head + s->received, buffer, keep);
        s->head[s->received + keep] = 0;
      }
      s->received += (size_t)n;
      if (!s->header_end) {
        char *end = strstr(s->head, "\r\n\r\n");
        if (end) {
          s->header_end = (size_t)(end - s->head) + 4;
          if (sscanf(s->head, "HTTP/1.%*d %d", &s->status) != 1) return -1;
          if (s->status == 503 && !strcasestr(s->head, "\r\nretry-after:")) w->unavailable_without_retry_after += 1;
          char *length = strcasestr(s->head, "\r\ncontent-length:");
          s->content_length = length ? strtol(length + 17, NULL, 10) : -1;
        }
      }
      if (s->header_end && s->content_length >= 0 && s->received >= s->header_end + (size_t)s->content_length) return 1;
      continue;
    }
    if (n == 0) return s->header_end ? 1 : -1; /* closed: the whole answer, or a reset before one */
    return errno == EAGAIN ? 0 : -1;
  }
}

/* One thread's event loop: launches its shoppers as they are due, reads their answers. */
static void *run(void *argument) {
  struct worker *w = argument;
  struct shopper *shoppers = calloc(w->slots, sizeof *shoppers);
  struct shopper **free_slots = calloc(w->slots, sizeof *free_slots);
  char *buffer = malloc(READ_BUFFER);
  struct epoll_event *events = calloc(w->slots, sizeof *events);
  if (!shoppers || !free_slots || !buffer || !events) fail("out of memory");
  uint32_t free_count = 0;
  for (uint32_t i = w->slots; i-- > 0;) {
    shoppers[i].fd = -1;
    free_slots[free_count++] = &shoppers[i];
  }
  w->epoll_fd = epoll_create1(0);
  double stop_launching = options.duration > 0 ? began + options.duration : 0;
  double next_timeout_scan = began + 0.1;
  uint32_t active = 0;

  for (;;) {
    double t = now();
    int may_launch = w->launched < w->count && (!stop_launching || t < stop_launching);
    /* Launch who is due: everyone in a herd, refills in a closed run, arrivals so far in an open one. */
    uint32_t due = 0;
    if (may_launch) {
      if (w->rate > 0) {
        double arrived = (t - began) * w->rate;
        uint32_t target = arrived < w->count ? (uint32_t)arrived + 1 : w->count;
        due = target > w->launched + w->unsent ? target - w->launched - w->unsent : 0;
      } else {
        due = w->count - w->launched;
      }
    }
    for (; due > 0; due--) {
      if (free_count == 0) {
        if (w->rate > 0) w->unsent += 1;
        else break;
        continue;
      }
      struct shopper *s = free_slots[--free_count];
      if (start(w, s)) active += 1;
      else free_slots[free_count++] = s;
    }
    if (active == 0 && (!may_launch || w->launched + w->unsent >= w->count)) break;

    int ready = epoll_wait(w->epoll_fd, events, (int)w->slots, w->rate > 0 ? 1 : 100);
    t = now();
    for (int e = 0; e < ready; e++) {
      struct shopper *s = events[e].data.ptr;
      if (s->fd < 0) continue;
      int done = 0, ok = 0;
      if (events[e].events & EPOLLERR) {
        done = 1;
        if (s->state == CONNECTING) w->errors_connect += 1;
        else w->errors_reset += 1;
      } else {
        if (s->state == CONNECTING && (events[e].events & EPOLLOUT)) s->state = WRITING;
        if (s->state == WRITING) {
          ssize_t n = write(s->fd, s->request + s->written, s->request_length - s->written);
          if (n > 0) s->written += (size_t)n;
          else if (n < 0 && errno != EAGAIN) {
            done = 1;
            w->errors_reset += 1;
          }
          if (!done && s->written == s->request_length) {
            s->state = READING;
            struct epoll_event event = {.events = EPOLLIN | EPOLLRDHUP, .data.ptr = s};
            epoll_ctl(w->epoll_fd, EPOLL_CTL_MOD, s->fd, &event);
          }
        }
        if (!done && s->state == READING && (events[e].events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP))) {
          int r = read_answer(w, s, buffer);
          if (r == 1) done = ok = 1;
          else if (r < 0) {
            done = 1;
            if (s->header_end) w->errors_parse += 1;
            else w->errors_reset += 1;
          }
        }
      }
      if (done) {
        finish(w, s, ok);
        active -= 1;
        free_slots[free_count++] = s;
      }
    }
    /* Shoppers waiting too long are given up on: a timeout, not an answer. */
    if (t >= next_timeout_scan) {
      next_timeout_scan = t + 0.1;
      for (uint32_t i = 0; i < w->slots; i++) {
        struct shopper *s = &shoppers[i];
        if (s->fd >= 0 && t - s->started > options.timeout) {
          finish(w, s, 0);
          w->errors_timeout += 1;
          active -= 1;
          free_slots[free_count++] = s;
        }
      }
    }
  }
  close(w->epoll_fd);
  free(shoppers);
  free(free_slots);
  free(buffer);
  free(events);
  return NULL;
}

/* Thread i's share of a total split T ways: the remainder goes to the first ones. */
static uint32_t share(uint32_t total, uint32_t i) {
  return total / options.threads + (i < total % options.threads);
}

static void usage(void) {
  fail("usage: herd --url URL --count N [--concurrency C | --rate R] [--duration S] [--method M] [--body B] "
       "[--addresses FIRST-LAST] [--timeout-ms MS] [--threads T]");
}

int main(int argc, char **argv) {
  const char *addresses = "127.40.0.1-127.40.255.254";
  for (int i = 1; i < argc; i += 2) {
    if (i + 1 >= argc) usage();
    const char *name = argv[i], *value = argv[i + 1];
    if (!strcmp(name, "--url")) parse_url(value);
    else if (!strcmp(name, "--count")) options.count = (uint32_t)strtoul(value, NULL, 10);
    else if (!strcmp(name, "--concurrency")) options.concurrency = (uint32_t)strtoul(value, NULL, 10);
    else if (!strcmp(name, "--rate")) options.rate = atof(value);
    else if (!strcmp(name, "--duration")) options.duration = atof(value);
    else if (!strcmp(name, "--method")) options.method = value;
    else if (!strcmp(name, "--body")) options.body = value;
    else if (!strcmp(name, "--addresses")) addresses = value;
    else if (!strcmp(name, "--timeout-ms")) options.timeout = atof(value) / 1000;
    else if (!strcmp(name, "--threads")) options.threads = (uint32_t)strtoul(value, NULL, 10);
    else usage();
  }
  if (options.count == 0 || options.timeout <= 0 || (options.concurrency && options.rate > 0)) usage();
  char first[32], last[32];
  if (sscanf(addresses, "%31[^-]-%31s", first, last) != 2) fail("--addresses must be FIRST-LAST");
  options.first_address = parse_address(first);
  options.last_address = parse_address(last);
  if (options.last_address < options.first_address) fail("--addresses: last before first");
  remote = (struct sockaddr_in){.sin_family = AF_INET, .sin_port = htons(options.port)};
  if (inet_pton(AF_INET, options.host, &remote.sin_addr) != 1) fail("--url: the host must be an IPv4 address");

  if (options.threads == 0) options.threads = (uint32_t)sysconf(_SC_NPROCESSORS_ONLN);
  /* Never more threads than shoppers, nor than shoppers at once: every thread has one at least. */
  uint32_t at_once = options.concurrency && options.concurrency < options.count ? options.concurrency : options.count;
  if (options.threads > at_once) options.threads = at_once;

  struct worker *workers = calloc(options.threads, sizeof *workers);
  if (!workers) fail("out of memory");
  uint32_t total_slots = 0;
  for (uint32_t i = 0; i < options.threads; i++) {
    struct worker *w = &workers[i];
    w->index = i;
    w->count = share(options.count, i);
    w->concurrency = options.concurrency ? share(options.concurrency, i) : 0;
    w->rate = options.rate / options.threads;
    /* Slots: every shopper of a herd, C of a closed run, a timeout's worth of arrivals of an open one. */
    w->slots = w->concurrency ? w->concurrency : w->rate > 0 ? (uint32_t)(w->rate * (options.timeout + 1)) + 1 : w->count;
    if (w->slots > w->count) w->slots = w->count;
    total_slots += w->slots;
  }
  /* As many at once as the open-files limit allows: an open run with fewer slots counts the rest as unsent. */
  struct rlimit limit;
  getrlimit(RLIMIT_NOFILE, &limit);
  uint32_t reserved = 64 + 2 * options.threads; /* stdio, the epoll descriptors */
  if (limit.rlim_max != RLIM_INFINITY && total_slots + reserved > limit.rlim_max) {
    if (!options.rate) fail("more shoppers at once than the open-files limit allows (ulimit -Hn)");
    uint32_t room = (uint32_t)limit.rlim_max - reserved;
    total_slots = 0;
    for (uint32_t i = 0; i < options.threads; i++) {
      workers[i].slots = share(room, i);
      total_slots += workers[i].slots;
    }
  }
  limit.rlim_cur = total_slots + reserved;
  if (setrlimit(RLIMIT_NOFILE, &limit) != 0) fail("cannot raise the open-files limit (ulimit -n)");
  for (uint32_t i = 0; i < options.threads; i++) {
    workers[i].latencies = calloc(workers[i].count, sizeof *workers[i].latencies);
    workers[i].timeline = calloc(MAX_SECONDS, sizeof *workers[i].timeline);
    if (!workers[i].latencies || !workers[i].timeline) fail("out of memory");
  }

  struct rusage before;
  getrusage(RUSAGE_SELF, &before);
  began = now();
  for (uint32_t i = 0; i < options.threads; i++) {
    if (pthread_create(&workers[i].thread, NULL, run, &workers[i]) != 0) fail("cannot start a thread");
  }
  for (uint32_t i = 0; i < options.threads; i++) pthread_join(workers[i].thread, NULL);
  double elapsed = now() - began;
  struct rusage after;
  getrusage(RUSAGE_SELF, &after);
  double cpu = (double)(after.ru_utime.tv_sec - before.ru_utime.tv_sec) + (after.ru_utime.tv_usec - before.ru_utime.tv_usec) / 1e6 +
               (double)(after.ru_stime.tv_sec - before.ru_stime.tv_sec) + (after.ru_stime.tv_usec - before.ru_stime.tv_usec) / 1e6;

  /* Every thread's answers as one: latencies sorted together, counts summed. */
  struct worker all = {0};
  all.latencies = calloc(options.count, sizeof *all.latencies);
  all.timeline = calloc(MAX_SECONDS, sizeof *all.timeline);
  if (!all.latencies || !all.timeline) fail("out of memory");
  for (uint32_t i = 0; i < options.threads; i++) {
    struct worker *w = &workers[i];
    memcpy(all.latencies + all.answered, w->latencies, w->answered * sizeof *w->latencies);
    all.answered += w->answered;
    all.launched += w->launched;
    all.unsent += w->unsent;
    all.errors_connect += w->errors_connect;
    all.errors_reset += w->errors_reset;
    all.errors_timeout += w->errors_timeout;
    all.errors_parse += w->errors_parse;
    all.unavailable_without_retry_after += w->unavailable_without_retry_after;
    if (w->timeline_seconds > all.timeline_seconds) all.timeline_seconds = w->timeline_seconds;
    for (int code = 0; code < TRACKED_STATUSES; code++) all.status_counts[code] += w->status_counts[code];
    for (uint32_t second = 0; second < w->timeline_seconds; second++) {
      for (int code = 0; code < TRACKED_STATUSES; code++) all.timeline[second][code] += w->timeline[second][code];
    }
  }

  uint32_t answered = all.answered;
  uint32_t *latencies = all.latencies;
  qsort(latencies, answered, sizeof *latencies, compare);
#define PERCENTILE(q) (answered ? latencies[(uint32_t)((q) * (answered - 1))] / 1000.0 : 0)
  printf("{\"sent\":%u,\"unsent\":%u,\"answered\":%u,\"seconds\":%.3f,\"perSecond\":%.1f,\"cpuSeconds\":%.3f,\"threads\":%u,",
         all.launched, all.unsent, answered, elapsed, answered / elapsed, cpu, options.threads);
  printf("\"ms\":{\"p50\":%.2f,\"p90\":%.2f,\"p99\":%.2f,\"max\":%.2f},", PERCENTILE(0.5), PERCENTILE(0.9), PERCENTILE(0.99),
         PERCENTILE(1.0));
  printf("\"errors\":{\"connect\":%u,\"reset\":%u,\"timeout\":%u,\"parse\":%u},\"statuses\":{", all.errors_connect,
         all.errors_reset, all.errors_timeout, all.errors_parse);
  for (int code = 0, written = 0; code < TRACKED_STATUSES; code++) {
    if (all.status_counts[code]) printf("%s\"%d\":%u", written++ ? "," : "", code, all.status_counts[code]);
  }
  printf("},\"unavailableWithoutRetryAfter\":%u,\"timeline\":[", all.unavailable_without_retry_after);
  for (uint32_t second = 0; second < all.timeline_seconds; second++) {
    printf("%s{", second ? "," : "");
    for (int code = 0, written = 0; code < TRACKED_STATUSES; code++) {
      if (all.timeline[second][code]) printf("%s\"%d\":%u", written++ ? "," : "", code, all.timeline[second][code]);
    }
    printf("}");
  }
  printf("]}\n");
  return 0;
}
