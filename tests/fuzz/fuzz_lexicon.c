/*
 * fuzz_lexicon: libFuzzer target for the sentiment lexicon parser
 * (sb_sentiment_add_lexicon): malformed text is rejected with a line
 * number, never a crash; whatever loaded scores any text within (-1, 1).
 */
#include "sb_error.h"
#include "sb_sentiment.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static const char msg[] = "not very good but the WORST!!! thanks in advance \xf0\x9f\x98\xa1";
  char err[128] = "";
  sb_sentiment_t *s = sb_sentiment_new();
  if (!s)
    abort();
  int rc = sb_sentiment_add_lexicon(s, "en", (const char *)data, size, err, sizeof err);
  if (rc != 0 && (rc != SB_EPARSE || strncmp(err, "line ", 5)) && rc != SB_ETOOBIG && rc != SB_ENOMEM)
    abort();
  sb_tokens_t t;
  sb_sentiment_result_t r;
  sb_tokens_init(&t);
  if (sb_text_tokenize(msg, strlen(msg), &t) || sb_sentiment_score(s, "und", &t, &r) ||
      !(r.score > -1 && r.score < 1))
    abort();
  sb_tokens_free(&t);
  sb_sentiment_destroy(&s);
  return 0;
}
