/*
 * test_hooks_event: the JSON body of an outbound webhook reads only the
 * envelope body that is set. The bodies share one union (a protobuf oneof):
 * a service-level envelope must not be read as an SLA event or an agent
 * event (that read a ServiceLevel as an SlaEvent and crashed notify at
 * every publication once a webhook subscribed to "*").
 */
#include "sb_hooks_event.h"

#include <cjson/cJSON.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

static void a_service_level_envelope_is_not_read_as_another_body(void **state) {
  (void)state;
  Switchboard__V1__ServiceLevelRow row = SWITCHBOARD__V1__SERVICE_LEVEL_ROW__INIT;
  Switchboard__V1__ServiceLevelRow *rows[] = {&row};
  Switchboard__V1__ServiceLevel sl = SWITCHBOARD__V1__SERVICE_LEVEL__INIT;
  sb_envelope_t env = SWITCHBOARD__V1__ENVELOPE__INIT;
  row.channel = "x";
  row.queue = "*";
  row.answered = 7;
  sl.window_ms = 3600000;
  sl.n_rows = 1;
  sl.rows = rows;
  env.id = "sl-1";
  env.key = "k1";
  env.source = "/sla-timer";
  env.type = "com.switchboard.service_level";
  env.tenant = "acme";
  env.body_case = SWITCHBOARD__V1__ENVELOPE__BODY_SERVICE_LEVEL;
  env.service_level = &sl;
  char *json = sb_hooks_event_json(&env);
  assert_non_null(json);
  cJSON *o = cJSON_Parse(json);
  assert_non_null(o);
  assert_string_equal(cJSON_GetObjectItem(o, "type")->valuestring, "service_level");
  assert_null(cJSON_GetObjectItem(o, "conversation"));
  assert_null(cJSON_GetObjectItem(o, "agent"));
  const cJSON *data = cJSON_GetObjectItem(o, "data");
  assert_non_null(data);
  assert_null(cJSON_GetObjectItem(data, "sla"));
  assert_null(cJSON_GetObjectItem(data, "action"));
  cJSON_Delete(o);
  free(json);
}

static void an_agent_event_names_its_agent_and_conversation(void **state) {
  (void)state;
  Switchboard__V1__AgentEvent a = SWITCHBOARD__V1__AGENT_EVENT__INIT;
  sb_envelope_t env = SWITCHBOARD__V1__ENVELOPE__INIT;
  a.action = SWITCHBOARD__V1__AGENT_ACTION__AGENT_CLOSE;
  a.agent = "ann";
  a.conversation = "conv-9";
  env.id = "a-1";
  env.key = "k2";
  env.source = "/desk";
  env.type = "com.switchboard.agent";
  env.tenant = "acme";
  env.body_case = SWITCHBOARD__V1__ENVELOPE__BODY_AGENT;
  env.agent = &a;
  char *json = sb_hooks_event_json(&env);
  cJSON *o = cJSON_Parse(json);
  assert_non_null(o);
  assert_string_equal(cJSON_GetObjectItem(o, "agent")->valuestring, "ann");
  assert_string_equal(cJSON_GetObjectItem(o, "conversation")->valuestring, "conv-9");
  assert_string_equal(cJSON_GetObjectItem(cJSON_GetObjectItem(o, "data"), "action")->valuestring,
                      sb_agent_action_name(a.action));
  cJSON_Delete(o);
  free(json);
}

static void an_incident_says_what_kind_and_which_queue(void **state) {
  (void)state;
  Switchboard__V1__Incident in = SWITCHBOARD__V1__INCIDENT__INIT;
  sb_envelope_t env = SWITCHBOARD__V1__ENVELOPE__INIT;
  in.kind = "queue_stuck";
  in.key = in.queue = "billing";
  in.id = "queue_stuck:billing:1764000000000";
  in.observed = 612000;
  in.baseline = 600000;
  in.waiting = 4;
  in.supervisor_alert = 1;
  env.id = "incident-queue_stuck:billing:1764000000000";
  env.key = "k3";
  env.source = "/sla-timer";
  env.type = "com.switchboard.incident.queue_stuck";
  env.tenant = "acme";
  env.body_case = SWITCHBOARD__V1__ENVELOPE__BODY_INCIDENT;
  env.incident = &in;
  char *json = sb_hooks_event_json(&env);
  cJSON *o = cJSON_Parse(json);
  assert_non_null(o);
  assert_string_equal(cJSON_GetObjectItem(o, "type")->valuestring, "incident");
  assert_null(cJSON_GetObjectItem(o, "conversation"));
  const cJSON *i = cJSON_GetObjectItem(cJSON_GetObjectItem(o, "data"), "incident");
  assert_non_null(i);
  assert_string_equal(cJSON_GetObjectItem(i, "kind")->valuestring, "queue_stuck");
  assert_string_equal(cJSON_GetObjectItem(i, "queue")->valuestring, "billing");
  assert_string_equal(cJSON_GetObjectItem(i, "id")->valuestring, in.id);
  assert_int_equal(cJSON_GetObjectItem(i, "waiting")->valueint, 4);
  assert_true(cJSON_IsTrue(cJSON_GetObjectItem(i, "supervisor_alert")));
  assert_null(cJSON_GetObjectItem(cJSON_GetObjectItem(o, "data"), "sla"));
  cJSON_Delete(o);
  free(json);
}

/* A platform's receipt for what notify sent: kind "delivery", the
 * conversation it belongs to, and what the platform said about which
 * message (a webhook subscriber marks the agent's reply read). */
static void a_delivery_names_its_conversation_and_the_message(void **state) {
  (void)state;
  Switchboard__V1__DeliveryStatus d = SWITCHBOARD__V1__DELIVERY_STATUS__INIT;
  sb_envelope_t env = SWITCHBOARD__V1__ENVELOPE__INIT;
  d.channel = "whatsapp";
  d.platform_message_id = "wamid.HBgL";
  d.status = "read";
  d.purpose = "reply";
  d.time_ms = 1749416399000;
  env.id = "whatsapp:wamid.HBgL:read";
  env.key = "k4";
  env.source = "/delivery";
  env.type = "com.switchboard.delivery";
  env.tenant = "acme";
  env.conversation = "conv-7";
  env.body_case = SWITCHBOARD__V1__ENVELOPE__BODY_DELIVERY;
  env.delivery = &d;
  assert_string_equal(sb_envelope_kind(&env), "delivery");
  char *json = sb_hooks_event_json(&env);
  cJSON *o = cJSON_Parse(json);
  assert_non_null(o);
  assert_string_equal(cJSON_GetObjectItem(o, "type")->valuestring, "delivery");
  assert_string_equal(cJSON_GetObjectItem(o, "conversation")->valuestring, "conv-7");
  const cJSON *x = cJSON_GetObjectItem(cJSON_GetObjectItem(o, "data"), "delivery");
  assert_non_null(x);
  assert_string_equal(cJSON_GetObjectItem(x, "channel")->valuestring, "whatsapp");
  assert_string_equal(cJSON_GetObjectItem(x, "platform_message_id")->valuestring, "wamid.HBgL");
  assert_string_equal(cJSON_GetObjectItem(x, "status")->valuestring, "read");
  assert_string_equal(cJSON_GetObjectItem(x, "purpose")->valuestring, "reply");
  assert_non_null(cJSON_GetObjectItem(x, "time"));
  assert_null(cJSON_GetObjectItem(cJSON_GetObjectItem(o, "data"), "incident"));
  cJSON_Delete(o);
  free(json);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(a_service_level_envelope_is_not_read_as_another_body),
      cmocka_unit_test(an_agent_event_names_its_agent_and_conversation),
      cmocka_unit_test(an_incident_says_what_kind_and_which_queue),
      cmocka_unit_test(a_delivery_names_its_conversation_and_the_message),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
