/*
 * sbctl_client: a publisher on ingest's ZeroMQ endpoint (DEALER), with a
 * window of outstanding PublishRequests and per-event acknowledgements.
 * Events answered ACK_RETRY_LATER are sent again (after a pause); every
 * other answer is final and counted. The caller drives it from its own
 * poll loop (sbctl_client_socket + sbctl_client_on_readable), calling
 * sbctl_client_pump at every turn.
 */
#ifndef SBCTL_CLIENT_H
#define SBCTL_CLIENT_H

#include "sb_envelope.h"

#include <stddef.h>
#include <stdint.h>

#define SBCTL_BATCH_MAX 100  /* events per PublishRequest */
#define SBCTL_WINDOW 64      /* requests in flight */

typedef struct {
  uint64_t sent, ok, duplicate, invalid, unknown_tenant, retried;
  uint64_t resent; /* events of requests unanswered in time, sent again */
} sbctl_client_stats_t;

typedef struct sbctl_client sbctl_client_t;

/* endpoint: one ZeroMQ endpoint or a comma-separated list (several ingest
 * replicas). With a list the socket connects to each and sets
 * ZMQ_IMMEDIATE: requests are spread over the connected ingests only, and
 * while none is connected they stay queued (sbctl_client_pump tries again).
 * A request taken down by an ingest that stopped is answered by no one:
 * pair a list with sbctl_client_resend_after. NULL on error (a bad
 * endpoint included). */
sbctl_client_t *sbctl_client_new(void *zctx, const char *endpoint);
/* The same as a CURVE client (sb_curve.h: --curve-secret-key-file, whose
 * public key must be in ingest's --curve-clients-file, and
 * --curve-server-key, ingest's public key). curve is only read here; NULL
 * or a key set that is not enabled is sbctl_client_new. */
struct sb_curve;
sbctl_client_t *sbctl_client_new_curve(void *zctx, const char *endpoint, const struct sb_curve *curve);
void sbctl_client_destroy(sbctl_client_t **c);

/* Sends a request's events again when no reply came within ms (0, the
 * default: wait for ever), and every unanswered request at once when a
 * connection to an ingest drops (a socket monitor; seen at the next
 * sbctl_client_pump). For a publisher that outlives an ingest that was
 * stopped or killed with its requests: a resent event that had been made
 * durable is answered ACK_DUPLICATE, so retrying is always safe. A reply
 * that comes after its request was resent is ignored (counted once, from
 * the resend's reply). */
void sbctl_client_resend_after(sbctl_client_t *c, int ms);
/* Queues one event (taken). It is sent when the window allows. */
void sbctl_client_queue(sbctl_client_t *c, sb_envelope_t *env);
/* Sends what the window allows; call after queueing and after reading. */
void sbctl_client_pump(sbctl_client_t *c);
/* Reads every reply waiting. */
void sbctl_client_on_readable(sbctl_client_t *c);
/* Events queued or in flight. */
size_t sbctl_client_outstanding(const sbctl_client_t *c);
void *sbctl_client_socket(sbctl_client_t *c);
void sbctl_client_stats(const sbctl_client_t *c, sbctl_client_stats_t *s);
/* The reason of the last rejected event ("" if none). */
const char *sbctl_client_last_error(const sbctl_client_t *c);

#endif
