/* sb_testfeed: see sb_testfeed.h. */
#include "sb_testfeed.h"
#include "sb_service.h"
#include "sb_time.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <zmq.h>
#include <cmocka.h>

void *sb_testfeed_subscribe(sb_teststack_t *st, void *zctx, const char *prefix) {
  char ep[64];
  void *sub = zmq_socket(zctx, ZMQ_SUB);
  assert_non_null(sub);
  int hwm = 0; /* a test reads everything: never drop for it */
  zmq_setsockopt(sub, ZMQ_RCVHWM, &hwm, sizeof hwm);
  snprintf(ep, sizeof ep, "tcp://127.0.0.1:%d", SB_PORT_NOTIFY_PUB + sb_teststack_offset(st));
  assert_int_equal(zmq_setsockopt(sub, ZMQ_SUBSCRIBE, prefix, strlen(prefix)), 0);
  assert_int_equal(zmq_connect(sub, ep), 0);
  usleep(200000); /* the subscription reaches the publisher */
  return sub;
}

void sb_testfeed_read(void *sub, int ms, sb_testfeed_fn fn, void *arg) {
  int64_t until = sb_now_ms() + ms;
  while (sb_now_ms() < until) {
    zmq_pollitem_t it = {sub, 0, ZMQ_POLLIN, 0};
    if (zmq_poll(&it, 1, 20) <= 0)
      continue;
    zmq_msg_t t, b;
    char topic[256];
    zmq_msg_init(&t);
    zmq_msg_init(&b);
    zmq_msg_recv(&t, sub, 0);
    zmq_msg_recv(&b, sub, 0);
    snprintf(topic, sizeof topic, "%.*s", (int)zmq_msg_size(&t), (char *)zmq_msg_data(&t));
    sb_envelope_t *env = sb_envelope_unpack(zmq_msg_data(&b), zmq_msg_size(&b));
    fn(topic, env, arg);
    sb_envelope_free(env);
    zmq_msg_close(&t);
    zmq_msg_close(&b);
  }
}
