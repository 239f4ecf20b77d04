/*
 * Each named script measures the Redis time its body takes and adds it to
 * its tenant's stats (prelude.lua, stats_flush: lua_us:<script> and
 * lua_calls:<script>), which `sbctl bench` divides per event and SREs read
 * to see which stage spends Redis. Checked against a real redis-server:
 * the calls are counted one per call, the time follows the work the body
 * does, scripts that tools load unnamed record nothing, sbctl's reader
 * sums them over tenants (fields no script of ours writes ignored) and
 * `sbctl stats` lists them busiest first, and a name that cannot be put in
 * Lua source is refused.
 */
#include "sb_testutil.h"

#include "sb_redisd.h"
#include "sb_script.h"
#include "sb_tenants.h"
#include "sbctl_stats.h"
#include "sbctl_view.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static sb_redisd_t *redisd;
static redisContext *rc;

static int setup(void **state) {
  (void)state;
  redisd = sb_redisd_start(NULL);
  rc = redisd ? sbctl_view_connect(sb_redisd_url(redisd)) : NULL;
  return rc ? 0 : -1;
}

static int teardown(void **state) {
  (void)state;
  redisFree(rc);
  sb_redisd_stop(&redisd);
  return 0;
}

/* Runs src (a whole script) against tenant t's stats key. */
static void run(const char *src, const char *t) {
  char key[64];
  snprintf(key, sizeof key, "sb:{t:%s}:stats", t);
  const char *argv[] = {"EVAL", src, "1", key};
  redisReply *r = redisCommandArgv(rc, 4, argv, NULL);
  assert_non_null(r);
  if (r->type == REDIS_REPLY_ERROR)
    fail_msg("script: %s", r->str);
  freeReplyObject(r);
}

static long long field(const char *t, const char *name) {
  redisReply *r = redisCommand(rc, "HGET sb:{t:%s}:stats %s", t, name);
  assert_non_null(r);
  long long v = r->type == REDIS_REPLY_STRING ? atoll(r->str) : -1;
  freeReplyObject(r);
  return v;
}

/* a body that keeps Redis busy for some milliseconds, then flushes */
static const char BUSY[] = "local x = 0\n"
                           "for i = 1, 3000000 do x = x + i % 7 end\n"
                           "stat('work', 1)\n"
                           "stats_flush()\n"
                           "return x";
static const char QUICK[] = "stat('work', 1)\nstats_flush()\nreturn 1";

static void calls_counted_and_time_follows_the_work(void **state) {
  (void)state;
  char *busy = sb_script_source_named("busy", BUSY), *quick = sb_script_source_named("quick", QUICK);
  assert_non_null(busy);
  assert_non_null(quick);
  for (int i = 0; i < 3; i++) {
    run(busy, "a");
    run(quick, "a");
  }
  run(quick, "b");
  assert_int_equal(field("a", "lua_calls:busy"), 3);
  assert_int_equal(field("a", "lua_calls:quick"), 3);
  assert_int_equal(field("b", "lua_calls:quick"), 1);
  assert_int_equal(field("a", "work"), 6); /* the script's own stats still counted */
  long long busy_us = field("a", "lua_us:busy"), quick_us = field("a", "lua_us:quick");
  printf("3 busy calls: %lld us, 3 quick calls: %lld us\n", busy_us, quick_us);
  assert_true(busy_us >= 3 * 1000); /* 3 million Lua iterations: milliseconds each */
  assert_true(quick_us >= 0);
  assert_true(quick_us * 10 < busy_us);
  free(busy);
  free(quick);
}

static void unnamed_scripts_record_nothing(void **state) {
  (void)state;
  char *src = sb_script_source(QUICK);
  assert_non_null(src);
  run(src, "c");
  free(src);
  redisReply *r = redisCommand(rc, "HKEYS sb:{t:c}:stats");
  assert_non_null(r);
  assert_int_equal(r->type, REDIS_REPLY_ARRAY);
  assert_int_equal(r->elements, 1);
  assert_string_equal(r->element[0]->str, "work");
  freeReplyObject(r);
}

/* sbctl bench and sbctl's reader sum the fields over tenants, per script,
 * and ignore fields that no script of ours writes */
static void the_reader_sums_over_tenants_and_ignores_strangers(void **state) {
  (void)state;
  static const char json[] = "{\"tenants\":[{\"id\":\"a\"},{\"id\":\"b\"},{\"id\":\"c\"}]}";
  char err[128];
  sb_tenants_t *t = sb_tenants_parse(json, sizeof json - 1, err, sizeof err);
  assert_non_null(t);
  freeReplyObject(redisCommand(rc, "HSET sb:{t:b}:stats lua_us:x\"y 5 lua_calls: 7 lua_us:Route 9"));
  sbctl_script_time_t st;
  assert_int_equal(sbctl_view_script_time(rc, t, &st), 0);
  long long busy_calls = -1, quick_calls = -1, quick_us = -1;
  for (size_t i = 0; i < st.n; i++) {
    if (strcmp(st.s[i].name, "busy") == 0)
      busy_calls = st.s[i].calls;
    else if (strcmp(st.s[i].name, "quick") == 0)
      quick_calls = st.s[i].calls, quick_us = st.s[i].us;
    else
      fail_msg("script \"%s\" read from the stats", st.s[i].name);
  }
  assert_int_equal(busy_calls, 3);
  assert_int_equal(quick_calls, 4); /* 3 of tenant a, 1 of b */
  assert_int_equal(quick_us, field("a", "lua_us:quick") + field("b", "lua_us:quick"));

  /* sbctl stats reads them with each tenant's figures, in the same read */
  sbctl_script_time_t again = {0};
  sbctl_stats_t rows[3] = {{0}};
  const char *ids[] = {"a", "b", "c"};
  for (size_t i = 0; i < 3; i++)
    assert_int_equal(sbctl_view_read_scripts(rc, ids[i], &rows[i], &again), 0);
  assert_int_equal(again.n, st.n);
  for (size_t i = 0; i < st.n; i++) {
    assert_string_equal(again.s[i].name, st.s[i].name);
    assert_int_equal(again.s[i].us, st.s[i].us);
    assert_int_equal(again.s[i].calls, st.s[i].calls);
  }

  /* sbctl stats prints them busiest first, with calls and time per call */
  char *text = NULL;
  size_t len = 0;
  FILE *f = open_memstream(&text, &len);
  assert_non_null(f);
  sbctl_stats_scripts(f, &st);
  fclose(f);
  printf("%s", text);
  char *busy = strstr(text, "  busy "), *quick = strstr(text, "  quick ");
  assert_non_null(busy);
  assert_non_null(quick);
  assert_true(busy < quick);
  assert_non_null(strstr(busy, " 3 calls"));
  assert_non_null(strstr(quick, " 4 calls"));
  free(text);
  sbctl_script_time_t none = {0};
  f = open_memstream(&text, &len);
  sbctl_stats_scripts(f, &none);
  fclose(f);
  assert_int_equal(len, 0); /* no script reported: nothing printed */
  free(text);
  sb_tenants_destroy(&t);
}

static void names_that_are_not_plain_words_are_refused(void **state) {
  (void)state;
  const char *bad[] = {"", "Route", "a b", "x'..redis.call('FLUSHALL')..'", "sla-timer", "é"};
  for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
    if (sb_script_source_named(bad[i], QUICK) != NULL)
      fail_msg("name \"%s\" accepted", bad[i]);
  char *ok = sb_script_source_named("sla_arm2", QUICK);
  assert_non_null(ok);
  assert_non_null(strstr(ok, "local SB_SCRIPT = 'sla_arm2'"));
  free(ok);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(calls_counted_and_time_follows_the_work),
      cmocka_unit_test(unnamed_scripts_record_nothing),
      cmocka_unit_test(the_reader_sums_over_tenants_and_ignores_strangers),
      cmocka_unit_test(names_that_are_not_plain_words_are_refused),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
