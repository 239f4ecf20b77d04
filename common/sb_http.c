/*
 * sb_http: HTTP/1.1 server on libuv + http-parser (see sb_http.h).
 *
 * Two layers. The parser (sb_http_parser_t) turns bytes into requests: it
 * wraps http_parser, enforces the limits in its callbacks, pauses at the end
 * of each message so that the caller sees exactly where the next one starts,
 * and assembles the request in a draft whose strings live in one buffer,
 * referred to by offsets until take() hands the buffer to the request.
 *
 * The connection layer reads into an input buffer and feeds the parser.
 * Invariants of a connection:
 *   - at most one request is dispatched and unanswered (c->pending); while it
 *     is, no byte is parsed, so answers go out in request order, and reading
 *     stops once INBUF_MAX unparsed bytes wait;
 *   - when no request is pending, every buffered byte has been fed;
 *   - one timer, armed for the current phase only when the phase changes, so
 *     each deadline is total and cannot be extended by trickling bytes;
 *   - the struct is freed only in the last close callback of its two
 *     handles; a pending response whose connection closes is detached
 *     (res->conn = NULL) and answering it then only frees it.
 * The server is freed once destroyed and every handle it owns has closed.
 */
#include "sb_http.h"

#include "sb_error.h"

#include <arpa/inet.h>
#include <cjson/cJSON.h>
#include <http_parser.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define READ_CHUNK (16u * 1024u)
#define INBUF_MAX (64u * 1024u)         /* unparsed bytes while a request waits */
#define WRITE_QUEUE_MAX (1024u * 1024u) /* unsent bytes before we stop reading */
#define LINGER_MS 2000u                 /* drain input after the final answer */
#define LISTEN_BACKLOG 511
#define HEADER_OVERHEAD 4 /* ": " and CRLF, counted per header line */
#define STORE_INITIAL 256u
#define BODY_INITIAL 1024u
#define HDRS_INITIAL 8u
#define CONTENT_LENGTH_LINE_MAX 48
#define STATUS_MIN 100
#define STATUS_MAX 999
#define STATUS_INTERNAL 500
#define JSON_TYPE "application/json"
#define CONTINUE_LINE "HTTP/1.1 100 Continue\r\n\r\n"
#define FALLBACK_ERROR_BODY "{\"error\":{\"code\":\"internal\",\"message\":\"\"}}"

/* ---- parser ------------------------------------------------------------ */

typedef enum { PHASE_IDLE, PHASE_HEADERS, PHASE_BODY, PHASE_DONE, PHASE_FAILED } phase_t;
typedef enum { LAST_NONE, LAST_URL, LAST_FIELD, LAST_VALUE } last_t;
typedef enum { CONTINUE_NO, CONTINUE_WANTED, CONTINUE_SENT } continue_t;

typedef struct {
  size_t name, value; /* offsets into the draft's store */
} hdr_off_t;

/* The request being assembled. */
typedef struct {
  char *store; /* NUL-terminated strings: url, names, values, path, query */
  size_t store_len, store_cap;
  hdr_off_t *hdrs; /* kept across requests */
  size_t nhdrs, hdrs_cap;
  size_t url, path, query;
  int has_query;
  char *body; /* NUL-terminated, at most max_body + 1 bytes */
  size_t body_len, body_cap;
} draft_t;

struct sb_http_parser {
  http_parser hp;
  sb_http_limits_t limits;
  phase_t phase;
  last_t last;
  size_t header_bytes;
  draft_t d;
  int keep_alive;
  continue_t expect;
  int status;       /* error status to answer, 0 if none */
  const char *code; /* error code to answer */
};

/* A taken request with the storage it points into. */
typedef struct {
  sb_http_request_t req; /* first: &msg->req and msg convert */
  char *store;
  char *body;
  sb_http_header_t *hdrs;
} msg_t;

void sb_http_limits_default(sb_http_limits_t *l) {
  l->max_body = SB_HTTP_DEFAULT_MAX_BODY;
  l->max_header_bytes = SB_HTTP_DEFAULT_MAX_HEADER_BYTES;
  l->max_headers = SB_HTTP_DEFAULT_MAX_HEADERS;
  l->header_timeout_ms = SB_HTTP_DEFAULT_HEADER_TIMEOUT_MS;
  l->body_timeout_ms = SB_HTTP_DEFAULT_BODY_TIMEOUT_MS;
  l->idle_timeout_ms = SB_HTTP_DEFAULT_IDLE_TIMEOUT_MS;
  l->max_connections = SB_HTTP_DEFAULT_MAX_CONNECTIONS;
}

/* Records the first error; returns -1 for http_parser callbacks. */
static int parse_fail(sb_http_parser_t *p, int status, const char *code) {
  if (!p->status) {
    p->status = status;
    p->code = code;
  }
  return -1;
}

static int fail_nomem(sb_http_parser_t *p) {
  return parse_fail(p, STATUS_INTERNAL, "internal");
}

static void draft_reset(draft_t *d) {
  free(d->store);
  free(d->body);
  hdr_off_t *hdrs = d->hdrs;
  size_t cap = d->hdrs_cap;
  memset(d, 0, sizeof *d);
  d->hdrs = hdrs;
  d->hdrs_cap = cap;
}

static int store_reserve(sb_http_parser_t *p, size_t more) {
  draft_t *d = &p->d;
  if (d->store_len + more <= d->store_cap)
    return 0;
  size_t cap = d->store_cap ? d->store_cap : STORE_INITIAL;
  while (cap < d->store_len + more)
    cap *= 2;
  char *s = realloc(d->store, cap);
  if (!s)
    return fail_nomem(p);
  d->store = s;
  d->store_cap = cap;
  return 0;
}

static int store_put(sb_http_parser_t *p, const char *at, size_t len) {
  if (store_reserve(p, len) != 0)
    return -1;
  memcpy(p->d.store + p->d.store_len, at, len);
  p->d.store_len += len;
  return 0;
}

/* Copies store[off, off+len) to a new NUL-terminated string at the end. */
static int store_copy(sb_http_parser_t *p, size_t off, size_t len, size_t *at) {
  if (store_reserve(p, len + 1) != 0)
    return -1;
  *at = p->d.store_len;
  memmove(p->d.store + p->d.store_len, p->d.store + off, len);
  p->d.store_len += len;
  p->d.store[p->d.store_len++] = '\0';
  return 0;
}

/* Appends request-head bytes, counted against max_header_bytes. */
static int head_put(sb_http_parser_t *p, const char *at, size_t len) {
  p->header_bytes += len;
  if (p->header_bytes > p->limits.max_header_bytes)
    return parse_fail(p, 431, "headers_too_large");
  return store_put(p, at, len);
}

static int header_begin(sb_http_parser_t *p) {
  draft_t *d = &p->d;
  if (d->nhdrs >= p->limits.max_headers)
    return parse_fail(p, 431, "headers_too_large");
  if (d->nhdrs == d->hdrs_cap) {
    size_t cap = d->hdrs_cap ? d->hdrs_cap * 2 : HDRS_INITIAL;
    hdr_off_t *h = realloc(d->hdrs, cap * sizeof *h);
    if (!h)
      return fail_nomem(p);
    d->hdrs = h;
    d->hdrs_cap = cap;
  }
  d->hdrs[d->nhdrs++] = (hdr_off_t){d->store_len, d->store_len};
  p->header_bytes += HEADER_OVERHEAD; /* checked by the head_put() that follows */
  return 0;
}

/* Moves the draft to the next string kind: ends the current string, gives a
 * value-less header an empty value, and records where the next one starts. */
static int head_switch(sb_http_parser_t *p, last_t next) {
  if (p->last == next)
    return 0;
  if (p->last != LAST_NONE && store_put(p, "", 1) != 0)
    return -1;
  if (p->last == LAST_FIELD && next != LAST_VALUE) {
    p->d.hdrs[p->d.nhdrs - 1].value = p->d.store_len;
    if (store_put(p, "", 1) != 0)
      return -1;
  }
  p->last = next;
  if (next == LAST_FIELD)
    return header_begin(p);
  if (next == LAST_VALUE)
    p->d.hdrs[p->d.nhdrs - 1].value = p->d.store_len;
  if (next == LAST_URL)
    p->d.url = p->d.store_len;
  return 0;
}

static int on_message_begin(http_parser *hp) {
  sb_http_parser_t *p = hp->data;
  draft_reset(&p->d);
  p->phase = PHASE_HEADERS;
  p->last = LAST_NONE;
  p->header_bytes = 0;
  p->expect = CONTINUE_NO;
  return 0;
}

static int on_url(http_parser *hp, const char *at, size_t len) {
  sb_http_parser_t *p = hp->data;
  return head_switch(p, LAST_URL) != 0 ? -1 : head_put(p, at, len);
}

/* Chunked trailers arrive through the header callbacks after the headers
 * are complete; they are dropped (so they can never shadow a header). */
static int on_header_field(http_parser *hp, const char *at, size_t len) {
  sb_http_parser_t *p = hp->data;
  if (p->phase != PHASE_HEADERS)
    return 0;
  return head_switch(p, LAST_FIELD) != 0 ? -1 : head_put(p, at, len);
}

static int on_header_value(http_parser *hp, const char *at, size_t len) {
  sb_http_parser_t *p = hp->data;
  if (p->phase != PHASE_HEADERS)
    return 0;
  if (p->d.nhdrs == 0) /* cannot happen with http_parser; never trust it */
    return parse_fail(p, 400, "bad_request");
  return head_switch(p, LAST_VALUE) != 0 ? -1 : head_put(p, at, len);
}

/* Splits the URL into path and query strings at the end of the store. An
 * absolute-form URL without a path gets "/"; OPTIONS "*" keeps "*". */
static int url_split(sb_http_parser_t *p) {
  draft_t *d = &p->d;
  size_t ulen = strlen(d->store + d->url);
  if (ulen == 1 && d->store[d->url] == '*')
    return store_copy(p, d->url, 1, &d->path);
  struct http_parser_url u;
  http_parser_url_init(&u);
  if (http_parser_parse_url(d->store + d->url, ulen, p->hp.method == HTTP_CONNECT, &u) != 0)
    return parse_fail(p, 400, "bad_request");
  if (u.field_set & (1 << UF_QUERY)) {
    if (store_copy(p, d->url + u.field_data[UF_QUERY].off, u.field_data[UF_QUERY].len,
                   &d->query) != 0)
      return -1;
    d->has_query = 1;
  }
  if (u.field_set & (1 << UF_PATH))
    return store_copy(p, d->url + u.field_data[UF_PATH].off, u.field_data[UF_PATH].len,
                      &d->path);
  d->path = d->store_len;
  return store_put(p, "/", 2); /* "/" and its NUL */
}

static int body_reserve(sb_http_parser_t *p, size_t need) {
  draft_t *d = &p->d;
  if (need <= d->body_cap)
    return 0;
  size_t cap = d->body_cap ? d->body_cap * 2 : BODY_INITIAL;
  if (cap < need)
    cap = need;
  if (cap > p->limits.max_body + 1)
    cap = p->limits.max_body + 1;
  char *b = realloc(d->body, cap);
  if (!b)
    return fail_nomem(p);
  d->body = b;
  d->body_cap = cap;
  d->body[d->body_len] = '\0'; /* terminated even if no byte follows */
  return 0;
}

static const char *draft_header(const sb_http_parser_t *p, const char *name) {
  for (size_t i = 0; i < p->d.nhdrs; i++)
    if (strcasecmp(p->d.store + p->d.hdrs[i].name, name) == 0)
      return p->d.store + p->d.hdrs[i].value;
  return NULL;
}

static int on_headers_complete(http_parser *hp) {
  sb_http_parser_t *p = hp->data;
  if (head_switch(p, LAST_NONE) != 0 || url_split(p) != 0)
    return -1;
  int has_length = (hp->flags & F_CONTENTLENGTH) && !(hp->flags & F_CHUNKED);
  if (has_length && hp->content_length > p->limits.max_body)
    return parse_fail(p, 413, "body_too_large");
  if (has_length && body_reserve(p, (size_t)hp->content_length + 1) != 0)
    return -1;
  const char *expect = draft_header(p, "expect");
  if (expect && strcasecmp(expect, "100-continue") == 0 && hp->http_minor >= 1)
    p->expect = CONTINUE_WANTED;
  p->phase = PHASE_BODY;
  return 0;
}

static int on_body(http_parser *hp, const char *at, size_t len) {
  sb_http_parser_t *p = hp->data;
  if (len > p->limits.max_body - p->d.body_len)
    return parse_fail(p, 413, "body_too_large");
  if (body_reserve(p, p->d.body_len + len + 1) != 0)
    return -1;
  memcpy(p->d.body + p->d.body_len, at, len);
  p->d.body_len += len;
  p->d.body[p->d.body_len] = '\0';
  return 0;
}

static int on_message_complete(http_parser *hp) {
  sb_http_parser_t *p = hp->data;
  /* HTTP/1.0 always closes; so does an Upgrade we do not speak */
  p->keep_alive = http_should_keep_alive(hp) && hp->http_major == 1 && hp->http_minor >= 1 &&
                  !hp->upgrade;
  p->phase = PHASE_DONE;
  http_parser_pause(hp, 1); /* execute() returns right after this message */
  return 0;
}

static const http_parser_settings parser_settings = {
    .on_message_begin = on_message_begin,
    .on_url = on_url,
    .on_header_field = on_header_field,
    .on_header_value = on_header_value,
    .on_headers_complete = on_headers_complete,
    .on_body = on_body,
    .on_message_complete = on_message_complete,
};

static sb_http_limits_t limits_or_default(const sb_http_limits_t *limits) {
  sb_http_limits_t l;
  if (limits)
    return *limits;
  sb_http_limits_default(&l);
  return l;
}

sb_http_parser_t *sb_http_parser_new(const sb_http_limits_t *limits) {
  sb_http_parser_t *p = calloc(1, sizeof *p);
  if (!p)
    return NULL;
  p->limits = limits_or_default(limits);
  http_parser_init(&p->hp, HTTP_REQUEST);
  p->hp.data = p;
  return p;
}

void sb_http_parser_destroy(sb_http_parser_t **pp) {
  if (!pp || !*pp)
    return;
  draft_reset(&(*pp)->d);
  free((*pp)->d.hdrs);
  free(*pp);
  *pp = NULL;
}

static int status_to_err(int status) {
  if (status == STATUS_INTERNAL)
    return SB_ENOMEM;
  return status == 400 ? SB_EPARSE : SB_ETOOBIG;
}

int sb_http_parser_feed(sb_http_parser_t *p, const char *buf, size_t len, size_t *consumed) {
  *consumed = 0;
  if (p->phase == PHASE_FAILED)
    return status_to_err(p->status);
  if (p->phase == PHASE_DONE)
    return SB_ESTATE;
  if (len == 0) /* http_parser reads len 0 as EOF */
    return SB_HTTP_PARSE_MORE;
  size_t n = http_parser_execute(&p->hp, &parser_settings, buf, len);
  *consumed = n;
  if (p->phase == PHASE_DONE && !p->status)
    return SB_HTTP_PARSE_DONE;
  enum http_errno e = HTTP_PARSER_ERRNO(&p->hp);
  if (e == HPE_HEADER_OVERFLOW)
    parse_fail(p, 431, "headers_too_large");
  else if (e != HPE_OK || n != len || p->hp.upgrade)
    parse_fail(p, 400, "bad_request");
  if (!p->status)
    return SB_HTTP_PARSE_MORE;
  p->phase = PHASE_FAILED;
  return status_to_err(p->status);
}

int sb_http_parser_error(const sb_http_parser_t *p, const char **code) {
  if (code)
    *code = p->code;
  return p->status;
}

/* Turns the complete draft into a request that owns its storage. */
static msg_t *msg_build(sb_http_parser_t *p) {
  draft_t *d = &p->d;
  msg_t *m = calloc(1, sizeof *m);
  sb_http_header_t *hdrs = calloc(d->nhdrs ? d->nhdrs : 1, sizeof *hdrs);
  if (!m || !hdrs || !d->store) {
    free(m);
    free(hdrs);
    return NULL;
  }
  for (size_t i = 0; i < d->nhdrs; i++)
    hdrs[i] = (sb_http_header_t){d->store + d->hdrs[i].name, d->store + d->hdrs[i].value};
  m->req = (sb_http_request_t){
      .method = http_method_str((enum http_method)p->hp.method),
      .path = d->store + d->path,
      .query = d->has_query ? d->store + d->query : NULL,
      .url = d->store + d->url,
      .headers = hdrs,
      .nheaders = d->nhdrs,
      .body = d->body ? d->body : "",
      .body_len = d->body_len,
  };
  m->store = d->store;
  m->body = d->body;
  m->hdrs = hdrs;
  d->store = NULL;
  d->body = NULL;
  return m;
}

sb_http_request_t *sb_http_parser_take(sb_http_parser_t *p, int *keep_alive) {
  if (p->phase != PHASE_DONE)
    return NULL;
  msg_t *m = msg_build(p);
  if (keep_alive)
    *keep_alive = p->keep_alive;
  draft_reset(&p->d);
  p->phase = PHASE_IDLE;
  p->expect = CONTINUE_NO;
  http_parser_pause(&p->hp, 0);
  return m ? &m->req : NULL;
}

void sb_http_request_destroy(sb_http_request_t **r) {
  if (!r || !*r)
    return;
  msg_t *m = (msg_t *)*r;
  free(m->store);
  free(m->body);
  free(m->hdrs);
  free(m);
  *r = NULL;
}

const char *sb_http_request_header(const sb_http_request_t *r, const char *name) {
  for (size_t i = 0; i < r->nheaders; i++)
    if (strcasecmp(r->headers[i].name, name) == 0)
      return r->headers[i].value;
  return NULL;
}

/* ---- connections ------------------------------------------------------- */

typedef enum { CONN_ACTIVE, CONN_LINGER, CONN_CLOSING } conn_state_t;
typedef enum {
  TIMER_NONE,
  TIMER_FIRST,  /* connected, no byte yet: header timeout, silent close */
  TIMER_HEADER, /* 408 */
  TIMER_BODY,   /* 408 */
  TIMER_IDLE,   /* between keep-alive requests: silent close */
  TIMER_FLUSH,  /* final answer still being written */
  TIMER_LINGER  /* write side shut, draining input */
} timer_kind_t;

typedef struct conn {
  uv_tcp_t tcp;
  uv_timer_t timer;
  uv_shutdown_t shutdown;
  sb_http_server_t *srv;
  struct conn *prev, *next;
  sb_http_parser_t *parser;
  char *in; /* unparsed bytes are in[in_off, in_len) */
  size_t in_off, in_len, in_cap;
  sb_http_response_t *pending;
  conn_state_t state;
  timer_kind_t timer_kind;
  int open_handles;
  int in_dispatch; /* the handler is on the stack */
  int reading;
  int blocked; /* too much unsent output: not taking requests */
  uint64_t served; /* requests dispatched */
} conn_t;

struct sb_http_response {
  conn_t *conn; /* NULL once detached */
  sb_http_request_t *req;
  int keep_alive;
  int head;
};

struct sb_http_server {
  uv_loop_t *loop;
  uv_tcp_t listener;
  sb_http_limits_t limits;
  sb_http_handler_fn fn;
  void *arg;
  conn_t *conns;  /* open, not closing */
  size_t nconns;  /* length of conns */
  size_t refs;    /* handles (or handle pairs) whose close is still due */
  int listening;
  int destroyed;
  sb_http_stats_t stats;
};

typedef struct {
  uv_write_t req;
  conn_t *conn;
  char data[];
} write_t;

static void conn_process(conn_t *c);
static void conn_update(conn_t *c);

static void server_unref(sb_http_server_t *s) {
  if (--s->refs == 0 && s->destroyed)
    free(s);
}

static void conn_free(conn_t *c) {
  sb_http_parser_destroy(&c->parser);
  free(c->in);
  sb_http_server_t *s = c->srv;
  free(c);
  server_unref(s);
}

static void on_conn_close(uv_handle_t *h) {
  conn_t *c = h->data;
  if (--c->open_handles == 0)
    conn_free(c);
}

/* Starts closing; the struct lives until both close callbacks ran. */
static void conn_close(conn_t *c) {
  if (c->state == CONN_CLOSING)
    return;
  c->state = CONN_CLOSING;
  if (c->pending) {
    c->pending->conn = NULL;
    c->pending = NULL;
  }
  sb_http_server_t *s = c->srv;
  if (c->prev)
    c->prev->next = c->next;
  else
    s->conns = c->next;
  if (c->next)
    c->next->prev = c->prev;
  s->nconns--;
  uv_close((uv_handle_t *)&c->tcp, on_conn_close);
  uv_close((uv_handle_t *)&c->timer, on_conn_close);
}

static void on_write(uv_write_t *req, int status) {
  write_t *w = (write_t *)req;
  conn_t *c = w->conn;
  free(w);
  if (status < 0) {
    conn_close(c);
    return;
  }
  if (c->blocked &&
      uv_stream_get_write_queue_size((uv_stream_t *)&c->tcp) <= WRITE_QUEUE_MAX) {
    c->blocked = 0;
    conn_process(c);
  }
}

/* Queues head then body as one write. */
static void conn_write(conn_t *c, const char *head, size_t hlen, const char *body, size_t blen) {
  write_t *w = malloc(sizeof *w + hlen + blen);
  if (!w) {
    conn_close(c);
    return;
  }
  w->conn = c;
  memcpy(w->data, head, hlen);
  if (blen)
    memcpy(w->data + hlen, body, blen);
  uv_buf_t buf = uv_buf_init(w->data, (unsigned)(hlen + blen));
  if (uv_write(&w->req, (uv_stream_t *)&c->tcp, &buf, 1, on_write) != 0) {
    free(w);
    conn_close(c);
  }
}

static const char *status_reason(int status) {
  const char *r = http_status_str((enum http_status)status);
  return strcmp(r, "<unknown>") == 0 ? "Unknown" : r;
}

/* Writes a complete response. */
static void conn_send(conn_t *c, int status, const char *ctype, const char *body, size_t len,
                      const char *extra, int keep_alive, int head) {
  if (status < STATUS_MIN || status > STATUS_MAX)
    status = STATUS_INTERNAL;
  int bodyless = status < 200 || status == 204 || status == 304;
  char clen[CONTENT_LENGTH_LINE_MAX] = "";
  if (!bodyless)
    snprintf(clen, sizeof clen, "Content-Length: %zu\r\n", len);
  const char *fmt = "HTTP/1.1 %d %s\r\n%s%s%s%s%s%s\r\n";
  const char *ct1 = ctype ? "Content-Type: " : "", *ct2 = ctype ? ctype : "";
  const char *ct3 = ctype ? "\r\n" : "", *ex = extra ? extra : "";
  const char *conn_hdr = keep_alive ? "" : "Connection: close\r\n";
  const char *reason = status_reason(status);
  int n = snprintf(NULL, 0, fmt, status, reason, ct1, ct2, ct3, clen, ex, conn_hdr);
  char *h = n > 0 ? malloc((size_t)n + 1) : NULL;
  if (!h) {
    conn_close(c);
    return;
  }
  snprintf(h, (size_t)n + 1, fmt, status, reason, ct1, ct2, ct3, clen, ex, conn_hdr);
  conn_write(c, h, (size_t)n, body, bodyless || head ? 0 : len);
  free(h);
}

/* {"error":{"code":..,"message":..}}; NULL on OOM. Free with cJSON_free. */
static char *error_json(const char *code, const char *message) {
  cJSON *root = cJSON_CreateObject();
  cJSON *err = cJSON_AddObjectToObject(root, "error");
  cJSON_AddStringToObject(err, "code", code ? code : "");
  cJSON_AddStringToObject(err, "message", message ? message : "");
  char *s = cJSON_GetObjectItem(err, "message") ? cJSON_PrintUnformatted(root) : NULL;
  cJSON_Delete(root);
  return s;
}

/* The server's own error answer, after which the connection closes. */
static void conn_send_error(conn_t *c, int status, const char *code, const char *message) {
  char *json = error_json(code, message);
  const char *body = json ? json : FALLBACK_ERROR_BODY;
  conn_send(c, status, JSON_TYPE, body, strlen(body), NULL, 0, 0);
  cJSON_free(json);
}

static void conn_read(conn_t *c, int on);

static uint64_t timer_ms(const conn_t *c, timer_kind_t kind) {
  const sb_http_limits_t *l = &c->srv->limits;
  const uint64_t ms[] = {
      [TIMER_NONE] = 0,
      [TIMER_FIRST] = l->header_timeout_ms,
      [TIMER_HEADER] = l->header_timeout_ms,
      [TIMER_BODY] = l->body_timeout_ms,
      [TIMER_IDLE] = l->idle_timeout_ms,
      [TIMER_FLUSH] = l->idle_timeout_ms,
      [TIMER_LINGER] = LINGER_MS,
  };
  return ms[kind];
}

static void on_timer(uv_timer_t *t);

/* Arms the timer for kind unless it already is: deadlines are total. */
static void conn_set_timer(conn_t *c, timer_kind_t kind) {
  if (kind == c->timer_kind)
    return;
  uv_timer_stop(&c->timer);
  c->timer_kind = kind;
  uint64_t ms = timer_ms(c, kind);
  if (ms)
    uv_timer_start(&c->timer, on_timer, ms, 0);
}

/* The final answer is queued: shut the write side once it is flushed, then
 * drain input until EOF or LINGER_MS. */
static void on_shutdown(uv_shutdown_t *req, int status) {
  conn_t *c = req->data;
  if (status < 0)
    conn_close(c);
  else if (c->state != CONN_CLOSING)
    conn_set_timer(c, TIMER_LINGER);
}

static void conn_finish(conn_t *c) {
  if (c->state != CONN_ACTIVE)
    return;
  c->state = CONN_LINGER;
  c->shutdown.data = c;
  if (uv_shutdown(&c->shutdown, (uv_stream_t *)&c->tcp, on_shutdown) != 0) {
    conn_close(c);
    return;
  }
  conn_set_timer(c, TIMER_FLUSH);
  conn_read(c, 1);
}

static void conn_reject(conn_t *c, int status, const char *code, const char *message) {
  sb_http_stats_t *st = &c->srv->stats;
  if (status == 400)
    st->bad_request++;
  else if (status == 413)
    st->too_large++;
  else if (status == 431)
    st->header_too_large++;
  conn_send_error(c, status, code, message);
  conn_finish(c);
}

static void on_timer(uv_timer_t *t) {
  conn_t *c = t->data;
  timer_kind_t kind = c->timer_kind;
  c->timer_kind = TIMER_NONE;
  if (kind == TIMER_HEADER || kind == TIMER_BODY || kind == TIMER_FIRST)
    c->srv->stats.timeouts++;
  if (kind == TIMER_HEADER || kind == TIMER_BODY) {
    conn_send_error(c, 408, "request_timeout", "request not received in time");
    conn_finish(c);
  } else {
    conn_close(c);
  }
}

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf) {
  (void)suggested; /* we read in READ_CHUNK steps */
  conn_t *c = h->data;
  if (c->state != CONN_ACTIVE) /* lingering: input is discarded */
    c->in_off = c->in_len = 0;
  if (c->in_off) {
    memmove(c->in, c->in + c->in_off, c->in_len - c->in_off);
    c->in_len -= c->in_off;
    c->in_off = 0;
  }
  if (c->in_cap - c->in_len < READ_CHUNK) {
    char *in = realloc(c->in, c->in_len + READ_CHUNK);
    if (!in) {
      *buf = uv_buf_init(NULL, 0); /* on_read gets UV_ENOBUFS */
      return;
    }
    c->in = in;
    c->in_cap = c->in_len + READ_CHUNK;
  }
  *buf = uv_buf_init(c->in + c->in_len, (unsigned)(c->in_cap - c->in_len));
}

static void on_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf) {
  (void)buf; /* it points into c->in */
  conn_t *c = s->data;
  if (nread < 0) { /* EOF, reset or no buffer */
    conn_close(c);
    return;
  }
  if (nread == 0 || c->state != CONN_ACTIVE)
    return;
  c->in_len += (size_t)nread;
  conn_process(c);
}

static void conn_read(conn_t *c, int on) {
  if (on && !c->reading)
    c->reading = uv_read_start((uv_stream_t *)&c->tcp, on_alloc, on_read) == 0;
  else if (!on && c->reading) {
    uv_read_stop((uv_stream_t *)&c->tcp);
    c->reading = 0;
  }
}

static timer_kind_t conn_timer_kind(const conn_t *c) {
  if (c->pending)
    return TIMER_NONE;
  if (c->parser->phase == PHASE_HEADERS)
    return TIMER_HEADER;
  if (c->parser->phase == PHASE_BODY)
    return TIMER_BODY;
  return c->served ? TIMER_IDLE : TIMER_FIRST;
}

/* Re-derives the timer and reading state of an active connection. */
static void conn_update(conn_t *c) {
  if (c->state != CONN_ACTIVE)
    return;
  conn_set_timer(c, conn_timer_kind(c));
  conn_read(c, c->in_len - c->in_off < INBUF_MAX && !c->blocked);
}

static void conn_dispatch(conn_t *c) {
  sb_http_server_t *s = c->srv;
  int keep_alive = 0;
  sb_http_request_t *req = sb_http_parser_take(c->parser, &keep_alive);
  sb_http_response_t *res = req ? calloc(1, sizeof *res) : NULL;
  if (!res) {
    sb_http_request_destroy(&req);
    conn_close(c);
    return;
  }
  res->conn = c;
  res->req = req;
  res->keep_alive = keep_alive;
  res->head = strcmp(req->method, "HEAD") == 0;
  c->pending = res;
  c->served++;
  s->stats.requests++;
  c->in_dispatch = 1;
  s->fn(req, res, s->arg);
  c->in_dispatch = 0;
}

/* Feeds buffered bytes and dispatches complete requests, one at a time. */
static void conn_process(conn_t *c) {
  while (c->state == CONN_ACTIVE && !c->pending && c->in_off < c->in_len) {
    if (uv_stream_get_write_queue_size((uv_stream_t *)&c->tcp) > WRITE_QUEUE_MAX) {
      c->blocked = 1;
      break;
    }
    size_t used = 0;
    int rc = sb_http_parser_feed(c->parser, c->in + c->in_off, c->in_len - c->in_off, &used);
    c->in_off += used;
    if (rc < 0) {
      const char *code = NULL;
      int status = sb_http_parser_error(c->parser, &code);
      conn_reject(c, status, code, "request rejected");
      return;
    }
    if (c->parser->expect == CONTINUE_WANTED && c->parser->phase == PHASE_BODY) {
      c->parser->expect = CONTINUE_SENT;
      conn_write(c, CONTINUE_LINE, strlen(CONTINUE_LINE), NULL, 0);
    }
    if (rc == SB_HTTP_PARSE_DONE)
      conn_dispatch(c);
  }
  conn_update(c);
}

/* ---- responses ----------------------------------------------------------- */

/* Sends the answer if the connection is still there, frees res, then closes
 * or takes the next request (unless the handler that answered is still on
 * the stack: the loop in conn_process goes on by itself). */
void sb_http_respond(sb_http_response_t *res, int status, const char *content_type,
                     const char *body, size_t len, const char *extra_headers) {
  conn_t *c = res->conn;
  int keep_alive = res->keep_alive, head = res->head;
  sb_http_request_destroy(&res->req);
  free(res);
  if (!c || c->state != CONN_ACTIVE)
    return;
  c->pending = NULL;
  keep_alive = keep_alive && !c->srv->destroyed;
  conn_send(c, status, content_type, body, len, extra_headers, keep_alive, head);
  if (!keep_alive)
    conn_finish(c);
  else if (!c->in_dispatch)
    conn_process(c);
}

void sb_http_respond_error(sb_http_response_t *res, int status, const char *code,
                           const char *message, const char *extra_headers) {
  char *json = error_json(code, message);
  const char *body = json ? json : FALLBACK_ERROR_BODY;
  sb_http_respond(res, status, JSON_TYPE, body, strlen(body), extra_headers);
  cJSON_free(json);
}

/* ---- server -------------------------------------------------------------- */

sb_http_server_t *sb_http_server_new(uv_loop_t *loop, const sb_http_limits_t *limits,
                                     sb_http_handler_fn fn, void *arg) {
  if (!loop || !fn)
    return NULL;
  sb_http_server_t *s = calloc(1, sizeof *s);
  if (!s)
    return NULL;
  s->limits = limits_or_default(limits);
  if (uv_tcp_init(loop, &s->listener) != 0) {
    free(s);
    return NULL;
  }
  s->listener.data = s;
  s->loop = loop;
  s->fn = fn;
  s->arg = arg;
  s->refs = 1; /* the listener */
  return s;
}

static void on_refused_close(uv_handle_t *h) {
  sb_http_server_t *s = h->data;
  free(h);
  server_unref(s);
}

/* Accepts and closes at once, so the client sees the refusal. */
static void server_refuse(sb_http_server_t *s) {
  uv_tcp_t *t = malloc(sizeof *t);
  if (!t || uv_tcp_init(s->loop, t) != 0) {
    free(t);
    return;
  }
  t->data = s;
  s->refs++;
  s->stats.connections_refused++;
  uv_accept((uv_stream_t *)&s->listener, (uv_stream_t *)t);
  uv_close((uv_handle_t *)t, on_refused_close);
}

static int conn_open(sb_http_server_t *s) {
  conn_t *c = calloc(1, sizeof *c);
  if (!c || !(c->parser = sb_http_parser_new(&s->limits))) {
    free(c);
    return SB_ENOMEM;
  }
  uv_tcp_init(s->loop, &c->tcp);
  uv_timer_init(s->loop, &c->timer);
  c->tcp.data = c->timer.data = c;
  c->open_handles = 2;
  c->srv = s;
  s->refs++;
  c->next = s->conns;
  if (s->conns)
    s->conns->prev = c;
  s->conns = c;
  s->nconns++;
  if (uv_accept((uv_stream_t *)&s->listener, (uv_stream_t *)&c->tcp) != 0) {
    conn_close(c);
    return 0;
  }
  uv_tcp_nodelay(&c->tcp, 1);
  conn_update(c);
  return 0;
}

static void on_connection(uv_stream_t *l, int status) {
  sb_http_server_t *s = l->data;
  if (status < 0 || s->destroyed)
    return;
  if (s->nconns >= s->limits.max_connections || conn_open(s) != 0)
    server_refuse(s);
}

int sb_http_server_listen(sb_http_server_t *s, const char *host, int port) {
  if (s->listening)
    return SB_ESTATE;
  struct sockaddr_storage ss;
  if (!host || port < 0 || port > UINT16_MAX)
    return SB_EINVAL;
  int rc = strchr(host, ':') ? uv_ip6_addr(host, port, (struct sockaddr_in6 *)&ss)
                             : uv_ip4_addr(host, port, (struct sockaddr_in *)&ss);
  if (rc != 0)
    return SB_EINVAL;
  if (uv_tcp_bind(&s->listener, (const struct sockaddr *)&ss, 0) != 0 ||
      uv_listen((uv_stream_t *)&s->listener, LISTEN_BACKLOG, on_connection) != 0)
    return SB_EIO;
  s->listening = 1;
  return 0;
}

int sb_http_server_port(const sb_http_server_t *s) {
  struct sockaddr_storage ss;
  int len = sizeof ss;
  if (!s->listening || uv_tcp_getsockname(&s->listener, (struct sockaddr *)&ss, &len) != 0)
    return 0;
  if (ss.ss_family == AF_INET6)
    return ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
  return ntohs(((struct sockaddr_in *)&ss)->sin_port);
}

void sb_http_server_stats(const sb_http_server_t *s, sb_http_stats_t *out) {
  *out = s->stats;
  out->connections = s->nconns;
}

static void on_listener_close(uv_handle_t *h) { server_unref(h->data); }

void sb_http_server_destroy(sb_http_server_t **sp) {
  if (!sp || !*sp)
    return;
  sb_http_server_t *s = *sp;
  *sp = NULL;
  s->destroyed = 1;
  while (s->conns)
    conn_close(s->conns);
  uv_close((uv_handle_t *)&s->listener, on_listener_close);
}
