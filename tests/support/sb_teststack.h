/*
 * sb_teststack: the whole bus for an integration test: a private
 * redis-server (sb_redisd), the five services on a free port offset, their
 * logs in the redis temp folder, and a publisher/feed for the test. Every
 * part is real: processes, TCP, ZeroMQ, Redis.
 */
#ifndef SB_TESTSTACK_H
#define SB_TESTSTACK_H

#include "sbctl_client.h"
#include "sbctl_view.h"
#include "sb_tenants.h"

#include <hiredis/hiredis.h>

typedef struct sb_teststack sb_teststack_t;

/* tenants_json: a tenant configuration (text), or NULL for the bundled
 * corpus/tenants.json. appendfsync: "everysec", "always", or NULL (no AOF). */
sb_teststack_t *sb_teststack_start(const char *tenants_json, const char *appendfsync);
void sb_teststack_stop(sb_teststack_t **st);
/* The same five services against an external Redis the test runs itself:
 * redis_url is given to them as SB_REDIS_URL ("redis://..." or
 * "redis-cluster://seed,seed,..."); their logs go to a fresh temporary
 * folder (sb_teststack_dir), removed at stop. The sb_teststack_redis_kill/
 * _restart calls do not apply; sb_teststack_redis() is NULL for a cluster
 * URL (no single node holds every tenant), so sb_teststack_wait_drained()
 * must not be used there either. */
sb_teststack_t *sb_teststack_start_url(const char *tenants_json, const char *redis_url);

int sb_teststack_offset(const sb_teststack_t *st);
/* The stack's folder: Redis's data (AOF) and the services' logs. */
const char *sb_teststack_dir(const sb_teststack_t *st);
const sb_tenants_t *sb_teststack_tenants(const sb_teststack_t *st);
/* A synchronous Redis connection owned by the stack. */
redisContext *sb_teststack_redis(sb_teststack_t *st);
/* A publisher on ingest's ZeroMQ endpoint, owned by the stack. */
sbctl_client_t *sb_teststack_client(sb_teststack_t *st);

/* Sends signal sig to one service ("route") and reaps it: its wait
 * status, or -1. */
int sb_teststack_kill(sb_teststack_t *st, const char *service, int sig);
/* Starts a killed service again and waits for its /readyz. */
int sb_teststack_restart(sb_teststack_t *st, const char *service);

/* Starts one more replica of service ("sla-timer") on free PULL and admin
 * ports of its own (SB_LISTEN, SB_ADMIN_PORT), logging to the same
 * <service>.log; waits for its /readyz; it is stopped with the stack.
 * Nothing sends to its PULL port: it does what replicas share through
 * Redis (sla-timer: claiming and firing due timers). Its admin port, or
 * -1. */
int sb_teststack_add_replica(sb_teststack_t *st, const char *service);

/* The stack's own redis-server: kill (signal) and restart (same port, AOF). */
int sb_teststack_redis_kill(sb_teststack_t *st, int sig);
int sb_teststack_redis_restart(sb_teststack_t *st);

/* Pumps the client until every queued event is answered (or timeout_ms). */
int sb_teststack_publish_all(sb_teststack_t *st, int timeout_ms);
/* Waits until no lease is open and routed_messages >= messages (or
 * timeout_ms); fills *out with the final figures. 0 when drained. */
int sb_teststack_wait_drained(sb_teststack_t *st, long long messages, int timeout_ms,
                              sbctl_stats_t *out);

/* The envelope of (source, id) as stored under ev:<key> once route has
 * written its decision (so classify's verdict is there too), polled every
 * 20 ms; NULL after wait_ms. The caller frees it. */
sb_envelope_t *sb_teststack_routed(sb_teststack_t *st, const char *tenant, const char *source,
                                   const char *id, int wait_ms);

/* An interaction envelope for tenant (see sb_admit), ready to queue. */
sb_envelope_t *sb_teststack_message(sb_teststack_t *st, const char *tenant, const char *id,
                                    const char *channel, const char *customer, const char *text);
/* An agent event envelope (action "login", "reply", "close", ...). */
sb_envelope_t *sb_teststack_agent_event(sb_teststack_t *st, const char *tenant, const char *id,
                                        const char *action, const char *agent,
                                        const char *conversation, int capacity);

/* A GET or POST on one of the stack's HTTP ports (base port before the
 * offset); returns the status and copies up to cap-1 bytes of body. */
int sb_teststack_http(sb_teststack_t *st, int base_port, const char *method, const char *path,
                      const char *content_type, const char *body, size_t len, char *out,
                      size_t cap);
/* The same with one extra header line (e.g. "Authorization: Bearer k"). */
int sb_teststack_http_header(sb_teststack_t *st, int base_port, const char *method, const char *path,
                             const char *header, const char *content_type, const char *body,
                             size_t len, char *out, size_t cap);


/* CURVE at the edge: a stack whose ingest publish door and notify feed are
 * CURVE servers (--edge-curve-*, given to the services as
 * SB_EDGE_CURVE_SECRET_KEY_FILE and SB_EDGE_CURVE_CLIENTS_FILE, kept set
 * until sb_teststack_stop so that restarted services keep them). The stack
 * makes the edge key pair and one client key pair, allowed for any tenant;
 * extra_clients (NULL or allow-list lines, "KEY [tenant]") are appended to
 * the allow-list. The stack's own publisher (sb_teststack_client) uses the
 * client key pair. */
typedef struct {
  char server_public[41], server_secret[41]; /* the door's and feed's */
  char client_public[41], client_secret[41]; /* the stack's publisher's */
} sb_teststack_keys_t;
sb_teststack_t *sb_teststack_start_edge_curve(const char *tenants_json, const char *appendfsync,
                                              const char *extra_clients);
/* The edge keys of such a stack, or NULL. */
const sb_teststack_keys_t *sb_teststack_edge_keys(const sb_teststack_t *st);
/* A new key set for a test's own client of the edge: secret key client_secret
 * (NULL: a fresh key pair) and the edge's public key; the caller destroys
 * it. NULL on error. */
struct sb_curve *sb_teststack_edge_client_keys(const sb_teststack_t *st, const char *client_secret);

#endif
