/* sbctl_agents: see sbctl_agents.h. Pending actions are a list ordered by
 * due time (a demo has a few thousand at most). The suggestions remembered
 * per conversation are a small chained hash, forgotten at close and
 * bounded (conversations that never reach our agents stop being recorded
 * at SUGGEST_MAX). */
#include "sbctl_agents.h"
#include "sb_cloudevent.h"
#include "sb_curve.h"
#include "sb_time.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zmq.h>

#define SBCTL_AGENT_NAME_MAX 96
#define SUGGEST_BUCKETS 4096
#define SUGGEST_MAX 100000
#define PCT_MAX 100

/* The answer suggested for the last message of a conversation. */
typedef struct suggested {
  struct suggested *next;
  char tenant[SB_TENANT_ID_MAX + 1];
  char answer[SB_AGENT_SUGGESTION_MAX + 1];
  char *conversation;
} suggested_t;

typedef struct action {
  struct action *next;
  int64_t due_ms;
  Switchboard__V1__AgentAction what;
  char tenant[SB_TENANT_ID_MAX + 1];
  char agent[SBCTL_AGENT_NAME_MAX];
  char *conversation;
} action_t;

struct sbctl_agents {
  void *sub;
  sbctl_client_t *client;
  sbctl_agents_opts_t o;
  action_t *actions;
  sb_histogram_t *latency;
  sbctl_agents_stats_t st;
  uint64_t seq;
  int64_t measure_from_us;
  suggested_t *suggested[SUGGEST_BUCKETS];
  size_t n_suggested;
  char (*tenants)[SB_TENANT_ID_MAX + 1]; /* ours: the feed brings every tenant's */
  size_t n_tenants;
  int judge, accept_pct; /* suggestion feedback, off unless told */
  uint64_t rng;          /* xorshift64 state: the accept draw */
};

int sbctl_agents_parse_pct(const char *text, int *pct, char *why, size_t whylen) {
  char *end = NULL;
  errno = 0;
  long v = text && *text ? strtol(text, &end, 10) : 0;
  if (!text || !*text || errno || *end) {
    snprintf(why, whylen, "--accept-suggestions must be a whole number 0..%d, not \"%s\"", PCT_MAX,
             text ? text : "");
    return -1;
  }
  if (v < 0 || v > PCT_MAX) {
    snprintf(why, whylen, "--accept-suggestions is a percentage 0..%d, not %ld", PCT_MAX, v);
    return -1;
  }
  *pct = (int)v;
  return 0;
}

void sbctl_agents_judge_suggestions(sbctl_agents_t *a, int accept_pct) {
  a->judge = 1;
  a->accept_pct = accept_pct < 0 ? 0 : accept_pct > PCT_MAX ? PCT_MAX : accept_pct;
}

static size_t bucket(const char *tenant, const char *conv) {
  uint64_t h = 1469598103934665603ULL; /* FNV-1a */
  for (const char *p = tenant; *p; p++)
    h = (h ^ (unsigned char)*p) * 1099511628211ULL;
  for (const char *p = conv; *p; p++)
    h = (h ^ (unsigned char)*p) * 1099511628211ULL;
  return (size_t)(h % SUGGEST_BUCKETS);
}

static suggested_t **suggested_find(sbctl_agents_t *a, const char *tenant, const char *conv) {
  suggested_t **p = &a->suggested[bucket(tenant, conv)];
  while (*p && (strcmp((*p)->conversation, conv) || strcmp((*p)->tenant, tenant)))
    p = &(*p)->next;
  return p;
}

static void suggested_forget(sbctl_agents_t *a, const char *tenant, const char *conv) {
  suggested_t **p = suggested_find(a, tenant, conv), *x = *p;
  if (!x)
    return;
  *p = x->next;
  free(x->conversation);
  free(x);
  a->n_suggested--;
}

/* A message of conv: its suggestion, "" when it carried none. */
static void suggested_set(sbctl_agents_t *a, const char *tenant, const char *conv, const char *answer) {
  if (!*answer || strlen(answer) > SB_AGENT_SUGGESTION_MAX) {
    suggested_forget(a, tenant, conv);
    return;
  }
  suggested_t *x = *suggested_find(a, tenant, conv);
  if (!x) {
    if (a->n_suggested >= SUGGEST_MAX || !(x = calloc(1, sizeof *x)) ||
        !(x->conversation = strdup(conv))) {
      free(x);
      return;
    }
    snprintf(x->tenant, sizeof x->tenant, "%s", tenant);
    size_t b = bucket(tenant, conv);
    x->next = a->suggested[b];
    a->suggested[b] = x;
    a->n_suggested++;
  }
  snprintf(x->answer, sizeof x->answer, "%s", answer);
}

/* 1 with probability pct %. */
static int draw(sbctl_agents_t *a, int pct) {
  a->rng ^= a->rng << 13;
  a->rng ^= a->rng >> 7;
  a->rng ^= a->rng << 17;
  return (int)(a->rng % PCT_MAX) < pct;
}

static void schedule(sbctl_agents_t *a, int64_t due, Switchboard__V1__AgentAction what,
                     const char *tenant, const char *agent, const char *conv) {
  action_t *x = calloc(1, sizeof *x);
  if (!x)
    return;
  x->due_ms = due;
  x->what = what;
  snprintf(x->tenant, sizeof x->tenant, "%s", tenant);
  snprintf(x->agent, sizeof x->agent, "%s", agent);
  x->conversation = strdup(conv ? conv : "");
  action_t **p = &a->actions;
  while (*p && (*p)->due_ms <= due)
    p = &(*p)->next;
  x->next = *p;
  *p = x;
}

static sb_envelope_t *agent_event(sbctl_agents_t *a, const action_t *x) {
  sb_envelope_t *env = malloc(sizeof *env);
  Switchboard__V1__AgentEvent *ev = malloc(sizeof *ev);
  char id[256], type[64];
  if (!env || !ev) {
    free(env);
    free(ev);
    return NULL;
  }
  switchboard__v1__envelope__init(env);
  switchboard__v1__agent_event__init(ev);
  const char *verb = sb_agent_action_name(x->what);
  snprintf(id, sizeof id, "%s-%s-%s-%llu", x->agent, verb, x->conversation,
           (unsigned long long)++a->seq);
  snprintf(type, sizeof type, "%s%s", SB_TYPE_AGENT_PREFIX, verb);
  env->id = strdup(id);
  env->source = strdup("/sbctl/agents");
  env->type = strdup(type);
  env->specversion = strdup("1.0");
  env->tenant = strdup(x->tenant);
  ev->action = x->what;
  ev->agent = strdup(x->agent);
  ev->conversation = strdup(x->conversation);
  ev->capacity = a->o.capacity;
  env->body_case = SWITCHBOARD__V1__ENVELOPE__BODY_AGENT;
  env->agent = ev;
  return env;
}

sbctl_agents_t *sbctl_agents_new(void *zctx, const char *feed, sbctl_client_t *client,
                                 const sb_tenants_t *tenants, const sbctl_agents_opts_t *o) {
  return sbctl_agents_new_curve(zctx, feed, client, tenants, o, NULL);
}

sbctl_agents_t *sbctl_agents_new_curve(void *zctx, const char *feed, sbctl_client_t *client,
                                       const sb_tenants_t *tenants, const sbctl_agents_opts_t *o,
                                       const sb_curve_t *curve) {
  sbctl_agents_t *a = calloc(1, sizeof *a);
  if (!a)
    return NULL;
  a->client = client;
  a->o = *o;
  a->rng = ((uint64_t)sb_now_us() << 16) ^ (uint64_t)getpid() ^ 0x9e3779b97f4a7c15ULL;
  a->n_tenants = o->per_tenant > 0 ? sb_tenants_count(tenants) : 0;
  a->tenants = calloc(a->n_tenants ? a->n_tenants : 1, sizeof *a->tenants);
  for (size_t t = 0; a->tenants && t < a->n_tenants; t++)
    snprintf(a->tenants[t], sizeof a->tenants[t], "%s", sb_tenants_at(tenants, t)->id);
  a->latency = sb_histogram_new();
  a->sub = zmq_socket(zctx, ZMQ_SUB);
  int linger = 0, hwm = 0; /* no drops at the subscriber: we measure */
  zmq_setsockopt(a->sub, ZMQ_LINGER, &linger, sizeof linger);
  zmq_setsockopt(a->sub, ZMQ_RCVHWM, &hwm, sizeof hwm);
  zmq_setsockopt(a->sub, ZMQ_SUBSCRIBE, "", 0);
  if (!a->tenants || (sb_curve_enabled(curve) && sb_curve_client(curve, a->sub) != 0) ||
      zmq_connect(a->sub, feed) != 0) {
    zmq_close(a->sub);
    free(a->tenants);
    sb_histogram_destroy(&a->latency);
    free(a);
    return NULL;
  }
  int64_t now = sb_now_ms();
  for (size_t t = 0; t < sb_tenants_count(tenants); t++)
    for (int i = 1; i <= o->per_tenant; i++) {
      char name[SBCTL_AGENT_NAME_MAX];
      snprintf(name, sizeof name, "%s-agent-%02d", sb_tenants_at(tenants, t)->id, i);
      schedule(a, now, SWITCHBOARD__V1__AGENT_ACTION__AGENT_LOGIN, sb_tenants_at(tenants, t)->id,
               name, NULL);
    }
  return a;
}

void sbctl_agents_destroy(sbctl_agents_t **ap) {
  sbctl_agents_t *a = *ap;
  if (!a)
    return;
  *ap = NULL;
  while (a->actions) {
    action_t *x = a->actions;
    a->actions = x->next;
    free(x->conversation);
    free(x);
  }
  for (size_t b = 0; b < SUGGEST_BUCKETS; b++)
    while (a->suggested[b]) {
      suggested_t *x = a->suggested[b];
      a->suggested[b] = x->next;
      free(x->conversation);
      free(x);
    }
  zmq_close(a->sub);
  sb_histogram_destroy(&a->latency);
  free(a->tenants);
  free(a);
}

void *sbctl_agents_socket(sbctl_agents_t *a) { return a->sub; }

/* An assignment seen on the feed: one of ours works it. */
static void on_assignment(sbctl_agents_t *a, const char *tenant, const char *agent, const char *conv) {
  char prefix[SB_TENANT_ID_MAX + 8];
  snprintf(prefix, sizeof prefix, "%s-agent-", tenant);
  if (a->o.per_tenant == 0 || a->o.reply_ms < 0 || strncmp(agent, prefix, strlen(prefix)) != 0)
    return;
  int64_t now = sb_now_ms();
  a->st.assignments++;
  schedule(a, now, SWITCHBOARD__V1__AGENT_ACTION__AGENT_ACCEPT, tenant, agent, conv);
  schedule(a, now + a->o.reply_ms, SWITCHBOARD__V1__AGENT_ACTION__AGENT_REPLY, tenant, agent, conv);
  schedule(a, now + a->o.reply_ms + a->o.close_ms, SWITCHBOARD__V1__AGENT_ACTION__AGENT_CLOSE, tenant,
           agent, conv);
}

static int ours(const sbctl_agents_t *a, const char *tenant) {
  for (size_t t = 0; t < a->n_tenants; t++)
    if (strcmp(a->tenants[t], tenant) == 0)
      return 1;
  return 0;
}

/* A customer's message on the feed: the answer suggested for it, if we
 * give feedback. */
static void remember_suggestion(sbctl_agents_t *a, const sb_envelope_t *env) {
  const Switchboard__V1__RoutingDecision *r = env->routing;
  const char *conv = env->conversation && *env->conversation ? env->conversation : r->conversation;
  if (!a->judge || env->body_case != SWITCHBOARD__V1__ENVELOPE__BODY_INTERACTION ||
      !env->classification || !conv || !*conv || !env->tenant || !ours(a, env->tenant))
    return;
  const char *answer = env->classification->suggested_reply;
  suggested_set(a, env->tenant, conv, answer ? answer : "");
}

static void on_envelope(sbctl_agents_t *a, const sb_envelope_t *env) {
  const Switchboard__V1__RoutingDecision *r = env->routing;
  if (!r)
    return;
  remember_suggestion(a, env); /* before an assignment schedules the reply */
  int with_agent = r->outcome == SWITCHBOARD__V1__ROUTE_OUTCOME__ROUTE_ASSIGNED ||
                   r->outcome == SWITCHBOARD__V1__ROUTE_OUTCOME__ROUTE_EXISTING;
  if (with_agent && env->published_us >= a->measure_from_us && env->published_us &&
      r->decided_us > env->published_us)
    sb_histogram_record(a->latency, (uint64_t)(r->decided_us - env->published_us));
  if (r->outcome == SWITCHBOARD__V1__ROUTE_OUTCOME__ROUTE_ASSIGNED)
    on_assignment(a, env->tenant, r->agent, r->conversation);
  for (size_t i = 0; i < r->n_pulled; i++)
    on_assignment(a, env->tenant, r->pulled[i]->agent, r->pulled[i]->conversation);
}

void sbctl_agents_on_readable(sbctl_agents_t *a) {
  for (;;) {
    zmq_msg_t topic, body;
    zmq_msg_init(&topic);
    zmq_msg_init(&body);
    if (zmq_msg_recv(&topic, a->sub, ZMQ_DONTWAIT) < 0) {
      zmq_msg_close(&topic);
      zmq_msg_close(&body);
      return;
    }
    if (zmq_msg_more(&topic) && zmq_msg_recv(&body, a->sub, 0) >= 0) {
      sb_envelope_t *env = sb_envelope_unpack(zmq_msg_data(&body), zmq_msg_size(&body));
      if (env)
        on_envelope(a, env);
      sb_envelope_free(env);
    }
    zmq_msg_close(&topic);
    zmq_msg_close(&body);
  }
}

/* A reply to a conversation with a suggested answer: uses it (named in the
 * reply) or, first, turns it down with an AGENT_SUGGESTION event. */
static void judge_suggestion(sbctl_agents_t *a, action_t *x, sb_envelope_t *reply) {
  suggested_t *s = *suggested_find(a, x->tenant, x->conversation);
  if (!s || !reply)
    return;
  if (draw(a, a->accept_pct)) {
    char *answer = strdup(s->answer);
    if (!answer)
      return;
    reply->agent->suggestion = answer;
    reply->agent->accepted = 1;
    a->st.suggestions_accepted++;
    return;
  }
  x->what = SWITCHBOARD__V1__AGENT_ACTION__AGENT_SUGGESTION;
  sb_envelope_t *no = agent_event(a, x);
  x->what = SWITCHBOARD__V1__AGENT_ACTION__AGENT_REPLY;
  char *answer = no ? strdup(s->answer) : NULL;
  if (!answer) {
    sb_envelope_free(no);
    return;
  }
  no->agent->suggestion = answer;
  no->agent->accepted = 0;
  sbctl_client_queue(a->client, no);
  a->st.suggestions_rejected++;
}

int sbctl_agents_tick(sbctl_agents_t *a) {
  int64_t now = sb_now_ms();
  while (a->actions && a->actions->due_ms <= now) {
    action_t *x = a->actions;
    a->actions = x->next;
    sb_envelope_t *env = agent_event(a, x);
    if (a->judge && x->what == SWITCHBOARD__V1__AGENT_ACTION__AGENT_REPLY)
      judge_suggestion(a, x, env);
    if (x->what == SWITCHBOARD__V1__AGENT_ACTION__AGENT_CLOSE)
      suggested_forget(a, x->tenant, x->conversation);
    if (env)
      sbctl_client_queue(a->client, env);
    a->st.replies += x->what == SWITCHBOARD__V1__AGENT_ACTION__AGENT_REPLY;
    a->st.closes += x->what == SWITCHBOARD__V1__AGENT_ACTION__AGENT_CLOSE;
    free(x->conversation);
    free(x);
  }
  sbctl_client_pump(a->client);
  return a->actions ? (int)(a->actions->due_ms - now) : -1;
}

const sb_histogram_t *sbctl_agents_latency(const sbctl_agents_t *a) { return a->latency; }

void sbctl_agents_measure_from(sbctl_agents_t *a, int64_t since_us) {
  sb_histogram_reset(a->latency);
  a->measure_from_us = since_us;
}
void sbctl_agents_stats(const sbctl_agents_t *a, sbctl_agents_stats_t *s) { *s = a->st; }
