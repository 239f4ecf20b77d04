/*
 * sb_redisd: a private redis-server child process on a loopback port.
 *
 * Used by `sbctl up` when SB_REDIS_URL is unset and by every test harness
 * (STYLE.md practice 14: tests drive a real server). Each instance owns a
 * fresh temp directory (redis.conf, redis.log, AOF files) and one child
 * process bound to 127.0.0.1 on a port that was free when it started.
 *
 * Invariants:
 *   - At most one child per sb_redisd_t; pid is 0 while none is running.
 *   - The child dies with its parent (PR_SET_PDEATHSIG, SIGTERM), so a
 *     crashed test or a Ctrl-C never leaves a redis-server behind. The
 *     signal fires when the *thread* that called start/restart exits: call
 *     them from the main thread. The child has its own process group, so a
 *     terminal's Ctrl-C reaches only the parent, which stops it in order.
 *   - Port and directory never change after sb_redisd_start(): a restart
 *     reuses both, so the AOF written before a kill is replayed.
 *
 * Everything here is synchronous and may block for a few seconds: it is
 * meant for startup, shutdown and tests, never for a libuv loop callback.
 * Not thread-safe; fork(2) is called, so start it before creating threads.
 */
#ifndef SB_REDISD_H
#define SB_REDISD_H

#include <sys/types.h>

typedef struct sb_redisd sb_redisd_t;

typedef struct {
  int appendonly;           /* 1 = appendonly yes; 0 (default) = no persistence */
  const char *appendfsync;  /* "everysec" (NULL = default), "always" or "no" */
  const char *extra_args;   /* NULL or space-separated redis-server arguments,
                               e.g. "--requirepass s3cret --maxmemory 64mb";
                               no quoting: an argument cannot hold a space.
                               With "--requirepass X" the readiness probe
                               sends AUTH X first. */
  const char *redis_server; /* path of the binary; NULL = "redis-server" in PATH */
  const char *acl_file;     /* NULL or an ACL file (Redis 6+ format, e.g. the
                               rendered docker/redis/users.acl.in): written
                               as "aclfile" in redis.conf. */
  const char *probe_user;   /* with acl_file: the user (and password) the  */
  const char *probe_password; /* readiness probe sends AUTH as; it needs PING
                               and INFO. NULL = no AUTH (or --requirepass). */
} sb_redisd_opts_t;

/* Starts a redis-server child: creates a temp dir (mkdtemp under $TMPDIR, else
 * /tmp), picks a free loopback port, writes redis.conf there (bind 127.0.0.1,
 * the port, dir, save "", appendonly per opts, protected-mode no, daemonize
 * no, logfile in the dir), fork+execs the server and waits (at most
 * SB_REDISD_START_TIMEOUT_MS) until it answers PING and reports our child's
 * process_id. If the child exits early (port taken in between) it retries on
 * another port, SB_REDISD_PORT_ATTEMPTS times in all. opts NULL = defaults;
 * opts strings are copied. Returns an owned object, or NULL on failure (the
 * reason is logged; nothing is left running and the temp dir is removed). */
sb_redisd_t *sb_redisd_start(const sb_redisd_opts_t *opts);

/* Accessors; valid until sb_redisd_stop(). */
int sb_redisd_port(const sb_redisd_t *d);
const char *sb_redisd_url(const sb_redisd_t *d); /* "redis://127.0.0.1:PORT" */
const char *sb_redisd_dir(const sb_redisd_t *d); /* the private temp dir */
pid_t sb_redisd_pid(const sb_redisd_t *d);       /* 0 when not running */

/* For fault tests: sends sig (e.g. SIGKILL) to the child and reaps it. If the
 * child has not exited within SB_REDISD_STOP_TIMEOUT_MS (a signal it ignores),
 * it is SIGKILLed. Afterwards sb_redisd_pid() is 0. Exception: SIGSTOP,
 * SIGTSTP and SIGCONT are only sent (freeze / thaw a server that keeps its
 * connections); the child keeps running. Returns 0, SB_ESTATE when no child
 * is running, SB_EINVAL for a bad signal, SB_EIO if kill(2) failed. */
int sb_redisd_kill(sb_redisd_t *d, int sig);

/* Starts the server again on the same port and dir (same redis.conf, so the
 * AOF is replayed) and waits until it answers PING (not LOADING). Returns 0,
 * SB_ESTATE when a child is still running, SB_EIO when it did not come up
 * (e.g. the port was taken meanwhile; logged). */
int sb_redisd_restart(sb_redisd_t *d);

/* SIGTERM, wait (bounded, then SIGKILL), remove the temp dir recursively,
 * free, set *d to NULL. NULL or *d NULL is a no-op. */
void sb_redisd_stop(sb_redisd_t **d);

#endif
