/*
 * sbctl_roster: the agent roster of `sbctl simulate` (a JSON file), and the
 * time models it names: who works, when, with which skills and capacity,
 * and how long each step of a conversation takes.
 *
 *   {"tenant": "acme-air", "tz": "Europe/Paris",
 *    "groups": [{"name": "chat-en", "count": 4, "capacity": 3,
 *                "skills": {"lang:en": 2, "billing": 1},
 *                "shifts": [{"days": ["mon", "tue", "wed", "thu", "fri"],
 *                            "from": "08:00", "to": "20:00"}],
 *                "accept": {"mean_s": 5, "dist": "exponential"},
 *                "handle": {"*": {"mean_s": 300, "p90_s": 540},
 *                           "email": {"mean_s": 600, "p90_s": 1200, "dist":
 * "lognormal"}}, "first_reply": {"*": {"mean_s": 40, "p90_s": 80}}}]}
 *
 * A group is `count` agents named "<name>-1" .. "<name>-<count>", each with
 * the group's skills (the tenant's route.agents entry: which queues they
 * serve) and capacity (units, see sb_route_config.h). Shifts are local
 * times in tz (an IANA zone; default: the caller's, e.g. the tenant's
 * calendar or UTC); "to" before "from" runs past midnight into the next
 * day; a group without shifts works around the clock. Shifts of one group
 * never overlap.
 *
 * Time models (seconds): "fixed" (mean_s), "exponential" (mean_s) or
 * "lognormal" (mean_s and p90_s, mean_s < p90_s <= 2.27 x mean_s: a
 * longer tail has no lognormal with that mean); the default is lognormal
 * when p90_s is given, else exponential. "handle" is the time from accept
 * to close, per channel name, "*" for the rest (required); "first_reply"
 * is the time from accept to the first reply (default: the end of
 * handling; never later than it); "accept" the time an offered
 * conversation waits before the agent accepts it (default: fixed 0).
 *
 * Every error names the place: "line L:C: groups[1].handle.email.p90_s:
 * must be ..." (sbctl_jsonpos). Pure: no I/O beyond reading the named file.
 */
#ifndef SBCTL_ROSTER_H
#define SBCTL_ROSTER_H

#include <stddef.h>
#include <stdint.h>

#define SBCTL_ROSTER_GROUPS_MAX 64
#define SBCTL_ROSTER_AGENTS_MAX 10000 /* over all groups */
#define SBCTL_ROSTER_SHIFTS_MAX 32 /* per group, after splitting at midnight   \
                                    */
#define SBCTL_ROSTER_MODELS_MAX                                                \
  16 /* channel entries of "handle" / "first_reply" */
#define SBCTL_ROSTER_NAME_MAX 48
#define SBCTL_ROSTER_CAPACITY_MAX 100
#define SBCTL_ROSTER_SECONDS_MAX 2592000.0 /* 30 days: any time model's mean   \
                                            */
#define SBCTL_ROSTER_BYTES_MAX (4u * 1024 * 1024)

typedef enum {
  SBCTL_DIST_FIXED,
  SBCTL_DIST_EXPONENTIAL,
  SBCTL_DIST_LOGNORMAL
} sbctl_dist_kind_t;

typedef struct {
  sbctl_dist_kind_t kind;
  double mean_s, p90_s;
  double mu, sigma; /* lognormal: ln X ~ N(mu, sigma^2) */
} sbctl_dist_t;

typedef struct {
  char channel[24]; /* a channel name, or "*" */
  sbctl_dist_t dist;
} sbctl_roster_model_t;

typedef struct {
  int wday;      /* 0 = Monday .. 6 = Sunday */
  int start_min; /* minutes after local midnight */
  int end_min;   /* up to 1440 */
} sbctl_roster_shift_t;

typedef struct {
  char name[SBCTL_ROSTER_NAME_MAX + 1];
  int count, capacity;
  char *skills_json; /* the "skills" object as JSON text ("{}" when none) */
  sbctl_roster_shift_t shifts[SBCTL_ROSTER_SHIFTS_MAX];
  size_t n_shifts; /* 0: always on */
  sbctl_dist_t accept;
  sbctl_roster_model_t handle[SBCTL_ROSTER_MODELS_MAX],
      reply[SBCTL_ROSTER_MODELS_MAX];
  size_t n_handle, n_reply;
  int line; /* where the group starts in the file */
} sbctl_roster_group_t;

typedef struct {
  char tenant[65]; /* "" when the file names none */
  char tz[64];     /* "" when the file names none */
  sbctl_roster_group_t *groups;
  size_t n_groups;
  int agents; /* sum of counts */
} sbctl_roster_t;

/* Parses a roster from text[0..len). NULL with "line L:C: path: reason"
 * in err on any error (or "out of memory"). */
sbctl_roster_t *sbctl_roster_parse(const char *text, size_t len, char *err,
                                   size_t errlen);
/* Reads and parses a file; errors read "FILE:L:C: path: reason" (or
 * "FILE: cannot read"). *unreadable (may be NULL) is set to 1 when the
 * file could not be read at all, 0 otherwise. */
sbctl_roster_t *sbctl_roster_load(const char *path, int *unreadable, char *err,
                                  size_t errlen);
/* Frees it and clears *r. NULL-safe. */
void sbctl_roster_destroy(sbctl_roster_t **r);

/* The group's handle-time / first-reply model for a channel name (its own
 * entry, else "*"); first_reply may be NULL (none given). */
const sbctl_dist_t *sbctl_roster_handle(const sbctl_roster_group_t *g,
                                        const char *channel);
const sbctl_dist_t *sbctl_roster_first_reply(const sbctl_roster_group_t *g,
                                             const char *channel);

/* A seeded generator (splitmix64): the same seed gives the same stream. */
uint64_t sbctl_rng_next(uint64_t *state);
/* Uniform in (0, 1). */
double sbctl_rng_unit(uint64_t *state);
/* One sample of d, in seconds (>= 0). */
double sbctl_dist_sample(const sbctl_dist_t *d, uint64_t *state);

#endif
