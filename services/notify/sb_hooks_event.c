/* sb_hooks_event: see sb_hooks_event.h. */
#include "sb_hooks_event.h"
#include "sb_error.h"

#include <cjson/cJSON.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static void add_str(cJSON *o, const char *name, const char *v) {
  if (v && *v)
    cJSON_AddStringToObject(o, name, v);
}

static void add_time(cJSON *o, const char *name, int64_t ms) {
  if (ms <= 0)
    return;
  time_t s = (time_t)(ms / 1000);
  struct tm tm;
  char buf[40];
  gmtime_r(&s, &tm);
  size_t n = strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
  snprintf(buf + n, sizeof buf - n, ".%03dZ", (int)(ms % 1000));
  cJSON_AddStringToObject(o, name, buf);
}

static void add_interaction(cJSON *d, const Switchboard__V1__Interaction *in) {
  add_str(d, "channel", sb_channel_name(in->channel));
  add_str(d, "customer", in->customer);
  add_str(d, "text", in->text);
  if (in->public_)
    cJSON_AddBoolToObject(d, "public", 1);
}

static void add_classification(cJSON *d, const Switchboard__V1__Classification *c) {
  add_str(d, "language", c->language);
  add_str(d, "sentiment", c->sentiment);
  cJSON_AddNumberToObject(d, "priority", c->priority);
  if (c->move_private)
    cJSON_AddBoolToObject(d, "move_private", 1);
  add_str(d, "spike", c->spike);
}

static void add_routing(cJSON *d, const Switchboard__V1__RoutingDecision *r) {
  cJSON *o = cJSON_AddObjectToObject(d, "routing");
  static const char *const outcomes[] = {"none",     "assigned", "queued",  "existing",
                                         "agent_ok", "rejected", "diverted"};
  size_t i = (size_t)r->outcome;
  add_str(o, "outcome", i < sizeof outcomes / sizeof outcomes[0] ? outcomes[i] : "unknown");
  add_str(o, "agent", r->agent);
  add_str(o, "reason", r->reason);
  if (r->new_conversation)
    cJSON_AddBoolToObject(o, "new_conversation", 1);
  if (r->first_reply)
    cJSON_AddBoolToObject(o, "first_reply", 1);
}

static void add_sla(cJSON *d, const Switchboard__V1__SlaEvent *s) {
  cJSON *o = cJSON_AddObjectToObject(d, "sla");
  add_str(o, "timer", s->timer);
  cJSON_AddNumberToObject(o, "target_ms", (double)s->target_ms);
  cJSON_AddNumberToObject(o, "elapsed_ms", (double)s->elapsed_ms);
  add_time(o, "due", s->due_ms);
  if (s->supervisor_alert)
    cJSON_AddBoolToObject(o, "supervisor_alert", 1);
  add_str(o, "alert_key", s->alert_key);
  add_time(o, "alert_deferred_until", s->alert_deferred_ms);
  if (s->raised_priority > 0)
    cJSON_AddNumberToObject(o, "raised_priority", s->raised_priority);
  if (s->widen_requested)
    cJSON_AddBoolToObject(o, "widen_requested", 1);
  if (s->acknowledge_customer)
    cJSON_AddBoolToObject(o, "acknowledge_customer", 1);
}

static void add_incident(cJSON *d, const Switchboard__V1__Incident *in) {
  cJSON *o = cJSON_AddObjectToObject(d, "incident");
  add_str(o, "kind", in->kind);
  add_str(o, "id", in->id);
  add_str(o, "key", in->key);
  add_str(o, "queue", in->queue);
  add_time(o, "started", in->started_ms);
  cJSON_AddNumberToObject(o, "observed", in->observed);
  cJSON_AddNumberToObject(o, "baseline", in->baseline);
  if (in->waiting)
    cJSON_AddNumberToObject(o, "waiting", in->waiting);
  cJSON_AddBoolToObject(o, "supervisor_alert", in->supervisor_alert);
  add_time(o, "alert_deferred_until", in->alert_deferred_ms);
}

static void add_delivery(cJSON *d, const Switchboard__V1__DeliveryStatus *s) {
  cJSON *o = cJSON_AddObjectToObject(d, "delivery");
  add_str(o, "channel", s->channel);
  add_str(o, "platform_message_id", s->platform_message_id);
  add_str(o, "status", s->status);
  add_str(o, "purpose", s->purpose);
  add_time(o, "time", s->time_ms);
}

/* The body members share one union (protobuf-c's oneof): read one only
 * when body_case says it is the one set, or a service-level envelope's
 * body would be read as an SLA event. */
static const Switchboard__V1__SlaEvent *sla_body(const sb_envelope_t *env) {
  return env->body_case == SWITCHBOARD__V1__ENVELOPE__BODY_SLA ? env->sla : NULL;
}

static const Switchboard__V1__AgentEvent *agent_body(const sb_envelope_t *env) {
  return env->body_case == SWITCHBOARD__V1__ENVELOPE__BODY_AGENT ? env->agent : NULL;
}

static const Switchboard__V1__Interaction *interaction_body(const sb_envelope_t *env) {
  return env->body_case == SWITCHBOARD__V1__ENVELOPE__BODY_INTERACTION ? env->interaction : NULL;
}

static const char *conversation_of(const sb_envelope_t *env) {
  const Switchboard__V1__SlaEvent *sla = sla_body(env);
  const Switchboard__V1__AgentEvent *agent = agent_body(env);
  if (env->conversation && *env->conversation)
    return env->conversation;
  if (env->routing && env->routing->conversation && *env->routing->conversation)
    return env->routing->conversation;
  if (sla && sla->conversation && *sla->conversation)
    return sla->conversation;
  if (agent && agent->conversation)
    return agent->conversation;
  return NULL;
}

static const char *agent_of(const sb_envelope_t *env) {
  if (env->routing && env->routing->agent && *env->routing->agent)
    return env->routing->agent;
  return agent_body(env) ? agent_body(env)->agent : NULL;
}

char *sb_hooks_event_json(const sb_envelope_t *env) {
  cJSON *o = cJSON_CreateObject();
  if (!o)
    return NULL;
  add_str(o, "specversion", "1.0");
  add_str(o, "id", env->key);
  add_str(o, "type", sb_envelope_kind(env));
  add_str(o, "source", env->source);
  add_str(o, "source_id", env->id);
  add_str(o, "tenant", env->tenant);
  add_str(o, "conversation", conversation_of(env));
  add_str(o, "agent", agent_of(env));
  add_time(o, "time", env->time_ms);
  cJSON *d = cJSON_AddObjectToObject(o, "data");
  add_str(d, "event_type", env->type);
  if (interaction_body(env))
    add_interaction(d, interaction_body(env));
  if (agent_body(env))
    add_str(d, "action", sb_agent_action_name(agent_body(env)->action));
  if (env->classification)
    add_classification(d, env->classification);
  if (env->routing)
    add_routing(d, env->routing);
  if (env->body_case == SWITCHBOARD__V1__ENVELOPE__BODY_INCIDENT && env->incident)
    add_incident(d, env->incident);
  if (env->body_case == SWITCHBOARD__V1__ENVELOPE__BODY_DELIVERY && env->delivery)
    add_delivery(d, env->delivery);
  if (sla_body(env))
    add_sla(d, sla_body(env));
  else if (env->sla_armed)
    add_sla(d, env->sla_armed);
  char *json = cJSON_PrintUnformatted(o);
  cJSON_Delete(o);
  return json;
}

int sb_hooks_sign(const char *secret, int64_t t, const char *body, size_t len, char *out,
                  size_t cap) {
  static const char hex[] = "0123456789abcdef";
  if (cap < SB_HOOKS_SIGNATURE_MAX)
    return SB_ETOOBIG;
  char ts[24];
  int tl = snprintf(ts, sizeof ts, "%lld.", (long long)t);
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int mdlen = 0;
  EVP_MAC *mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
  EVP_MAC_CTX *ctx = mac ? EVP_MAC_CTX_new(mac) : NULL;
  OSSL_PARAM params[] = {OSSL_PARAM_construct_utf8_string("digest", "SHA256", 0),
                         OSSL_PARAM_construct_end()};
  size_t outl = 0;
  int ok = ctx && EVP_MAC_init(ctx, (const unsigned char *)secret, strlen(secret), params) &&
           EVP_MAC_update(ctx, (const unsigned char *)ts, (size_t)tl) &&
           EVP_MAC_update(ctx, (const unsigned char *)body, len) &&
           EVP_MAC_final(ctx, md, &outl, sizeof md);
  EVP_MAC_CTX_free(ctx);
  EVP_MAC_free(mac);
  if (!ok)
    return SB_EIO;
  mdlen = (unsigned int)outl;
  int n = snprintf(out, cap, "t=%lld,v1=", (long long)t);
  for (unsigned int i = 0; i < mdlen; i++) {
    out[n++] = hex[md[i] >> 4];
    out[n++] = hex[md[i] & 15];
  }
  out[n] = '\0';
  return 0;
}
