/*
 * sb_peers: a PUSH socket follows an endpoint file and DNS, over real TCP
 * on loopback. Receivers listed in the file get messages; one added to the
 * file starts getting them after a refresh; one removed is disconnected
 * (and the removed callback runs); an unreadable file keeps the set;
 * "localhost" resolves; malformed specs are refused with a reason.
 */
#include "sb_testutil.h"

#include "sb_error.h"
#include "sb_peers.h"
#include "sb_zsock.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef struct {
  int received;
} sink_t;

static void on_readable(sb_zsock_t *z, void *arg) {
  sink_t *s = arg;
  zmq_msg_t part;
  size_t n;
  while (sb_zsock_recv(z, &part, 1, &n) == 0) {
    s->received++;
    zmq_msg_close(&part);
  }
}

/* Runs the loop until the peers' count is want (or 5 s). */
static size_t wait_count(sb_peers_t *p, size_t want) {
  for (int i = 0; i < 100 && sb_peers_count(p) != want; i++)
    sb_test_run_loop_for(50);
  return sb_peers_count(p);
}

static void send_n(sb_zsock_t *push, int n) {
  for (int i = 0; i < n; i++) {
    const void *parts[] = {&i};
    size_t len = sizeof i;
    assert_int_equal(sb_zsock_send(push, parts, &len, 1), 0);
  }
}

static int removed_calls;
static void on_removed(void *arg) {
  (void)arg;
  removed_calls++;
}

static void write_list(const char *path, const char *a, const char *b) {
  char text[512];
  snprintf(text, sizeof text, "# receivers\n%s\n\n  %s  # the second\n", a, b ? b : "");
  sb_test_write_file(path, text);
}

static void an_endpoint_file_is_followed(void **state) {
  (void)state;
  uv_loop_t *loop = uv_default_loop();
  void *zctx = zmq_ctx_new();
  char ep[3][64], path[] = "/tmp/sb-test-peers-XXXXXX", spec[80];
  sink_t sink[3] = {{0}};
  sb_zsock_t *pull[3];
  for (int i = 0; i < 3; i++) {
    snprintf(ep[i], sizeof ep[i], "tcp://127.0.0.1:%d", sb_test_free_port());
    pull[i] = sb_zsock_new(loop, zctx, ZMQ_PULL);
    assert_int_equal(sb_zsock_bind(pull[i], ep[i]), 0);
    sb_zsock_on_readable(pull[i], on_readable, &sink[i]);
  }
  int fd = mkstemp(path);
  assert_true(fd >= 0);
  close(fd);
  write_list(path, ep[0], ep[1]);
  snprintf(spec, sizeof spec, "@%s", path);
  sb_zsock_t *push = sb_zsock_new(loop, zctx, ZMQ_PUSH);
  sb_peers_opts_t o = {.refresh_ms = 100, .removed = on_removed};
  const char *why = NULL;
  sb_peers_t *p = sb_peers_new(loop, push, spec, &o, &why);
  assert_non_null(p);
  assert_int_equal(wait_count(p, 2), 2);
  sb_test_run_loop_for(200); /* both connections up before sending, so both get some */
  send_n(push, 100);
  sb_test_run_loop_for(300);
  assert_int_equal(sink[0].received + sink[1].received, 100);
  assert_true(sink[0].received > 0 && sink[1].received > 0);
  assert_int_equal(sink[2].received, 0);

  /* a third joins: it gets its share once discovered */
  write_list(path, ep[1], ep[2]); /* and the first leaves */
  assert_int_equal(wait_count(p, 2), 2);
  sb_test_run_loop_for(300);
  assert_int_equal(removed_calls, 1);
  int before0 = sink[0].received;
  send_n(push, 100);
  sb_test_run_loop_for(300);
  assert_int_equal(sink[0].received, before0); /* disconnected: nothing more */
  assert_true(sink[2].received > 0);
  assert_int_equal(sink[1].received + sink[2].received, 200 - before0);

  /* the file disappears: the set is kept, nothing is disconnected */
  unlink(path);
  sb_test_run_loop_for(300);
  assert_int_equal(sb_peers_count(p), 2);
  assert_int_equal(removed_calls, 1);

  sb_peers_destroy(&p);
  sb_zsock_destroy(&push);
  for (int i = 0; i < 3; i++)
    sb_zsock_destroy(&pull[i]);
  uv_run(loop, UV_RUN_NOWAIT);
  zmq_ctx_term(zctx);
  assert_int_equal(uv_loop_close(loop), 0); /* every handle was closed */
}

static void a_name_is_every_address_it_resolves_to(void **state) {
  (void)state;
  uv_loop_t *loop = uv_default_loop();
  void *zctx = zmq_ctx_new();
  sink_t sink = {0};
  char bind_ep[64], spec[64];
  int port = sb_test_free_port();
  snprintf(bind_ep, sizeof bind_ep, "tcp://127.0.0.1:%d", port);
  snprintf(spec, sizeof spec, "tcp://localhost:%d", port);
  sb_zsock_t *pull = sb_zsock_new(loop, zctx, ZMQ_PULL);
  assert_int_equal(sb_zsock_bind(pull, bind_ep), 0);
  sb_zsock_on_readable(pull, on_readable, &sink);
  sb_zsock_t *push = sb_zsock_new(loop, zctx, ZMQ_PUSH);
  int immediate = 1; /* only the address that answers takes messages */
  zmq_setsockopt(sb_zsock_raw(push), ZMQ_IMMEDIATE, &immediate, sizeof immediate);
  sb_peers_opts_t o = {.refresh_ms = 1000};
  sb_peers_t *p = sb_peers_new(loop, push, spec, &o, NULL);
  assert_non_null(p);
  assert_int_equal(sb_peers_count(p), 0); /* names resolve on the loop */
  for (int i = 0; i < 100 && sb_peers_count(p) == 0; i++)
    sb_test_run_loop_for(50);
  assert_true(sb_peers_count(p) >= 1); /* 127.0.0.1, and ::1 where configured */
  sb_test_run_loop_for(300);
  send_n(push, 10);
  sb_test_run_loop_for(300);
  assert_int_equal(sink.received, 10);
  sb_peers_destroy(&p);
  sb_zsock_destroy(&push);
  sb_zsock_destroy(&pull);
  uv_run(loop, UV_RUN_NOWAIT);
  zmq_ctx_term(zctx);
}

static void malformed_specs_are_refused(void **state) {
  (void)state;
  void *zctx = zmq_ctx_new();
  sb_zsock_t *push = sb_zsock_new(uv_default_loop(), zctx, ZMQ_PUSH);
  sb_peers_opts_t o = {.refresh_ms = 1000};
  const char *bad[] = {"", "tcp://127.0.0.1:1,,tcp://127.0.0.1:2", "tcp://nohostport", "tcp://host:",
                       "tcp://:5", "tcp://[::1:5", "@relative/path", "tcp://h:5x"};
  for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
    const char *why = NULL;
    assert_null(sb_peers_new(uv_default_loop(), push, bad[i], &o, &why));
    assert_non_null(why);
  }
  char host[64], port[16];
  assert_int_equal(sb_peers_split("tcp://[::1]:5561", host, sizeof host, port, sizeof port), 0);
  assert_string_equal(host, "::1");
  assert_string_equal(port, "5561");
  assert_int_equal(sb_peers_split("tcp://sb-route-peers:5561", host, sizeof host, port, sizeof port), 0);
  assert_string_equal(host, "sb-route-peers");
  assert_int_equal(sb_peers_split("ipc:///x", host, sizeof host, port, sizeof port), SB_EINVAL);
  assert_true(sb_peers_is_literal("10.1.2.3"));
  assert_true(sb_peers_is_literal("::1"));
  assert_false(sb_peers_is_literal("localhost"));
  sb_zsock_destroy(&push);
  uv_run(uv_default_loop(), UV_RUN_NOWAIT);
  zmq_ctx_term(zctx);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(an_endpoint_file_is_followed),
      cmocka_unit_test(a_name_is_every_address_it_resolves_to),
      cmocka_unit_test(malformed_specs_are_refused),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
