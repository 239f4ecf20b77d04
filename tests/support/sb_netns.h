/*
 * sb_netns: several "hosts" on one machine, for tests that must prove that
 * nothing assumes localhost. Each host is a Linux network namespace
 * ("sbn-<pid>-<host>") with one veth into a bridge that lives in a hub
 * namespace of its own ("sbn-<pid>-hub"), so the root namespace is never
 * touched. Host i gets 10.231.<pid % 250>.<i + 2>/24 on its eth0.
 *
 * Cleanup is unconditional: sb_netns_destroy, an atexit hook and a handler
 * for SIGINT/SIGTERM/SIGHUP/SIGQUIT/SIGABRT kill the processes spawned into
 * the hosts and delete every namespace of the run (umount + unlink of
 * /var/run/netns/<name>, what `ip netns del` does, both async-signal-safe).
 * A SIGKILL (a CTest timeout) cannot be caught: sb_netns_sweep at the next
 * start deletes the namespaces of runs whose process is gone.
 *
 * Needs root (CAP_SYS_ADMIN + CAP_NET_ADMIN) and iproute2's `ip`.
 */
#ifndef SB_NETNS_H
#define SB_NETNS_H

#include <stddef.h>
#include <sys/types.h>

#define SB_NETNS_HOSTS_MAX 12
/* Files and folders of a run start with this + "<pid>-" (or "<pid>."), so
 * that sb_netns_sweep finds those of runs that were killed. */
#define SB_NETNS_TMP_PREFIX "/tmp/sb-netns-"
#define SB_NETNS_PROCS_MAX 16

typedef struct sb_netns sb_netns_t;

/* 1 when this process may create network namespaces; else 0 with the
 * reason in why (not root, `ip` missing, unshare refused). */
int sb_netns_supported(char *why, size_t cap);

/* Deletes the namespaces named "sbn-<pid>-*" whose <pid> no longer runs (or
 * is this process: a leftover of an earlier run with the same pid), after
 * killing whatever still runs in them, and those runs' SB_NETNS_TMP_PREFIX
 * files. Returns how many namespaces it deleted. */
int sb_netns_sweep(void);

/* The hub with its bridge and one namespace per host name (at most
 * SB_NETNS_HOSTS_MAX), loopback up in each; NULL (what failed printed to
 * stderr) on error, after deleting what was made. One live topology per
 * process (the signal handler knows it). */
sb_netns_t *sb_netns_new(const char *const *hosts, size_t n);

/* "sbn-<pid>-<host>" and its IPv4 address ("10.231.x.y"); NULL if unknown. */
const char *sb_netns_name(const sb_netns_t *ns, const char *host);
const char *sb_netns_addr(const sb_netns_t *ns, const char *host);

/* Sets the host's loopback interface up or down. 0 or -1. */
int sb_netns_loopback(sb_netns_t *ns, const char *host, int up);

/* Moves the calling thread into the host's namespace (setns): sockets it
 * opens afterwards, and threads it starts, live there. 0 or -1. */
int sb_netns_enter(sb_netns_t *ns, const char *host);

/* Runs argv (argv[0] a path or a name on PATH) in the host's namespace
 * through `ip netns exec`, stdout and stderr appended to log; the child
 * dies with this process (PR_SET_PDEATHSIG). Its pid, or -1. */
pid_t sb_netns_spawn(sb_netns_t *ns, const char *host, const char *log, char *const argv[]);

/* Waits for a spawned pid to exit, SIGKILL after timeout_ms; its wait
 * status, or -1 if it is not ours. */
int sb_netns_wait(sb_netns_t *ns, pid_t pid, int timeout_ms);
/* SIGTERM to a spawned pid, then sb_netns_wait. */
int sb_netns_stop(sb_netns_t *ns, pid_t pid, int timeout_ms);

/* Kills what still runs, deletes the namespaces, clears *ns. */
void sb_netns_destroy(sb_netns_t **ns);

#endif
