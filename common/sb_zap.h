/*
 * sb_zap: the ZAP handler (RFC 27) of a process that serves CURVE sockets,
 * on the libuv loop, and the count of everyone turned away.
 *
 * libzmq asks the handler bound at inproc://zeromq.zap.01 in the socket's
 * context about every CURVE handshake that got as far as a valid client key;
 * we answer 200 if the key is in the allow-list (sb_curve_allowed), else 400.
 * Peers that never get that far (no CURVE at all, or the wrong server key:
 * the server cannot decrypt their HELLO) are seen through a socket monitor
 * on each CURVE server socket (ZMQ_EVENT_HANDSHAKE_FAILED_*). Both count in
 *   sb_zmq_auth_rejected_total{reason="unlisted_key"|"handshake"}
 * A rejected peer gets no message through in either direction.
 *
 * Lifetime: create after the ZeroMQ context and before any server socket
 * binds; destroy after those sockets are closed and before zmq_ctx_term.
 */
#ifndef SB_ZAP_H
#define SB_ZAP_H

#include "sb_curve.h"
#include "sb_metrics.h"

#include <stdint.h>
#include <uv.h>

#define SB_ZAP_ENDPOINT "inproc://zeromq.zap.01"
#define SB_ZAP_WATCH_MAX 16 /* server sockets watched for failed handshakes */

typedef struct sb_zap sb_zap_t;

/* Binds the handler in zctx and registers it as curve's server watcher.
 * curve is borrowed (must outlive the handler); metrics may be NULL.
 * NULL on error (e.g. another handler is already bound in zctx). */
sb_zap_t *sb_zap_new(uv_loop_t *loop, void *zctx, sb_curve_t *curve,
                     sb_metrics_t *metrics);
void sb_zap_destroy(sb_zap_t **z);

/* Clients accepted / rejected so far (rejected = both reasons). */
uint64_t sb_zap_accepted(const sb_zap_t *z);
uint64_t sb_zap_rejected(const sb_zap_t *z);

/* The edge: CURVE for one outside-facing server socket (ingest's publish
 * door, notify's feed) from the edge-curve-* options. It has a ZeroMQ
 * context of its own, so its ZAP handler answers for the edge allow-list
 * and never for the bus's (a context has one handler); its refusals count
 * in sb_zmq_auth_rejected_total{socket="<socket>",reason=...} (socket: a
 * string that outlives the handler, e.g. a literal). *out is NULL
 * when the edge is plaintext (no edge secret key). 0, or SB_ECONFIG /
 * SB_EZMQ with a reason in err. */
typedef struct sb_zap_edge sb_zap_edge_t;
int sb_zap_edge_new(uv_loop_t *loop, const sb_config_t *cfg,
                    sb_metrics_t *metrics, const char *socket,
                    sb_zap_edge_t **out, char *err, size_t errlen);
/* The context to make the edge socket in; the key set to make it a CURVE
 * server with (sb_zsock_set_curve before sb_zsock_bind). */
void *sb_zap_edge_context(sb_zap_edge_t *e);
const sb_curve_t *sb_zap_edge_curve(const sb_zap_edge_t *e);
const sb_zap_t *sb_zap_edge_handler(const sb_zap_edge_t *e);
/* Call once the edge socket is closed: stops the handler, ends the
 * context. */
void sb_zap_edge_destroy(sb_zap_edge_t **e);

#endif
