/*
 * sb_redis_cluster: the Redis Cluster mode of sb_redis (hiredis 0.14 has no
 * cluster support and Debian packages no C cluster client).
 *
 * Selected by a "redis-cluster://" URL given to sb_redis_new(); callers keep
 * using the sb_redis.h API and never see this header, except for the slot
 * function, which is pure and public so that tests and tools can use it.
 *
 * The idea. One sb_redis_t (a single-node client, with its deadlines,
 * reconnection, scripts loaded by SHA in every handshake and NOSCRIPT
 * recovery) per node we talk to: every seed of the URL, plus every master
 * the slot map names. The slot map (CLUSTER SLOTS) is read from any
 * connected node when the client starts, after a MOVED reply, when a master
 * is lost, and then every SB_REDIS_CLUSTER_REFRESH_MS until every master of
 * the map is connected again (a failover is only learnt by asking). Each
 * command goes to the master of the slot of its first key (EVALSHA: of
 * KEYS[1]); commands without keys go to any connected master.
 *
 * Redirections: a MOVED or ASK reply means the command was not executed, so
 * it is re-sent once to the named node (ASK: preceded by ASKING) when that
 * node is connected; otherwise the MOVED/ASK error is reported. A lost
 * connection or a deadline fails the command as in single-node mode
 * (SB_ECLOSED, SB_ETIMEOUT): whether it ran is unknown and not every script
 * is an idempotent hand-off, so the caller's lease decides.
 *
 * "Connected" means: a slot map is known, it covers all 16384 slots, and
 * every master it names is connected with every script loaded.
 */
#ifndef SB_REDIS_CLUSTER_H
#define SB_REDIS_CLUSTER_H

#include "sb_redis.h"

#include <stddef.h>

#define SB_REDIS_CLUSTER_SLOTS 16384
#define SB_REDIS_CLUSTER_SCHEME "redis-cluster://"
#define SB_REDIS_CLUSTER_REFRESH_MS 250 /* map re-read period while degraded   \
                                         */
#define SB_REDIS_CLUSTER_NODES_MAX 64   /* seeds + masters known at once */

/* The hash slot of a key, as Redis computes it: CRC16 (XMODEM) of the
 * hash tag (the bytes between the first '{' and the first '}' after it, if
 * not empty) or else of the whole key, modulo 16384. */
unsigned sb_redis_cluster_slot(const char *key, size_t len);

typedef struct sb_redis_cluster sb_redis_cluster_t;

/* 1 when url starts with "redis-cluster://". */
int sb_redis_cluster_is_url(const char *url);

/* url: "redis-cluster://[[user]:password@]host:port[,host:port...]" (the
 * seeds; port required, IPv6 hosts in brackets; no /db: a cluster has only
 * db 0). Starts connecting to the seeds. NULL on a bad url (logged without
 * the url) or out of memory. */
sb_redis_cluster_t *sb_redis_cluster_new(uv_loop_t *loop, const char *url,
                                         const sb_redis_opts_t *opts);

/* As sb_redis_destroy(): pending callbacks run once, synchronously; the
 * memory goes in a uv_close callback. */
void sb_redis_cluster_destroy(sb_redis_cluster_t **c);

/* As their sb_redis_* namesakes (see sb_redis.h). script_add returns the id
 * the nodes gave, which equals the caller's dense id. */
int sb_redis_cluster_command_argv(sb_redis_cluster_t *c, int argc,
                                  const char **argv, const size_t *argvlen,
                                  sb_redis_reply_fn cb, void *arg);
int sb_redis_cluster_evalsha(sb_redis_cluster_t *c, int script_id, int nkeys,
                             int nargs, const char **argv,
                             const size_t *argvlen, sb_redis_reply_fn cb,
                             void *arg);
int sb_redis_cluster_script_add(sb_redis_cluster_t *c, const char *name,
                                const char *source);
int sb_redis_cluster_is_connected(const sb_redis_cluster_t *c);
void sb_redis_cluster_on_state(sb_redis_cluster_t *c,
                               void (*fn)(int connected, void *arg), void *arg);
size_t sb_redis_cluster_inflight(const sb_redis_cluster_t *c);
void sb_redis_cluster_stats(const sb_redis_cluster_t *c, sb_redis_stats_t *s);

#endif
