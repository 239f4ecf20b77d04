/*
 * sbc_publisher: the publisher of switchboard/client.h.
 *
 * An event is encoded once, at sbc_publish, and lives in a record until
 * its callback ran. A record is in exactly one place: the ready queue
 * (FIFO), the waiting list (back-off before a retry), or a slot of the
 * window (a request in flight, matched to its reply by correlation).
 * Acks come back in request order, one per event. Retries (a "retry later"
 * ack or a request unanswered for resend_after_ms) are always safe: the bus
 * answers an event it made durable before with "duplicate".
 *
 * Callbacks run from the polling functions; one may sbc_publish, but must
 * not poll, drain, publish synchronously or close the publisher.
 */
#include "sbc_event.h"
#include "sbc_wire.h"
#include "sbc_zsock.h"
#include "switchboard.pb-c.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

#define DEF(v, d) ((v) > 0 ? (v) : (d))
#define SBC_BATCH_LIMIT 10000 /* ingest refuses bigger requests */
#define US 1000LL /* microseconds a millisecond: deadlines are kept in us */
#define SBC_SEND_RETRY_MS 10  /* after ZeroMQ refused a send (high-water mark) */

typedef struct rec {
  struct rec *next;
  uint8_t *bytes;
  size_t len;
  char *id;
  sbc_ack_cb cb;
  void *arg;
  int sends;
  int64_t deadline_us, not_before_us;
} rec_t;

typedef struct {
  uint64_t correlation; /* 0: free */
  int64_t sent_us;
  size_t n;
  rec_t **recs; /* batch_max; NULL once answered (timed out) */
} slot_t;

struct sbc_publisher {
  sbc__zsock_t z;
  int ack_timeout_ms, resend_after_ms, max_retries, retry_base_ms, retry_max_ms;
  size_t batch_max, window, queue_max;
  rec_t *head, *tail; /* ready */
  rec_t *waiting;     /* back-off, unordered */
  slot_t *slots;
  sbc__wire_part_t *parts; /* batch_max, for building a request */
  uint64_t next_correlation;
  size_t pending;
  uint32_t rng; /* jitter */
  int answered; /* during one poll */
  int closing;  /* in sbc_publisher_close: callbacks may not queue more */
  sbc_publisher_stats_t st;
};

int sbc_publisher_open(sbc_publisher_t **out, const sbc_options_t *o) {
  if (!out || !o)
    return SBC_EINVAL;
  *out = NULL;
  sbc_publisher_t *p = calloc(1, sizeof *p);
  if (!p)
    return SBC_ENOMEM;
  p->ack_timeout_ms = DEF(o->ack_timeout_ms, 30000);
  p->resend_after_ms = DEF(o->resend_after_ms, 5000);
  p->max_retries = o->max_retries > 0 ? o->max_retries : (o->max_retries < 0 ? 0 : 8);
  p->retry_base_ms = DEF(o->retry_base_ms, 50);
  p->retry_max_ms = DEF(o->retry_max_ms, 2000);
  p->batch_max = DEF(o->batch_max, 100);
  p->window = DEF(o->window, 64);
  p->queue_max = DEF(o->queue_max, 100000);
  p->rng = (uint32_t)sbc__now_us() | 1;
  if (p->batch_max > SBC_BATCH_LIMIT)
    p->batch_max = SBC_BATCH_LIMIT;
  p->parts = calloc(p->batch_max, sizeof *p->parts);
  p->slots = p->parts ? calloc(p->window, sizeof *p->slots) : NULL;
  for (size_t i = 0; p->slots && i < p->window; i++)
    if (!(p->slots[i].recs = calloc(p->batch_max, sizeof(rec_t *))))
      break;
  int rc = p->slots && p->slots[p->window - 1].recs ? sbc__zsock_open(&p->z, ZMQ_DEALER, o) : SBC_ENOMEM;
  if (rc) {
    sbc_publisher_close(&p);
    return rc;
  }
  *out = p;
  return 0;
}

static void rec_free(rec_t *r) {
  free(r->bytes);
  free(r->id);
  free(r);
}

/* The one way out of the publisher: the callback, then the record goes. */
static void finish(sbc_publisher_t *p, rec_t *r, int result, const char *reason) {
  p->pending--;
  p->answered++;
  switch (result) {
  case SBC_OK: p->st.ok++; break;
  case SBC_DUPLICATE: p->st.duplicate++; break;
  case SBC_ETIMEOUT: p->st.timed_out++; break;
  default: p->st.rejected++;
  }
  if (r->cb)
    r->cb(r->arg, r->id, result, reason ? reason : "");
  rec_free(r);
}

static void push_ready(sbc_publisher_t *p, rec_t *r, int front) {
  r->next = NULL;
  if (!p->head) {
    p->head = p->tail = r;
  } else if (front) {
    r->next = p->head;
    p->head = r;
  } else {
    p->tail->next = r;
    p->tail = r;
  }
}

static rec_t *pop_ready(sbc_publisher_t *p) {
  rec_t *r = p->head;
  if (r && !(p->head = r->next))
    p->tail = NULL;
  return r;
}

void sbc_publisher_close(sbc_publisher_t **pp) {
  sbc_publisher_t *p = pp ? *pp : NULL;
  if (!p)
    return;
  *pp = NULL;
  p->closing = 1;
  rec_t *r;
  while ((r = pop_ready(p)))
    finish(p, r, SBC_ECLOSED, "publisher closed");
  while ((r = p->waiting)) {
    p->waiting = r->next;
    finish(p, r, SBC_ECLOSED, "publisher closed");
  }
  for (size_t i = 0; p->slots && i < p->window; i++) {
    for (size_t k = 0; p->slots[i].correlation && k < p->slots[i].n; k++)
      if (p->slots[i].recs[k])
        finish(p, p->slots[i].recs[k], SBC_ECLOSED, "publisher closed");
    free(p->slots[i].recs);
  }
  free(p->slots);
  free(p->parts);
  sbc__zsock_close(&p->z);
  free(p);
}

/* why: the library's reason when the event is refused before sending. */
static int publish(sbc_publisher_t *p, const sbc_event_t *ev, sbc_ack_cb cb, void *arg,
                   int timeout_ms, const char **why) {
  *why = "";
  if (!p)
    return SBC_EINVAL;
  if (p->closing)
    return SBC_ECLOSED;
  if (p->pending >= p->queue_max)
    return SBC_EFULL;
  rec_t *r = calloc(1, sizeof *r);
  if (!r)
    return SBC_ENOMEM;
  int rc = sbc__event_encode(ev, sbc__wall_us(), &r->bytes, &r->len, why);
  if (!rc && !(r->id = strdup(ev->id)))
    rc = SBC_ENOMEM;
  if (rc) {
    rec_free(r);
    return rc;
  }
  r->cb = cb, r->arg = arg;
  r->deadline_us = sbc__now_us() + US * (timeout_ms > 0 ? timeout_ms : p->ack_timeout_ms);
  push_ready(p, r, 0);
  p->pending++;
  p->st.published++;
  return 0;
}

int sbc_publish(sbc_publisher_t *p, const sbc_event_t *ev, sbc_ack_cb cb, void *arg) {
  const char *why;
  return publish(p, ev, cb, arg, 0, &why);
}

static slot_t *free_slot(const sbc_publisher_t *p) {
  for (size_t i = 0; i < p->window; i++)
    if (!p->slots[i].correlation)
      return &p->slots[i];
  return NULL;
}

/* Sends one request of up to batch_max ready records: 0, 1 when ZeroMQ
 * would block (the records go back to the queue), or SBC_ENOMEM. */
static int send_one(sbc_publisher_t *p, slot_t *s) {
  sbc__wire_part_t *parts = p->parts;
  s->n = 0;
  while (p->head && s->n < p->batch_max) {
    rec_t *r = pop_ready(p);
    parts[s->n].bytes = r->bytes, parts[s->n].len = r->len;
    s->recs[s->n++] = r;
  }
  size_t len;
  uint64_t corr = ++p->next_correlation;
  uint8_t *buf = sbc__wire_request(corr, parts, s->n, &len);
  int rc = buf ? zmq_send(p->z.sock, buf, len, ZMQ_DONTWAIT) : -1;
  free(buf);
  if (rc < 0) {
    for (size_t i = s->n; i-- > 0;)
      push_ready(p, s->recs[i], 1);
    return buf ? 1 : SBC_ENOMEM;
  }
  s->correlation = corr;
  s->sent_us = sbc__now_us();
  for (size_t i = 0; i < s->n; i++)
    s->recs[i]->sends++;
  p->st.sent += s->n;
  p->st.requests++;
  return 0;
}

int sbc_publisher_flush(sbc_publisher_t *p) {
  if (!p)
    return SBC_EINVAL;
  slot_t *s;
  while (p->head && (s = free_slot(p))) {
    int rc = send_one(p, s);
    if (rc)
      return rc > 0 ? 0 : rc;
  }
  return 0;
}

/* Exponential back-off with "equal jitter": half the step plus up to half. */
static int backoff_ms(sbc_publisher_t *p, int sends) {
  int64_t d = p->retry_base_ms;
  for (int i = 1; i < sends && d < p->retry_max_ms; i++)
    d *= 2;
  if (d > p->retry_max_ms)
    d = p->retry_max_ms;
  p->rng ^= p->rng << 13, p->rng ^= p->rng >> 17, p->rng ^= p->rng << 5;
  return (int)(d / 2 + p->rng % (uint32_t)(d / 2 + 1));
}

static void retry(sbc_publisher_t *p, rec_t *r, const char *reason) {
  if (r->sends > p->max_retries) {
    finish(p, r, SBC_ERETRIES, reason);
    return;
  }
  r->not_before_us = sbc__now_us() + US * backoff_ms(p, r->sends);
  r->next = p->waiting;
  p->waiting = r;
  p->st.retried++;
}

static void on_ack(sbc_publisher_t *p, rec_t *r, const Switchboard__V1__Ack *a) {
  if (!a || strcmp(a->id, r->id) != 0) {
    finish(p, r, SBC_EPROTO, "the reply does not answer this event");
    return;
  }
  switch (a->code) {
  case SWITCHBOARD__V1__ACK_CODE__ACK_OK: finish(p, r, SBC_OK, a->message); break;
  case SWITCHBOARD__V1__ACK_CODE__ACK_DUPLICATE: finish(p, r, SBC_DUPLICATE, a->message); break;
  case SWITCHBOARD__V1__ACK_CODE__ACK_RETRY_LATER: retry(p, r, a->message); break;
  case SWITCHBOARD__V1__ACK_CODE__ACK_UNKNOWN_TENANT: finish(p, r, SBC_EUNKNOWN_TENANT, a->message); break;
  default: finish(p, r, SBC_EREJECTED, a->message);
  }
}

static void on_reply(sbc_publisher_t *p, const Switchboard__V1__PublishReply *rep) {
  for (size_t k = 0; k < p->window; k++) {
    slot_t *s = &p->slots[k];
    if (!s->correlation || s->correlation != rep->correlation)
      continue;
    s->correlation = 0; /* free before the callbacks: they may publish */
    for (size_t i = 0; i < s->n; i++) {
      rec_t *r = s->recs[i];
      s->recs[i] = NULL;
      if (r)
        on_ack(p, r, i < rep->n_acks ? rep->acks[i] : NULL);
    }
    return;
  } /* no slot: a reply to a request given up on (resent or timed out) */
}

static int read_replies(sbc_publisher_t *p) {
  for (;;) {
    zmq_msg_t m;
    zmq_msg_init(&m);
    if (zmq_msg_recv(&m, p->z.sock, ZMQ_DONTWAIT) < 0) {
      zmq_msg_close(&m);
      return zmq_errno() == EAGAIN || zmq_errno() == EINTR ? 0 : SBC_EZMQ;
    }
    Switchboard__V1__PublishReply *rep =
        switchboard__v1__publish_reply__unpack(NULL, zmq_msg_size(&m), zmq_msg_data(&m));
    zmq_msg_close(&m);
    if (rep) { /* an undecodable reply is dropped: its events resend */
      on_reply(p, rep);
      switchboard__v1__publish_reply__free_unpacked(rep, NULL);
    }
  }
}

/* Requests in flight: events past their deadline time out; a request
 * unanswered for resend_after_ms is given up and its events retried. */
static void tick_slots(sbc_publisher_t *p, int64_t now) {
  for (size_t k = 0; k < p->window; k++) {
    slot_t *s = &p->slots[k];
    int resend = s->correlation && now - s->sent_us >= US * p->resend_after_ms;
    for (size_t i = 0; s->correlation && i < s->n; i++) {
      rec_t *r = s->recs[i];
      if (!r || (!resend && r->deadline_us > now))
        continue;
      s->recs[i] = NULL;
      if (r->deadline_us <= now)
        finish(p, r, SBC_ETIMEOUT, "no acknowledgement before the deadline");
      else
        retry(p, r, "no reply; sent again");
    }
    if (resend)
      s->correlation = 0;
  }
}

/* Waiting events: past their deadline time out; back-off over, they go to
 * the head of the queue (they have waited longest). */
static void tick_waiting(sbc_publisher_t *p, int64_t now) {
  rec_t **pp = &p->waiting, *due = NULL;
  while (*pp) {
    rec_t *r = *pp;
    if (r->deadline_us > now && r->not_before_us > now) {
      pp = &r->next;
      continue;
    }
    *pp = r->next;
    if (r->deadline_us <= now) {
      finish(p, r, SBC_ETIMEOUT, "no acknowledgement before the deadline");
    } else {
      r->next = due;
      due = r;
    }
  }
  while (due) {
    rec_t *r = due;
    due = r->next;
    push_ready(p, r, 1);
  }
}

/* Queued events never sent before their deadline (the window stayed full).
 * Taken out first, answered after: a callback may queue more. */
static void tick_queued(sbc_publisher_t *p, int64_t now) {
  rec_t *expired = NULL;
  for (rec_t **q = &p->head; *q;) {
    rec_t *r = *q;
    if (r->deadline_us > now) {
      q = &r->next;
      continue;
    }
    *q = r->next;
    r->next = expired;
    expired = r;
  }
  p->tail = NULL; /* the tail may be gone: find it again */
  for (rec_t *r = p->head; r; r = r->next)
    p->tail = r;
  while (expired) {
    rec_t *r = expired;
    expired = r->next;
    finish(p, r, SBC_ETIMEOUT, "no acknowledgement before the deadline");
  }
}

static void tick(sbc_publisher_t *p) {
  int64_t now = sbc__now_us();
  tick_slots(p, now);
  tick_waiting(p, now);
  tick_queued(p, now);
}

int sbc_publisher_next_timeout(const sbc_publisher_t *p) {
  if (!p)
    return -1;
  int64_t now = sbc__now_us(), due = -1;
#define SOONER(t)                  \
  do {                             \
    if (due < 0 || (t) < due)      \
      due = (t);                   \
  } while (0)
  for (size_t k = 0; k < p->window; k++) {
    const slot_t *s = &p->slots[k];
    if (!s->correlation)
      continue;
    SOONER(s->sent_us + US * p->resend_after_ms);
    for (size_t i = 0; i < s->n; i++)
      if (s->recs[i])
        SOONER(s->recs[i]->deadline_us);
  }
  for (const rec_t *r = p->waiting; r; r = r->next)
    SOONER(r->not_before_us < r->deadline_us ? r->not_before_us : r->deadline_us);
  for (const rec_t *r = p->head; r; r = r->next)
    SOONER(r->deadline_us);
  if (p->head && free_slot(p))
    SOONER(now + US * SBC_SEND_RETRY_MS); /* ZeroMQ would not take a request */
#undef SOONER
  return due < 0 ? -1 : (due <= now ? 0 : (int)((due - now + US - 1) / US)); /* ms, rounded up */
}

int sbc_publisher_poll(sbc_publisher_t *p, int timeout_ms) {
  if (!p)
    return SBC_EINVAL;
  p->answered = 0;
  int rc = sbc_publisher_flush(p);
  int next = sbc_publisher_next_timeout(p);
  if (next >= 0 && (timeout_ms < 0 || next < timeout_ms))
    timeout_ms = next;
  if (!rc && (rc = sbc__zsock_wait(&p->z, timeout_ms)) > 0)
    rc = read_replies(p);
  tick(p); /* even after an error: deadlines still end every wait */
  int frc = sbc_publisher_flush(p);
  rc = rc < 0 ? rc : frc;
  return rc < 0 ? rc : p->answered;
}

int sbc_publisher_drain(sbc_publisher_t *p, int timeout_ms) {
  if (!p)
    return SBC_EINVAL;
  int64_t until = sbc__now_ms() + timeout_ms;
  while (p->pending) {
    int64_t left = until - sbc__now_ms();
    if (left <= 0)
      return SBC_ETIMEOUT;
    int rc = sbc_publisher_poll(p, (int)left);
    if (rc < 0)
      return rc;
  }
  return 0;
}

typedef struct {
  int done, result;
  char *reason;
  size_t cap;
} sync_t;

static void on_sync(void *arg, const char *id, int result, const char *reason) {
  (void)id;
  sync_t *s = arg;
  s->done = 1;
  s->result = result;
  if (s->reason && s->cap)
    snprintf(s->reason, s->cap, "%s", reason);
}

int sbc_publish_sync(sbc_publisher_t *p, const sbc_event_t *ev, int timeout_ms, char *reason,
                     size_t reason_cap) {
  sync_t s = {0, 0, reason, reason_cap};
  if (reason && reason_cap)
    reason[0] = '\0';
  const char *why;
  int rc = publish(p, ev, on_sync, &s, timeout_ms, &why);
  if (rc) {
    if (reason && reason_cap)
      snprintf(reason, reason_cap, "%s", why);
    return rc;
  }
  while (!s.done) /* the record's deadline ends the wait, errors or not */
    sbc_publisher_poll(p, -1);
  return s.result;
}

size_t sbc_publisher_pending(const sbc_publisher_t *p) { return p ? p->pending : 0; }

int sbc_publisher_fd(const sbc_publisher_t *p, int *fd) {
  return p && fd ? sbc__zsock_fd(&p->z, fd) : SBC_EINVAL;
}

void sbc_publisher_stats(const sbc_publisher_t *p, sbc_publisher_stats_t *out) {
  if (p && out)
    *out = p->st;
}
