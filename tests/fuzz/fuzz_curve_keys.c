/*
 * fuzz_curve_keys: libFuzzer target for sb_curve_allow_text (the CURVE
 * allow-list of --curve-clients-file).
 *
 * The input is parsed as is (not NUL-terminated, so ASan sees any
 * overread). Invariants checked with abort(): a list is taken whole or not
 * at all (an error adds no key), it never holds more than
 * SB_CURVE_CLIENTS_MAX keys, and parsing the same text twice adds the same
 * count again.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sb_curve.h"
#include "sb_error.h"

static void check(int ok) {
  if (!ok)
    abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  char *text = malloc(size ? size : 1);
  if (!text)
    return 0;
  memcpy(text, data, size);
  sb_curve_t *c = sb_curve_new();
  if (!c) {
    free(text);
    return 0;
  }
  int rc = sb_curve_allow_text(c, text, size);
  size_t n = sb_curve_nclients(c);
  check(rc == 0 || n == 0);
  check(n <= SB_CURVE_CLIENTS_MAX);
  if (rc == 0 && n <= SB_CURVE_CLIENTS_MAX / 2) {
    check(sb_curve_allow_text(c, text, size) == 0);
    check(sb_curve_nclients(c) == 2 * n);
  }
  uint8_t zero[32] = {0};
  (void)sb_curve_allowed(c, zero);
  sb_curve_destroy(&c);
  free(text);
  return 0;
}
