/*
 * test_http: sb_http over real loopback TCP. The server runs on a uv loop in
 * the test's main thread; each scenario's client is a second thread using
 * plain blocking POSIX sockets (receive timeout CLIENT_TIMEOUT_MS) that
 * records what it saw, and the main thread asserts once the client is done.
 * A guard timer fails a scenario that hangs. Teardown requires uv_loop_close
 * to succeed, i.e. every handle the server opened was closed.
 */
#define _GNU_SOURCE /* memmem */
#include "sb_testutil.h"

#include "sb_error.h"
#include "sb_http.h"

#include <arpa/inet.h>
#include <cjson/cJSON.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#define CLIENT_TIMEOUT_MS 5000
#define GUARD_MS 10000
#define ASYNC_DELAY_MS 50
#define SHORT_TIMEOUT_MS 200
#define POLL_MS 5
#define CLIENT_BUF (256 * 1024)
#define HEAD_MAX 4096
#define MAX_RESP 4
#define LOG_MAX 512

/* ---- blocking client (runs in the client thread) ---------------------- */

typedef struct {
  int fd;
  char buf[CLIENT_BUF];
  size_t len;
} cli_t;

typedef struct {
  int status;
  char head[HEAD_MAX];
  char *body; /* malloc'd, NUL-terminated */
  size_t body_len;
} resp_t;

static double now_ms(void) {
  struct timeval tv;
  gettimeofday(&tv, NULL);
  return tv.tv_sec * 1000.0 + tv.tv_usec / 1000.0;
}

static int cli_connect(cli_t *c, int port) {
  c->len = 0;
  c->fd = socket(AF_INET, SOCK_STREAM, 0);
  struct timeval tv = {CLIENT_TIMEOUT_MS / 1000, 0};
  setsockopt(c->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  int one = 1;
  setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  return connect(c->fd, (struct sockaddr *)&a, sizeof a);
}

static void cli_sendn(cli_t *c, const char *s, size_t n) {
  while (n > 0) {
    ssize_t w = send(c->fd, s, n, MSG_NOSIGNAL);
    if (w <= 0)
      return;
    s += w;
    n -= (size_t)w;
  }
}

static void cli_send(cli_t *c, const char *s) { cli_sendn(c, s, strlen(s)); }

/* Reads more; 0 on EOF, timeout or error. */
static int cli_fill(cli_t *c) {
  if (c->len == CLIENT_BUF)
    return 0;
  ssize_t n = recv(c->fd, c->buf + c->len, CLIENT_BUF - c->len, 0);
  if (n <= 0)
    return 0;
  c->len += (size_t)n;
  return 1;
}

static size_t content_length(const char *head) {
  for (const char *p = head; (p = strchr(p, '\n')) != NULL; p++)
    if (strncasecmp(p + 1, "Content-Length:", 15) == 0)
      return strtoul(p + 16, NULL, 10);
  return 0;
}

/* Reads exactly one response (with no body if bodyless, as after HEAD);
 * 0 ok, -1 if the stream ended first. */
static int cli_response_ex(cli_t *c, resp_t *r, int bodyless) {
  memset(r, 0, sizeof *r);
  char *end;
  while (!(c->len && (end = memmem(c->buf, c->len, "\r\n\r\n", 4))))
    if (!cli_fill(c))
      return -1;
  size_t hlen = (size_t)(end - c->buf) + 4;
  if (hlen >= HEAD_MAX)
    return -1;
  memcpy(r->head, c->buf, hlen);
  r->head[hlen] = '\0';
  r->body_len = bodyless ? 0 : content_length(r->head);
  while (c->len < hlen + r->body_len)
    if (!cli_fill(c))
      return -1;
  r->body = malloc(r->body_len + 1);
  memcpy(r->body, c->buf + hlen, r->body_len);
  r->body[r->body_len] = '\0';
  sscanf(r->head, "HTTP/1.1 %d", &r->status);
  memmove(c->buf, c->buf + hlen + r->body_len, c->len - hlen - r->body_len);
  c->len -= hlen + r->body_len;
  return 0;
}

static int cli_response(cli_t *c, resp_t *r) { return cli_response_ex(c, r, 0); }

/* 1 if any byte is waiting to be read. */
static int cli_readable(cli_t *c) {
  char b;
  return recv(c->fd, &b, 1, MSG_PEEK | MSG_DONTWAIT) > 0;
}

/* 1 if the server closes the connection with nothing more to read. */
static int cli_eof(cli_t *c) {
  if (c->len)
    return 0;
  char b;
  ssize_t n = recv(c->fd, &b, 1, 0);
  return n == 0 || (n < 0 && errno == ECONNRESET);
}

static void cli_close(cli_t *c) { close(c->fd); }

/* ---- server fixture (main thread) ------------------------------------- */

typedef struct {
  uv_loop_t loop;
  sb_http_server_t *srv;
  int port;
  uv_async_t done;
  uv_timer_t guard;
  uv_timer_t delay;
  sb_http_response_t *delayed;
  sb_http_response_t *held;
  atomic_int held_ready;
  int guard_fired;
  char log[LOG_MAX]; /* "d:<query> " on dispatch, "r:<query> " on async answer */
} fx_t;

/* What a client thread saw, per exchange. */
typedef struct {
  fx_t *fx;
  cli_t cli;
  resp_t r[MAX_RESP];
  int got[MAX_RESP]; /* cli_response() == 0 */
  int eof[MAX_RESP];
  double ms[MAX_RESP];
} out_t;

static void fx_log(fx_t *fx, const char *what, const char *query) {
  size_t n = strlen(fx->log);
  snprintf(fx->log + n, LOG_MAX - n, "%s:%s ", what, query ? query : "-");
}

static void on_delay(uv_timer_t *t) {
  fx_t *fx = t->data;
  sb_http_response_t *res = fx->delayed;
  fx->delayed = NULL;
  fx_log(fx, "r", "async");
  sb_http_respond(res, 200, "text/plain", "async", 5, NULL);
}

static void respond_echo(const sb_http_request_t *req, sb_http_response_t *res) {
  size_t cap = req->body_len + 512;
  char *b = malloc(cap);
  const char *x = sb_http_request_header(req, "x-test");
  int n = snprintf(b, cap, "method=%s path=%s query=%s x-test=%s body=%s", req->method,
                   req->path, req->query ? req->query : "-", x ? x : "-", req->body);
  sb_http_respond(res, 200, "text/plain", b, (size_t)n, NULL);
  free(b);
}

static void handler(const sb_http_request_t *req, sb_http_response_t *res, void *arg) {
  fx_t *fx = arg;
  fx_log(fx, "d", req->query);
  if (strcmp(req->path, "/echo") == 0) {
    respond_echo(req, res);
  } else if (strcmp(req->path, "/async") == 0) {
    fx->delayed = res;
    uv_timer_start(&fx->delay, on_delay, ASYNC_DELAY_MS, 0);
  } else if (strcmp(req->path, "/hold") == 0) {
    fx->held = res;
    atomic_store(&fx->held_ready, 1);
  } else if (strcmp(req->path, "/error") == 0) {
    sb_http_respond_error(res, 503, "unavailable", "quote \" and\nnewline", "Retry-After: 1\r\n");
  } else {
    sb_http_respond_error(res, 404, "not_found", "no such path", NULL);
  }
}

static void on_done(uv_async_t *a) { uv_stop(a->loop); }

static void on_guard(uv_timer_t *t) {
  ((fx_t *)t->data)->guard_fired = 1;
  uv_stop(t->loop);
}

static fx_t *fx_new(const sb_http_limits_t *limits) {
  fx_t *fx = calloc(1, sizeof *fx);
  assert_int_equal(uv_loop_init(&fx->loop), 0);
  uv_async_init(&fx->loop, &fx->done, on_done);
  uv_timer_init(&fx->loop, &fx->guard);
  uv_timer_init(&fx->loop, &fx->delay);
  fx->guard.data = fx->delay.data = fx;
  fx->srv = sb_http_server_new(&fx->loop, limits, handler, fx);
  assert_non_null(fx->srv);
  assert_int_equal(sb_http_server_listen(fx->srv, "127.0.0.1", 0), 0);
  fx->port = sb_http_server_port(fx->srv);
  assert_true(fx->port > 0);
  return fx;
}

static void fx_free(fx_t *fx) {
  sb_http_server_destroy(&fx->srv);
  assert_null(fx->srv);
  if (fx->held)
    sb_http_respond(fx->held, 200, NULL, NULL, 0, NULL); /* a no-op now */
  uv_close((uv_handle_t *)&fx->done, NULL);
  uv_close((uv_handle_t *)&fx->guard, NULL);
  uv_close((uv_handle_t *)&fx->delay, NULL);
  uv_run(&fx->loop, UV_RUN_DEFAULT);
  assert_int_equal(uv_loop_close(&fx->loop), 0);
  free(fx);
}

static void fx_stats(fx_t *fx, sb_http_stats_t *st) { sb_http_server_stats(fx->srv, st); }

typedef struct {
  out_t *out;
  void (*fn)(out_t *);
} job_t;

static void job_main(void *arg) {
  job_t *j = arg;
  j->fn(j->out);
  uv_async_send(&j->out->fx->done);
}

/* Runs fn in a client thread while the loop serves; returns its record. */
static out_t *run_client(fx_t *fx, void (*fn)(out_t *)) {
  out_t *out = calloc(1, sizeof *out);
  out->fx = fx;
  job_t job = {out, fn};
  uv_thread_t t;
  assert_int_equal(uv_thread_create(&t, job_main, &job), 0);
  uv_timer_start(&fx->guard, on_guard, GUARD_MS, 0);
  uv_run(&fx->loop, UV_RUN_DEFAULT);
  uv_timer_stop(&fx->guard);
  uv_thread_join(&t);
  assert_false(fx->guard_fired);
  return out;
}

static void out_free(out_t *o) {
  for (int i = 0; i < MAX_RESP; i++)
    free(o->r[i].body);
  free(o);
}

/* Runs the loop until the server has no open connection. */
static void on_poll_conns(uv_timer_t *t) {
  fx_t *fx = t->data;
  sb_http_stats_t st;
  fx_stats(fx, &st);
  if (st.connections == 0)
    uv_stop(t->loop);
}

static void wait_no_connections(fx_t *fx) {
  uv_timer_t poll;
  uv_timer_init(&fx->loop, &poll);
  poll.data = fx;
  uv_timer_start(&poll, on_poll_conns, POLL_MS, POLL_MS);
  uv_timer_start(&fx->guard, on_guard, GUARD_MS, 0);
  uv_run(&fx->loop, UV_RUN_DEFAULT);
  uv_timer_stop(&fx->guard);
  uv_close((uv_handle_t *)&poll, NULL);
  uv_run(&fx->loop, UV_RUN_NOWAIT);
  assert_false(fx->guard_fired);
}

/* Exchange i on a new connection: one request, one response, then, if the
 * server announced "Connection: close", whether it did close. */
static void one_exchange(out_t *o, int i, const char *request) {
  cli_connect(&o->cli, o->fx->port);
  double t0 = now_ms();
  cli_send(&o->cli, request);
  o->got[i] = cli_response(&o->cli, &o->r[i]) == 0;
  o->ms[i] = now_ms() - t0;
  o->eof[i] = strstr(o->r[i].head, "\r\nConnection: close\r\n") && cli_eof(&o->cli);
  cli_close(&o->cli);
}

/* JSON error code of a response body, or "" */
static void assert_error_code(const resp_t *r, const char *code) {
  cJSON *j = cJSON_Parse(r->body);
  assert_non_null(j);
  cJSON *c = cJSON_GetObjectItem(cJSON_GetObjectItem(j, "error"), "code");
  assert_true(cJSON_IsString(c));
  assert_string_equal(c->valuestring, code);
  cJSON_Delete(j);
}

/* ---- scenarios ---------------------------------------------------------- */

static void c_get(out_t *o) {
  one_exchange(o, 0, "GET /echo?a=1&b=2 HTTP/1.1\r\nHost: x\r\nX-TEST: hello\r\n"
                     "Connection: close\r\n\r\n");
}

static void get_delivers_path_query_and_headers(void **state) {
  fx_t *fx = fx_new(NULL);
  out_t *o = run_client(fx, c_get);
  assert_true(o->got[0]);
  assert_int_equal(o->r[0].status, 200);
  assert_non_null(strstr(o->r[0].head, "Content-Type: text/plain\r\n"));
  assert_string_equal(o->r[0].body, "method=GET path=/echo query=a=1&b=2 x-test=hello body=");
  assert_true(o->eof[0]); /* Connection: close honoured */
  out_free(o);
  fx_free(fx);
}

static void c_post(out_t *o) {
  one_exchange(o, 0, "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 11\r\n\r\nhello world");
}

static void post_delivers_body(void **state) {
  fx_t *fx = fx_new(NULL);
  out_t *o = run_client(fx, c_post);
  assert_true(o->got[0]);
  assert_string_equal(o->r[0].body, "method=POST path=/echo query=- x-test=- body=hello world");
  out_free(o);
  fx_free(fx);
}

static void c_async(out_t *o) { one_exchange(o, 0, "GET /async HTTP/1.1\r\nHost: x\r\n\r\n"); }

static void async_response_from_timer(void **state) {
  fx_t *fx = fx_new(NULL);
  out_t *o = run_client(fx, c_async);
  assert_true(o->got[0]);
  assert_int_equal(o->r[0].status, 200);
  assert_string_equal(o->r[0].body, "async");
  assert_true(o->ms[0] >= ASYNC_DELAY_MS - 5);
  out_free(o);
  fx_free(fx);
}

static void c_keep_alive(out_t *o) {
  cli_connect(&o->cli, o->fx->port);
  cli_send(&o->cli, "GET /echo?n=1 HTTP/1.1\r\nHost: x\r\n\r\n");
  o->got[0] = cli_response(&o->cli, &o->r[0]) == 0;
  cli_send(&o->cli, "HEAD /echo?n=2 HTTP/1.1\r\nHost: x\r\n\r\n");
  o->got[1] = cli_response_ex(&o->cli, &o->r[1], 1) == 0;
  cli_send(&o->cli, "GET /echo?n=3 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  o->got[2] = cli_response(&o->cli, &o->r[2]) == 0;
  o->eof[2] = cli_eof(&o->cli);
  cli_close(&o->cli);
}

static void keep_alive_serves_requests_on_one_connection(void **state) {
  fx_t *fx = fx_new(NULL);
  out_t *o = run_client(fx, c_keep_alive);
  assert_true(o->got[0] && o->got[1] && o->got[2]);
  assert_string_equal(o->r[0].body, "method=GET path=/echo query=n=1 x-test=- body=");
  assert_null(strstr(o->r[0].head, "Connection: close"));
  /* HEAD: the length of the GET body but no body (n=3 parsed right after) */
  assert_int_equal(content_length(o->r[1].head),
                   strlen("method=HEAD path=/echo query=n=2 x-test=- body="));
  assert_memory_equal(o->r[1].head, "HTTP/1.1 200 OK\r\n", 17);
  assert_string_equal(o->r[2].body, "method=GET path=/echo query=n=3 x-test=- body=");
  assert_non_null(strstr(o->r[2].head, "Connection: close\r\n"));
  assert_true(o->eof[2]);
  assert_string_equal(fx->log, "d:n=1 d:n=2 d:n=3 ");
  out_free(o);
  fx_free(fx);
}

static void c_pipelined(out_t *o) {
  cli_connect(&o->cli, o->fx->port);
  cli_send(&o->cli, "GET /async?n=1 HTTP/1.1\r\nHost: x\r\n\r\n"
                    "GET /echo?n=2 HTTP/1.1\r\nHost: x\r\n\r\n");
  o->got[0] = cli_response(&o->cli, &o->r[0]) == 0;
  o->got[1] = cli_response(&o->cli, &o->r[1]) == 0;
  cli_close(&o->cli);
}

static void pipelined_requests_answered_in_order(void **state) {
  fx_t *fx = fx_new(NULL);
  out_t *o = run_client(fx, c_pipelined);
  assert_true(o->got[0] && o->got[1]);
  assert_string_equal(o->r[0].body, "async");
  assert_string_equal(o->r[1].body, "method=GET path=/echo query=n=2 x-test=- body=");
  /* request 2 is dispatched only after request 1 was answered */
  assert_string_equal(fx->log, "d:n=1 r:async d:n=2 ");
  out_free(o);
  fx_free(fx);
}

static void c_chunked(out_t *o) {
  static const char *parts[] = {
      "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n",
      "5\r\nhel", "lo\r\n1\r\n \r\n", "5\r\nworld\r\n", "0\r\n\r\n"};
  cli_connect(&o->cli, o->fx->port);
  for (size_t i = 0; i < sizeof parts / sizeof parts[0]; i++) {
    cli_send(&o->cli, parts[i]);
    usleep(10000); /* separate reads on the server */
  }
  o->got[0] = cli_response(&o->cli, &o->r[0]) == 0;
  cli_close(&o->cli);
}

static void chunked_body_is_reassembled(void **state) {
  fx_t *fx = fx_new(NULL);
  out_t *o = run_client(fx, c_chunked);
  assert_true(o->got[0]);
  assert_string_equal(o->r[0].body, "method=POST path=/echo query=- x-test=- body=hello world");
  out_free(o);
  fx_free(fx);
}

#define SMALL_BODY 1024
#define CHUNK_OVER "800" /* 2048 in hex: over SMALL_BODY */

static void c_too_large(out_t *o) {
  one_exchange(o, 0, "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 1048576\r\n\r\n");
  cli_t *c = &o->cli;
  cli_connect(c, o->fx->port);
  cli_send(c, "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n" CHUNK_OVER
              "\r\n");
  char *big = calloc(1, 2048);
  memset(big, 'z', 2048);
  cli_sendn(c, big, 2048); /* keeps sending after the 413: drained, not reset */
  free(big);
  o->got[1] = cli_response(c, &o->r[1]) == 0;
  o->eof[1] = cli_eof(c);
  cli_close(c);
}

static void body_over_limit_gets_413(void **state) {
  sb_http_limits_t l;
  sb_http_limits_default(&l);
  l.max_body = SMALL_BODY;
  fx_t *fx = fx_new(&l);
  out_t *o = run_client(fx, c_too_large);
  for (int i = 0; i < 2; i++) {
    assert_true(o->got[i]);
    assert_int_equal(o->r[i].status, 413);
    assert_non_null(strstr(o->r[i].head, "Content-Type: application/json\r\n"));
    assert_non_null(strstr(o->r[i].head, "Connection: close\r\n"));
    assert_error_code(&o->r[i], "body_too_large");
    assert_true(o->eof[i]);
  }
  sb_http_stats_t st;
  fx_stats(fx, &st);
  assert_int_equal(st.too_large, 2);
  assert_int_equal(st.requests, 0); /* never reached the handler */
  out_free(o);
  fx_free(fx);
}

static void c_garbage(out_t *o) {
  one_exchange(o, 0, "HELLO WORLD\r\n\r\n");
  one_exchange(o, 1, "GET /echo HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab");
}

static void garbage_gets_400(void **state) {
  fx_t *fx = fx_new(NULL);
  out_t *o = run_client(fx, c_garbage);
  for (int i = 0; i < 2; i++) {
    assert_true(o->got[i]);
    assert_int_equal(o->r[i].status, 400);
    assert_error_code(&o->r[i], "bad_request");
    assert_true(o->eof[i]);
  }
  sb_http_stats_t st;
  fx_stats(fx, &st);
  assert_int_equal(st.bad_request, 2);
  out_free(o);
  fx_free(fx);
}

#define BIG_HEADER (20 * 1024) /* over the 16 KiB default */

static void c_big_headers(out_t *o) {
  char *req = malloc(BIG_HEADER + 128);
  int n = snprintf(req, 128, "GET /echo HTTP/1.1\r\nHost: x\r\nX-Big: ");
  memset(req + n, 'a', BIG_HEADER);
  strcpy(req + n + BIG_HEADER, "\r\n\r\n");
  one_exchange(o, 0, req);
  free(req);
  one_exchange(o, 1, "GET /echo HTTP/1.1\r\nA: 1\r\nB: 2\r\nC: 3\r\nD: 4\r\nE: 5\r\n\r\n");
}

static void headers_over_limits_get_431(void **state) {
  sb_http_limits_t l;
  sb_http_limits_default(&l);
  l.max_headers = 4;
  fx_t *fx = fx_new(&l);
  out_t *o = run_client(fx, c_big_headers);
  for (int i = 0; i < 2; i++) {
    assert_true(o->got[i]);
    assert_int_equal(o->r[i].status, 431);
    assert_error_code(&o->r[i], "headers_too_large");
    assert_true(o->eof[i]);
  }
  sb_http_stats_t st;
  fx_stats(fx, &st);
  assert_int_equal(st.header_too_large, 2);
  out_free(o);
  fx_free(fx);
}

static void c_slow(out_t *o) {
  one_exchange(o, 0, "GET /echo HTTP/1.1\r\nHost: x\r\n"); /* half a header */
  one_exchange(o, 1, "POST /echo HTTP/1.1\r\nContent-Length: 10\r\n\r\nabc"); /* half a body */
  /* one byte every 20 ms until answered: the header deadline is total */
  cli_t *c = &o->cli;
  cli_connect(c, o->fx->port);
  const char *req = "GET /echo HTTP/1.1\r\nX-Slow: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
                    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n\r\n";
  double t0 = now_ms();
  for (const char *p = req; *p && !cli_readable(c); p++) {
    cli_sendn(c, p, 1);
    usleep(20000);
  }
  o->got[2] = cli_response(c, &o->r[2]) == 0;
  o->ms[2] = now_ms() - t0;
  o->eof[2] = cli_eof(c);
  cli_close(c);
}

static void slow_clients_get_408(void **state) {
  sb_http_limits_t l;
  sb_http_limits_default(&l);
  l.header_timeout_ms = l.body_timeout_ms = SHORT_TIMEOUT_MS;
  fx_t *fx = fx_new(&l);
  out_t *o = run_client(fx, c_slow);
  for (int i = 0; i < 3; i++) {
    assert_true(o->got[i]);
    assert_int_equal(o->r[i].status, 408);
    assert_error_code(&o->r[i], "request_timeout");
    assert_true(o->eof[i]);
    assert_true(o->ms[i] >= SHORT_TIMEOUT_MS - 20);
  }
  assert_true(o->ms[2] < 3 * SHORT_TIMEOUT_MS); /* not extended by trickling */
  sb_http_stats_t st;
  fx_stats(fx, &st);
  assert_int_equal(st.timeouts, 3);
  assert_int_equal(st.requests, 0);
  out_free(o);
  fx_free(fx);
}

static void c_hold_then_leave(out_t *o) {
  cli_connect(&o->cli, o->fx->port);
  cli_send(&o->cli, "POST /hold HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc");
  double t0 = now_ms();
  while (!atomic_load(&o->fx->held_ready) && now_ms() - t0 < CLIENT_TIMEOUT_MS)
    usleep(1000);
  cli_close(&o->cli);
}


static void client_leaving_before_async_answer_is_safe(void **state) {
  fx_t *fx = fx_new(NULL);
  out_free(run_client(fx, c_hold_then_leave));
  assert_non_null(fx->held);
  wait_no_connections(fx); /* the server saw the close */
  sb_http_respond(fx->held, 200, "text/plain", "late", 4, NULL); /* no-op, frees */
  fx->held = NULL;
  out_t *o = run_client(fx, c_post); /* and keeps serving */
  assert_true(o->got[0]);
  assert_int_equal(o->r[0].status, 200);
  out_free(o);
  fx_free(fx);
}

static void c_hold_stay(out_t *o) {
  cli_connect(&o->cli, o->fx->port);
  cli_send(&o->cli, "GET /hold HTTP/1.1\r\nHost: x\r\n\r\n");
  double t0 = now_ms();
  while (!atomic_load(&o->fx->held_ready) && now_ms() - t0 < CLIENT_TIMEOUT_MS)
    usleep(1000);
}

static void destroy_with_pending_response_is_safe(void **state) {
  fx_t *fx = fx_new(NULL);
  out_t *o = run_client(fx, c_hold_stay);
  assert_non_null(fx->held);
  sb_http_server_destroy(&fx->srv);
  uv_run(&fx->loop, UV_RUN_NOWAIT); /* close callbacks */
  sb_http_respond(fx->held, 200, "text/plain", "late", 4, NULL);
  fx->held = NULL;
  assert_true(cli_eof(&o->cli)); /* the server closed it */
  cli_close(&o->cli);
  out_free(o);
  fx_free(fx);
}

static void c_two_conns(out_t *o) {
  cli_t *a = &o->cli;
  cli_t *b = malloc(sizeof *b);
  cli_connect(a, o->fx->port);
  cli_send(a, "GET /echo?n=1 HTTP/1.1\r\nHost: x\r\n\r\n");
  o->got[0] = cli_response(a, &o->r[0]) == 0;
  cli_connect(b, o->fx->port);
  o->eof[1] = cli_eof(b); /* refused: closed at once */
  cli_close(b);
  free(b);
  cli_send(a, "GET /echo?n=2 HTTP/1.1\r\nHost: x\r\n\r\n");
  o->got[1] = cli_response(a, &o->r[1]) == 0;
  cli_close(a);
}

static void connections_over_limit_are_refused(void **state) {
  sb_http_limits_t l;
  sb_http_limits_default(&l);
  l.max_connections = 1;
  fx_t *fx = fx_new(&l);
  out_t *o = run_client(fx, c_two_conns);
  assert_true(o->got[0] && o->got[1]);
  assert_true(o->eof[1]);
  sb_http_stats_t st;
  fx_stats(fx, &st);
  assert_int_equal(st.connections_refused, 1);
  assert_int_equal(st.requests, 2);
  out_free(o);
  fx_free(fx);
}

static void c_http10(out_t *o) { one_exchange(o, 0, "GET /echo HTTP/1.0\r\n\r\n"); }

static void http10_closes_after_answer(void **state) {
  fx_t *fx = fx_new(NULL);
  out_t *o = run_client(fx, c_http10);
  assert_true(o->got[0]);
  assert_int_equal(o->r[0].status, 200);
  assert_non_null(strstr(o->r[0].head, "Connection: close\r\n"));
  assert_true(o->eof[0]);
  out_free(o);
  fx_free(fx);
}

static void c_expect(out_t *o) {
  cli_connect(&o->cli, o->fx->port);
  cli_send(&o->cli, "POST /echo HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\n"
                    "Content-Length: 5\r\n\r\n");
  o->got[0] = cli_response(&o->cli, &o->r[0]) == 0;
  cli_send(&o->cli, "hello");
  o->got[1] = cli_response(&o->cli, &o->r[1]) == 0;
  cli_send(&o->cli, "GET /error HTTP/1.1\r\nHost: x\r\n\r\n");
  o->got[2] = cli_response(&o->cli, &o->r[2]) == 0;
  cli_close(&o->cli);
}

static void expect_continue_and_json_errors(void **state) {
  fx_t *fx = fx_new(NULL);
  out_t *o = run_client(fx, c_expect);
  assert_true(o->got[0] && o->got[1] && o->got[2]);
  assert_int_equal(o->r[0].status, 100);
  assert_string_equal(o->r[1].body, "method=POST path=/echo query=- x-test=- body=hello");
  assert_int_equal(o->r[2].status, 503);
  assert_non_null(strstr(o->r[2].head, "\r\nRetry-After: 1\r\n"));
  cJSON *j = cJSON_Parse(o->r[2].body);
  cJSON *e = cJSON_GetObjectItem(j, "error");
  assert_string_equal(cJSON_GetObjectItem(e, "code")->valuestring, "unavailable");
  assert_string_equal(cJSON_GetObjectItem(e, "message")->valuestring, "quote \" and\nnewline");
  cJSON_Delete(j);
  out_free(o);
  fx_free(fx);
}

/* ---- the parser alone -------------------------------------------------- */

static void parser_gives_same_request_byte_by_byte(void **state) {
  static const char stream[] = "POST /a/b?x=1&y=%20 HTTP/1.1\r\nHost: h\r\nX-Empty:\r\n"
                               "Transfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n"
                               "Host: trailer\r\n\r\n" /* a trailer: dropped */
                               "GET http://h/p?q HTTP/1.1\r\n\r\n";
  sb_http_parser_t *p = sb_http_parser_new(NULL);
  size_t at = 0, used = 0;
  int rc = SB_HTTP_PARSE_MORE;
  while (rc == SB_HTTP_PARSE_MORE && at < sizeof stream - 1) {
    rc = sb_http_parser_feed(p, stream + at, 1, &used);
    at += used;
  }
  assert_int_equal(rc, SB_HTTP_PARSE_DONE);
  assert_int_equal(sb_http_parser_feed(p, "x", 1, &used), SB_ESTATE);
  int keep = 0;
  sb_http_request_t *r = sb_http_parser_take(p, &keep);
  assert_true(keep);
  assert_string_equal(r->method, "POST");
  assert_string_equal(r->path, "/a/b");
  assert_string_equal(r->query, "x=1&y=%20");
  assert_string_equal(r->url, "/a/b?x=1&y=%20");
  assert_int_equal(r->nheaders, 3);
  assert_string_equal(sb_http_request_header(r, "x-empty"), "");
  assert_string_equal(sb_http_request_header(r, "HOST"), "h");
  assert_null(sb_http_request_header(r, "missing"));
  assert_int_equal(r->body_len, 5);
  assert_string_equal(r->body, "abcde");
  sb_http_request_destroy(&r);
  assert_null(r);
  /* the rest of the stream at once: stops exactly at the end */
  assert_int_equal(sb_http_parser_feed(p, stream + at, sizeof stream - 1 - at, &used),
                   SB_HTTP_PARSE_DONE);
  assert_int_equal(at + used, sizeof stream - 1);
  r = sb_http_parser_take(p, NULL);
  assert_string_equal(r->path, "/p");
  assert_string_equal(r->query, "q");
  assert_int_equal(r->body_len, 0);
  assert_string_equal(r->body, "");
  sb_http_request_destroy(&r);
  const char *code = NULL;
  assert_int_equal(sb_http_parser_feed(p, "\x01garbage\r\n", 10, &used), SB_EPARSE);
  assert_int_equal(sb_http_parser_error(p, &code), 400);
  assert_string_equal(code, "bad_request");
  sb_http_parser_destroy(&p);
  assert_null(p);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(get_delivers_path_query_and_headers),
      cmocka_unit_test(post_delivers_body),
      cmocka_unit_test(async_response_from_timer),
      cmocka_unit_test(keep_alive_serves_requests_on_one_connection),
      cmocka_unit_test(pipelined_requests_answered_in_order),
      cmocka_unit_test(chunked_body_is_reassembled),
      cmocka_unit_test(body_over_limit_gets_413),
      cmocka_unit_test(garbage_gets_400),
      cmocka_unit_test(headers_over_limits_get_431),
      cmocka_unit_test(slow_clients_get_408),
      cmocka_unit_test(client_leaving_before_async_answer_is_safe),
      cmocka_unit_test(destroy_with_pending_response_is_safe),
      cmocka_unit_test(connections_over_limit_are_refused),
      cmocka_unit_test(http10_closes_after_answer),
      cmocka_unit_test(expect_continue_and_json_errors),
      cmocka_unit_test(parser_gives_same_request_byte_by_byte),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
