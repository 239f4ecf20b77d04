/*
 * sbctl_up: the whole stack on one machine. Starts its own redis-server
 * (sb_redisd, AOF everysec, in a temporary folder) unless SB_REDIS_URL is
 * set, then the five services as child processes (logs in a folder it
 * prints), waits for every /readyz, optionally replays a corpus, runs
 * simulated agents, and shows a live view until Ctrl-C, or, with
 * exit_when_drained, until every replayed event is acknowledged and routed
 * and no hand-off is open, then prints a JSON summary. Children die with
 * it (SIGTERM on stop, PR_SET_PDEATHSIG if it is killed).
 */
#ifndef SBCTL_UP_H
#define SBCTL_UP_H

#include "sb_config.h"

/* Options of `sbctl up` (see sbctl --help). */
extern const sb_option_t sbctl_up_options[];

/* Runs `sbctl up`; returns the process exit status. */
int sbctl_up(const sb_config_t *c);

/* The folder holding sbctl (where the sb-* binaries are too). */
void sbctl_bindir(char *out, size_t cap);

#endif
