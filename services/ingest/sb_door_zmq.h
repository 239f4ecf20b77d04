/*
 * sb_door_zmq: ingest's ZeroMQ publish endpoint (ROUTER, default port
 * 5555). A client (DEALER, or REQ) sends one frame, a PublishRequest of
 * envelopes, and gets one PublishReply with an Ack per envelope in the same
 * order: ACK_OK once the event is durable, ACK_DUPLICATE for a redelivery,
 * ACK_INVALID / ACK_UNKNOWN_TENANT with a reason, ACK_RETRY_LATER when it
 * was not made durable (overload, Redis away, the tenant over its rate):
 * retrying is always safe.
 */
#ifndef SB_DOOR_ZMQ_H
#define SB_DOOR_ZMQ_H

#include "sb_intake.h"
#include "sb_service.h"

#define SB_DOOR_ZMQ_REQUEST_MAX (4u << 20) /* bytes of one PublishRequest */

typedef struct sb_door_zmq sb_door_zmq_t;

sb_door_zmq_t *sb_door_zmq_new(sb_service_t *s, sb_intake_t *intake, const char *endpoint);
void sb_door_zmq_stop(sb_door_zmq_t *d);
void sb_door_zmq_destroy(sb_door_zmq_t **d);

#endif
