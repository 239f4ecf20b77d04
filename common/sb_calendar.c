/*
 * sb_calendar: business hours (see sb_calendar.h).
 *
 * Both questions walk local days from the one that holds the start
 * instant. For each day the calendar turns its shifts (local wall-clock
 * minutes) into UTC spans with ICU, which applies the zone's offset of
 * that very day, so DST changes need no code of their own. A holiday has
 * no spans. Shifts never cross midnight, so a day's spans never reach
 * into the next day.
 */
#include "sb_calendar.h"
#include "sb_error.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unicode/ucal.h>
#include <unicode/ustring.h>

#define MIN_PER_DAY 1440
#define MS_PER_MIN 60000

typedef struct {
  int start, end; /* minutes after local midnight */
} shift_t;

typedef struct {
  int64_t open, close; /* UTC ms */
} span_t;

struct sb_calendar {
  UCalendar *ucal;
  char tz[SB_CALENDAR_TZ_MAX];
  shift_t shifts[7][SB_CALENDAR_SHIFTS_MAX]; /* 0 = Monday, sorted by start */
  int nshifts[7];
  int holidays[SB_CALENDAR_HOLIDAYS_MAX]; /* yyyymmdd, sorted */
  int nholidays;
};

static const char *const day_names[7] = {"mon", "tue", "wed", "thu", "fri", "sat", "sun"};

static int tz_known(const char *tz) {
  UChar id[SB_CALENDAR_TZ_MAX], canon[SB_CALENDAR_TZ_MAX * 2];
  UBool system = 0;
  UErrorCode st = U_ZERO_ERROR;
  size_t n = strlen(tz);
  if (n == 0 || n >= SB_CALENDAR_TZ_MAX || strspn(tz, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                                                      "0123456789/_+-") != n)
    return 0;
  u_uastrncpy(id, tz, SB_CALENDAR_TZ_MAX);
  ucal_getCanonicalTimeZoneID(id, (int32_t)n, canon, SB_CALENDAR_TZ_MAX * 2, &system, &st);
  return U_SUCCESS(st) && system;
}

sb_calendar_t *sb_calendar_new(const char *tz, char *err, size_t errlen) {
  if (!tz || !tz_known(tz)) {
    snprintf(err, errlen, "tz: \"%s\" is not a known IANA time zone", tz ? tz : "");
    return NULL;
  }
  sb_calendar_t *c = calloc(1, sizeof *c);
  if (!c) {
    snprintf(err, errlen, "out of memory");
    return NULL;
  }
  UChar id[SB_CALENDAR_TZ_MAX];
  UErrorCode st = U_ZERO_ERROR;
  u_uastrncpy(id, tz, SB_CALENDAR_TZ_MAX);
  c->ucal = ucal_open(id, (int32_t)strlen(tz), "en_US_POSIX", UCAL_GREGORIAN, &st);
  if (U_FAILURE(st) || !c->ucal) {
    snprintf(err, errlen, "tz: ICU cannot open \"%s\": %s", tz, u_errorName(st));
    sb_calendar_destroy(&c);
    return NULL;
  }
  ucal_setAttribute(c->ucal, UCAL_LENIENT, 1); /* day 32 of a month is the next month's 1st */
  ucal_setAttribute(c->ucal, UCAL_REPEATED_WALL_TIME, UCAL_WALLTIME_FIRST);
  ucal_setAttribute(c->ucal, UCAL_SKIPPED_WALL_TIME, UCAL_WALLTIME_NEXT_VALID);
  snprintf(c->tz, sizeof c->tz, "%s", tz);
  return c;
}

void sb_calendar_destroy(sb_calendar_t **cp) {
  sb_calendar_t *c = *cp;
  if (!c)
    return;
  *cp = NULL;
  if (c->ucal)
    ucal_close(c->ucal);
  free(c);
}

const char *sb_calendar_tz(const sb_calendar_t *c) { return c->tz; }

int sb_calendar_add_shift(sb_calendar_t *c, int wday, int start_min, int end_min) {
  if (wday < 0 || wday > 6 || start_min < 0 || end_min > MIN_PER_DAY || start_min >= end_min ||
      c->nshifts[wday] == SB_CALENDAR_SHIFTS_MAX)
    return SB_EINVAL;
  shift_t *s = c->shifts[wday];
  int n = c->nshifts[wday], at = 0;
  while (at < n && s[at].start < start_min)
    at++;
  if ((at > 0 && s[at - 1].end > start_min) || (at < n && s[at].start < end_min))
    return SB_EINVAL; /* overlaps a neighbour */
  memmove(&s[at + 1], &s[at], (size_t)(n - at) * sizeof *s);
  s[at] = (shift_t){start_min, end_min};
  c->nshifts[wday]++;
  return 0;
}

static int days_in_month(int y, int m) {
  static const int days[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
  return days[m - 1] + (m == 2 && leap);
}

static int cmp_int(const void *a, const void *b) {
  int x = *(const int *)a, y = *(const int *)b;
  return (x > y) - (x < y);
}

int sb_calendar_add_holiday(sb_calendar_t *c, int year, int month, int day) {
  if (year < 1970 || year > 9999 || month < 1 || month > 12 || day < 1 ||
      day > days_in_month(year, month) || c->nholidays == SB_CALENDAR_HOLIDAYS_MAX)
    return SB_EINVAL;
  c->holidays[c->nholidays++] = year * 10000 + month * 100 + day;
  qsort(c->holidays, (size_t)c->nholidays, sizeof c->holidays[0], cmp_int);
  return 0;
}

/* ---- computing ------------------------------------------------------------ */

/* The UTC instant of local wall time (y, m0, d, minute); d may overflow
 * the month (lenient). */
static int64_t local_ms(sb_calendar_t *c, int y, int m0, int d, int minute, UErrorCode *st) {
  ucal_clear(c->ucal);
  ucal_setDateTime(c->ucal, y, m0, d, minute / 60, minute % 60, 0, st);
  return (int64_t)ucal_getMillis(c->ucal, st);
}

/* The spans of local day (y, m0, d) (d may overflow the month); *midnight
 * gets the day's start. Returns the number of spans, -1 on ICU failure. */
static int day_spans(sb_calendar_t *c, int y, int m0, int d, span_t *out, int64_t *midnight) {
  UErrorCode st = U_ZERO_ERROR;
  *midnight = local_ms(c, y, m0, d, 0, &st);
  int yy = ucal_get(c->ucal, UCAL_YEAR, &st);
  int mm = ucal_get(c->ucal, UCAL_MONTH, &st) + 1;
  int dd = ucal_get(c->ucal, UCAL_DATE, &st);
  int wday = (ucal_get(c->ucal, UCAL_DAY_OF_WEEK, &st) + 5) % 7; /* UCAL_SUNDAY is 1 */
  if (U_FAILURE(st))
    return -1;
  int key = yy * 10000 + mm * 100 + dd;
  if (bsearch(&key, c->holidays, (size_t)c->nholidays, sizeof key, cmp_int))
    return 0;
  for (int i = 0; i < c->nshifts[wday]; i++) {
    out[i].open = local_ms(c, yy, mm - 1, dd, c->shifts[wday][i].start, &st);
    out[i].close = local_ms(c, yy, mm - 1, dd, c->shifts[wday][i].end, &st);
  }
  return U_FAILURE(st) ? -1 : c->nshifts[wday];
}

/* The local date of instant t. */
static int local_date(sb_calendar_t *c, int64_t t, int *y, int *m0, int *d) {
  UErrorCode st = U_ZERO_ERROR;
  ucal_setMillis(c->ucal, (UDate)t, &st);
  *y = ucal_get(c->ucal, UCAL_YEAR, &st);
  *m0 = ucal_get(c->ucal, UCAL_MONTH, &st);
  *d = ucal_get(c->ucal, UCAL_DATE, &st);
  return U_FAILURE(st) ? SB_EINVAL : 0;
}

int sb_calendar_add(sb_calendar_t *c, int64_t t_ms, int64_t n_ms, int64_t *due) {
  int y, m0, d;
  if (n_ms <= 0) {
    *due = t_ms;
    return 0;
  }
  if (local_date(c, t_ms, &y, &m0, &d))
    return SB_EINVAL;
  int64_t left = n_ms, midnight;
  span_t sp[SB_CALENDAR_SHIFTS_MAX];
  for (int k = 0; k <= SB_CALENDAR_HORIZON_DAYS; k++) {
    int n = day_spans(c, y, m0, d + k, sp, &midnight);
    if (n < 0)
      return SB_EINVAL;
    for (int i = 0; i < n; i++) {
      if (sp[i].close <= t_ms)
        continue;
      int64_t from = sp[i].open > t_ms ? sp[i].open : t_ms;
      if (left <= sp[i].close - from) {
        *due = from + left;
        return 0;
      }
      left -= sp[i].close - from;
    }
  }
  return SB_ENOTFOUND;
}

int64_t sb_calendar_between(sb_calendar_t *c, int64_t a_ms, int64_t b_ms) {
  int y, m0, d;
  if (b_ms <= a_ms || local_date(c, a_ms, &y, &m0, &d))
    return 0;
  int64_t sum = 0, midnight;
  span_t sp[SB_CALENDAR_SHIFTS_MAX];
  for (int k = 0;; k++) {
    int n = day_spans(c, y, m0, d + k, sp, &midnight);
    if (n < 0 || midnight >= b_ms)
      break;
    for (int i = 0; i < n; i++) {
      int64_t from = sp[i].open > a_ms ? sp[i].open : a_ms;
      int64_t to = sp[i].close < b_ms ? sp[i].close : b_ms;
      if (to > from)
        sum += to - from;
    }
  }
  return sum;
}

int sb_calendar_is_open(sb_calendar_t *c, int64_t t_ms) {
  return sb_calendar_between(c, t_ms, t_ms + 1) == 1;
}

/* The first business millisecond at or after t ends 1 ms of business time
 * (sb_calendar_add(c, t, 1)): open at t gives t + 1, closed gives the
 * opening + 1. */
int sb_calendar_next_open(sb_calendar_t *c, int64_t t_ms, int64_t *at) {
  int64_t end = 0;
  int rc = sb_calendar_add(c, t_ms, 1, &end);
  if (!rc)
    *at = end - 1;
  return rc;
}

/* ---- the tenant file's form ------------------------------------------------ */

int sb_calendar_parse_hhmm(const char *s) {
  if (!s || strlen(s) != 5 || s[2] != ':' || !strchr("012", s[0]))
    return -1;
  for (int i = 0; i < 5; i++)
    if (i != 2 && (s[i] < '0' || s[i] > '9'))
      return -1;
  int h = (s[0] - '0') * 10 + (s[1] - '0'), m = (s[3] - '0') * 10 + (s[4] - '0');
  if (m > 59 || h > 24 || (h == 24 && m != 0))
    return -1;
  return h * 60 + m;
}

static int parse_day(sb_calendar_t *c, int wday, const cJSON *shifts, char *err, size_t errlen) {
  const char *day = day_names[wday];
  if (!cJSON_IsArray(shifts)) {
    snprintf(err, errlen, "hours.%s: must be a list of [\"HH:MM\", \"HH:MM\"] shifts", day);
    return SB_ECONFIG;
  }
  int i = 0;
  for (const cJSON *s = shifts->child; s; s = s->next, i++) {
    const cJSON *a = cJSON_GetArrayItem(s, 0), *b = cJSON_GetArrayItem(s, 1);
    int from = -1, to = -1;
    if (cJSON_IsArray(s) && cJSON_GetArraySize(s) == 2 && cJSON_IsString(a) && cJSON_IsString(b)) {
      from = sb_calendar_parse_hhmm(a->valuestring);
      to = sb_calendar_parse_hhmm(b->valuestring);
    }
    if (from < 0 || to < 0) {
      snprintf(err, errlen, "hours.%s[%d]: must be [\"HH:MM\", \"HH:MM\"] (00:00..24:00)", day, i);
      return SB_ECONFIG;
    }
    if (sb_calendar_add_shift(c, wday, from, to)) {
      snprintf(err, errlen, "hours.%s[%d]: %s", day, i,
               from >= to ? "start must be before end (shifts do not cross midnight)"
               : c->nshifts[wday] == SB_CALENDAR_SHIFTS_MAX ? "too many shifts in one day"
                                                            : "overlaps another shift of that day");
      return SB_ECONFIG;
    }
  }
  return 0;
}

static int parse_hours(sb_calendar_t *c, const cJSON *hours, char *err, size_t errlen) {
  if (!cJSON_IsObject(hours)) {
    snprintf(err, errlen, "hours: must be an object {\"mon\": [[\"09:00\", \"18:00\"]], ...}");
    return SB_ECONFIG;
  }
  for (const cJSON *h = hours->child; h; h = h->next) {
    int wday = 0;
    while (wday < 7 && strcmp(day_names[wday], h->string) != 0)
      wday++;
    if (wday == 7) {
      snprintf(err, errlen, "hours.%s: not a day (mon, tue, wed, thu, fri, sat, sun)", h->string);
      return SB_ECONFIG;
    }
    if (parse_day(c, wday, h, err, errlen))
      return SB_ECONFIG;
  }
  int total = 0;
  for (int w = 0; w < 7; w++)
    total += c->nshifts[w];
  if (total == 0) {
    snprintf(err, errlen, "hours: no shift in the whole week");
    return SB_ECONFIG;
  }
  return 0;
}

static int parse_holidays(sb_calendar_t *c, const cJSON *hol, char *err, size_t errlen) {
  if (!hol)
    return 0;
  if (!cJSON_IsArray(hol)) {
    snprintf(err, errlen, "holidays: must be a list of \"YYYY-MM-DD\" dates");
    return SB_ECONFIG;
  }
  int i = 0;
  for (const cJSON *h = hol->child; h; h = h->next, i++) {
    int y, m, d;
    char tail;
    if (!cJSON_IsString(h) || strlen(h->valuestring) != 10 ||
        sscanf(h->valuestring, "%4d-%2d-%2d%c", &y, &m, &d, &tail) != 3 ||
        sb_calendar_add_holiday(c, y, m, d)) {
      snprintf(err, errlen, "holidays[%d]: not a date \"YYYY-MM-DD\" (or more than %d holidays)", i,
               SB_CALENDAR_HOLIDAYS_MAX);
      return SB_ECONFIG;
    }
  }
  return 0;
}

sb_calendar_t *sb_calendar_from_json(const cJSON *obj, char *err, size_t errlen) {
  if (!cJSON_IsObject(obj)) {
    snprintf(err, errlen, "must be an object {\"tz\", \"hours\", \"holidays\"}");
    return NULL;
  }
  for (const cJSON *k = obj->child; k; k = k->next)
    if (strcmp(k->string, "tz") && strcmp(k->string, "hours") && strcmp(k->string, "holidays")) {
      snprintf(err, errlen, "%s: unknown field (tz, hours, holidays)", k->string);
      return NULL;
    }
  const cJSON *tz = cJSON_GetObjectItemCaseSensitive(obj, "tz");
  if (!cJSON_IsString(tz)) {
    snprintf(err, errlen, "tz: required, an IANA time zone such as \"Europe/Paris\"");
    return NULL;
  }
  sb_calendar_t *c = sb_calendar_new(tz->valuestring, err, errlen);
  if (c && (parse_hours(c, cJSON_GetObjectItemCaseSensitive(obj, "hours"), err, errlen) ||
            parse_holidays(c, cJSON_GetObjectItemCaseSensitive(obj, "holidays"), err, errlen)))
    sb_calendar_destroy(&c);
  return c;
}
