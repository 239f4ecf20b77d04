/*
 * test_rules: behaviours of sb_rules (parsing, validation and compiling of
 * a tenant's classify rules).
 *
 * Every rejection must name the member at fault, so a tenant administrator
 * can fix the file from the message alone; the bundled default rules must
 * always load.
 */
#include "sb_error.h"
#include "sb_rules.h"
#include "sb_testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static sb_rules_t *parse_ok(const char *json) {
  char err[256];
  sb_rules_t *r = sb_rules_parse(json, strlen(json), err, sizeof err);
  if (!r)
    fail_msg("rejected: %s", err);
  return r;
}

/* Asserts that json is rejected with a reason containing want. */
static void expect_error(const char *json, const char *want) {
  char err[256] = "";
  sb_rules_t *r = sb_rules_parse(json, strlen(json), err, sizeof err);
  if (r) {
    sb_rules_destroy(&r);
    fail_msg("accepted: %s", json);
  }
  if (!strstr(err, want))
    fail_msg("reason \"%s\" lacks \"%s\"", err, want);
}

static void an_empty_object_is_an_empty_rule_set(void **state) {
  (void)state;
  sb_rules_t *r = parse_ok("{}");
  assert_int_equal(sb_rules_intent_count(r), 0);
  assert_null(sb_rules_languages(r));
  assert_null(sb_rules_terms(r, "*"));
  assert_int_equal(sb_rules_priority(r)->legal, SB_PRIORITY_W_LEGAL);
  sb_rules_destroy(&r);
  assert_null(r);
}

static void the_bundled_default_rules_load(void **state) {
  (void)state;
  char path[4096], err[256];
  snprintf(path, sizeof path, "%s/corpus/rules/default.json", sb_test_source_dir());
  sb_rules_t *r = sb_rules_load(path, err, sizeof err);
  if (!r)
    fail_msg("%s", err);
  assert_true(sb_rules_intent_count(r) >= 10);
  assert_true(sb_rules_intent_find(r, "refund") >= 0);
  assert_true(sb_rules_intent(r, (size_t)sb_rules_intent_find(r, "refund"))->account);
  assert_int_equal(sb_rules_competitor_count(r), 4);
  assert_non_null(sb_rules_terms(r, "fr"));
  assert_true(sb_rules_answer_count(r) >= sb_rules_intent_count(r));
  const char *const *langs = sb_rules_languages(r);
  assert_non_null(langs);
  assert_string_equal(langs[0], "en");
  sb_rules_destroy(&r);
}

static void intents_keep_name_weight_and_flags(void **state) {
  (void)state;
  sb_rules_t *r = parse_ok("{\"intents\": [{\"name\": \"refund\", \"weight\": 70, \"account\": true,"
                           " \"keywords\": {\"en\": [\"refund*\", \"money back\"]}},"
                           " {\"name\": \"praise\", \"secondary\": true}]}");
  assert_int_equal(sb_rules_intent_count(r), 2);
  const sb_rule_intent_t *in = sb_rules_intent(r, 0);
  assert_string_equal(in->name, "refund");
  assert_int_equal(in->weight, 70);
  assert_true(in->account);
  assert_false(in->secondary);
  assert_true(sb_rules_intent(r, 1)->secondary);
  assert_int_equal(sb_rules_intent(r, 1)->weight, 50); /* the default */
  assert_int_equal(sb_rules_intent_find(r, "nope"), SB_ENOTFOUND);
  assert_int_equal(sb_termset_count(sb_rules_terms(r, "en")), 2);
  sb_rules_destroy(&r);
}

static void an_unknown_member_is_an_error_naming_it(void **state) {
  (void)state;
  expect_error("{\"intent\": []}", "unknown member \"intent\"");
  expect_error("{\"intents\": [{\"name\": \"a\", \"keyword\": {}}]}", "intents[0]: unknown member \"keyword\"");
  expect_error("{\"priority\": {\"loudness\": 3}}", "priority: unknown member");
}

static void malformed_json_is_an_error(void **state) {
  (void)state;
  expect_error("{\"intents\": [", "malformed JSON");
  expect_error("[]", "must be a JSON object");
}

static void bad_values_are_errors_with_their_path(void **state) {
  (void)state;
  expect_error("{\"languages\": [\"english\"]}", "languages[0]");
  expect_error("{\"languages\": [\"en\", \"en\"]}", "appears twice");
  expect_error("{\"intents\": [{\"name\": \"a b\"}]}", "intents[0].name");
  expect_error("{\"intents\": [{\"name\": \"a\"}, {\"name\": \"a\"}]}", "defined twice");
  expect_error("{\"intents\": [{\"name\": \"a\", \"weight\": 101}]}", "from 0 to 100");
  expect_error("{\"intents\": [{\"name\": \"a\", \"account\": 1}]}", "intents[0].account");
  expect_error("{\"intents\": [{\"name\": \"a\", \"keywords\": {\"EN\": [\"x\"]}}]}", "not a language code");
  expect_error("{\"intents\": [{\"name\": \"a\", \"keywords\": {\"en\": [\"x\", 3]}}]}",
               "intents[0].keywords.en[1]");
  expect_error("{\"priority\": {\"vip\": -1}}", "priority.vip");
  expect_error("{\"vip\": [\"\"]}", "vip[0]");
}

static void a_phrase_must_have_one_to_eight_words_and_a_final_star_only(void **state) {
  (void)state;
  expect_error("{\"legal\": {\"en\": [\"a b c d e f g h i\"]}}", "legal.en[0]");
  expect_error("{\"legal\": {\"en\": [\"!!!\"]}}", "legal.en[0]");
  expect_error("{\"legal\": {\"en\": [\"su*e\"]}}", "legal.en[0]");
  expect_error("{\"legal\": {\"en\": [\"*\"]}}", "legal.en[0]");
  sb_rules_t *r = parse_ok("{\"legal\": {\"en\": [\"lawyer*\", \"legal action\"]}}");
  assert_int_equal(sb_termset_count(sb_rules_terms(r, "en")), 2);
  sb_rules_destroy(&r);
}

static void regexes_compile_once_and_refuse_back_references(void **state) {
  (void)state;
  sb_rules_t *r = parse_ok("{\"intents\": [{\"name\": \"billing\", \"regex\": {\"*\": [\"charged (twice|2 times)\"]}}]}");
  assert_int_equal(sb_rules_regex_count(r), 1);
  assert_string_equal(sb_rules_regex(r, 0)->lang, "*");
  assert_int_equal(sb_rules_regex(r, 0)->intent, 0);
  sb_rules_destroy(&r);
  expect_error("{\"intents\": [{\"name\": \"a\", \"regex\": {\"en\": [\"(a)\\\\1\"]}}]}", "back-references");
  expect_error("{\"intents\": [{\"name\": \"a\", \"regex\": {\"en\": [\"(unclosed\"]}}]}", "does not compile");
}

static void answers_must_name_a_known_intent(void **state) {
  (void)state;
  expect_error("{\"answers\": [{\"id\": \"x\", \"intent\": \"refund\", \"text\": \"hi\"}]}", "answers[0].intent");
  expect_error("{\"answers\": [{\"id\": \"x\", \"text\": \"\"}]}", "answers[0].text");
  expect_error("{\"answers\": [{\"id\": \"x\", \"text\": \"a\"}, {\"id\": \"x\", \"text\": \"b\"}]}", "used twice");
  /* intents are parsed first whatever the member order */
  sb_rules_t *r = parse_ok("{\"answers\": [{\"id\": \"r1\", \"intent\": \"refund\", \"language\": \"en\","
                           " \"text\": \"We will refund you.\"}], \"intents\": [{\"name\": \"refund\"}]}");
  assert_int_equal(sb_rules_answer(r, 0)->intent, 0);
  assert_string_equal(sb_rules_answer(r, 0)->lang, "en");
  sb_rules_destroy(&r);
}

static void competitors_take_names_and_aliases(void **state) {
  (void)state;
  sb_rules_t *r = parse_ok("{\"competitors\": [\"MetroPlus\", {\"name\": \"FlyNow\", \"aliases\": [\"fly now\"]}]}");
  assert_int_equal(sb_rules_competitor_count(r), 2);
  assert_string_equal(sb_rules_competitor(r, 1), "FlyNow");
  assert_int_equal(sb_termset_count(sb_rules_terms(r, "*")), 3);
  sb_rules_destroy(&r);
}

static void vip_lookup_finds_exact_ids_only(void **state) {
  (void)state;
  sb_rules_t *r = parse_ok("{\"vip\": [\"c-9\", \"c-1\", \"c-5\"]}");
  assert_true(sb_rules_is_vip(r, "c-1"));
  assert_true(sb_rules_is_vip(r, "c-9"));
  assert_false(sb_rules_is_vip(r, "c-"));
  assert_false(sb_rules_is_vip(r, NULL));
  sb_rules_destroy(&r);
}

static void priority_weights_override_the_defaults(void **state) {
  (void)state;
  sb_rules_t *r = parse_ok("{\"priority\": {\"legal\": 50, \"reach_max\": 1000}}");
  assert_true(sb_rules_priority(r)->legal == 50);
  assert_int_equal(sb_rules_priority(r)->reach_max, 1000);
  assert_true(sb_rules_priority(r)->vip == SB_PRIORITY_W_VIP);
  sb_rules_destroy(&r);
}

static void a_tenant_entry_file_is_read_through_its_classify_member(void **state) {
  (void)state;
  char path[] = "/tmp/test_rules_XXXXXX", err[256];
  int fd = mkstemp(path);
  assert_true(fd >= 0);
  static const char body[] = "{\"id\": \"acme\", \"sla\": {}, \"classify\": {\"languages\": [\"fr\"]}}";
  assert_int_equal(write(fd, body, strlen(body)), (ssize_t)strlen(body));
  close(fd);
  sb_rules_t *r = sb_rules_load(path, err, sizeof err);
  unlink(path);
  if (!r)
    fail_msg("%s", err);
  assert_string_equal(sb_rules_languages(r)[0], "fr");
  sb_rules_destroy(&r);
  assert_null(sb_rules_load("/nonexistent/rules.json", err, sizeof err));
  assert_non_null(strstr(err, "/nonexistent/rules.json"));
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(an_empty_object_is_an_empty_rule_set),
      cmocka_unit_test(the_bundled_default_rules_load),
      cmocka_unit_test(intents_keep_name_weight_and_flags),
      cmocka_unit_test(an_unknown_member_is_an_error_naming_it),
      cmocka_unit_test(malformed_json_is_an_error),
      cmocka_unit_test(bad_values_are_errors_with_their_path),
      cmocka_unit_test(a_phrase_must_have_one_to_eight_words_and_a_final_star_only),
      cmocka_unit_test(regexes_compile_once_and_refuse_back_references),
      cmocka_unit_test(answers_must_name_a_known_intent),
      cmocka_unit_test(competitors_take_names_and_aliases),
      cmocka_unit_test(vip_lookup_finds_exact_ids_only),
      cmocka_unit_test(priority_weights_override_the_defaults),
      cmocka_unit_test(a_tenant_entry_file_is_read_through_its_classify_member),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
