/*
 * sbctl_proc: the five services as child processes: start one with its
 * environment and log file, wait for its /readyz, stop them all
 * (SIGTERM, then SIGKILL after a deadline). Used by `sbctl up` and by the
 * integration tests' stack.
 */
#ifndef SBCTL_PROC_H
#define SBCTL_PROC_H

#include <sys/types.h>

#define SBCTL_NSERVICES 5

typedef struct {
  const char *name;  /* "route": binary sb-route */
  int admin_port;    /* before the port offset */
} sbctl_service_t;

/* In start order: the last stage first, so every sender finds its peer. */
extern const sbctl_service_t sbctl_services[SBCTL_NSERVICES];

typedef struct {
  const char *bindir;    /* where the sb-* binaries are */
  const char *logdir;    /* <logdir>/<name>.log gets stdout and stderr */
  const char *redis_url;
  const char *tenants;   /* tenant configuration file */
  int port_offset;
} sbctl_proc_env_t;

/* Starts sb-<name> in its own process group; it dies with its parent.
 * classify gets the bundled rules and lexicons (SB_RULES, SB_LEXICONS)
 * unless the environment names others. Returns the pid or -1. */
pid_t sbctl_proc_spawn(const sbctl_proc_env_t *e, const char *name);
/* The HTTP status of GET /readyz on 127.0.0.1:port, or -1. */
int sbctl_proc_readyz(int port);
/* Waits until /readyz answers 200: 0, or -1 if the process exited or the
 * wait passed timeout_ms. */
int sbctl_proc_wait_ready(pid_t pid, int port, int timeout_ms);
/* SIGTERM to each pid > 0, waits up to timeout_ms, then SIGKILL; zeroes
 * the pids. */
void sbctl_proc_stop(pid_t *pids, int n, int timeout_ms);

#endif
