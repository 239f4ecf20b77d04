/*
 * sb_hookrecv: a real HTTP webhook receiver for tests (the Python script
 * tests/support/hook_receiver.py, run by Debian's /usr/bin/python3 as a
 * child process on a loopback port). Each path can be told to answer 200,
 * 500, a given status, or hang; every request is recorded with its
 * signature, event id and attempt headers and its body. Stopping it (or
 * never starting one on a port) gives "connection refused".
 */
#ifndef SB_HOOKRECV_H
#define SB_HOOKRECV_H

#include <cjson/cJSON.h>

typedef struct sb_hookrecv sb_hookrecv_t;

/* Starts a receiver on port (0: a free one) and waits until it answers.
 * NULL on failure. */
sb_hookrecv_t *sb_hookrecv_start(int port);
/* Kills it (SIGKILL) and frees; clears *r. */
void sb_hookrecv_stop(sb_hookrecv_t **r);
int sb_hookrecv_port(const sb_hookrecv_t *r);

/* mode: "ok", "fail", "hang", "status:404". 0 or -1. */
int sb_hookrecv_mode(sb_hookrecv_t *r, const char *path, const char *mode);
/* The requests received on path (NULL: all), oldest first, as a cJSON
 * array the caller frees; NULL on error. */
cJSON *sb_hookrecv_received(sb_hookrecv_t *r, const char *path);
/* How many requests on path answered with status (0: any). */
int sb_hookrecv_count(sb_hookrecv_t *r, const char *path, int status);
/* Waits until count(path, status) >= n or timeout_ms; returns the count. */
int sb_hookrecv_wait(sb_hookrecv_t *r, const char *path, int status, int n, int timeout_ms);

#endif
