/*
 * sbc_gap: which feed numbers never arrived. Pure (no I/O, the time is an
 * argument) so that tests can feed it any sequence.
 *
 * Per topic it keeps the next number expected and the ranges missing. A
 * number above the next expected opens a missing range that is reported
 * once its grace has passed, unless the numbers arrive meanwhile (several
 * notify replicas publish in their own commit order, so two numbers can
 * come swapped). A number below the next expected fills a missing range
 * (late) or is an old one (a re-send). At most SBC_GAP_PENDING_MAX ranges
 * wait per topic; one more reports the oldest at once.
 */
#ifndef SBC_GAP_H
#define SBC_GAP_H

#include <stddef.h>
#include <stdint.h>

#define SBC_GAP_PENDING_MAX 32

typedef struct sbc__gap sbc__gap_t;
typedef void (*sbc__gap_report_fn)(void *arg, const char *topic, uint64_t first, uint64_t last);

typedef enum {
  SBC_GAP_IN_ORDER = 0, /* the next number, or the first seen on the topic */
  SBC_GAP_JUMP = 1,     /* numbers were skipped: a missing range opened */
  SBC_GAP_LATE = 2,     /* filled (part of) a missing range */
  SBC_GAP_OLD = 3       /* below the next expected and not missing: a re-send */
} sbc__gap_seen_t;

sbc__gap_t *sbc__gap_new(int grace_ms);
void sbc__gap_free(sbc__gap_t **g);
/* The next number expected on topic is next (resume). 0 or SBC_ENOMEM. */
int sbc__gap_expect(sbc__gap_t *g, const char *topic, uint64_t next);
/* Number seq arrived on topic at now_ms: an sbc__gap_seen_t, or
 * SBC_ENOMEM. seq 0 (not numbered) is SBC_GAP_IN_ORDER and changes
 * nothing. fn (may be NULL) hears of a range pushed out by a full topic. */
int sbc__gap_observe(sbc__gap_t *g, const char *topic, uint64_t seq, int64_t now_ms,
                     sbc__gap_report_fn fn, void *arg);
/* Reports (and forgets) every missing range due at now_ms, oldest first
 * per topic; returns how many. */
size_t sbc__gap_expire(sbc__gap_t *g, int64_t now_ms, sbc__gap_report_fn fn, void *arg);
/* The earliest due time of a waiting range, or -1. */
int64_t sbc__gap_next_due(const sbc__gap_t *g);

#endif
