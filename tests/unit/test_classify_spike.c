/*
 * test_classify_spike: the tenant's "spike" settings (sb_rules: parsed,
 * defaults, every refusal naming the member, and the tenant through
 * sb_ruleset) and the incidents over them (sb_incident: stable ids from
 * wall-clock buckets, who belongs to an incident, how long it stays open).
 * Time is explicit, so outcomes are exact.
 */
#include "sb_error.h"
#include "sb_incident.h"
#include "sb_ruleset.h"
#include "sb_rules.h"
#include "sb_testutil.h"

#include <stdio.h>
#include <string.h>

#define BUCKET 1000
#define T0 1700000000000LL /* a multiple of BUCKET */

static sb_rules_t *parse(const char *json, char *err, size_t errlen) {
  return sb_rules_parse(json, strlen(json), err, errlen);
}

static void absent_spike_member_gives_the_detector_defaults(void **state) {
  (void)state;
  char err[256];
  sb_rules_t *r = parse("{}", err, sizeof err);
  assert_non_null(r);
  const sb_rules_spike_t *sp = sb_rules_spike(r);
  sb_spike_opts_t d;
  sb_spike_opts_default(&d);
  assert_int_equal(sp->enabled, 1);
  assert_int_equal(sp->opts.bucket_ms, d.bucket_ms);
  assert_true(sp->opts.k == d.k);
  assert_int_equal(sp->opts.warmup_buckets, d.warmup_buckets);
  assert_int_equal(sp->opts.min_count, d.min_count);
  sb_rules_destroy(&r);
}

static void given_members_override_the_defaults(void **state) {
  (void)state;
  char err[256];
  sb_rules_t *r = parse("{\"spike\": {\"bucket_s\": 2.5, \"k\": 3, \"alpha\": 0.2, \"warmup_buckets\": 0,"
                        " \"min_count\": 4}}", err, sizeof err);
  assert_non_null(r);
  const sb_rules_spike_t *sp = sb_rules_spike(r);
  assert_int_equal(sp->enabled, 1);
  assert_int_equal(sp->opts.bucket_ms, 2500);
  assert_true(sp->opts.k == 3 && sp->opts.alpha == 0.2);
  assert_int_equal(sp->opts.warmup_buckets, 0);
  assert_int_equal(sp->opts.min_count, 4);
  sb_rules_destroy(&r);
  r = parse("{\"spike\": {\"enabled\": false}}", err, sizeof err);
  assert_non_null(r);
  assert_int_equal(sb_rules_spike(r)->enabled, 0);
  sb_rules_destroy(&r);
}

static void bad_spike_settings_are_refused_naming_the_member(void **state) {
  (void)state;
  static const struct {
    const char *json, *why;
  } bad[] = {
      {"{\"spike\": 60}", "spike: must be an object"},
      {"{\"spike\": {\"bucket\": 60}}", "spike: unknown member \"bucket\""},
      {"{\"spike\": {\"enabled\": 1}}", "spike.enabled: must be true or false"},
      {"{\"spike\": {\"bucket_s\": 0}}", "spike.bucket_s: must be a number from 1 to 86400"},
      {"{\"spike\": {\"bucket_s\": 86401}}", "spike.bucket_s: must be a number from 1 to 86400"},
      {"{\"spike\": {\"bucket_s\": \"60\"}}", "spike.bucket_s: must be a number"},
      {"{\"spike\": {\"k\": 0}}", "spike.k: must be a number above 0 to 100"},
      {"{\"spike\": {\"k\": -1}}", "spike.k: must be a number above 0"},
      {"{\"spike\": {\"alpha\": 1.5}}", "spike.alpha: must be a number above 0 to 1"},
      {"{\"spike\": {\"alpha\": 0}}", "spike.alpha: must be a number above 0 to 1"},
      {"{\"spike\": {\"warmup_buckets\": -1}}", "spike.warmup_buckets: must be a number from 0"},
      {"{\"spike\": {\"min_count\": 0}}", "spike.min_count: must be a number from 1"},
      {"{\"spike\": {\"min_count\": null}}", "spike.min_count: must be a number"},
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    char err[256] = "";
    sb_rules_t *r = parse(bad[i].json, err, sizeof err);
    if (r || !strstr(err, bad[i].why))
      fail_msg("%s: got \"%s\", wanted \"%s\"", bad[i].json, r ? "(accepted)" : err, bad[i].why);
  }
}

static void a_tenants_bad_spike_setting_names_the_tenant(void **state) {
  (void)state;
  char err[512];
  const char *json = "{\"tenants\": [{\"id\": \"good\", \"classify\": {\"spike\": {\"k\": 2}}},"
                     " {\"id\": \"acme-air\", \"classify\": {\"spike\": {\"min_count\": -5}}}]}";
  sb_tenants_t *t = sb_tenants_parse(json, strlen(json), err, sizeof err);
  assert_non_null(t);
  sb_ruleset_source_t src = {.tenants = t};
  sb_ruleset_t *rs = sb_ruleset_build(&src, err, sizeof err);
  assert_null(rs);
  assert_non_null(strstr(err, "tenant acme-air"));
  assert_non_null(strstr(err, "spike.min_count"));
  sb_tenants_destroy(&t);
}

/* ----------------------------------------------------------- incidents */

static sb_incident_t *tracker(void) {
  sb_spike_opts_t o;
  sb_spike_opts_default(&o);
  o.bucket_ms = BUCKET, o.warmup_buckets = 3, o.min_count = 5;
  sb_incident_t *t = sb_incident_new(&o);
  assert_non_null(t);
  return t;
}

/* n messages of intent in bucket b (spread within it); returns how many
 * belonged to an incident of `key`, and its id in id (if any). */
static int feed(sb_incident_t *t, const char *intent, int negative, int64_t b, int n, const char *key,
                char *id, size_t idlen) {
  int in = 0;
  for (int i = 0; i < n; i++) {
    sb_incident_hits_t h;
    assert_int_equal(sb_incident_observe(t, intent, negative, T0 + b * BUCKET + i * (BUCKET / (n + 1)), &h), 0);
    for (size_t k = 0; k < h.n; k++) {
      if (h.refs[k].member && !strcmp(h.refs[k].key, key)) {
        in++;
        snprintf(id, idlen, "%s", h.refs[k].id);
      }
    }
  }
  return in;
}

static void steady_traffic_opens_no_incident(void **state) {
  (void)state;
  sb_incident_t *t = tracker();
  char id[SB_INCIDENT_ID_MAX] = "";
  for (int b = 0; b < 60; b++) {
    assert_int_equal(feed(t, "refund", 0, b, 3 + b % 2, "refund", id, sizeof id), 0);
    assert_int_equal(feed(t, "delay", 0, b, 5, "*", id, sizeof id), 0);
  }
  sb_incident_destroy(&t);
}

static void a_burst_opens_one_incident_named_by_kind_key_and_bucket(void **state) {
  (void)state;
  sb_incident_t *t = tracker();
  char id[SB_INCIDENT_ID_MAX] = "", want[SB_INCIDENT_ID_MAX];
  for (int b = 0; b < 5; b++)
    feed(t, "refund", 0, b, 2, "refund", id, sizeof id);
  /* the burst in bucket 5: the messages from the raising one on belong */
  int in = feed(t, "refund", 0, 5, 20, "refund", id, sizeof id);
  assert_true(in >= 10 && in <= 16); /* min_count 5 and mean + 4 sd first */
  snprintf(want, sizeof want, "spike_volume:refund:%lld", T0 + 5 * BUCKET);
  assert_string_equal(id, want);
  /* the next bucket still belongs to it (a burst crossing the boundary)... */
  assert_int_equal(feed(t, "refund", 0, 6, 2, "refund", id, sizeof id), 2);
  assert_string_equal(id, want);
  /* ...then a bucket without a raise closes it */
  assert_int_equal(feed(t, "refund", 0, 7, 2, "refund", id, sizeof id), 0);
  sb_incident_destroy(&t);
}

static void the_opening_message_is_flagged_once_and_first(void **state) {
  (void)state;
  sb_incident_t *t = tracker();
  char id[SB_INCIDENT_ID_MAX];
  for (int b = 0; b < 5; b++)
    feed(t, "refund", 0, b, 2, "refund", id, sizeof id);
  int opened = 0;
  for (int i = 0; i < 20; i++) {
    sb_incident_hits_t h;
    assert_int_equal(sb_incident_observe(t, "refund", 0, T0 + 5 * BUCKET + i, &h), 0);
    for (size_t k = 0; k < h.n; k++)
      opened += h.refs[k].opened && h.refs[k].kind == SB_INCIDENT_VOLUME && !strcmp(h.refs[k].key, "refund");
    if (h.n) /* the intent's incident is the message's own */
      assert_string_equal(h.refs[0].key, "refund");
  }
  assert_int_equal(opened, 1);
  sb_incident_destroy(&t);
}

static void two_trackers_seeing_the_same_burst_agree_on_the_id(void **state) {
  (void)state;
  sb_incident_t *a = tracker(), *b = tracker();
  char ida[SB_INCIDENT_ID_MAX] = "", idb[SB_INCIDENT_ID_MAX] = "";
  /* b starts later and sees other times inside the same buckets */
  for (int k = 0; k < 5; k++) {
    feed(a, "late", 0, k, 3, "late", ida, sizeof ida);
    feed(b, "late", 0, k, 2, "late", idb, sizeof idb);
  }
  assert_true(feed(a, "late", 0, 5, 25, "late", ida, sizeof ida) > 0);
  assert_true(feed(b, "late", 0, 5, 15, "late", idb, sizeof idb) > 0);
  assert_string_equal(ida, idb);
  sb_incident_destroy(&a);
  sb_incident_destroy(&b);
}

static void a_negative_share_incident_holds_only_negative_messages(void **state) {
  (void)state;
  sb_incident_t *t = tracker();
  char id[SB_INCIDENT_ID_MAX] = "";
  for (int b = 0; b < 5; b++) {
    feed(t, NULL, 0, b, 9, "*", id, sizeof id);
    feed(t, NULL, 1, b, 1, "*", id, sizeof id); /* 10 % negative */
  }
  /* same volume, all negative: the share jumps, the volume does not */
  int neg_in = 0;
  for (int i = 0; i < 10; i++) {
    sb_incident_hits_t h;
    assert_int_equal(sb_incident_observe(t, NULL, 1, T0 + 5 * BUCKET + i * 50, &h), 0);
    if (h.n && h.refs[0].member) {
      assert_int_equal(h.refs[0].kind, SB_INCIDENT_NEGATIVE);
      assert_string_equal(h.refs[0].id, "spike_negative:*:1700000005000");
      assert_true(h.refs[0].observed > h.refs[0].baseline);
      neg_in++;
    }
  }
  assert_true(neg_in >= 5);
  sb_incident_hits_t h;
  assert_int_equal(sb_incident_observe(t, NULL, 0, T0 + 5 * BUCKET + 900, &h), 0);
  assert_int_equal(h.n, 0); /* a message that is not negative is not part of it */
  sb_incident_destroy(&t);
}

static void bad_arguments_are_refused(void **state) {
  (void)state;
  sb_incident_t *t = tracker();
  sb_incident_hits_t h;
  char longkey[SB_INCIDENT_KEY_MAX + 2];
  memset(longkey, 'a', sizeof longkey - 1);
  longkey[sizeof longkey - 1] = '\0';
  assert_int_equal(sb_incident_observe(t, longkey, 0, T0, &h), SB_EINVAL);
  assert_int_equal(sb_incident_observe(NULL, "x", 0, T0, &h), SB_EINVAL);
  assert_int_equal(sb_incident_observe(t, "x", 0, T0, NULL), SB_EINVAL);
  assert_int_equal(sb_incident_observe(t, "x", 0, -5, &h), 0); /* before the epoch: the epoch */
  sb_spike_opts_t o;
  sb_spike_opts_default(&o);
  o.bucket_ms = 0;
  assert_null(sb_incident_new(&o));
  sb_incident_destroy(&t);
  assert_null(t);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(absent_spike_member_gives_the_detector_defaults),
      cmocka_unit_test(given_members_override_the_defaults),
      cmocka_unit_test(bad_spike_settings_are_refused_naming_the_member),
      cmocka_unit_test(a_tenants_bad_spike_setting_names_the_tenant),
      cmocka_unit_test(steady_traffic_opens_no_incident),
      cmocka_unit_test(a_burst_opens_one_incident_named_by_kind_key_and_bucket),
      cmocka_unit_test(the_opening_message_is_flagged_once_and_first),
      cmocka_unit_test(two_trackers_seeing_the_same_burst_agree_on_the_id),
      cmocka_unit_test(a_negative_share_incident_holds_only_negative_messages),
      cmocka_unit_test(bad_arguments_are_refused),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
