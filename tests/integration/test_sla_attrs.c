/*
 * sla_arm.lua keeps each conversation's attributes (channel, priority band,
 * queue, ...) for the firer, and a customer's next message reports them
 * again. A new channel or queue, or a more urgent band, changes them and
 * asks the firer to compute the due times again (a rearm marker, counted
 * sla_recomputed); the same attributes, a less urgent band, or a message
 * that names no queue (route does not repeat it for an open conversation)
 * change nothing. Run against a real redis-server through the hand-off, as
 * sla-timer calls it.
 */
#include "sb_testutil.h"

#include "sb_redisd.h"
#include "sb_script.h"
#include "sb_sla.h"
#include "sbctl_view.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define P "sb:{t:air}:"

static sb_redisd_t *redisd;
static redisContext *rc;
static char *script;
static int seq;

static int setup(void **state) {
  (void)state;
  redisd = sb_redisd_start(NULL);
  rc = redisd ? sbctl_view_connect(sb_redisd_url(redisd)) : NULL;
  script = sb_script_source(sb_script_sla_arm);
  return rc && script ? 0 : -1;
}

static int teardown(void **state) {
  (void)state;
  free(script);
  redisFree(rc);
  sb_redisd_stop(&redisd);
  return 0;
}

/* One hand-off item: op on conv at ms with attrs (no target specs, so no
 * timer of its own: only the attributes' effect is seen). */
static void item(const char *op, const char *conv, long long at, const char *attrs) {
  char key[32], at_s[24];
  snprintf(key, sizeof key, "ev-%d", ++seq);
  snprintf(at_s, sizeof at_s, "%lld", at);
  freeReplyObject(redisCommand(rc, "ZADD " P "lease:sla 1 %s", key));
  const char *argv[] = {"EVAL", script, "1", P "stats", "1000000", "2000", "sla", "", "sla_seen", "8",
                        "86400", key, "", op, conv, at_s, "", "", "", "", attrs};
  redisReply *r = redisCommandArgv(rc, sizeof argv / sizeof *argv, argv, NULL);
  assert_non_null(r);
  if (r->type == REDIS_REPLY_ERROR)
    fail_msg("sla_arm.lua: %s", r->str);
  freeReplyObject(r);
}

static char *kept(const char *conv) {
  static char v[256];
  redisReply *r = redisCommand(rc, "HGET " P "timers:open %s|attrs", conv);
  snprintf(v, sizeof v, "%s", r && r->type == REDIS_REPLY_STRING ? r->str : "(none)");
  freeReplyObject(r);
  return v;
}

static long long recomputed(void) {
  redisReply *r = redisCommand(rc, "HGET " P "stats sla_recomputed");
  long long n = r && r->type == REDIS_REPLY_STRING ? atoll(r->str) : 0;
  freeReplyObject(r);
  return n;
}

static int rearm_marked(const char *conv) {
  redisReply *r = redisCommand(rc, "ZSCORE " P "timers r|%s", conv);
  int marked = r && r->type == REDIS_REPLY_STRING;
  freeReplyObject(r);
  freeReplyObject(redisCommand(rc, "ZREM " P "timers r|%s", conv));
  freeReplyObject(redisCommand(rc, "HDEL " P "timers:open %s|rearm", conv));
  return marked;
}

static void next_messages_change_attributes_only_when_they_matter(void **state) {
  (void)state;
  item("arm", "c1", 1000, "whatsapp|3|default|1000|0|0|0||0");
  assert_string_equal(kept("c1"), "whatsapp|3|default|1000|0|0|0||0");

  /* the same, then no queue named, then a less urgent band: nothing */
  item("next", "c1", 2000, "whatsapp|3|default|1000|0|0|0||0");
  item("next", "c1", 3000, "whatsapp|3||1000|0|0|0||0");
  item("next", "c1", 4000, "whatsapp|4||1000|0|0|0||0");
  assert_string_equal(kept("c1"), "whatsapp|3|default|1000|0|0|0||0");
  assert_int_equal(recomputed(), 0);
  assert_false(rearm_marked("c1"));

  /* a more urgent band: kept, and the firer recomputes */
  item("next", "c1", 5000, "whatsapp|1||1000|0|0|0||0");
  assert_string_equal(kept("c1"), "whatsapp|1|default|1000|0|0|0||0");
  assert_int_equal(recomputed(), 1);
  assert_true(rearm_marked("c1"));

  /* a new queue, then a new channel (the band stays the most urgent) */
  item("next", "c1", 6000, "whatsapp|2|vip|1000|0|0|0||0");
  assert_string_equal(kept("c1"), "whatsapp|1|vip|1000|0|0|0||0");
  assert_int_equal(recomputed(), 2);
  assert_true(rearm_marked("c1"));
  item("next", "c1", 7000, "email|3||1000|0|0|0||0");
  assert_string_equal(kept("c1"), "email|1|vip|1000|0|0|0||0");
  assert_int_equal(recomputed(), 3);
  assert_true(rearm_marked("c1"));
}

/* a kept value shorter than three fields (written by hand, or by an older
 * version) is completed, not an error */
static void a_short_kept_value_is_completed(void **state) {
  (void)state;
  freeReplyObject(redisCommand(rc, "HSET " P "timers:open c4|attrs whatsapp"));
  item("next", "c4", 1000, "whatsapp|2|vip|1000|0|0|0||0");
  assert_string_equal(kept("c4"), "whatsapp|2|vip");
  assert_true(rearm_marked("c4"));
}

static void attributes_first_reported_by_a_next_message_are_kept(void **state) {
  (void)state;
  item("next", "c2", 1000, "sms|2|default|1000|0|0|0||0");
  assert_string_equal(kept("c2"), "sms|2|default|1000|0|0|0||0");
  item("next", "c3", 1000, "");
  assert_string_equal(kept("c3"), "(none)");
  assert_false(rearm_marked("c2"));
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(next_messages_change_attributes_only_when_they_matter),
      cmocka_unit_test(attributes_first_reported_by_a_next_message_are_kept),
      cmocka_unit_test(a_short_kept_value_is_completed),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
