/* sbctl_client: see sbctl_client.h. */
#include "sbctl_client.h"
#include "sb_curve.h"
#include "sb_time.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

typedef struct node {
  struct node *next;
  sb_envelope_t *env;
} node_t;

typedef struct {
  uint64_t correlation; /* 0 = free slot */
  int64_t sent_ms;
  size_t n;
  sb_envelope_t *events[SBCTL_BATCH_MAX];
} slot_t;

struct sbctl_client {
  void *zctx, *sock;
  void *monitor; /* PAIR end of sock's event monitor (resends on), or NULL */
  node_t *head, *tail;
  size_t queued, inflight_events;
  slot_t slots[SBCTL_WINDOW];
  uint64_t next_correlation;
  int64_t pause_until_ms;
  int resend_ms; /* sbctl_client_resend_after; 0 = never */
  sbctl_client_stats_t st;
  char last_error[256];
};

sbctl_client_t *sbctl_client_new(void *zctx, const char *endpoint) {
  return sbctl_client_new_curve(zctx, endpoint, NULL);
}

/* Connects sock to every endpoint of a comma-separated list; 0 or -1. */
static int connect_all(void *sock, const char *endpoints) {
  char *copy = strdup(endpoints), *save = NULL;
  int n = 0, rc = copy ? 0 : -1;
  for (char *e = copy ? strtok_r(copy, ",", &save) : NULL; e && rc == 0; e = strtok_r(NULL, ",", &save), n++)
    rc = zmq_connect(sock, e);
  free(copy);
  return rc == 0 && n > 0 ? 0 : -1;
}

sbctl_client_t *sbctl_client_new_curve(void *zctx, const char *endpoint, const sb_curve_t *curve) {
  sbctl_client_t *c = calloc(1, sizeof *c);
  if (!c)
    return NULL;
  c->zctx = zctx;
  c->sock = zmq_socket(zctx, ZMQ_DEALER);
  if (!c->sock) {
    free(c);
    return NULL;
  }
  /* Several ingests: a request goes only to one whose connection is up
   * (not queued for one that is restarting). One endpoint keeps queueing
   * while it is away, as before. */
  int linger = 0, immediate = strchr(endpoint, ',') != NULL;
  zmq_setsockopt(c->sock, ZMQ_LINGER, &linger, sizeof linger);
  zmq_setsockopt(c->sock, ZMQ_IMMEDIATE, &immediate, sizeof immediate);
  if ((sb_curve_enabled(curve) && sb_curve_client(curve, c->sock) != 0) || connect_all(c->sock, endpoint) != 0) {
    zmq_close(c->sock);
    free(c);
    return NULL;
  }
  return c;
}

static void free_list(node_t *n) {
  while (n) {
    node_t *next = n->next;
    sb_envelope_free(n->env);
    free(n);
    n = next;
  }
}

void sbctl_client_destroy(sbctl_client_t **cp) {
  sbctl_client_t *c = *cp;
  if (!c)
    return;
  *cp = NULL;
  free_list(c->head);
  for (int i = 0; i < SBCTL_WINDOW; i++)
    for (size_t k = 0; c->slots[i].correlation && k < c->slots[i].n; k++)
      sb_envelope_free(c->slots[i].events[k]);
  if (c->monitor) {
    zmq_socket_monitor(c->sock, NULL, 0);
    zmq_close(c->monitor);
  }
  zmq_close(c->sock);
  free(c);
}

void sbctl_client_queue(sbctl_client_t *c, sb_envelope_t *env) {
  node_t *n = calloc(1, sizeof *n);
  if (!n) {
    sb_envelope_free(env);
    return;
  }
  n->env = env;
  if (c->tail)
    c->tail->next = n;
  else
    c->head = n;
  c->tail = n;
  c->queued++;
}

static slot_t *free_slot(sbctl_client_t *c) {
  for (int i = 0; i < SBCTL_WINDOW; i++)
    if (!c->slots[i].correlation)
      return &c->slots[i];
  return NULL;
}

/* 0, or -1 when the request could not be handed to ZeroMQ now. */
static int send_slot(sbctl_client_t *c, slot_t *s) {
  Switchboard__V1__PublishRequest req = SWITCHBOARD__V1__PUBLISH_REQUEST__INIT;
  req.correlation = s->correlation;
  req.n_events = s->n;
  req.events = s->events;
  int64_t now = sb_now_us();
  for (size_t i = 0; i < s->n; i++)
    if (!s->events[i]->published_us) /* an open-loop sender stamps the intended time */
      s->events[i]->published_us = now;
  size_t len = switchboard__v1__publish_request__get_packed_size(&req);
  uint8_t *buf = malloc(len ? len : 1);
  if (!buf)
    return -1;
  switchboard__v1__publish_request__pack(&req, buf);
  /* Never blocks: with ZMQ_IMMEDIATE and no ingest connected, it fails and
   * the caller puts the events back (one endpoint never fails here: its
   * pipe holds far more than SBCTL_WINDOW requests). */
  int rc = zmq_send(c->sock, buf, len, ZMQ_DONTWAIT);
  free(buf);
  if (rc < 0)
    return -1;
  s->sent_ms = sb_now_ms();
  c->st.sent += s->n;
  return 0;
}

/* Watches sock for a dropped connection (an ingest that stopped or died):
 * what it had not answered is lost with it. Best effort: without the
 * monitor, resend_ms still covers it. */
static void watch_disconnects(sbctl_client_t *c) {
  char ep[64];
  snprintf(ep, sizeof ep, "inproc://sbctl-client-monitor-%p", (void *)c);
  if (c->monitor || zmq_socket_monitor(c->sock, ep, ZMQ_EVENT_DISCONNECTED) != 0)
    return;
  int linger = 0;
  c->monitor = zmq_socket(c->zctx, ZMQ_PAIR);
  if (c->monitor)
    zmq_setsockopt(c->monitor, ZMQ_LINGER, &linger, sizeof linger);
  if (c->monitor && zmq_connect(c->monitor, ep) != 0) {
    zmq_close(c->monitor);
    c->monitor = NULL;
  }
  if (!c->monitor)
    zmq_socket_monitor(c->sock, NULL, 0);
}

void sbctl_client_resend_after(sbctl_client_t *c, int ms) {
  c->resend_ms = ms > 0 ? ms : 0;
  if (c->resend_ms)
    watch_disconnects(c);
}

/* 1 when a connection dropped since the last call (monitor events are two
 * frames: event number and value, then the endpoint). */
static int disconnected(sbctl_client_t *c) {
  int seen = 0;
  zmq_msg_t m;
  while (c->monitor) {
    zmq_msg_init(&m);
    if (zmq_msg_recv(&m, c->monitor, ZMQ_DONTWAIT) < 0) {
      zmq_msg_close(&m);
      break;
    }
    uint16_t event = 0;
    if (zmq_msg_size(&m) >= sizeof event)
      memcpy(&event, zmq_msg_data(&m), sizeof event);
    seen |= event == ZMQ_EVENT_DISCONNECTED;
    while (zmq_msg_more(&m) && zmq_msg_recv(&m, c->monitor, ZMQ_DONTWAIT) >= 0)
      ;
    zmq_msg_close(&m);
  }
  return seen;
}

/* Puts a slot's events back at the head of the queue, in order, and frees
 * the slot; a late reply to it no longer matches. */
static void unsend(sbctl_client_t *c, slot_t *s) {
  for (size_t i = s->n; i-- > 0;) {
    node_t *n = calloc(1, sizeof *n);
    if (!n) {
      sb_envelope_free(s->events[i]);
      continue;
    }
    n->env = s->events[i];
    n->next = c->head;
    c->head = n;
    if (!c->tail)
      c->tail = n;
    c->queued++;
  }
  c->inflight_events -= s->n;
  s->correlation = 0;
}

/* Requeues the events of requests unanswered for resend_ms, or of every
 * unanswered request when a connection dropped: which ingest had which is
 * not known, and a resend of one that was answered is only a duplicate. */
static void requeue_expired(sbctl_client_t *c) {
  int64_t now = sb_now_ms();
  int all = disconnected(c);
  for (int k = 0; c->resend_ms && k < SBCTL_WINDOW; k++) {
    slot_t *s = &c->slots[k];
    if (!s->correlation || (!all && now - s->sent_ms < c->resend_ms))
      continue;
    c->st.resent += s->n;
    unsend(c, s);
  }
}

void sbctl_client_pump(sbctl_client_t *c) {
  requeue_expired(c);
  if (sb_now_ms() < c->pause_until_ms)
    return;
  slot_t *s;
  while (c->head && (s = free_slot(c))) {
    s->correlation = ++c->next_correlation;
    s->n = 0;
    while (c->head && s->n < SBCTL_BATCH_MAX) {
      node_t *n = c->head;
      c->head = n->next;
      if (!c->head)
        c->tail = NULL;
      s->events[s->n++] = n->env;
      free(n);
      c->queued--;
      c->inflight_events++;
    }
    if (send_slot(c, s) != 0) {
      unsend(c, s); /* no ingest connected: try again at the next pump */
      return;
    }
  }
}

static void on_ack(sbctl_client_t *c, slot_t *s, size_t i, const Switchboard__V1__Ack *a) {
  switch (a->code) {
  case SWITCHBOARD__V1__ACK_CODE__ACK_OK: c->st.ok++; break;
  case SWITCHBOARD__V1__ACK_CODE__ACK_DUPLICATE: c->st.duplicate++; break;
  case SWITCHBOARD__V1__ACK_CODE__ACK_RETRY_LATER:
    c->st.retried++;
    c->pause_until_ms = sb_now_ms() + 100;
    sbctl_client_queue(c, s->events[i]);
    s->events[i] = NULL;
    return;
  default:
    a->code == SWITCHBOARD__V1__ACK_CODE__ACK_UNKNOWN_TENANT ? c->st.unknown_tenant++ : c->st.invalid++;
    snprintf(c->last_error, sizeof c->last_error, "%s: %s", a->id, a->message);
  }
}

static void on_reply(sbctl_client_t *c, const Switchboard__V1__PublishReply *rep) {
  for (int k = 0; k < SBCTL_WINDOW; k++) {
    slot_t *s = &c->slots[k];
    if (s->correlation != rep->correlation || !s->correlation)
      continue;
    for (size_t i = 0; i < s->n; i++) {
      if (i < rep->n_acks)
        on_ack(c, s, i, rep->acks[i]);
      else
        c->st.invalid++;
      sb_envelope_free(s->events[i]);
    }
    c->inflight_events -= s->n;
    s->correlation = 0;
    return;
  }
}

void sbctl_client_on_readable(sbctl_client_t *c) {
  for (;;) {
    zmq_msg_t m;
    zmq_msg_init(&m);
    if (zmq_msg_recv(&m, c->sock, ZMQ_DONTWAIT) < 0) {
      zmq_msg_close(&m);
      break;
    }
    Switchboard__V1__PublishReply *rep =
        switchboard__v1__publish_reply__unpack(NULL, zmq_msg_size(&m), zmq_msg_data(&m));
    zmq_msg_close(&m);
    if (rep) {
      on_reply(c, rep);
      switchboard__v1__publish_reply__free_unpacked(rep, NULL);
    }
  }
  sbctl_client_pump(c);
}

size_t sbctl_client_outstanding(const sbctl_client_t *c) { return c->queued + c->inflight_events; }
void *sbctl_client_socket(sbctl_client_t *c) { return c->sock; }
void sbctl_client_stats(const sbctl_client_t *c, sbctl_client_stats_t *s) { *s = c->st; }
const char *sbctl_client_last_error(const sbctl_client_t *c) { return c->last_error; }
