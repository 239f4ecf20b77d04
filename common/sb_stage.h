/*
 * sb_stage: the receiving side of the durable hand-off, shared by classify,
 * route, sla-timer and notify.
 *
 * Each loop turn a stage takes what waits on its PULL socket (up to
 * --batch-max), decodes and checks each envelope (bad ones become dead
 * letters), lets the stage compute its part in C (ops->prepare), then
 * commits the whole batch with one script call per tenant, all pipelined in
 * one round trip. The script (prelude.lua sb_handoff + the stage's effect)
 * clears each input lease, applies the effect, stores the enriched envelope
 * and records the next lease. Only then are the committed envelopes sent on
 * (sb_handoff) and ops->committed called. A duplicate (lease already
 * cleared) changes nothing and is not forwarded. A batch whose commit fails
 * (Redis away, timeout) is dropped: its leases still stand, so the senders
 * re-send it. At most SB_STAGE_INFLIGHT_MAX batches wait on Redis; beyond
 * that the stage stops reading and ZeroMQ pushes back on the senders.
 */
#ifndef SB_STAGE_H
#define SB_STAGE_H

#include "sb_envelope.h"
#include "sb_handoff.h"
#include "sb_service.h"

#define SB_STAGE_EXTRA_MAX 12
#define SB_STAGE_SCRATCH 512
#define SB_STAGE_INFLIGHT_MAX 8

typedef struct {
  sb_envelope_t *env;        /* decoded input; prepare may change it */
  const sb_tenant_t *tenant;
  uint8_t *blob;             /* env packed after prepare (owned) */
  size_t blob_len;
  int nextra;                /* extra script args this item fills */
  const char *extra[SB_STAGE_EXTRA_MAX];
  char scratch[SB_STAGE_SCRATCH]; /* storage for formatted extra args */
  size_t scratch_used;
  int committed;             /* the script applied the effect */
} sb_stage_item_t;

typedef struct {
  const char *name;        /* stage name: dead letters, metrics */
  const char *lease_in;    /* this stage's lease */
  const char *stat;        /* stats field counted per committed item */
  const char *script_name; /* its Lua effect: prelude + script_body */
  const char *script_body;
  int nextra;              /* extra args per item (0..SB_STAGE_EXTRA_MAX) */
  /* Computes the stage's part of one item in C (may be NULL). Returns 0, or
   * an error with a static reason: the item becomes a dead letter. */
  int (*prepare)(void *ctx, sb_stage_item_t *it, const char **why);
  /* After the commit, for a committed item; blob is the envelope as stored
   * and forwarded (input + the script's suffix). May be NULL. */
  void (*committed)(void *ctx, sb_stage_item_t *it, const uint8_t *blob, size_t len);
} sb_stage_ops_t;

typedef struct sb_stage sb_stage_t;

/* Binds listen (PULL) and starts reading. out: where committed envelopes
 * go (NULL for the last stage; the stage does not own it). */
sb_stage_t *sb_stage_new(sb_service_t *s, const sb_stage_ops_t *ops, void *ctx,
                         const char *listen, const char *lease_out, sb_handoff_t *out);
/* Stops reading new messages (graceful stop). */
void sb_stage_stop(sb_stage_t *st);
/* 1 when no batch waits on Redis and nothing waits to be sent. */
int sb_stage_drained(const sb_stage_t *st);
void sb_stage_destroy(sb_stage_t **st);

/* A whole stage service: sb_service + sb_handoff to the next stage +
 * sb_stage, with options --listen and --next, graceful stop and drain.
 * The hooks let a service add its own work (sla-timer's firing, notify's
 * feed); each may be NULL. */
typedef struct {
  const char *service;        /* "classify" */
  int admin_port;             /* SB_PORT_ADMIN_* */
  int listen_port;            /* SB_PORT_*_IN */
  const char *next_lease;     /* next stage's lease, NULL for the last */
  int next_port;
  const sb_option_t *options; /* the service's own options, or NULL */
  const sb_stage_ops_t *ops;
  void *ctx;
  int (*start)(void *ctx, sb_service_t *s, sb_handoff_t *out);
  void (*stop)(void *ctx);
  int (*drained)(void *ctx);
  void (*close)(void *ctx);
} sb_stage_main_t;

/* The body of a stage's main(): returns the process exit status. */
int sb_stage_main(const sb_stage_main_t *m, int argc, char **argv);

/* Adds a formatted extra argument to an item (prepare helpers). */
void sb_stage_item_arg(sb_stage_item_t *it, const char *value);
void sb_stage_item_argf(sb_stage_item_t *it, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* One item of a hand-off script's reply (sb_handoff in prelude.lua): the
 * suffix the script appended to the envelope (a string, maybe empty) when
 * the item was committed, NULL when it was not (a duplicate). */
const redisReply *sb_stage_reply_suffix(const redisReply *item);

#endif
