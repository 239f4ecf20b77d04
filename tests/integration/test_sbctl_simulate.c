/* sbctl simulate, run as a user runs it: the built `sbctl` binary replays
 * the bundled day of traffic (corpus/sample.jsonl, tenant acme-air)
 * through corpus/simulate/tenants.json with the real route scripts on its
 * own redis-server, once with 2 agents and once with 6. More agents must
 * answer more conversations within the SLA target and be less occupied;
 * the JSON report carries every documented field; a day runs in seconds;
 * the same seed gives the same report; bad input exits 3 naming
 * FILE:LINE, usage errors 2. Needs the sbctl target in the same build
 * tree (fails, naming it, when it is not). */
#include "sb_testutil.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define OUT_MAX (1 << 20)
#define DAY_RUN_MAX_S 120.0 /* generous: a loaded or sanitized build */

static const char *const day = "corpus/sample.jsonl";
static const char *const candidate = "--tenants corpus/simulate/tenants.json";

static double wall(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Runs `sbctl ARGS` from the source tree: stdout in out, stderr in err
 * (either may be NULL), its exit status. */
static int sbctl(const char *args, char *out, char *err) {
  char bin[4096], cmd[8192], errfile[] = "/tmp/sb-sim-err-XXXXXX";
  struct stat st;
  snprintf(bin, sizeof bin, "%s/sbctl", sb_test_binary_dir());
  if (stat(bin, &st) != 0)
    fail_msg("%s is missing: build the sbctl target first", bin);
  int fd = mkstemp(errfile);
  assert_true(fd >= 0);
  close(fd);
  snprintf(cmd, sizeof cmd, "cd '%s' && '%s' %s 2>'%s'", sb_test_source_dir(),
           bin, args, errfile);
  FILE *p = popen(cmd, "r");
  assert_non_null(p);
  static char sink[OUT_MAX];
  char *o = out ? out : sink;
  size_t n = fread(o, 1, OUT_MAX - 1, p);
  o[n] = '\0';
  int status = pclose(p);
  FILE *e = fopen(errfile, "r");
  n = e ? fread(err ? err : sink, 1, OUT_MAX - 1, e) : 0;
  (err ? err : sink)[n] = '\0';
  if (e)
    fclose(e);
  unlink(errfile);
  assert_true(WIFEXITED(status));
  return WEXITSTATUS(status);
}

static cJSON *simulate_json(const char *roster, const char *extra,
                            double *took) {
  static char out[OUT_MAX], err[OUT_MAX];
  char args[1024];
  snprintf(args, sizeof args,
           "simulate %s %s --roster corpus/simulate/%s --json %s", day,
           candidate, roster, extra);
  double t0 = wall();
  int rc = sbctl(args, out, err);
  if (took)
    *took = wall() - t0;
  if (rc != 0)
    fail_msg("sbctl %s: exit %d\n%s", args, rc, err);
  cJSON *o = cJSON_Parse(out);
  if (!o)
    fail_msg("not JSON: %s", out);
  return o;
}

static double num(const cJSON *o, const char *k) {
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
  if (!cJSON_IsNumber(v))
    fail_msg("\"%s\" is not a number", k);
  return v->valuedouble;
}

/* Share of conversations with a target that were answered within it. */
static double service_level(const cJSON *o) {
  double within = 0, promised = 0;
  const cJSON *c;
  cJSON_ArrayForEach(c, cJSON_GetObjectItemCaseSensitive(o, "channels")) {
    within += num(c, "answered_within_target");
    promised += num(c, "with_target");
  }
  assert_true(promised > 0);
  return within / promised;
}

static double occupancy(const cJSON *o) {
  const cJSON *g = cJSON_GetArrayItem(
      cJSON_GetObjectItemCaseSensitive(o, "agent_groups"), 0);
  assert_non_null(g);
  assert_string_equal(cJSON_GetObjectItemCaseSensitive(g, "group")->valuestring,
                      "desk");
  return num(g, "occupancy");
}

static void expect_row_fields(const cJSON *rows, const char *label) {
  assert_true(cJSON_GetArraySize(rows) > 0);
  const cJSON *r;
  cJSON_ArrayForEach(r, rows) {
    assert_true(cJSON_IsString(cJSON_GetObjectItemCaseSensitive(r, label)));
    const char *nums[] = {
        "conversations", "answered", "with_target", "answered_within_target",
        "service_level", "diverted", "unanswered"};
    for (size_t i = 0; i < sizeof nums / sizeof nums[0]; i++)
      (void)num(r, nums[i]);
    assert_true(num(r, "answered_within_target") <= num(r, "with_target"));
    const char *w[] = {"wait_to_assignment_s", "wait_to_first_response_s"};
    for (int i = 0; i < 2; i++) {
      const cJSON *x = cJSON_GetObjectItemCaseSensitive(r, w[i]);
      assert_true(num(x, "avg") >= 0 && num(x, "p90") >= 0);
    }
  }
}

static void more_agents_answer_sooner_and_are_less_occupied(void **state) {
  (void)state;
  double took2, took6;
  cJSON *two = simulate_json("roster-2.json", "", &took2);
  cJSON *six = simulate_json("roster-6.json", "", &took6);
  /* the fields the README documents */
  assert_string_equal(
      cJSON_GetObjectItemCaseSensitive(two, "tenant")->valuestring, "acme-air");
  assert_true(num(two, "messages") > 500); /* acme-air's day in the sample */
  assert_true(num(two, "skipped_other_tenants") > 500);
  expect_row_fields(cJSON_GetObjectItemCaseSensitive(two, "channels"),
                    "channel");
  expect_row_fields(cJSON_GetObjectItemCaseSensitive(two, "queues"), "queue");
  const cJSON *busiest = cJSON_GetObjectItemCaseSensitive(two, "busiest_hour");
  assert_true(
      cJSON_IsString(cJSON_GetObjectItemCaseSensitive(busiest, "start")));
  assert_true(num(busiest, "arrivals") >= num(two, "messages") / 24);
  const cJSON *run = cJSON_GetObjectItemCaseSensitive(two, "run");
  assert_true(num(run, "virtual_s") > 20 * 3600); /* a day of traffic... */
  assert_true(num(run, "events") > num(two, "messages"));
  assert_true(num(run, "events_per_s") > 0);
  print_message("day with 2 agents: %.2f s wall (%.0f events/s, %.0fx real "
                "time); with 6: %.2f s\n",
                took2, num(run, "events_per_s"), num(run, "speedup"), took6);
  assert_true(took2 < DAY_RUN_MAX_S &&
              took6 < DAY_RUN_MAX_S); /* ...in seconds */
  /* the staffing change shows */
  double sl2 = service_level(two), sl6 = service_level(six),
         oc2 = occupancy(two), oc6 = occupancy(six);
  print_message("service level %.3f -> %.3f, occupancy %.3f -> %.3f\n", sl2,
                sl6, oc2, oc6);
  assert_true(sl6 > sl2 + 0.2);
  assert_true(oc6 < oc2 - 0.1);
  assert_true(oc2 <= 1.0 && oc6 > 0);
  cJSON_Delete(two);
  cJSON_Delete(six);
}

static void the_same_seed_gives_the_same_report(void **state) {
  (void)state;
  cJSON *a = simulate_json("roster-2.json", "--seed 7", NULL);
  cJSON *b = simulate_json("roster-2.json", "--seed 7", NULL);
  cJSON *c = simulate_json("roster-2.json", "--seed 8", NULL);
  cJSON_DeleteItemFromObject(a, "run"); /* wall-clock figures */
  cJSON_DeleteItemFromObject(b, "run");
  cJSON_DeleteItemFromObject(c, "run");
  cJSON_DeleteItemFromObject(c, "seed");
  assert_true(cJSON_Compare(a, b, 1));
  cJSON_DeleteItemFromObject(a, "seed");
  assert_false(cJSON_Compare(a, c, 1)); /* the seed does drive the model */
  cJSON_Delete(a);
  cJSON_Delete(b);
  cJSON_Delete(c);
}

static void write_file(const char *path, const char *text) {
  FILE *f = fopen(path, "w");
  assert_non_null(f);
  fputs(text, f);
  fclose(f);
}

static void expect_error(const char *args, int status, const char *want) {
  static char err[OUT_MAX];
  int rc = sbctl(args, NULL, err);
  if (rc != status || !strstr(err, want))
    fail_msg("sbctl %s: exit %d, stderr:\n%s\nwanted exit %d with \"%s\"", args,
             rc, err, status, want);
}

static void bad_input_names_file_and_line(void **state) {
  (void)state;
  const char *rec = "/tmp/sb-sim-rec.jsonl",
             *untimed = "/tmp/sb-sim-untimed.jsonl",
             *ros = "/tmp/sb-sim-roster.json";
  write_file(rec, "{\"time\": \"2026-03-16T08:00:00Z\", \"tenant\": "
                  "\"acme-air\", \"channel\": \"webchat\", "
                  "\"author\": \"a\", \"text\": \"hello\"}\n"
                  "\n"
                  "{\"time\": \"2026-03-16T08:01:00Z\", \"channel\": "
                  "\"webchat\", \"text\": \"no author\"}\n"
                  "{\"time\": \"yesterday\", \"channel\": \"webchat\", "
                  "\"author\": \"b\", \"text\": \"x\"}\n"
                  "{\"time\": 1773648000000, \"channel\": \"pigeon\", "
                  "\"author\": \"c\", \"text\": \"x\"}\n"
                  "not json\n");
  char args[2048];
  snprintf(args, sizeof args,
           "simulate %s %s --roster corpus/simulate/roster-2.json", rec,
           candidate);
  expect_error(args, 3, "/tmp/sb-sim-rec.jsonl:3: \"author\" must be an id");
  expect_error(args, 3, "/tmp/sb-sim-rec.jsonl:4: ");
  expect_error(args, 3, "/tmp/sb-sim-rec.jsonl:5: ");
  expect_error(args, 3, "/tmp/sb-sim-rec.jsonl:6: not a JSON object");
  /* untimed lines need --rate; with it they are spread and simulated */
  write_file(
      untimed,
      "{\"channel\": \"webchat\", \"author\": \"a\", \"text\": \"hello\"}\n"
      "{\"channel\": \"email\", \"author\": \"b\", \"text\": \"hello\", "
      "\"handle_s\": 30}\n");
  snprintf(args, sizeof args,
           "simulate %s %s --roster corpus/simulate/roster-2.json", untimed,
           candidate);
  expect_error(args, 3,
               "/tmp/sb-sim-untimed.jsonl:1: no \"time\": give --rate");
  snprintf(
      args, sizeof args,
      "simulate %s %s --roster corpus/simulate/roster-2.json --rate 2 --json",
      untimed, candidate);
  static char out[OUT_MAX];
  assert_int_equal(sbctl(args, out, NULL), 0);
  cJSON *o = cJSON_Parse(out);
  assert_non_null(o);
  assert_int_equal((int)num(o, "conversations"), 2);
  cJSON_Delete(o);
  /* the roster: its line and the path of the value at fault */
  write_file(ros,
             "{\"tenant\": \"acme-air\",\n \"groups\": [{\"name\": \"a\", "
             "\"count\": 2,\n"
             "  \"handle\": {\"*\": {\"mean_s\": 100, \"p90_s\": 900}}}]}\n");
  snprintf(args, sizeof args, "simulate %s %s --roster %s", day, candidate,
           ros);
  expect_error(args, 3,
               "/tmp/sb-sim-roster.json:3:35: groups[0].handle.*.p90_s: must "
               "be above mean_s");
  /* usage and unreadable files: 2 */
  expect_error("simulate corpus/sample.jsonl", 2, "usage: sbctl simulate");
  expect_error(
      "simulate /nonexistent.jsonl --roster corpus/simulate/roster-2.json", 2,
      "cannot open");
  expect_error("simulate corpus/sample.jsonl --roster /nonexistent.json", 2,
               "cannot read");
  unlink(rec);
  unlink(untimed);
  unlink(ros);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(more_agents_answer_sooner_and_are_less_occupied),
      cmocka_unit_test(the_same_seed_gives_the_same_report),
      cmocka_unit_test(bad_input_names_file_and_line),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
