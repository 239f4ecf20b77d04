/*
 * sb_service: process setup and graceful shutdown (see sb_service.h).
 */
#include "sb_service.h"
#include "sb_curve.h"
#include "sb_error.h"
#include "sb_log.h"
#include "sb_time.h"
#include "sb_zap.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

#define SB_DRAIN_CHECK_MS 20
#define SB_ERRBUF 512

const sb_option_t sb_service_options[] = {
    {"redis-url", SB_OPT_STR, "redis://127.0.0.1:6379", "Redis server (redis://[:password@]host:port[/db])"},
    {"tenants", SB_OPT_STR, "", "tenant configuration file (JSON; required)"},
    {"host", SB_OPT_STR, "127.0.0.1", "address to bind listening sockets on"},
    {"port-offset", SB_OPT_INT, "0", "added to every default port, so stacks can share a machine"},
    {"admin-port", SB_OPT_INT, "0", "admin HTTP port (/healthz /readyz /metrics); 0 = default + offset"},
    {"log-level", SB_OPT_STR, "info", "debug, info, warn, error or off"},
    {"batch-max", SB_OPT_INT, "512", "most messages taken per loop turn and committed in one round trip"},
    {"lease-ms", SB_OPT_INT, "5000", "in-flight lease: a hand-off not committed by then is re-sent"},
    {"sweep-ms", SB_OPT_INT, "500", "how often expired leases are looked for"},
    {"event-ttl-s", SB_OPT_INT, "86400", "how long events and conversations are kept in Redis"},
    {"redis-timeout-ms", SB_OPT_INT, "2000", "deadline of every Redis command"},
    {"dlq-max", SB_OPT_INT, "10000", "dead letters kept per tenant (oldest dropped first)"},
    {"drain-timeout-ms", SB_OPT_INT, "10000", "graceful stop: most time to finish in-flight work"},
    {"next-refresh-ms", SB_OPT_INT, "5000", "how often host names and @files in --next are looked up again (replicas joining and leaving)"},
    {NULL, 0, NULL, NULL}};

static int service_ready(void *arg, const char **why) {
  sb_service_t *s = arg;
  if (s->stopping) {
    *why = "stopping";
    return 0;
  }
  if (!sb_redis_is_connected(s->redis)) {
    *why = "redis_disconnected";
    return 0;
  }
  return 1;
}

static void close_all(sb_service_t *s) {
  if (s->on_close)
    s->on_close(s, s->hook_arg);
  uv_close((uv_handle_t *)&s->sigint, NULL);
  uv_close((uv_handle_t *)&s->sigterm, NULL);
  uv_close((uv_handle_t *)&s->drain_timer, NULL);
  sb_admin_destroy(&s->admin);
  sb_redis_destroy(&s->redis);
  sb_zap_destroy(&s->zap); /* after on_close closed the CURVE sockets */
}

static void on_drain_timer(uv_timer_t *t) {
  sb_service_t *s = t->data;
  int drained = !s->drained || s->drained(s, s->hook_arg);
  if (!drained && sb_now_ms() < s->stop_deadline_ms)
    return;
  if (!drained)
    sb_log(SB_LOG_WARN, "drain_timeout", NULL);
  uv_timer_stop(t);
  sb_log(SB_LOG_INFO, "stopped", NULL);
  close_all(s);
}

void sb_service_stop(sb_service_t *s) {
  if (s->stopping)
    return;
  s->stopping = 1;
  s->stop_deadline_ms = sb_now_ms() + sb_config_int(s->config, "drain-timeout-ms");
  sb_log(SB_LOG_INFO, "stopping", NULL);
  if (s->on_stop)
    s->on_stop(s, s->hook_arg);
  uv_timer_start(&s->drain_timer, on_drain_timer, 0, SB_DRAIN_CHECK_MS);
}

static void on_signal(uv_signal_t *h, int signum) {
  sb_service_t *s = h->data;
  (void)signum;
  if (s->stopping) {
    sb_log(SB_LOG_WARN, "second_signal_stop_now", NULL);
    s->stop_deadline_ms = 0; /* the drain timer closes everything now */
    return;
  }
  sb_service_stop(s);
}

int sb_service_port(const sb_service_t *s, int base) {
  return base + (int)sb_config_int(s->config, "port-offset");
}

void sb_service_endpoint(const sb_service_t *s, const char *option, int base, char *out,
                         size_t cap) {
  const char *v = sb_config_str(s->config, option);
  if (*v)
    snprintf(out, cap, "%s", v);
  else
    snprintf(out, cap, "tcp://%s:%d", sb_config_str(s->config, "host"), sb_service_port(s, base));
}

const sb_tenant_t *sb_service_tenant(const sb_service_t *s, const char *id) {
  return id ? sb_tenants_find(s->tenants, id, strlen(id)) : NULL;
}

#define SB_OPTION_TABLES_MAX 8

static int load_config(sb_service_t *s, const sb_option_t *const *extra, int argc, char **argv) {
  const sb_option_t *tables[SB_OPTION_TABLES_MAX + 3] = {sb_service_options, sb_curve_options};
  for (int i = 0; extra && extra[i] && i < SB_OPTION_TABLES_MAX; i++)
    tables[i + 2] = extra[i];
  char err[SB_ERRBUF];
  snprintf(s->program, sizeof s->program, "sb-%s", s->name);
  s->config = sb_config_new(s->program, tables);
  if (!s->config)
    return SB_ENOMEM;
  int rc = sb_config_load(s->config, argc, argv, err, sizeof err);
  if (rc < 0)
    fprintf(stderr, "sb-%s: %s\n", s->name, err);
  if (rc != SB_CONFIG_RUN)
    return rc;
  int level = sb_log_level_parse(sb_config_str(s->config, "log-level"));
  if (level < 0) {
    fprintf(stderr, "sb-%s: --log-level must be debug, info, warn, error or off\n", s->name);
    return SB_ECONFIG;
  }
  sb_log_init(s->name, (sb_log_level_t)level);
  const char *path = sb_config_str(s->config, "tenants");
  if (!*path) {
    fprintf(stderr, "sb-%s: no tenant configuration: set --tenants FILE or SB_TENANTS\n", s->name);
    return SB_ECONFIG;
  }
  s->tenants = sb_tenants_load(path, err, sizeof err);
  if (!s->tenants) {
    fprintf(stderr, "sb-%s: %s\n", s->name, err);
    return SB_ECONFIG;
  }
  return SB_CONFIG_RUN;
}

/* CURVE keys and the ZAP handler, when --curve-secret-key-file is set. */
static int start_curve(sb_service_t *s) {
  char err[SB_ERRBUF];
  if (sb_curve_from_config(s->config, &s->curve, err, sizeof err) != 0) {
    fprintf(stderr, "sb-%s: %s\n", s->name, err);
    return SB_ECONFIG;
  }
  if (!s->curve)
    return 0;
  s->zap = sb_zap_new(s->loop, s->zctx, s->curve, s->metrics);
  if (!s->zap) {
    fprintf(stderr, "sb-%s: cannot start the ZAP handler\n", s->name);
    return SB_EZMQ;
  }
  char n[24];
  snprintf(n, sizeof n, "%zu", sb_curve_nclients(s->curve));
  sb_log(SB_LOG_INFO, "curve_on", "allowed_clients", n, NULL);
  return 0;
}

static int start_runtime(sb_service_t *s) {
  sb_redis_opts_t ro;
  sb_redis_opts_default(&ro);
  ro.command_timeout_ms = (uint64_t)sb_config_int(s->config, "redis-timeout-ms");
  s->redis = sb_redis_new(s->loop, sb_config_str(s->config, "redis-url"), &ro);
  if (!s->redis) {
    fprintf(stderr, "sb-%s: bad --redis-url '%s'\n", s->name, sb_config_str(s->config, "redis-url"));
    return SB_ECONFIG;
  }
  s->metrics = sb_metrics_new(s->name);
  s->admin = sb_admin_new(s->loop, s->metrics, service_ready, s);
  int port = (int)sb_config_int(s->config, "admin-port");
  if (port == 0)
    port = sb_service_port(s, s->admin_base_port);
  if (!s->metrics || !s->admin || sb_admin_listen(s->admin, sb_config_str(s->config, "host"), port)) {
    fprintf(stderr, "sb-%s: cannot serve admin endpoint on port %d\n", s->name, port);
    return SB_EIO;
  }
  s->zctx = zmq_ctx_new();
  if (start_curve(s) != 0)
    return SB_ECONFIG;
  uv_signal_init(s->loop, &s->sigint);
  uv_signal_init(s->loop, &s->sigterm);
  uv_timer_init(s->loop, &s->drain_timer);
  s->sigint.data = s->sigterm.data = s->drain_timer.data = s;
  uv_signal_start(&s->sigint, on_signal, SIGINT);
  uv_signal_start(&s->sigterm, on_signal, SIGTERM);
  char portbuf[16];
  snprintf(portbuf, sizeof portbuf, "%d", port);
  sb_log(SB_LOG_INFO, "started", "admin_port", portbuf, "redis", sb_config_str(s->config, "redis-url"),
         NULL);
  return 0;
}

int sb_service_init(sb_service_t *s, const char *name, int admin_base_port,
                    const sb_option_t *const *extra, int argc, char **argv) {
  memset(s, 0, sizeof *s);
  s->name = name;
  s->admin_base_port = admin_base_port;
  s->loop = uv_default_loop();
  int rc = load_config(s, extra, argc, argv);
  if (rc != SB_CONFIG_RUN)
    return rc;
  return start_runtime(s);
}

int sb_service_run(sb_service_t *s) {
  uv_run(s->loop, UV_RUN_DEFAULT);
  return 0;
}

void sb_service_fini(sb_service_t *s) {
  sb_zap_destroy(&s->zap);
  if (s->zctx)
    zmq_ctx_term(s->zctx);
  s->zctx = NULL;
  sb_curve_destroy(&s->curve);
  if (s->loop)
    uv_loop_close(s->loop);
  sb_metrics_destroy(&s->metrics);
  sb_tenants_destroy(&s->tenants);
  sb_config_destroy(&s->config);
}
