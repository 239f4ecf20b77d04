/*
 * sb_redis: one async Redis connection with deadlines, reconnection and
 * scripts, on hiredis 0.14 + its libuv adapter (see sb_redis.h).
 *
 * The idea. Every command we hand to hiredis is also a cmd_t in r->fifo, in
 * send order. Redis answers in order, so a reply always belongs to the head
 * of the FIFO; and since every command gets deadline = now + the same
 * timeout, the head also has the earliest deadline: one uv_timer armed at
 * the head's deadline covers them all (re-armed lazily when it fires early,
 * stopped when the FIFO empties). No polling, no heap.
 *
 * A connection goes DISCONNECTED -> CONNECTING -> HANDSHAKE -> READY. The
 * handshake is AUTH and SELECT (from the URL), PING, then one SCRIPT LOAD per
 * script, all pipelined; READY when all have answered without error. Any
 * failure (connect error, handshake error, deadline, connect timeout, peer
 * closed) "drops" the connection: the FIFO moves to r->failing, each cmd
 * marked orphaned, hiredis is freed (or left to free itself), then every
 * orphaned command's callback is called once, then a reconnect is scheduled
 * with back-off.
 *
 * hiredis 0.14 quirks this file is built around (read async.c, v0.14.1):
 *   - redisAsyncFree() from inside onConnect/onDisconnect is a use-after-
 *     free (only reply callbacks are guarded by REDIS_IN_CALLBACK). So while
 *     any hiredis callback is on our stack (r->hiredis_depth > 0) a dropped
 *     context becomes r->zombie and is freed from a uv_idle hook (r->defer).
 *   - Freeing a context calls every pending reply callback with reply NULL,
 *     then onDisconnect (only if it was connected). A NULL reply for a cmd
 *     we did not orphan therefore means hiredis is tearing the connection
 *     down itself (EOF, read/write error) and will free the context.
 *   - redisAsyncSetConnectCallback() arms the write watcher, so it must be
 *     called after redisLibuvAttach().
 *   - (P)(UN)SUBSCRIBE and MONITOR change how hiredis pairs replies with
 *     callbacks; we refuse them to keep the FIFO exact.
 *   - The adapter closes its uv_poll handle asynchronously; the loop must
 *     run once more after a context is freed.
 *   - The 0.14 adapter ignores a poll callback with status != 0, and libuv
 *     reports POLLERR (refused connect, RST) exactly so: hiredis would never
 *     learn of the error. We keep the adapter's attach/cleanup but install
 *     our own watchers with upstream's fix (hiredis 9ce15c4): on a poll error
 *     run the handlers of the events being watched.
 *
 * Invariants:
 *   - A cmd is in r->fifo iff it was sent on r->ac and its reply has not
 *     been dispatched; fifo deadlines are non-decreasing, but for the
 *     head's, which on_cmd_timer may extend after a late read.
 *   - A cmd is freed when hiredis has called on_reply for it (in_hiredis 0)
 *     and its completion ran (in_fifo 0): hiredis always calls on_reply once.
 *   - Each user callback runs exactly once: complete() clears in_fifo first.
 *   - r is freed only in the last uv_close callback, after any zombie was
 *     freed, so on_reply/on_disconnect may always dereference it.
 */
#include "sb_redis.h"

#include "sb_error.h"
#include "sb_log.h"
#include "sb_redis_cluster.h"

#include <assert.h>
#include <hiredis/adapters/libuv.h>
#include <hiredis/async.h>
#include <openssl/sha.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define SB_REDIS_DEFAULT_PORT 6379
#define SB_REDIS_URL_SCHEME "redis://"
#define SB_REDIS_SHA_HEX_LEN 40
#define SB_REDIS_HANDLES 3        /* cmd_timer, conn_timer, defer */
#define SB_REDIS_STACK_ARGS 16    /* evalsha argv kept on the stack up to this */
#define SB_REDIS_NOSCRIPT "NOSCRIPT"

typedef enum { CMD_USER, CMD_EVALSHA, CMD_HANDSHAKE, CMD_SCRIPT_LOAD } cmd_kind_t;

typedef enum { ST_DISCONNECTED, ST_CONNECTING, ST_HANDSHAKE, ST_READY, ST_CLOSING } state_t;

typedef struct cmd {
  struct cmd *next;
  sb_redis_t *r;
  uint64_t deadline; /* uv_now() ms */
  cmd_kind_t kind;
  unsigned in_hiredis : 1; /* hiredis will still call on_reply for it */
  unsigned in_fifo : 1;    /* in fifo or failing: completion pending */
  unsigned orphaned : 1;   /* its connection was dropped: ignore its reply */
  unsigned retried : 1;    /* EVALSHA already retried after NOSCRIPT */
  int script_id;           /* EVALSHA and SCRIPT LOAD; -1 otherwise */
  sb_redis_reply_fn cb;    /* NULL for the client's own commands */
  void *arg;
  char *formatted; /* EVALSHA: the command, kept for the retry */
  size_t formatted_len;
} cmd_t;

typedef struct {
  cmd_t *head, *tail;
  size_t n;
} cmd_list_t;

typedef struct {
  char *name;
  char *source;
  char sha[SB_REDIS_SHA_HEX_LEN + 1];
} script_t;

struct sb_redis {
  uv_loop_t *loop;
  sb_redis_opts_t opts;
  char *host, *user, *password;
  int port, db;
  char addr[300]; /* "host:port" for logs */
  state_t state;
  int closing;
  redisAsyncContext *ac;     /* the current connection, or NULL */
  redisAsyncContext *zombie; /* dropped inside a hiredis callback */
  int hiredis_depth;         /* > 0 while a hiredis callback is on the stack */
  cmd_list_t fifo;           /* in flight on ac, oldest first */
  cmd_list_t failing;        /* orphaned, failure callback pending */
  size_t handshake_pending;
  unsigned attempts; /* failed attempts since READY: the back-off exponent */
  uint64_t connects; /* connection attempts started */
  uint64_t rng;
  script_t *scripts;
  int nscripts, cap_scripts;
  void (*state_fn)(int connected, void *arg);
  void *state_arg;
  sb_redis_stats_t stats;
  uv_timer_t cmd_timer;  /* the oldest in-flight deadline */
  uv_timer_t conn_timer; /* back-off delay, then connect+handshake deadline */
  uv_idle_t defer;       /* frees the zombie; closes handles when closing */
  int handles_open;
  sb_redis_cluster_t *cluster; /* cluster mode: every call goes there */
};

static void on_reply(redisAsyncContext *ac, void *reply, void *privdata);
static void on_defer(uv_idle_t *h);

/* ------------------------------------------------------------------ lists */

static void list_push(cmd_list_t *l, cmd_t *c) {
  c->next = NULL;
  if (l->tail)
    l->tail->next = c;
  else
    l->head = c;
  l->tail = c;
  l->n++;
}

static cmd_t *list_pop(cmd_list_t *l) {
  cmd_t *c = l->head;
  if (!c)
    return NULL;
  l->head = c->next;
  if (!l->head)
    l->tail = NULL;
  l->n--;
  c->next = NULL;
  return c;
}

/* Moves every fifo cmd to the tail of failing, marking it orphaned. */
static void orphan_all(sb_redis_t *r) {
  for (cmd_t *c = r->fifo.head; c; c = c->next)
    c->orphaned = 1;
  if (!r->fifo.head)
    return;
  if (r->failing.tail)
    r->failing.tail->next = r->fifo.head;
  else
    r->failing.head = r->fifo.head;
  r->failing.tail = r->fifo.tail;
  r->failing.n += r->fifo.n;
  memset(&r->fifo, 0, sizeof r->fifo);
}

/* ------------------------------------------------------------- commands */

static cmd_t *cmd_new(sb_redis_t *r, cmd_kind_t kind, sb_redis_reply_fn cb, void *arg) {
  cmd_t *c = calloc(1, sizeof *c);
  if (!c)
    return NULL;
  c->r = r;
  c->kind = kind;
  c->cb = cb;
  c->arg = arg;
  c->script_id = -1;
  return c;
}

static void cmd_free_if_done(cmd_t *c) {
  if (c->in_hiredis || c->in_fifo)
    return;
  redisFreeCommand(c->formatted);
  free(c);
}

static void on_cmd_timer(uv_timer_t *t);

/* Arms the one deadline timer at the FIFO head's deadline (stops it when the
 * FIFO is empty). */
static void deadline_arm(sb_redis_t *r) {
  const cmd_t *h = r->fifo.head;
  if (!h) {
    uv_timer_stop(&r->cmd_timer);
    return;
  }
  uint64_t now = uv_now(r->loop);
  uv_timer_start(&r->cmd_timer, on_cmd_timer, h->deadline > now ? h->deadline - now : 0, 0);
}

/* Records a cmd hiredis accepted: it joins the FIFO with its deadline. The
 * loop time is refreshed because we may be called outside the loop (before
 * uv_run, after a blocking startup) where uv_now() is stale. */
static void cmd_track(sb_redis_t *r, cmd_t *c) {
  c->in_hiredis = 1;
  c->in_fifo = 1;
  uv_update_time(r->loop);
  c->deadline = uv_now(r->loop) + r->opts.command_timeout_ms;
  list_push(&r->fifo, c);
  if (r->fifo.n == 1)
    deadline_arm(r);
}

/* Sends a preformatted command (ours or an EVALSHA); 0 or SB_ENOMEM. */
static int cmd_send_formatted(sb_redis_t *r, cmd_t *c, const char *buf, size_t len) {
  if (redisAsyncFormattedCommand(r->ac, on_reply, c, buf, len) != REDIS_OK)
    return SB_ENOMEM;
  cmd_track(r, c);
  return 0;
}

/* Sends one of the client's own commands; 0 or SB_ENOMEM. */
static int send_internal(sb_redis_t *r, cmd_kind_t kind, int script_id, int argc,
                         const char **argv) {
  cmd_t *c = cmd_new(r, kind, NULL, NULL);
  if (!c)
    return SB_ENOMEM;
  c->script_id = script_id;
  if (redisAsyncCommandArgv(r->ac, on_reply, c, argc, argv, NULL) != REDIS_OK) {
    free(c);
    return SB_ENOMEM;
  }
  cmd_track(r, c);
  return 0;
}

static int send_script_load(sb_redis_t *r, cmd_kind_t kind, int id) {
  const char *argv[] = {"SCRIPT", "LOAD", r->scripts[id].source};
  return send_internal(r, kind, id, 3, argv);
}

/* Runs the completion of c once: the user callback, if any, then counts. */
static void complete(sb_redis_t *r, cmd_t *c, const redisReply *reply, int err) {
  c->in_fifo = 0;
  if (!c->cb)
    return;
  if (err == SB_ETIMEOUT)
    r->stats.timeouts++;
  else if (err != 0)
    r->stats.errors++;
  c->cb(reply, err, c->arg);
}

/* Calls every orphaned cmd's callback with err. A callback may destroy the
 * client, whose own call drains what is left, so each runs exactly once. */
static void fail_failing(sb_redis_t *r, int err) {
  cmd_t *c;
  while ((c = list_pop(&r->failing)) != NULL) {
    complete(r, c, NULL, err);
    cmd_free_if_done(c);
  }
}

/* --------------------------------------------------------------- timers */

static uint64_t rng_next(sb_redis_t *r) {
  /* xorshift64: jitter needs spread, not secrecy */
  r->rng ^= r->rng << 13;
  r->rng ^= r->rng >> 7;
  r->rng ^= r->rng << 17;
  return r->rng;
}

/* min * 2^attempts capped at max, then uniform in [d/2, d]. */
static uint64_t backoff_ms(sb_redis_t *r) {
  uint64_t d = r->opts.reconnect_min_ms;
  for (unsigned i = 0; i < r->attempts && d < r->opts.reconnect_max_ms; i++)
    d *= 2;
  if (d > r->opts.reconnect_max_ms)
    d = r->opts.reconnect_max_ms;
  uint64_t half = d / 2;
  return half + rng_next(r) % (d - half + 1);
}

static void on_conn_timer(uv_timer_t *t);

static void schedule_reconnect(sb_redis_t *r) {
  if (r->closing)
    return;
  uint64_t delay = backoff_ms(r);
  r->attempts++;
  uv_timer_start(&r->conn_timer, on_conn_timer, delay, 0);
}

/* --------------------------------------------------------- libuv watcher */

static void poll_cb(uv_poll_t *h, int status, int events) {
  redisLibuvEvents *p = h->data;
  int ev = status != 0 ? p->events : events;
  if (p->context && (ev & UV_READABLE))
    redisAsyncHandleRead(p->context);
  if (p->context && (ev & UV_WRITABLE)) /* NULL when the read freed it */
    redisAsyncHandleWrite(p->context);
}

static void poll_update(redisLibuvEvents *p) {
  if (p->events)
    uv_poll_start(&p->handle, p->events, poll_cb);
  else
    uv_poll_stop(&p->handle);
}

static void ev_add_read(void *pd) {
  redisLibuvEvents *p = pd;
  p->events |= UV_READABLE;
  poll_update(p);
}

static void ev_del_read(void *pd) {
  redisLibuvEvents *p = pd;
  p->events &= ~UV_READABLE;
  poll_update(p);
}

static void ev_add_write(void *pd) {
  redisLibuvEvents *p = pd;
  p->events |= UV_WRITABLE;
  poll_update(p);
}

static void ev_del_write(void *pd) {
  redisLibuvEvents *p = pd;
  p->events &= ~UV_WRITABLE;
  poll_update(p);
}

/* redisLibuvAttach() with our error-aware watchers (see the top). */
static int attach(redisAsyncContext *ac, uv_loop_t *loop) {
  if (redisLibuvAttach(ac, loop) != REDIS_OK)
    return SB_EIO;
  ac->ev.addRead = ev_add_read;
  ac->ev.delRead = ev_del_read;
  ac->ev.addWrite = ev_add_write;
  ac->ev.delWrite = ev_del_write;
  return 0;
}

/* ------------------------------------------------------------ connection */

static void set_ready(sb_redis_t *r) {
  r->state = ST_READY;
  r->attempts = 0;
  uv_timer_stop(&r->conn_timer);
  sb_log(SB_LOG_INFO, "redis_connected", "addr", r->addr, NULL);
  if (r->state_fn)
    r->state_fn(1, r->state_arg);
}

/* Frees a context we no longer want: now, or from the defer hook when a
 * hiredis callback is on the stack (see the quirks at the top). */
static void release_ac(sb_redis_t *r, redisAsyncContext *ac) {
  if (r->hiredis_depth == 0) {
    redisAsyncFree(ac);
    return;
  }
  assert(r->zombie == NULL); /* a new context needs a timer turn first */
  r->zombie = ac;
  uv_idle_start(&r->defer, on_defer);
}

/* The connection is gone (ac, if not NULL, is ours to free; when NULL hiredis
 * frees it itself). Fails everything in flight with err, schedules a
 * reconnect, and reports the transition if we were READY. */
static void disconnected(sb_redis_t *r, int err, redisAsyncContext *ac) {
  int was_ready = r->state == ST_READY;
  if (was_ready || r->state == ST_HANDSHAKE)
    sb_log(SB_LOG_WARN, "redis_disconnected", "addr", r->addr, "reason", sb_err_name(err), NULL);
  r->state = ST_DISCONNECTED;
  r->handshake_pending = 0;
  orphan_all(r);
  uv_timer_stop(&r->cmd_timer);
  if (ac)
    release_ac(r, ac);
  schedule_reconnect(r);
  fail_failing(r, err);
  if (!r->closing && was_ready && r->state_fn)
    r->state_fn(0, r->state_arg);
}

/* We drop the current connection (timeout, handshake error). */
static void conn_drop(sb_redis_t *r, int err) {
  redisAsyncContext *ac = r->ac;
  r->ac = NULL;
  disconnected(r, err, ac);
}

/* hiredis is tearing ac down itself; it is no longer ours. */
static void conn_lost(sb_redis_t *r, const redisAsyncContext *ac, int err) {
  if (ac != r->ac)
    return;
  r->ac = NULL;
  disconnected(r, err, NULL);
}

static int handshake_send(sb_redis_t *r) {
  int rc = 0;
  if (r->password) {
    const char *argv[] = {"AUTH", r->user ? r->user : r->password, r->password};
    rc = r->user ? send_internal(r, CMD_HANDSHAKE, -1, 3, argv)
                 : send_internal(r, CMD_HANDSHAKE, -1, 2, argv);
  }
  if (rc == 0 && r->db != 0) {
    char db[16];
    snprintf(db, sizeof db, "%d", r->db);
    const char *argv[] = {"SELECT", db};
    rc = send_internal(r, CMD_HANDSHAKE, -1, 2, argv);
  }
  if (rc == 0) {
    const char *argv[] = {"PING"};
    rc = send_internal(r, CMD_HANDSHAKE, -1, 1, argv);
  }
  for (int i = 0; rc == 0 && i < r->nscripts; i++)
    rc = send_script_load(r, CMD_HANDSHAKE, i);
  r->handshake_pending = r->fifo.n;
  return rc;
}

static void on_connect(const redisAsyncContext *cac, int status) {
  redisAsyncContext *ac = (redisAsyncContext *)cac;
  sb_redis_t *r = ac->data;
  if (!r || ac != r->ac)
    return;
  r->hiredis_depth++;
  if (status != REDIS_OK) {
    sb_log(SB_LOG_WARN, "redis_connect_failed", "addr", r->addr, "error",
           ac->errstr ? ac->errstr : "", NULL);
    conn_lost(r, ac, SB_ECLOSED);
  } else {
    r->state = ST_HANDSHAKE;
    if (handshake_send(r) != 0)
      conn_drop(r, SB_ENOMEM);
  }
  r->hiredis_depth--;
}

static void on_disconnect(const redisAsyncContext *cac, int status) {
  redisAsyncContext *ac = (redisAsyncContext *)cac;
  sb_redis_t *r = ac->data;
  if (!r)
    return;
  if (ac == r->zombie) { /* it died before the defer hook freed it */
    r->zombie = NULL;
    return;
  }
  r->hiredis_depth++;
  conn_lost(r, ac, SB_ECLOSED);
  r->hiredis_depth--;
}

static void conn_start(sb_redis_t *r) {
  if (r->zombie) { /* from a timer callback: no hiredis frame is live */
    redisAsyncContext *z = r->zombie;
    r->zombie = NULL;
    redisAsyncFree(z);
  }
  if (r->connects++ > 0)
    r->stats.reconnects++;
  redisAsyncContext *ac = redisAsyncConnect(r->host, r->port);
  if (!ac || ac->err || attach(ac, r->loop) != 0) {
    sb_log(SB_LOG_WARN, "redis_connect_failed", "addr", r->addr, "error",
           ac && ac->errstr ? ac->errstr : "attach failed", NULL);
    if (ac)
      redisAsyncFree(ac);
    schedule_reconnect(r);
    return;
  }
  ac->data = r;
  redisAsyncSetDisconnectCallback(ac, on_disconnect);
  redisAsyncSetConnectCallback(ac, on_connect); /* arms the write watcher */
  r->ac = ac;
  r->state = ST_CONNECTING;
  uv_timer_start(&r->conn_timer, on_conn_timer, r->opts.connect_timeout_ms, 0);
}

static void on_conn_timer(uv_timer_t *t) {
  sb_redis_t *r = t->data;
  if (r->state == ST_DISCONNECTED) {
    conn_start(r);
  } else if (r->state == ST_CONNECTING || r->state == ST_HANDSHAKE) {
    sb_log(SB_LOG_WARN, "redis_connect_timeout", "addr", r->addr, NULL);
    conn_drop(r, SB_ETIMEOUT);
  }
}

/* 1 when the connection's socket has bytes to read right now. */
static int readable_now(const redisAsyncContext *ac) {
  struct pollfd p = {.fd = ac->c.fd, .events = POLLIN};
  return ac->c.fd >= 0 && poll(&p, 1, 0) > 0 && (p.revents & (POLLIN | POLLHUP | POLLERR));
}

static void on_cmd_timer(uv_timer_t *t) {
  sb_redis_t *r = t->data;
  cmd_t *h = r->fifo.head;
  if (!h)
    return;
  if (h->deadline > uv_now(r->loop)) { /* the old head was answered */
    deadline_arm(r);
    return;
  }
  /* libuv runs timers before it polls sockets: a loop that was busy past
   * the deadline (a long batch of CPU work, a sanitizer build) finds the
   * timer due while the answers already wait on the socket. Read them
   * first; if that answers anything the connection is alive, and the
   * commands still waiting get a fresh deadline instead of a reconnect
   * that would re-send (and time out) the same work again. */
  size_t before = r->fifo.n;
  if (r->ac && readable_now(r->ac)) {
    redisAsyncHandleRead(r->ac);
    h = r->fifo.head;
    if (!h)
      return;
    if (r->fifo.n < before) {
      if (h->deadline <= uv_now(r->loop))
        h->deadline = uv_now(r->loop) + r->opts.command_timeout_ms;
      deadline_arm(r);
      return;
    }
  }
  char n[32];
  snprintf(n, sizeof n, "%zu", r->fifo.n);
  sb_log(SB_LOG_WARN, "redis_timeout", "addr", r->addr, "inflight", n, NULL);
  conn_drop(r, SB_ETIMEOUT);
}

/* --------------------------------------------------------------- replies */

static int is_error(const redisReply *reply) { return reply->type == REDIS_REPLY_ERROR; }

static void handshake_reply(sb_redis_t *r, cmd_t *c, const redisReply *reply) {
  c->in_fifo = 0;
  if (is_error(reply)) {
    sb_log(SB_LOG_WARN, "redis_handshake_failed", "addr", r->addr, "error", reply->str, NULL);
    conn_drop(r, SB_EREDIS);
    return;
  }
  if (c->script_id >= 0 && (reply->type != REDIS_REPLY_STRING ||
                            strcmp(reply->str, r->scripts[c->script_id].sha) != 0))
    sb_log(SB_LOG_ERROR, "redis_script_sha_mismatch", "script", r->scripts[c->script_id].name,
           NULL);
  if (--r->handshake_pending == 0)
    set_ready(r);
}

/* NOSCRIPT: SCRIPT LOAD then the same EVALSHA again, which takes over the
 * caller's callback; 0, or an error and c is left untouched. */
static int evalsha_retry(sb_redis_t *r, cmd_t *c) {
  cmd_t *again = cmd_new(r, CMD_EVALSHA, c->cb, c->arg);
  if (!again)
    return SB_ENOMEM;
  int rc = send_script_load(r, CMD_SCRIPT_LOAD, c->script_id);
  if (rc == 0)
    rc = cmd_send_formatted(r, again, c->formatted, c->formatted_len);
  if (rc != 0) {
    free(again);
    return rc;
  }
  sb_log(SB_LOG_INFO, "redis_noscript_reload", "script", r->scripts[c->script_id].name, NULL);
  again->retried = 1;
  again->script_id = c->script_id;
  again->formatted = c->formatted;
  again->formatted_len = c->formatted_len;
  c->formatted = NULL;
  c->in_fifo = 0; /* completed by proxy: again calls the callback */
  return 0;
}

static void dispatch(sb_redis_t *r, cmd_t *c, const redisReply *reply) {
  switch (c->kind) {
  case CMD_HANDSHAKE:
    handshake_reply(r, c, reply);
    return;
  case CMD_SCRIPT_LOAD:
    if (is_error(reply))
      sb_log(SB_LOG_WARN, "redis_script_load_failed", "script", r->scripts[c->script_id].name,
             "error", reply->str, NULL);
    c->in_fifo = 0;
    return;
  case CMD_EVALSHA:
    if (is_error(reply) && !c->retried &&
        strncmp(reply->str, SB_REDIS_NOSCRIPT, strlen(SB_REDIS_NOSCRIPT)) == 0 &&
        evalsha_retry(r, c) == 0)
      return;
    /* fall through */
  case CMD_USER:
    complete(r, c, reply, is_error(reply) ? SB_EREDIS : 0);
    return;
  }
}

/* The one hiredis reply callback. reply NULL means the context is being
 * freed: by us (c orphaned) or by hiredis after an I/O error or EOF. */
static void on_reply(redisAsyncContext *ac, void *reply, void *privdata) {
  cmd_t *c = privdata;
  sb_redis_t *r = c->r;
  c->in_hiredis = 0;
  if (c->orphaned) {
    cmd_free_if_done(c);
    return;
  }
  r->hiredis_depth++;
  if (!reply) {
    conn_lost(r, ac, SB_ECLOSED); /* fails and frees c with the rest */
  } else {
    assert(r->fifo.head == c);
    list_pop(&r->fifo);
    if (!r->fifo.head)
      uv_timer_stop(&r->cmd_timer);
    dispatch(r, c, reply);
    cmd_free_if_done(c);
  }
  r->hiredis_depth--;
}

/* ------------------------------------------------------------- lifecycle */

static void free_client(sb_redis_t *r) {
  assert(!r->fifo.head && !r->failing.head && !r->zombie && !r->ac);
  for (int i = 0; i < r->nscripts; i++) {
    free(r->scripts[i].name);
    free(r->scripts[i].source);
  }
  free(r->scripts);
  free(r->host);
  free(r->user);
  free(r->password);
  free(r);
}

static void on_handle_closed(uv_handle_t *h) {
  sb_redis_t *r = h->data;
  if (--r->handles_open == 0)
    free_client(r);
}

static void close_handles(sb_redis_t *r) {
  uv_close((uv_handle_t *)&r->cmd_timer, on_handle_closed);
  uv_close((uv_handle_t *)&r->conn_timer, on_handle_closed);
  uv_close((uv_handle_t *)&r->defer, on_handle_closed);
}

static void on_defer(uv_idle_t *h) {
  sb_redis_t *r = h->data;
  uv_idle_stop(h);
  if (r->zombie) {
    redisAsyncContext *z = r->zombie;
    r->zombie = NULL;
    redisAsyncFree(z);
  }
  if (r->closing)
    close_handles(r);
}

/* ------------------------------------------------------------------- url */

static char *dup_range(const char *b, const char *e) {
  char *s = malloc((size_t)(e - b) + 1);
  if (s) {
    memcpy(s, b, (size_t)(e - b));
    s[e - b] = '\0';
  }
  return s;
}

/* Parses a decimal in [lo, hi] spanning exactly [b, e); -1 if not. */
static long parse_num(const char *b, const char *e, long lo, long hi) {
  long v = 0;
  if (b == e || e - b > 9)
    return -1;
  for (const char *p = b; p < e; p++) {
    if (*p < '0' || *p > '9')
      return -1;
    v = v * 10 + (*p - '0');
  }
  return v >= lo && v <= hi ? v : -1;
}

/* "[user]:password" before the last '@'. */
static int parse_userinfo(sb_redis_t *r, const char *b, const char *e) {
  const char *colon = memchr(b, ':', (size_t)(e - b));
  if (!colon)
    return SB_EPARSE;
  if (colon > b && !(r->user = dup_range(b, colon)))
    return SB_ENOMEM;
  if (!(r->password = dup_range(colon + 1, e)))
    return SB_ENOMEM;
  return 0;
}

/* "host[:port][/db]", host possibly "[v6]". */
static int parse_hostpart(sb_redis_t *r, const char *s) {
  const char *hb = s, *he;
  if (*s == '[') {
    hb = s + 1;
    he = strchr(hb, ']');
    if (!he)
      return SB_EPARSE;
    s = he + 1;
  } else {
    he = s + strcspn(s, ":/");
    s = he;
  }
  if (he == hb)
    return SB_EPARSE;
  if (!(r->host = dup_range(hb, he)))
    return SB_ENOMEM;
  r->port = SB_REDIS_DEFAULT_PORT;
  if (*s == ':') {
    const char *pe = s + 1 + strcspn(s + 1, "/");
    if ((r->port = (int)parse_num(s + 1, pe, 1, 65535)) < 0)
      return SB_EPARSE;
    s = pe;
  }
  if (*s == '/' && s[1] != '\0') {
    if ((r->db = (int)parse_num(s + 1, s + strlen(s), 0, 1L << 20)) < 0)
      return SB_EPARSE;
  } else if (*s != '\0' && strcmp(s, "/") != 0) {
    return SB_EPARSE;
  }
  return 0;
}

static int parse_url(sb_redis_t *r, const char *url) {
  size_t n = strlen(SB_REDIS_URL_SCHEME);
  if (strncmp(url, SB_REDIS_URL_SCHEME, n) != 0)
    return SB_EPARSE;
  const char *rest = url + n;
  const char *at = strrchr(rest, '@');
  int rc = at ? parse_userinfo(r, rest, at) : 0;
  if (rc == 0)
    rc = parse_hostpart(r, at ? at + 1 : rest);
  if (rc == 0)
    snprintf(r->addr, sizeof r->addr, "%s:%d", r->host, r->port);
  return rc;
}

/* ------------------------------------------------------------ public API */

void sb_redis_opts_default(sb_redis_opts_t *o) {
  o->command_timeout_ms = SB_REDIS_COMMAND_TIMEOUT_MS;
  o->connect_timeout_ms = SB_REDIS_CONNECT_TIMEOUT_MS;
  o->reconnect_min_ms = SB_REDIS_RECONNECT_MIN_MS;
  o->reconnect_max_ms = SB_REDIS_RECONNECT_MAX_MS;
}

static void opts_fill(sb_redis_opts_t *o, const sb_redis_opts_t *in) {
  sb_redis_opts_default(o);
  if (!in)
    return;
  if (in->command_timeout_ms)
    o->command_timeout_ms = in->command_timeout_ms;
  if (in->connect_timeout_ms)
    o->connect_timeout_ms = in->connect_timeout_ms;
  if (in->reconnect_min_ms)
    o->reconnect_min_ms = in->reconnect_min_ms;
  if (in->reconnect_max_ms)
    o->reconnect_max_ms = in->reconnect_max_ms;
  if (o->reconnect_max_ms < o->reconnect_min_ms)
    o->reconnect_max_ms = o->reconnect_min_ms;
}

/* A dead server must not kill the process through hiredis's write(2). */
static void ignore_sigpipe(void) {
  struct sigaction sa;
  if (sigaction(SIGPIPE, NULL, &sa) == 0 && !(sa.sa_flags & SA_SIGINFO) &&
      sa.sa_handler == SIG_DFL)
    signal(SIGPIPE, SIG_IGN);
}

static void init_handles(sb_redis_t *r) {
  uv_timer_init(r->loop, &r->cmd_timer);
  uv_timer_init(r->loop, &r->conn_timer);
  uv_idle_init(r->loop, &r->defer);
  r->cmd_timer.data = r->conn_timer.data = r->defer.data = r;
  r->handles_open = SB_REDIS_HANDLES;
}

/* A "redis-cluster://" client: a shell whose calls go to sb_redis_cluster
 * (which keeps one single-node client per node). */
static sb_redis_t *new_cluster(uv_loop_t *loop, const char *url, const sb_redis_opts_t *opts) {
  sb_redis_t *r = calloc(1, sizeof *r);
  if (!r)
    return NULL;
  r->loop = loop;
  opts_fill(&r->opts, opts);
  ignore_sigpipe();
  r->cluster = sb_redis_cluster_new(loop, url, &r->opts);
  if (!r->cluster) {
    free(r);
    return NULL;
  }
  snprintf(r->addr, sizeof r->addr, "cluster");
  init_handles(r);
  return r;
}

sb_redis_t *sb_redis_new(uv_loop_t *loop, const char *url, const sb_redis_opts_t *opts) {
  if (!loop || !url)
    return NULL;
  if (sb_redis_cluster_is_url(url))
    return new_cluster(loop, url, opts);
  sb_redis_t *r = calloc(1, sizeof *r);
  if (!r)
    return NULL;
  int rc = parse_url(r, url);
  if (rc != 0) {
    if (rc == SB_EPARSE) /* never log the url: it may hold a password */
      sb_log(SB_LOG_ERROR, "redis_bad_url", NULL);
    free(r->host);
    free(r->user);
    free(r->password);
    free(r);
    return NULL;
  }
  r->loop = loop;
  opts_fill(&r->opts, opts);
  r->rng = uv_hrtime() ^ (uint64_t)(uintptr_t)r;
  if (r->rng == 0)
    r->rng = 1;
  ignore_sigpipe();
  init_handles(r);
  conn_start(r);
  return r;
}

void sb_redis_destroy(sb_redis_t **rp) {
  if (!rp || !*rp)
    return;
  sb_redis_t *r = *rp;
  *rp = NULL;
  if (r->closing)
    return;
  r->closing = 1;
  r->state = ST_CLOSING;
  r->state_fn = NULL;
  uv_timer_stop(&r->cmd_timer);
  uv_timer_stop(&r->conn_timer);
  sb_redis_cluster_destroy(&r->cluster); /* NULL in single-node mode */
  redisAsyncContext *ac = r->ac;
  r->ac = NULL;
  orphan_all(r);
  if (ac)
    release_ac(r, ac);
  fail_failing(r, SB_ECLOSED);
  if (!r->zombie) /* else on_defer closes the handles after freeing it */
    close_handles(r);
}

/* Commands after which hiredis no longer pairs one reply with one callback
 * (async.c special-cases the first four; Redis 7 adds the S- variants). */
static int breaks_ordering(int argc, const char **argv, const size_t *argvlen) {
  static const char *const names[] = {"SUBSCRIBE",   "PSUBSCRIBE",   "SSUBSCRIBE",
                                      "UNSUBSCRIBE", "PUNSUBSCRIBE", "SUNSUBSCRIBE",
                                      "MONITOR"};
  size_t len = argvlen ? argvlen[0] : strlen(argv[0]);
  for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
    if (len == strlen(names[i]) && strncasecmp(argv[0], names[i], len) == 0)
      return 1;
  /* CLIENT REPLY OFF|SKIP suppresses replies */
  return argc >= 2 && len == 6 && strncasecmp(argv[0], "CLIENT", 6) == 0 &&
         (argvlen ? argvlen[1] : strlen(argv[1])) == 5 && strncasecmp(argv[1], "REPLY", 5) == 0;
}

static int check_argv(int argc, const char **argv) {
  if (argc < 0 || (argc > 0 && !argv))
    return SB_EINVAL;
  for (int i = 0; i < argc; i++)
    if (!argv[i])
      return SB_EINVAL;
  return 0;
}

/* The common gate of every command: 0 when one may be sent now (cluster
 * mode: when the client is not closing; the node decides the rest). */
static int can_send(const sb_redis_t *r) {
  if (r->closing)
    return SB_ECLOSED;
  if (r->cluster)
    return 0;
  return r->state == ST_READY ? 0 : SB_EAGAIN;
}

int sb_redis_command_argv(sb_redis_t *r, int argc, const char **argv, const size_t *argvlen,
                          sb_redis_reply_fn cb, void *arg) {
  if (!r || !cb || argc < 1 || check_argv(argc, argv) != 0)
    return SB_EINVAL;
  int rc = can_send(r);
  if (rc != 0)
    return rc;
  if (breaks_ordering(argc, argv, argvlen))
    return SB_EINVAL;
  if (r->cluster)
    return sb_redis_cluster_command_argv(r->cluster, argc, argv, argvlen, cb, arg);
  cmd_t *c = cmd_new(r, CMD_USER, cb, arg);
  if (!c)
    return SB_ENOMEM;
  if (redisAsyncCommandArgv(r->ac, on_reply, c, argc, argv, argvlen) != REDIS_OK) {
    free(c);
    return SB_ENOMEM;
  }
  cmd_track(r, c);
  r->stats.commands++;
  return 0;
}

/* Formats EVALSHA sha nkeys argv... into *out (malloc'ed); length or < 0. */
static int format_evalsha(const char *sha, int nkeys, int nargs, const char **argv,
                          const size_t *argvlen, char **out) {
  const char *sa[SB_REDIS_STACK_ARGS + 3];
  size_t sl[SB_REDIS_STACK_ARGS + 3];
  int n = nargs + 3;
  const char **a = n <= (int)(sizeof sa / sizeof sa[0]) ? sa : malloc(sizeof *a * (size_t)n);
  size_t *l = n <= (int)(sizeof sl / sizeof sl[0]) ? sl : malloc(sizeof *l * (size_t)n);
  char nk[16];
  int len = -1;
  if (a && l) {
    snprintf(nk, sizeof nk, "%d", nkeys);
    a[0] = "EVALSHA", l[0] = 7;
    a[1] = sha, l[1] = SB_REDIS_SHA_HEX_LEN;
    a[2] = nk, l[2] = strlen(nk);
    for (int i = 0; i < nargs; i++) {
      a[i + 3] = argv[i];
      l[i + 3] = argvlen ? argvlen[i] : strlen(argv[i]);
    }
    len = redisFormatCommandArgv(out, n, a, l);
  }
  if (a != sa)
    free((void *)a);
  if (l != sl)
    free(l);
  return len;
}

int sb_redis_evalsha(sb_redis_t *r, int script_id, int nkeys, int nargs, const char **argv,
                     const size_t *argvlen, sb_redis_reply_fn cb, void *arg) {
  if (!r || !cb || script_id < 0 || script_id >= r->nscripts || nkeys < 0 || nkeys > nargs ||
      check_argv(nargs, argv) != 0)
    return SB_EINVAL;
  int rc = can_send(r);
  if (rc != 0)
    return rc;
  if (r->cluster)
    return sb_redis_cluster_evalsha(r->cluster, script_id, nkeys, nargs, argv, argvlen, cb, arg);
  cmd_t *c = cmd_new(r, CMD_EVALSHA, cb, arg);
  if (!c)
    return SB_ENOMEM;
  int len = format_evalsha(r->scripts[script_id].sha, nkeys, nargs, argv, argvlen, &c->formatted);
  if (len < 0 || cmd_send_formatted(r, c, c->formatted, (size_t)len) != 0) {
    redisFreeCommand(c->formatted);
    free(c);
    return SB_ENOMEM;
  }
  c->formatted_len = (size_t)len;
  c->script_id = script_id;
  r->stats.commands++;
  return 0;
}

static void sha1_hex(const char *s, char out[SB_REDIS_SHA_HEX_LEN + 1]) {
  unsigned char md[SHA_DIGEST_LENGTH];
  SHA1((const unsigned char *)s, strlen(s), md);
  for (int i = 0; i < SHA_DIGEST_LENGTH; i++)
    snprintf(out + 2 * i, 3, "%02x", md[i]);
}

/* Appends a script; its id, or SB_ENOMEM. */
static int script_push(sb_redis_t *r, const char *name, const char *source) {
  if (r->nscripts == r->cap_scripts) {
    int cap = r->cap_scripts ? r->cap_scripts * 2 : 8;
    script_t *s = realloc(r->scripts, sizeof *s * (size_t)cap);
    if (!s)
      return SB_ENOMEM;
    r->scripts = s;
    r->cap_scripts = cap;
  }
  script_t *s = &r->scripts[r->nscripts];
  s->name = strdup(name);
  s->source = strdup(source);
  if (!s->name || !s->source) {
    free(s->name);
    free(s->source);
    return SB_ENOMEM;
  }
  sha1_hex(source, s->sha);
  return r->nscripts++;
}

int sb_redis_script_add(sb_redis_t *r, const char *name, const char *source) {
  if (!r || !name || !source)
    return SB_EINVAL;
  if (r->closing)
    return SB_ECLOSED;
  for (int i = 0; i < r->nscripts; i++)
    if (strcmp(r->scripts[i].name, name) == 0)
      return strcmp(r->scripts[i].source, source) == 0 ? i : SB_EEXISTS;
  int id = script_push(r, name, source);
  if (id < 0)
    return id;
  if (r->cluster) { /* the nodes number their scripts as we do */
    int rc = sb_redis_cluster_script_add(r->cluster, name, source);
    return rc == id || rc < 0 ? rc : SB_EINVAL;
  }
  /* Already past the handshake's SCRIPT LOADs: load it now. If that cannot
   * be sent, NOSCRIPT recovery loads it on first use. */
  if (r->state == ST_READY || r->state == ST_HANDSHAKE) {
    int hs = r->state == ST_HANDSHAKE;
    if (send_script_load(r, hs ? CMD_HANDSHAKE : CMD_SCRIPT_LOAD, id) == 0 && hs)
      r->handshake_pending++;
  }
  return id;
}

const char *sb_redis_script_sha(const sb_redis_t *r, int script_id) {
  if (!r || script_id < 0 || script_id >= r->nscripts)
    return NULL;
  return r->scripts[script_id].sha;
}

int sb_redis_is_connected(const sb_redis_t *r) {
  if (r && r->cluster)
    return sb_redis_cluster_is_connected(r->cluster);
  return r && r->state == ST_READY;
}

void sb_redis_on_state(sb_redis_t *r, void (*fn)(int connected, void *arg), void *arg) {
  if (!r || r->closing)
    return;
  if (r->cluster)
    sb_redis_cluster_on_state(r->cluster, fn, arg);
  r->state_fn = fn;
  r->state_arg = arg;
}

size_t sb_redis_inflight(const sb_redis_t *r) {
  if (r && r->cluster)
    return sb_redis_cluster_inflight(r->cluster);
  return r ? r->fifo.n : 0;
}

void sb_redis_stats(const sb_redis_t *r, sb_redis_stats_t *s) {
  if (r && s && r->cluster)
    sb_redis_cluster_stats(r->cluster, s);
  else if (r && s)
    *s = r->stats;
}
