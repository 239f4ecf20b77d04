/*
 * fuzz_lang: libFuzzer target for sb_lang_detect.
 *
 * The input is given as is (not NUL-terminated, so ASan sees any overread),
 * once without and once with a tenant list. Checked with abort(): the call
 * succeeds, the code is "und" or 2-3 lower-case letters, "und" comes with 0
 * percent and not reliable, a known code with a percent in 1..100, and with
 * a list the answer is in the list or "und".
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sb_lang.h"

static void check(int ok) {
  if (!ok)
    abort();
}

static int in_list(const char *const *list, const char *code) {
  for (size_t k = 0; list[k] != NULL; k++)
    if (strcmp(list[k], code) == 0)
      return 1;
  return 0;
}

static void check_result(const sb_lang_result_t *r) {
  size_t n = strnlen(r->code, sizeof r->code);
  check(n < sizeof r->code);
  if (strcmp(r->code, "und") == 0) {
    check(r->percent == 0 && r->reliable == 0);
    return;
  }
  check(n >= 2 && n <= 3);
  for (size_t k = 0; k < n; k++)
    check(r->code[k] >= 'a' && r->code[k] <= 'z');
  check(r->percent >= 1 && r->percent <= 100);
  check(r->reliable == 0 || r->reliable == 1);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static const char *const allowed[] = {"fr", "de", "nb", "pt", NULL};
  sb_lang_result_t r;
  check(sb_lang_detect((const char *)data, size, NULL, &r) == 0);
  check_result(&r);
  check(sb_lang_detect((const char *)data, size, allowed, &r) == 0);
  check_result(&r);
  check(strcmp(r.code, "und") == 0 || in_list(allowed, r.code));
  return 0;
}
