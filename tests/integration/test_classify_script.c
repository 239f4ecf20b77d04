/*
 * test_classify_script: behaviours of classify.lua (classify's commit) on a
 * real redis-server: the customer's repeat contacts are counted per
 * conversation within the window, appended to the envelope as
 * Classification.repeat_contacts, and raise the priority by the weight at
 * repeat_min earlier contacts (capped at 100); a re-sent event (lease
 * already cleared) counts nothing; no customer or a window of 0 writes
 * nothing.
 */
#include "sb_testutil.h"

#include "sb_envelope.h"
#include "sb_redisd.h"
#include "sb_script.h"
#include "sb_stage.h"
#include "sbctl_view.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define P "sb:{t:acme}:"

extern const char sb_script_classify[];

static sb_redisd_t *redisd;
static redisContext *rc;
static char *script;
static int seq;

static int setup(void **state) {
  (void)state;
  redisd = sb_redisd_start(NULL);
  rc = redisd ? sbctl_view_connect(sb_redisd_url(redisd)) : NULL;
  script = sb_script_source(sb_script_classify);
  return rc && script ? 0 : -1;
}

static int teardown(void **state) {
  (void)state;
  redisFree(rc);
  sb_redisd_stop(&redisd);
  free(script);
  return 0;
}

static int reset(void **state) {
  (void)state;
  freeReplyObject(redisCommand(rc, "FLUSHALL"));
  return 0;
}

typedef struct {
  int committed;
  int repeat; /* -1: nothing appended */
  int priority;
} result_t;

/* One item through classify.lua: thread, conversation, window ms, min,
 * priority and weight as the service passes them. */
static result_t commit(const char *thread, const char *conv, const char *window, const char *min,
                       const char *prio, const char *weight, int add_lease) {
  char key[32];
  snprintf(key, sizeof key, "e-%d", ++seq);
  if (add_lease)
    freeReplyObject(redisCommand(rc, "ZADD " P "lease:classify 1 %s", key));
  const char *argv[] = {"EVAL",  script, "1",    P "stats", "1700000000000000", "99", "classify",
                        "route", "classified", "6", "3600", key, "", thread, conv, window, min, prio, weight};
  redisReply *r = redisCommandArgv(rc, (int)(sizeof argv / sizeof argv[0]), argv, NULL);
  if (r->type != REDIS_REPLY_ARRAY)
    fail_msg("classify.lua: %s", r->str ? r->str : "?");
  const redisReply *suffix = sb_stage_reply_suffix(r->element[0]);
  result_t out = {suffix != NULL, -1, -1};
  if (suffix && suffix->len > 0) {
    sb_envelope_t *env = sb_envelope_unpack(suffix->str, suffix->len);
    assert_non_null(env);
    assert_non_null(env->classification);
    out.repeat = env->classification->repeat_contacts;
    out.priority = env->classification->priority;
    sb_envelope_free(env);
  }
  freeReplyObject(r);
  return out;
}

static result_t msg(const char *thread, const char *conv) {
  return commit(thread, conv, "3600000", "1", "40", "10", 1);
}

static long long rc_keys(void) {
  redisReply *r = redisCommand(rc, "KEYS " P "rc:*");
  long long n = (long long)r->elements;
  freeReplyObject(r);
  return n;
}

static void a_new_conversation_after_an_earlier_one_is_a_repeat(void **state) {
  (void)state;
  result_t r = msg("x:ann", "conv-a");
  assert_int_equal(r.committed, 1);
  assert_int_equal(r.repeat, -1); /* first contact: nothing appended */
  assert_int_equal(msg("x:ann", "conv-a").repeat, -1); /* follow-up */
  r = msg("x:ann", "conv-b");
  assert_int_equal(r.repeat, 1);
  assert_int_equal(r.priority, 50); /* 40 + weight 10 */
  assert_int_equal(msg("x:ann", "conv-b").repeat, 1); /* follow-up: still one earlier */
  assert_int_equal(msg("x:ann", "conv-c").repeat, 2);
  assert_int_equal(msg("x:bob", "conv-d").repeat, -1); /* another customer */
  assert_int_equal(msg("whatsapp:ann", "conv-e").repeat, -1); /* another channel identity */
  redisReply *s = redisCommand(rc, "HGET " P "stats repeat_contacts");
  assert_string_equal(s->str, "2"); /* conv-b and conv-c, once each */
  freeReplyObject(s);
}

static void priority_rises_only_at_repeat_min_and_caps_at_100(void **state) {
  (void)state;
  commit("x:cid", "c1", "3600000", "2", "40", "10", 1);
  result_t r = commit("x:cid", "c2", "3600000", "2", "40", "10", 1);
  assert_int_equal(r.repeat, 1);
  assert_int_equal(r.priority, 40); /* below repeat_min: count only */
  r = commit("x:cid", "c3", "3600000", "2", "95", "10", 1);
  assert_int_equal(r.repeat, 2);
  assert_int_equal(r.priority, 100);
}

static void contacts_older_than_the_window_do_not_count(void **state) {
  (void)state;
  commit("x:old", "c1", "100", "1", "40", "10", 1);
  usleep(250000);
  assert_int_equal(commit("x:old", "c2", "100", "1", "40", "10", 1).repeat, -1);
}

static void a_resent_event_counts_nothing(void **state) {
  (void)state;
  msg("x:dup", "c1");
  result_t r = commit("x:dup", "c2", "3600000", "1", "40", "10", 0); /* lease already cleared */
  assert_int_equal(r.committed, 0);
  assert_int_equal(r.repeat, -1);
  assert_int_equal(msg("x:dup", "c2").repeat, 1); /* the real delivery counts once */
}

static void no_customer_or_no_window_writes_nothing(void **state) {
  (void)state;
  assert_int_equal(commit("", "", "", "", "", "", 1).committed, 1); /* padded arguments */
  assert_int_equal(commit("x:w0", "c1", "0", "1", "40", "10", 1).repeat, -1);
  assert_int_equal(commit("x:w0", "c2", "0", "1", "40", "10", 1).repeat, -1);
  assert_int_equal(rc_keys(), 0);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup(a_new_conversation_after_an_earlier_one_is_a_repeat, reset),
      cmocka_unit_test_setup(priority_rises_only_at_repeat_min_and_caps_at_100, reset),
      cmocka_unit_test_setup(contacts_older_than_the_window_do_not_count, reset),
      cmocka_unit_test_setup(a_resent_event_counts_nothing, reset),
      cmocka_unit_test_setup(no_customer_or_no_window_writes_nothing, reset),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
