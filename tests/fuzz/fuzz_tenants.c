/* Fuzz target: the tenant configuration parser (sb_tenants_parse) must
 * reject anything malformed with a reason and never crash; what it accepts
 * has valid ids and policies within their documented ranges. */
#include "sb_tenants.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  char err[256] = "";
  sb_tenants_t *t = sb_tenants_parse((const char *)data, size, err, sizeof err);
  if (!t) {
    if (!err[0])
      abort(); /* a rejection always says why */
    return 0;
  }
  for (size_t i = 0; i < sb_tenants_count(t); i++) {
    const sb_tenant_t *x = sb_tenants_at(t, i);
    if (!sb_tenant_id_valid(x->id, strlen(x->id)) || x->first_response_ms < 1 ||
        x->warn_percent < 1 || x->warn_percent > 100 || sb_tenants_find(t, x->id, strlen(x->id)) != x)
      abort();
  }
  sb_tenants_destroy(&t);
  return 0;
}
