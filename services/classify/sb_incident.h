/*
 * sb_incident: one tenant's spike incidents, over an sb_spike detector.
 *
 * Each message is counted under its top intent (volume) and under "*" (all
 * traffic: volume and negative share). When the detector raises a kind for
 * a key, an incident opens with the id
 *     "<kind>:<key>:<bucket start ms>"     e.g. "spike_volume:refund:1700000040000"
 * where the bucket is aligned to wall-clock multiples of bucket_ms: every
 * classify replica that sees the same burst derives the same id without
 * talking to the others (classify.lua then lets one of them store the
 * event). The incident stays open while the detector raises it again in the
 * next buckets (for at most SB_INCIDENT_SPAN_BUCKETS after its start; a
 * later raise is a new incident) and for one bucket after the last raise,
 * so the tail of a burst that crosses a bucket boundary still belongs to
 * it. A message observed while an incident of its key is open belongs to
 * it (a negative-share incident: only negative messages).
 *
 * Invariants: pure apart from its own memory (time is an argument); not
 * thread-safe: one per tenant, used by classify's loop thread only; at most
 * SB_INCIDENT_OPEN_MAX incidents are tracked (the one closed longest ago,
 * else the oldest, makes room).
 */
#ifndef SB_INCIDENT_H
#define SB_INCIDENT_H

#include "sb_rules.h"
#include "sb_spike.h"

#include <stddef.h>
#include <stdint.h>

#define SB_INCIDENT_SPAN_BUCKETS 3
/* How long replicas de-duplicate an incident (classify.lua's key), in
 * buckets: longer than any message can still carry its id. */
#define SB_INCIDENT_TTL_BUCKETS (SB_INCIDENT_SPAN_BUCKETS + 2)
#define SB_INCIDENT_OPEN_MAX 64
#define SB_INCIDENT_KEY_MAX SB_RULES_NAME_MAX
#define SB_INCIDENT_ID_MAX (sizeof "spike_negative::" + SB_INCIDENT_KEY_MAX + 20)
/* Incidents one message can belong to: its intent's volume, the tenant's
 * negative share, the tenant's volume. */
#define SB_INCIDENT_PER_MESSAGE 3

typedef enum { SB_INCIDENT_VOLUME = 0, SB_INCIDENT_NEGATIVE = 1, SB_INCIDENT_KINDS = 2 } sb_incident_kind_t;

typedef struct {
  sb_incident_kind_t kind;
  char key[SB_INCIDENT_KEY_MAX + 1]; /* the intent, or "*" */
  char id[SB_INCIDENT_ID_MAX];
  int64_t started_ms;                /* start of the bucket it opened in */
  double observed, baseline;         /* count (or negative share) in the
                                        bucket now, and the baseline mean */
  int opened;                        /* this message opened it */
  int member;                        /* the message belongs to it (a
                                        message that is not negative may
                                        open a negative-share incident) */
} sb_incident_ref_t;

typedef struct {
  /* incidents the message belongs to or opened; refs[0] is its own
   * (Classification.spike) when it belongs to any (member): its intent's,
   * else the tenant's negative share's, else the tenant's volume's */
  sb_incident_ref_t refs[SB_INCIDENT_PER_MESSAGE];
  size_t n;
} sb_incident_hits_t;

typedef struct sb_incident sb_incident_t;

/* A tracker with its detector (opts: see sb_spike_new). NULL if an option
 * is out of range or memory runs out. */
sb_incident_t *sb_incident_new(const sb_spike_opts_t *opts);
void sb_incident_destroy(sb_incident_t **t);

/* The options it was made with. */
const sb_spike_opts_t *sb_incident_opts(const sb_incident_t *t);

/* "spike_volume" or "spike_negative" (the Incident's kind). */
const char *sb_incident_kind_name(sb_incident_kind_t k);

/* Counts one message at now_ms: its top intent (NULL or "" for none; at
 * most SB_INCIDENT_KEY_MAX bytes) and whether it is negative. out receives
 * the incidents it belongs to (n = 0: none). Returns 0, SB_EINVAL (NULL
 * argument, intent too long), SB_ENOMEM. */
int sb_incident_observe(sb_incident_t *t, const char *intent, int negative, int64_t now_ms,
                        sb_incident_hits_t *out);

#endif
