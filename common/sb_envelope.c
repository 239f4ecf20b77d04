/* sb_envelope: see sb_envelope.h. */
#include "sb_envelope.h"
#include "sb_error.h"

#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>

static const char *const channel_names[] = {
    [SWITCHBOARD__V1__CHANNEL__CHANNEL_UNKNOWN] = "unknown",
    [SWITCHBOARD__V1__CHANNEL__CHANNEL_X] = "x",
    [SWITCHBOARD__V1__CHANNEL__CHANNEL_FACEBOOK] = "facebook",
    [SWITCHBOARD__V1__CHANNEL__CHANNEL_MESSENGER] = "messenger",
    [SWITCHBOARD__V1__CHANNEL__CHANNEL_INSTAGRAM] = "instagram",
    [SWITCHBOARD__V1__CHANNEL__CHANNEL_WHATSAPP] = "whatsapp",
    [SWITCHBOARD__V1__CHANNEL__CHANNEL_WECHAT] = "wechat",
    [SWITCHBOARD__V1__CHANNEL__CHANNEL_EMAIL] = "email",
    [SWITCHBOARD__V1__CHANNEL__CHANNEL_WEBCHAT] = "webchat",
    [SWITCHBOARD__V1__CHANNEL__CHANNEL_SMS] = "sms",
    [SWITCHBOARD__V1__CHANNEL__CHANNEL_VOICE] = "voice",
    [SWITCHBOARD__V1__CHANNEL__CHANNEL_APP] = "app",
    [SWITCHBOARD__V1__CHANNEL__CHANNEL_TELEGRAM] = "telegram",
    [SWITCHBOARD__V1__CHANNEL__CHANNEL_LINE] = "line",
};
#define CHANNEL_COUNT (sizeof channel_names / sizeof channel_names[0])

static const char *const action_names[] = {
    [SWITCHBOARD__V1__AGENT_ACTION__AGENT_ACTION_UNKNOWN] = "unknown",
    [SWITCHBOARD__V1__AGENT_ACTION__AGENT_LOGIN] = "login",
    [SWITCHBOARD__V1__AGENT_ACTION__AGENT_LOGOUT] = "logout",
    [SWITCHBOARD__V1__AGENT_ACTION__AGENT_ACCEPT] = "accept",
    [SWITCHBOARD__V1__AGENT_ACTION__AGENT_REPLY] = "reply",
    [SWITCHBOARD__V1__AGENT_ACTION__AGENT_CLOSE] = "close",
    [SWITCHBOARD__V1__AGENT_ACTION__AGENT_STATUS] = "status",
    [SWITCHBOARD__V1__AGENT_ACTION__AGENT_TRANSFER] = "transfer",
    [SWITCHBOARD__V1__AGENT_ACTION__AGENT_REJECT] = "reject",
    [SWITCHBOARD__V1__AGENT_ACTION__AGENT_SUGGESTION] = "suggestion",
};
#define ACTION_COUNT (sizeof action_names / sizeof action_names[0])

void sb_event_key(const char *source, const char *id, char out[SB_EVENT_KEY_LEN + 1]) {
  static const char hex[] = "0123456789abcdef";
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int mdlen = 0;
  EVP_MD_CTX *ctx = EVP_MD_CTX_new();
  EVP_DigestInit_ex(ctx, EVP_sha256(), NULL);
  EVP_DigestUpdate(ctx, source, strlen(source));
  EVP_DigestUpdate(ctx, "\n", 1);
  EVP_DigestUpdate(ctx, id, strlen(id));
  EVP_DigestFinal_ex(ctx, md, &mdlen);
  EVP_MD_CTX_free(ctx);
  for (int i = 0; i < SB_EVENT_KEY_LEN / 2; i++) {
    out[2 * i] = hex[md[i] >> 4];
    out[2 * i + 1] = hex[md[i] & 15];
  }
  out[SB_EVENT_KEY_LEN] = '\0';
}

int sb_customer_id_derived(const char *tenant, const char *identity, char out[SB_CUSTOMER_ID_LEN + 1]) {
  static const char hex[] = "0123456789abcdef";
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int mdlen = 0;
  EVP_MD_CTX *ctx = EVP_MD_CTX_new();
  int ok = ctx && EVP_DigestInit_ex(ctx, EVP_sha1(), NULL) && EVP_DigestUpdate(ctx, tenant, strlen(tenant)) &&
           EVP_DigestUpdate(ctx, "\n", 1) && EVP_DigestUpdate(ctx, identity, strlen(identity)) &&
           EVP_DigestFinal_ex(ctx, md, &mdlen);
  EVP_MD_CTX_free(ctx);
  if (!ok)
    return SB_ENOMEM;
  memcpy(out, "cus_", 4);
  for (int i = 0; i < (SB_CUSTOMER_ID_LEN - 4) / 2; i++) {
    out[4 + 2 * i] = hex[md[i] >> 4];
    out[4 + 2 * i + 1] = hex[md[i] & 15];
  }
  out[SB_CUSTOMER_ID_LEN] = '\0';
  return 0;
}

const char *sb_channel_name(Switchboard__V1__Channel c) {
  return (size_t)c < CHANNEL_COUNT && channel_names[c] ? channel_names[c] : "unknown";
}

Switchboard__V1__Channel sb_channel_parse(const char *name) {
  for (size_t i = 1; i < CHANNEL_COUNT; i++)
    if (channel_names[i] && strcmp(channel_names[i], name) == 0)
      return (Switchboard__V1__Channel)i;
  return SWITCHBOARD__V1__CHANNEL__CHANNEL_UNKNOWN;
}

Switchboard__V1__AgentAction sb_agent_action_parse(const char *name) {
  for (size_t i = 1; i < ACTION_COUNT; i++)
    if (strcmp(action_names[i], name) == 0)
      return (Switchboard__V1__AgentAction)i;
  return SWITCHBOARD__V1__AGENT_ACTION__AGENT_ACTION_UNKNOWN;
}

const char *sb_agent_action_name(Switchboard__V1__AgentAction a) {
  return (size_t)a < ACTION_COUNT ? action_names[a] : "unknown";
}

sb_envelope_t *sb_envelope_unpack(const void *data, size_t len) {
  if (len > SB_ENVELOPE_MAX_BYTES)
    return NULL;
  return switchboard__v1__envelope__unpack(NULL, len, data);
}

void sb_envelope_free(sb_envelope_t *env) {
  if (env)
    switchboard__v1__envelope__free_unpacked(env, NULL);
}

uint8_t *sb_envelope_pack(const sb_envelope_t *env, size_t *len) {
  *len = switchboard__v1__envelope__get_packed_size(env);
  uint8_t *buf = malloc(*len ? *len : 1);
  if (buf)
    switchboard__v1__envelope__pack(env, buf);
  return buf;
}

static int empty(const char *s) { return !s || !*s; }

int sb_envelope_check(const sb_envelope_t *env, const char **why) {
  if (empty(env->id) || empty(env->source) || empty(env->type)) {
    *why = "missing id, source or type";
    return SB_EINVAL;
  }
  if (empty(env->tenant)) {
    *why = "missing tenant";
    return SB_EINVAL;
  }
  if (!env->key || strlen(env->key) != SB_EVENT_KEY_LEN) {
    *why = "missing or malformed internal key";
    return SB_EINVAL;
  }
  return 0;
}

static const char *routing_kind(const Switchboard__V1__RoutingDecision *r) {
  switch (r->outcome) {
  case SWITCHBOARD__V1__ROUTE_OUTCOME__ROUTE_ASSIGNED: return "assigned";
  case SWITCHBOARD__V1__ROUTE_OUTCOME__ROUTE_QUEUED: return "queued";
  case SWITCHBOARD__V1__ROUTE_OUTCOME__ROUTE_EXISTING: return "routed";
  case SWITCHBOARD__V1__ROUTE_OUTCOME__ROUTE_AGENT_OK: return r->n_pulled ? "assigned" : "agent";
  case SWITCHBOARD__V1__ROUTE_OUTCOME__ROUTE_REJECTED: return "rejected";
  case SWITCHBOARD__V1__ROUTE_OUTCOME__ROUTE_DIVERTED: return "diverted";
  default: return "event";
  }
}

int sb_agent_status_known(const char *s) {
  return s && (strcmp(s, "available") == 0 || strcmp(s, "busy") == 0 || strcmp(s, "away") == 0);
}

int sb_conversation_status_known(const char *s) {
  return s && (strcmp(s, "pending_customer") == 0 || strcmp(s, "on_hold") == 0 ||
               strcmp(s, "open") == 0);
}

const char *sb_envelope_kind(const sb_envelope_t *env) {
  if (env->body_case == SWITCHBOARD__V1__ENVELOPE__BODY_SERVICE_LEVEL)
    return "service_level";
  if (env->body_case == SWITCHBOARD__V1__ENVELOPE__BODY_INCIDENT)
    return "incident";
  if (env->body_case == SWITCHBOARD__V1__ENVELOPE__BODY_DELIVERY)
    return "delivery";
  if (env->body_case == SWITCHBOARD__V1__ENVELOPE__BODY_SLA && env->sla) {
    switch (env->sla->kind) {
    case SWITCHBOARD__V1__SLA_KIND__SLA_WARNING: return "sla.warning";
    case SWITCHBOARD__V1__SLA_KIND__SLA_BREACH: return "sla.breach";
    case SWITCHBOARD__V1__SLA_KIND__SLA_SUPERVISOR_ALERT: return "sla.alert";
    default: return "sla";
    }
  }
  if (env->sla_armed && env->sla_armed->kind == SWITCHBOARD__V1__SLA_KIND__SLA_MET)
    return "sla.met";
  return env->routing ? routing_kind(env->routing) : "event";
}
