/*
 * sb_zap: ZAP answers and handshake-failure monitors (see sb_zap.h).
 *
 * Invariant: every ZAP request read gets exactly one reply (REP socket:
 * the next request cannot be read before it), so libzmq never stalls a
 * handshake waiting for us. Requests are answered in the reader callback,
 * at most ZAP_PER_TURN per loop turn.
 */
#include "sb_zap.h"
#include "sb_error.h"
#include "sb_log.h"
#include "sb_zsock.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ZAP_PER_TURN 64
#define ZAP_REQUEST_PARTS                                                      \
  7 /* version, id, domain, address, identity, mechanism, key */

struct sb_zap {
  uv_loop_t *loop;
  void *zctx;
  sb_curve_t *curve;
  sb_zsock_t *rep;
  sb_zsock_t *monitors[SB_ZAP_WATCH_MAX];
  size_t nmonitors;
  uint64_t accepted, rejected;
  const char *socket; /* the edge socket's name, or NULL for the bus */
  sb_counter_t *c_unlisted, *c_handshake;
};

static int part_is(const zmq_msg_t *m, const char *s) {
  size_t n = strlen(s);
  return zmq_msg_size((zmq_msg_t *)m) == n &&
         memcmp(zmq_msg_data((zmq_msg_t *)m), s, n) == 0;
}

/* Counts a refusal; logs the 1st, 2nd, 4th, 8th... so that a peer retrying
 * every 100 ms cannot flood the log (the metric has the exact count). */
static void reject(sb_zap_t *z, sb_counter_t *c, const char *reason) {
  z->rejected++;
  if (c)
    sb_counter_add(c, 1);
  if ((z->rejected & (z->rejected - 1)) == 0) {
    char total[24];
    snprintf(total, sizeof total, "%llu", (unsigned long long)z->rejected);
    sb_log(SB_LOG_WARN, "zmq_auth_rejected", "reason", reason, "rejected_total",
           total, z->socket ? "socket" : NULL, z->socket, NULL);
  }
}

/* 1 if the request is a CURVE request for our domain whose key is allowed. */
static int decide(sb_zap_t *z, zmq_msg_t *p, size_t n) {
  if (n != ZAP_REQUEST_PARTS || !part_is(&p[0], "1.0") ||
      !part_is(&p[5], "CURVE") || zmq_msg_size(&p[6]) != 32)
    return 0;
  return sb_curve_allowed(z->curve, zmq_msg_data(&p[6]));
}

/* The reply's User-Id is the tenant the key is bound to ("" = any): libzmq
 * attaches it to every message of that connection (zmq_msg_gets). */
static void answer(sb_zap_t *z, zmq_msg_t *p, size_t n) {
  int ok = decide(z, p, n);
  if (ok)
    z->accepted++;
  else
    reject(z, z->c_unlisted, "unlisted_key");
  const char *status = ok ? "200" : "400",
             *text = ok ? "OK" : "client key not allowed",
             *user = ok ? sb_curve_client_tenant(z->curve, zmq_msg_data(&p[6]))
                        : "";
  const void *data[] = {
      "1.0", n > 1 ? zmq_msg_data(&p[1]) : "", status, text, user, ""};
  size_t lens[] = {3, n > 1 ? zmq_msg_size(&p[1]) : 0, 3, strlen(text),
                   strlen(user), 0};
  sb_zsock_send(z->rep, data, lens, 6);
}

static void on_request(sb_zsock_t *s, void *arg) {
  sb_zap_t *z = arg;
  zmq_msg_t parts[SB_ZSOCK_MAX_PARTS];
  size_t n;
  for (int i = 0; i < ZAP_PER_TURN; i++) {
    int rc = sb_zsock_recv(s, parts, SB_ZSOCK_MAX_PARTS, &n);
    if (rc == SB_EAGAIN)
      return;
    if (rc != 0) { /* too many parts: still owe a reply */
      answer(z, parts, 0);
      continue;
    }
    answer(z, parts, n);
    for (size_t k = 0; k < n; k++)
      zmq_msg_close(&parts[k]);
  }
}

static void on_monitor(sb_zsock_t *s, void *arg) {
  sb_zap_t *z = arg;
  zmq_msg_t parts[2];
  size_t n;
  for (int i = 0; i < ZAP_PER_TURN && sb_zsock_recv(s, parts, 2, &n) == 0;
       i++) {
    uint16_t ev = 0;
    if (zmq_msg_size(&parts[0]) >= sizeof ev)
      memcpy(&ev, zmq_msg_data(&parts[0]), sizeof ev);
    if (ev & (ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL |
              ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL))
      reject(z, z->c_handshake, "handshake");
    for (size_t k = 0; k < n; k++)
      zmq_msg_close(&parts[k]);
  }
}

/* sb_curve_server_fn: watch a new CURVE server socket's failed handshakes
 * (ZAP denials are counted by the handler, so AUTH failures are not). */
static void watch(void *arg, void *sock) {
  sb_zap_t *z = arg;
  if (z->nmonitors == SB_ZAP_WATCH_MAX)
    return;
  char ep[64];
  snprintf(ep, sizeof ep, "inproc://sb-zap-monitor-%p", sock);
  int events = ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL |
               ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL;
  if (zmq_socket_monitor(sock, ep, events) != 0)
    return;
  sb_zsock_t *m = sb_zsock_new(z->loop, z->zctx, ZMQ_PAIR);
  if (!m || sb_zsock_connect(m, ep) != 0) {
    sb_zsock_destroy(&m);
    zmq_socket_monitor(sock, NULL, 0);
    return;
  }
  sb_zsock_on_readable(m, on_monitor, z);
  z->monitors[z->nmonitors++] = m;
}

/* The two refusal counters; an edge handler's carry socket="<name>". */
static void count_in(sb_zap_t *z, sb_metrics_t *metrics, const char *socket) {
  const char *help = "ZeroMQ peers refused by CURVE authentication";
  char prefix[48] = "", unlisted[96], handshake[96];
  if (socket)
    snprintf(prefix, sizeof prefix, "socket=\"%s\",", socket);
  snprintf(unlisted, sizeof unlisted, "%sreason=\"unlisted_key\"", prefix);
  snprintf(handshake, sizeof handshake, "%sreason=\"handshake\"", prefix);
  z->c_unlisted = sb_metrics_counter(metrics, "sb_zmq_auth_rejected_total",
                                     help, unlisted);
  z->c_handshake = sb_metrics_counter(metrics, "sb_zmq_auth_rejected_total",
                                      help, handshake);
}

static sb_zap_t *zap_new(uv_loop_t *loop, void *zctx, sb_curve_t *curve,
                         sb_metrics_t *metrics, const char *socket) {
  sb_zap_t *z = calloc(1, sizeof *z);
  if (!z)
    return NULL;
  z->loop = loop;
  z->zctx = zctx;
  z->curve = curve;
  z->rep = sb_zsock_new(loop, zctx, ZMQ_REP);
  if (!z->rep || sb_zsock_bind(z->rep, SB_ZAP_ENDPOINT) != 0) {
    sb_zsock_destroy(&z->rep);
    free(z);
    return NULL;
  }
  z->socket = socket;
  if (metrics)
    count_in(z, metrics, socket);
  sb_zsock_on_readable(z->rep, on_request, z);
  sb_curve_on_server(curve, watch, z);
  return z;
}

sb_zap_t *sb_zap_new(uv_loop_t *loop, void *zctx, sb_curve_t *curve,
                     sb_metrics_t *metrics) {
  return zap_new(loop, zctx, curve, metrics, NULL);
}

void sb_zap_destroy(sb_zap_t **zp) {
  sb_zap_t *z = *zp;
  if (!z)
    return;
  *zp = NULL;
  sb_curve_on_server(z->curve, NULL, NULL);
  for (size_t i = 0; i < z->nmonitors; i++)
    sb_zsock_destroy(&z->monitors[i]);
  sb_zsock_destroy(&z->rep);
  free(z);
}

uint64_t sb_zap_accepted(const sb_zap_t *z) { return z->accepted; }
uint64_t sb_zap_rejected(const sb_zap_t *z) { return z->rejected; }

/* ---- the edge: one outside-facing server socket ---------------------- */

struct sb_zap_edge {
  void *zctx;
  sb_curve_t *curve;
  sb_zap_t *zap;
};

int sb_zap_edge_new(uv_loop_t *loop, const sb_config_t *cfg,
                    sb_metrics_t *metrics, const char *socket,
                    sb_zap_edge_t **out, char *err, size_t errlen) {
  *out = NULL;
  sb_curve_t *curve = NULL;
  int rc = sb_curve_edge_from_config(cfg, &curve, err, errlen);
  if (rc || !curve)
    return rc;
  sb_zap_edge_t *e = calloc(1, sizeof *e);
  if (e) {
    e->curve = curve;
    e->zctx = zmq_ctx_new();
    e->zap = e->zctx ? zap_new(loop, e->zctx, curve, metrics, socket) : NULL;
  }
  if (!e || !e->zap) {
    snprintf(err, errlen, "cannot start the edge ZAP handler");
    sb_zap_edge_destroy(&e);
    sb_curve_destroy(&curve);
    return SB_EZMQ;
  }
  char n[24];
  snprintf(n, sizeof n, "%zu", sb_curve_nclients(curve));
  sb_log(SB_LOG_INFO, "edge_curve_on", "socket", socket, "allowed_clients", n,
         NULL);
  *out = e;
  return 0;
}

void *sb_zap_edge_context(sb_zap_edge_t *e) { return e->zctx; }
const sb_curve_t *sb_zap_edge_curve(const sb_zap_edge_t *e) { return e->curve; }
const sb_zap_t *sb_zap_edge_handler(const sb_zap_edge_t *e) { return e->zap; }

void sb_zap_edge_destroy(sb_zap_edge_t **ep) {
  sb_zap_edge_t *e = *ep;
  if (!e)
    return;
  *ep = NULL;
  sb_zap_destroy(&e->zap);
  if (e->zctx)
    zmq_ctx_term(e->zctx); /* every socket of it is closed (linger 0) */
  sb_curve_destroy(&e->curve);
  free(e);
}
