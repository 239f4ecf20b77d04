/*
 * sb_peers: discovery of the next stage's receivers (see sb_peers.h).
 *
 * A refresh expands the spec into the wanted endpoints: literal items
 * directly, "@file" items by reading the file, names by uv_getaddrinfo on
 * libuv's thread pool (the loop never blocks on DNS). When the last lookup
 * is answered the wanted set is applied to the socket.
 */
#include "sb_peers.h"
#include "sb_error.h"
#include "sb_log.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

#define SB_PEERS_FILE_LINE_MAX 1024

typedef char endpoint_t[SB_PEERS_ENDPOINT_MAX];

struct sb_peers {
  sb_zsock_t *z;
  char *spec;
  sb_peers_opts_t o;
  int dynamic; /* the spec names a host or a file: refresh periodically */
  uv_loop_t *loop;
  uv_timer_t timer;
  endpoint_t *connected, *wanted;
  size_t nconnected, nwanted;
  size_t lookups_pending; /* of the refresh in progress (+1 while expanding) */
  int refreshing, refresh_failed;
  int closing, timer_closed;
  sb_gauge_t *count;
  sb_counter_t *failed, *joined, *left;
};

typedef struct {
  uv_getaddrinfo_t req;
  sb_peers_t *p;
  char host[SB_PEERS_ENDPOINT_MAX];
  char port[16];
} lookup_t;

int sb_peers_split(const char *endpoint, char *host, size_t hcap, char *port, size_t pcap) {
  if (!endpoint || strncmp(endpoint, "tcp://", 6) != 0)
    return SB_EINVAL;
  const char *h = endpoint + 6, *colon;
  size_t hlen;
  if (*h == '[') { /* [v6]:port */
    const char *close = strchr(h, ']');
    if (!close || close[1] != ':')
      return SB_EINVAL;
    h++;
    hlen = (size_t)(close - h);
    colon = close + 1;
  } else {
    colon = strrchr(h, ':');
    if (!colon)
      return SB_EINVAL;
    hlen = (size_t)(colon - h);
  }
  const char *pt = colon + 1;
  size_t plen = strlen(pt);
  if (hlen == 0 || hlen >= hcap || plen == 0 || plen >= pcap || strspn(pt, "0123456789") != plen)
    return SB_EINVAL;
  memcpy(host, h, hlen);
  host[hlen] = '\0';
  memcpy(port, pt, plen + 1);
  return 0;
}

int sb_peers_is_literal(const char *host) {
  unsigned char buf[16];
  return strcmp(host, "*") == 0 || inet_pton(AF_INET, host, buf) == 1 || inet_pton(AF_INET6, host, buf) == 1;
}

static int has(endpoint_t *set, size_t n, const char *ep) {
  for (size_t i = 0; i < n; i++)
    if (strcmp(set[i], ep) == 0)
      return 1;
  return 0;
}

static void want(sb_peers_t *p, const char *ep) {
  if (strlen(ep) >= SB_PEERS_ENDPOINT_MAX || has(p->wanted, p->nwanted, ep))
    return;
  if (p->nwanted == SB_PEERS_MAX) {
    sb_log(SB_LOG_WARN, "peers_too_many", "max", "256", "dropped", ep, NULL);
    return;
  }
  snprintf(p->wanted[p->nwanted++], SB_PEERS_ENDPOINT_MAX, "%s", ep);
}

static void fail(sb_peers_t *p, const char *what, const char *item, const char *why) {
  p->refresh_failed = 1;
  if (p->failed)
    sb_counter_add(p->failed, 1);
  sb_log(SB_LOG_WARN, "peers_refresh_failed", what, item, "error", why, NULL);
}

static void maybe_free(sb_peers_t *p) {
  if (p->closing && p->timer_closed && p->lookups_pending == 0) {
    free(p->connected);
    free(p->wanted);
    free(p->spec);
    free(p);
  }
}

/* Connects what appeared; unless a lookup failed, disconnects what went. */
static void apply(sb_peers_t *p) {
  size_t removed = 0;
  for (size_t i = 0; i < p->nwanted; i++) {
    if (has(p->connected, p->nconnected, p->wanted[i]))
      continue;
    if (p->nconnected == SB_PEERS_MAX || sb_zsock_connect(p->z, p->wanted[i]) != 0) {
      fail(p, "endpoint", p->wanted[i], zmq_strerror(zmq_errno()));
      continue;
    }
    memcpy(p->connected[p->nconnected++], p->wanted[i], SB_PEERS_ENDPOINT_MAX);
    if (p->joined)
      sb_counter_add(p->joined, 1);
    sb_log(SB_LOG_INFO, "peer_joined", "endpoint", p->wanted[i], NULL);
  }
  for (size_t i = 0; !p->refresh_failed && i < p->nconnected;) {
    if (has(p->wanted, p->nwanted, p->connected[i])) {
      i++;
      continue;
    }
    sb_log(SB_LOG_INFO, "peer_left", "endpoint", p->connected[i], NULL);
    zmq_disconnect(sb_zsock_raw(p->z), p->connected[i]);
    memcpy(p->connected[i], p->connected[--p->nconnected], SB_PEERS_ENDPOINT_MAX);
    removed++;
    if (p->left)
      sb_counter_add(p->left, 1);
  }
  if (p->count)
    sb_gauge_set(p->count, (double)p->nconnected);
  if (p->nconnected == 0)
    sb_log(SB_LOG_WARN, "peers_none", "spec", p->spec, NULL);
  if (removed && p->o.removed)
    p->o.removed(p->o.arg);
}

static void lookup_done(sb_peers_t *p) {
  if (--p->lookups_pending)
    return;
  p->refreshing = 0;
  if (p->closing)
    maybe_free(p);
  else
    apply(p);
}

static void on_resolved(uv_getaddrinfo_t *req, int status, struct addrinfo *res) {
  lookup_t *l = req->data;
  sb_peers_t *p = l->p;
  if (status != 0) {
    fail(p, "host", l->host, uv_strerror(status));
  } else {
    for (struct addrinfo *ai = res; ai; ai = ai->ai_next) {
      char addr[INET6_ADDRSTRLEN], ep[SB_PEERS_ENDPOINT_MAX];
      const void *a = ai->ai_family == AF_INET ? (const void *)&((struct sockaddr_in *)ai->ai_addr)->sin_addr
                      : ai->ai_family == AF_INET6
                          ? (const void *)&((struct sockaddr_in6 *)ai->ai_addr)->sin6_addr
                          : NULL;
      if (!a || !inet_ntop(ai->ai_family, a, addr, sizeof addr))
        continue;
      snprintf(ep, sizeof ep, ai->ai_family == AF_INET6 ? "tcp://[%s]:%s" : "tcp://%s:%s", addr, l->port);
      want(p, ep);
    }
  }
  uv_freeaddrinfo(res);
  free(l);
  lookup_done(p);
}

static void resolve(sb_peers_t *p, const char *host, const char *port) {
  lookup_t *l = calloc(1, sizeof *l);
  if (!l) {
    fail(p, "host", host, "out of memory");
    return;
  }
  l->p = p;
  l->req.data = l;
  snprintf(l->host, sizeof l->host, "%s", host);
  snprintf(l->port, sizeof l->port, "%s", port);
  struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM};
  p->lookups_pending++;
  int rc = uv_getaddrinfo(p->loop, &l->req, on_resolved, l->host, l->port, &hints);
  if (rc) {
    p->lookups_pending--;
    fail(p, "host", host, uv_strerror(rc));
    free(l);
  }
}

/* One endpoint of the spec or of a file. */
static void expand_endpoint(sb_peers_t *p, const char *ep) {
  char host[SB_PEERS_ENDPOINT_MAX], port[16];
  if (sb_peers_split(ep, host, sizeof host, port, sizeof port) == 0 && !sb_peers_is_literal(host))
    resolve(p, host, port);
  else
    want(p, ep);
}

static char *trim(char *s) {
  while (*s == ' ' || *s == '\t')
    s++;
  char *hash = strchr(s, '#');
  if (hash)
    *hash = '\0';
  size_t n = strlen(s);
  while (n && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\n' || s[n - 1] == '\r'))
    s[--n] = '\0';
  return s;
}

static void expand_file(sb_peers_t *p, const char *path) {
  FILE *f = fopen(path, "r");
  if (!f) {
    fail(p, "file", path, strerror(errno));
    return;
  }
  char line[SB_PEERS_FILE_LINE_MAX];
  while (fgets(line, sizeof line, f)) {
    char *ep = trim(line);
    if (*ep && *ep != '@') /* a file does not include files */
      expand_endpoint(p, ep);
  }
  if (ferror(f))
    fail(p, "file", path, "read error");
  fclose(f);
}

/* Calls fn for each item of the comma-separated spec, trimmed. */
static int each_item(const char *spec, int (*fn)(void *, char *), void *arg) {
  char *copy = strdup(spec), *rest = copy, *it;
  if (!copy)
    return SB_ENOMEM;
  int rc = 0;
  while (!rc && (it = strsep(&rest, ",")) != NULL) /* strsep: "a,,b" has an empty item */
    rc = fn(arg, trim(it));
  free(copy);
  return rc;
}

static int expand_item(void *arg, char *item) {
  sb_peers_t *p = arg;
  if (*item == '@')
    expand_file(p, item + 1);
  else if (*item)
    expand_endpoint(p, item);
  return 0;
}

void sb_peers_refresh(sb_peers_t *p) {
  if (p->closing || p->refreshing)
    return;
  p->refreshing = 1;
  p->refresh_failed = 0;
  p->nwanted = 0;
  p->lookups_pending = 1; /* held while expanding, so a fast answer cannot apply half a set */
  each_item(p->spec, expand_item, p);
  lookup_done(p);
}

static void on_timer(uv_timer_t *t) { sb_peers_refresh(t->data); }

typedef struct {
  const char **why;
  int dynamic;
} check_t;

static int check_item(void *arg, char *item) {
  check_t *c = arg;
  char host[SB_PEERS_ENDPOINT_MAX], port[16];
  if (!*item) {
    *c->why = "empty endpoint in the list";
    return SB_EINVAL;
  }
  if (*item == '@') {
    if (item[1] != '/') {
      *c->why = "an endpoint file must be an absolute path (@/path)";
      return SB_EINVAL;
    }
    c->dynamic = 1;
    return 0;
  }
  if (strlen(item) >= SB_PEERS_ENDPOINT_MAX) {
    *c->why = "endpoint too long";
    return SB_EINVAL;
  }
  if (strncmp(item, "tcp://", 6) == 0) {
    if (sb_peers_split(item, host, sizeof host, port, sizeof port) != 0) {
      *c->why = "a tcp endpoint must be tcp://HOST:PORT";
      return SB_EINVAL;
    }
    if (!sb_peers_is_literal(host))
      c->dynamic = 1;
  }
  return 0;
}

/* 0 (static list), 1 (names or files: refresh), or SB_EINVAL / SB_ENOMEM. */
static int check_spec(const char *spec, const char **why) {
  check_t c = {why, 0};
  *why = "out of memory";
  if (!spec || !*spec) {
    *why = "no endpoint";
    return SB_EINVAL;
  }
  int rc = each_item(spec, check_item, &c);
  return rc ? rc : c.dynamic;
}

int sb_peers_check(const char *spec, const char **why) {
  const char *dummy;
  int rc = check_spec(spec, why ? why : &dummy);
  return rc < 0 ? rc : 0;
}

sb_peers_t *sb_peers_new(uv_loop_t *loop, sb_zsock_t *z, const char *spec, const sb_peers_opts_t *o,
                         const char **why) {
  const char *dummy;
  if (!why)
    why = &dummy;
  int dynamic = check_spec(spec, why);
  if (dynamic < 0)
    return NULL;
  *why = "out of memory";
  sb_peers_t *p = calloc(1, sizeof *p);
  if (!p)
    return NULL;
  p->z = z;
  p->loop = loop;
  p->o = *o;
  p->dynamic = dynamic;
  p->spec = strdup(spec);
  p->connected = calloc(SB_PEERS_MAX, sizeof *p->connected);
  p->wanted = calloc(SB_PEERS_MAX, sizeof *p->wanted);
  if (!p->spec || !p->connected || !p->wanted) {
    free(p->spec);
    free(p->connected);
    free(p->wanted);
    free(p);
    return NULL;
  }
  if (o->metrics) {
    const char *l = o->labels ? o->labels : "";
    p->count = sb_metrics_gauge(o->metrics, "sb_peers_connected", "receivers this sender is connected to", l);
    p->joined = sb_metrics_counter(o->metrics, "sb_peers_joined_total", "receivers discovered and connected", l);
    p->left = sb_metrics_counter(o->metrics, "sb_peers_left_total", "receivers gone from DNS or the file, disconnected", l);
    p->failed = sb_metrics_counter(o->metrics, "sb_peers_refresh_failed_total",
                                   "lookups or endpoint files that failed (the connected set was kept)", l);
  }
  uv_timer_init(loop, &p->timer);
  p->timer.data = p;
  sb_peers_refresh(p); /* literal endpoints are connected before this returns */
  if (p->dynamic && o->refresh_ms > 0)
    uv_timer_start(&p->timer, on_timer, (uint64_t)o->refresh_ms, (uint64_t)o->refresh_ms);
  return p;
}

static void on_timer_closed(uv_handle_t *h) {
  sb_peers_t *p = h->data;
  p->timer_closed = 1;
  maybe_free(p);
}

void sb_peers_destroy(sb_peers_t **pp) {
  sb_peers_t *p = *pp;
  if (!p)
    return;
  *pp = NULL;
  p->closing = 1;
  uv_close((uv_handle_t *)&p->timer, on_timer_closed);
}

size_t sb_peers_count(const sb_peers_t *p) { return p ? p->nconnected : 0; }
