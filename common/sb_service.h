/*
 * sb_service: the one context struct of a switchboard process, and what
 * every service does the same way: configuration (sb_config), logs, the
 * libuv loop, the ZeroMQ context, the Redis client, the tenant
 * configuration, metrics and the admin endpoint (/healthz, /readyz,
 * /metrics), and graceful shutdown on SIGTERM/SIGINT.
 *
 * Shutdown: the first signal calls the service's stop hook (stop taking
 * work); the loop keeps running until the drained hook says all in-flight
 * work is committed or handed back, or --drain-timeout-ms passes; then every
 * handle is closed and sb_service_run returns 0. A second signal closes everything
 * without waiting for the drain.
 */
#ifndef SB_SERVICE_H
#define SB_SERVICE_H

#include "sb_admin.h"
#include "sb_config.h"
#include "sb_metrics.h"
#include "sb_redis.h"
#include "sb_tenants.h"

#include <uv.h>

/* Ports of DESIGN.md; all shifted by --port-offset. */
#define SB_PORT_INGEST_HTTP 8080
#define SB_PORT_INGEST_ZMQ 5555
#define SB_PORT_NOTIFY_PUB 5556
#define SB_PORT_CLASSIFY_IN 5560 /* internal hand-off endpoints */
#define SB_PORT_ROUTE_IN 5561
#define SB_PORT_SLA_IN 5562
#define SB_PORT_NOTIFY_IN 5563
#define SB_PORT_ADMIN_INGEST 9101
#define SB_PORT_ADMIN_CLASSIFY 9102
#define SB_PORT_ADMIN_ROUTE 9103
#define SB_PORT_ADMIN_SLA 9104
#define SB_PORT_ADMIN_NOTIFY 9105

typedef struct sb_service sb_service_t;
typedef void (*sb_service_hook_fn)(sb_service_t *s, void *arg);
typedef int (*sb_service_drained_fn)(sb_service_t *s, void *arg);

struct sb_service {
  const char *name;       /* "route" */
  char program[48];       /* "sb-route" */
  uv_loop_t *loop;        /* borrowed: the default loop */
  sb_config_t *config;
  sb_metrics_t *metrics;
  sb_admin_t *admin;
  sb_redis_t *redis;
  sb_tenants_t *tenants;
  void *zctx;
  int stopping;
  int64_t stop_deadline_ms;
  sb_service_hook_fn on_stop; /* stop taking work */
  sb_service_drained_fn drained;
  sb_service_hook_fn on_close; /* close the service's own handles */
  void *hook_arg;
  uv_signal_t sigint, sigterm;
  uv_timer_t drain_timer;
  int admin_base_port;
  /* ZeroMQ CURVE (sb_curve.h): NULL when off. Sockets that bind or connect
   * call sb_zsock_set_curve(z, s->curve); zap answers for the allow-list. */
  struct sb_curve *curve;
  struct sb_zap *zap;
};

/* Options every service shares (redis-url, tenants, port-offset, ...). */
extern const sb_option_t sb_service_options[];

/* Loads configuration (common options + extra: a NULL-terminated list of
 * option tables, or NULL), logs, tenants,
 * metrics, admin endpoint, ZeroMQ context and Redis client. Returns
 * SB_CONFIG_RUN, SB_CONFIG_EXIT (help printed: exit 0) or a negative error
 * after printing the reason to stderr. */
int sb_service_init(sb_service_t *s, const char *name, int admin_base_port,
                    const sb_option_t *const *extra, int argc, char **argv);

/* Port number base + --port-offset. */
int sb_service_port(const sb_service_t *s, int base);
/* The option's value if set, else "tcp://<host>:<base+offset>". */
void sb_service_endpoint(const sb_service_t *s, const char *option, int base, char *out,
                         size_t cap);
/* The tenant of an event, or NULL when unknown. */
const sb_tenant_t *sb_service_tenant(const sb_service_t *s, const char *id);

/* Runs the loop until shutdown completes. Returns 0 on a clean stop. */
int sb_service_run(sb_service_t *s);
/* Starts the graceful stop (as a signal would). */
void sb_service_stop(sb_service_t *s);
/* Frees what init created. */
void sb_service_fini(sb_service_t *s);

#endif
