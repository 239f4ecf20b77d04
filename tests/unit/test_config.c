/* sb_config: flags beat the environment, which beats defaults; bad values
 * are refused with a reason before a service starts. */
#include "sb_testutil.h"

#include "sb_config.h"
#include "sb_error.h"

#include <stdlib.h>
#include <string.h>

static const sb_option_t opts[] = {
    {"redis-url", SB_OPT_STR, "redis://127.0.0.1:6379", "redis"},
    {"batch-max", SB_OPT_INT, "512", "batch"},
    {"verbose", SB_OPT_BOOL, "false", "verbose"},
    {NULL, 0, NULL, NULL}};
static const sb_option_t *const tables[] = {opts, NULL};

static sb_config_t *load(int argc, char **argv, int *rc, char *err) {
  sb_config_t *c = sb_config_new("test", tables);
  *rc = sb_config_load(c, argc, argv, err, 256);
  return c;
}

static void defaults_apply_when_nothing_is_set(void **state) {
  (void)state;
  unsetenv("SB_BATCH_MAX");
  char *argv[] = {"test"};
  char err[256];
  int rc;
  sb_config_t *c = load(1, argv, &rc, err);
  assert_int_equal(rc, SB_CONFIG_RUN);
  assert_int_equal(sb_config_int(c, "batch-max"), 512);
  assert_string_equal(sb_config_str(c, "redis-url"), "redis://127.0.0.1:6379");
  assert_false(sb_config_bool(c, "verbose"));
  assert_false(sb_config_is_set(c, "batch-max"));
  sb_config_destroy(&c);
  assert_null(c);
}

static void flag_beats_environment_beats_default(void **state) {
  (void)state;
  setenv("SB_BATCH_MAX", "64", 1);
  setenv("SB_REDIS_URL", "redis://env:1", 1);
  char *argv[] = {"test", "--batch-max=8", "--verbose", "pos"};
  char err[256];
  int rc;
  sb_config_t *c = load(4, argv, &rc, err);
  assert_int_equal(rc, SB_CONFIG_RUN);
  assert_int_equal(sb_config_int(c, "batch-max"), 8);
  assert_string_equal(sb_config_str(c, "redis-url"), "redis://env:1");
  assert_true(sb_config_bool(c, "verbose"));
  assert_string_equal(sb_config_positional(c, 0), "pos");
  sb_config_destroy(&c);
  unsetenv("SB_BATCH_MAX");
  unsetenv("SB_REDIS_URL");
}

static void separate_value_argument_is_taken(void **state) {
  (void)state;
  char *argv[] = {"test", "--batch-max", "9"};
  char err[256];
  int rc;
  sb_config_t *c = load(3, argv, &rc, err);
  assert_int_equal(rc, SB_CONFIG_RUN);
  assert_int_equal(sb_config_int(c, "batch-max"), 9);
  assert_int_equal(sb_config_npositional(c), 0);
  sb_config_destroy(&c);
}

static void bad_values_and_unknown_flags_are_refused_with_a_reason(void **state) {
  (void)state;
  char err[256];
  int rc;
  char *bad_int[] = {"test", "--batch-max=lots"};
  sb_config_t *c = load(2, bad_int, &rc, err);
  assert_int_equal(rc, SB_ECONFIG);
  assert_non_null(strstr(err, "batch-max"));
  sb_config_destroy(&c);
  char *unknown[] = {"test", "--no-such-thing=1"};
  c = load(2, unknown, &rc, err);
  assert_int_equal(rc, SB_ECONFIG);
  assert_non_null(strstr(err, "no-such-thing"));
  sb_config_destroy(&c);
  char *missing[] = {"test", "--redis-url"};
  c = load(2, missing, &rc, err);
  assert_int_equal(rc, SB_ECONFIG);
  sb_config_destroy(&c);
  setenv("SB_BATCH_MAX", "x", 1);
  char *none[] = {"test"};
  c = load(1, none, &rc, err);
  assert_int_equal(rc, SB_ECONFIG);
  unsetenv("SB_BATCH_MAX");
  sb_config_destroy(&c);
}

static void print_config_exits_without_running(void **state) {
  (void)state;
  char *argv[] = {"test", "--print-config"};
  char err[256];
  int rc;
  sb_config_t *c = load(2, argv, &rc, err);
  assert_int_equal(rc, SB_CONFIG_EXIT);
  sb_config_destroy(&c);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(defaults_apply_when_nothing_is_set),
      cmocka_unit_test(flag_beats_environment_beats_default),
      cmocka_unit_test(separate_value_argument_is_taken),
      cmocka_unit_test(bad_values_and_unknown_flags_are_refused_with_a_reason),
      cmocka_unit_test(print_config_exits_without_running),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
