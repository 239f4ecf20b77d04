/* Fuzz target: protobuf from the wire. Bytes are decoded as a
 * PublishRequest (ingest's ZeroMQ door) and as an Envelope (every stage's
 * hand-off); whatever decodes goes through ingest's admission checks. No
 * input may crash, and an admitted envelope must hold what every stage
 * relies on. */
#include "sb_admit.h"
#include "sb_envelope.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static sb_tenants_t *tenants;

static void admit(sb_envelope_t *env) {
  sb_admit_result_t r;
  const char *why;
  if (sb_admit_envelope(env, tenants, &r) == 0 && sb_envelope_check(env, &why) != 0)
    abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (!tenants) {
    const char *json = "{\"tenants\":[{\"id\":\"acme\"},{\"id\":\"t\"}]}";
    char err[64];
    tenants = sb_tenants_parse(json, strlen(json), err, sizeof err);
  }
  Switchboard__V1__PublishRequest *req = switchboard__v1__publish_request__unpack(NULL, size, data);
  for (size_t i = 0; req && i < req->n_events; i++)
    admit(req->events[i]);
  switchboard__v1__publish_request__free_unpacked(req, NULL);
  sb_envelope_t *env = sb_envelope_unpack(data, size);
  if (env) {
    (void)sb_envelope_kind(env);
    admit(env);
    size_t len;
    uint8_t *out = sb_envelope_pack(env, &len);
    free(out);
  }
  sb_envelope_free(env);
  return 0;
}
