/*
 * sb-notify: tells everyone who needs to know. This first slice publishes
 * every committed envelope on the ZeroMQ PUB feed (sb_feed). A thin main
 * over sb_stage; notify is the last stage, so it records no next lease.
 */
#include "sb_feed.h"
#include "sb_script.h"
#include "sb_stage.h"

#include <stdio.h>

typedef struct {
  sb_feed_t *feed;
} notify_t;

static const sb_option_t notify_options[] = {
    {"feed", SB_OPT_STR, "", "PUB feed endpoint to bind; default tcp://host:5556+offset"},
    {NULL, 0, NULL, NULL}};

/* The envelope is decoded from what was committed: it includes the
 * script's suffix (none for notify, but keep the contract). */
static void committed(void *ctx, sb_stage_item_t *it, const uint8_t *blob, size_t len) {
  notify_t *n = ctx;
  sb_feed_publish(n->feed, it->env, blob, len);
}

static int start(void *ctx, sb_service_t *s, sb_handoff_t *out) {
  notify_t *n = ctx;
  char ep[256];
  (void)out;
  sb_service_endpoint(s, "feed", SB_PORT_NOTIFY_PUB, ep, sizeof ep);
  n->feed = sb_feed_new(s, ep);
  return n->feed ? 0 : -1;
}

static void close_feed(void *ctx) { sb_feed_destroy(&((notify_t *)ctx)->feed); }

static const sb_stage_ops_t notify_ops = {
    .name = "notify",
    .lease_in = "notify",
    .stat = "notified",
    .script_name = "notify",
    .script_body = sb_script_handoff,
    .committed = committed,
};

int main(int argc, char **argv) {
  notify_t n = {0};
  const sb_stage_main_t m = {
      .service = "notify",
      .admin_port = SB_PORT_ADMIN_NOTIFY,
      .listen_port = SB_PORT_NOTIFY_IN,
      .options = notify_options,
      .ops = &notify_ops,
      .ctx = &n,
      .start = start,
      .close = close_feed,
  };
  return sb_stage_main(&m, argc, argv);
}
