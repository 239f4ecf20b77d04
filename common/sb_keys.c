/* sb_keys: key names (see sb_keys.h for the table of keys). */
#include "sb_keys.h"

#include <stdio.h>

size_t sb_key_tenant(char *out, size_t cap, const char *tenant, const char *suffix) {
  int n = snprintf(out, cap, "sb:{t:%s}:%s", tenant, suffix);
  return n < 0 ? 0 : ((size_t)n < cap ? (size_t)n : cap - 1);
}
