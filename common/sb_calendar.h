/*
 * sb_calendar: business hours in a named time zone, so that a service-level
 * target counts only the hours the desk is open.
 *
 * A calendar is a week of shifts (several per day: split shifts), a list of
 * holidays (local dates on which nothing counts) and an IANA time zone. It
 * answers two questions about instants (ms since the Unix epoch, UTC):
 *
 *   sb_calendar_add(c, t, n)      the instant at which n ms of business time
 *                                 have passed since t (a target that starts
 *                                 outside hours starts counting at the next
 *                                 opening; the clock pauses while closed)
 *   sb_calendar_between(c, a, b)  business ms in [a, b)
 *
 * Time zones are ICU's (ucal_* of libicu, its own copy of the IANA tz
 * database): each calendar opens one UCalendar at load and only computes
 * with it afterwards, no file or network I/O at run time, no process-wide
 * TZ variable. Shifts are local wall-clock times, so "09:00" is 08:00 UTC
 * in Paris in winter and 07:00 UTC in summer; on the day clocks change a
 * shift lasts as long as the wall clock says (an 00:00-06:00 shift is 7 h
 * on 2026-10-25 in Paris, 5 h on 2026-03-29). A boundary that falls in the
 * skipped hour moves to the first valid time after it; one that falls in
 * the repeated hour is its first occurrence.
 *
 * Thread safety: a calendar mutates its UCalendar while computing, so one
 * calendar is used by one thread at a time (services are single-threaded:
 * one libuv loop per process).
 */
#ifndef SB_CALENDAR_H
#define SB_CALENDAR_H

#include <stddef.h>
#include <stdint.h>

#define SB_CALENDAR_SHIFTS_MAX 8      /* shifts per weekday */
#define SB_CALENDAR_HOLIDAYS_MAX 512  /* holidays per calendar */
#define SB_CALENDAR_TZ_MAX 64
/* How far ahead sb_calendar_add looks for business time (about 10 years):
 * past it the target is reported as unreachable. */
#define SB_CALENDAR_HORIZON_DAYS 3660

typedef struct sb_calendar sb_calendar_t;
struct cJSON;

/* A calendar in time zone tz ("Europe/Paris") with no shifts yet. NULL with
 * a reason in err if tz is not a known zone (or out of memory). */
sb_calendar_t *sb_calendar_new(const char *tz, char *err, size_t errlen);
/* From the tenant file's form:
 *   {"tz": "Europe/Paris",
 *    "hours": {"mon": [["09:00","12:30"],["13:30","18:00"]], ..., "sun": []},
 *    "holidays": ["2026-12-25"]}
 * Times are "HH:MM", 00:00..24:00, start before end, shifts of one day do
 * not overlap; at least one shift in the week. NULL with a reason naming
 * the field (e.g. "hours.mon[1]: ...") in err. */
sb_calendar_t *sb_calendar_from_json(const struct cJSON *obj, char *err, size_t errlen);
void sb_calendar_destroy(sb_calendar_t **c);

/* Adds a shift [start_min, end_min) (minutes after local midnight, end up
 * to 1440) on weekday wday (0 = Monday ... 6 = Sunday). SB_EINVAL if out
 * of range, empty, overlapping another shift of that day, or one too
 * many. */
int sb_calendar_add_shift(sb_calendar_t *c, int wday, int start_min, int end_min);
/* Marks a local date (month 1..12) closed. SB_EINVAL if not a date. */
int sb_calendar_add_holiday(sb_calendar_t *c, int year, int month, int day);

/* *due = the instant when n_ms (>= 0) of business time have passed since
 * t_ms; n_ms == 0 gives t_ms. SB_ENOTFOUND if not within
 * SB_CALENDAR_HORIZON_DAYS (a calendar that never opens), SB_EINVAL on
 * an ICU failure. */
int sb_calendar_add(sb_calendar_t *c, int64_t t_ms, int64_t n_ms, int64_t *due);
/* Business ms in [a_ms, b_ms); 0 if b_ms <= a_ms. */
int64_t sb_calendar_between(sb_calendar_t *c, int64_t a_ms, int64_t b_ms);
/* 1 if instant t_ms is inside a shift. */
int sb_calendar_is_open(sb_calendar_t *c, int64_t t_ms);
/* *at = t_ms if the calendar is open then, else its next opening. Errors
 * as sb_calendar_add's (SB_ENOTFOUND: it never opens). */
int sb_calendar_next_open(sb_calendar_t *c, int64_t t_ms, int64_t *at);
const char *sb_calendar_tz(const sb_calendar_t *c);

/* Parses "HH:MM" (00:00..24:00) into minutes; -1 if malformed. */
int sb_calendar_parse_hhmm(const char *s);

#endif
