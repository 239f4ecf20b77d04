/*
 * fuzz_peers: libFuzzer target for the --next endpoint list (sb_peers_check)
 * and the tcp://HOST:PORT splitter behind it.
 *
 * Invariants checked with abort(): a refused spec always says why; a split
 * that succeeds gives a non-empty host and an all-digit port that fit their
 * buffers.
 * (sb_peers_new itself connects and resolves, so it is not run here.)
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sb_peers.h"

static void check(int ok) {
  if (!ok)
    abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  char *spec = malloc(size + 1);
  if (!spec)
    return 0;
  memcpy(spec, data, size);
  spec[size] = '\0';
  const char *why = NULL;
  if (sb_peers_check(spec, &why) != 0)
    check(why != NULL && *why);
  char host[64], port[8];
  if (sb_peers_split(spec, host, sizeof host, port, sizeof port) == 0) {
    check(*host && strlen(host) < sizeof host);
    check(*port && strspn(port, "0123456789") == strlen(port));
    (void)sb_peers_is_literal(host);
  }
  free(spec);
  return 0;
}
