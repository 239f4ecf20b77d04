/* sb_hooks_policy and sb_hooks_event: verdicts by status, back-off bounds
 * and growth, give-up, the breaker's states, the signature against an
 * independently computed HMAC, and the body of an event. */
#include "sb_testutil.h"

#include "sb_hooks_event.h"
#include "sb_hooks_policy.h"

#include <cjson/cJSON.h>
#include <stdlib.h>
#include <string.h>

static void statuses_map_to_delivered_retry_or_dead(void **state) {
  (void)state;
  assert_int_equal(sb_hooks_verdict(200, 0), SB_HOOK_DELIVERED);
  assert_int_equal(sb_hooks_verdict(204, 0), SB_HOOK_DELIVERED);
  assert_int_equal(sb_hooks_verdict(500, 0), SB_HOOK_RETRY);
  assert_int_equal(sb_hooks_verdict(503, 0), SB_HOOK_RETRY);
  assert_int_equal(sb_hooks_verdict(408, 0), SB_HOOK_RETRY);
  assert_int_equal(sb_hooks_verdict(429, 0), SB_HOOK_RETRY);
  assert_int_equal(sb_hooks_verdict(0, 1), SB_HOOK_RETRY); /* refused, timeout */
  assert_int_equal(sb_hooks_verdict(400, 0), SB_HOOK_DEAD);
  assert_int_equal(sb_hooks_verdict(404, 0), SB_HOOK_DEAD);
  assert_int_equal(sb_hooks_verdict(410, 0), SB_HOOK_DEAD);
  assert_int_equal(sb_hooks_verdict(301, 0), SB_HOOK_DEAD); /* redirects are not followed */
}

static void backoff_doubles_up_to_its_cap_and_jitter_stays_inside(void **state) {
  (void)state;
  sb_hooks_retry_t r = {1000, 600000, 21600, SB_HOOKS_JITTER_FULL};
  assert_int_equal(sb_hooks_backoff_cap_ms(&r, 1), 1000);
  assert_int_equal(sb_hooks_backoff_cap_ms(&r, 2), 2000);
  assert_int_equal(sb_hooks_backoff_cap_ms(&r, 5), 16000);
  assert_int_equal(sb_hooks_backoff_cap_ms(&r, 10), 512000);
  assert_int_equal(sb_hooks_backoff_cap_ms(&r, 11), 600000);
  assert_int_equal(sb_hooks_backoff_cap_ms(&r, 1000), 600000); /* no overflow */
  for (unsigned n = 1; n < 40; n++) {
    int64_t cap = sb_hooks_backoff_cap_ms(&r, n);
    assert_int_equal(sb_hooks_backoff_ms(&r, n, 0.0), 0);
    assert_true(sb_hooks_backoff_ms(&r, n, 0.999999) <= cap);
    assert_true(sb_hooks_backoff_ms(&r, n, 0.999999) >= cap - 1);
    int64_t mid = sb_hooks_backoff_ms(&r, n, 0.5);
    assert_true(mid >= cap / 2 - 1 && mid <= cap / 2 + 1);
  }
  /* the mean of full jitter grows with n: many draws from a fixed sequence */
  double prev = 0;
  for (unsigned n = 1; n <= 8; n++) {
    double sum = 0;
    for (int i = 0; i < 1000; i++)
      sum += (double)sb_hooks_backoff_ms(&r, n, (i + 0.5) / 1000.0);
    assert_true(sum / 1000 > prev * 1.9);
    prev = sum / 1000;
  }
  r.jitter = SB_HOOKS_JITTER_NONE;
  assert_int_equal(sb_hooks_backoff_ms(&r, 3, 0.1), 4000);
}

static void retries_stop_once_the_give_up_time_would_pass(void **state) {
  (void)state;
  sb_hooks_retry_t r = {1000, 4000, 10, SB_HOOKS_JITTER_NONE};
  int64_t due = 0;
  assert_int_equal(sb_hooks_next_due(&r, 1, 0, 0, 0.5, &due), 1);
  assert_int_equal(due, 1000);
  assert_int_equal(sb_hooks_next_due(&r, 3, 0, 5000, 0.5, &due), 1);
  assert_int_equal(due, 9000);
  assert_int_equal(sb_hooks_next_due(&r, 3, 0, 6001, 0.5, &due), 0); /* 10001 > 10 s */
}

static void breaker_opens_after_failures_then_probes_once(void **state) {
  (void)state;
  sb_hooks_breaker_cfg_t cfg = {3, 1000};
  sb_breaker_t b = {0};
  assert_int_equal(sb_breaker_allowance(&b, 4, 0), 4);
  assert_int_equal(sb_breaker_record(&b, &cfg, 0, 10), 0);
  assert_int_equal(sb_breaker_record(&b, &cfg, 0, 20), 0);
  assert_int_equal(sb_breaker_record(&b, &cfg, 1, 25), 0); /* a success resets the count */
  sb_breaker_record(&b, &cfg, 0, 30);
  sb_breaker_record(&b, &cfg, 0, 40);
  assert_int_equal(sb_breaker_record(&b, &cfg, 0, 50), 1);
  assert_int_equal(b.state, SB_BREAKER_OPEN);
  assert_int_equal(sb_breaker_allowance(&b, 4, 500), 0);
  assert_int_equal(sb_breaker_allowance(&b, 4, 1050), 1);
  assert_int_equal(b.state, SB_BREAKER_HALF_OPEN);
  assert_int_equal(sb_breaker_record(&b, &cfg, 0, 1100), 1); /* the probe failed */
  assert_int_equal(b.state, SB_BREAKER_OPEN);
  assert_int_equal(sb_breaker_allowance(&b, 4, 2000), 0);
  assert_int_equal(sb_breaker_allowance(&b, 4, 2100), 1);
  assert_int_equal(sb_breaker_record(&b, &cfg, 1, 2150), 1);
  assert_int_equal(b.state, SB_BREAKER_CLOSED);
  assert_int_equal(sb_breaker_allowance(&b, 4, 2200), 4);
}

static void signature_matches_an_independent_hmac(void **state) {
  (void)state;
  char sig[SB_HOOKS_SIGNATURE_MAX];
  const char *body = "{\"a\":1}";
  assert_int_equal(sb_hooks_sign("s3cret", 1700000000, body, strlen(body), sig, sizeof sig), 0);
  /* python3: hmac.new(b's3cret', b'1700000000.{"a":1}', hashlib.sha256).hexdigest() */
  assert_string_equal(sig, "t=1700000000,v1=1698a50bc74d1ff1db85c4e0a5297c2ad9fdba245d5737cdb789e4cc6e098940");
  assert_int_not_equal(sb_hooks_sign("s3cret", 1, body, strlen(body), sig, 10), 0);
}

static void the_body_carries_the_event_and_its_kind(void **state) {
  (void)state;
  Switchboard__V1__Envelope env = SWITCHBOARD__V1__ENVELOPE__INIT;
  Switchboard__V1__RoutingDecision rd = SWITCHBOARD__V1__ROUTING_DECISION__INIT;
  Switchboard__V1__Interaction in = SWITCHBOARD__V1__INTERACTION__INIT;
  env.id = "m-1";
  env.source = "/webchat";
  env.type = SB_TYPE_INTERACTION;
  env.tenant = "acme";
  env.key = "0123456789abcdef0123456789abcdef";
  env.time_ms = 1700000000123;
  rd.outcome = SWITCHBOARD__V1__ROUTE_OUTCOME__ROUTE_ASSIGNED;
  rd.conversation = "c-9";
  rd.agent = "ann";
  env.routing = &rd;
  in.channel = SWITCHBOARD__V1__CHANNEL__CHANNEL_X;
  in.customer = "@bob";
  in.text = "hello";
  env.body_case = SWITCHBOARD__V1__ENVELOPE__BODY_INTERACTION;
  env.interaction = &in;
  char *json = sb_hooks_event_json(&env);
  cJSON *o = cJSON_Parse(json);
  assert_non_null(o);
  assert_string_equal(cJSON_GetObjectItem(o, "id")->valuestring, env.key);
  assert_string_equal(cJSON_GetObjectItem(o, "type")->valuestring, "assigned");
  assert_string_equal(cJSON_GetObjectItem(o, "tenant")->valuestring, "acme");
  assert_string_equal(cJSON_GetObjectItem(o, "conversation")->valuestring, "c-9");
  assert_string_equal(cJSON_GetObjectItem(o, "agent")->valuestring, "ann");
  assert_string_equal(cJSON_GetObjectItem(o, "time")->valuestring, "2023-11-14T22:13:20.123Z");
  const cJSON *d = cJSON_GetObjectItem(o, "data");
  assert_string_equal(cJSON_GetObjectItem(d, "channel")->valuestring, "x");
  assert_string_equal(cJSON_GetObjectItem(cJSON_GetObjectItem(d, "routing"), "outcome")->valuestring, "assigned");
  cJSON_Delete(o);
  free(json);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(statuses_map_to_delivered_retry_or_dead),
      cmocka_unit_test(backoff_doubles_up_to_its_cap_and_jitter_stays_inside),
      cmocka_unit_test(retries_stop_once_the_give_up_time_would_pass),
      cmocka_unit_test(breaker_opens_after_failures_then_probes_once),
      cmocka_unit_test(signature_matches_an_independent_hmac),
      cmocka_unit_test(the_body_carries_the_event_and_its_kind),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
