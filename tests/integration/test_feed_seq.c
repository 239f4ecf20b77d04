/*
 * Feed sequence numbers end to end: every event on a topic carries its
 * number (Envelope.feed_seq, 1, 2, 3, ...); a subscriber that joins late
 * sees its first number above 1, calls the ones below missed, and re-reads
 * them from the topic's history in Redis (XRANGE sb:{t:T}:feed:<kind>),
 * getting the very bytes that were published, in order. The history keeps
 * --feed-history entries (SB_FEED_HISTORY here) and drops the oldest.
 */
#include "sb_testutil.h"
#include "sb_teststack.h"

#include "sb_envelope.h"
#include "sb_service.h"
#include "sb_time.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zmq.h>

#define TENANTS "{\"tenants\":[{\"id\":\"gap\"}]}"
#define HISTORY 5
#define STREAM "sb:{t:gap}:feed:queued"

/* Receives up to want envelopes on sub within ms; their seq and ids. */
static int receive(void *sub, int want, int ms, uint64_t *seq, char ids[][32]) {
  int got = 0;
  int64_t until = sb_now_ms() + ms;
  while (got < want && sb_now_ms() < until) {
    zmq_pollitem_t it = {sub, 0, ZMQ_POLLIN, 0};
    if (zmq_poll(&it, 1, 20) <= 0)
      continue;
    zmq_msg_t t, b;
    zmq_msg_init(&t);
    zmq_msg_init(&b);
    zmq_msg_recv(&t, sub, 0);
    zmq_msg_recv(&b, sub, 0);
    assert_int_equal(zmq_msg_size(&t), strlen("gap.queued"));
    assert_memory_equal(zmq_msg_data(&t), "gap.queued", zmq_msg_size(&t));
    sb_envelope_t *env = sb_envelope_unpack(zmq_msg_data(&b), zmq_msg_size(&b));
    assert_non_null(env);
    seq[got] = env->feed_seq;
    snprintf(ids[got], 32, "%s", env->id);
    got++;
    sb_envelope_free(env);
    zmq_msg_close(&t);
    zmq_msg_close(&b);
  }
  return got;
}

static void publish(sb_teststack_t *st, int from, int to) {
  for (int i = from; i <= to; i++) {
    char id[16], cust[16];
    snprintf(id, sizeof id, "q-%d", i);
    snprintf(cust, sizeof cust, "@c%d", i);
    sbctl_client_queue(sb_teststack_client(st), sb_teststack_message(st, "gap", id, "x", cust, "hello?"));
  }
  assert_int_equal(sb_teststack_publish_all(st, 5000), 0);
  sbctl_stats_t s = {0};
  assert_int_equal(sb_teststack_wait_drained(st, to, 15000, &s), 0);
}

/* XRANGE STREAM from to: checks each entry is "<seq>-0" with the envelope
 * of q-<seq> numbered seq; returns how many entries came back. */
static size_t reread(sb_teststack_t *st, uint64_t from, uint64_t to) {
  redisReply *r = redisCommand(sb_teststack_redis(st), "XRANGE %s %llu %llu", STREAM,
                               (unsigned long long)from, (unsigned long long)to);
  assert_non_null(r);
  assert_int_equal(r->type, REDIS_REPLY_ARRAY);
  size_t n = r->elements;
  for (size_t i = 0; i < n; i++) {
    const redisReply *e = r->element[i];
    uint64_t seq = from + i;
    char want_id[32], want_entry[32];
    snprintf(want_entry, sizeof want_entry, "%llu-0", (unsigned long long)seq);
    snprintf(want_id, sizeof want_id, "q-%llu", (unsigned long long)seq);
    assert_string_equal(e->element[0]->str, want_entry);
    const redisReply *f = e->element[1]; /* key, <key>, env, <bytes> */
    assert_int_equal(f->elements, 4);
    assert_string_equal(f->element[0]->str, "key");
    assert_string_equal(f->element[2]->str, "env");
    sb_envelope_t *env = sb_envelope_unpack(f->element[3]->str, f->element[3]->len);
    assert_non_null(env);
    assert_int_equal(env->feed_seq, seq);
    assert_string_equal(env->id, want_id);
    assert_string_equal(env->key, f->element[1]->str);
    sb_envelope_free(env);
  }
  freeReplyObject(r);
  return n;
}

static void late_subscriber_detects_gap_and_rereads_missed_events(void **state) {
  (void)state;
  setenv("SB_FEED_HISTORY", "5", 1);
  sb_teststack_t *st = sb_teststack_start(TENANTS, NULL);
  unsetenv("SB_FEED_HISTORY");
  assert_non_null(st);
  /* nobody logged in: every message is "queued"; 3 go by unseen */
  publish(st, 1, 3);
  void *zctx = zmq_ctx_new(), *sub = zmq_socket(zctx, ZMQ_SUB);
  char ep[64];
  snprintf(ep, sizeof ep, "tcp://127.0.0.1:%d", SB_PORT_NOTIFY_PUB + sb_teststack_offset(st));
  zmq_setsockopt(sub, ZMQ_SUBSCRIBE, "gap.queued", strlen("gap.queued"));
  assert_int_equal(zmq_connect(sub, ep), 0);
  usleep(200000); /* the subscription reaches the publisher */
  publish(st, 4, 5);
  uint64_t seq[4];
  char ids[4][32];
  assert_int_equal(receive(sub, 2, 5000, seq, ids), 2);
  assert_int_equal(seq[0], 4);
  assert_string_equal(ids[0], "q-4");
  assert_int_equal(seq[1], 5);
  assert_string_equal(ids[1], "q-5");
  /* the subscriber had seen nothing (last = 0): 1..3 are missing */
  uint64_t last_seen = 0;
  assert_true(seq[0] > last_seen + 1);
  assert_int_equal(reread(st, last_seen + 1, seq[0] - 1), 3);
  /* the history keeps HISTORY entries: a 6th drops number 1 */
  publish(st, 6, 6);
  assert_int_equal(receive(sub, 1, 5000, seq, ids), 1);
  assert_int_equal(seq[0], 6);
  redisReply *r = redisCommand(sb_teststack_redis(st), "XLEN %s", STREAM);
  assert_int_equal(r->integer, HISTORY);
  freeReplyObject(r);
  assert_int_equal(reread(st, 1, 1), 0);
  assert_int_equal(reread(st, 2, 6), 5);
  r = redisCommand(sb_teststack_redis(st), "HGET sb:{t:gap}:feed:seq queued");
  assert_string_equal(r->str, "6");
  freeReplyObject(r);
  zmq_close(sub);
  zmq_ctx_term(zctx);
  sb_teststack_stop(&st);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(late_subscriber_detects_gap_and_rereads_missed_events),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
