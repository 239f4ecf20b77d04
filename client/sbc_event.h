/*
 * sbc_event: the library's plain structs <-> switchboard.v1.Envelope bytes.
 * The only module that knows the protobuf-c types of events; the public
 * header never shows them.
 */
#ifndef SBC_EVENT_H
#define SBC_EVENT_H

#include "switchboard/client.h"

#include <stddef.h>
#include <stdint.h>

/* Checks ev and encodes it as an Envelope stamped published_us = now_us.
 * 0 and *out (malloc'd, *len bytes), SBC_EINVAL (reason in why) or
 * SBC_ENOMEM. */
int sbc__event_encode(const sbc_event_t *ev, int64_t now_us, uint8_t **out, size_t *len,
                      const char **why);

/* A decoded feed message: fill with sbc__feed_decode, release with
 * sbc__feed_release (holds the unpacked Envelope the strings point into). */
typedef struct {
  sbc_feed_event_t ev;
  void *env;
} sbc__feed_msg_t;
/* 0, or SBC_EPROTO when bytes are not an Envelope. topic is borrowed. */
int sbc__feed_decode(const uint8_t *bytes, size_t len, const char *topic, sbc__feed_msg_t *m);
void sbc__feed_release(sbc__feed_msg_t *m);

#endif
