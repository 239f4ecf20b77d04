/* sbctl tenant, run as a user runs it: the built `sbctl` binary on the
 * fixture files of tests/fixtures/tenants/, checking its exit status (0
 * valid, 1 invalid, 2 usage) and its output lines; and every verb answers
 * --help. No Redis, no sockets. Needs the sbctl target built in the same
 * build tree (it fails, naming it, when it is not). */
#include "sb_testutil.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>

#define OUT_MAX 65536

/* Runs `sbctl ARGS` (stderr to stdout); its output in out, its exit status. */
static int sbctl(const char *args, char *out, size_t cap) {
  char bin[4096], cmd[8192];
  struct stat st;
  snprintf(bin, sizeof bin, "%s/sbctl", sb_test_binary_dir());
  if (stat(bin, &st) != 0)
    fail_msg("%s is missing: build the sbctl target first", bin);
  snprintf(cmd, sizeof cmd, "cd '%s' && '%s' %s 2>&1", sb_test_source_dir(), bin, args);
  FILE *p = popen(cmd, "r");
  assert_non_null(p);
  size_t n = fread(out, 1, cap - 1, p);
  out[n] = '\0';
  int status = pclose(p);
  assert_true(WIFEXITED(status));
  return WEXITSTATUS(status);
}

static void expect_line(const char *out, const char *line) {
  char want[1024];
  snprintf(want, sizeof want, "%s\n", line);
  const char *at = strstr(out, want);
  if (!at || (at != out && at[-1] != '\n'))
    fail_msg("line \"%s\" not in output:\n%s", line, out);
}

static void a_valid_file_exits_0_with_a_summary(void **state) {
  (void)state;
  static char out[OUT_MAX];
  assert_int_equal(sbctl("tenant tests/fixtures/tenants/valid.json", out, sizeof out), 0);
  expect_line(out, "tests/fixtures/tenants/valid.json: valid: 2 tenants, 3 accounts (meta 2, x 1), 3 queues, "
                   "4 SLA policies, 1 webhooks, 2 classify intents");
  expect_line(out, "  tenant acme-air: 2 accounts, 2 queues, 3 SLA policies, 1 webhooks, 2 intents");
  /* "validate" is optional */
  assert_int_equal(sbctl("tenant validate tests/fixtures/tenants/valid.json", out, sizeof out), 0);
}

static void a_broken_file_exits_1_with_one_line_per_problem(void **state) {
  (void)state;
  static char out[OUT_MAX];
  assert_int_equal(sbctl("tenant validate tests/fixtures/tenants/broken.json", out, sizeof out), 1);
  const char *f = "tests/fixtures/tenants/broken.json";
  char line[1024];
  static const char *const want[] = {
      "4:18: tenant acme-air: classify.intents[0]: must be a number from 0 to 100",
      ("8:26: tenant acme-air: route.queues[0].strategy must be longest_idle, least_occupied, best_skill, "
       "round_robin or sticky"),
      "14:50: tenant acme-air: sla.calendars.support: hours.mon[0]: must be [\"HH:MM\", \"HH:MM\"] (00:00..24:00)",
      "17:33: tenant acme-air: notify.webhooks[0].url must start with http:// or https://",
      "21:33: tenant citytransit: sla.warn_percent must be 1..100",
      "22:4: tenant acme-air: id \"acme-air\" is listed twice (tenant ids are unique)",
  };
  for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
    snprintf(line, sizeof line, "%s:%s", f, want[i]);
    expect_line(out, line);
  }
  size_t lines = 0;
  for (const char *p = out; (p = strchr(p, '\n')); p++)
    lines++;
  assert_int_equal(lines, sizeof want / sizeof want[0]);
}

static void invalid_json_exits_1_at_the_place_parsing_stopped(void **state) {
  (void)state;
  static char out[OUT_MAX];
  assert_int_equal(sbctl("tenant tests/fixtures/tenants/invalid_json.json", out, sizeof out), 1);
  expect_line(out, "tests/fixtures/tenants/invalid_json.json:4:4: invalid JSON near '\"sla\": {\"first_r'");
}

static void json_output_is_one_object_with_the_problems(void **state) {
  (void)state;
  static char out[OUT_MAX];
  assert_int_equal(sbctl("tenant --json tests/fixtures/tenants/broken.json", out, sizeof out), 1);
  cJSON *o = cJSON_Parse(out);
  assert_non_null(o);
  assert_true(cJSON_IsFalse(cJSON_GetObjectItem(o, "valid")));
  const cJSON *ps = cJSON_GetObjectItem(o, "problems");
  assert_int_equal(cJSON_GetArraySize(ps), 6);
  const cJSON *p = cJSON_GetArrayItem(ps, 1);
  assert_int_equal(cJSON_GetObjectItem(p, "line")->valueint, 8);
  assert_int_equal(cJSON_GetObjectItem(p, "col")->valueint, 26);
  assert_string_equal(cJSON_GetObjectItem(p, "tenant")->valuestring, "acme-air");
  assert_non_null(strstr(cJSON_GetObjectItem(p, "message")->valuestring, "route.queues[0].strategy"));
  cJSON_Delete(o);
  assert_int_equal(sbctl("tenant --json tests/fixtures/tenants/valid.json", out, sizeof out), 0);
  o = cJSON_Parse(out);
  assert_non_null(o);
  assert_true(cJSON_IsTrue(cJSON_GetObjectItem(o, "valid")));
  const cJSON *s = cJSON_GetObjectItem(o, "summary");
  assert_int_equal(cJSON_GetObjectItem(s, "tenants")->valueint, 2);
  assert_int_equal(cJSON_GetObjectItem(cJSON_GetObjectItem(s, "accounts"), "meta")->valueint, 2);
  assert_int_equal(cJSON_GetObjectItem(s, "queues")->valueint, 3);
  assert_int_equal(cJSON_GetObjectItem(s, "webhooks")->valueint, 1);
  cJSON_Delete(o);
}

static void usage_errors_exit_2(void **state) {
  (void)state;
  static char out[OUT_MAX];
  assert_int_equal(sbctl("tenant", out, sizeof out), 2);
  assert_non_null(strstr(out, "usage: sbctl tenant"));
  assert_int_equal(sbctl("tenant a.json b.json", out, sizeof out), 2);
  assert_int_equal(sbctl("tenant /nonexistent/tenants.json", out, sizeof out), 2);
  assert_int_equal(sbctl("tenant --no-such-option x.json", out, sizeof out), 2);
  assert_int_equal(sbctl("no-such-verb", out, sizeof out), 2);
  assert_int_equal(sbctl("", out, sizeof out), 2);
}

static void every_verb_answers_help(void **state) {
  (void)state;
  static char out[OUT_MAX];
  static const char *const verbs[] = {"up", "publish", "agent", "tail", "stats",
                                      "dlq", "classify", "bench", "tenant"};
  for (size_t i = 0; i < sizeof verbs / sizeof verbs[0]; i++) {
    char args[64], head[64];
    snprintf(args, sizeof args, "%s --help", verbs[i]);
    assert_int_equal(sbctl(args, out, sizeof out), 0);
    snprintf(head, sizeof head, "usage: sbctl %s ", verbs[i]);
    if (strncmp(out, head, strlen(head)) || !strstr(out, "exit status: 0"))
      fail_msg("%s --help:\n%s", verbs[i], out);
  }
  assert_int_equal(sbctl("stats --help", out, sizeof out), 0);
  assert_non_null(strstr(out, "--watch"));
  assert_non_null(strstr(out, "--json"));
  assert_null(strstr(out, "--replay")); /* only the verb's own options */
  assert_int_equal(sbctl("--help", out, sizeof out), 0);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(a_valid_file_exits_0_with_a_summary),
      cmocka_unit_test(a_broken_file_exits_1_with_one_line_per_problem),
      cmocka_unit_test(invalid_json_exits_1_at_the_place_parsing_stopped),
      cmocka_unit_test(json_output_is_one_object_with_the_problems),
      cmocka_unit_test(usage_errors_exit_2),
      cmocka_unit_test(every_verb_answers_help),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
