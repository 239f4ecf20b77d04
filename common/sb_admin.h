/*
 * sb_admin: the admin endpoint every service serves on its own port.
 *
 *   GET /healthz  200 {"status":"ok"}                   the process is alive
 *   GET /readyz   200 {"status":"ready"}                 ready() says yes
 *                 503 {"status":"not_ready","reason":"<why>"}
 *   GET /metrics  200 text/plain; version=0.0.4          sb_metrics_render()
 *
 * Any other path answers 404 and any other method on these paths 405
 * (with "Allow: GET"), both with the JSON error body of sb_http. Every answer
 * is synchronous, so the admin endpoint never holds a request.
 */
#ifndef SB_ADMIN_H
#define SB_ADMIN_H

#include "sb_metrics.h"

#include <uv.h>

typedef struct sb_admin sb_admin_t;

/* Returns 1 if the service is ready; else 0 and sets *why to a short static
 * snake_case reason such as "redis_disconnected". Called on every /readyz. */
typedef int (*sb_admin_ready_fn)(void *arg, const char **why);

/* An admin endpoint on loop (borrowed). metrics (borrowed, may be NULL: an
 * empty /metrics) must outlive the endpoint. ready may be NULL: always
 * ready. Returns NULL on OOM. */
sb_admin_t *sb_admin_new(uv_loop_t *loop, sb_metrics_t *metrics, sb_admin_ready_fn ready,
                         void *arg);
/* Listens on host (IP literal) and port (0 = ephemeral); the errors of
 * sb_http_server_listen(). */
int sb_admin_listen(sb_admin_t *a, const char *host, int port);
/* The bound port, or 0 if not listening. */
int sb_admin_port(const sb_admin_t *a);
/* Stops serving and clears *a; the loop must run afterwards to finish
 * closing connections. NULL or *a == NULL is a no-op. */
void sb_admin_destroy(sb_admin_t **a);

#endif
