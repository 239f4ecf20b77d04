/*
 * fuzz_identity: libFuzzer target for the POST /v1/identities body
 * (sb_identity_parse). Each input is an exact-size buffer so ASan sees any
 * overread; the contract of sb_identity.h is checked with abort(): on
 * success every identity is non-empty, NUL-terminated within its bounds
 * and of a known channel; on failure the result is cleared and a reason
 * is given. Seeds: tests/fuzz/corpus/identity/.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sb_envelope.h"
#include "sb_identity.h"

static void check(int ok) {
  if (!ok) abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  char *buf = malloc(size ? size : 1);
  if (!buf) return 0;
  memcpy(buf, data, size);
  sb_identity_link_t l;
  char err[160];
  int rc = sb_identity_parse(buf, size, &l, err, sizeof err);
  if (rc == 0) {
    check(l.n >= 1 && l.n <= SB_IDENTITY_MAX && l.tenant[0] && l.customer[0]);
    for (size_t i = 0; i < l.n; i++) {
      check(memchr(l.ids[i].id, '\0', sizeof l.ids[i].id) != NULL && l.ids[i].id[0]);
      check(sb_channel_parse(l.ids[i].channel) != SWITCHBOARD__V1__CHANNEL__CHANNEL_UNKNOWN);
    }
  } else {
    check(l.n == 0 && err[0] != '\0');
  }
  free(buf);
  return 0;
}
