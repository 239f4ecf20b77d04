/*
 * sb_testfeed: a test's subscriber on a stack's feed (notify's PUB): one
 * SUB socket and a loop that hands each message, unpacked, to the test.
 */
#ifndef SB_TESTFEED_H
#define SB_TESTFEED_H

#include "sb_envelope.h"
#include "sb_teststack.h"

#include <stddef.h>

/* A SUB socket on zctx connected to st's feed, subscribed to prefix ("" for
 * every topic), after the subscription had time to reach the publisher.
 * Fails the test on error. */
void *sb_testfeed_subscribe(sb_teststack_t *st, void *zctx, const char *prefix);

/* Called for each message: its topic (NUL-terminated) and envelope (NULL
 * when the body does not decode; owned by the loop, freed after the call). */
typedef void (*sb_testfeed_fn)(const char *topic, const sb_envelope_t *env, void *arg);

/* Receives for ms milliseconds, calling fn for each message. */
void sb_testfeed_read(void *sub, int ms, sb_testfeed_fn fn, void *arg);

#endif
