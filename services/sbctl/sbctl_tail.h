/*
 * sbctl_tail: follows the notify feed and prints each message as one JSON
 * line: {"topic", "id", "tenant", "type", "conversation", "kind", and the
 * routing / sla parts that are present}.
 */
#ifndef SBCTL_TAIL_H
#define SBCTL_TAIL_H

#include <signal.h>

/* Returns 0 after count messages (0 = until *stop is set). */
int sbctl_tail(const char *feed, const char *topic, long long count, volatile sig_atomic_t *stop);

#endif
