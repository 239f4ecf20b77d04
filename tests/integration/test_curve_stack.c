/*
 * The whole bus with ZeroMQ CURVE between the stages (one bus key pair from
 * SB_CURVE_SECRET_KEY_FILE, the allow-list from SB_CURVE_CLIENTS_FILE, both
 * inherited by the five services):
 * - messages published at ingest are routed, no lease left open (every
 *   internal hop, ingest -> classify -> route -> notify/sla, is CURVE);
 * - a PUSH without keys, and one with an unlisted key pair, connected to
 *   classify's hand-off port get nothing in (routed count unchanged), and
 *   classify's /metrics counts them in sb_zmq_auth_rejected_total.
 * Skips (77) when libzmq has no CURVE.
 */
#include "sb_teststack.h"
#include "sb_testutil.h"

#include "sb_curve.h"
#include "sb_envelope.h"
#include "sb_service.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zmq.h>

#define MESSAGES 50
#define ROGUE_WAIT_US 1500000

static char dir[] = "/tmp/sb-curve-stack-XXXXXX";

static void write_key(const char *name, const char *text, char *path,
                      size_t cap) {
  snprintf(path, cap, "%s/%s", dir, name);
  FILE *f = fopen(path, "w");
  assert_non_null(f);
  fprintf(f, "%s\n", text);
  fclose(f);
}

/* Sends a few raw frames to classify's PULL port from a fresh context. */
static void rogue_push(int offset, const char *client_secret,
                       const char *client_public, const char *server_public) {
  void *zctx = zmq_ctx_new(), *s = zmq_socket(zctx, ZMQ_PUSH);
  int linger = 0;
  zmq_setsockopt(s, ZMQ_LINGER, &linger, sizeof linger);
  if (client_secret) {
    zmq_setsockopt(s, ZMQ_CURVE_SERVERKEY, server_public, 41);
    zmq_setsockopt(s, ZMQ_CURVE_PUBLICKEY, client_public, 41);
    zmq_setsockopt(s, ZMQ_CURVE_SECRETKEY, client_secret, 41);
  }
  char ep[64];
  snprintf(ep, sizeof ep, "tcp://127.0.0.1:%d", SB_PORT_CLASSIFY_IN + offset);
  assert_int_equal(zmq_connect(s, ep), 0);
  for (int i = 0; i < 5; i++)
    zmq_send(s, "garbage", 7, ZMQ_DONTWAIT);
  usleep(ROGUE_WAIT_US);
  zmq_close(s);
  zmq_ctx_term(zctx);
}

static long long metric(sb_teststack_t *st, const char *reason) {
  static char body[1 << 17];
  int status = sb_teststack_http(st, SB_PORT_ADMIN_CLASSIFY, "GET", "/metrics",
                                 NULL, NULL, 0, body, sizeof body);
  assert_int_equal(status, 200);
  char want[128];
  snprintf(want, sizeof want,
           "sb_zmq_auth_rejected_total{service=\"classify\",reason=\"%s\"}",
           reason);
  const char *p = strstr(body, want);
  if (!p) {
    const char *q = strstr(body, "sb_zmq");
    fprintf(stderr, "no %s in /metrics (%.300s)\n", want,
            q ? q : "no sb_zmq metric");
    return 0;
  }
  p = strchr(p, '}');
  return p ? atoll(p + 1) : 0;
}

/* The counter once it is at least 1, or after 5 s. */
static long long wait_metric(sb_teststack_t *st, const char *reason) {
  long long v = 0;
  for (int i = 0; i < 50 && (v = metric(st, reason)) < 1; i++)
    usleep(100000);
  return v;
}

static void the_bus_runs_on_curve_and_turns_strangers_away(void **state) {
  (void)state;
  assert_non_null(mkdtemp(dir));
  char bus_pub[41], bus_sec[41], cli_pub[41], cli_sec[41];
  assert_int_equal(zmq_curve_keypair(bus_pub, bus_sec), 0);
  assert_int_equal(zmq_curve_keypair(cli_pub, cli_sec), 0);
  char sec_path[128], pub_path[128], clients_path[128];
  write_key("bus.key", bus_sec, sec_path, sizeof sec_path);
  write_key("bus.pub", bus_pub, pub_path, sizeof pub_path);
  write_key("clients", bus_pub, clients_path,
            sizeof clients_path); /* only the bus itself */
  setenv("SB_CURVE_SECRET_KEY_FILE", sec_path, 1);
  setenv("SB_CURVE_PUBLIC_KEY_FILE", pub_path, 1);
  setenv("SB_CURVE_CLIENTS_FILE", clients_path, 1);
  sb_teststack_t *st = sb_teststack_start(NULL, NULL);
  assert_non_null(st);
  const char *tenant = sb_tenants_at(sb_teststack_tenants(st), 0)->id;
  for (int i = 0; i < MESSAGES; i++) {
    char id[32], customer[32];
    snprintf(id, sizeof id, "curve-%d", i);
    snprintf(customer, sizeof customer, "c-%d", i);
    sb_envelope_t *env = sb_teststack_message(st, tenant, id, "webchat",
                                              customer, "where is my order?");
    assert_non_null(env);
    sbctl_client_queue(sb_teststack_client(st), env);
  }
  assert_int_equal(sb_teststack_publish_all(st, 20000), 0);
  sbctl_stats_t s;
  assert_int_equal(sb_teststack_wait_drained(st, MESSAGES, 20000, &s), 0);
  long long routed = s.routed_messages;

  rogue_push(sb_teststack_offset(st), NULL, NULL, NULL); /* no CURVE */
  assert_true(wait_metric(st, "handshake") >= 1);
  rogue_push(sb_teststack_offset(st), cli_sec, cli_pub,
             bus_pub); /* unlisted key */
  assert_true(wait_metric(st, "unlisted_key") >= 1);
  assert_int_equal(sb_teststack_wait_drained(st, MESSAGES, 5000, &s), 0);
  assert_int_equal(s.routed_messages, routed); /* nothing of theirs got in */
  assert_int_equal(s.dead_letters, 0);         /* not even as bad input */

  sb_teststack_stop(&st);
  unsetenv("SB_CURVE_SECRET_KEY_FILE");
  unsetenv("SB_CURVE_PUBLIC_KEY_FILE");
  unsetenv("SB_CURVE_CLIENTS_FILE");
  unlink(sec_path), unlink(pub_path), unlink(clients_path), rmdir(dir);
}

int main(void) {
  if (!sb_curve_available()) {
    fprintf(stderr, "libzmq has no CURVE: skipped\n");
    return 77;
  }
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(the_bus_runs_on_curve_and_turns_strangers_away),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
