/*
 * sbc_event: see sbc_event.h. Encoding builds an Envelope on the stack
 * whose strings borrow the caller's (packed at once, nothing kept);
 * decoding keeps the unpacked Envelope and points the plain struct into it.
 */
#include "sbc_event.h"
#include "switchboard.pb-c.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SBC_DEFAULT_SOURCE "/libswitchboard-client"
#define SBC_TYPE_INTERACTION "com.switchboard.interaction"
#define SBC_TYPE_AGENT_PREFIX "com.switchboard.agent."
#define SBC_TYPE_MAX 96

static const char *const channel_names[] = {
    "unknown", "x", "facebook", "messenger", "instagram", "whatsapp", "wechat",
    "email", "webchat", "sms", "voice", "app", "telegram", "line"};
#define CHANNEL_COUNT (sizeof channel_names / sizeof channel_names[0])

static const char *const action_names[] = {
    "unknown", "login",  "logout",   "accept", "reply",
    "close",   "status", "transfer", "reject", "suggestion"};
#define ACTION_COUNT (sizeof action_names / sizeof action_names[0])

const char *sbc_channel_name(sbc_channel_t c) {
  return (unsigned)c < CHANNEL_COUNT ? channel_names[c] : "unknown";
}

sbc_channel_t sbc_channel_parse(const char *name) {
  for (size_t i = 1; name && i < CHANNEL_COUNT; i++)
    if (strcmp(channel_names[i], name) == 0)
      return (sbc_channel_t)i;
  return SBC_CHANNEL_UNKNOWN;
}

/* protobuf-c reads every string field: "" stands for unset. */
static char *s(const char *v) { return (char *)(v ? v : ""); }
static const char *nz(const char *v) { return v ? v : ""; }

static int empty(const char *v) { return !v || !*v; }

/* Only a reply or a suggestion event carries suggestion feedback. */
static int gives_feedback(sbc_agent_action_t a) {
  return a == SBC_AGENT_REPLY || a == SBC_AGENT_SUGGESTION;
}

/* An answer id as the bus takes it (ingest's sb_admit): 1..64 of
 * [A-Za-z0-9_.-]; checked here so the caller learns before sending. */
static int answer_id_valid(const char *v) {
  size_t n = strlen(v);
  return n >= 1 && n <= SBC_AGENT_SUGGESTION_MAX &&
         strspn(v, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-") == n;
}

static int check_suggestion(const sbc_agent_event_t *a, const char **why) {
  if (a->action == SBC_AGENT_SUGGESTION && empty(a->suggestion))
    return *why = "a suggestion event needs the answer id in suggestion", SBC_ESUGGESTION;
  if (gives_feedback(a->action) && !empty(a->suggestion) && !answer_id_valid(a->suggestion))
    return *why = "suggestion must be an answer id [A-Za-z0-9_.-]{1,64}", SBC_ESUGGESTION;
  return 0;
}

static int check(const sbc_event_t *ev, const char **why) {
  if (!ev || empty(ev->tenant) || empty(ev->id))
    return *why = "tenant and id are required", SBC_EINVAL;
  if (ev->kind == SBC_EVENT_INTERACTION &&
      ((unsigned)ev->interaction.channel >= CHANNEL_COUNT || empty(ev->interaction.customer)))
    return *why = "an interaction needs a known channel and a customer", SBC_EINVAL;
  if (ev->kind == SBC_EVENT_AGENT &&
      ((unsigned)ev->agent.action >= ACTION_COUNT || ev->agent.action == SBC_AGENT_UNKNOWN ||
       empty(ev->agent.agent)))
    return *why = "an agent event needs a known action and an agent", SBC_EINVAL;
  if (ev->kind != SBC_EVENT_INTERACTION && ev->kind != SBC_EVENT_AGENT)
    return *why = "kind must be SBC_EVENT_INTERACTION or SBC_EVENT_AGENT", SBC_EINVAL;
  return ev->kind == SBC_EVENT_AGENT ? check_suggestion(&ev->agent, why) : 0;
}

int sbc__event_encode(const sbc_event_t *ev, int64_t now_us, uint8_t **out, size_t *len,
                      const char **why) {
  *why = "";
  int rc = check(ev, why);
  if (rc)
    return rc;
  Switchboard__V1__Envelope env = SWITCHBOARD__V1__ENVELOPE__INIT;
  Switchboard__V1__Interaction in = SWITCHBOARD__V1__INTERACTION__INIT;
  Switchboard__V1__Author author = SWITCHBOARD__V1__AUTHOR__INIT;
  Switchboard__V1__AgentEvent ag = SWITCHBOARD__V1__AGENT_EVENT__INIT;
  char type[SBC_TYPE_MAX];
  env.id = s(ev->id);
  env.source = s(ev->source ? ev->source : SBC_DEFAULT_SOURCE);
  env.specversion = "1.0";
  env.tenant = s(ev->tenant);
  env.traceparent = s(ev->traceparent);
  env.time_ms = ev->time_ms ? ev->time_ms : now_us / 1000;
  env.published_us = now_us;
  if (ev->kind == SBC_EVENT_INTERACTION) {
    const sbc_interaction_t *i = &ev->interaction;
    snprintf(type, sizeof type, "%s", SBC_TYPE_INTERACTION);
    in.channel = (Switchboard__V1__Channel)i->channel;
    in.customer = s(i->customer);
    in.text = s(i->text);
    in.public_ = i->is_public != 0;
    in.platform_message_id = s(i->platform_message_id);
    in.reply_to = s(i->reply_to);
    if (i->author_name || i->author_followers) {
      author.name = s(i->author_name);
      author.followers = i->author_followers;
      in.author = &author;
    }
    env.body_case = SWITCHBOARD__V1__ENVELOPE__BODY_INTERACTION;
    env.interaction = &in;
  } else {
    const sbc_agent_event_t *a = &ev->agent;
    snprintf(type, sizeof type, "%s%s", SBC_TYPE_AGENT_PREFIX, action_names[a->action]);
    ag.action = (Switchboard__V1__AgentAction)a->action;
    ag.agent = s(a->agent);
    ag.conversation = s(a->conversation);
    ag.capacity = a->capacity;
    ag.text = s(a->text);
    ag.status = s(a->status);
    ag.reason = s(a->reason);
    ag.target_queue = s(a->target_queue);
    ag.target_agent = s(a->target_agent);
    if (gives_feedback(a->action)) { /* the bus sets accepted itself for a reply */
      ag.suggestion = s(a->suggestion);
      ag.accepted = a->action == SBC_AGENT_SUGGESTION ? a->accepted != 0 : !empty(a->suggestion);
    }
    env.body_case = SWITCHBOARD__V1__ENVELOPE__BODY_AGENT;
    env.agent = &ag;
  }
  env.type = ev->type ? s(ev->type) : type;
  *len = switchboard__v1__envelope__get_packed_size(&env);
  *out = malloc(*len ? *len : 1);
  if (!*out)
    return *why = "out of memory", SBC_ENOMEM;
  switchboard__v1__envelope__pack(&env, *out);
  return 0;
}

static void decode_interaction(const Switchboard__V1__Interaction *in, sbc_event_t *e) {
  e->kind = SBC_EVENT_INTERACTION;
  e->interaction.channel = (sbc_channel_t)in->channel;
  e->interaction.customer = nz(in->customer);
  e->interaction.text = nz(in->text);
  e->interaction.is_public = in->public_;
  e->interaction.platform_message_id = nz(in->platform_message_id);
  e->interaction.reply_to = nz(in->reply_to);
  e->interaction.author_name = in->author ? nz(in->author->name) : "";
  e->interaction.author_followers = in->author ? in->author->followers : 0;
}

static void decode_agent(const Switchboard__V1__AgentEvent *a, sbc_event_t *e) {
  e->kind = SBC_EVENT_AGENT;
  e->agent.action = (sbc_agent_action_t)a->action;
  e->agent.agent = nz(a->agent);
  e->agent.conversation = nz(a->conversation);
  e->agent.capacity = a->capacity;
  e->agent.text = nz(a->text);
  e->agent.status = nz(a->status);
  e->agent.reason = nz(a->reason);
  e->agent.target_queue = nz(a->target_queue);
  e->agent.target_agent = nz(a->target_agent);
  e->agent.suggestion = nz(a->suggestion);
  e->agent.accepted = a->accepted;
}

/* The parts that stages added: routing, classification, SLA. */
static void decode_stages(const Switchboard__V1__Envelope *env, sbc_feed_event_t *f) {
  f->agent = f->queue = f->route_reason = f->language = f->sentiment = f->sla_timer = "";
  f->suggested_reply = f->suggestion_result = "";
  if (env->body_case == SWITCHBOARD__V1__ENVELOPE__BODY_AGENT && env->agent)
    f->suggestion_result = nz(env->agent->suggestion_result);
  if (env->routing) {
    f->route_outcome = env->routing->outcome;
    f->agent = nz(env->routing->agent);
    f->queue = nz(env->routing->queue);
    f->route_reason = nz(env->routing->reason);
    if (!f->agent[0] && env->routing->n_pulled) /* an agent event that assigned */
      f->agent = nz(env->routing->pulled[0]->agent);
  }
  if (env->classification) {
    f->language = nz(env->classification->language);
    f->sentiment = nz(env->classification->sentiment);
    f->priority = env->classification->priority;
    f->suggested_reply = nz(env->classification->suggested_reply);
  }
  const Switchboard__V1__SlaEvent *sla =
      env->body_case == SWITCHBOARD__V1__ENVELOPE__BODY_SLA ? env->sla : env->sla_armed;
  if (sla) {
    f->sla_kind = sla->kind;
    f->sla_timer = nz(sla->timer);
    f->sla_due_ms = sla->due_ms;
  }
}

/* Every string "" (the body that is absent stays so). */
static void blank(sbc_event_t *e) {
  sbc_interaction_t *i = &e->interaction;
  sbc_agent_event_t *a = &e->agent;
  i->customer = i->text = i->platform_message_id = i->reply_to = i->author_name = "";
  a->agent = a->conversation = a->text = a->status = a->reason = "";
  a->target_queue = a->target_agent = a->suggestion = "";
}

int sbc__feed_decode(const uint8_t *bytes, size_t len, const char *topic, sbc__feed_msg_t *m) {
  memset(m, 0, sizeof *m);
  Switchboard__V1__Envelope *env = switchboard__v1__envelope__unpack(NULL, len, bytes);
  if (!env)
    return SBC_EPROTO;
  m->env = env;
  sbc_feed_event_t *f = &m->ev;
  f->topic = topic;
  const char *dot = strchr(topic, '.');
  f->kind = dot ? dot + 1 : topic + strlen(topic); /* "" without a dot */
  f->seq = env->feed_seq;
  sbc_event_t *e = &f->event;
  blank(e);
  e->tenant = nz(env->tenant);
  e->id = nz(env->id);
  e->source = nz(env->source);
  e->type = nz(env->type);
  e->time_ms = env->time_ms;
  e->traceparent = nz(env->traceparent);
  if (env->body_case == SWITCHBOARD__V1__ENVELOPE__BODY_INTERACTION && env->interaction)
    decode_interaction(env->interaction, e);
  else if (env->body_case == SWITCHBOARD__V1__ENVELOPE__BODY_AGENT && env->agent)
    decode_agent(env->agent, e);
  f->key = nz(env->key);
  f->conversation = nz(env->conversation);
  decode_stages(env, f);
  f->raw = bytes;
  f->raw_len = len;
  return 0;
}

void sbc__feed_release(sbc__feed_msg_t *m) {
  if (m->env)
    switchboard__v1__envelope__free_unpacked(m->env, NULL);
  m->env = NULL;
}
