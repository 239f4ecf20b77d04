/*
 * sb-sla-timer: arms, re-arms, pauses, stops and fires service-level
 * timers from the tenants' policies (sb_sla, sb_sla_policy, sb_calendar,
 * sb_sla_firer, sb_sla_rearm), hands every event on to notify, and
 * publishes each tenant's service level
 * (sb_sla_level, sb_service_level) and reports stuck queues
 * (sb_sla_stuck). A thin main over sb_stage.
 */
#include "sb_error.h"
#include "sb_sla.h"
#include "sb_sla_firer.h"
#include "sb_sla_level.h"
#include "sb_sla_stuck.h"

#include <stdio.h>

typedef struct {
  sb_sla_t *policies;
  sb_sla_firer_t *firer;
  sb_sla_level_t *level;
  sb_sla_stuck_t *stuck;
} sla_t;

static const sb_option_t sla_options[] = {
    {"service-level-s", SB_OPT_INT, SB_SLA_LEVEL_PERIOD_S,
     "how often each tenant's service level is published (seconds; 0: never)"},
    {"service-level-window-s", SB_OPT_INT, SB_SLA_LEVEL_WINDOW_S,
     "the published service level covers first responses of this many last seconds"},
    {"stuck-check-ms", SB_OPT_INT, SB_SLA_STUCK_CHECK_MS,
     "how often queues with sla.stuck are checked for a head waiting too long (ms; 0: never)"},
    {NULL, 0, NULL, NULL}};

static int prepare(void *ctx, sb_stage_item_t *it, const char **why) {
  return sb_sla_prepare(((sla_t *)ctx)->policies, it, why);
}

/* a committed event may have armed a timer or a rearm task */
static void committed(void *ctx, sb_stage_item_t *it, const uint8_t *blob, size_t len) {
  (void)blob;
  (void)len;
  sb_sla_firer_touch(((sla_t *)ctx)->firer, it->tenant);
}

static int start(void *ctx, sb_service_t *s, sb_handoff_t *out) {
  sla_t *sla = ctx;
  char err[512];
  sla->policies = sb_sla_new(s->tenants, err, sizeof err);
  if (!sla->policies) {
    fprintf(stderr, "sb-sla-timer: %s\n", err);
    return SB_ECONFIG;
  }
  sla->firer = sb_sla_firer_new(s, out, sla->policies);
  sla->level = sla->firer ? sb_sla_level_new(s, out) : NULL;
  sla->stuck = sla->level ? sb_sla_stuck_new(s, out, sla->policies) : NULL;
  return sla->stuck ? 0 : SB_ENOMEM;
}
static void stop(void *ctx) {
  sla_t *sla = ctx;
  sb_sla_firer_stop(sla->firer);
  sb_sla_level_stop(sla->level);
  sb_sla_stuck_stop(sla->stuck);
}
static int drained(void *ctx) {
  sla_t *sla = ctx;
  return sb_sla_firer_idle(sla->firer) && sb_sla_level_idle(sla->level) && sb_sla_stuck_idle(sla->stuck);
}
static void close_firer(void *ctx) {
  sla_t *sla = ctx;
  sb_sla_level_destroy(&sla->level);
  sb_sla_stuck_destroy(&sla->stuck);
  sb_sla_firer_destroy(&sla->firer);
  sb_sla_destroy(&sla->policies);
}

static const sb_stage_ops_t sla_ops = {
    .name = "sla-timer",
    .lease_in = "sla",
    .stat = "sla_seen",
    .script_name = "sla_arm",
    .script_body = sb_script_sla_arm,
    .nextra = SB_SLA_NEXTRA,
    .prepare = prepare,
    .committed = committed,
};

int main(int argc, char **argv) {
  sla_t sla = {0};
  const sb_stage_main_t m = {
      .service = "sla-timer",
      .admin_port = SB_PORT_ADMIN_SLA,
      .listen_port = SB_PORT_SLA_IN,
      .next_lease = "notify",
      .next_port = SB_PORT_NOTIFY_IN,
      .options = sla_options,
      .ops = &sla_ops,
      .ctx = &sla,
      .start = start,
      .stop = stop,
      .drained = drained,
      .close = close_firer,
  };
  return sb_stage_main(&m, argc, argv);
}
