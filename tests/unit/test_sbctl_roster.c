/* sbctl_roster: a roster is read whole (groups, shifts split at midnight,
 * time models fitted), every bad file is rejected with the line and the
 * path of the value at fault, and the time models sample what they say. */
#include "sb_testutil.h"

#include "sbctl_roster.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char *good =
    "{\"tenant\": \"acme-air\", \"tz\": \"Europe/Paris\",\n"
    " \"groups\": [\n"
    "  {\"name\": \"chat\", \"count\": 3, \"capacity\": 2, \"skills\": "
    "{\"lang:en\": 2},\n"
    "   \"shifts\": [{\"days\": [\"mon\", \"sun\"], \"from\": \"22:00\", "
    "\"to\": \"06:00\"}],\n"
    "   \"accept\": {\"mean_s\": 5},\n"
    "   \"handle\": {\"*\": {\"mean_s\": 300, \"p90_s\": 540}, \"email\": "
    "{\"mean_s\": 60, \"dist\": \"fixed\"}},\n"
    "   \"first_reply\": {\"webchat\": {\"mean_s\": 30, \"p90_s\": 50}}},\n"
    "  {\"name\": \"mail\", \"count\": 1, \"handle\": {\"*\": {\"mean_s\": "
    "600}}}\n"
    " ]}\n";

static void a_roster_is_read_whole(void **state) {
  (void)state;
  char err[256];
  sbctl_roster_t *r = sbctl_roster_parse(good, strlen(good), err, sizeof err);
  if (!r)
    fail_msg("%s", err);
  assert_string_equal(r->tenant, "acme-air");
  assert_string_equal(r->tz, "Europe/Paris");
  assert_int_equal(r->n_groups, 2);
  assert_int_equal(r->agents, 4);
  const sbctl_roster_group_t *g = &r->groups[0];
  assert_string_equal(g->name, "chat");
  assert_int_equal(g->capacity, 2);
  assert_string_equal(g->skills_json, "{\"lang:en\":2}");
  assert_int_equal(g->line, 3);
  /* 22:00-06:00 on mon and sun: four pieces, sunday night wraps to monday */
  assert_int_equal(g->n_shifts, 4);
  assert_int_equal(g->shifts[0].wday, 0);
  assert_int_equal(g->shifts[0].start_min, 22 * 60);
  assert_int_equal(g->shifts[0].end_min, 1440);
  assert_int_equal(g->shifts[1].wday, 1);
  assert_int_equal(g->shifts[1].end_min, 6 * 60);
  assert_int_equal(g->shifts[3].wday, 0);
  /* models by channel, "*" for the rest; lognormal fitted to mean and p90 */
  assert_int_equal(sbctl_roster_handle(g, "email")->kind, SBCTL_DIST_FIXED);
  const sbctl_dist_t *d = sbctl_roster_handle(g, "x");
  assert_int_equal(d->kind, SBCTL_DIST_LOGNORMAL);
  assert_true(fabs(exp(d->mu + d->sigma * d->sigma / 2) - 300) < 1e-6);
  assert_true(fabs(exp(d->mu + 1.2815515655446004 * d->sigma) - 540) < 1e-6);
  assert_non_null(sbctl_roster_first_reply(g, "webchat"));
  assert_null(sbctl_roster_first_reply(g, "email"));
  assert_int_equal(g->accept.kind, SBCTL_DIST_EXPONENTIAL);
  assert_int_equal(r->groups[1].capacity, 1);
  assert_int_equal(r->groups[1].n_shifts, 0);
  assert_string_equal(r->groups[1].skills_json, "{}");
  sbctl_roster_destroy(&r);
  assert_null(r);
}

/* Replaces the first `from` in good by `to` and expects the error. */
static void expect_error(const char *from, const char *to, const char *want) {
  const char *at = strstr(good, from);
  assert_non_null(at);
  char text[4096], err[256];
  snprintf(text, sizeof text, "%.*s%s%s", (int)(at - good), good, to,
           at + strlen(from));
  sbctl_roster_t *r = sbctl_roster_parse(text, strlen(text), err, sizeof err);
  if (r)
    fail_msg("accepted, wanted: %s", want);
  if (!strstr(err, want))
    fail_msg("error \"%s\", wanted \"%s\"", err, want);
}

static void bad_files_are_rejected_with_line_and_path(void **state) {
  (void)state;
  expect_error("\"count\": 3", "\"count\": -1",
               "line 3:20: groups[0].count: must be a whole number");
  expect_error("\"capacity\": 2", "\"capacity\": 2.5",
               "line 3:32: groups[0].capacity");
  expect_error("\"sun\"]", "\"sunday\"]",
               "line 4:32: groups[0].shifts[0].days[1]: must be one of");
  expect_error("\"to\": \"06:00\"", "\"to\": \"25:00\"",
               "line 4:57: groups[0].shifts[0].to: to must be");
  expect_error("\"to\": \"06:00\"", "\"to\": \"22:00\"",
               "line 4:15: groups[0].shifts[0]: from and to must differ");
  expect_error("[\"mon\", \"sun\"]", "[\"mon\", \"mon\"]",
               "groups[0].shifts[0]: overlaps another shift");
  expect_error("\"p90_s\": 540", "\"p90_s\": 900",
               "line 6:36: groups[0].handle.*.p90_s: must be above mean_s");
  expect_error("\"p90_s\": 540", "\"p90_s\": 200", "groups[0].handle.*.p90_s");
  expect_error("\"dist\": \"fixed\"", "\"dist\": \"gamma\"",
               "line 6:75: groups[0].handle.email.dist");
  expect_error("\"email\": {\"mean_s\": 60", "\"e-mail\": {\"mean_s\": 60",
               "groups[0].handle.e-mail: not a channel");
  expect_error("{\"*\": {\"mean_s\": 600}}", "{\"x\": {\"mean_s\": 600}}",
               "line 8:32: groups[1].handle: needs a \"*\"");
  expect_error(", \"handle\": {\"*\": {\"mean_s\": 600}}", "",
               "line 8:3: groups[1]: needs \"handle\"");
  expect_error("\"name\": \"mail\"", "\"name\": \"chat\"",
               "line 8:3: groups[1]: group name \"chat\" given twice");
  expect_error("\"name\": \"mail\"", "\"name\": \"a b\"",
               "groups[1].name: name must be");
  expect_error("\"lang:en\": 2", "\"lang:en\": \"high\"",
               "line 3:58: groups[0].skills.lang:en");
  expect_error("\"mean_s\": 5}", "\"mean_s\": 0}",
               "line 5:15: groups[0].accept.mean_s: must be a number above 0");
  expect_error("\"tz\": \"Europe/Paris\"", "\"tz\": 7",
               "line 1:24: tz: must be a time zone");
  expect_error(" \"groups\": [", " \"groupz\": [",
               "line 1:1: groups must be a list");
  /* a missing brace: found where the text stops making sense */
  expect_error("\"mean_s\": 5}", "\"mean_s\": 5", "line 8:");
}

static void odd_bytes_never_crash(void **state) {
  (void)state;
  const char *inputs[] = {
      "",
      "[]",
      "null",
      "{\"groups\": []}",
      "{\"groups\": [1]}",
      "{\"groups\": {}}",
      "\xff\xfe",
      "{\"groups\": [{\"name\": \"a\", \"count\": 1e300, \"handle\": 5}]}"};
  for (size_t i = 0; i < sizeof inputs / sizeof inputs[0]; i++) {
    char err[256] = "";
    sbctl_roster_t *r =
        sbctl_roster_parse(inputs[i], strlen(inputs[i]), err, sizeof err);
    assert_null(r);
    assert_true(strncmp(err, "line ", 5) == 0);
  }
}

static void load_names_the_file(void **state) {
  (void)state;
  char path[] = "/tmp/sb-roster-XXXXXX", err[512];
  int fd = mkstemp(path);
  assert_true(fd >= 0);
  FILE *f = fdopen(fd, "w");
  fputs("{\"groups\": [\n  {\"name\": \"a\", \"count\": 1, \"handle\": {\"*\": "
        "{\"mean_s\": \"x\"}}}]}\n",
        f);
  fclose(f);
  int unreadable = -1;
  assert_null(sbctl_roster_load(path, &unreadable, err, sizeof err));
  assert_int_equal(unreadable, 0);
  char want[600];
  snprintf(want, sizeof want, "%s:2:46: groups[0].handle.*.mean_s", path);
  if (strncmp(err, want, strlen(want)))
    fail_msg("%s", err);
  unlink(path);
  assert_null(sbctl_roster_load(path, &unreadable, err, sizeof err));
  assert_int_equal(unreadable, 1);
}

static void samples_follow_their_model_and_seed(void **state) {
  (void)state;
  sbctl_dist_t logn = {
      .kind = SBCTL_DIST_LOGNORMAL, .mean_s = 300, .p90_s = 540};
  double r = log(540.0 / 300), z = 1.2815515655446004;
  logn.sigma = z - sqrt(z * z - 2 * r);
  logn.mu = log(300) - logn.sigma * logn.sigma / 2;
  sbctl_dist_t ex = {.kind = SBCTL_DIST_EXPONENTIAL, .mean_s = 60},
               fx = {.kind = SBCTL_DIST_FIXED, .mean_s = 7};
  uint64_t s1 = 42, s2 = 42;
  enum { N = 200000 };
  double sum_l = 0, sum_e = 0;
  int below = 0;
  for (int i = 0; i < N; i++) {
    double x = sbctl_dist_sample(&logn, &s1);
    assert_true(x ==
                sbctl_dist_sample(&logn, &s2)); /* same seed, same stream */
    assert_true(x > 0);
    sum_l += x, below += x <= 540;
    sum_e += sbctl_dist_sample(&ex, &s1);
    (void)sbctl_dist_sample(&ex, &s2);
  }
  assert_true(fabs(sum_l / N - 300) < 6); /* mean within 2 % */
  assert_true(fabs((double)below / N - 0.9) < 0.01);
  assert_true(fabs(sum_e / N - 60) < 1.5);
  assert_true(sbctl_dist_sample(&fx, &s1) == 7);
  uint64_t s3 = 43;
  assert_true(sbctl_rng_next(&s1) != sbctl_rng_next(&s3));
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(a_roster_is_read_whole),
      cmocka_unit_test(bad_files_are_rejected_with_line_and_path),
      cmocka_unit_test(odd_bytes_never_crash),
      cmocka_unit_test(load_names_the_file),
      cmocka_unit_test(samples_follow_their_model_and_seed),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
