/*
 * sb_incident: see sb_incident.h. The detector judges every observation;
 * this module turns its raises into incidents with stable ids and keeps
 * the open ones in a small array (a tenant has few at a time), matched by
 * (kind, key) with a linear scan.
 */
#include "sb_incident.h"
#include "sb_error.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ALL_TRAFFIC "*"

typedef struct {
  int used;
  sb_incident_kind_t kind;
  char key[SB_INCIDENT_KEY_MAX + 1];
  char id[SB_INCIDENT_ID_MAX];
  int64_t start, last; /* bucket indexes: opened, last raised */
} open_t;

struct sb_incident {
  sb_spike_opts_t opts;
  sb_spike_t *spike;
  open_t open[SB_INCIDENT_OPEN_MAX];
};

static const char *const kind_names[SB_INCIDENT_KINDS] = {"spike_volume", "spike_negative"};

const char *sb_incident_kind_name(sb_incident_kind_t k) {
  return k >= SB_INCIDENT_VOLUME && k < SB_INCIDENT_KINDS ? kind_names[k] : "?";
}

sb_incident_t *sb_incident_new(const sb_spike_opts_t *opts) {
  sb_incident_t *t = calloc(1, sizeof *t);
  if (!t)
    return NULL;
  if (opts)
    t->opts = *opts;
  else
    sb_spike_opts_default(&t->opts);
  t->spike = sb_spike_new(&t->opts);
  if (!t->spike)
    sb_incident_destroy(&t);
  return t;
}

void sb_incident_destroy(sb_incident_t **tp) {
  if (!tp || !*tp)
    return;
  sb_spike_destroy(&(*tp)->spike);
  free(*tp);
  *tp = NULL;
}

const sb_spike_opts_t *sb_incident_opts(const sb_incident_t *t) { return &t->opts; }

static open_t *find(sb_incident_t *t, sb_incident_kind_t kind, const char *key) {
  for (size_t i = 0; i < SB_INCIDENT_OPEN_MAX; i++)
    if (t->open[i].used && t->open[i].kind == kind && !strcmp(t->open[i].key, key))
      return &t->open[i];
  return NULL;
}

/* A free slot, else the one raised longest ago. */
static open_t *make_room(sb_incident_t *t) {
  open_t *best = &t->open[0];
  for (size_t i = 0; i < SB_INCIDENT_OPEN_MAX; i++) {
    if (!t->open[i].used)
      return &t->open[i];
    if (t->open[i].last < best->last)
      best = &t->open[i];
  }
  return best;
}

/* The detector raised kind for key in bucket b: continue the open incident
 * or open a new one. *opened says which. */
static open_t *raise(sb_incident_t *t, sb_incident_kind_t kind, const char *key, int64_t b, int *opened) {
  open_t *o = find(t, kind, key);
  *opened = !o || b > o->last + 1 || b - o->start >= SB_INCIDENT_SPAN_BUCKETS;
  if (!*opened) {
    o->last = b;
    return o;
  }
  if (!o)
    o = make_room(t);
  o->used = 1, o->kind = kind, o->start = o->last = b;
  snprintf(o->key, sizeof o->key, "%s", key);
  snprintf(o->id, sizeof o->id, "%s:%s:%lld", kind_names[kind], key, (long long)(b * t->opts.bucket_ms));
  return o;
}

static void add_ref(sb_incident_hits_t *out, const sb_incident_t *t, const open_t *o, const sb_spike_event_t *ev,
                    int opened, int member) {
  sb_incident_ref_t *r = &out->refs[out->n++];
  r->kind = o->kind;
  snprintf(r->key, sizeof r->key, "%s", o->key);
  snprintf(r->id, sizeof r->id, "%s", o->id);
  r->started_ms = o->start * t->opts.bucket_ms;
  if (o->kind == SB_INCIDENT_VOLUME) {
    r->observed = ev->count, r->baseline = ev->mean;
  } else {
    r->observed = ev->count ? (double)ev->negative / ev->count : 0, r->baseline = ev->share_mean;
  }
  r->opened = opened, r->member = member;
}

/* Counts one message under key and adds to out the incidents of key that
 * it opened or belongs to (a negative-share one only if negative). */
static int observe_key(sb_incident_t *t, const char *key, int negative, int64_t now_ms, sb_incident_hits_t *out) {
  static const unsigned bits[SB_INCIDENT_KINDS] = {SB_SPIKE_VOLUME, SB_SPIKE_NEGATIVE};
  sb_spike_event_t ev;
  int rc = sb_spike_observe(t->spike, "", key, now_ms, negative, &ev);
  if (rc < 0)
    return rc;
  int64_t b = ev.bucket_start_ms / t->opts.bucket_ms;
  /* negative first: the more specific of the tenant's two */
  for (int k = SB_INCIDENT_KINDS - 1; k >= 0; k--) {
    int opened = 0, member = k == SB_INCIDENT_VOLUME || negative;
    open_t *o = (ev.kinds & bits[k]) ? raise(t, (sb_incident_kind_t)k, key, b, &opened)
                                     : find(t, (sb_incident_kind_t)k, key);
    if (o && b <= o->last + 1 && (member || opened))
      add_ref(out, t, o, &ev, opened, member);
  }
  return 0;
}

/* The message's own incident first (see sb_incident_hits_t). */
static void own_first(sb_incident_hits_t *out) {
  for (size_t i = 0; i < out->n; i++) {
    if (out->refs[i].member) {
      sb_incident_ref_t own = out->refs[i];
      memmove(&out->refs[1], &out->refs[0], i * sizeof own);
      out->refs[0] = own;
      return;
    }
  }
}

int sb_incident_observe(sb_incident_t *t, const char *intent, int negative, int64_t now_ms,
                        sb_incident_hits_t *out) {
  if (out)
    memset(out, 0, sizeof *out);
  if (!t || !out || (intent && strlen(intent) > SB_INCIDENT_KEY_MAX))
    return SB_EINVAL;
  int rc = 0;
  /* an intent's negative share is not judged (counted as 0): the tenant's is */
  if (intent && *intent)
    rc = observe_key(t, intent, 0, now_ms, out);
  if (!rc)
    rc = observe_key(t, ALL_TRAFFIC, negative, now_ms, out);
  own_first(out);
  return rc;
}
