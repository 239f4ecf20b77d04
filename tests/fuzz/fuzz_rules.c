/*
 * fuzz_rules: libFuzzer target for the tenant rules parser (sb_rules_parse).
 *
 * Anything malformed must be rejected with a reason and never crash; what
 * is accepted must satisfy the header's contract (valid names, answer
 * intents in range, regexes compiled) and be usable: a matcher and a
 * suggestion index are built from it and run over a fixed message.
 */
#include "sb_error.h"
#include "sb_intent.h"
#include "sb_rules.h"
#include "sb_suggest.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static void check(int ok) {
  if (!ok)
    abort();
}

static void check_contract(const sb_rules_t *r) {
  size_t ni = sb_rules_intent_count(r);
  check(ni <= SB_RULES_INTENTS_MAX);
  for (size_t i = 0; i < ni; i++) {
    const sb_rule_intent_t *in = sb_rules_intent(r, i);
    check(in->name[0] && in->weight >= 0 && in->weight <= 100);
    check(sb_rules_intent_find(r, in->name) == (int)i);
  }
  for (size_t i = 0; i < sb_rules_answer_count(r); i++) {
    const sb_rule_answer_t *a = sb_rules_answer(r, i);
    check(a->intent >= -1 && a->intent < (int)ni && a->text && a->text[0]);
  }
  for (size_t i = 0; i < sb_rules_regex_count(r); i++)
    check(sb_rules_regex(r, i)->intent >= 0 && sb_rules_regex(r, i)->intent < (int)ni);
  for (size_t i = 0; i < sb_rules_competitor_count(r); i++)
    check(sb_rules_competitor(r, i) != NULL);
}

static void use(const sb_rules_t *r) {
  static const char msg[] = "@FlyNow my refund is late, lawyer! rembourser 3 hours late";
  sb_intent_t *m = sb_intent_new(r);
  sb_suggest_t *s = sb_suggest_new(r);
  sb_tokens_t t;
  sb_intent_result_t out;
  sb_suggestion_t sug;
  check(m && s);
  sb_tokens_init(&t);
  check(sb_text_tokenize(msg, strlen(msg), &t) == 0);
  check(sb_intent_match(m, "und", msg, strlen(msg), &t, &out) == 0);
  check(out.n <= SB_INTENT_MAX && out.n_competitors <= SB_INTENT_COMPETITORS_MAX);
  for (size_t k = 0; k < out.n; k++)
    check(out.intents[k].score > 0 && out.intents[k].score <= 1);
  int rc = sb_suggest_best(s, "en", &t, &out, &sug);
  check(rc == 0 || (rc == 1 && sug.index >= 0 && (size_t)sug.index < sb_rules_answer_count(r)));
  sb_tokens_free(&t);
  sb_suggest_destroy(&s);
  sb_intent_destroy(&m);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  char err[256] = "";
  sb_rules_t *r = sb_rules_parse((const char *)data, size, err, sizeof err);
  if (!r) {
    check(err[0] != '\0'); /* a rejection always says why */
    return 0;
  }
  check_contract(r);
  use(r);
  sb_rules_destroy(&r);
  return 0;
}
