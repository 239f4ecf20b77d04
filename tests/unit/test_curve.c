/*
 * sb_curve + sb_zap: ZeroMQ CURVE between sb_zsock sockets on a libuv loop,
 * over real TCP on loopback.
 * - key files and allow-lists parse strictly (a bad line is an error);
 * - a CURVE pair whose client key is listed exchanges every message;
 * - a client with an unlisted key, without CURVE, or with the wrong server
 *   key gets nothing through, and the server counts the refusal in
 *   sb_zmq_auth_rejected_total;
 * - sbctl's publisher connects as a CURVE client.
 * Skips (77) when libzmq has no CURVE.
 */
#include "sb_testutil.h"

#include "sb_curve.h"
#include "sb_error.h"
#include "sb_zap.h"
#include "sb_zsock.h"
#include "sbctl_client.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MESSAGES 200
#define REFUSED_WAIT_MS 5000 /* most time for a refusal to be counted */
#define SETTLE_MS 300        /* then this long for anything to get through */

typedef struct {
  char pub[41], sec[41];
} keypair_t;

static keypair_t keypair(void) {
  keypair_t k;
  assert_int_equal(zmq_curve_keypair(k.pub, k.sec), 0);
  return k;
}

/* A server side: loop, context, key set, ZAP handler, metrics, PULL. */
typedef struct {
  void *zctx;
  sb_curve_t *curve;
  sb_metrics_t *metrics;
  sb_zap_t *zap;
  sb_zsock_t *pull;
  keypair_t key;
  char ep[64];
  int received;
} server_t;

static void on_readable(sb_zsock_t *z, void *arg) {
  server_t *s = arg;
  zmq_msg_t part;
  size_t n;
  while (sb_zsock_recv(z, &part, 1, &n) == 0) {
    s->received++;
    zmq_msg_close(&part);
    if (s->received == MESSAGES)
      uv_stop(uv_default_loop());
  }
}

/* Runs the loop until the counter of reason passes floor (or the wait ends),
 * then a little longer so that anything let in would have arrived. */
static uint64_t rejected_metric(server_t *s, const char *reason);
static void run_until_rejected(server_t *s, const char *reason,
                               uint64_t floor) {
  for (int waited = 0;
       waited < REFUSED_WAIT_MS && rejected_metric(s, reason) <= floor;
       waited += 50)
    sb_test_run_loop_for(50);
  sb_test_run_loop_for(SETTLE_MS);
}

static void server_start(server_t *s, const char *allowed_pub) {
  memset(s, 0, sizeof *s);
  s->key = keypair();
  s->zctx = zmq_ctx_new();
  s->curve = sb_curve_new();
  s->metrics = sb_metrics_new("test");
  assert_int_equal(sb_curve_set_secret(s->curve, s->key.sec), 0);
  assert_int_equal(
      sb_curve_allow_text(s->curve, allowed_pub, strlen(allowed_pub)), 0);
  s->zap = sb_zap_new(uv_default_loop(), s->zctx, s->curve, s->metrics);
  assert_non_null(s->zap);
  s->pull = sb_zsock_new(uv_default_loop(), s->zctx, ZMQ_PULL);
  sb_zsock_set_curve(s->pull, s->curve);
  snprintf(s->ep, sizeof s->ep, "tcp://127.0.0.1:%d", sb_test_free_port());
  assert_int_equal(sb_zsock_bind(s->pull, s->ep), 0);
  sb_zsock_on_readable(s->pull, on_readable, s);
}

static uint64_t rejected_metric(server_t *s, const char *reason) {
  char labels[64];
  snprintf(labels, sizeof labels, "reason=\"%s\"", reason);
  return sb_counter_value(
      sb_metrics_counter(s->metrics, "sb_zmq_auth_rejected_total", "", labels));
}

static void server_stop(server_t *s) {
  sb_zsock_destroy(&s->pull);
  sb_zap_destroy(&s->zap);
  uv_run(uv_default_loop(), UV_RUN_NOWAIT);
  zmq_ctx_term(s->zctx);
  sb_curve_destroy(&s->curve);
  sb_metrics_destroy(&s->metrics);
}

/* A PUSH in its own context (a separate process, as far as ZAP goes) with
 * the given client keys (NULL curve: no CURVE); sends MESSAGES. */
static void push_all(void *zctx, const sb_curve_t *curve, const char *ep,
                     sb_zsock_t **out) {
  sb_zsock_t *push = sb_zsock_new(uv_default_loop(), zctx, ZMQ_PUSH);
  sb_zsock_set_curve(push, curve);
  assert_int_equal(sb_zsock_connect(push, ep), 0);
  for (int i = 0; i < MESSAGES; i++) {
    const void *parts[] = {&i};
    size_t len = sizeof i;
    assert_int_equal(sb_zsock_send(push, parts, &len, 1), 0);
  }
  *out = push;
}

static sb_curve_t *client_keys(const keypair_t *k, const char *server_pub) {
  sb_curve_t *c = sb_curve_new();
  assert_int_equal(sb_curve_set_secret(c, k->sec), 0);
  assert_int_equal(sb_curve_set_server_key(c, server_pub), 0);
  return c;
}

static void finish_client(void *zctx, sb_zsock_t **push, sb_curve_t **c) {
  sb_zsock_destroy(push);
  uv_run(uv_default_loop(), UV_RUN_NOWAIT);
  zmq_ctx_term(zctx);
  sb_curve_destroy(c);
}

static void allow_lists_parse_strictly(void **state) {
  (void)state;
  keypair_t a = keypair(), b = keypair();
  sb_curve_t *c = sb_curve_new();
  char text[256];
  snprintf(text, sizeof text, "# publishers\n\n  %s  \r\n# next\n%s", a.pub,
           b.pub);
  assert_int_equal(sb_curve_allow_text(c, text, strlen(text)), 0);
  assert_int_equal(sb_curve_nclients(c), 2);
  uint8_t raw[32];
  zmq_z85_decode(raw, b.pub);
  assert_true(sb_curve_allowed(c, raw));
  raw[0] ^= 1;
  assert_false(sb_curve_allowed(c, raw));
  snprintf(text, sizeof text, "%s\n%.39s\n", a.pub, b.pub); /* one short line */
  assert_int_equal(sb_curve_allow_text(c, text, strlen(text)), SB_EPARSE);
  snprintf(text, sizeof text, "%.39s~\n", a.pub); /* '~' is not Z85 */
  assert_int_equal(sb_curve_allow_text(c, text, strlen(text)), SB_EPARSE);
  assert_int_equal(sb_curve_nclients(c), 2); /* nothing added by a bad list */
  assert_false(sb_curve_enabled(c));
  assert_int_equal(sb_curve_set_secret(c, "not a key"), SB_EPARSE);
  assert_int_equal(sb_curve_set_secret(c, a.sec), 0);
  assert_true(sb_curve_enabled(c));
  assert_string_equal(sb_curve_public_z85(c),
                      a.pub); /* derived from the secret */
  sb_curve_destroy(&c);
  assert_null(c);
}

static void write_file(const char *path, const char *text) {
  FILE *f = fopen(path, "w");
  assert_non_null(f);
  fputs(text, f);
  fclose(f);
}

static void keys_come_from_files_named_by_options(void **state) {
  (void)state;
  keypair_t k = keypair(), other = keypair();
  char dir[] = "/tmp/sb-curve-XXXXXX", sec[64], pub[64], bad[64], clients[64],
       line[128];
  assert_non_null(mkdtemp(dir));
  snprintf(sec, sizeof sec, "%s/sec", dir);
  snprintf(pub, sizeof pub, "%s/pub", dir);
  snprintf(bad, sizeof bad, "%s/bad", dir);
  snprintf(clients, sizeof clients, "%s/clients", dir);
  snprintf(line, sizeof line, "# secret key\n%s\n", k.sec);
  write_file(sec, line);
  snprintf(line, sizeof line, "%s\n", k.pub);
  write_file(pub, line);
  snprintf(line, sizeof line, "%s\n", other.pub);
  write_file(bad, line);
  write_file(clients, line);
  const sb_option_t *const tables[] = {sb_curve_options, NULL};
  char a1[96], a2[96], a3[96], err[256];
  snprintf(a1, sizeof a1, "--curve-secret-key-file=%s", sec);
  snprintf(a2, sizeof a2, "--curve-public-key-file=%s", pub);
  snprintf(a3, sizeof a3, "--curve-clients-file=%s", clients);
  char *argv[] = {"t", a1, a2, a3};
  sb_config_t *cfg = sb_config_new("t", tables);
  assert_int_equal(sb_config_load(cfg, 4, argv, err, sizeof err),
                   SB_CONFIG_RUN);
  sb_curve_t *c = NULL;
  assert_int_equal(sb_curve_from_config(cfg, &c, err, sizeof err), 0);
  assert_non_null(c);
  assert_string_equal(sb_curve_public_z85(c), k.pub);
  assert_int_equal(sb_curve_nclients(c), 1);
  sb_curve_destroy(&c);
  sb_config_destroy(&cfg);
  /* a public key file that does not match the secret is refused */
  snprintf(a2, sizeof a2, "--curve-public-key-file=%s", bad);
  cfg = sb_config_new("t", tables);
  assert_int_equal(sb_config_load(cfg, 4, argv, err, sizeof err),
                   SB_CONFIG_RUN);
  assert_int_equal(sb_curve_from_config(cfg, &c, err, sizeof err), SB_ECONFIG);
  assert_null(c);
  assert_null(strstr(err, k.sec)); /* no key in the reason */
  sb_config_destroy(&cfg);
  /* no options: CURVE off */
  cfg = sb_config_new("t", tables);
  assert_int_equal(sb_config_load(cfg, 1, argv, err, sizeof err),
                   SB_CONFIG_RUN);
  assert_int_equal(sb_curve_from_config(cfg, &c, err, sizeof err), 0);
  assert_null(c);
  sb_config_destroy(&cfg);
  unlink(sec), unlink(pub), unlink(bad), unlink(clients), rmdir(dir);
}

static void a_listed_client_exchanges_every_message(void **state) {
  (void)state;
  keypair_t ck = keypair();
  server_t s;
  server_start(&s, ck.pub);
  void *cctx = zmq_ctx_new();
  sb_curve_t *cc = client_keys(&ck, s.key.pub);
  sb_zsock_t *push;
  push_all(cctx, cc, s.ep, &push);
  sb_test_run_loop_for(5000);
  assert_int_equal(s.received, MESSAGES);
  int mech = 0;
  size_t sz = sizeof mech;
  zmq_getsockopt(sb_zsock_raw(s.pull), ZMQ_MECHANISM, &mech, &sz);
  assert_int_equal(mech, ZMQ_CURVE);
  assert_true(sb_zap_accepted(s.zap) >= 1);
  assert_int_equal(sb_zap_rejected(s.zap), 0);
  finish_client(cctx, &push, &cc);
  server_stop(&s);
}

static void
an_unlisted_client_gets_nothing_through_and_is_counted(void **state) {
  (void)state;
  keypair_t listed = keypair(), stranger = keypair();
  server_t s;
  server_start(&s, listed.pub);
  void *cctx = zmq_ctx_new();
  sb_curve_t *cc = client_keys(&stranger, s.key.pub);
  sb_zsock_t *push;
  push_all(cctx, cc, s.ep, &push);
  run_until_rejected(&s, "unlisted_key", 0);
  assert_int_equal(s.received, 0);
  assert_int_equal(sb_zap_accepted(s.zap), 0);
  assert_true(sb_zap_rejected(s.zap) >= 1);
  assert_true(rejected_metric(&s, "unlisted_key") >= 1);
  finish_client(cctx, &push, &cc);
  server_stop(&s);
}

static void a_client_without_the_server_key_gets_nothing_through(void **state) {
  (void)state;
  keypair_t listed = keypair(), wrong_server = keypair();
  server_t s;
  server_start(&s, listed.pub);
  /* no CURVE at all */
  void *cctx = zmq_ctx_new();
  sb_zsock_t *push;
  push_all(cctx, NULL, s.ep, &push);
  run_until_rejected(&s, "handshake", 0);
  assert_int_equal(s.received, 0);
  assert_true(rejected_metric(&s, "handshake") >= 1);
  sb_curve_t *none = NULL;
  finish_client(cctx, &push, &none);
  /* a listed key, but the wrong server key: the server cannot read HELLO */
  uint64_t before = rejected_metric(&s, "handshake");
  cctx = zmq_ctx_new();
  sb_curve_t *cc = client_keys(&listed, wrong_server.pub);
  push_all(cctx, cc, s.ep, &push);
  run_until_rejected(&s, "handshake", before);
  assert_int_equal(s.received, 0);
  assert_true(rejected_metric(&s, "handshake") > before);
  assert_int_equal(sb_zap_accepted(s.zap), 0);
  finish_client(cctx, &push, &cc);
  server_stop(&s);
}

static void sbctl_publishes_as_a_curve_client(void **state) {
  (void)state;
  keypair_t ck = keypair();
  server_t s;
  server_start(&s, ck.pub);
  /* ingest's door is a ROUTER: swap the PULL for one */
  sb_zsock_destroy(&s.pull);
  void *router = zmq_socket(s.zctx, ZMQ_ROUTER);
  assert_int_equal(sb_curve_server(s.curve, router), 0);
  snprintf(s.ep, sizeof s.ep, "tcp://127.0.0.1:%d", sb_test_free_port());
  assert_int_equal(zmq_bind(router, s.ep), 0);
  void *cctx = zmq_ctx_new();
  sb_curve_t *cc = client_keys(&ck, s.key.pub);
  sbctl_client_t *cl = sbctl_client_new_curve(cctx, s.ep, cc);
  assert_non_null(cl);
  assert_int_equal(zmq_send(sbctl_client_socket(cl), "hello", 5, 0), 5);
  int got = 0;
  for (int i = 0; i < 50 && !got; i++) {
    sb_test_run_loop_for(50); /* the ZAP handler answers from the loop */
    zmq_msg_t m;
    zmq_msg_init(&m);
    while (zmq_msg_recv(&m, router, ZMQ_DONTWAIT) >= 0)
      got += zmq_msg_size(&m) == 5 && memcmp(zmq_msg_data(&m), "hello", 5) == 0;
    zmq_msg_close(&m);
  }
  assert_int_equal(got, 1);
  assert_true(sb_zap_accepted(s.zap) >= 1);
  sbctl_client_destroy(&cl);
  zmq_ctx_term(cctx);
  sb_curve_destroy(&cc);
  zmq_close(router);
  server_stop(&s);
}

int main(void) {
  if (!sb_curve_available()) {
    fprintf(stderr, "libzmq has no CURVE: skipped\n");
    return 77;
  }
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(allow_lists_parse_strictly),
      cmocka_unit_test(keys_come_from_files_named_by_options),
      cmocka_unit_test(a_listed_client_exchanges_every_message),
      cmocka_unit_test(an_unlisted_client_gets_nothing_through_and_is_counted),
      cmocka_unit_test(a_client_without_the_server_key_gets_nothing_through),
      cmocka_unit_test(sbctl_publishes_as_a_curve_client),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
