/* sbctl_jsonpos: every value of a JSON text is found by its path at the
 * line and column where a reader sees it, and bad text never stops the
 * index from answering for what came before. */
#include "sb_testutil.h"

#include "sb_error.h"
#include "sbctl_jsonpos.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static sbctl_jsonpos_t *index_of(const char *text) {
  sbctl_jsonpos_t *p = sbctl_jsonpos_new(text, strlen(text));
  assert_non_null(p);
  return p;
}

static void expect_at(const sbctl_jsonpos_t *p, const char *path, int line, int col) {
  sbctl_jsonpos_loc_t loc;
  if (sbctl_jsonpos_find(p, path, &loc) != 0)
    fail_msg("%s: not found", path);
  if (loc.line != line || loc.col != col)
    fail_msg("%s: at %d:%d, wanted %d:%d", path, loc.line, loc.col, line, col);
}

static void members_are_found_at_their_key_and_elements_at_their_value(void **state) {
  (void)state;
  const char *text = "{\"tenants\": [\n"
                     "  {\"id\": \"acme\",\n"
                     "   \"route\": {\"queues\": [{\"id\": \"q\", \"strategy\": \"x\"}]}},\n"
                     "  {\"id\": \"b\", \"sla\": {\"calendars\": {\"support\": {\"tz\": \"UTC\"}}}}\n"
                     "]}\n";
  sbctl_jsonpos_t *p = index_of(text);
  assert_true(sbctl_jsonpos_complete(p));
  expect_at(p, "", 1, 1);
  expect_at(p, "tenants", 1, 2);
  expect_at(p, "tenants[0]", 2, 3);
  expect_at(p, "tenants[0].id", 2, 4);
  expect_at(p, "tenants[0].route", 3, 4);
  expect_at(p, "tenants[0].route.queues[0]", 3, 25);
  expect_at(p, "tenants[0].route.queues[0].strategy", 3, 37);
  expect_at(p, "tenants[1]", 4, 3);
  expect_at(p, "tenants[1].sla.calendars.support.tz", 4, 49);
  assert_int_equal(sbctl_jsonpos_find(p, "tenants[2]", NULL), SB_ENOTFOUND);
  assert_int_equal(sbctl_jsonpos_find(p, "tenants[0].route.queues[0].strategy.x", NULL), SB_ENOTFOUND);
  /* recorded in text order, each with its path */
  sbctl_jsonpos_loc_t loc;
  assert_string_equal(sbctl_jsonpos_path(p, 0, &loc), "");
  assert_string_equal(sbctl_jsonpos_path(p, 1, &loc), "tenants");
  assert_null(sbctl_jsonpos_path(p, sbctl_jsonpos_count(p), &loc));
  sbctl_jsonpos_destroy(&p);
  assert_null(p);
}

static void columns_count_characters_and_keys_are_decoded(void **state) {
  (void)state;
  /* "é" is two bytes, one column; escapes in keys are decoded as cJSON does */
  const char *text = "{\"é\": 1, \"a\\\"b\": {\"\\u00e9t\\u00e9\": [1, \"x\"]}, \"\\ud83d\\ude00\": 2}";
  sbctl_jsonpos_t *p = index_of(text);
  assert_true(sbctl_jsonpos_complete(p));
  expect_at(p, "é", 1, 2);
  expect_at(p, "a\"b", 1, 10);
  expect_at(p, "a\"b.été", 1, 19);
  expect_at(p, "a\"b.été[1]", 1, 40);
  expect_at(p, "\xF0\x9F\x98\x80", 1, 47);
  sbctl_jsonpos_destroy(&p);
}

static void a_repeated_key_answers_the_first_like_cjson(void **state) {
  (void)state;
  sbctl_jsonpos_t *p = index_of("{\"a\": 1,\n \"a\": 2}");
  expect_at(p, "a", 1, 2);
  assert_int_equal(sbctl_jsonpos_count(p), 3);
  sbctl_jsonpos_destroy(&p);
}

static void the_longest_known_prefix_is_found_cutting_at_separators(void **state) {
  (void)state;
  sbctl_jsonpos_t *p = index_of("{\"route\": {\"queues\": [{\"skills\": {\"lang:fr\": 2}}]}}");
  size_t m = 0;
  sbctl_jsonpos_loc_t loc;
  assert_int_equal(sbctl_jsonpos_find_prefix(p, "route.queues[0].skills.lang:fr", &m, &loc), 0);
  assert_int_equal(m, strlen("route.queues[0].skills.lang:fr"));
  assert_int_equal(sbctl_jsonpos_find_prefix(p, "route.queues[0].skills.billing", &m, &loc), 0);
  assert_int_equal(m, strlen("route.queues[0].skills"));
  assert_int_equal(loc.col, 24);
  assert_int_equal(sbctl_jsonpos_find_prefix(p, "route.queues[3].id", &m, &loc), 0);
  assert_int_equal(m, strlen("route.queues"));
  /* "rou" is not a cut of "route": the root answers */
  assert_int_equal(sbctl_jsonpos_find_prefix(p, "rou", &m, &loc), 0);
  assert_int_equal(m, 0);
  sbctl_jsonpos_destroy(&p);
  p = index_of("");
  assert_int_equal(sbctl_jsonpos_count(p), 0);
  assert_false(sbctl_jsonpos_complete(p));
  assert_int_equal(sbctl_jsonpos_find_prefix(p, "a", &m, &loc), SB_ENOTFOUND);
  sbctl_jsonpos_destroy(&p);
}

static void a_key_is_found_under_a_subtree_by_its_last_name(void **state) {
  (void)state;
  sbctl_jsonpos_t *p = index_of("{\"t\": [{\"x\": {\"secret\": 1}}, {\"accounts\": [{\"secret\": 2}]}],\n"
                                "\"secret\": 3, \"mysecret\": 4}");
  sbctl_jsonpos_loc_t loc;
  assert_int_equal(sbctl_jsonpos_find_key(p, "t[1]", "secret", &loc), 0);
  assert_int_equal(loc.col, 45);
  assert_int_equal(sbctl_jsonpos_find_key(p, "t", "secret", &loc), 0);
  assert_int_equal(loc.col, 15);
  assert_int_equal(sbctl_jsonpos_find_key(p, "", "secret", &loc), 0); /* the first in the text */
  assert_int_equal(loc.col, 15);
  assert_int_equal(sbctl_jsonpos_find_key(p, "t[0].x.secret", "secret", &loc), SB_ENOTFOUND);
  assert_int_equal(sbctl_jsonpos_find_key(p, "t[1]", "cret", &loc), SB_ENOTFOUND);
  sbctl_jsonpos_destroy(&p);
}

static void bad_text_keeps_what_came_before_it(void **state) {
  (void)state;
  static const char *const bad[] = {
      "{\"a\": 1,\n \"b\": [1, 2\n \"c\": 3}", /* missing ']' */
      "{\"a\": 1, \"b\": \"unterminated",
      "{\"a\": 1, \"b\" 2}",
      "{\"a\": 1, \"b\": \"\\x\"}",
      "{\"a\": 1, \"b\": {}} trailing",
      "{\"a\": 1, \"b\": \"\\u12\"}",
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    sbctl_jsonpos_t *p = index_of(bad[i]);
    if (sbctl_jsonpos_complete(p))
      fail_msg("case %zu: taken as complete", i);
    expect_at(p, "a", 1, 2);
    sbctl_jsonpos_destroy(&p);
  }
}

static void nesting_and_path_length_are_capped(void **state) {
  (void)state;
  size_t depth = SBCTL_JSONPOS_DEPTH_MAX + 10;
  char *deep = malloc(2 * depth + 1);
  memset(deep, '[', depth);
  memset(deep + depth, ']', depth);
  deep[2 * depth] = '\0';
  sbctl_jsonpos_t *p = index_of(deep);
  assert_false(sbctl_jsonpos_complete(p));
  sbctl_jsonpos_destroy(&p);
  free(deep);
  /* a key longer than a path may be is walked, not recorded, nor what is under it */
  char text[SBCTL_JSONPOS_PATH_MAX + 64];
  snprintf(text, sizeof text, "{\"%0*d\": {\"in\": 1}, \"after\": 2}", SBCTL_JSONPOS_PATH_MAX + 1, 7);
  p = index_of(text);
  assert_true(sbctl_jsonpos_complete(p));
  assert_int_equal(sbctl_jsonpos_count(p), 2);
  expect_at(p, "after", 1, SBCTL_JSONPOS_PATH_MAX + 18);
  sbctl_jsonpos_destroy(&p);
  /* so is a key holding a NUL, escaped or raw (no C path can carry it) */
  static const char nul[] = "{\"a\\u0000b\": {\"c\": 1}, \"x\0y\": 2, \"d\": 3}";
  p = sbctl_jsonpos_new(nul, sizeof nul - 1);
  assert_true(sbctl_jsonpos_complete(p));
  assert_int_equal(sbctl_jsonpos_count(p), 2);
  expect_at(p, "d", 1, 34);
  sbctl_jsonpos_destroy(&p);
}

static void an_offset_is_turned_into_line_and_column(void **state) {
  (void)state;
  const char *t = "ab\ncé\n\nx";
  sbctl_jsonpos_loc_t l = sbctl_jsonpos_locate(t, strlen(t), 0);
  assert_int_equal(l.line, 1);
  assert_int_equal(l.col, 1);
  l = sbctl_jsonpos_locate(t, strlen(t), 6); /* after "é": line 2, column 3 */
  assert_int_equal(l.line, 2);
  assert_int_equal(l.col, 3);
  l = sbctl_jsonpos_locate(t, strlen(t), 8);
  assert_int_equal(l.line, 4);
  assert_int_equal(l.col, 1);
  l = sbctl_jsonpos_locate(t, strlen(t), 1000); /* clamped to the end */
  assert_int_equal(l.line, 4);
  assert_int_equal(l.col, 2);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(members_are_found_at_their_key_and_elements_at_their_value),
      cmocka_unit_test(columns_count_characters_and_keys_are_decoded),
      cmocka_unit_test(a_repeated_key_answers_the_first_like_cjson),
      cmocka_unit_test(the_longest_known_prefix_is_found_cutting_at_separators),
      cmocka_unit_test(a_key_is_found_under_a_subtree_by_its_last_name),
      cmocka_unit_test(bad_text_keeps_what_came_before_it),
      cmocka_unit_test(nesting_and_path_length_are_capped),
      cmocka_unit_test(an_offset_is_turned_into_line_and_column),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
