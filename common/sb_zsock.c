/*
 * sb_zsock: ZeroMQ on libuv (see sb_zsock.h for the edge-trigger rules).
 *
 * Invariant: whenever the loop may block, either the readiness checker has
 * just run (prepare) and found nothing to do, or the idle handle is active.
 * The owner struct embeds its four uv handles and is freed in the last
 * close callback.
 */
#include "sb_zsock.h"
#include "sb_curve.h"
#include "sb_error.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct outmsg {
  struct outmsg *next;
  size_t n;
  zmq_msg_t parts[SB_ZSOCK_MAX_PARTS];
} outmsg_t;

struct sb_zsock {
  void *sock;
  uv_poll_t poll;
  uv_prepare_t prepare;
  uv_check_t check;
  uv_idle_t idle;
  int closing;
  int handles_open;
  int paused;
  int in_service; /* guards against re-entry from a callback */
  sb_zsock_readable_fn fn;
  void *arg;
  outmsg_t *out_head, *out_tail;
  size_t out_len;
  const sb_curve_t *curve; /* borrowed; NULL = NULL mechanism */
  void *owned_arg;         /* freed with the socket (a monitor's callback) */
};

static int events_of(sb_zsock_t *z) {
  int ev = 0;
  size_t sz = sizeof ev;
  if (zmq_getsockopt(z->sock, ZMQ_EVENTS, &ev, &sz) != 0)
    return 0;
  return ev;
}

static void noop_idle(uv_idle_t *h) { (void)h; }

static void flush_out(sb_zsock_t *z) {
  while (z->out_head && (events_of(z) & ZMQ_POLLOUT)) {
    outmsg_t *m = z->out_head;
    size_t i = 0;
    for (; i < m->n; i++) {
      int flags = ZMQ_DONTWAIT | (i + 1 < m->n ? ZMQ_SNDMORE : 0);
      if (zmq_msg_send(&m->parts[i], z->sock, flags) < 0)
        break;
    }
    if (i < m->n && i == 0)
      return; /* not taken after all: retry later */
    /* a partly sent multipart cannot be rolled back; zmq sends parts
     * atomically once the first is accepted, so i == n here in practice */
    for (; i < m->n; i++)
      zmq_msg_close(&m->parts[i]);
    z->out_head = m->next;
    if (!z->out_head)
      z->out_tail = NULL;
    z->out_len--;
    free(m);
  }
}

/* Runs the reader while input waits; decides whether the loop may block. */
static void service(sb_zsock_t *z) {
  if (z->closing || z->in_service)
    return;
  z->in_service = 1;
  if (z->out_head)
    flush_out(z);
  int ev = events_of(z);
  if ((ev & ZMQ_POLLIN) && !z->paused && z->fn) {
    z->fn(z, z->arg);
    ev = events_of(z);
  }
  int busy = ((ev & ZMQ_POLLIN) && !z->paused && z->fn) || (z->out_head && (ev & ZMQ_POLLOUT));
  z->in_service = 0;
  if (z->closing)
    return;
  if (busy)
    uv_idle_start(&z->idle, noop_idle);
  else
    uv_idle_stop(&z->idle);
}

static void on_poll(uv_poll_t *h, int status, int events) {
  (void)status;
  (void)events;
  service(h->data);
}
static void on_prepare(uv_prepare_t *h) { service(h->data); }
static void on_check(uv_check_t *h) { service(h->data); }

sb_zsock_t *sb_zsock_new(uv_loop_t *loop, void *zctx, int type) {
  sb_zsock_t *z = calloc(1, sizeof *z);
  if (!z)
    return NULL;
  z->sock = zmq_socket(zctx, type);
  int fd;
  size_t sz = sizeof fd;
  if (!z->sock || zmq_getsockopt(z->sock, ZMQ_FD, &fd, &sz) != 0) {
    if (z->sock)
      zmq_close(z->sock);
    free(z);
    return NULL;
  }
  int linger = 0;
  zmq_setsockopt(z->sock, ZMQ_LINGER, &linger, sizeof linger);
  uv_poll_init(loop, &z->poll, fd);
  uv_prepare_init(loop, &z->prepare);
  uv_check_init(loop, &z->check);
  uv_idle_init(loop, &z->idle);
  z->poll.data = z->prepare.data = z->check.data = z->idle.data = z;
  z->handles_open = 4;
  uv_poll_start(&z->poll, UV_READABLE, on_poll);
  uv_prepare_start(&z->prepare, on_prepare);
  uv_check_start(&z->check, on_check);
  /* these two must not keep the loop alive by themselves */
  uv_unref((uv_handle_t *)&z->prepare);
  uv_unref((uv_handle_t *)&z->check);
  return z;
}

static void on_closed(uv_handle_t *h) {
  sb_zsock_t *z = h->data;
  if (--z->handles_open == 0) {
    free(z->owned_arg);
    free(z);
  }
}

void sb_zsock_destroy(sb_zsock_t **zp) {
  sb_zsock_t *z = *zp;
  if (!z)
    return;
  *zp = NULL;
  z->closing = 1;
  while (z->out_head) {
    outmsg_t *m = z->out_head;
    z->out_head = m->next;
    for (size_t i = 0; i < m->n; i++)
      zmq_msg_close(&m->parts[i]);
    free(m);
  }
  uv_close((uv_handle_t *)&z->poll, on_closed);
  uv_close((uv_handle_t *)&z->prepare, on_closed);
  uv_close((uv_handle_t *)&z->check, on_closed);
  uv_close((uv_handle_t *)&z->idle, on_closed);
  zmq_close(z->sock);
  z->sock = NULL;
}

void sb_zsock_set_curve(sb_zsock_t *z, const sb_curve_t *curve) { z->curve = curve; }

int sb_zsock_bind(sb_zsock_t *z, const char *endpoint) {
  if (sb_curve_enabled(z->curve) && sb_curve_server(z->curve, z->sock) != 0)
    return SB_EZMQ;
  return zmq_bind(z->sock, endpoint) == 0 ? 0 : SB_EZMQ;
}

int sb_zsock_connect(sb_zsock_t *z, const char *endpoints) {
  if (sb_curve_enabled(z->curve) && sb_curve_client(z->curve, z->sock) != 0)
    return SB_EZMQ;
  char *copy = strdup(endpoints), *save = NULL;
  if (!copy)
    return SB_ENOMEM;
  int rc = 0;
  for (char *e = strtok_r(copy, ",", &save); e && !rc; e = strtok_r(NULL, ",", &save))
    if (*e && zmq_connect(z->sock, e) != 0)
      rc = SB_EZMQ;
  free(copy);
  return rc;
}

void *sb_zsock_raw(sb_zsock_t *z) { return z->sock; }

void sb_zsock_on_readable(sb_zsock_t *z, sb_zsock_readable_fn fn, void *arg) {
  z->fn = fn;
  z->arg = arg;
  uv_idle_start(&z->idle, noop_idle); /* look once even if the edge passed */
}

void sb_zsock_pause(sb_zsock_t *z) { z->paused = 1; }

void sb_zsock_resume(sb_zsock_t *z) {
  if (!z->paused)
    return;
  z->paused = 0;
  if (!z->closing)
    uv_idle_start(&z->idle, noop_idle);
}

int sb_zsock_recv(sb_zsock_t *z, zmq_msg_t *parts, size_t max, size_t *n) {
  size_t k = 0;
  int more = 1, overflow = 0;
  while (more) {
    zmq_msg_t tmp, *m = k < max ? &parts[k] : &tmp;
    zmq_msg_init(m);
    if (zmq_msg_recv(m, z->sock, ZMQ_DONTWAIT) < 0) {
      zmq_msg_close(m);
      if (k == 0 && errno == EAGAIN)
        return SB_EAGAIN;
      break;
    }
    more = zmq_msg_more(m);
    if (k < max)
      k++;
    else {
      zmq_msg_close(m);
      overflow = 1;
    }
  }
  if (overflow || k == 0) {
    for (size_t i = 0; i < k; i++)
      zmq_msg_close(&parts[i]);
    return overflow ? SB_ETOOBIG : SB_EAGAIN;
  }
  *n = k;
  return 0;
}

static int enqueue(sb_zsock_t *z, const void *const *data, const size_t *lens, size_t n) {
  if (z->out_len >= SB_ZSOCK_OUTQ_MAX)
    return SB_EAGAIN;
  outmsg_t *m = calloc(1, sizeof *m);
  if (!m)
    return SB_ENOMEM;
  m->n = n;
  for (size_t i = 0; i < n; i++) {
    zmq_msg_init_size(&m->parts[i], lens[i]);
    memcpy(zmq_msg_data(&m->parts[i]), data[i], lens[i]);
  }
  if (z->out_tail)
    z->out_tail->next = m;
  else
    z->out_head = m;
  z->out_tail = m;
  z->out_len++;
  uv_idle_start(&z->idle, noop_idle);
  return 0;
}

int sb_zsock_send(sb_zsock_t *z, const void *const *data, const size_t *lens, size_t n) {
  if (z->closing)
    return SB_ECLOSED;
  if (n == 0 || n > SB_ZSOCK_MAX_PARTS)
    return SB_EINVAL;
  if (!z->out_head) {
    /* fast path: straight to the socket; the first part decides */
    int flags = ZMQ_DONTWAIT | (n > 1 ? ZMQ_SNDMORE : 0);
    if (zmq_send(z->sock, data[0], lens[0], flags) >= 0) {
      for (size_t i = 1; i < n; i++)
        zmq_send(z->sock, data[i], lens[i], i + 1 < n ? ZMQ_SNDMORE : 0);
      return 0;
    }
    if (errno != EAGAIN)
      return SB_EZMQ;
  }
  return enqueue(z, data, lens, n);
}

size_t sb_zsock_pending(const sb_zsock_t *z) { return z->out_len; }

/* ---- monitor ----------------------------------------------------------- */

typedef struct {
  sb_zsock_event_fn fn;
  void *arg;
} monitor_t;

static void on_monitor(sb_zsock_t *m, void *arg) {
  monitor_t *mon = arg;
  zmq_msg_t parts[2];
  size_t n;
  int rc;
  while ((rc = sb_zsock_recv(m, parts, 2, &n)) != SB_EAGAIN) {
    if (rc)
      continue;
    uint16_t event = 0; /* frame 1: event (16 bits) and value (32 bits) */
    if (zmq_msg_size(&parts[0]) >= sizeof event)
      memcpy(&event, zmq_msg_data(&parts[0]), sizeof event);
    for (size_t i = 0; i < n; i++)
      zmq_msg_close(&parts[i]);
    mon->fn(event, mon->arg);
  }
}

sb_zsock_t *sb_zsock_monitor_new(sb_zsock_t *z, uv_loop_t *loop, void *zctx, int events, sb_zsock_event_fn fn,
                                 void *arg) {
  char ep[64];
  snprintf(ep, sizeof ep, "inproc://sb-zsock-monitor-%p", (void *)z);
  monitor_t *mon = calloc(1, sizeof *mon);
  if (!mon || zmq_socket_monitor(z->sock, ep, events) != 0) {
    free(mon);
    return NULL;
  }
  mon->fn = fn;
  mon->arg = arg;
  sb_zsock_t *m = sb_zsock_new(loop, zctx, ZMQ_PAIR);
  if (!m || zmq_connect(m->sock, ep) != 0) {
    zmq_socket_monitor(z->sock, NULL, 0);
    sb_zsock_destroy(&m);
    free(mon);
    return NULL;
  }
  m->owned_arg = mon;
  sb_zsock_on_readable(m, on_monitor, mon);
  return m;
}

void sb_zsock_monitor_destroy(sb_zsock_t *z, sb_zsock_t **monitor) {
  if (z && *monitor)
    zmq_socket_monitor(z->sock, NULL, 0);
  sb_zsock_destroy(monitor);
}
