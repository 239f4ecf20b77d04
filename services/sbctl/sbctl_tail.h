/*
 * sbctl_tail: follows the notify feed and prints each message as one JSON
 * line: {"topic", "id", "tenant", "type", "conversation", "kind", and the
 * routing / sla parts that are present}.
 */
#ifndef SBCTL_TAIL_H
#define SBCTL_TAIL_H

#include <signal.h>

struct sb_curve;
/* Returns 0 after count messages (0 = until *stop is set). curve: the
 * client key pair and the feed's public key when notify's feed is CURVE
 * (--edge-curve-*), else NULL; only read. */
int sbctl_tail(const char *feed, const char *topic, long long count, const struct sb_curve *curve,
               volatile sig_atomic_t *stop);

#endif
