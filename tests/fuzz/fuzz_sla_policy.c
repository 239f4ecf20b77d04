/* Fuzz target: a tenant's "sla" object (sb_sla_policies_new: policies,
 * calendars with time zones and shifts, breach actions) must reject
 * anything malformed with a reason and never crash; what it accepts gives,
 * for every target it promises, due times that are not before the start
 * (a warning never after its breach). */
#include "sb_sla_policy.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  char *json = malloc(size + 1);
  if (!json)
    return 0;
  memcpy(json, data, size);
  json[size] = '\0';
  sb_tenant_t t = {.id = "fuzz", .first_response_ms = 900000, .warn_percent = 80};
  t.section_json[SB_TENANT_SLA] = json;
  char err[256] = "";
  sb_sla_policies_t *p = sb_sla_policies_new(&t, err, sizeof err);
  free(json);
  if (!p) {
    if (!err[0])
      abort(); /* a rejection always says why */
    return 0;
  }
  static const int64_t starts[] = {0, 1764000000000LL, 1774746000000LL /* a DST change */};
  const sb_sla_policy_t *pol = sb_sla_policies_default(p);
  for (int k = 0; k < SB_SLA_TARGETS; k++)
    for (size_t i = 0; i < sizeof starts / sizeof starts[0]; i++) {
      sb_sla_due_t d;
      if (sb_sla_policy_due(pol, (sb_sla_target_t)k, starts[i], &d) == 0 &&
          (d.breach_due_ms < starts[i] || d.warn_due_ms > d.breach_due_ms))
        abort();
    }
  sb_sla_policies_destroy(&p);
  return 0;
}
