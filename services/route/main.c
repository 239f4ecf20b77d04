/*
 * sb-route: the ACD. Queues chosen by each tenant's rules on what classify
 * found, agents qualified by skills, five strategies, capacity in units,
 * fairness windows and transfers, every decision atomic in Redis
 * (route.lua). A thin main over sb_stage and sb_route.
 *
 * SIGHUP re-reads the tenant file's "route" sections (queues, rules,
 * roster, windows) and swaps them in when all compile (sb_route_reload);
 * otherwise the running ones stay, the reason is logged
 * (route_reload_failed) and sb_route_reloads_total{result="failed"} counts
 * it. Compiling is fast (no regex), so it runs on the loop.
 */
#include "sb_log.h"
#include "sb_route.h"
#include "sb_route_tick.h"
#include "sb_time.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>

typedef struct {
  sb_service_t *s;
  sb_histogram_t *assign_latency;
  sb_route_t *route;
  sb_route_tick_t *tick;
  uv_signal_t sighup;
  int sighup_open;
  sb_counter_t *reloads_ok, *reloads_failed;
} route_t;

static const sb_option_t route_options[] = {
    {"offer-tick-ms", SB_OPT_INT, "250", "how often expired offers are looked for (at the latest)"},
    {NULL, 0, NULL, NULL},
};

static int prepare(void *ctx, sb_stage_item_t *it, const char **why) {
  route_t *r = ctx;
  return sb_route_prepare(r->route, it, why);
}

/* publish-to-assigned latency, for envelopes that carry a publish time */
static void committed(void *ctx, sb_stage_item_t *it, const uint8_t *blob, size_t len) {
  route_t *r = ctx;
  if (!it->env->published_us || it->env->body_case != SWITCHBOARD__V1__ENVELOPE__BODY_INTERACTION)
    return;
  sb_envelope_t *out = sb_envelope_unpack(blob, len);
  if (out && out->routing && out->routing->outcome == SWITCHBOARD__V1__ROUTE_OUTCOME__ROUTE_ASSIGNED &&
      out->routing->decided_us > it->env->published_us)
    sb_histogram_record(r->assign_latency, (uint64_t)(out->routing->decided_us - it->env->published_us));
  sb_envelope_free(out);
}

static void on_sighup(uv_signal_t *h, int signum) {
  route_t *r = h->data;
  char err[512] = "", skipped_s[16];
  int skipped = 0;
  (void)signum;
  const char *path = sb_config_str(r->s->config, "tenants");
  if (sb_route_reload(r->route, path, &skipped, err, sizeof err) == 0) {
    sb_counter_add(r->reloads_ok, 1);
    snprintf(skipped_s, sizeof skipped_s, "%d", skipped);
    /* tenants added or removed: the rest reloaded, those need a restart */
    sb_log(skipped ? SB_LOG_WARN : SB_LOG_INFO, "route_reloaded", "file", path,
           "tenants_needing_restart", skipped_s, NULL);
  } else {
    sb_counter_add(r->reloads_failed, 1);
    sb_log(SB_LOG_ERROR, "route_reload_failed", "why", err, "kept", "previous configuration", NULL);
  }
}

static int start(void *ctx, sb_service_t *s, sb_handoff_t *out) {
  route_t *r = ctx;
  char err[256];
  r->s = s;
  if (!(r->route = sb_route_new(s->tenants, err, sizeof err))) {
    fprintf(stderr, "sb-route: %s\n", err);
    return -1;
  }
  r->assign_latency = sb_metrics_histogram(s->metrics, "sb_route_publish_to_assigned_seconds",
                                           "from the publisher's send to the assignment", NULL);
  r->reloads_ok = sb_metrics_counter(s->metrics, "sb_route_reloads_total",
                                     "route configuration reloads (SIGHUP) by result", "result=\"ok\"");
  r->reloads_failed = sb_metrics_counter(s->metrics, "sb_route_reloads_total",
                                         "route configuration reloads (SIGHUP) by result",
                                         "result=\"failed\"");
  r->tick = sb_route_tick_new(s, r->route, out);
  if (!r->assign_latency || !r->tick || !r->reloads_ok || !r->reloads_failed)
    return -1;
  if (uv_signal_init(s->loop, &r->sighup) || uv_signal_start(&r->sighup, on_sighup, SIGHUP))
    return -1;
  r->sighup.data = r;
  r->sighup_open = 1;
  uv_unref((uv_handle_t *)&r->sighup); /* never keeps the loop from ending */
  return 0;
}

static void stop(void *ctx) { sb_route_tick_stop(((route_t *)ctx)->tick); }
static int drained(void *ctx) { return sb_route_tick_idle(((route_t *)ctx)->tick); }
static void close_route(void *ctx) {
  route_t *r = ctx;
  if (r->sighup_open) {
    r->sighup_open = 0;
    uv_close((uv_handle_t *)&r->sighup, NULL);
  }
  sb_route_tick_destroy(&r->tick);
}

static sb_stage_ops_t route_ops = {
    .name = "route",
    .lease_in = "route",
    .stat = "routed",
    .script_name = "route",
    .script_body = NULL, /* route_lib.lua + route.lua, made in main */
    .nextra = SB_ROUTE_NEXTRA,
    .prepare = prepare,
    .committed = committed,
};

int main(int argc, char **argv) {
  route_t r = {0};
  char *script = sb_route_script(sb_script_route);
  if (!script)
    return 1;
  route_ops.script_body = script;
  const sb_stage_main_t m = {
      .service = "route",
      .admin_port = SB_PORT_ADMIN_ROUTE,
      .listen_port = SB_PORT_ROUTE_IN,
      .next_lease = "sla",
      .next_port = SB_PORT_SLA_IN,
      .ops = &route_ops,
      .options = route_options,
      .ctx = &r,
      .start = start,
      .stop = stop,
      .drained = drained,
      .close = close_route,
  };
  int rc = sb_stage_main(&m, argc, argv);
  sb_route_destroy(&r.route);
  free(script);
  return rc;
}
