/* sb_admit: what may enter the bus, and the envelope ingest stores. */
#include "sb_testutil.h"

#include "sb_admit.h"

#include <stdio.h>
#include <stdlib.h>
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

static sb_envelope_t *voice(const char *kind, char *data, sb_admit_result_t *r) {
  char type[64];
  snprintf(type, sizeof type, SB_CLOUDEVENT_TYPE_VOICE_PREFIX "%s", kind);
  sb_cloudevent_t ce = message("acme", data);
  ce.type = type;
  return sb_admit_cloudevent(&ce, tenants, r);
}

static void a_call_offered_is_a_voice_interaction_threaded_by_call(void **state) {
  (void)state;
  char data[] = "{\"call\":\"c-77\",\"caller\":\"+33 (1) 23-45-67-89\",\"ivr\":[\"billing\",\"fr\"],"
                "\"line\":\"+18005550100\"}";
  sb_admit_result_t r;
  sb_envelope_t *env = voice("offered", data, &r);
  assert_non_null(env);
  const Switchboard__V1__Interaction *in = env->interaction;
  assert_int_equal(in->channel, SWITCHBOARD__V1__CHANNEL__CHANNEL_VOICE);
  assert_string_equal(in->customer, "+33123456789"); /* as identities normalise it */
  assert_string_equal(in->platform_message_id, "c-77");
  assert_int_equal(in->n_ivr, 2);
  assert_string_equal(in->ivr[0], "billing");
  assert_string_equal(in->ivr[1], "fr");
  assert_string_equal(in->line, "+18005550100");
  assert_string_equal(r.thread, "call:c-77");
  assert_string_equal(r.ident, "voice:+33123456789");
  sb_envelope_free(env);
}

static void answered_is_a_reply_and_abandoned_a_close_both_by_call(void **state) {
  (void)state;
  char a[] = "{\"call\":\"c-77\",\"agent\":\"ana\"}";
  char b[] = "{\"call\":\"c-77\",\"agent\":\"ana\"}";
  sb_admit_result_t r;
  sb_envelope_t *env = voice("answered", a, &r);
  assert_non_null(env);
  assert_int_equal(env->agent->action, SWITCHBOARD__V1__AGENT_ACTION__AGENT_REPLY);
  assert_string_equal(env->agent->call_id, "c-77");
  assert_string_equal(env->agent->conversation, "");
  assert_string_equal(r.refs, "call:c-77");
  assert_string_equal(r.thread, "");
  sb_envelope_free(env);
  env = voice("abandoned", b, &r);
  assert_non_null(env);
  assert_int_equal(env->agent->action, SWITCHBOARD__V1__AGENT_ACTION__AGENT_CLOSE);
  assert_string_equal(env->agent->reason, "abandoned");
  sb_envelope_free(env);
  /* a caller who hangs up while queued reached no agent: none is named */
  char c[] = "{\"call\":\"c-78\"}";
  env = voice("abandoned", c, &r);
  assert_non_null(env);
  assert_string_equal(env->agent->agent, "");
  assert_string_equal(env->agent->reason, "abandoned");
  assert_string_equal(r.refs, "call:c-78");
  sb_envelope_free(env);
}

static void voice_events_with_bad_fields_are_refused_with_a_reason(void **state) {
  (void)state;
  static const struct { const char *kind, *data, *why; } bad[] = {
      {"offered", "{\"caller\":\"+331\"}", "\"call\""},
      {"offered", "{\"call\":\"c 1\",\"caller\":\"+33123456789\"}", "\"call\" must match"},
      {"offered", "{\"call\":\"c1\",\"caller\":\"anonymous\"}", "\"caller\" must be a phone"},
      {"offered", "{\"call\":\"c1\",\"caller\":\"+1234567890123456\"}", "\"caller\" must be a phone"},
      {"offered", "{\"call\":\"c1\",\"caller\":\"33+1\"}", "\"caller\" must be a phone"},
      {"offered", "{\"call\":\"c1\",\"caller\":\"+33123456789\",\"ivr\":\"billing\"}", "array"},
      {"offered", "{\"call\":\"c1\",\"caller\":\"+33123456789\",\"ivr\":[\"Billing\"]}", "\"ivr\"[0]"},
      {"offered", "{\"call\":\"c1\",\"caller\":\"+33123456789\",\"ivr\":[\"a\",\"b\",\"c\",\"d\",\"e\",\"f\",\"g\",\"h\",\"i\"]}",
       "more than 8"},
      {"offered", "{\"call\":\"c1\",\"caller\":\"+33123456789\",\"line\":\"x\"}", "\"line\""},
      {"offered", "{\"call\":\"c1\",\"call\":\"c2\",\"caller\":\"+33123456789\"}", "duplicate"},
      {"answered", "{\"call\":\"c1\"}", "\"agent\""},
      {"abandoned", "{\"agent\":\"ana\"}", "\"call\""},
      {"abandoned", "{\"call\":\"c1\",\"agent\":\"\"}", "\"agent\""},
      {"abandoned", "{\"call\":\"c1\",\"agent\":\"a b\"}", "\"agent\""},
      {"hungup", "{\"call\":\"c1\",\"agent\":\"ana\"}", "not accepted"},
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    char data[512];
    snprintf(data, sizeof data, "%s", bad[i].data);
    sb_admit_result_t r;
    sb_envelope_t *env = voice(bad[i].kind, data, &r);
    if (env || !strstr(r.reason, bad[i].why))
      fail_msg("case %zu (%s): reason \"%s\"", i, bad[i].data, r.reason);
    assert_int_equal(r.status, SB_ADMIT_INVALID);
  }
}

static void a_zmq_voice_event_is_checked_like_json(void **state) {
  (void)state;
  sb_envelope_t *env = calloc(1, sizeof *env);
  switchboard__v1__envelope__init(env);
  env->id = strdup("z1");
  env->source = strdup("/acd");
  env->type = strdup(SB_CLOUDEVENT_TYPE_VOICE_PREFIX "answered");
  env->specversion = strdup("1.0");
  env->tenant = strdup("acme");
  Switchboard__V1__AgentEvent *a = calloc(1, sizeof *a);
  switchboard__v1__agent_event__init(a);
  a->action = SWITCHBOARD__V1__AGENT_ACTION__AGENT_ACCEPT; /* accept stops no clock */
  a->agent = strdup("ana");
  a->call_id = strdup("c-1");
  env->body_case = SWITCHBOARD__V1__ENVELOPE__BODY_AGENT;
  env->agent = a;
  sb_admit_result_t r;
  assert_int_equal(sb_admit_envelope(env, tenants, &r), -1);
  assert_non_null(strstr(r.reason, "AGENT_REPLY") ? r.reason : strstr(r.reason, "reply"));
  a->action = SWITCHBOARD__V1__AGENT_ACTION__AGENT_REPLY;
  assert_int_equal(sb_admit_envelope(env, tenants, &r), 0);
  assert_string_equal(r.refs, "call:c-1");
  sb_envelope_free(env);
}

/* An e-mail's subject (kept for the answer's "Re:") is redacted like its
 * text, and bounded. */
static void an_email_subject_is_redacted_and_bounded(void **state) {
  (void)state;
  sb_envelope_t *env = calloc(1, sizeof *env);
  switchboard__v1__envelope__init(env);
  env->id = strdup("e1");
  env->source = strdup("/email/support");
  env->type = strdup(SB_TYPE_INTERACTION);
  env->specversion = strdup("1.0");
  env->tenant = strdup("acme");
  Switchboard__V1__Interaction *in = calloc(1, sizeof *in);
  switchboard__v1__interaction__init(in);
  in->channel = SWITCHBOARD__V1__CHANNEL__CHANNEL_EMAIL;
  in->customer = strdup("ana@example.com");
  in->text = strdup("see subject");
  in->subject = strdup("card 5555 5555 5555 4444 refused");
  env->body_case = SWITCHBOARD__V1__ENVELOPE__BODY_INTERACTION;
  env->interaction = in;
  sb_admit_result_t r;
  assert_int_equal(sb_admit_envelope(env, tenants, &r), 0);
  assert_string_equal(in->subject, "card [CARD] refused");
  assert_non_null(env->classification);
  assert_string_equal(env->classification->pii[0]->type, "card");
  free(in->subject);
  in->subject = malloc(SB_ADMIT_ATTR_MAX + 2);
  memset(in->subject, 'a', SB_ADMIT_ATTR_MAX + 1);
  in->subject[SB_ADMIT_ATTR_MAX + 1] = '\0';
  assert_int_equal(sb_admit_envelope(env, tenants, &r), -1);
  assert_int_equal(r.status, SB_ADMIT_INVALID);
  assert_non_null(strstr(r.reason, "subject"));
  sb_envelope_free(env);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(a_message_gets_its_key_thread_and_redacted_text),
      cmocka_unit_test(an_email_subject_is_redacted_and_bounded),
      cmocka_unit_test(the_key_depends_on_source_and_id_only),
      cmocka_unit_test(an_unknown_tenant_is_told_apart_from_malformed),
      cmocka_unit_test(an_unknown_type_is_refused),
      cmocka_unit_test(agent_events_need_a_conversation_to_reply),
      cmocka_unit_test(a_zmq_envelope_without_attributes_is_refused),
      cmocka_unit_test(a_call_offered_is_a_voice_interaction_threaded_by_call),
      cmocka_unit_test(answered_is_a_reply_and_abandoned_a_close_both_by_call),
      cmocka_unit_test(voice_events_with_bad_fields_are_refused_with_a_reason),
      cmocka_unit_test(a_zmq_voice_event_is_checked_like_json),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
