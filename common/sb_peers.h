/*
 * sb_peers: the receivers a sending socket connects to, kept in step with
 * DNS and with endpoint files, so replicas of the next stage can join and
 * leave while the sender runs (discovery).
 *
 * The spec is a comma-separated list (the --next option). Each item is
 *   - an endpoint with a literal address ("tcp://10.0.0.7:5561",
 *     "ipc://...", "inproc://..."): connected once, kept;
 *   - a tcp:// endpoint whose host is a name ("tcp://sb-route-peers:5561"):
 *     every address the name resolves to (A and AAAA), one connection each,
 *     looked up again every refresh period. A Kubernetes headless Service
 *     resolves to its ready pods, so the sender follows scale-out and
 *     scale-in. (libzmq alone would resolve the name once and connect to a
 *     single address.)
 *   - "@PATH": a file of such endpoints, one per line ('#' starts a
 *     comment), read again every refresh period (a ConfigMap, or a file an
 *     operator edits).
 * A refresh connects the endpoints that appeared and disconnects those that
 * are gone; a failed lookup or an unreadable file keeps what was connected
 * (a DNS blip never empties the set) and is counted.
 *
 * Invariants: one object per socket, on the socket's loop; the socket must
 * outlive it (destroy it first).
 */
#ifndef SB_PEERS_H
#define SB_PEERS_H

#include "sb_metrics.h"
#include "sb_zsock.h"

#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#define SB_PEERS_MAX 256         /* connected endpoints per socket */
#define SB_PEERS_ENDPOINT_MAX 256

typedef struct sb_peers sb_peers_t;
/* Called after a refresh disconnected at least one endpoint. */
typedef void (*sb_peers_removed_fn)(void *arg);

typedef struct {
  int64_t refresh_ms;         /* > 0; ignored when the spec has no name and no file */
  sb_metrics_t *metrics;      /* may be NULL */
  const char *labels;         /* of the metrics, e.g. to="route" */
  sb_peers_removed_fn removed;
  void *arg;
} sb_peers_opts_t;

/* Connects z to what spec names now (literal endpoints at once, names and
 * files from the loop's first turn) and keeps it in step. NULL when the
 * spec is malformed (an empty item, a tcp:// endpoint without host:port, a
 * path that is not absolute) or memory runs out; *why says which. */
sb_peers_t *sb_peers_new(uv_loop_t *loop, sb_zsock_t *z, const char *spec, const sb_peers_opts_t *o,
                         const char **why);
void sb_peers_destroy(sb_peers_t **p);

/* Checks a spec without connecting: 0, or SB_EINVAL with *why. */
int sb_peers_check(const char *spec, const char **why);

/* Endpoints connected now. */
size_t sb_peers_count(const sb_peers_t *p);
/* Runs a refresh now (tests, SIGHUP). */
void sb_peers_refresh(sb_peers_t *p);

/* Splits "tcp://HOST:PORT" (HOST may be "[v6]") into host and port.
 * 0, or SB_EINVAL when it is not of that shape or does not fit. */
int sb_peers_split(const char *endpoint, char *host, size_t hcap, char *port, size_t pcap);
/* 1 when host is a literal IPv4/IPv6 address or "*", else 0 (a name). */
int sb_peers_is_literal(const char *host);

#endif
