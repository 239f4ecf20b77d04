/* sbc_wire: see sbc_wire.h. Field numbers from proto/switchboard.proto:
 * PublishRequest.correlation = 1 (varint), events = 2 (length-delimited). */
#include "sbc_wire.h"

#include <stdlib.h>
#include <string.h>

#define TAG_CORRELATION 0x08 /* field 1, wire type 0 */
#define TAG_EVENT 0x12       /* field 2, wire type 2 */
#define VARINT_MAX 10

static size_t varint(uint64_t v, uint8_t *out) {
  size_t n = 0;
  do {
    uint8_t b = v & 0x7f;
    v >>= 7;
    out[n++] = b | (v ? 0x80 : 0);
  } while (v);
  return n;
}

uint8_t *sbc__wire_request(uint64_t correlation, const sbc__wire_part_t *parts, size_t n,
                           size_t *len) {
  size_t cap = 1 + VARINT_MAX;
  for (size_t i = 0; i < n; i++)
    cap += 1 + VARINT_MAX + parts[i].len;
  uint8_t *buf = malloc(cap), *p = buf;
  if (!buf)
    return NULL;
  if (correlation) { /* proto3 leaves a zero out */
    *p++ = TAG_CORRELATION;
    p += varint(correlation, p);
  }
  for (size_t i = 0; i < n; i++) {
    *p++ = TAG_EVENT;
    p += varint(parts[i].len, p);
    memcpy(p, parts[i].bytes, parts[i].len);
    p += parts[i].len;
  }
  *len = (size_t)(p - buf);
  return buf;
}
