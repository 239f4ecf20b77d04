/*
 * sb_redis_cluster: Redis Cluster routing over one sb_redis_t per node (see
 * sb_redis_cluster.h for the contract).
 *
 * The idea. Everything hard about one connection (deadlines, reconnection,
 * handshake, scripts, NOSCRIPT, teardown inside callbacks) is already in the
 * single-node sb_redis; this file only decides *which* node gets a command,
 * keeps the slot map, and follows redirections. A request (req_t) copies
 * the caller's argv so that it can be re-sent after MOVED/ASK.
 *
 * Invariants:
 *   - cl->nodes holds every node we keep a client for: the seeds (kept for
 *     ever: they are how a map is found again when every master moved) and
 *     every master of the current map. A node dropped from the map (and not
 *     a seed) is detached from cl->nodes before its client is destroyed, so
 *     the callbacks its destruction runs see a consistent cluster.
 *   - cl->slots[s] is NULL or a node in cl->nodes.
 *   - Every script is added to every node in the same order, so a script id
 *     means the same script on every node and for the caller.
 *   - cl is freed only in its timer's close callback, so callbacks running
 *     inside sb_redis_cluster_destroy() may still read it.
 */
#include "sb_redis_cluster.h"

#include "sb_error.h"
#include "sb_log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define NODE_HOST_MAX 256
#define URL_MAX 600

typedef struct node {
  struct sb_redis_cluster *cl;
  char host[NODE_HOST_MAX];
  int port;
  char addr[NODE_HOST_MAX + 8];
  sb_redis_t *r;
  unsigned seed : 1;
  unsigned master : 1;
} node_t;

typedef struct {
  char *name, *source;
} cscript_t;

struct sb_redis_cluster {
  uv_loop_t *loop;
  sb_redis_opts_t opts;
  char *userinfo; /* "[user]:password@" or NULL */
  node_t *nodes[SB_REDIS_CLUSTER_NODES_MAX];
  int nnodes;
  node_t **slots; /* [SB_REDIS_CLUSTER_SLOTS] */
  int map_known;
  int connected;
  int refresh_inflight;
  char refresh_host[NODE_HOST_MAX]; /* the node asked, for empty hosts */
  cscript_t *scripts;
  int nscripts, cap_scripts;
  void (*state_fn)(int connected, void *arg);
  void *state_arg;
  sb_redis_stats_t stats;
  uint64_t gone_reconnects; /* of nodes no longer kept */
  int closing;
  uv_timer_t refresh_timer;
};

typedef struct req {
  sb_redis_cluster_t *cl;
  sb_redis_reply_fn cb;
  void *arg;
  int script_id; /* -1: a plain command */
  int nkeys;
  int argc;
  const char **argv; /* copies, in the same allocation */
  size_t *lens;
  unsigned redirected : 1;
} req_t;

static void refresh_try(sb_redis_cluster_t *cl);

/* ------------------------------------------------------------------ slot */

static uint16_t crc16(const char *buf, size_t len) {
  uint16_t crc = 0; /* CRC16-CCITT (XMODEM): poly 0x1021, init 0 */
  for (size_t i = 0; i < len; i++) {
    crc ^= (uint16_t)((unsigned char)buf[i] << 8);
    for (int b = 0; b < 8; b++)
      crc = (uint16_t)(crc & 0x8000 ? (crc << 1) ^ 0x1021 : crc << 1);
  }
  return crc;
}

unsigned sb_redis_cluster_slot(const char *key, size_t len) {
  const char *open = memchr(key, '{', len);
  if (open) {
    size_t from = (size_t)(open - key) + 1;
    const char *close = memchr(open + 1, '}', len - from);
    if (close && close > open + 1)
      return crc16(open + 1, (size_t)(close - open - 1)) &
             (SB_REDIS_CLUSTER_SLOTS - 1);
  }
  return crc16(key, len) & (SB_REDIS_CLUSTER_SLOTS - 1);
}

/* ----------------------------------------------------------------- nodes */

static int node_is_ready(const node_t *n) {
  return sb_redis_is_connected(n->r);
}

static void update_state(sb_redis_cluster_t *cl);

static void on_node_state(int connected, void *arg) {
  node_t *n = arg;
  sb_redis_cluster_t *cl = n->cl;
  if (!connected && n->master)
    refresh_try(cl); /* a failover is learnt by asking */
  else if (connected && !cl->map_known)
    refresh_try(cl);
  update_state(cl);
}

static node_t *node_find(sb_redis_cluster_t *cl, const char *host, int port) {
  for (int i = 0; i < cl->nnodes; i++)
    if (cl->nodes[i]->port == port && strcmp(cl->nodes[i]->host, host) == 0)
      return cl->nodes[i];
  return NULL;
}

/* A client for host:port with every script; NULL when full or on error. */
static node_t *node_add(sb_redis_cluster_t *cl, const char *host, int port) {
  node_t *n = node_find(cl, host, port);
  if (n)
    return n;
  if (cl->nnodes == SB_REDIS_CLUSTER_NODES_MAX || strlen(host) >= NODE_HOST_MAX)
    return NULL;
  if (!(n = calloc(1, sizeof *n)))
    return NULL;
  n->cl = cl;
  snprintf(n->host, sizeof n->host, "%s", host);
  n->port = port;
  int v6 = strchr(host, ':') != NULL;
  snprintf(n->addr, sizeof n->addr, "%s%s%s:%d", v6 ? "[" : "", host,
           v6 ? "]" : "", port);
  char url[URL_MAX];
  snprintf(url, sizeof url, "redis://%s%s", cl->userinfo ? cl->userinfo : "",
           n->addr);
  n->r = sb_redis_new(cl->loop, url, &cl->opts);
  for (int i = 0; n->r && i < cl->nscripts; i++)
    if (sb_redis_script_add(n->r, cl->scripts[i].name, cl->scripts[i].source) !=
        i)
      sb_redis_destroy(&n->r);
  if (!n->r) {
    free(n);
    return NULL;
  }
  sb_redis_on_state(n->r, on_node_state, n);
  cl->nodes[cl->nnodes++] = n;
  return n;
}

/* Destroys detached nodes (their pending commands fail with SB_ECLOSED). */
static void nodes_free(sb_redis_cluster_t *cl, node_t **v, int n) {
  for (int i = 0; i < n; i++) {
    sb_redis_stats_t s;
    sb_redis_stats(v[i]->r, &s);
    cl->gone_reconnects += s.reconnects;
    sb_redis_destroy(&v[i]->r);
    free(v[i]);
  }
}

/* The node for a command without keys: a connected master, else any
 * connected node; NULL if none. */
static node_t *node_any(const sb_redis_cluster_t *cl) {
  node_t *any = NULL;
  for (int i = 0; i < cl->nnodes; i++)
    if (node_is_ready(cl->nodes[i])) {
      if (cl->nodes[i]->master)
        return cl->nodes[i];
      if (!any)
        any = cl->nodes[i];
    }
  return any;
}

/* ------------------------------------------------------------------ state */

static int map_complete(const sb_redis_cluster_t *cl) {
  if (!cl->map_known)
    return 0;
  for (int s = 0; s < SB_REDIS_CLUSTER_SLOTS; s++)
    if (!cl->slots[s])
      return 0;
  return 1;
}

static int masters_ready(const sb_redis_cluster_t *cl) {
  for (int i = 0; i < cl->nnodes; i++)
    if (cl->nodes[i]->master && !node_is_ready(cl->nodes[i]))
      return 0;
  return 1;
}

static void arm_refresh(sb_redis_cluster_t *cl);

static void update_state(sb_redis_cluster_t *cl) {
  if (cl->closing)
    return;
  int c = map_complete(cl) && masters_ready(cl);
  if (!c)
    arm_refresh(cl);
  if (c == cl->connected)
    return;
  cl->connected = c;
  sb_log(c ? SB_LOG_INFO : SB_LOG_WARN,
         c ? "redis_cluster_ready" : "redis_cluster_degraded", NULL);
  if (cl->state_fn)
    cl->state_fn(c, cl->state_arg);
}

/* -------------------------------------------------------------- slot map */

static void on_refresh_timer(uv_timer_t *t) { refresh_try(t->data); }

static void arm_refresh(sb_redis_cluster_t *cl) {
  if (!cl->closing && !uv_is_active((uv_handle_t *)&cl->refresh_timer))
    uv_timer_start(&cl->refresh_timer, on_refresh_timer,
                   SB_REDIS_CLUSTER_REFRESH_MS, 0);
}

/* One CLUSTER SLOTS entry: [start, end, [host, port, ...], replicas...]. */
static int parse_range(sb_redis_cluster_t *cl, const redisReply *e,
                       node_t **tmp) {
  if (e->type != REDIS_REPLY_ARRAY || e->elements < 3 ||
      e->element[0]->type != REDIS_REPLY_INTEGER ||
      e->element[1]->type != REDIS_REPLY_INTEGER)
    return SB_EPARSE;
  const redisReply *m = e->element[2];
  long long lo = e->element[0]->integer, hi = e->element[1]->integer;
  if (m->type != REDIS_REPLY_ARRAY || m->elements < 2 ||
      m->element[0]->type != REDIS_REPLY_STRING ||
      m->element[1]->type != REDIS_REPLY_INTEGER || lo < 0 || hi < lo ||
      hi >= SB_REDIS_CLUSTER_SLOTS || m->element[1]->integer < 1 ||
      m->element[1]->integer > 65535)
    return SB_EPARSE;
  const char *host = m->element[0]->str;
  if (host[0] == '\0' ||
      strcmp(host, "?") == 0) /* "unknown endpoint": the one asked */
    host = cl->refresh_host;
  node_t *n = node_add(cl, host, (int)m->element[1]->integer);
  if (!n)
    return SB_ENOMEM;
  for (long long s = lo; s <= hi; s++)
    tmp[s] = n;
  return 0;
}

/* Installs tmp as the map; detaches and frees nodes that are neither
 * masters nor seeds. */
static void map_install(sb_redis_cluster_t *cl, node_t **tmp) {
  memcpy(cl->slots, tmp, sizeof *tmp * SB_REDIS_CLUSTER_SLOTS);
  cl->map_known = 1;
  for (int i = 0; i < cl->nnodes; i++)
    cl->nodes[i]->master = 0;
  for (int s = 0; s < SB_REDIS_CLUSTER_SLOTS; s++)
    if (tmp[s])
      tmp[s]->master = 1;
  node_t *gone[SB_REDIS_CLUSTER_NODES_MAX];
  int ngone = 0, keep = 0;
  for (int i = 0; i < cl->nnodes; i++) {
    node_t *n = cl->nodes[i];
    if (n->master || n->seed)
      cl->nodes[keep++] = n;
    else
      gone[ngone++] = n;
  }
  cl->nnodes = keep;
  nodes_free(cl, gone, ngone);
}

static void on_slots(const redisReply *reply, int err, void *arg) {
  sb_redis_cluster_t *cl = arg;
  cl->refresh_inflight = 0;
  if (cl->closing)
    return;
  node_t **tmp = NULL;
  int rc = err != 0 || reply->type != REDIS_REPLY_ARRAY ? SB_EREDIS : 0;
  if (rc == 0 && !(tmp = calloc(SB_REDIS_CLUSTER_SLOTS, sizeof *tmp)))
    rc = SB_ENOMEM;
  for (size_t i = 0; rc == 0 && i < reply->elements; i++)
    rc = parse_range(cl, reply->element[i], tmp);
  if (rc == 0)
    map_install(cl, tmp);
  else
    sb_log(SB_LOG_WARN, "redis_cluster_slots_failed", "error", sb_err_name(rc),
           NULL);
  free(tmp);
  update_state(cl); /* arms the next refresh while degraded */
}

/* Reads the slot map from a connected node, unless a read is under way;
 * with no node connected, tries again after SB_REDIS_CLUSTER_REFRESH_MS. */
static void refresh_try(sb_redis_cluster_t *cl) {
  if (cl->closing || cl->refresh_inflight)
    return;
  node_t *n = node_any(cl);
  static const char *const argv[] = {"CLUSTER", "SLOTS"};
  if (!n || sb_redis_command_argv(n->r, 2, (const char **)argv, NULL, on_slots,
                                  cl) != 0) {
    arm_refresh(cl);
    return;
  }
  snprintf(cl->refresh_host, sizeof cl->refresh_host, "%s", n->host);
  cl->refresh_inflight = 1;
}

/* -------------------------------------------------------------- requests */

static req_t *req_new(sb_redis_cluster_t *cl, int argc, const char **argv,
                      const size_t *argvlen) {
  size_t data = 0;
  for (int i = 0; i < argc; i++)
    data += (argvlen ? argvlen[i] : strlen(argv[i])) + 1;
  size_t n = (size_t)argc;
  req_t *q = malloc(sizeof *q + n * (sizeof(char *) + sizeof(size_t)) + data);
  if (!q)
    return NULL;
  memset(q, 0, sizeof *q);
  q->cl = cl;
  q->argc = argc;
  q->argv = (const char **)(q + 1);
  q->lens = (size_t *)(q->argv + n);
  char *p = (char *)(q->lens + n);
  for (int i = 0; i < argc; i++) {
    q->lens[i] = argvlen ? argvlen[i] : strlen(argv[i]);
    memcpy(p, argv[i], q->lens[i]);
    p[q->lens[i]] = '\0';
    q->argv[i] = p;
    p += q->lens[i] + 1;
  }
  q->script_id = -1;
  return q;
}

static void on_reply(const redisReply *reply, int err, void *arg);

static int req_send(req_t *q, node_t *n) {
  if (q->script_id >= 0)
    return sb_redis_evalsha(n->r, q->script_id, q->nkeys, q->argc, q->argv,
                            q->lens, on_reply, q);
  return sb_redis_command_argv(n->r, q->argc, q->argv, q->lens, on_reply, q);
}

static void on_asking(const redisReply *reply, int err, void *arg) {
  (void)reply, (void)err, (void)arg; /* the retried command reports */
}

/* MOVED/ASK "<slot> <host>:<port>": re-sends q once to that node; 0, or an
 * error and the caller reports the redirection. */
static int redirect(req_t *q, const redisReply *reply) {
  sb_redis_cluster_t *cl = q->cl;
  int ask = strncmp(reply->str, "ASK ", 4) == 0;
  if (!ask && strncmp(reply->str, "MOVED ", 6) != 0)
    return SB_EINVAL;
  char host[NODE_HOST_MAX];
  int slot = -1, port = -1;
  const char *sp = strchr(reply->str, ' ');
  const char *ep = sp ? strchr(sp + 1, ' ') : NULL;
  const char *colon = ep ? strrchr(ep + 1, ':') : NULL;
  if (!colon || (size_t)(colon - ep - 1) >= sizeof host ||
      sscanf(sp + 1, "%d", &slot) != 1 || sscanf(colon + 1, "%d", &port) != 1 ||
      slot < 0 || slot >= SB_REDIS_CLUSTER_SLOTS)
    return SB_EPARSE;
  memcpy(host, ep + 1, (size_t)(colon - ep - 1));
  host[colon - ep - 1] = '\0';
  node_t *n = node_add(cl, host, port);
  if (!ask) {
    if (n)
      cl->slots[slot] = n;
    refresh_try(cl);
  }
  if (!n || !node_is_ready(n))
    return SB_EAGAIN;
  static const char *const asking[] = {"ASKING"};
  if (ask && sb_redis_command_argv(n->r, 1, (const char **)asking, NULL,
                                   on_asking, NULL) != 0)
    return SB_EAGAIN;
  q->redirected = 1;
  return req_send(q, n);
}

static void on_reply(const redisReply *reply, int err, void *arg) {
  req_t *q = arg;
  sb_redis_cluster_t *cl = q->cl;
  if (err == SB_EREDIS && !q->redirected && !cl->closing &&
      redirect(q, reply) == 0)
    return;
  if (err == SB_ETIMEOUT)
    cl->stats.timeouts++;
  else if (err != 0)
    cl->stats.errors++;
  sb_redis_reply_fn cb = q->cb;
  void *cb_arg = q->arg;
  free(q);
  cb(reply, err, cb_arg);
}

static int name_is(const char *s, size_t len, const char *name) {
  return len == strlen(name) && strncasecmp(s, name, len) == 0;
}

/* Index of the first key of a command, or -1 when it has none. */
static int first_key(int argc, const char **argv, const size_t *lens) {
  static const char *const keyless[] = {
      "PING",    "ECHO",      "INFO",   "TIME",         "DBSIZE",    "SCRIPT",
      "CLUSTER", "CONFIG",    "CLIENT", "COMMAND",      "FLUSHALL",  "FLUSHDB",
      "SLOWLOG", "LASTSAVE",  "BGSAVE", "BGREWRITEAOF", "SAVE",      "ROLE",
      "WAIT",    "RANDOMKEY", "KEYS",   "SCAN",         "MEMORY",    "LATENCY",
      "ACL",     "FUNCTION",  "DEBUG",  "READONLY",     "READWRITE", "ASKING"};
  for (size_t i = 0; i < sizeof keyless / sizeof keyless[0]; i++)
    if (name_is(argv[0], lens[0], keyless[i]))
      return -1;
  if (name_is(argv[0], lens[0], "EVAL") ||
      name_is(argv[0], lens[0], "EVALSHA") ||
      name_is(argv[0], lens[0], "FCALL"))
    return argc > 3 && atoi(argv[2]) > 0 ? 3 : -1;
  if (name_is(argv[0], lens[0], "XREAD") ||
      name_is(argv[0], lens[0], "XREADGROUP")) {
    for (int i = 1; i + 1 < argc; i++)
      if (name_is(argv[i], lens[i], "STREAMS"))
        return i + 1;
    return -1;
  }
  return argc > 1 ? 1 : -1;
}

/* Transactions span calls, which routing per command cannot keep on one
 * node: refused in cluster mode (a script does the same in one call). */
static int is_transaction(const char *s, size_t len) {
  return name_is(s, len, "MULTI") || name_is(s, len, "EXEC") ||
         name_is(s, len, "DISCARD") || name_is(s, len, "WATCH") ||
         name_is(s, len, "UNWATCH");
}

static node_t *route(const sb_redis_cluster_t *cl, const char *key,
                     size_t len) {
  if (!key)
    return node_any(cl);
  return cl->map_known ? cl->slots[sb_redis_cluster_slot(key, len)] : NULL;
}

/* Sends q to the node of key (NULL: any node); 0 or an error (q freed). */
static int dispatch(sb_redis_cluster_t *cl, req_t *q, const char *key,
                    size_t len) {
  node_t *n = route(cl, key, len);
  int rc = n && node_is_ready(n) ? req_send(q, n) : SB_EAGAIN;
  if (rc != 0) {
    free(q);
    return rc;
  }
  cl->stats.commands++;
  return 0;
}

/* ------------------------------------------------------------ public API */

int sb_redis_cluster_command_argv(sb_redis_cluster_t *c, int argc,
                                  const char **argv, const size_t *argvlen,
                                  sb_redis_reply_fn cb, void *arg) {
  if (c->closing)
    return SB_ECLOSED;
  req_t *q = req_new(c, argc, argv, argvlen);
  if (!q)
    return SB_ENOMEM;
  q->cb = cb;
  q->arg = arg;
  if (is_transaction(q->argv[0], q->lens[0])) {
    free(q);
    return SB_EINVAL;
  }
  int k = first_key(argc, q->argv, q->lens);
  return dispatch(c, q, k >= 0 ? q->argv[k] : NULL, k >= 0 ? q->lens[k] : 0);
}

int sb_redis_cluster_evalsha(sb_redis_cluster_t *c, int script_id, int nkeys,
                             int nargs, const char **argv,
                             const size_t *argvlen, sb_redis_reply_fn cb,
                             void *arg) {
  if (c->closing)
    return SB_ECLOSED;
  req_t *q = req_new(c, nargs, argv, argvlen);
  if (!q)
    return SB_ENOMEM;
  q->cb = cb;
  q->arg = arg;
  q->script_id = script_id;
  q->nkeys = nkeys;
  return dispatch(c, q, nkeys > 0 ? q->argv[0] : NULL,
                  nkeys > 0 ? q->lens[0] : 0);
}

int sb_redis_cluster_script_add(sb_redis_cluster_t *c, const char *name,
                                const char *source) {
  if (c->closing)
    return SB_ECLOSED;
  if (c->nscripts == c->cap_scripts) {
    int cap = c->cap_scripts ? c->cap_scripts * 2 : 8;
    cscript_t *s = realloc(c->scripts, sizeof *s * (size_t)cap);
    if (!s)
      return SB_ENOMEM;
    c->scripts = s;
    c->cap_scripts = cap;
  }
  cscript_t *s = &c->scripts[c->nscripts];
  s->name = strdup(name);
  s->source = strdup(source);
  if (!s->name || !s->source) {
    free(s->name);
    free(s->source);
    return SB_ENOMEM;
  }
  int id = c->nscripts++;
  for (int i = 0; i < c->nnodes; i++) {
    int rc = sb_redis_script_add(c->nodes[i]->r, name, source);
    if (rc != id)
      return rc < 0 ? rc : SB_EINVAL;
  }
  return id;
}

int sb_redis_cluster_is_connected(const sb_redis_cluster_t *c) {
  return !c->closing && c->connected;
}

void sb_redis_cluster_on_state(sb_redis_cluster_t *c,
                               void (*fn)(int connected, void *arg),
                               void *arg) {
  if (c->closing)
    return;
  c->state_fn = fn;
  c->state_arg = arg;
}

size_t sb_redis_cluster_inflight(const sb_redis_cluster_t *c) {
  size_t n = 0;
  for (int i = 0; i < c->nnodes; i++)
    n += sb_redis_inflight(c->nodes[i]->r);
  return n;
}

void sb_redis_cluster_stats(const sb_redis_cluster_t *c, sb_redis_stats_t *s) {
  *s = c->stats;
  s->reconnects = c->gone_reconnects;
  for (int i = 0; i < c->nnodes; i++) {
    sb_redis_stats_t ns;
    sb_redis_stats(c->nodes[i]->r, &ns);
    s->reconnects += ns.reconnects;
  }
}

int sb_redis_cluster_is_url(const char *url) {
  return url && strncmp(url, SB_REDIS_CLUSTER_SCHEME,
                        strlen(SB_REDIS_CLUSTER_SCHEME)) == 0;
}

/* One seed "host:port" or "[v6]:port" in [b, e). */
static int parse_seed(sb_redis_cluster_t *cl, const char *b, const char *e) {
  char host[NODE_HOST_MAX];
  const char *colon =
      b < e && *b == '[' ? memchr(b, ']', (size_t)(e - b)) : NULL;
  const char *hb = colon ? b + 1 : b, *he;
  if (colon) {
    he = colon++;
    if (colon >= e || *colon != ':')
      return SB_EPARSE;
  } else {
    colon = memchr(b, ':', (size_t)(e - b));
    he = colon;
  }
  if (!colon || he == hb || (size_t)(he - hb) >= sizeof host || e - colon < 2 ||
      e - colon > 6)
    return SB_EPARSE;
  long port = 0;
  for (const char *p = colon + 1; p < e; p++) {
    if (*p < '0' || *p > '9')
      return SB_EPARSE;
    port = port * 10 + (*p - '0');
  }
  if (port < 1 || port > 65535)
    return SB_EPARSE;
  memcpy(host, hb, (size_t)(he - hb));
  host[he - hb] = '\0';
  node_t *n = node_add(cl, host, (int)port);
  if (!n)
    return SB_ENOMEM;
  n->seed = 1;
  return 0;
}

static int parse_url(sb_redis_cluster_t *cl, const char *url) {
  const char *s = url + strlen(SB_REDIS_CLUSTER_SCHEME);
  const char *at = strrchr(s, '@');
  if (at) {
    if (!memchr(s, ':', (size_t)(at - s)))
      return SB_EPARSE;
    if (!(cl->userinfo = strndup(s, (size_t)(at - s) + 1)))
      return SB_ENOMEM;
    s = at + 1;
  }
  if (*s == '\0')
    return SB_EPARSE;
  for (;;) {
    const char *e = s + strcspn(s, ",");
    int rc = parse_seed(cl, s, e);
    if (rc != 0 || *e == '\0')
      return rc;
    s = e + 1;
  }
}

static void on_timer_closed(uv_handle_t *h) {
  sb_redis_cluster_t *cl = h->data;
  for (int i = 0; i < cl->nscripts; i++) {
    free(cl->scripts[i].name);
    free(cl->scripts[i].source);
  }
  free(cl->scripts);
  free(cl->slots);
  free(cl->userinfo);
  free(cl);
}

sb_redis_cluster_t *sb_redis_cluster_new(uv_loop_t *loop, const char *url,
                                         const sb_redis_opts_t *opts) {
  if (!loop || !sb_redis_cluster_is_url(url))
    return NULL;
  sb_redis_cluster_t *cl = calloc(1, sizeof *cl);
  if (!cl)
    return NULL;
  cl->loop = loop;
  if (opts)
    cl->opts = *opts; /* zero fields: each node takes the defaults */
  uv_timer_init(loop, &cl->refresh_timer);
  cl->refresh_timer.data = cl;
  int rc = (cl->slots = calloc(SB_REDIS_CLUSTER_SLOTS, sizeof *cl->slots))
               ? parse_url(cl, url)
               : SB_ENOMEM;
  if (rc != 0) {
    if (rc == SB_EPARSE) /* never log the url: it may hold a password */
      sb_log(SB_LOG_ERROR, "redis_bad_url", NULL);
    sb_redis_cluster_destroy(&cl);
    return NULL;
  }
  arm_refresh(cl); /* reads the map as soon as a seed answers */
  return cl;
}

void sb_redis_cluster_destroy(sb_redis_cluster_t **cp) {
  if (!cp || !*cp)
    return;
  sb_redis_cluster_t *cl = *cp;
  *cp = NULL;
  if (cl->closing)
    return;
  cl->closing = 1;
  cl->state_fn = NULL;
  uv_timer_stop(&cl->refresh_timer);
  node_t *all[SB_REDIS_CLUSTER_NODES_MAX];
  int n = cl->nnodes;
  memcpy(all, cl->nodes, sizeof *all * (size_t)n);
  cl->nnodes = 0;
  cl->map_known = 0;
  nodes_free(cl, all, n);
  uv_close((uv_handle_t *)&cl->refresh_timer, on_timer_closed);
}
