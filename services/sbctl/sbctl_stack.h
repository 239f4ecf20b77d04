/*
 * sbctl_stack: the whole bus on this machine: a private redis-server
 * (sb_redisd) unless a Redis URL is given, and the five services as child
 * processes (sbctl_proc) on one port offset, each ready before the next
 * starts. Used by `sbctl up`, `sbctl bench` and the integration tests.
 */
#ifndef SBCTL_STACK_H
#define SBCTL_STACK_H

#include "sbctl_proc.h"

#include <signal.h>

typedef struct {
  const char *tenants;     /* tenant configuration file */
  const char *redis_url;   /* NULL or "": start a private redis-server */
  const char *appendfsync; /* private server: "everysec", "always", or NULL (no AOF) */
  int port_offset;         /* -1: pick an offset where every port is free */
  const char *logdir;      /* NULL: the private server's folder, else /tmp */
  const char *bindir;      /* where the sb-* binaries are */
} sbctl_stack_opts_t;

typedef struct sbctl_stack sbctl_stack_t;

/* Starts everything; NULL (after saying why on stderr) on failure or when
 * *interrupted becomes non-zero (interrupted may be NULL). */
sbctl_stack_t *sbctl_stack_start(const sbctl_stack_opts_t *o, volatile sig_atomic_t *interrupted);
/* Stops the services only (SIGTERM, then SIGKILL); the logs stay. */
void sbctl_stack_stop_services(sbctl_stack_t *s);
/* Stops the services and the private Redis (its folder, logs included,
 * is removed). */
void sbctl_stack_stop(sbctl_stack_t **s);

int sbctl_stack_offset(const sbctl_stack_t *s);
const char *sbctl_stack_redis_url(const sbctl_stack_t *s);
const char *sbctl_stack_logdir(const sbctl_stack_t *s);
int sbctl_stack_private_redis(const sbctl_stack_t *s);
pid_t sbctl_stack_pid(const sbctl_stack_t *s, int i); /* sbctl_services[i] */

/* The private redis-server (fault tests): kill with a signal, start again
 * on the same port and folder (AOF kept). -1 without a private server. */
int sbctl_stack_redis_kill(sbctl_stack_t *s, int sig);
int sbctl_stack_redis_restart(sbctl_stack_t *s);

/* Index of a service that exited by itself (reaped), or -1. */
int sbctl_stack_check(sbctl_stack_t *s);
/* Sends sig to a service and reaps it: its wait status (waitpid), or -1. */
int sbctl_stack_kill(sbctl_stack_t *s, const char *service, int sig);
/* Starts a stopped service again and waits until it is ready. */
int sbctl_stack_restart(sbctl_stack_t *s, const char *service);

#endif
