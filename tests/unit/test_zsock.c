/*
 * sb_zsock: ZeroMQ sockets on a libuv loop over real TCP on loopback.
 * Everything sent arrives, in order, even though ZeroMQ's descriptor is
 * edge-triggered; a paused reader takes nothing; resuming takes the rest.
 */
#include "sb_testutil.h"

#include "sb_error.h"
#include "sb_zsock.h"

#include <stdio.h>
#include <string.h>

#define MESSAGES 20000
#define TAKE_PER_TURN 64 /* smaller than what waits: the reader must be called again */

typedef struct {
  sb_zsock_t *pull;
  int received, in_order, paused_at, stop_at;
  uv_timer_t timer;
} reader_t;

static void on_readable(sb_zsock_t *z, void *arg) {
  reader_t *r = arg;
  zmq_msg_t part;
  size_t n;
  for (int i = 0; i < TAKE_PER_TURN; i++) {
    if (sb_zsock_recv(z, &part, 1, &n) != 0)
      return;
    int v;
    memcpy(&v, zmq_msg_data(&part), sizeof v);
    r->in_order += v == r->received;
    r->received++;
    zmq_msg_close(&part);
    if (r->received == r->paused_at) {
      sb_zsock_pause(z);
      return;
    }
    if (r->received == r->stop_at)
      uv_stop(uv_default_loop());
  }
}

static void everything_sent_arrives_in_order_and_pause_holds(void **state) {
  (void)state;
  uv_loop_t *loop = uv_default_loop();
  void *zctx = zmq_ctx_new();
  char ep[64];
  snprintf(ep, sizeof ep, "tcp://127.0.0.1:%d", sb_test_free_port());
  reader_t r = {.paused_at = MESSAGES / 2, .stop_at = MESSAGES};
  r.pull = sb_zsock_new(loop, zctx, ZMQ_PULL);
  sb_zsock_t *push = sb_zsock_new(loop, zctx, ZMQ_PUSH);
  assert_int_equal(sb_zsock_bind(r.pull, ep), 0);
  assert_int_equal(sb_zsock_connect(push, ep), 0);
  sb_zsock_on_readable(r.pull, on_readable, &r);
  for (int i = 0; i < MESSAGES; i++) {
    const void *parts[] = {&i};
    size_t len = sizeof i;
    assert_int_equal(sb_zsock_send(push, parts, &len, 1), 0);
  }
  sb_test_run_loop_for(2000);
  assert_int_equal(r.received, MESSAGES / 2); /* paused: nothing more taken */
  sb_zsock_resume(r.pull);
  sb_test_run_loop_for(5000);
  assert_int_equal(r.received, MESSAGES);
  assert_int_equal(r.in_order, MESSAGES);
  assert_int_equal(sb_zsock_pending(push), 0);
  sb_zsock_destroy(&push);
  sb_zsock_destroy(&r.pull);
  assert_null(r.pull);
  uv_run(loop, UV_RUN_NOWAIT);
  zmq_ctx_term(zctx);
  assert_int_equal(uv_loop_close(loop), 0); /* every handle was closed */
}

static void a_bad_endpoint_is_an_error(void **state) {
  (void)state;
  void *zctx = zmq_ctx_new();
  sb_zsock_t *z = sb_zsock_new(uv_default_loop(), zctx, ZMQ_PULL);
  assert_int_equal(sb_zsock_bind(z, "tcp://not-an-address"), SB_EZMQ);
  assert_int_equal(sb_zsock_connect(z, "nonsense://x"), SB_EZMQ);
  sb_zsock_destroy(&z);
  uv_run(uv_default_loop(), UV_RUN_NOWAIT);
  zmq_ctx_term(zctx);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(everything_sent_arrives_in_order_and_pause_holds),
      cmocka_unit_test(a_bad_endpoint_is_an_error),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
