/*
 * sb_redis: the process's one asynchronous Redis connection, on its libuv
 * loop (hiredis 0.14 async API + its libuv adapter).
 *
 * What it adds to hiredis:
 *   - a deadline on every command (STYLE.md practice 9): in-flight commands
 *     sit in a FIFO in send order, which is also deadline order, and one
 *     uv_timer is armed at the oldest deadline. When it passes, the
 *     connection is dropped and every in-flight command fails once, because
 *     replies are ordered and the later ones can no longer be trusted;
 *   - reconnection for ever, with exponential back-off and jitter;
 *   - Lua scripts registered once by name, SCRIPT LOADed on every
 *     (re)connect and called by SHA1, with NOSCRIPT recovery;
 *   - one callback contract (practice 5) and safe teardown (practice 6).
 *
 * Pipelining: commands issued in one loop turn are appended to hiredis's
 * output buffer and written with one write(2) when the socket next polls
 * writable, i.e. one round trip per loop turn.
 *
 * "Connected" means: TCP connected, AUTH/SELECT (from the URL) accepted,
 * PING answered with PONG (so not LOADING) and every script loaded. Only
 * then are commands accepted; before that they get SB_EAGAIN.
 *
 * Not thread-safe: every call must come from the loop's thread.
 *
 * hiredis 0.14 writes with write(2), so a dead server raises SIGPIPE; the
 * first sb_redis_new() sets SIGPIPE to SIG_IGN if it is SIG_DFL.
 */
#ifndef SB_REDIS_H
#define SB_REDIS_H

#include <hiredis/hiredis.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

typedef struct sb_redis sb_redis_t;

#define SB_REDIS_COMMAND_TIMEOUT_MS 2000
#define SB_REDIS_CONNECT_TIMEOUT_MS 2000
#define SB_REDIS_RECONNECT_MIN_MS 100
#define SB_REDIS_RECONNECT_MAX_MS 5000

typedef struct {
  uint64_t command_timeout_ms; /* deadline of each command; default 2000 */
  uint64_t connect_timeout_ms; /* TCP connect + AUTH/SELECT/PING/SCRIPT LOAD;
                                  default 2000 */
  uint64_t reconnect_min_ms;   /* back-off: min * 2^attempt, capped at max,  */
  uint64_t reconnect_max_ms;   /* then a uniform jitter in [d/2, d];
                                  defaults 100 and 5000 */
} sb_redis_opts_t;

/* Fills o with the defaults above. */
void sb_redis_opts_default(sb_redis_opts_t *o);

/* Creates a client and starts connecting at once; on failure it reconnects
 * for ever with back-off (no callback is called from inside this function).
 * url: "redis://host[:port][/db]" with an optional "user:password@" or
 * ":password@" before host (AUTH); port defaults to 6379, db to 0; an IPv6
 * host is written in brackets. host should be a numeric address: hiredis
 * resolves names with a blocking getaddrinfo() on every (re)connect.
 * Redis Cluster: url "redis-cluster://[[user]:password@]host:port[,host:port
 * ...]" names seed nodes (port required, no /db); the client then keeps one
 * connection per master, routes each command by the hash slot of its first
 * key (EVALSHA: KEYS[1]; commands without keys go to any master), follows
 * MOVED/ASK once, and is "connected" while every master of the slot map is
 * connected with every script loaded. Transactions (MULTI, EXEC, WATCH...)
 * get SB_EINVAL there. See sb_redis_cluster.h.
 * opts NULL = defaults; zero fields take their default.
 * Returns an owned client, or NULL on a bad url (logged) or out of memory. */
sb_redis_t *sb_redis_new(uv_loop_t *loop, const char *url, const sb_redis_opts_t *opts);

/* Fails every pending command with SB_ECLOSED and closes the connection.
 * Callbacks of pending commands are called exactly once, synchronously,
 * before sb_redis_destroy() returns; after it returns no callback (reply or
 * state) of this client is ever called again, so the caller may free the
 * callback args at once. *r is set to NULL before any callback runs.
 * Safe to call from inside any of this client's callbacks (reply or state):
 * hiredis is then torn down from a loop hook once the stack has unwound.
 * Calls made on the client from callbacks running inside destroy fail with
 * SB_ECLOSED. The memory is freed in the last uv_close callback, so the loop
 * must run (uv_run) once more before uv_loop_close(). NULL or *r NULL is a
 * no-op. */
void sb_redis_destroy(sb_redis_t **r);

/* Reply callback. err:
 *   0            reply is the answer (any type but REDIS_REPLY_ERROR);
 *   SB_EREDIS    reply is a REDIS_REPLY_ERROR (e.g. a script error);
 *   SB_ETIMEOUT  reply NULL: this command's deadline passed, or an earlier
 *                in-flight command's did, and the connection was dropped;
 *   SB_ECLOSED   reply NULL: the connection was lost, or sb_redis_destroy().
 * The reply is owned by hiredis and valid only during the callback. The
 * callback may issue commands and may call sb_redis_destroy(). */
typedef void (*sb_redis_reply_fn)(const redisReply *reply, int err, void *arg);

/* Sends one command (argvlen NULL = strlen of each argv). Returns 0 and then
 * cb is called exactly once, later, from the loop (or from inside
 * sb_redis_destroy()); or returns an error and cb is never called:
 *   SB_EAGAIN   not connected (yet, or reconnecting);
 *   SB_ECLOSED  called from a callback running inside sb_redis_destroy();
 *   SB_EINVAL   bad arguments, or a command that breaks reply ordering
 *               (SUBSCRIBE, PSUBSCRIBE, SSUBSCRIBE, UNSUBSCRIBE,
 *               PUNSUBSCRIBE, SUNSUBSCRIBE, MONITOR): use a separate
 *               connection for those;
 *   SB_ENOMEM   out of memory.
 * Replies arrive in the order commands were sent, except that an EVALSHA
 * retried after NOSCRIPT answers after the commands sent before its retry. */
int sb_redis_command_argv(sb_redis_t *r, int argc, const char **argv, const size_t *argvlen,
                          sb_redis_reply_fn cb, void *arg);

/* Registers a Lua script under a name; its SHA1 is computed locally. It is
 * SCRIPT LOADed on every (re)connect before the client reports connected,
 * and at once if the client is already connected. name and source are
 * copied. Returns the script id (>= 0, dense: 0, 1, 2, ...); the same id
 * again for the same name and source; SB_EEXISTS for the same name with
 * another source; SB_EINVAL or SB_ENOMEM. */
int sb_redis_script_add(sb_redis_t *r, const char *name, const char *source);

/* The 40-hex-digit SHA1 of a script, or NULL for an unknown id. */
const char *sb_redis_script_sha(const sb_redis_t *r, int script_id);

/* EVALSHA sha nkeys argv[0..nargs-1]: argv holds the nkeys keys first, then
 * the ARGV values (nargs = nkeys + number of ARGV values). argvlen NULL =
 * strlen. The command is copied. On a NOSCRIPT error reply the script is
 * SCRIPT LOADed and the call retried once (with a fresh deadline) before
 * anything is reported. Returns and calls back as sb_redis_command_argv();
 * also SB_EINVAL for an unknown script id or nkeys outside [0, nargs]. */
int sb_redis_evalsha(sb_redis_t *r, int script_id, int nkeys, int nargs, const char **argv,
                     const size_t *argvlen, sb_redis_reply_fn cb, void *arg);

/* 1 when connected AND every script is loaded (commands are accepted). */
int sb_redis_is_connected(const sb_redis_t *r);

/* Sets (fn NULL: clears) the one state callback, called from the loop on
 * each transition: connected 1 when commands start being accepted, 0 when
 * the connection is lost (after the in-flight commands were failed). Never
 * called from sb_redis_new() or sb_redis_destroy(). It may issue commands
 * and may call sb_redis_destroy(). */
void sb_redis_on_state(sb_redis_t *r, void (*fn)(int connected, void *arg), void *arg);

/* Commands sent and not yet answered, including the client's own (AUTH,
 * SELECT, PING, SCRIPT LOAD during a handshake). */
size_t sb_redis_inflight(const sb_redis_t *r);

typedef struct {
  uint64_t commands;   /* commands accepted (returned 0), retries not counted */
  uint64_t errors;     /* of those: completed with SB_EREDIS or SB_ECLOSED */
  uint64_t timeouts;   /* of those: completed with SB_ETIMEOUT */
  uint64_t reconnects; /* connection attempts after the first one */
} sb_redis_stats_t;

/* Copies the counters (monotonic since sb_redis_new()). */
void sb_redis_stats(const sb_redis_t *r, sb_redis_stats_t *s);

#endif
