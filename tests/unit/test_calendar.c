/*
 * sb_calendar: business time in Europe/Paris with a split shift
 * (09:00-12:30, 13:30-18:00, Monday to Friday) and Christmas closed:
 * pauses over lunch, nights, weekends and holidays; the clock change of
 * 2026-03-29 and 2026-10-25; a target that starts outside hours; and the
 * tenant file's form refused with the field named.
 */
#include "sb_testutil.h"

#include "sb_calendar.h"
#include "sb_error.h"

#include <cjson/cJSON.h>
#include <string.h>
#include <time.h>

#define H (3600 * 1000LL)
#define MIN (60 * 1000LL)

/* ms of a UTC wall time */
static int64_t utc(int y, int mo, int d, int h, int mi) {
  struct tm tm = {.tm_year = y - 1900, .tm_mon = mo - 1, .tm_mday = d, .tm_hour = h, .tm_min = mi};
  return (int64_t)timegm(&tm) * 1000;
}

static sb_calendar_t *office(void) {
  char err[200];
  sb_calendar_t *c = sb_calendar_new("Europe/Paris", err, sizeof err);
  assert_non_null(c);
  for (int d = 0; d < 5; d++) {
    assert_int_equal(sb_calendar_add_shift(c, d, 9 * 60, 12 * 60 + 30), 0);
    assert_int_equal(sb_calendar_add_shift(c, d, 13 * 60 + 30, 18 * 60), 0);
  }
  assert_int_equal(sb_calendar_add_holiday(c, 2026, 12, 25), 0);
  return c;
}

static int64_t add(sb_calendar_t *c, int64_t t, int64_t n) {
  int64_t due = -1;
  assert_int_equal(sb_calendar_add(c, t, n, &due), 0);
  return due;
}

static void a_split_shift_pauses_over_lunch(void **state) {
  (void)state;
  sb_calendar_t *c = office();
  /* Tue 2026-06-16 12:00 CEST (10:00 UTC) + 1 h: 30 min before lunch, 30 after */
  assert_int_equal(add(c, utc(2026, 6, 16, 10, 0), H), utc(2026, 6, 16, 12, 0));
  /* a target that ends exactly at the lunch break is due at 12:30 */
  assert_int_equal(add(c, utc(2026, 6, 16, 10, 0), 30 * MIN), utc(2026, 6, 16, 10, 30));
  assert_false(sb_calendar_is_open(c, utc(2026, 6, 16, 10, 45)));
  assert_true(sb_calendar_is_open(c, utc(2026, 6, 16, 11, 45)));
  /* one day is 8 h of business time; one June week 40 h */
  assert_int_equal(sb_calendar_between(c, utc(2026, 6, 16, 0, 0), utc(2026, 6, 17, 0, 0)), 8 * H);
  assert_int_equal(sb_calendar_between(c, utc(2026, 6, 15, 0, 0), utc(2026, 6, 22, 0, 0)), 40 * H);
  sb_calendar_destroy(&c);
  assert_null(c);
}

static void a_holiday_and_the_weekend_are_skipped(void **state) {
  (void)state;
  sb_calendar_t *c = office();
  /* Thu 2026-12-24 17:30 CET (16:30 UTC) + 1 h: 30 min on Thursday,
   * Friday is Christmas, then the weekend: Mon 28th 09:30 CET */
  assert_int_equal(add(c, utc(2026, 12, 24, 16, 30), H), utc(2026, 12, 28, 8, 30));
  assert_int_equal(sb_calendar_between(c, utc(2026, 12, 24, 16, 30), utc(2026, 12, 28, 8, 30)), H);
  assert_false(sb_calendar_is_open(c, utc(2026, 12, 25, 10, 0)));
  sb_calendar_destroy(&c);
}

static void crossing_a_weekend(void **state) {
  (void)state;
  sb_calendar_t *c = office();
  /* Fri 2026-06-19 17:00 CEST + 2 h: 1 h on Friday, 1 h on Monday -> 10:00 CEST */
  assert_int_equal(add(c, utc(2026, 6, 19, 15, 0), 2 * H), utc(2026, 6, 22, 8, 0));
  sb_calendar_destroy(&c);
}

static void a_target_that_starts_outside_hours_starts_at_the_opening(void **state) {
  (void)state;
  sb_calendar_t *c = office();
  /* Saturday 11:00 + 30 min -> Monday 09:30 CEST */
  assert_int_equal(add(c, utc(2026, 6, 20, 9, 0), 30 * MIN), utc(2026, 6, 22, 7, 30));
  /* Tuesday 07:00 CEST + 30 min -> 09:30 the same day; over lunch -> 13:40 */
  assert_int_equal(add(c, utc(2026, 6, 16, 5, 0), 30 * MIN), utc(2026, 6, 16, 7, 30));
  assert_int_equal(add(c, utc(2026, 6, 16, 10, 40), 10 * MIN), utc(2026, 6, 16, 11, 40));
  /* no business time in a closed stretch; zero adds nothing */
  assert_int_equal(sb_calendar_between(c, utc(2026, 6, 20, 0, 0), utc(2026, 6, 22, 7, 0)), 0);
  assert_int_equal(add(c, utc(2026, 6, 20, 9, 0), 0), utc(2026, 6, 20, 9, 0));
  sb_calendar_destroy(&c);
}

static int64_t next_open(sb_calendar_t *c, int64_t t) {
  int64_t at = -1;
  assert_int_equal(sb_calendar_next_open(c, t, &at), 0);
  return at;
}

static void the_next_opening_is_now_when_open(void **state) {
  (void)state;
  sb_calendar_t *c = office();
  int64_t tue_1000 = utc(2026, 6, 16, 8, 0); /* 10:00 CEST: open */
  assert_int_equal(next_open(c, tue_1000), tue_1000);
  /* the last open millisecond before lunch; then lunch -> 13:30 CEST */
  assert_int_equal(next_open(c, utc(2026, 6, 16, 10, 30) - 1), utc(2026, 6, 16, 10, 30) - 1);
  assert_int_equal(next_open(c, utc(2026, 6, 16, 10, 30)), utc(2026, 6, 16, 11, 30));
  /* Christmas Eve after hours -> Monday 28th 09:00 CET */
  assert_int_equal(next_open(c, utc(2026, 12, 24, 20, 0)), utc(2026, 12, 28, 8, 0));
  sb_calendar_destroy(&c);
  /* a calendar with no shift never opens */
  char err[200];
  sb_calendar_t *never = sb_calendar_new("UTC", err, sizeof err);
  assert_non_null(never);
  int64_t at = 0;
  assert_int_equal(sb_calendar_next_open(never, tue_1000, &at), SB_ENOTFOUND);
  sb_calendar_destroy(&never);
}

static void shifts_follow_the_wall_clock_across_dst_changes(void **state) {
  (void)state;
  sb_calendar_t *c = office();
  /* autumn (2026-10-25): Fri 17:00 CEST (15:00 UTC) + 2 h -> Mon 10:00 CET (09:00 UTC) */
  assert_int_equal(add(c, utc(2026, 10, 23, 15, 0), 2 * H), utc(2026, 10, 26, 9, 0));
  /* spring (2026-03-29): Fri 17:00 CET (16:00 UTC) + 2 h -> Mon 10:00 CEST (08:00 UTC) */
  assert_int_equal(add(c, utc(2026, 3, 27, 16, 0), 2 * H), utc(2026, 3, 30, 8, 0));
  sb_calendar_destroy(&c);
}

static void a_shift_over_the_clock_change_lasts_what_the_wall_clock_says(void **state) {
  (void)state;
  char err[200];
  sb_calendar_t *c = sb_calendar_new("Europe/Paris", err, sizeof err);
  assert_non_null(c);
  assert_int_equal(sb_calendar_add_shift(c, 6, 0, 6 * 60), 0); /* Sunday 00:00-06:00 */
  /* 2026-10-25: 00:00 CEST = 24th 22:00 UTC .. 06:00 CET = 05:00 UTC: 7 h */
  assert_int_equal(sb_calendar_between(c, utc(2026, 10, 24, 12, 0), utc(2026, 10, 25, 12, 0)), 7 * H);
  assert_int_equal(add(c, utc(2026, 10, 24, 22, 0), 6 * H + 30 * MIN), utc(2026, 10, 25, 4, 30));
  /* 2026-03-29: 00:00 CET = 28th 23:00 UTC .. 06:00 CEST = 04:00 UTC: 5 h */
  assert_int_equal(sb_calendar_between(c, utc(2026, 3, 28, 12, 0), utc(2026, 3, 29, 12, 0)), 5 * H);
  assert_int_equal(add(c, utc(2026, 3, 28, 23, 0), 5 * H), utc(2026, 3, 29, 4, 0));
  /* 5 h 1 min does not fit: the next Sunday, 00:01 CEST */
  assert_int_equal(add(c, utc(2026, 3, 28, 23, 0), 5 * H + MIN), utc(2026, 4, 4, 22, 1));
  sb_calendar_destroy(&c);
}

static void adding_what_lies_between_gives_the_end_back(void **state) {
  (void)state;
  sb_calendar_t *c = office();
  int64_t a = utc(2026, 3, 20, 8, 17); /* a Friday before the spring change */
  for (int64_t u = a + 7 * MIN; u < a + 30 * 24 * H; u += 97 * MIN) {
    if (!sb_calendar_is_open(c, u) || !sb_calendar_is_open(c, u - 1))
      continue; /* at an opening, the sum is reached at the previous close */
    assert_int_equal(add(c, a, sb_calendar_between(c, a, u)), u);
  }
  sb_calendar_destroy(&c);
}

static sb_calendar_t *parse(const char *json, char *err, size_t errlen) {
  cJSON *o = cJSON_Parse(json);
  sb_calendar_t *c = sb_calendar_from_json(o, err, errlen);
  cJSON_Delete(o);
  return c;
}

static void the_tenant_file_form_is_read_and_bad_fields_are_named(void **state) {
  (void)state;
  char err[256];
  sb_calendar_t *c = parse("{\"tz\":\"Europe/Paris\",\"hours\":{\"mon\":[[\"09:00\",\"12:30\"],"
                           "[\"13:30\",\"24:00\"]]},\"holidays\":[\"2026-06-15\"]}",
                           err, sizeof err);
  assert_non_null(c);
  assert_string_equal(sb_calendar_tz(c), "Europe/Paris");
  /* the 15th is a holiday: Mon 22nd 09:00 CEST + 4 h -> 14:00 CEST */
  assert_int_equal(add(c, utc(2026, 6, 15, 7, 0), 4 * H), utc(2026, 6, 22, 12, 0));
  sb_calendar_destroy(&c);
  static const struct {
    const char *json, *err;
  } bad[] = {
      {"{\"tz\":\"Mars/Olympus\",\"hours\":{\"mon\":[[\"09:00\",\"18:00\"]]}}", "tz: \"Mars/Olympus\""},
      {"{\"hours\":{\"mon\":[[\"09:00\",\"18:00\"]]}}", "tz: required"},
      {"{\"tz\":\"UTC\",\"hours\":{\"mon\":[[\"09:00\",\"25:00\"]]}}", "hours.mon[0]"},
      {"{\"tz\":\"UTC\",\"hours\":{\"tue\":[[\"09:00\",\"12:00\"],[\"11:00\",\"14:00\"]]}}",
       "hours.tue[1]: overlaps"},
      {"{\"tz\":\"UTC\",\"hours\":{\"wed\":[[\"18:00\",\"09:00\"]]}}", "hours.wed[0]: start must be before end"},
      {"{\"tz\":\"UTC\",\"hours\":{\"monday\":[[\"09:00\",\"18:00\"]]}}", "hours.monday: not a day"},
      {"{\"tz\":\"UTC\",\"hours\":{\"sat\":[]}}", "hours: no shift"},
      {"{\"tz\":\"UTC\",\"hours\":{\"fri\":[[\"09:00\",\"18:00\"]]},\"holidays\":[\"2026-02-30\"]}",
       "holidays[0]"},
      {"{\"tz\":\"UTC\",\"hours\":{\"fri\":[[\"09:00\",\"18:00\"]]},\"holiday\":[]}", "holiday: unknown field"},
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    err[0] = '\0';
    assert_null(parse(bad[i].json, err, sizeof err));
    if (!strstr(err, bad[i].err))
      fail_msg("case %zu: \"%s\" does not say \"%s\"", i, err, bad[i].err);
  }
}

static void hhmm_is_strict(void **state) {
  (void)state;
  assert_int_equal(sb_calendar_parse_hhmm("00:00"), 0);
  assert_int_equal(sb_calendar_parse_hhmm("24:00"), 1440);
  assert_int_equal(sb_calendar_parse_hhmm("13:30"), 810);
  assert_int_equal(sb_calendar_parse_hhmm("24:01"), -1);
  assert_int_equal(sb_calendar_parse_hhmm("9:00"), -1);
  assert_int_equal(sb_calendar_parse_hhmm("09:60"), -1);
  assert_int_equal(sb_calendar_parse_hhmm("09-00"), -1);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(a_split_shift_pauses_over_lunch),
      cmocka_unit_test(a_holiday_and_the_weekend_are_skipped),
      cmocka_unit_test(crossing_a_weekend),
      cmocka_unit_test(a_target_that_starts_outside_hours_starts_at_the_opening),
      cmocka_unit_test(the_next_opening_is_now_when_open),
      cmocka_unit_test(shifts_follow_the_wall_clock_across_dst_changes),
      cmocka_unit_test(a_shift_over_the_clock_change_lasts_what_the_wall_clock_says),
      cmocka_unit_test(adding_what_lies_between_gives_the_end_back),
      cmocka_unit_test(the_tenant_file_form_is_read_and_bad_fields_are_named),
      cmocka_unit_test(hhmm_is_strict),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
