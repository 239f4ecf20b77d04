/*
 * sb_admit: see sb_admit.h. Envelopes are built with malloc'd strings so
 * that protobuf-c's free_unpacked releases hand-built and decoded ones the
 * same way.
 */
#include "sb_admit.h"
#include "sb_error.h"
#include "sb_identity.h"
#include "sb_pii.h"
#include "sb_time.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int fail(sb_admit_result_t *res, sb_admit_status_t st, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(res->reason, sizeof res->reason, fmt, ap);
  va_end(ap);
  res->status = st;
  return -1;
}

static char *dup_or_empty(const char *s) { return strdup(s ? s : ""); }

static int is_empty(const char *s) { return !s || !*s; }

/* Replaces *field with its redacted copy; adds the kinds found to *found. */
static int redact_field(char **field, unsigned *found) {
  char *out = NULL;
  size_t len = 0;
  unsigned kinds = 0;
  if (sb_pii_redact(*field, strlen(*field), SB_PII_MASK_ALL, &out, &len, &kinds))
    return SB_ENOMEM;
  if (*field != protobuf_c_empty_string)
    free(*field);
  *field = out;
  *found |= kinds;
  return 0;
}

/* Redacts the text and the e-mail subject; records what kinds were found. */
static int redact(sb_envelope_t *env) {
  Switchboard__V1__Interaction *in = env->interaction;
  unsigned found = 0;
  if (redact_field(&in->text, &found) || redact_field(&in->subject, &found))
    return SB_ENOMEM;
  if (!found)
    return 0;
  Switchboard__V1__Classification *c = env->classification;
  if (!c) {
    c = env->classification = malloc(sizeof *c);
    if (!c)
      return SB_ENOMEM;
    switchboard__v1__classification__init(c);
  }
  c->redacted = 1;
  c->pii = calloc(SB_PII__COUNT, sizeof *c->pii);
  if (!c->pii)
    return SB_ENOMEM;
  for (int t = 0; t < SB_PII__COUNT; t++) {
    if (!(found & SB_PII_MASK(t)))
      continue;
    Switchboard__V1__PiiFound *p = malloc(sizeof *p);
    if (!p)
      return SB_ENOMEM;
    switchboard__v1__pii_found__init(p);
    p->type = strdup(sb_pii_type_name((sb_pii_type_t)t));
    p->count = 1;
    c->pii[c->n_pii++] = p;
  }
  return 0;
}

static int check_interaction(sb_envelope_t *env, sb_admit_result_t *res) {
  const Switchboard__V1__Interaction *in = env->interaction;
  if (!in)
    return fail(res, SB_ADMIT_INVALID, "interaction without a body");
  if (in->channel == SWITCHBOARD__V1__CHANNEL__CHANNEL_UNKNOWN || !sb_channel_name(in->channel))
    return fail(res, SB_ADMIT_INVALID, "unknown channel");
  if (is_empty(in->customer) || strlen(in->customer) > SB_ADMIT_ATTR_MAX)
    return fail(res, SB_ADMIT_INVALID, "customer must be 1..%d bytes", SB_ADMIT_ATTR_MAX);
  if (strlen(in->text) > SB_ADMIT_TEXT_MAX)
    return fail(res, SB_ADMIT_INVALID, "text over %d bytes", SB_ADMIT_TEXT_MAX);
  if (strlen(in->reply_token) > SB_ADMIT_ATTR_MAX || strlen(in->reply_chat) > SB_ADMIT_ATTR_MAX ||
      strlen(in->subject) > SB_ADMIT_ATTR_MAX)
    return fail(res, SB_ADMIT_INVALID, "reply_token, reply_chat or subject over %d bytes",
                SB_ADMIT_ATTR_MAX);
  snprintf(res->thread, sizeof res->thread, "%s:%s", sb_channel_name(in->channel), in->customer);
  snprintf(res->ident, sizeof res->ident, "%s", res->thread);
  if (in->customer_id != protobuf_c_empty_string) { /* ingest's to set */
    free(in->customer_id);
    env->interaction->customer_id = (char *)protobuf_c_empty_string;
  }
  if (in->channel == SWITCHBOARD__V1__CHANNEL__CHANNEL_EMAIL) {
    if (!is_empty(in->platform_message_id) && !strchr(in->platform_message_id, '\n'))
      snprintf(res->message, sizeof res->message, "email:%s", in->platform_message_id);
    if (!is_empty(in->reply_to) && !strchr(in->reply_to, '\n'))
      snprintf(res->refs, sizeof res->refs, "email:%s", in->reply_to);
  }
  if (redact(env))
    return fail(res, SB_ADMIT_INVALID, "out of memory");
  return 0;
}

static int answer_id_valid(const char *s) {
  size_t n = strlen(s);
  return n >= 1 && n <= SB_AGENT_SUGGESTION_MAX &&
         strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-") == n;
}

/* Suggestion feedback (AgentEvent 11-13): a reply may name the answer it
 * used (accepted), a suggestion event must name one; other actions carry
 * none. suggestion_result is switchboard's to set (classify, route). */
static int check_suggestion(Switchboard__V1__AgentEvent *a, sb_admit_result_t *res) {
  int feedback = a->action == SWITCHBOARD__V1__AGENT_ACTION__AGENT_SUGGESTION;
  int reply = a->action == SWITCHBOARD__V1__AGENT_ACTION__AGENT_REPLY;
  if (a->suggestion_result != protobuf_c_empty_string) {
    free(a->suggestion_result);
    a->suggestion_result = (char *)protobuf_c_empty_string;
  }
  if (feedback && is_empty(a->suggestion))
    return fail(res, SB_ADMIT_INVALID, "suggestion needs the answer id in suggestion");
  if (!is_empty(a->suggestion) && !answer_id_valid(a->suggestion))
    return fail(res, SB_ADMIT_INVALID, "suggestion must be an answer id [A-Za-z0-9_.-]{1,%d}",
                SB_AGENT_SUGGESTION_MAX);
  if (!feedback && !reply && !is_empty(a->suggestion)) {
    free(a->suggestion); /* only a reply or a suggestion event gives feedback */
    a->suggestion = (char *)protobuf_c_empty_string;
  }
  if (reply)
    a->accepted = !is_empty(a->suggestion); /* the answer was used */
  else if (!feedback)
    a->accepted = 0;
  return 0;
}

static int check_agent(sb_envelope_t *env, sb_admit_result_t *res) {
  Switchboard__V1__AgentEvent *a = env->agent;
  if (!a || a->action == SWITCHBOARD__V1__AGENT_ACTION__AGENT_ACTION_UNKNOWN ||
      a->action > SWITCHBOARD__V1__AGENT_ACTION__AGENT_SUGGESTION)
    return fail(res, SB_ADMIT_INVALID, "agent event without a known action");
  if (is_empty(a->agent) || strlen(a->agent) > SB_ADMIT_ATTR_MAX)
    return fail(res, SB_ADMIT_INVALID, "agent must be 1..%d bytes", SB_ADMIT_ATTR_MAX);
  int status = a->action == SWITCHBOARD__V1__AGENT_ACTION__AGENT_STATUS;
  int conv_status = status && sb_conversation_status_known(a->status);
  if (status && !conv_status && !sb_agent_status_known(a->status))
    return fail(res, SB_ADMIT_INVALID,
                "status must be available, busy or away (the agent), or pending_customer, on_hold "
                "or open (a conversation)");
  int needs_conv = conv_status || (a->action >= SWITCHBOARD__V1__AGENT_ACTION__AGENT_ACCEPT &&
                                   a->action != SWITCHBOARD__V1__AGENT_ACTION__AGENT_STATUS);
  if (needs_conv && is_empty(a->conversation))
    return fail(res, SB_ADMIT_INVALID, "%s needs a conversation",
                conv_status ? a->status : sb_agent_action_name(a->action));
  if (a->action == SWITCHBOARD__V1__AGENT_ACTION__AGENT_TRANSFER &&
      is_empty(a->target_queue) == is_empty(a->target_agent))
    return fail(res, SB_ADMIT_INVALID, "transfer needs exactly one of target_queue and target_agent");
  int rc = check_suggestion(a, res);
  if (rc)
    return rc;
  if (!is_empty(a->conversation)) {
    free(env->conversation != protobuf_c_empty_string ? env->conversation : NULL);
    env->conversation = strdup(a->conversation);
  }
  /* Only a reply carries text: notify sends it to the customer on the
   * conversation's channel. Redacted here, before anything is stored, like
   * a customer's message (an agent who pastes a card number into a reply
   * sends "[CARD]"). Other actions keep none. */
  if (a->text != protobuf_c_empty_string &&
      a->action != SWITCHBOARD__V1__AGENT_ACTION__AGENT_REPLY) {
    free(a->text);
    a->text = (char *)protobuf_c_empty_string;
  } else if (a->text != protobuf_c_empty_string) {
    if (strlen(a->text) > SB_ADMIT_TEXT_MAX)
      return fail(res, SB_ADMIT_INVALID, "reply text over %d bytes", SB_ADMIT_TEXT_MAX);
    char *out = NULL;
    size_t len = 0;
    unsigned found = 0;
    if (sb_pii_redact(a->text, strlen(a->text), SB_PII_MASK_ALL, &out, &len, &found))
      return fail(res, SB_ADMIT_INVALID, "out of memory");
    free(a->text);
    a->text = out;
  }
  return 0;
}

static int call_valid(const char *call) {
  size_t n = strlen(call);
  if (n == 0 || n > SB_VOICE_CALL_MAX)
    return 0;
  for (const char *p = call; *p; p++)
    if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.:@-", *p))
      return 0;
  return 1;
}

static int ivr_valid(const Switchboard__V1__Interaction *in, sb_admit_result_t *res) {
  if (in->n_ivr > SB_VOICE_IVR_MAX)
    return fail(res, SB_ADMIT_INVALID, "ivr has more than %d selections", SB_VOICE_IVR_MAX);
  for (size_t i = 0; i < in->n_ivr; i++) {
    size_t n = strlen(in->ivr[i]);
    if (n == 0 || n > SB_VOICE_IVR_LEN_MAX || strspn(in->ivr[i], "abcdefghijklmnopqrstuvwxyz0123456789_-") != n)
      return fail(res, SB_ADMIT_INVALID, "ivr[%zu] must match [a-z0-9_-]{1,%d}", i, SB_VOICE_IVR_LEN_MAX);
  }
  return 0;
}

/* A call offered: an interaction on channel voice whose caller is a phone
 * number (normalised to E.164, as identities are), threaded by its call id
 * (platform_message_id) rather than by caller. */
static int check_voice_offered(sb_envelope_t *env, sb_admit_result_t *res) {
  Switchboard__V1__Interaction *in = env->interaction;
  if (!in || in->channel != SWITCHBOARD__V1__CHANNEL__CHANNEL_VOICE)
    return fail(res, SB_ADMIT_INVALID, "voice.offered needs an interaction on channel voice");
  if (!call_valid(in->platform_message_id))
    return fail(res, SB_ADMIT_INVALID, "call id (platform_message_id) must match [A-Za-z0-9_.:@-]{1,%d}",
                SB_VOICE_CALL_MAX);
  char num[SB_IDENTITY_ID_MAX + 1];
  if (strlen(in->customer) > SB_VOICE_NUMBER_MAX || sb_identity_normalise("voice", in->customer, num, sizeof num))
    return fail(res, SB_ADMIT_INVALID, "caller must be a phone number in E.164 (up to 15 digits)");
  if (*in->line && (strlen(in->line) > SB_VOICE_NUMBER_MAX ||
                    sb_identity_normalise("voice", in->line, num, sizeof num)))
    return fail(res, SB_ADMIT_INVALID, "line must be a phone number in E.164 (up to 15 digits)");
  if (ivr_valid(in, res))
    return -1;
  sb_identity_normalise("voice", in->customer, num, sizeof num);
  free(in->customer);
  in->customer = strdup(num);
  if (!in->customer || check_interaction(env, res))
    return in->customer ? -1 : fail(res, SB_ADMIT_INVALID, "out of memory");
  snprintf(res->thread, sizeof res->thread, "call:%s", in->platform_message_id);
  return 0;
}

/* Answered (AGENT_REPLY: the agent's first response) and abandoned
 * (AGENT_CLOSE, reason "abandoned") name the call, not the conversation:
 * ingest.lua resolves it from the call (refs "call:<id>"). Answered needs
 * its agent; abandoned may have none (the caller hung up while queued). */
static int check_voice(sb_envelope_t *env, sb_voice_kind_t kind, sb_admit_result_t *res) {
  if (kind == SB_VOICE_OFFERED)
    return check_voice_offered(env, res);
  Switchboard__V1__AgentEvent *a = env->agent;
  Switchboard__V1__AgentAction want = kind == SB_VOICE_ANSWERED ? SWITCHBOARD__V1__AGENT_ACTION__AGENT_REPLY
                                                                : SWITCHBOARD__V1__AGENT_ACTION__AGENT_CLOSE;
  if (!a || a->action != want)
    return fail(res, SB_ADMIT_INVALID, "%s needs an agent event with action %s", env->type,
                sb_agent_action_name(want));
  if (!call_valid(a->call_id))
    return fail(res, SB_ADMIT_INVALID, "call_id must match [A-Za-z0-9_.:@-]{1,%d}", SB_VOICE_CALL_MAX);
  if (is_empty(a->agent) ? kind == SB_VOICE_ANSWERED : strlen(a->agent) > SB_ADMIT_ATTR_MAX)
    return fail(res, SB_ADMIT_INVALID, "agent must be 1..%d bytes", SB_ADMIT_ATTR_MAX);
  if (!is_empty(a->conversation))
    return fail(res, SB_ADMIT_INVALID, "a voice event names its call, not a conversation");
  if (a->text != protobuf_c_empty_string) {
    free(a->text);
    a->text = (char *)protobuf_c_empty_string;
  }
  if (kind == SB_VOICE_ABANDONED) {
    if (a->reason != protobuf_c_empty_string)
      free(a->reason);
    a->reason = strdup("abandoned");
    if (!a->reason)
      return fail(res, SB_ADMIT_INVALID, "out of memory");
  }
  snprintf(res->refs, sizeof res->refs, "call:%s", a->call_id);
  return 0;
}

int sb_admit_envelope(sb_envelope_t *env, const sb_tenants_t *tenants, sb_admit_result_t *res) {
  memset(res, 0, sizeof *res);
  if (is_empty(env->id) || is_empty(env->source) || is_empty(env->type))
    return fail(res, SB_ADMIT_INVALID, "missing required attribute id, source or type");
  if (strlen(env->id) > SB_ADMIT_ATTR_MAX || strlen(env->source) > SB_ADMIT_ATTR_MAX ||
      strlen(env->type) > SB_ADMIT_ATTR_MAX)
    return fail(res, SB_ADMIT_INVALID, "attribute over %d bytes", SB_ADMIT_ATTR_MAX);
  if (strcmp(env->specversion, "1.0") != 0)
    return fail(res, SB_ADMIT_INVALID, "specversion must be \"1.0\"");
  if (!sb_tenant_id_valid(env->tenant, strlen(env->tenant)))
    return fail(res, SB_ADMIT_INVALID, "tenant must match [A-Za-z0-9_-]{1,64}");
  if (!sb_tenants_find(tenants, env->tenant, strlen(env->tenant)))
    return fail(res, SB_ADMIT_UNKNOWN_TENANT, "unknown tenant \"%s\"", env->tenant);
  int rc;
  sb_voice_kind_t voice = sb_voice_kind(env->type);
  if (voice)
    rc = check_voice(env, voice, res);
  else if (env->body_case == SWITCHBOARD__V1__ENVELOPE__BODY_INTERACTION)
    rc = check_interaction(env, res);
  else if (env->body_case == SWITCHBOARD__V1__ENVELOPE__BODY_AGENT)
    rc = check_agent(env, res);
  else
    rc = fail(res, SB_ADMIT_INVALID, "type \"%s\" is not accepted here", env->type);
  if (rc)
    return rc;
  char key[SB_EVENT_KEY_LEN + 1];
  sb_event_key(env->source, env->id, key);
  if (env->key != protobuf_c_empty_string)
    free(env->key);
  env->key = strdup(key);
  env->attempt = 0;
  env->ingested_us = sb_now_us();
  if (!env->time_ms)
    env->time_ms = env->ingested_us / 1000;
  return 0;
}

static int fill_interaction(sb_envelope_t *env, const sb_cloudevent_t *ce, sb_admit_result_t *res) {
  sb_interaction_data_t d = {0};
  char err[160];
  if (sb_interaction_data_parse(ce->data ? ce->data : "null", &d, err, sizeof err))
    return fail(res, SB_ADMIT_INVALID, "data: %s", err);
  Switchboard__V1__Interaction *in = malloc(sizeof *in);
  if (!in) {
    sb_interaction_data_clear(&d);
    return fail(res, SB_ADMIT_INVALID, "out of memory");
  }
  switchboard__v1__interaction__init(in);
  in->channel = sb_channel_parse(d.channel);
  in->customer = dup_or_empty(d.customer);
  in->text = dup_or_empty(d.text);
  in->public_ = d.is_public;
  in->platform_message_id = dup_or_empty(d.platform_message_id);
  in->reply_to = dup_or_empty(d.reply_to);
  if (d.author_name || d.followers) {
    in->author = malloc(sizeof *in->author);
    if (in->author) {
      switchboard__v1__author__init(in->author);
      in->author->name = dup_or_empty(d.author_name);
      in->author->followers = d.followers;
    }
  }
  sb_interaction_data_clear(&d);
  env->body_case = SWITCHBOARD__V1__ENVELOPE__BODY_INTERACTION;
  env->interaction = in;
  return 0;
}

static int fill_agent(sb_envelope_t *env, const sb_cloudevent_t *ce, sb_admit_result_t *res) {
  sb_agent_data_t d = {0};
  char err[160];
  if (sb_agent_data_parse(ce->type, ce->data, &d, err, sizeof err))
    return fail(res, SB_ADMIT_INVALID, "data: %s", err);
  Switchboard__V1__AgentEvent *a = malloc(sizeof *a);
  if (!a) {
    sb_agent_data_clear(&d);
    return fail(res, SB_ADMIT_INVALID, "out of memory");
  }
  switchboard__v1__agent_event__init(a);
  a->action = sb_agent_action_parse(d.action);
  a->agent = dup_or_empty(d.agent);
  a->conversation = dup_or_empty(d.conversation);
  a->capacity = d.capacity;
  a->status = dup_or_empty(d.status);
  a->reason = dup_or_empty(d.reason);
  a->target_queue = dup_or_empty(d.target_queue);
  a->target_agent = dup_or_empty(d.target_agent);
  a->text = dup_or_empty(d.text); /* a reply's; redacted by check_agent */
  a->suggestion = dup_or_empty(d.suggestion);
  a->accepted = d.accepted;
  sb_agent_data_clear(&d);
  env->body_case = SWITCHBOARD__V1__ENVELOPE__BODY_AGENT;
  env->agent = a;
  return 0;
}

static char *dup_take(char **s) {
  char *v = *s ? *s : strdup("");
  *s = NULL;
  return v;
}

static int fill_voice_offered(sb_envelope_t *env, sb_voice_data_t *d) {
  Switchboard__V1__Interaction *in = malloc(sizeof *in);
  if (!in)
    return -1;
  switchboard__v1__interaction__init(in);
  env->body_case = SWITCHBOARD__V1__ENVELOPE__BODY_INTERACTION;
  env->interaction = in;
  in->channel = SWITCHBOARD__V1__CHANNEL__CHANNEL_VOICE;
  in->customer = dup_take(&d->caller);
  in->text = dup_take(&d->text);
  in->platform_message_id = dup_take(&d->call);
  in->line = dup_take(&d->line);
  in->ivr = calloc(d->n_ivr ? d->n_ivr : 1, sizeof *in->ivr);
  if (!in->customer || !in->text || !in->platform_message_id || !in->line || !in->ivr)
    return -1;
  for (; in->n_ivr < d->n_ivr; in->n_ivr++) {
    in->ivr[in->n_ivr] = d->ivr[in->n_ivr];
    d->ivr[in->n_ivr] = NULL;
  }
  d->n_ivr = 0;
  return 0;
}

static int fill_voice_agent(sb_envelope_t *env, sb_voice_data_t *d) {
  Switchboard__V1__AgentEvent *a = malloc(sizeof *a);
  if (!a)
    return -1;
  switchboard__v1__agent_event__init(a);
  env->body_case = SWITCHBOARD__V1__ENVELOPE__BODY_AGENT;
  env->agent = a;
  a->action = d->kind == SB_VOICE_ANSWERED ? SWITCHBOARD__V1__AGENT_ACTION__AGENT_REPLY
                                           : SWITCHBOARD__V1__AGENT_ACTION__AGENT_CLOSE;
  a->agent = dup_take(&d->agent);
  a->call_id = dup_take(&d->call);
  return a->agent && a->call_id ? 0 : -1;
}

/* Voice / ACD events (sb_voice_data_parse) mapped onto the envelope that
 * sb_admit_envelope then checks like one received over ZeroMQ. */
static int fill_voice(sb_envelope_t *env, const sb_cloudevent_t *ce, sb_admit_result_t *res) {
  sb_voice_data_t d;
  char err[160];
  if (sb_voice_data_parse(ce->type, ce->data, &d, err, sizeof err))
    return fail(res, SB_ADMIT_INVALID, "data: %s", err);
  int rc = d.kind == SB_VOICE_OFFERED ? fill_voice_offered(env, &d) : fill_voice_agent(env, &d);
  sb_voice_data_clear(&d);
  return rc ? fail(res, SB_ADMIT_INVALID, "out of memory") : 0;
}

sb_envelope_t *sb_admit_cloudevent(const sb_cloudevent_t *ce, const sb_tenants_t *tenants,
                                   sb_admit_result_t *res) {
  memset(res, 0, sizeof *res);
  sb_envelope_t *env = malloc(sizeof *env);
  if (!env) {
    fail(res, SB_ADMIT_INVALID, "out of memory");
    return NULL;
  }
  switchboard__v1__envelope__init(env);
  env->id = dup_or_empty(ce->id);
  env->source = dup_or_empty(ce->source);
  env->type = dup_or_empty(ce->type);
  env->specversion = dup_or_empty(ce->specversion);
  env->tenant = dup_or_empty(ce->tenant);
  env->traceparent = dup_or_empty(ce->traceparent);
  env->time_ms = ce->time_ms;
  int rc;
  if (strcmp(ce->type, SB_TYPE_INTERACTION) == 0)
    rc = fill_interaction(env, ce, res);
  else if (strncmp(ce->type, SB_TYPE_AGENT_PREFIX, strlen(SB_TYPE_AGENT_PREFIX)) == 0)
    rc = fill_agent(env, ce, res);
  else if (sb_voice_kind(ce->type))
    rc = fill_voice(env, ce, res);
  else
    rc = fail(res, SB_ADMIT_INVALID, "type \"%s\" is not accepted here", ce->type);
  if (rc == 0)
    rc = sb_admit_envelope(env, tenants, res);
  if (rc) {
    sb_envelope_free(env);
    return NULL;
  }
  return env;
}
