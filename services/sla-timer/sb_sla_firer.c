/*
 * sb_sla_firer: claims due timers, hands their events to notify, and
 * completes the rearm tasks the claims return (see sb_sla_firer.h).
 *
 * Every Redis call counts in `pending`; the firer is freed only when the
 * timer is closed and no reply is awaited (a reply never finds it gone).
 */
#include "sb_sla_firer.h"
#include "sb_error.h"
#include "sb_keys.h"
#include "sb_log.h"
#include "sb_script.h"
#include "sb_time.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SB_SLA_CLAIM_MAX "500" /* timers claimed per tenant per call */
#define CALS_MAX 1024           /* the calendars' state argument */
#define REARM_ARGS (4 + 4 * SB_SLA_TARGETS)

typedef struct sb_sla_firer sb_sla_firer_t;

/* per tenant: the claim's context, when it must be claimed next, and its
 * calendars' state */
typedef struct {
  sb_sla_firer_t *f;
  const sb_tenant_t *tenant;
  int64_t next_due;   /* its earliest timer at the last claim; 0: claim now */
  int64_t checked_ms; /* when that claim ran */
  int claiming;       /* a claim is in flight */
  char cals[CALS_MAX];
  int64_t cals_until;
} tenant_t;

struct sb_sla_firer {
  sb_service_t *svc;
  sb_handoff_t *out;
  const sb_sla_t *policies;
  int script, rearm_script;
  uv_timer_t timer;
  size_t pending; /* replies outstanding */
  size_t cursor;  /* where the next round's recheck of idle tenants starts */
  int stopped, closing, timer_closed;
  tenant_t *tenants;
  size_t ntenants;
  sb_counter_t *claim_failed, *rearm_failed;
};

static void schedule(sb_sla_firer_t *f);

/* sb_sla_fired_total{kind="sla.warning"|"sla.breach", tenant=...} */
static void count_fired(sb_sla_firer_t *f, const char *blob, size_t len) {
  sb_envelope_t *env = sb_envelope_unpack(blob, len);
  char labels[160];
  sb_metrics_labels(labels, sizeof labels, "kind", env ? sb_envelope_kind(env) : "unknown", "tenant",
                    env ? env->tenant : "", NULL);
  sb_counter_add(sb_metrics_counter(f->svc->metrics, "sb_sla_fired_total",
                                    "SLA warnings and breaches fired, by kind and tenant", labels), 1);
  sb_envelope_free(env);
}

static void maybe_free(sb_sla_firer_t *f) {
  if (f->closing && f->timer_closed && f->pending == 0) {
    free(f->tenants);
    free(f);
  }
}

/* ---- rearm tasks ------------------------------------------------------------ */

static void on_rearm(const redisReply *reply, int err, void *arg) {
  sb_sla_firer_t *f = arg;
  f->pending--;
  if (err || !reply || reply->type != REDIS_REPLY_INTEGER)
    sb_counter_add(f->rearm_failed, 1); /* the "r|" member is claimed again later */
  if (f->closing)
    maybe_free(f);
  else if (f->pending == 0)
    schedule(f);
}

static void fmt_due(char *buf, size_t len, int64_t due) {
  if (due < 0)
    buf[0] = '\0';
  else
    snprintf(buf, len, "%" PRId64, due);
}

static void rearm(sb_sla_firer_t *f, const tenant_t *t, const char *task, size_t len) {
  const sb_sla_policies_t *ps = sb_sla_policies_of(f->policies, t->tenant);
  const char *why = NULL;
  sb_sla_rearm_t r;
  if (!ps || sb_sla_rearm_compute(ps, task, len, &r, &why)) {
    sb_log(SB_LOG_WARN, "sla_rearm_rejected", "tenant", t->tenant->id, "reason", why ? why : "no policies",
           NULL);
    sb_counter_add(f->rearm_failed, 1);
    return;
  }
  char stats[SB_KEY_MAX], dues[2 * SB_SLA_TARGETS][24];
  const char *argv[REARM_ARGS];
  sb_key_tenant(stats, sizeof stats, t->tenant->id, "stats");
  int n = 0;
  argv[n++] = stats;
  argv[n++] = r.conv;
  argv[n++] = r.marker;
  argv[n++] = r.attrs;
  for (int k = 0; k < SB_SLA_TARGETS; k++) {
    fmt_due(dues[2 * k], sizeof dues[0], r.t[k].warn_due_ms);
    fmt_due(dues[2 * k + 1], sizeof dues[0], r.t[k].breach_due_ms);
    argv[n++] = r.t[k].old;
    argv[n++] = r.t[k].now;
    argv[n++] = dues[2 * k];
    argv[n++] = dues[2 * k + 1];
  }
  if (sb_redis_evalsha(f->svc->redis, f->rearm_script, 1, n, argv, NULL, on_rearm, f) == 0)
    f->pending++;
}

/* ---- claims ------------------------------------------------------------------ */

static void on_claim(const redisReply *reply, int err, void *arg) {
  tenant_t *t = arg;
  sb_sla_firer_t *f = t->f;
  f->pending--;
  if (f->closing) {
    maybe_free(f);
    return;
  }
  t->claiming = 0;
  if (err || !reply || reply->type != REDIS_REPLY_ARRAY || reply->elements < 3 ||
      reply->element[1]->type != REDIS_REPLY_ARRAY || reply->element[2]->type != REDIS_REPLY_ARRAY) {
    sb_counter_add(f->claim_failed, 1);
    t->next_due = 0; /* try again next round */
  } else {
    const redisReply *nd = reply->element[0], *envs = reply->element[1], *tasks = reply->element[2];
    /* -1: no timer at all; a full claim (more due than it took) leaves
     * next due <= now: claimed again at once */
    t->next_due = nd->type == REDIS_REPLY_INTEGER && nd->integer > 0 ? nd->integer : INT64_MAX;
    for (size_t i = 0; i < envs->elements; i++) {
      const redisReply *e = envs->element[i];
      if (e->type != REDIS_REPLY_STRING)
        continue;
      if (f->out)
        sb_handoff_send(f->out, e->str, e->len); /* the lease covers a failure */
      count_fired(f, e->str, e->len);
    }
    for (size_t i = 0; i < tasks->elements; i++)
      if (tasks->element[i]->type == REDIS_REPLY_STRING)
        rearm(f, t, tasks->element[i]->str, tasks->element[i]->len);
  }
  if (f->pending == 0)
    schedule(f);
}

/* "<name>:<open 0/1>:<next opening ms>;..." for the tenant's calendars
 * (sla_fire.lua decides whether a supervisor alert goes now). */
static const char *calendars_now(tenant_t *t, const sb_sla_policies_t *ps, int64_t now) {
  if (now < t->cals_until)
    return t->cals;
  size_t used = 0;
  t->cals[0] = '\0';
  for (size_t i = 0; ps && i < sb_sla_policies_calendar_count(ps); i++) {
    const char *name = "";
    sb_calendar_t *c = sb_sla_policies_calendar_at(ps, i, &name);
    int open = sb_calendar_is_open(c, now);
    int64_t next = now;
    if (!open && sb_calendar_add(c, now, 1, &next) == 0)
      next -= 1; /* 1 ms of business time after the opening */
    int n = snprintf(t->cals + used, sizeof t->cals - used, "%s%s:%d:%" PRId64, used ? ";" : "", name, open,
                     next);
    if (n < 0 || (size_t)n >= sizeof t->cals - used) {
      t->cals[used] = '\0'; /* the rest count as open: an alert is never lost */
      break;
    }
    used += (size_t)n;
  }
  t->cals_until = now + SB_SLA_CAL_REFRESH_MS;
  return t->cals;
}

static void claim_tenant(sb_sla_firer_t *f, tenant_t *t, const char *now, const char *deadline, int64_t ms) {
  char stats[SB_KEY_MAX], target[24], warn[8], ttl[24];
  sb_key_tenant(stats, sizeof stats, t->tenant->id, "stats");
  snprintf(target, sizeof target, "%" PRId64, t->tenant->first_response_ms);
  snprintf(warn, sizeof warn, "%d", t->tenant->warn_percent);
  snprintf(ttl, sizeof ttl, "%lld", sb_config_int(f->svc->config, "event-ttl-s"));
  const char *cals = calendars_now(t, sb_sla_policies_of(f->policies, t->tenant), ms);
  const char *argv[] = {stats, now, deadline, SB_SLA_CLAIM_MAX, t->tenant->id, target, warn, ttl, cals};
  if (sb_redis_evalsha(f->svc->redis, f->script, 1, 9, argv, NULL, on_claim, t) == 0) {
    f->pending++;
    t->claiming = 1;
    t->checked_ms = ms;
  }
}

/* A tenant is claimed when its earliest timer is due, when this replica
 * just committed an event of it (sb_sla_firer_touch: it may have armed an
 * earlier timer or a rearm task), and at least every SB_SLA_RECHECK_MS
 * (timers other replicas armed). So a round costs one script call per
 * tenant with something to do, not one per tenant: with thousands of
 * tenants, claiming every tenant every SB_SLA_RESCAN_MS kept Redis so busy
 * that nothing fired at all (sla_bench --tenants 5000). */
static int claim_needed(const tenant_t *t, int64_t now) {
  return !t->claiming && (t->next_due <= now || now - t->checked_ms >= SB_SLA_RECHECK_MS);
}

static void on_timer(uv_timer_t *h) {
  sb_sla_firer_t *f = h->data;
  if (f->stopped || f->pending)
    return; /* the last reply schedules the next round */
  if (!sb_redis_is_connected(f->svc->redis)) {
    uv_timer_start(&f->timer, on_timer, SB_SLA_RESCAN_MS, 0);
    return;
  }
  char now[24], deadline[24];
  int64_t ms = sb_now_ms();
  snprintf(now, sizeof now, "%" PRId64, ms);
  snprintf(deadline, sizeof deadline, "%" PRId64, (int64_t)(ms + sb_config_int(f->svc->config, "lease-ms")));
  /* the recheck of idle tenants is spread: at most one round's share of
   * them per round, so that a replica's start does not claim every tenant
   * at once every SB_SLA_RECHECK_MS */
  size_t recheck_max = f->ntenants * SB_SLA_RESCAN_MS / SB_SLA_RECHECK_MS + 1, rechecked = 0;
  for (size_t i = 0; i < f->ntenants; i++) {
    tenant_t *t = &f->tenants[(f->cursor + i) % f->ntenants];
    if (!claim_needed(t, ms))
      continue;
    if (t->next_due > ms && ++rechecked > recheck_max)
      continue;
    claim_tenant(f, t, now, deadline, ms);
  }
  if (f->ntenants)
    f->cursor = (f->cursor + recheck_max) % f->ntenants;
  if (f->pending == 0)
    schedule(f);
}

static void schedule(sb_sla_firer_t *f) {
  if (f->closing || f->stopped)
    return;
  int64_t wait = SB_SLA_RESCAN_MS, now = sb_now_ms();
  for (size_t i = 0; i < f->ntenants; i++) {
    int64_t until = f->tenants[i].next_due - now;
    if (until < wait)
      wait = until < 0 ? 0 : until;
  }
  uv_timer_start(&f->timer, on_timer, (uint64_t)wait, 0);
}

void sb_sla_firer_touch(sb_sla_firer_t *f, const sb_tenant_t *tenant) {
  if (!f || !f->ntenants || !tenant)
    return;
  /* the tenants are one array (sb_tenants_at), in the order f->tenants
   * was built: the index is the pointer's offset */
  const sb_tenant_t *first = f->tenants[0].tenant;
  size_t i = (size_t)(tenant - first);
  if (tenant >= first && i < f->ntenants && f->tenants[i].tenant == tenant)
    f->tenants[i].next_due = 0;
}

sb_sla_firer_t *sb_sla_firer_new(sb_service_t *s, sb_handoff_t *out, const sb_sla_t *policies) {
  sb_sla_firer_t *f = calloc(1, sizeof *f);
  size_t n = sb_tenants_count(s->tenants);
  if (f)
    f->tenants = calloc(n ? n : 1, sizeof *f->tenants);
  if (!f || !f->tenants) {
    free(f);
    return NULL;
  }
  f->svc = s;
  f->out = out;
  f->policies = policies;
  f->ntenants = n;
  for (size_t i = 0; i < n; i++)
    f->tenants[i] = (tenant_t){.f = f, .tenant = sb_tenants_at(s->tenants, i)};
  f->script = sb_script_add(s->redis, "sla_fire", sb_script_sla_fire);
  f->rearm_script = sb_script_add(s->redis, "sla_rearm", sb_script_sla_rearm);
  f->claim_failed = sb_metrics_counter(s->metrics, "sb_sla_claim_failed_total",
                                       "timer claims Redis did not answer", NULL);
  f->rearm_failed = sb_metrics_counter(s->metrics, "sb_sla_rearm_failed_total",
                                       "rearm tasks (resume, policy change, update) not applied yet", NULL);
  uv_timer_init(s->loop, &f->timer);
  f->timer.data = f;
  schedule(f);
  return f;
}

void sb_sla_firer_stop(sb_sla_firer_t *f) {
  f->stopped = 1;
  uv_timer_stop(&f->timer);
}

int sb_sla_firer_idle(const sb_sla_firer_t *f) { return f->pending == 0; }

static void on_closed(uv_handle_t *h) {
  sb_sla_firer_t *f = h->data;
  f->timer_closed = 1;
  maybe_free(f);
}

void sb_sla_firer_destroy(sb_sla_firer_t **fp) {
  sb_sla_firer_t *f = *fp;
  if (!f)
    return;
  *fp = NULL;
  f->closing = 1;
  f->out = NULL;
  uv_close((uv_handle_t *)&f->timer, on_closed);
}
