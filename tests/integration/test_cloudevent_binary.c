/*
 * Binary-mode CloudEvents over real HTTP on POST /v1/events: the attributes
 * as ce-* headers (percent-encoded where the binding says), the data as an
 * application/json body. A binary-mode event is accepted (202), stored once
 * with the decoded attributes, and a redelivery - in either mode - is
 * recognised as a duplicate (200) and not stored again. Bad headers are
 * 400 and a non-JSON body 415, each with a reason, and write nothing.
 */
#include "sb_testutil.h"
#include "sb_teststack.h"

#include "sb_envelope.h"
#include "sb_service.h"

#include <stdio.h>
#include <string.h>

#define TENANTS "{\"tenants\":[{\"id\":\"web\"}]}"
#define OUT_MAX 4096
#define TRACE "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
#define DATA "{\"channel\":\"webchat\",\"customer\":\"c-9\",\"text\":\"Where is my parcel?\"}"
/* ce-* headers of event `id` with source "/web chat/€" percent-encoded */
#define CE_HEADERS(id)                                                                    \
  "ce-specversion: 1.0\r\nce-id: " id "\r\nce-source: /web%20chat/%E2%82%AC\r\n"         \
  "ce-type: com.switchboard.interaction\r\nCE-Tenant: web\r\ntraceparent: " TRACE

static sb_teststack_t *st;

static int setup(void **state) {
  (void)state;
  st = sb_teststack_start(TENANTS, NULL);
  return st ? 0 : -1;
}

static int teardown(void **state) {
  (void)state;
  sb_teststack_stop(&st);
  return 0;
}

static int post(const char *headers, const char *content_type, const char *body, char *out) {
  return sb_teststack_http_header(st, SB_PORT_INGEST_HTTP, "POST", "/v1/events", headers,
                                  content_type, body, strlen(body), out, OUT_MAX);
}

static long long ingested(void) {
  sbctl_stats_t s = {0};
  assert_int_equal(sbctl_view_read(sb_teststack_redis(st), "web", &s), 0);
  return s.ingested;
}

/* The envelope stored for (source, id), or NULL. */
static sb_envelope_t *stored(const char *source, const char *id) {
  char key[SB_EVENT_KEY_LEN + 1];
  sb_event_key(source, id, key);
  redisReply *r = redisCommand(sb_teststack_redis(st), "GET sb:{t:web}:ev:%s", key);
  assert_non_null(r);
  sb_envelope_t *env = r->type == REDIS_REPLY_STRING ? sb_envelope_unpack(r->str, r->len) : NULL;
  freeReplyObject(r);
  return env;
}

static void a_binary_event_is_accepted_and_stored_once(void **state) {
  (void)state;
  char out[OUT_MAX];
  assert_int_equal(post(CE_HEADERS("b-1"), "application/json; charset=utf-8", DATA, out), 202);
  assert_non_null(strstr(out, "\"id\":\"b-1\""));
  assert_non_null(strstr(out, "\"status\":\"accepted\""));
  assert_int_equal(ingested(), 1);
  sb_envelope_t *env = stored("/web chat/\xe2\x82\xac", "b-1"); /* decoded source */
  assert_non_null(env);
  assert_string_equal(env->tenant, "web");
  assert_string_equal(env->type, "com.switchboard.interaction");
  assert_string_equal(env->traceparent, TRACE); /* from the traceparent header */
  assert_int_equal(env->body_case, SWITCHBOARD__V1__ENVELOPE__BODY_INTERACTION);
  assert_string_equal(env->interaction->text, "Where is my parcel?");
  sb_envelope_free(env);
}

static void a_redelivery_in_either_mode_is_a_duplicate(void **state) {
  (void)state;
  char out[OUT_MAX];
  assert_int_equal(post(CE_HEADERS("b-1"), "application/json", DATA, out), 200);
  assert_non_null(strstr(out, "\"status\":\"duplicate\""));
  const char *structured =
      "{\"specversion\":\"1.0\",\"id\":\"b-1\",\"source\":\"/web chat/\xe2\x82\xac\","
      "\"type\":\"com.switchboard.interaction\",\"tenant\":\"web\",\"data\":" DATA "}";
  assert_int_equal(post(NULL, "application/cloudevents+json", structured, out), 200);
  assert_non_null(strstr(out, "\"status\":\"duplicate\""));
  assert_int_equal(ingested(), 1);
}

static void bad_headers_are_400_and_write_nothing(void **state) {
  (void)state;
  char out[OUT_MAX];
  long long before = ingested();
  assert_int_equal(post("ce-specversion: 1.0\r\nce-id: b-2\r\nce-type: com.switchboard.interaction\r\n"
                        "ce-tenant: web",
                        NULL, DATA, out),
                   400);
  assert_non_null(strstr(out, "invalid_event"));
  assert_non_null(strstr(out, "missing required attribute \\\"source\\\""));
  assert_int_equal(post(CE_HEADERS("b-3") "\r\nce-id: b-4", NULL, DATA, out), 400);
  assert_non_null(strstr(out, "duplicate header ce-id"));
  assert_int_equal(post(CE_HEADERS("b-%4"), NULL, DATA, out), 400);
  assert_non_null(strstr(out, "header ce-id: bad percent-encoding"));
  assert_int_equal(post(CE_HEADERS("b-5"), NULL, "{\"channel\":", out), 400);
  assert_non_null(strstr(out, "data: invalid JSON"));
  assert_int_equal(ingested(), before);
}

static void a_body_that_is_not_json_is_415(void **state) {
  (void)state;
  char out[OUT_MAX];
  long long before = ingested();
  assert_int_equal(post(CE_HEADERS("b-6"), "text/plain", "Where is my parcel?", out), 415);
  assert_non_null(strstr(out, "unsupported_media_type"));
  assert_non_null(strstr(out, "application/json"));
  assert_int_equal(ingested(), before);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(a_binary_event_is_accepted_and_stored_once),
      cmocka_unit_test(a_redelivery_in_either_mode_is_a_duplicate),
      cmocka_unit_test(bad_headers_are_400_and_write_nothing),
      cmocka_unit_test(a_body_that_is_not_json_is_415),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
