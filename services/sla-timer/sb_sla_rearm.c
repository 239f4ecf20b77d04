/*
 * sb_sla_rearm: due times after a resume or a policy change (see
 * sb_sla_rearm.h). Every field is parsed with a reason on failure; a
 * malformed task changes nothing.
 */
#include "sb_sla_rearm.h"
#include "sb_envelope.h"
#include "sb_error.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ATTRS_FIELDS 9
#define OPEN_FIELDS 7

/* Splits s (modified in place) at sep into at most max fields; the count. */
static int split(char *s, char sep, char **f, int max) {
  int n = 0;
  f[n++] = s;
  for (char *p = s; *p && n <= max; p++)
    if (*p == sep) {
      *p = '\0';
      if (n == max)
        return max + 1; /* too many */
      f[n++] = p + 1;
    }
  return n;
}

/* A non-negative decimal integer; -1 if not one. */
static int64_t num(const char *s) {
  if (!*s || strspn(s, "0123456789") != strlen(s) || strlen(s) > 18)
    return -1;
  return strtoll(s, NULL, 10);
}

int sb_sla_attrs_format(char *buf, size_t len, const char *channel, int band, const char *queue,
                        int64_t started_ms, const sb_sla_policy_t *p) {
  char b[16] = "";
  if (band >= 0)
    snprintf(b, sizeof b, "%d", band);
  return snprintf(buf, len, "%s|%s|%s|%" PRId64 "|%d|%d|%" PRId64 "|%s|%" PRId64, channel, b, queue,
                  started_ms, p->on_breach, p->raise_by, p->alert_window_ms, p->alert_calendar_name,
                  p->target_ms[SB_SLA_UPDATE]);
}

typedef struct {
  int64_t started, target, warn, paused_bms, paused_at, stage;
  const char *calendar;
} open_t;

/* "<started>,<target>,<calendar>,<warn>,<paused bms>,<paused at>,<stage>",
 * or the older "<started>,<target>,<calendar>". */
static int open_parse(char *s, open_t *o, int default_warn) {
  char *f[OPEN_FIELDS];
  int n = split(s, ',', f, OPEN_FIELDS);
  if (n != 3 && n != OPEN_FIELDS)
    return SB_EINVAL;
  o->started = num(f[0]);
  o->target = num(f[1]);
  o->calendar = f[2];
  o->warn = default_warn;
  o->paused_bms = o->paused_at = o->stage = 0;
  if (n == OPEN_FIELDS) {
    o->warn = num(f[3]);
    o->paused_bms = num(f[4]);
    o->paused_at = num(f[5]);
    o->stage = num(f[6]);
  }
  if (o->started < 0 || o->target < 0 || o->warn < 0 || o->warn > 100 || o->paused_bms < 0 ||
      o->paused_at < 0 || o->stage < 0 || o->stage > 2)
    return SB_EINVAL;
  return 0;
}

/* One target's new value and due times under policy p. */
static int rearm_target(const sb_sla_policies_t *ps, const sb_sla_policy_t *p, sb_sla_target_t k,
                        int64_t resumed_at, sb_sla_rearm_target_t *t) {
  char buf[SB_SLA_FIELD_MAX];
  open_t o;
  t->warn_due_ms = t->breach_due_ms = -1;
  t->now[0] = '\0';
  if (!t->old[0])
    return 0;
  snprintf(buf, sizeof buf, "%s", t->old);
  if (open_parse(buf, &o, p->warn_percent))
    return SB_EINVAL;
  if (o.stage == 2) { /* breached: stays missed until the reply or close */
    snprintf(t->now, sizeof t->now, "%s", t->old);
    return 0;
  }
  if (p->target_ms[k] <= 0)
    return 0; /* no longer promised: dropped */
  if (resumed_at > 0 && o.paused_at > 0) {
    o.paused_bms += sb_sla_clock_between(sb_sla_policies_calendar(ps, o.calendar), o.paused_at, resumed_at);
    o.paused_at = 0;
  }
  int64_t target = p->target_ms[k], warn = target * p->warn_percent / 100;
  if (o.paused_at == 0) {
    if (o.stage < 1 && sb_sla_clock_add(p->calendar, o.started, warn + o.paused_bms, &t->warn_due_ms))
      t->warn_due_ms = -1;
    if (sb_sla_clock_add(p->calendar, o.started, target + o.paused_bms, &t->breach_due_ms))
      t->breach_due_ms = -1; /* the calendar never opens: nothing can fire */
  }
  snprintf(t->now, sizeof t->now, "%" PRId64 ",%" PRId64 ",%s,%d,%" PRId64 ",%" PRId64 ",%" PRId64, o.started,
           target, p->calendar_name, p->warn_percent, o.paused_bms, o.paused_at, o.stage);
  return 0;
}

/* "<at>|<resume 0/1>|<op>": the resume time, or 0 when not a resume. */
static int64_t marker_resume(const char *marker) {
  char buf[SB_SLA_FIELD_MAX], *f[3];
  snprintf(buf, sizeof buf, "%s", marker);
  if (split(buf, '|', f, 3) != 3)
    return -1;
  int64_t at = num(f[0]);
  if (at < 0 || (strcmp(f[1], "0") != 0 && strcmp(f[1], "1") != 0))
    return -1;
  return f[1][0] == '1' ? at : 0;
}

int sb_sla_rearm_compute(const sb_sla_policies_t *ps, const char *task, size_t len, sb_sla_rearm_t *out,
                         const char **why) {
  char buf[4 * SB_SLA_FIELD_MAX * 2], attrs[SB_SLA_FIELD_MAX], *line[3 + SB_SLA_TARGETS], *a[ATTRS_FIELDS];
  memset(out, 0, sizeof *out);
  if (len >= sizeof buf || memchr(task, '\0', len)) {
    *why = "rearm task too long or not text";
    return SB_EINVAL;
  }
  memcpy(buf, task, len);
  buf[len] = '\0';
  if (split(buf, '\n', line, 3 + SB_SLA_TARGETS) != 3 + SB_SLA_TARGETS) {
    *why = "rearm task: not conversation, marker, attributes and 4 targets";
    return SB_EINVAL;
  }
  for (int i = 0; i < 3 + SB_SLA_TARGETS; i++)
    if (strlen(line[i]) >= SB_SLA_FIELD_MAX || (i == 0 && strlen(line[0]) >= SB_SLA_CONV_MAX)) {
      *why = "rearm task: a field is too long";
      return SB_EINVAL;
    }
  snprintf(out->conv, sizeof out->conv, "%s", line[0]);
  snprintf(out->marker, sizeof out->marker, "%s", line[1]);
  int64_t resumed_at = marker_resume(line[1]);
  snprintf(attrs, sizeof attrs, "%s", line[2]);
  if (!*out->conv || resumed_at < 0 || split(attrs, '|', a, ATTRS_FIELDS) != ATTRS_FIELDS) {
    *why = "rearm task: bad conversation, marker or attributes";
    return SB_EINVAL;
  }
  int band = *a[1] ? (int)num(a[1]) : -1; /* "": unknown */
  int64_t started = num(a[3]);
  if ((*a[1] && band < 0) || band >= SB_SLA_PRIORITIES || started < 0) {
    *why = "rearm task: bad band or start in attributes";
    return SB_EINVAL;
  }
  int channel = *a[0] ? (int)sb_channel_parse(a[0]) : 0;
  const sb_sla_policy_t *p =
      sb_sla_policies_match_queue(ps, channel, band < 0 ? SB_SLA_NORMAL : (sb_sla_priority_t)band, a[2]);
  sb_sla_attrs_format(out->attrs, sizeof out->attrs, a[0], band, a[2], started, p);
  for (int k = 0; k < SB_SLA_TARGETS; k++) {
    snprintf(out->t[k].old, sizeof out->t[k].old, "%s", line[3 + k]);
    if (rearm_target(ps, p, (sb_sla_target_t)k, resumed_at, &out->t[k])) {
      *why = "rearm task: a target's timers:open value is malformed";
      return SB_EINVAL;
    }
  }
  return 0;
}
