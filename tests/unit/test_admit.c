/* sb_admit: what may enter the bus, and the envelope ingest stores. */
#include "sb_testutil.h"

#include "sb_admit.h"

#include <string.h>

static sb_tenants_t *tenants;

static int setup(void **state) {
  (void)state;
  const char *json = "{\"tenants\":[{\"id\":\"acme\"}]}";
  char err[128];
  tenants = sb_tenants_parse(json, strlen(json), err, sizeof err);
  return tenants ? 0 : -1;
}

static int teardown(void **state) {
  (void)state;
  sb_tenants_destroy(&tenants);
  return 0;
}

static sb_cloudevent_t message(const char *tenant, char *data) {
  sb_cloudevent_t ce = {.id = "m1", .source = "/x/acct", .type = SB_TYPE_INTERACTION,
                        .specversion = "1.0", .tenant = (char *)tenant, .data = data};
  return ce;
}

static void a_message_gets_its_key_thread_and_redacted_text(void **state) {
  (void)state;
  char data[] = "{\"channel\":\"x\",\"customer\":\"@ann\",\"public\":true,"
                "\"text\":\"charged twice on 5555 5555 5555 4444, fix it\"}";
  sb_cloudevent_t ce = message("acme", data);
  sb_admit_result_t r;
  sb_envelope_t *env = sb_admit_cloudevent(&ce, tenants, &r);
  assert_non_null(env);
  assert_int_equal(r.status, SB_ADMIT_OK);
  assert_string_equal(r.thread, "x:@ann");
  char key[SB_EVENT_KEY_LEN + 1];
  sb_event_key("/x/acct", "m1", key);
  assert_string_equal(env->key, key);
  assert_null(strstr(env->interaction->text, "5555"));
  assert_non_null(strstr(env->interaction->text, "[CARD]"));
  assert_true(env->interaction->public_);
  assert_non_null(env->classification);
  assert_int_equal(env->classification->n_pii, 1);
  assert_string_equal(env->classification->pii[0]->type, "card");
  assert_true(env->time_ms > 0);
  sb_envelope_free(env);
}

static void the_key_depends_on_source_and_id_only(void **state) {
  (void)state;
  char a[SB_EVENT_KEY_LEN + 1], b[SB_EVENT_KEY_LEN + 1], c[SB_EVENT_KEY_LEN + 1];
  sb_event_key("/s", "1", a);
  sb_event_key("/s", "1", b);
  sb_event_key("/s1", "", c);
  assert_string_equal(a, b);
  assert_string_not_equal(a, c); /* the separator keeps ("/s","1") apart from ("/s1","") */
}

static void an_unknown_tenant_is_told_apart_from_malformed(void **state) {
  (void)state;
  char data[] = "{\"channel\":\"x\",\"customer\":\"c\",\"text\":\"hi\"}";
  sb_cloudevent_t ce = message("other", data);
  sb_admit_result_t r;
  assert_null(sb_admit_cloudevent(&ce, tenants, &r));
  assert_int_equal(r.status, SB_ADMIT_UNKNOWN_TENANT);
  char bad[] = "{\"channel\":\"pigeon\",\"customer\":\"c\",\"text\":\"hi\"}";
  ce = message("acme", bad);
  assert_null(sb_admit_cloudevent(&ce, tenants, &r));
  assert_int_equal(r.status, SB_ADMIT_INVALID);
  assert_true(strlen(r.reason) > 0);
}

static void an_unknown_type_is_refused(void **state) {
  (void)state;
  sb_cloudevent_t ce = {.id = "1", .source = "/s", .type = "com.example.other", .specversion = "1.0",
                        .tenant = "acme"};
  sb_admit_result_t r;
  assert_null(sb_admit_cloudevent(&ce, tenants, &r));
  assert_non_null(strstr(r.reason, "com.example.other"));
}

static void agent_events_need_a_conversation_to_reply(void **state) {
  (void)state;
  sb_cloudevent_t ce = {.id = "a1", .source = "/desk", .type = "com.switchboard.agent.reply",
                        .specversion = "1.0", .tenant = "acme", .data = "{\"agent\":\"bo\"}"};
  sb_admit_result_t r;
  assert_null(sb_admit_cloudevent(&ce, tenants, &r));
  ce.data = "{\"agent\":\"bo\",\"conversation\":\"c1\",\"text\":\"card 4111111111111111\"}";
  sb_envelope_t *env = sb_admit_cloudevent(&ce, tenants, &r);
  assert_non_null(env);
  assert_string_equal(env->conversation, "c1");
  /* a reply keeps its text for the customer, redacted before it is stored */
  assert_string_equal(env->agent->text, "card [CARD]");
  assert_string_equal(r.thread, "");
  sb_envelope_free(env);
}

static void a_zmq_envelope_without_attributes_is_refused(void **state) {
  (void)state;
  sb_envelope_t env = SWITCHBOARD__V1__ENVELOPE__INIT;
  sb_admit_result_t r;
  assert_int_equal(sb_admit_envelope(&env, tenants, &r), -1);
  assert_int_equal(r.status, SB_ADMIT_INVALID);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(a_message_gets_its_key_thread_and_redacted_text),
      cmocka_unit_test(the_key_depends_on_source_and_id_only),
      cmocka_unit_test(an_unknown_tenant_is_told_apart_from_malformed),
      cmocka_unit_test(an_unknown_type_is_refused),
      cmocka_unit_test(agent_events_need_a_conversation_to_reply),
      cmocka_unit_test(a_zmq_envelope_without_attributes_is_refused),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
