/* Fuzz target: a tenant's "route" object (sb_route_config_new) must reject
 * anything malformed with a reason and never crash; what it accepts gives
 * compiled specs route.lua can split (no separator inside a name) and a
 * match for any message. */
#include "sb_route_config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static const sb_tenant_t t = {.id = "fuzz"};
  char *json = malloc(size + 1);
  if (!json)
    return 0;
  memcpy(json, data, size);
  json[size] = '\0';
  char err[256] = "";
  sb_route_config_t *c = sb_route_config_new(&t, json, err, sizeof err);
  free(json);
  if (!c) {
    if (!err[0])
      abort(); /* a rejection always says why */
    return 0;
  }
  Switchboard__V1__Interaction in = SWITCHBOARD__V1__INTERACTION__INIT;
  Switchboard__V1__Classification cl = SWITCHBOARD__V1__CLASSIFICATION__INIT;
  sb_envelope_t env = SWITCHBOARD__V1__ENVELOPE__INIT;
  env.interaction = &in;
  env.classification = &cl;
  cl.language = "fr";
  cl.vip = 1;
  sb_route_target_t m = sb_route_config_match(c, &env);
  const char *spec = sb_route_config_agent_spec(c, "someone");
  if (!m.queue_spec || !m.rule || m.units < 1 || m.priority < 0 || m.priority > 200 || !spec ||
      strchr(m.rule, '|') || strchr(m.rule, ','))
    abort();
  sb_route_config_destroy(&c);
  return 0;
}
