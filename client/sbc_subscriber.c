/*
 * sbc_subscriber: the feed follower of switchboard/client.h. A SUB socket
 * (two frames per message: topic, Envelope) and the gap tracker
 * (sbc_gap.h) fed with each envelope's feed_seq. Events are delivered as
 * they come, late and re-sent ones included (a subscriber de-duplicates by
 * event id if it must); gaps are reported once their grace is over.
 */
#include "sbc_event.h"
#include "sbc_gap.h"
#include "sbc_zsock.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

#define SBC_TOPIC_MAX 256
#define SBC_TAKE_MAX 1024 /* messages per poll, so gaps and the caller get a turn */

struct sbc_subscriber {
  sbc__zsock_t z;
  sbc__gap_t *gaps;
  sbc_feed_cb on_event;
  sbc_gap_cb on_gap;
  void *arg;
  sbc_subscriber_stats_t st;
};

int sbc_subscriber_open(sbc_subscriber_t **out, const sbc_options_t *o, sbc_feed_cb on_event,
                        sbc_gap_cb on_gap, void *arg) {
  if (!out || !o || !on_event)
    return SBC_EINVAL;
  *out = NULL;
  sbc_subscriber_t *s = calloc(1, sizeof *s);
  if (!s)
    return SBC_ENOMEM;
  s->on_event = on_event, s->on_gap = on_gap, s->arg = arg;
  s->gaps = sbc__gap_new(o->gap_grace_ms > 0 ? o->gap_grace_ms : 200);
  int rc = s->gaps ? sbc__zsock_open(&s->z, ZMQ_SUB, o) : SBC_ENOMEM;
  if (rc) {
    sbc_subscriber_close(&s);
    return rc;
  }
  *out = s;
  return 0;
}

void sbc_subscriber_close(sbc_subscriber_t **sp) {
  sbc_subscriber_t *s = sp ? *sp : NULL;
  if (!s)
    return;
  *sp = NULL;
  sbc__zsock_close(&s->z);
  sbc__gap_free(&s->gaps);
  free(s);
}

static int set_filter(sbc_subscriber_t *s, int opt, const char *prefix) {
  if (!s || !prefix)
    return SBC_EINVAL;
  return zmq_setsockopt(s->z.sock, opt, prefix, strlen(prefix)) ? SBC_EZMQ : 0;
}

int sbc_subscriber_subscribe(sbc_subscriber_t *s, const char *prefix) {
  return set_filter(s, ZMQ_SUBSCRIBE, prefix);
}

int sbc_subscriber_unsubscribe(sbc_subscriber_t *s, const char *prefix) {
  return set_filter(s, ZMQ_UNSUBSCRIBE, prefix);
}

int sbc_subscriber_expect(sbc_subscriber_t *s, const char *topic, uint64_t next_seq) {
  if (!s || !topic || !*topic)
    return SBC_EINVAL;
  return sbc__gap_expect(s->gaps, topic, next_seq);
}

static void report(void *arg, const char *topic, uint64_t first, uint64_t last) {
  sbc_subscriber_t *s = arg;
  s->st.gaps++;
  s->st.missed += last - first + 1;
  if (s->on_gap)
    s->on_gap(s->arg, topic, first, last);
}

/* Reads one whole message (all its frames) into topic and body: 1, 0 when
 * none is waiting, SBC_EZMQ. A message that is not (topic, body) is
 * counted malformed and 2 is returned. */
static int recv_message(sbc_subscriber_t *s, char *topic, zmq_msg_t *body) {
  zmq_msg_t part;
  int nparts = 0, ok = 1, more;
  do {
    zmq_msg_init(&part);
    if (zmq_msg_recv(&part, s->z.sock, ZMQ_DONTWAIT) < 0) {
      zmq_msg_close(&part);
      if (nparts == 0)
        return zmq_errno() == EAGAIN || zmq_errno() == EINTR ? 0 : SBC_EZMQ;
      return SBC_EZMQ; /* ZeroMQ delivers a message's frames together */
    }
    more = zmq_msg_more(&part);
    if (nparts == 0) {
      size_t n = zmq_msg_size(&part);
      ok = n < SBC_TOPIC_MAX;
      if (ok)
        memcpy(topic, zmq_msg_data(&part), n), topic[n] = '\0';
      ok = ok && strlen(topic) == n; /* no NUL inside */
    } else if (nparts == 1) {
      zmq_msg_move(body, &part);
    }
    zmq_msg_close(&part);
    nparts++;
  } while (more);
  if (!ok || nparts != 2) {
    s->st.malformed++;
    return 2;
  }
  return 1;
}

static int handle(sbc_subscriber_t *s, const char *topic, zmq_msg_t *body) {
  sbc__feed_msg_t m;
  if (sbc__feed_decode(zmq_msg_data(body), zmq_msg_size(body), topic, &m) != 0) {
    s->st.malformed++;
    return 0;
  }
  s->st.received++;
  int rc = sbc__gap_observe(s->gaps, topic, m.ev.seq, sbc__now_ms(), report, s);
  s->on_event(s->arg, &m.ev);
  sbc__feed_release(&m);
  return rc < 0 ? rc : 1;
}

int sbc_subscriber_poll(sbc_subscriber_t *s, int timeout_ms) {
  if (!s)
    return SBC_EINVAL;
  int next = sbc_subscriber_next_timeout(s);
  if (next >= 0 && (timeout_ms < 0 || next < timeout_ms))
    timeout_ms = next;
  int rc = sbc__zsock_wait(&s->z, timeout_ms), handled = 0;
  for (int taken = 0; rc > 0 && taken < SBC_TAKE_MAX; taken++) {
    char topic[SBC_TOPIC_MAX];
    zmq_msg_t body;
    zmq_msg_init(&body);
    rc = recv_message(s, topic, &body); /* 0: none left; 2: malformed, skipped */
    if (rc == 1) {
      int h = handle(s, topic, &body);
      handled += h > 0;
      rc = h < 0 ? h : 1;
    }
    zmq_msg_close(&body);
  }
  sbc__gap_expire(s->gaps, sbc__now_ms(), report, s);
  return rc < 0 ? rc : handled;
}

int sbc_subscriber_fd(const sbc_subscriber_t *s, int *fd) {
  return s && fd ? sbc__zsock_fd(&s->z, fd) : SBC_EINVAL;
}

int sbc_subscriber_next_timeout(const sbc_subscriber_t *s) {
  int64_t due = s ? sbc__gap_next_due(s->gaps) : -1;
  if (due < 0)
    return -1;
  int64_t left = due - sbc__now_ms();
  return left > 0 ? (int)left : 0;
}

void sbc_subscriber_stats(const sbc_subscriber_t *s, sbc_subscriber_stats_t *out) {
  if (s && out)
    *out = s->st;
}
