/*
 * sbc_wire: a PublishRequest made of envelopes that were encoded when they
 * were published. In protobuf a repeated message field is just its
 * elements one after another, each "tag, length, bytes", so the request is
 * written around the kept bytes without decoding them again.
 */
#ifndef SBC_WIRE_H
#define SBC_WIRE_H

#include <stddef.h>
#include <stdint.h>

typedef struct {
  const uint8_t *bytes;
  size_t len;
} sbc__wire_part_t;

/* The PublishRequest {correlation, events = parts}: malloc'd, *len bytes,
 * or NULL on OOM. */
uint8_t *sbc__wire_request(uint64_t correlation, const sbc__wire_part_t *parts, size_t n,
                           size_t *len);

#endif
