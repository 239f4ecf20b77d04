/*
 * sb-classify: understands each message and hands it to route. A thin main
 * over sb_stage (the durable hand-off) and sb_classify (the analysis): per
 * tenant, the rules from the tenant file's "classify" member, else --rules;
 * sentiment lexicons from --lexicons. Without rules or lexicons a message
 * still gets its language and privacy verdict (intents and sentiment then
 * stay empty / neutral).
 *
 * SIGHUP re-reads the tenant file's "classify" members, --rules and
 * --lexicons: the new set (sb_ruleset) is compiled on a libuv worker thread
 * and swapped in by the loop only when it is entirely valid; otherwise the
 * running rules stay, the reason is logged (rules_reload_failed) and
 * sb_classify_reloads_total{result="failed"} counts it.
 *
 * The commit is classify.lua: the hand-off plus the customer's repeat
 * contacts (Classification.repeat_contacts, and the priority raised by the
 * tenant's "repeat" weight at "repeat_min" earlier contacts).
 *
 * Spikes: each tenant with "spike" on has a tracker (sb_spikes,
 * sb_incident) that counts every message this replica classifies; a
 * message in an open incident gets Classification.spike = its id, and
 * classify.lua stores one Incident event per incident across replicas,
 * handed to notify by the lease sweeper (see the script's header), at the
 * next opening of the tenant's spike.supervisor_calendar if it is closed.
 * sb_classify_spike_incidents_total{kind} counts the incidents this
 * replica's trackers opened (replicas that see the same burst open the
 * same one; the tenant's stats field "spike_incidents" counts it once).
 *
 * Suggestion feedback (sb_feedback.h): classify.lua records the answer
 * suggested on a conversation (sug:<conv>); an agent event naming an
 * answer the tenant does not have gets AgentEvent.suggestion_result
 * "unknown_suggestion" here (route then counts nothing); route.lua counts
 * the rest; the counts come back every --suggest-refresh-ms, on start and
 * after a reload.
 */
#include "sb_classify.h"
#include "sb_error.h"
#include "sb_feedback.h"
#include "sb_spikes.h"
#include "sb_ruleset.h"
#include "sb_lang.h"
#include "sb_log.h"
#include "sb_script.h"
#include "sb_stage.h"
#include "sb_time.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>

/* classify.lua, embedded at build time (cmake/embed_lua.cmake). */
extern const char sb_script_classify[];

static const sb_option_t classify_options[] = {
    {"rules", SB_OPT_STR, "", "classification rules (JSON) for tenants without their own \"classify\""},
    {"lexicons", SB_OPT_STR, "", "folder of sentiment lexicons (<lang>.txt); empty: no sentiment"},
    {"suggest-refresh-ms", SB_OPT_INT, "5000",
     "how often agents' accept/reject counts of suggested answers are read from Redis (0: on start and reload only)"},
    {NULL, 0, NULL, NULL}};

typedef struct {
  sb_service_t *s;
  sb_ruleset_t *set;       /* the live rules; replaced whole on reload */
  sb_spikes_t *spikes;     /* per-tenant spike trackers, in step with set */
  struct {                 /* notice_due's last answer: every message of a
                              burst asks it, ICU is paid once per stretch */
    const sb_ruleset_t *set; /* NULL: none */
    const sb_tenant_t *tenant;
    int64_t from_ms, until_ms, due_ms;
  } notice;
  sb_counter_t *incidents[SB_INCIDENT_KINDS];
  /* reload (SIGHUP): built on a libuv worker thread, swapped in by the loop */
  uv_signal_t sighup;
  int sighup_open, closed;
  uv_work_t work;
  int reloading, again;    /* a build runs; another SIGHUP came meanwhile */
  sb_ruleset_source_t src; /* strings borrowed from the service's config */
  sb_ruleset_t *next;
  char err[512];
  sb_counter_t *reloads_ok, *reloads_failed;
  sb_feedback_t *feedback;   /* agents' accept/reject counts, read back */
  sb_counter_t *unknown_suggestions;
} classify_ctx_t;

/* classify.lua's extra arguments (see the script's header): what it needs
 * to count the customer's repeat contacts and raise the priority (6), then
 * the message's spike incidents (2), then the suggestion made on the
 * conversation (2). */
enum { CLASSIFY_NREPEAT = 6, CLASSIFY_NSPIKE = 2, CLASSIFY_NEXTRA = 10 };
/* Bytes of the incident records argument (3 records of ~110 bytes). */
#define INCIDENT_RECORDS_MAX 400

static void repeat_args(sb_stage_item_t *it, const sb_rules_t *rules, const Switchboard__V1__Interaction *in,
                        const char *conversation, int priority) {
  int64_t window_s = sb_rules_repeat_window_s(rules);
  if (!in->customer || !*in->customer || !conversation || !*conversation || window_s <= 0) {
    for (int i = 0; i < CLASSIFY_NREPEAT; i++)
      sb_stage_item_arg(it, ""); /* not counted; keeps the spike args in place */
    return;
  }
  sb_stage_item_argf(it, "%s:%s", sb_channel_name(in->channel), in->customer);
  sb_stage_item_arg(it, conversation);
  sb_stage_item_argf(it, "%lld", (long long)window_s * 1000);
  sb_stage_item_argf(it, "%d", sb_rules_repeat_min(rules));
  sb_stage_item_argf(it, "%d", priority);
  sb_stage_item_argf(it, "%d", (int)(sb_rules_priority(rules)->repeat + 0.5));
}

/* The records classify.lua needs, "<kind>|<key>|<started ms>|<observed>|
 * <baseline>|<notice due ms>" joined by ';' (kind v or n; V or N for the
 * message's own incident; due 0: now): its own and any it opened; then the
 * script's de-duplication time. */
static void spike_args(sb_stage_item_t *it, const sb_incident_t *t, const sb_incident_hits_t *h,
                       int64_t due_ms) {
  char recs[INCIDENT_RECORDS_MAX];
  size_t at = 0;
  recs[0] = '\0';
  for (size_t i = 0; i < h->n; i++) {
    const sb_incident_ref_t *r = &h->refs[i];
    if ((i > 0 || !r->member) && !r->opened)
      continue;
    const char *kinds = i == 0 && r->member ? "VN" : "vn"; /* indexed by sb_incident_kind_t */
    int n = snprintf(recs + at, sizeof recs - at, "%s%c|%s|%lld|%.6g|%.6g|%lld", at ? ";" : "", kinds[r->kind],
                     r->key, (long long)r->started_ms, r->observed, r->baseline, (long long)due_ms);
    if (n < 0 || (size_t)n >= sizeof recs - at) {
      recs[at] = '\0'; /* cannot happen with keys of at most 64 bytes */
      break;
    }
    at += (size_t)n;
  }
  sb_stage_item_argf(it, "%s", recs);
  sb_stage_item_argf(it, "%lld", (long long)(sb_incident_opts(t)->bucket_ms * SB_INCIDENT_TTL_BUCKETS));
}

/* How far ahead notice_due checks that the calendar stays open. */
#define NOTICE_OPEN_MS 60000

/* When an incident opened at now_ms is to reach the supervisors: 0 (now)
 * unless the tenant's spike.supervisor_calendar is closed, then its next
 * opening. A calendar that never opens (or fails) does not hold a notice
 * back: an alert that is never sent is worse than one sent out of hours. */
static int64_t notice_due(classify_ctx_t *c, const sb_tenant_t *tenant, int64_t now_ms) {
  if (c->notice.set == c->set && c->notice.tenant == tenant && now_ms >= c->notice.from_ms &&
      now_ms < c->notice.until_ms)
    return c->notice.due_ms;
  sb_calendar_t *cal = sb_ruleset_supervisor_calendar(c->set, tenant);
  int64_t at = 0, due = 0, until = now_ms + 1; /* by default: this instant only */
  if (!cal)
    until = INT64_MAX;
  else if (sb_calendar_next_open(cal, now_ms, &at) == 0 && at > now_ms)
    due = at, until = at; /* closed until then */
  else if (at == now_ms && sb_calendar_between(cal, now_ms, now_ms + NOTICE_OPEN_MS) == NOTICE_OPEN_MS)
    until = now_ms + NOTICE_OPEN_MS; /* open for that long */
  c->notice.set = c->set, c->notice.tenant = tenant;
  c->notice.from_ms = now_ms, c->notice.until_ms = until, c->notice.due_ms = due;
  return due;
}

/* Counts the message in its tenant's spike tracker; a message in an open
 * incident carries its id (Classification.spike). */
static int observe_spike(classify_ctx_t *c, sb_stage_item_t *it, const sb_classify_verdict_t *v) {
  sb_incident_t *t = sb_spikes_of(c->spikes, it->tenant);
  Switchboard__V1__Classification *cl = it->env->classification;
  if (!t || !cl)
    return 0;
  sb_incident_hits_t h;
  const char *intent = v->intent.n ? v->intent.intents[0].name : NULL;
  int64_t now = sb_now_ms();
  int rc = sb_incident_observe(t, intent, v->sentiment.label == SB_SENTIMENT_NEGATIVE, now, &h);
  if (rc || h.n == 0)
    return rc;
  for (size_t i = 0; i < h.n; i++)
    if (h.refs[i].opened)
      sb_counter_add(c->incidents[h.refs[i].kind], 1);
  if (h.refs[0].member) {
    char *id = strdup(h.refs[0].id);
    if (!id)
      return SB_ENOMEM;
    if (cl->spike != protobuf_c_empty_string)
      free(cl->spike);
    cl->spike = id;
  }
  /* every record may store the event (the first writer across replicas
   * does), so each carries the due time; ICU work only inside incidents */
  spike_args(it, t, &h, notice_due(c, it->tenant, now));
  return 0;
}

/* The conversation and the answer suggested on it, for classify.lua to
 * record (sug:<conv>); after the spike arguments, which may be absent. */
static void suggestion_args(sb_stage_item_t *it, const sb_envelope_t *env) {
  const Switchboard__V1__Classification *cl = env->classification;
  while (it->nextra < CLASSIFY_NREPEAT + CLASSIFY_NSPIKE)
    sb_stage_item_arg(it, "");
  if (!cl || !cl->suggested_reply || !*cl->suggested_reply || !env->conversation)
    return;
  sb_stage_item_arg(it, env->conversation);
  sb_stage_item_arg(it, cl->suggested_reply);
}

static sb_suggest_t *suggest_of(void *ctx, const sb_tenant_t *t) {
  classify_ctx_t *c = ctx;
  return sb_classify_suggest(c->set ? sb_ruleset_classifier(c->set, t, NULL) : NULL);
}

/* An agent's feedback on an answer the tenant does not have is refused
 * here: route counts nothing for it (AgentEvent.suggestion_result set). */
static int check_feedback(classify_ctx_t *c, sb_stage_item_t *it) {
  Switchboard__V1__AgentEvent *a = it->env->agent;
  if (!a || !a->suggestion || !*a->suggestion || (a->suggestion_result && *a->suggestion_result))
    return 0;
  if (sb_suggest_knows(suggest_of(c, it->tenant), a->suggestion))
    return 0;
  char *why = strdup("unknown_suggestion");
  if (!why)
    return SB_ENOMEM;
  if (a->suggestion_result != protobuf_c_empty_string)
    free(a->suggestion_result);
  a->suggestion_result = why;
  sb_counter_add(c->unknown_suggestions, 1);
  return 0;
}

static int prepare(void *ctx, sb_stage_item_t *it, const char **why) {
  classify_ctx_t *c = ctx;
  sb_envelope_t *env = it->env;
  if (env->body_case == SWITCHBOARD__V1__ENVELOPE__BODY_AGENT) {
    int rc = check_feedback(c, it);
    if (rc)
      *why = "out of memory";
    return rc;
  }
  if (env->body_case != SWITCHBOARD__V1__ENVELOPE__BODY_INTERACTION || !env->interaction)
    return 0;
  const Switchboard__V1__Interaction *in = env->interaction;
  const sb_rules_t *rules = NULL;
  sb_classify_t *classifier = sb_ruleset_classifier(c->set, it->tenant, &rules);
  sb_classify_input_t input = {.text = in->text, .len = strlen(in->text), .is_public = in->public_,
                               .customer = in->customer,
                               .followers = in->author ? in->author->followers : 0};
  sb_classify_verdict_t v;
  memset(&v, 0, sizeof v);
  int rc = classifier ? sb_classify_message(classifier, &input, &v) : SB_ENOTFOUND;
  if (rc == 0)
    rc = sb_classify_envelope_apply_rules(env, &v, rules);
  if (rc == 0)
    repeat_args(it, rules, in, env->conversation, v.priority.score);
  if (rc == 0)
    rc = observe_spike(c, it, &v);
  if (rc == 0)
    suggestion_args(it, env);
  sb_classify_verdict_clear(&v);
  if (rc && rc != SB_EEXISTS) {
    *why = "classification failed";
    return rc;
  }
  return 0;
}

/* ---- reload on SIGHUP: compile off the loop, swap only a complete set */

static void reload_work(uv_work_t *w) {
  classify_ctx_t *c = w->data;
  c->next = sb_ruleset_build(&c->src, c->err, sizeof c->err);
}

static void reload_start(classify_ctx_t *c);

static void reload_done(uv_work_t *w, int status) {
  classify_ctx_t *c = w->data;
  c->reloading = 0;
  if (c->closed || status != 0) {
    sb_ruleset_destroy(&c->next);
    return;
  }
  if (c->next) {
    sb_ruleset_t *old = c->set;
    c->set = c->next; /* prepare runs on this thread: nothing holds the old set */
    c->next = NULL;
    sb_ruleset_destroy(&old);
    c->notice.set = NULL; /* its calendars went with it (the address may come back) */
    if (sb_spikes_sync(c->spikes, c->set))
      sb_log(SB_LOG_ERROR, "spike_trackers_failed", "why", "out of memory", NULL);
    sb_counter_add(c->reloads_ok, 1);
    sb_log(SB_LOG_INFO, "rules_reloaded", "file", c->src.tenants_path, NULL);
    sb_feedback_refresh(c->feedback); /* the new engines start at zero */
  } else {
    sb_counter_add(c->reloads_failed, 1);
    sb_log(SB_LOG_ERROR, "rules_reload_failed", "why", c->err, "kept", "previous rules", NULL);
  }
  if (c->again) {
    c->again = 0;
    reload_start(c);
  }
}

static void reload_start(classify_ctx_t *c) {
  if (c->reloading) {
    c->again = 1; /* the file may have changed after the build read it */
    return;
  }
  c->work.data = c;
  c->next = NULL;
  c->err[0] = '\0';
  if (uv_queue_work(c->s->loop, &c->work, reload_work, reload_done) == 0)
    c->reloading = 1;
  else
    sb_counter_add(c->reloads_failed, 1);
}

static void on_sighup(uv_signal_t *h, int signum) {
  (void)signum;
  reload_start(h->data);
}

static int start(void *ctx, sb_service_t *s, sb_handoff_t *out) {
  classify_ctx_t *c = ctx;
  char err[512];
  (void)out;
  c->s = s;
  /* CLD2 allocates and frees ~200 KiB per call: with glibc's default trim
   * threshold every call grows and trims the heap (about 40x slower). */
  if (sb_lang_tune_malloc() != 0)
    sb_log(SB_LOG_WARN, "malloc_not_tuned", "why", "allocator refused (sanitizer build?)", NULL);
  c->src = (sb_ruleset_source_t){.tenants = s->tenants,
                                 .tenants_path = NULL, /* first build: the sections already read */
                                 .default_rules = sb_config_str(s->config, "rules"),
                                 .lexicons = sb_config_str(s->config, "lexicons")};
  c->set = sb_ruleset_build(&c->src, err, sizeof err);
  if (!c->set) {
    fprintf(stderr, "sb-classify: %s\n", err);
    return SB_ECONFIG;
  }
  c->src.tenants_path = sb_config_str(s->config, "tenants");
  c->spikes = sb_spikes_new(s->tenants);
  if (!c->spikes || sb_spikes_sync(c->spikes, c->set))
    return SB_ENOMEM;
  for (int k = 0; k < SB_INCIDENT_KINDS; k++) {
    char label[64];
    snprintf(label, sizeof label, "kind=\"%s\"", sb_incident_kind_name((sb_incident_kind_t)k));
    c->incidents[k] = sb_metrics_counter(s->metrics, "sb_classify_spike_incidents_total",
                                         "spike incidents this replica's detectors opened, by kind", label);
    if (!c->incidents[k])
      return SB_ENOMEM;
  }
  c->reloads_ok = sb_metrics_counter(s->metrics, "sb_classify_reloads_total",
                                     "rule reloads (SIGHUP) by result", "result=\"ok\"");
  c->reloads_failed = sb_metrics_counter(s->metrics, "sb_classify_reloads_total",
                                         "rule reloads (SIGHUP) by result", "result=\"failed\"");
  if (!c->reloads_ok || !c->reloads_failed)
    return SB_ENOMEM;
  c->unknown_suggestions = sb_metrics_counter(s->metrics, "sb_classify_suggestion_feedback_refused_total",
                                              "agent feedback naming an answer the tenant does not have",
                                              "reason=\"unknown_suggestion\"");
  c->feedback = sb_feedback_new(s, sb_config_int(s->config, "suggest-refresh-ms"), suggest_of, c);
  if (!c->unknown_suggestions || !c->feedback)
    return SB_ENOMEM;
  if (uv_signal_init(s->loop, &c->sighup) || uv_signal_start(&c->sighup, on_sighup, SIGHUP))
    return SB_EIO;
  c->sighup.data = c;
  c->sighup_open = 1;
  uv_unref((uv_handle_t *)&c->sighup); /* never keeps the loop from ending */
  return 0;
}

static void close_sighup(classify_ctx_t *c) {
  if (c->sighup_open) {
    c->sighup_open = 0;
    uv_close((uv_handle_t *)&c->sighup, NULL);
  }
}

static void close_ctx(void *ctx) {
  classify_ctx_t *c = ctx;
  close_sighup(c);
  sb_feedback_destroy(&c->feedback);
  c->closed = 1; /* a reload still running frees its own result */
  sb_ruleset_destroy(&c->set);
  sb_spikes_destroy(&c->spikes);
}

static const sb_stage_ops_t classify_ops = {
    .name = "classify",
    .lease_in = "classify",
    .stat = "classified",
    .script_name = "classify",
    .script_body = sb_script_classify,
    .nextra = CLASSIFY_NEXTRA,
    .prepare = prepare,
};

int main(int argc, char **argv) {
  classify_ctx_t c = {0};
  const sb_stage_main_t m = {
      .service = "classify",
      .admin_port = SB_PORT_ADMIN_CLASSIFY,
      .listen_port = SB_PORT_CLASSIFY_IN,
      .next_lease = "route",
      .next_port = SB_PORT_ROUTE_IN,
      .options = classify_options,
      .ops = &classify_ops,
      .ctx = &c,
      .start = start,
      .close = close_ctx,
  };
  return sb_stage_main(&m, argc, argv);
}
