// The burst shapes' load generator: HTTP/1.1 GET requests over keep-alive
// connections, one outstanding per connection, from one thread with epoll.
//
// Why not autocannon there: the burst shapes answer 1-8 MiB per request,
// and autocannon reads and parses every 64 KiB in JavaScript. On one core
// it saturated at about 1.3 GB/s (97-99 % of its CPU, the service at
// 61-77 %), so every configuration measured the load generator. This one
// reads into a 1 MiB buffer and only counts body bytes.
//
// Usage: loadgen PORT CONNECTIONS WARMUP SECONDS PATH_PREFIX OPEN_PATH
// Opens CONNECTIONS connections to 127.0.0.1:PORT, each asking for
// OPEN_PATH once (a cheap request: its answer tells that the service
// accepted the connection). Once all have their answer (or after 30 s),
// asks for PATH_PREFIX followed by 0, 1, 2, ... (one number per request,
// across connections) for WARMUP seconds, prints "measuring", then goes on
// on the same connections for SECONDS more and prints one line of JSON
// about those: the responses completed in that time, the latency
// percentiles of the requests asked for in it (ms, from the request's first
// byte sent to the response's last byte read; requests still out at the end
// are waited for, and one unanswered after 10 s counts as 10 s), errors
// (connections refused or reset mid-response, malformed responses,
// requests unanswered after 10 s; these also counted as timeouts), non-2xx
// responses and body bytes. It exits with 1 if no connection was ever
// answered.
//
// Why the connections open first, on an idle service, and stay open: Node
// accepts one connection per turn of its event loop, and a turn of a busy
// service takes tens to hundreds of milliseconds. Opened under load, 256
// connections took up to 20 s to be accepted, their first requests timed
// out or waited seconds, and that was the measurement's p99. A service's
// keep-alive clients connect once.
#define _GNU_SOURCE
#include <errno.h>
#include <math.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define READ_BYTES (1 << 20)
#define READS_PER_TURN 4 // then the other connections' turn
#define HEAD_MAX 8192
#define LINE_MAX 128
#define TIMEOUT_NS (10ull * 1000000000ull)
#define UNTIL_CLOSE UINT64_MAX

enum phase { IDLE, SENDING, HEAD, BODY, CHUNK_SIZE, CHUNK_DATA, CHUNK_END, TRAILER };

struct conn {
  int fd;
  enum phase phase;
  int status;
  int chunked;
  int close_after;
  uint64_t left; // body or chunk bytes still to read
  uint64_t started_ns;
  int open_request; // the request out is OPEN_PATH
  int answered;     // OPEN_PATH answered once: the service accepted it
  int retry;        // failed: to be opened again
  uint64_t retry_ns;
  size_t head_len;
  size_t line_len;
  size_t req_len;
  size_t req_sent;
  char head[HEAD_MAX];
  char line[LINE_MAX];
  char req[512];
};

#define OPEN_LIMIT_NS (30ull * 1000000000ull)

static struct {
  int epoll;
  const char *open_path;
  struct conn *conns;
  int connections;
  int answered; // connections that had OPEN_PATH answered
  int retrying; // connections waiting to be opened again
  uint64_t warmup_ns;
  uint64_t seconds_ns;
  int port;
  const char *prefix;
  uint64_t next_id;
  uint64_t measure_ns; // the warm-up's end
  uint64_t deadline_ns;
  uint64_t completed;
  uint64_t errors;
  uint64_t timeouts;
  uint64_t non2xx;
  uint64_t bytes;
  uint32_t *latency_us;
  size_t latency_len;
  size_t latency_cap;
} run;

static uint64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void die(const char *what) {
  perror(what);
  exit(2);
}

static void watch(struct conn *c, uint32_t events, int op) {
  struct epoll_event ev = {.events = events, .data.ptr = c};
  if (epoll_ctl(run.epoll, op, c->fd, &ev) != 0) die("epoll_ctl");
}

static void send_request(struct conn *c);

static void open_conn(struct conn *c) {
  c->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (c->fd < 0) die("socket");
  int one = 1;
  setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons((uint16_t)run.port)};
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(c->fd, (struct sockaddr *)&addr, sizeof addr) != 0 && errno != EINPROGRESS) die("connect");
  c->phase = IDLE;
  watch(c, EPOLLOUT, EPOLL_CTL_ADD);
  send_request(c);
}

static void drop(struct conn *c) {
  close(c->fd); // also removes it from the epoll set
  c->fd = -1;
  c->phase = IDLE;
}

// Drops a connection the service closed and opens another while the run
// lasts.
static void reopen(struct conn *c) {
  drop(c);
  if (now_ns() < run.deadline_ns) open_conn(c);
}

// Whether the load began (begin() ran).
static int began(void) { return run.measure_ns != UINT64_MAX; }

static int measuring(uint64_t t) { return t >= run.measure_ns && t < run.deadline_ns; }

// Whether c's request was asked for in the measured window.
static int sent_in_window(const struct conn *c) {
  return c->started_ns >= run.measure_ns && c->started_ns < run.deadline_ns;
}

// Drops a connection that failed, its request counted as an error if it
// belongs to the measurement; another opens 10 ms later (not at once: a
// refused connection would fail again at once).
static void fail(struct conn *c) {
  uint64_t t = now_ns();
  if (measuring(t) || (c->phase != IDLE && sent_in_window(c))) run.errors++;
  drop(c);
  c->retry = 1;
  c->retry_ns = t + 10000000ull;
  run.retrying++;
}

static void flush_request(struct conn *c) {
  while (c->req_sent < c->req_len) {
    ssize_t n = send(c->fd, c->req + c->req_sent, c->req_len - c->req_sent, MSG_NOSIGNAL);
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == ENOTCONN)) return; // writable later
    if (n <= 0) {
      fail(c);
      return;
    }
    c->req_sent += (size_t)n;
  }
  c->phase = HEAD;
  watch(c, EPOLLIN | EPOLLRDHUP, EPOLL_CTL_MOD);
}

static void send_request(struct conn *c) {
  c->open_request = !began();
  int n = !c->open_request ? snprintf(c->req, sizeof c->req, "GET %s%llu HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n\r\n",
                               run.prefix, (unsigned long long)run.next_id++, run.port)
                    : snprintf(c->req, sizeof c->req, "GET %s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n\r\n",
                               run.open_path, run.port);
  if (n < 0 || (size_t)n >= sizeof c->req) {
    fprintf(stderr, "loadgen: request path too long\n");
    exit(2);
  }
  c->req_len = (size_t)n;
  c->req_sent = 0;
  c->head_len = 0;
  c->started_ns = now_ns();
  c->phase = SENDING;
  watch(c, EPOLLOUT, EPOLL_CTL_MOD);
  flush_request(c);
}

static void record(uint64_t ns) {
  if (run.latency_len == run.latency_cap) {
    run.latency_cap = run.latency_cap ? run.latency_cap * 2 : 65536;
    run.latency_us = realloc(run.latency_us, run.latency_cap * sizeof *run.latency_us);
    if (!run.latency_us) die("realloc");
  }
  uint64_t us = ns / 1000;
  run.latency_us[run.latency_len++] = us > UINT32_MAX ? UINT32_MAX : (uint32_t)us;
}

// The load begins: the warm-up's and the measurement's clocks start, and
// every connection that waits sends its first request.
static void begin(uint64_t t) {
  run.measure_ns = t + run.warmup_ns;
  run.deadline_ns = run.measure_ns + run.seconds_ns;
  for (int i = 0; i < run.connections; i++) {
    struct conn *c = &run.conns[i];
    if (c->retry) {
      c->retry = 0;
      run.retrying--;
    }
    if (c->fd < 0) open_conn(c);
    else if (c->phase == IDLE) send_request(c); // else its OPEN_PATH answer starts it
  }
}

static void complete(struct conn *c) {
  uint64_t t = now_ns();
  if (c->open_request) {
    c->phase = IDLE;
    if (c->close_after) drop(c); // opened again by begin() or below
    if (!c->answered) {
      c->answered = 1;
      if (++run.answered == run.connections && !began()) {
        begin(t);
        return;
      }
    }
    if (!began() || t >= run.deadline_ns) return;
    if (c->fd < 0) open_conn(c); // the load began while it was out
    else send_request(c);
    return;
  }
  if (measuring(t)) {
    run.completed++;
    if (c->status < 200 || c->status > 299) run.non2xx++;
  }
  if (sent_in_window(c)) record(t - c->started_ns);
  if (c->close_after) reopen(c);
  else if (t < run.deadline_ns) send_request(c);
  else c->phase = IDLE;
}

// Whether the value of header line h (its name name_len bytes long) holds
// word, in any case.
static int value_has(const char *h, size_t name_len, const char *word) {
  const char *end = strstr(h, "\r\n");
  size_t w = strlen(word);
  for (const char *v = h + name_len; v + w <= end; v++)
    if (strncasecmp(v, word, w) == 0) return 1;
  return 0;
}

// Reads the status and the headers that frame the body; 0 if malformed.
static int parse_head(struct conn *c) {
  c->head[c->head_len] = '\0';
  if (sscanf(c->head, "HTTP/1.%*d %d", &c->status) != 1) return 0;
  c->chunked = 0;
  c->close_after = 0;
  c->left = UNTIL_CLOSE;
  for (char *line = strstr(c->head, "\r\n"); line && line[2] != '\r'; line = strstr(line + 2, "\r\n")) {
    char *h = line + 2;
    if (strncasecmp(h, "content-length:", 15) == 0) c->left = strtoull(h + 15, NULL, 10);
    else if (strncasecmp(h, "transfer-encoding:", 18) == 0 && value_has(h, 18, "chunked")) c->chunked = 1;
    else if (strncasecmp(h, "connection:", 11) == 0 && value_has(h, 11, "close")) c->close_after = 1;
  }
  if (c->status == 204 || c->status == 304) c->left = 0;
  if (c->left == UNTIL_CLOSE && !c->chunked) c->close_after = 1;
  return 1;
}

// Collects one CRLF-terminated line of the chunked framing; returns the
// bytes of p it took, with *done set once the line is whole.
static size_t take_line(struct conn *c, const char *p, size_t n, int *done) {
  const char *nl = memchr(p, '\n', n);
  size_t take = nl ? (size_t)(nl - p) + 1 : n;
  size_t room = LINE_MAX - 1 - c->line_len;
  memcpy(c->line + c->line_len, p, take < room ? take : room);
  c->line_len += take < room ? take : room;
  c->line[c->line_len] = '\0';
  *done = nl != NULL;
  return take;
}

// Feeds n bytes read from c through its response; 0 when nothing more is
// to be read from the same socket now (dropped, reopened or idle).
static int consume(struct conn *c, const char *p, size_t n) {
  while (n > 0) {
    int done = 0;
    size_t used;
    switch (c->phase) {
    case HEAD: {
      size_t room = HEAD_MAX - 1 - c->head_len;
      size_t take = n < room ? n : room;
      size_t from = c->head_len >= 3 ? c->head_len - 3 : 0;
      memcpy(c->head + c->head_len, p, take);
      c->head_len += take;
      char *end = memmem(c->head + from, c->head_len - from, "\r\n\r\n", 4);
      if (!end) {
        if (c->head_len == HEAD_MAX - 1) {
          fail(c);
          return 0;
        }
        return 1;
      }
      size_t head_bytes = (size_t)(end - c->head) + 4;
      used = take - (c->head_len - head_bytes);
      c->head_len = head_bytes;
      if (!parse_head(c)) {
        fail(c);
        return 0;
      }
      c->line_len = 0;
      c->phase = c->chunked ? CHUNK_SIZE : BODY;
      break;
    }
    case BODY:
    case CHUNK_DATA:
      used = n < c->left ? n : (size_t)c->left;
      if (c->left != UNTIL_CLOSE) c->left -= used;
      if (measuring(now_ns())) run.bytes += used;
      break;
    case CHUNK_SIZE:
    case CHUNK_END:
    case TRAILER:
      used = take_line(c, p, n, &done);
      break;
    default: // bytes nobody asked for
      fail(c);
      return 0;
    }
    p += used;
    n -= used;
    if (c->phase == CHUNK_SIZE && done) {
      char *end;
      c->left = strtoull(c->line, &end, 16);
      if (end == c->line) {
        fail(c);
        return 0;
      }
      c->line_len = 0;
      c->phase = c->left == 0 ? TRAILER : CHUNK_DATA;
    } else if (c->phase == CHUNK_END && done) {
      c->line_len = 0;
      c->phase = CHUNK_SIZE;
    } else if (c->phase == TRAILER && done) {
      int blank = c->line_len <= 2;
      c->line_len = 0;
      if (blank) c->phase = IDLE;
    } else if (c->phase == CHUNK_DATA && c->left == 0) {
      c->line_len = 0;
      c->phase = CHUNK_END;
    } else if (c->phase == BODY && c->left == 0) {
      c->phase = IDLE;
    }
    if (c->phase == IDLE) {
      if (n > 0) { // a response nobody asked for
        fail(c);
        return 0;
      }
      complete(c);
      // Read on only from the same connection, with a request out.
      return !c->close_after && c->phase != IDLE;
    }
  }
  return 1;
}

static void readable(struct conn *c, char *buf) {
  for (int reads = 0; reads < READS_PER_TURN; reads++) {
    ssize_t n = recv(c->fd, buf, READ_BYTES, 0);
    if (n > 0) {
      if (!consume(c, buf, (size_t)n)) return;
      if (c->phase == SENDING) return; // the next request awaits writability
      continue;
    }
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return;
    if (n == 0 && c->phase == BODY && c->left == UNTIL_CLOSE) { // body framed by the close
      c->phase = IDLE;
      c->close_after = 1;
      complete(c);
      return;
    }
    if (n < 0 || c->phase != IDLE) fail(c);
    else reopen(c);
    return;
  }
}

// Whether a request asked for in the measured window is still out.
static int window_pending(void) {
  for (int i = 0; i < run.connections; i++) {
    const struct conn *c = &run.conns[i];
    if (c->fd >= 0 && c->phase != IDLE && sent_in_window(c)) return 1;
  }
  return 0;
}

static int by_value(const void *a, const void *b) {
  uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
  return (x > y) - (x < y);
}

static double percentile_ms(double p) {
  if (run.latency_len == 0) return 0;
  size_t rank = (size_t)ceil(p / 100.0 * (double)run.latency_len);
  if (rank < 1) rank = 1;
  if (rank > run.latency_len) rank = run.latency_len;
  return run.latency_us[rank - 1] / 1000.0;
}

int main(int argc, char **argv) {
  if (argc != 7) {
    fprintf(stderr, "usage: %s PORT CONNECTIONS WARMUP SECONDS PATH_PREFIX OPEN_PATH\n", argv[0]);
    return 2;
  }
  run.port = atoi(argv[1]);
  int connections = atoi(argv[2]);
  double warmup = atof(argv[3]);
  double seconds = atof(argv[4]);
  run.prefix = argv[5];
  run.open_path = argv[6];
  if (run.port <= 0 || run.port > 65535 || connections <= 0 || connections > 65536 || !(warmup >= 0) ||
      !(seconds > 0)) {
    fprintf(stderr, "loadgen: bad arguments\n");
    return 2;
  }
  run.epoll = epoll_create1(EPOLL_CLOEXEC);
  if (run.epoll < 0) die("epoll_create1");
  char *buf = malloc(READ_BYTES);
  struct conn *conns = calloc((size_t)connections, sizeof *conns);
  run.conns = conns;
  run.connections = connections;
  struct epoll_event *events = calloc((size_t)connections, sizeof *events);
  if (!buf || !conns || !events) die("malloc");
  uint64_t start = now_ns();
  run.warmup_ns = (uint64_t)(warmup * 1e9);
  run.seconds_ns = (uint64_t)(seconds * 1e9);
  run.measure_ns = UINT64_MAX; // until begin()
  run.deadline_ns = start + OPEN_LIMIT_NS + run.warmup_ns + run.seconds_ns;
  int announced = 0;
  for (int i = 0; i < connections; i++) open_conn(&conns[i]);

  uint64_t last_sweep = start;
  for (uint64_t t = start; t < run.deadline_ns || (t < run.deadline_ns + TIMEOUT_NS && window_pending());
       t = now_ns()) {
    if (!began() && t >= start + OPEN_LIMIT_NS) begin(t); // some never answered
    if (!announced && t >= run.measure_ns) {
      printf("measuring\n");
      fflush(stdout);
      announced = 1;
    }
    uint64_t next = !announced && run.measure_ns > t ? run.measure_ns : run.deadline_ns;
    int wait_ms = next > t && next - t < 50000000ull ? (int)((next - t) / 1000000ull) + 1 : 50;
    int n = epoll_wait(run.epoll, events, connections, wait_ms);
    if (n < 0 && errno != EINTR) die("epoll_wait");
    for (int i = 0; i < n; i++) {
      struct conn *c = events[i].data.ptr;
      if (c->fd < 0) continue;
      if (c->phase == SENDING) {
        if (events[i].events & (EPOLLERR | EPOLLHUP)) fail(c);
        else flush_request(c);
      } else if (events[i].events & (EPOLLIN | EPOLLRDHUP | EPOLLERR | EPOLLHUP)) {
        readable(c, buf);
      }
    }
    uint64_t s = now_ns();
    for (int i = 0; run.retrying > 0 && i < connections; i++) { // failed connections, 10 ms on
      struct conn *c = &conns[i];
      if (c->retry && s >= c->retry_ns) {
        c->retry = 0;
        run.retrying--;
        if (s < run.deadline_ns) open_conn(c);
      }
    }
    if (s - last_sweep >= 100000000ull) { // requests unanswered for too long
      last_sweep = s;
      for (int i = 0; i < connections; i++) {
        struct conn *c = &conns[i];
        if (c->fd >= 0 && c->phase != IDLE && s > c->started_ns + TIMEOUT_NS) {
          if (sent_in_window(c)) record(s - c->started_ns);
          if (measuring(s) || sent_in_window(c)) run.timeouts++;
          fail(c);
        }
      }
    }
  }
  if (run.answered == 0) {
    fprintf(stderr, "loadgen: no connection to 127.0.0.1:%d was answered\n", run.port);
    return 1;
  }
  double elapsed = (double)run.seconds_ns / 1e9;
  if (run.latency_len > 0) qsort(run.latency_us, run.latency_len, sizeof *run.latency_us, by_value);
  printf("{\"requests\":%llu,\"seconds\":%.3f,\"rps\":%.2f,\"latency\":{\"p50\":%.3f,\"p90\":%.3f,\"p99\":%.3f,"
         "\"p99_9\":%.3f,\"max\":%.3f},\"errors\":%llu,\"timeouts\":%llu,\"non2xx\":%llu,\"bytes\":%llu}\n",
         (unsigned long long)run.completed, elapsed, (double)run.completed / elapsed, percentile_ms(50),
         percentile_ms(90), percentile_ms(99), percentile_ms(99.9), percentile_ms(100),
         (unsigned long long)run.errors, (unsigned long long)run.timeouts, (unsigned long long)run.non2xx,
         (unsigned long long)run.bytes);
  return 0;
}
