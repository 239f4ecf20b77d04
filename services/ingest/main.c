/*
 * sb-ingest: the front door. HTTP (sb_door_http) and ZeroMQ (sb_door_zmq)
 * publishers hand events to sb_intake, which makes them durable in Redis
 * before anyone is acknowledged and hands them to classify (sb_handoff).
 */
#include "sb_curve.h"
#include "sb_door_http.h"
#include "sb_door_zmq.h"
#include "sb_handoff.h"
#include "sb_intake.h"
#include "sb_log.h"
#include "sb_replicas.h"
#include "sb_service.h"

#include <stdio.h>
#include <string.h>

static const sb_option_t ingest_options[] = {
    {"http-port", SB_OPT_INT, "0", "HTTP port for /v1/events and webhooks; 0 = 8080 + offset"},
    {"publish", SB_OPT_STR, "", "ZeroMQ publish endpoint (ROUTER bind); default tcp://host:5555+offset"},
    {"next", SB_OPT_STR, "", "classify endpoints (PUSH connect, comma-separated; host names and @/path files as for the stages, see --next-refresh-ms); default tcp://host:5560+offset"},
    {"max-inflight", SB_OPT_INT, "50000", "events waiting on Redis before publishers get 429 / retry later"},
    {"rate-scope", SB_OPT_STR, "shared", "tenants' rate limits: shared (the live ingest replicas, counted in Redis, split each rate and burst) or replica (each replica admits the whole rate)"},
    {NULL, 0, NULL, NULL}};

typedef struct {
  sb_handoff_t *out;
  sb_intake_t *intake;
  sb_door_http_t *http;
  sb_door_zmq_t *zmq;
  sb_replicas_t *replicas;
} ingest_t;

static void on_stop(sb_service_t *s, void *arg) {
  ingest_t *in = arg;
  (void)s;
  sb_door_http_destroy(&in->http); /* stop taking requests */
  sb_door_zmq_stop(in->zmq);
  sb_replicas_leave(in->replicas); /* the others take over its share now */
}

static int drained(sb_service_t *s, void *arg) {
  ingest_t *in = arg;
  (void)s;
  return sb_intake_pending(in->intake) == 0 && sb_handoff_pending(in->out) == 0;
}

static void on_close(sb_service_t *s, void *arg) {
  ingest_t *in = arg;
  (void)s;
  sb_door_http_destroy(&in->http);
  sb_door_zmq_destroy(&in->zmq);
  sb_replicas_destroy(&in->replicas);
  sb_intake_destroy(&in->intake);
  sb_handoff_destroy(&in->out);
}

static int start(sb_service_t *s, ingest_t *in) {
  char next[1024], publish[256];
  sb_service_endpoint(s, "next", SB_PORT_CLASSIFY_IN, next, sizeof next);
  sb_service_endpoint(s, "publish", SB_PORT_INGEST_ZMQ, publish, sizeof publish);
  int port = (int)sb_config_int(s->config, "http-port");
  if (port == 0)
    port = sb_service_port(s, SB_PORT_INGEST_HTTP);
  in->out = sb_handoff_new(s, "classify", next);
  in->intake = in->out ? sb_intake_new(s, in->out, (size_t)sb_config_int(s->config, "max-inflight")) : NULL;
  if (!in->intake)
    return -1;
  const char *scope = sb_config_str(s->config, "rate-scope");
  if (strcmp(scope, "shared") && strcmp(scope, "replica")) {
    fprintf(stderr, "sb-ingest: --rate-scope must be shared or replica, not \"%s\"\n", scope);
    return -1;
  }
  in->replicas = sb_replicas_new(s, strcmp(scope, "shared") ? NULL : sb_intake_limiter(in->intake));
  if (!in->replicas)
    return -1;
  in->http = sb_door_http_new(s, in->intake, sb_config_str(s->config, "host"), port);
  if (!in->http) {
    fprintf(stderr, "sb-ingest: cannot listen for HTTP on port %d\n", port);
    return -1;
  }
  in->zmq = sb_door_zmq_new(s, in->intake, publish);
  if (!in->zmq) {
    fprintf(stderr, "sb-ingest: cannot bind %s\n", publish);
    return -1;
  }
  char portbuf[16];
  snprintf(portbuf, sizeof portbuf, "%d", port);
  sb_log(SB_LOG_INFO, "listening", "http_port", portbuf, "publish", publish, NULL);
  return 0;
}

int main(int argc, char **argv) {
  sb_service_t svc;
  ingest_t in = {0};
  const sb_option_t *const tables[] = {ingest_options, sb_curve_edge_options, NULL};
  int rc = sb_service_init(&svc, "ingest", SB_PORT_ADMIN_INGEST, tables, argc, argv);
  if (rc != SB_CONFIG_RUN) {
    sb_service_fini(&svc);
    return rc == SB_CONFIG_EXIT ? 0 : 2;
  }
  svc.on_stop = on_stop;
  svc.drained = drained;
  svc.on_close = on_close;
  svc.hook_arg = &in;
  if (start(&svc, &in)) {
    sb_service_stop(&svc);
    svc.stop_deadline_ms = 0;
    rc = 1;
  }
  int run = sb_service_run(&svc);
  sb_service_fini(&svc);
  return rc ? rc : run;
}
