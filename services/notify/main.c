/*
 * sb-notify: tells everyone who needs to know. Publishes every committed
 * envelope on the ZeroMQ PUB feed (sb_feed) and delivers signed webhooks to
 * the tenants' endpoints (sb_outbox). A thin main over sb_stage; notify is
 * the last stage, so it records no next lease: its commit script
 * (notify.lua) clears the notify lease and records the event's webhook
 * deliveries and customer messages (sb_channel_send: agents' replies,
 * acknowledgements, private-channel redirects) in one step.
 */
#include "sb_channel_send.h"
#include "sb_feed.h"
#include "sb_outbox.h"
#include "sb_script.h"
#include "sb_stage.h"

#include <stdio.h>

typedef struct {
  sb_feed_t *feed;
  sb_outbox_t *outbox;
  sb_channel_send_t *out; /* customer messages */
} notify_t;

static const sb_option_t notify_options[] = {
    {"feed", SB_OPT_STR, "", "PUB feed endpoint to bind; default tcp://host:5556+offset"},
    {"hooks-poll-ms", SB_OPT_INT, "1000",
     "how often each webhook endpoint's queue is looked at when nothing is known to be due"},
    {"feed-history", SB_OPT_INT, SB_FEED_HISTORY_DEFAULT,
     "feed events kept per topic in Redis for subscribers that missed some (0: none)"},
    SB_CURVE_EDGE_OPTIONS, /* the feed's CURVE (sb_feed.h) */
    {NULL, 0, NULL, NULL}};

static int prepare(void *ctx, sb_stage_item_t *it, const char **why) {
  notify_t *n = ctx;
  int rc = n->outbox ? sb_outbox_prepare(n->outbox, it, why) : 0;
  while (rc == 0 && it->nextra < SB_OUTBOX_NEXTRA) /* the feed's arguments follow the outbox's */
    sb_stage_item_arg(it, "");
  if (rc == 0)
    sb_feed_prepare(n->feed, it);
  if (rc == 0) /* the outbound arguments follow the feed's */
    rc = sb_channel_send_prepare(n->out, it, why);
  return rc;
}

/* The envelope is decoded from what was committed: it includes the
 * script's suffix (none for notify, but keep the contract). */
static void committed(void *ctx, sb_stage_item_t *it, const uint8_t *blob, size_t len) {
  notify_t *n = ctx;
  sb_feed_publish(n->feed, it->env, blob, len);
  if (n->outbox)
    sb_outbox_committed(n->outbox, it);
  sb_channel_send_committed(n->out, it);
}

static int start(void *ctx, sb_service_t *s, sb_handoff_t *out) {
  notify_t *n = ctx;
  char ep[256], err[512];
  (void)out;
  n->outbox = sb_outbox_new(s, err, sizeof err);
  if (!n->outbox) {
    fprintf(stderr, "sb-notify: webhooks: %s\n", err);
    return -1;
  }
  n->out = sb_channel_send_new(s, err, sizeof err);
  if (!n->out) {
    fprintf(stderr, "sb-notify: outbound: %s\n", err);
    return -1;
  }
  sb_service_endpoint(s, "feed", SB_PORT_NOTIFY_PUB, ep, sizeof ep);
  n->feed = sb_feed_new(s, ep);
  return n->feed ? 0 : -1;
}

static void stop(void *ctx) {
  notify_t *n = ctx;
  sb_outbox_stop(n->outbox);
  sb_channel_send_stop(n->out);
}

static int drained(void *ctx) {
  notify_t *n = ctx;
  return sb_outbox_idle(n->outbox) && sb_channel_send_idle(n->out);
}

static void close_all(void *ctx) {
  notify_t *n = ctx;
  sb_outbox_destroy(&n->outbox);
  sb_channel_send_destroy(&n->out);
  sb_feed_destroy(&n->feed);
}

static const sb_stage_ops_t notify_ops = {
    .name = "notify",
    .lease_in = "notify",
    .stat = "notified",
    .script_name = "notify",
    .script_body = sb_script_notify,
    .nextra = SB_OUTBOX_NEXTRA + SB_FEED_NEXTRA + SB_CHANNEL_NEXTRA,
    .prepare = prepare,
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
      .stop = stop,
      .drained = drained,
      .close = close_all,
  };
  return sb_stage_main(&m, argc, argv);
}
