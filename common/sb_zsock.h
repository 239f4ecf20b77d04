/*
 * sb_zsock: a ZeroMQ socket driven by the process's libuv loop.
 *
 * ZeroMQ exposes one file descriptor per socket (ZMQ_FD) that is
 * edge-triggered and also consumed by any zmq_send/zmq_recv/ZMQ_EVENTS call
 * on that socket. So readiness is re-checked from ZMQ_EVENTS before the loop
 * blocks (uv_prepare) and after it wakes (uv_check); while input remains and
 * the reader is not paused, an idle handle keeps the loop from blocking.
 * The reader callback takes what it wants with sb_zsock_recv (bounded per
 * turn: batching and fairness are the caller's choice).
 *
 * Sends never block: a message that meets the high-water mark waits in a
 * bounded out-queue and goes when ZMQ_EVENTS says POLLOUT; past that bound
 * sb_zsock_send fails with SB_EAGAIN and the caller decides (the hand-off
 * keeps a lease, so the sweeper re-sends).
 */
#ifndef SB_ZSOCK_H
#define SB_ZSOCK_H

#include <stddef.h>
#include <uv.h>
#include <zmq.h>

#define SB_ZSOCK_MAX_PARTS 8
#define SB_ZSOCK_OUTQ_MAX 65536 /* messages waiting for POLLOUT */

typedef struct sb_zsock sb_zsock_t;
/* Called from the loop when input may be waiting; read with sb_zsock_recv. */
typedef void (*sb_zsock_readable_fn)(sb_zsock_t *z, void *arg);

/* A socket of zmq type `type` (ZMQ_PULL, ...) in context zctx. NULL on error. */
sb_zsock_t *sb_zsock_new(uv_loop_t *loop, void *zctx, int type);
/* Closes the socket (linger 0 unless set) and frees after the handles close. */
void sb_zsock_destroy(sb_zsock_t **z);

int sb_zsock_bind(sb_zsock_t *z, const char *endpoint);
/* endpoints: one or more, comma-separated. */
int sb_zsock_connect(sb_zsock_t *z, const char *endpoints);
/* CURVE (sb_curve.h): with an enabled key set, sb_zsock_bind makes the
 * socket a CURVE server and sb_zsock_connect a CURVE client of the key set's
 * server key. curve is borrowed and must outlive the socket; NULL or a key
 * set that is not enabled leaves the NULL mechanism. Call before bind or
 * connect. */
struct sb_curve;
void sb_zsock_set_curve(sb_zsock_t *z, const struct sb_curve *curve);

/* The underlying zmq socket, for setsockopt. */
void *sb_zsock_raw(sb_zsock_t *z);

/* Starts delivering readiness to fn. */
void sb_zsock_on_readable(sb_zsock_t *z, sb_zsock_readable_fn fn, void *arg);
/* Back-pressure: stop/resume reading (the peers' HWM then pushes back). */
void sb_zsock_pause(sb_zsock_t *z);
void sb_zsock_resume(sb_zsock_t *z);

/* Receives one whole message without blocking into parts[0..max). Returns
 * 0 and *n, SB_EAGAIN if none waits, SB_ETOOBIG if it had more than max
 * parts (the message is consumed and dropped; parts are closed). The caller
 * closes the returned parts with zmq_msg_close. */
int sb_zsock_recv(sb_zsock_t *z, zmq_msg_t *parts, size_t max, size_t *n);

/* Sends a message of n parts (copied). 0, or SB_EAGAIN when the out-queue
 * is full, SB_ECLOSED when the socket is closing. */
int sb_zsock_send(sb_zsock_t *z, const void *const *data, const size_t *lens, size_t n);
/* Messages waiting in the out-queue. */
size_t sb_zsock_pending(const sb_zsock_t *z);

/* Connection events of z (zmq_socket_monitor, events a ZMQ_EVENT_* mask)
 * delivered on the loop: fn(event, arg) for each. Returns the monitor, a
 * PAIR socket to close with sb_zsock_monitor_destroy before z; NULL on
 * error. Set it up before z binds or connects. */
typedef void (*sb_zsock_event_fn)(int event, void *arg);
sb_zsock_t *sb_zsock_monitor_new(sb_zsock_t *z, uv_loop_t *loop, void *zctx, int events, sb_zsock_event_fn fn,
                                 void *arg);
void sb_zsock_monitor_destroy(sb_zsock_t *z, sb_zsock_t **monitor);

#endif
