/*
 * test_sbctl_progress: the progress of a long publish, as pure arithmetic
 * and text: the mode chosen for a terminal or not (--progress), the rate
 * and the time left, durations, the bar and the plain line, and the
 * reporter's pacing (a plain line only every SBCTL_PROGRESS_LINE_MS, the
 * bar ended with a newline), written to a memory stream.
 */
#include "sbctl_progress.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

static void the_mode_is_a_bar_on_a_terminal_and_lines_only_when_asked(void **state) {
  (void)state;
  assert_int_equal(sbctl_progress_mode(1, 0), SBCTL_PROGRESS_BAR);
  assert_int_equal(sbctl_progress_mode(1, 1), SBCTL_PROGRESS_BAR);
  assert_int_equal(sbctl_progress_mode(0, 1), SBCTL_PROGRESS_LINES);
  assert_int_equal(sbctl_progress_mode(0, 0), SBCTL_PROGRESS_OFF);
  assert_null(sbctl_progress_new(stderr, SBCTL_PROGRESS_OFF, 10, 0));
  sbctl_progress_update(NULL, 1, 1, 5); /* NULL is a no-op */
}

static void rate_and_eta_follow_acknowledgements(void **state) {
  (void)state;
  sbctl_progress_sample_t s = {.total = 10000, .published = 3000, .acked = 2000, .elapsed_ms = 4000};
  assert_float_equal(sbctl_progress_rate(&s), 500.0, 1e-9);
  assert_int_equal(sbctl_progress_eta_s(&s), 16); /* 8000 left at 500/s */
  s.acked = 2001;                                  /* 7999 / 500.25 = 15.99: rounded up */
  assert_int_equal(sbctl_progress_eta_s(&s), 16);
  s.acked = 0; /* no rate yet: unknown */
  assert_float_equal(sbctl_progress_rate(&s), 0.0, 0);
  assert_int_equal(sbctl_progress_eta_s(&s), -1);
  s.acked = 100, s.elapsed_ms = 0;
  assert_int_equal(sbctl_progress_eta_s(&s), -1);
  s.acked = 10000, s.elapsed_ms = 1;
  assert_int_equal(sbctl_progress_eta_s(&s), 0);
}

static void durations_read_as_people_write_them(void **state) {
  (void)state;
  char b[24];
  sbctl_progress_duration(-1, b, sizeof b);
  assert_string_equal(b, "--");
  sbctl_progress_duration(0, b, sizeof b);
  assert_string_equal(b, "0s");
  sbctl_progress_duration(59, b, sizeof b);
  assert_string_equal(b, "59s");
  sbctl_progress_duration(185, b, sizeof b);
  assert_string_equal(b, "3m05s");
  sbctl_progress_duration(7620, b, sizeof b);
  assert_string_equal(b, "2h07m");
}

static void the_bar_fills_with_the_acknowledged_share(void **state) {
  (void)state;
  char line[256];
  sbctl_progress_sample_t s = {.total = 200, .published = 120, .acked = 50, .elapsed_ms = 2000};
  sbctl_progress_format(&s, 1, line, sizeof line);
  assert_string_equal(line, "[######..................]  25% 50/200 acked (120 published) 25/s ETA 6s");
  sbctl_progress_format(&s, 0, line, sizeof line);
  assert_string_equal(line, "progress: published 120 acked 50 of 200 (25%) 25/s eta 6s");
  s.acked = s.published = 200;
  sbctl_progress_format(&s, 1, line, sizeof line);
  assert_non_null(strstr(line, "[########################] 100% 200/200"));
  assert_non_null(strstr(line, "ETA 0s"));
  s.total = 0, s.acked = 0, s.elapsed_ms = 0; /* empty file: done, no division by zero */
  sbctl_progress_format(&s, 0, line, sizeof line);
  assert_string_equal(line, "progress: published 200 acked 0 of 0 (100%) 0/s eta 0s");
}

static void plain_lines_are_paced_and_the_bar_ends_with_a_newline(void **state) {
  (void)state;
  char *buf = NULL;
  size_t len = 0;
  FILE *f = open_memstream(&buf, &len);
  sbctl_progress_t *p = sbctl_progress_new(f, SBCTL_PROGRESS_LINES, 100, 1000);
  sbctl_progress_update(p, 10, 5, 1000);                          /* shown: the first */
  sbctl_progress_update(p, 20, 10, 1000 + SBCTL_PROGRESS_LINE_MS - 1); /* too soon */
  sbctl_progress_update(p, 30, 20, 1000 + SBCTL_PROGRESS_LINE_MS);     /* shown */
  sbctl_progress_finish(&p, 1000 + SBCTL_PROGRESS_LINE_MS + 10);       /* always shown */
  assert_null(p);
  fflush(f);
  int lines = 0;
  for (size_t i = 0; i < len; i++)
    lines += buf[i] == '\n';
  assert_int_equal(lines, 3);
  assert_non_null(strstr(buf, "published 30 acked 20 of 100"));
  assert_null(strchr(buf, '\r'));
  fclose(f);
  free(buf);

  f = open_memstream(&buf, &len);
  p = sbctl_progress_new(f, SBCTL_PROGRESS_BAR, 4, 0);
  sbctl_progress_update(p, 4, 4, 1000);
  sbctl_progress_finish(&p, 1000);
  fflush(f);
  assert_true(buf[0] == '\r');
  assert_true(len > 0 && buf[len - 1] == '\n');
  assert_non_null(strstr(buf, "4/4 acked"));
  fclose(f);
  free(buf);
}

static void client_figures_count_each_event_once(void **state) {
  (void)state;
  char *buf = NULL;
  size_t len = 0;
  FILE *f = open_memstream(&buf, &len);
  sbctl_progress_t *p = sbctl_progress_new(f, SBCTL_PROGRESS_LINES, 100, 0);
  /* 90 sends, 10 of them retries of events answered "later": 80 published */
  sbctl_client_stats_t cs = {.sent = 90, .ok = 40, .duplicate = 5, .invalid = 3, .unknown_tenant = 2,
                             .retried = 10};
  sbctl_progress_update_client(p, &cs, 0);
  fflush(f);
  assert_non_null(strstr(buf, "published 80 acked 50 of 100"));
  sbctl_progress_finish(&p, 1);
  fclose(f);
  free(buf);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(the_mode_is_a_bar_on_a_terminal_and_lines_only_when_asked),
      cmocka_unit_test(rate_and_eta_follow_acknowledgements),
      cmocka_unit_test(durations_read_as_people_write_them),
      cmocka_unit_test(the_bar_fills_with_the_acknowledged_share),
      cmocka_unit_test(plain_lines_are_paced_and_the_bar_ends_with_a_newline),
      cmocka_unit_test(client_figures_count_each_event_once),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
