/*
 * Bad input at every edge gets a clear error and a metric, and the service
 * keeps running: malformed, incomplete, oversized and unknown-tenant
 * CloudEvents over HTTP; truncated protobuf over ZeroMQ to ingest; garbage
 * straight into a stage's hand-off socket (dead-lettered).
 */
#define _GNU_SOURCE
#include "sb_testutil.h"
#include "sb_teststack.h"

#include "sb_service.h"
#include "sb_time.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zmq.h>

#define BODY_MAX 8192

static sb_teststack_t *st;

static int setup(void **state) {
  (void)state;
  st = sb_teststack_start(NULL, NULL);
  return st ? 0 : -1;
}

static int teardown(void **state) {
  (void)state;
  sb_teststack_stop(&st);
  return 0;
}

static int post(const char *body, char *out) {
  return sb_teststack_http(st, SB_PORT_INGEST_HTTP, "POST", "/v1/events", "application/cloudevents+json",
                           body, strlen(body), out, BODY_MAX);
}

static const char *event(const char *id, const char *tenant, char *buf, size_t cap) {
  snprintf(buf, cap,
           "{\"specversion\":\"1.0\",\"id\":\"%s\",\"source\":\"/web\",\"type\":\"com.switchboard.interaction\","
           "\"tenant\":\"%s\",\"data\":{\"channel\":\"webchat\",\"customer\":\"u1\",\"text\":\"hello, my card is 4111 1111 1111 1111\"}}",
           id, tenant);
  return buf;
}

static void malformed_json_is_a_400_with_a_json_error(void **state) {
  (void)state;
  char out[BODY_MAX];
  assert_int_equal(post("{\"specversion\": ", out), 400);
  assert_non_null(strstr(out, "\"error\""));
  assert_non_null(strstr(out, "invalid_event"));
}

static void a_missing_attribute_is_named(void **state) {
  (void)state;
  char out[BODY_MAX];
  const char *body = "{\"specversion\":\"1.0\",\"id\":\"x\",\"type\":\"com.switchboard.interaction\",\"tenant\":\"acme-air\"}";
  assert_int_equal(post(body, out), 400);
  assert_non_null(strstr(out, "source"));
}

static void an_unknown_tenant_is_a_422(void **state) {
  (void)state;
  char out[BODY_MAX], ev[1024];
  assert_int_equal(post(event("e-unknown", "nobody", ev, sizeof ev), out), 422);
  assert_non_null(strstr(out, "unknown_tenant"));
}

static void an_oversized_body_is_a_413(void **state) {
  (void)state;
  size_t n = 3u << 20;
  char *big = malloc(n + 1), out[BODY_MAX];
  memset(big, '[', n);
  big[n] = '\0';
  assert_int_equal(sb_teststack_http(st, SB_PORT_INGEST_HTTP, "POST", "/v1/events", NULL, big, n, out, sizeof out), 413);
  free(big);
}

static void wrong_method_and_path_are_405_and_404(void **state) {
  (void)state;
  char out[BODY_MAX];
  assert_int_equal(sb_teststack_http(st, SB_PORT_INGEST_HTTP, "GET", "/v1/events", NULL, "", 0, out, sizeof out), 405);
  assert_int_equal(sb_teststack_http(st, SB_PORT_INGEST_HTTP, "GET", "/nope", NULL, "", 0, out, sizeof out), 404);
}

/* The value of a key of any type, as a reply (strings, or arrays of them). */
static redisReply *read_any(redisContext *rc, const char *key) {
  redisReply *t = redisCommand(rc, "TYPE %s", key);
  redisReply *v;
  if (strcmp(t->str, "string") == 0)
    v = redisCommand(rc, "GET %s", key);
  else if (strcmp(t->str, "hash") == 0)
    v = redisCommand(rc, "HGETALL %s", key);
  else if (strcmp(t->str, "list") == 0)
    v = redisCommand(rc, "LRANGE %s 0 -1", key);
  else if (strcmp(t->str, "zset") == 0)
    v = redisCommand(rc, "ZRANGE %s 0 -1", key);
  else
    v = redisCommand(rc, "SMEMBERS %s", key);
  freeReplyObject(t);
  return v;
}

static void a_good_event_is_accepted_once_and_redacted_at_rest(void **state) {
  (void)state;
  char out[BODY_MAX], ev[1024];
  assert_int_equal(post(event("e-good", "acme-air", ev, sizeof ev), out), 202);
  assert_non_null(strstr(out, "\"accepted\""));
  assert_non_null(strstr(out, "\"conversation\""));
  assert_int_equal(post(ev, out), 200); /* the platform redelivers */
  assert_non_null(strstr(out, "\"duplicate\""));
  /* no clear card number anywhere in Redis, and the placeholder where it was */
  redisContext *rc = sb_teststack_redis(st);
  int placeholders = 0;
  redisReply *keys = redisCommand(rc, "KEYS *");
  for (size_t i = 0; i < keys->elements; i++) {
    redisReply *v = read_any(rc, keys->element[i]->str);
    for (size_t k = 0; k < (v->type == REDIS_REPLY_ARRAY ? v->elements : 1); k++) {
      const redisReply *e = v->type == REDIS_REPLY_ARRAY ? v->element[k] : v;
      if (e->type != REDIS_REPLY_STRING)
        continue;
      assert_null(memmem(e->str, e->len, "4111 1111 1111 1111", 19));
      assert_null(memmem(e->str, e->len, "4111111111111111", 16));
      placeholders += memmem(e->str, e->len, "[CARD]", 6) != NULL;
    }
    freeReplyObject(v);
  }
  freeReplyObject(keys);
  assert_true(placeholders >= 1);
}

static void a_truncated_protobuf_gets_ack_invalid(void **state) {
  (void)state;
  void *zctx = zmq_ctx_new(), *s = zmq_socket(zctx, ZMQ_DEALER);
  char ep[64];
  snprintf(ep, sizeof ep, "tcp://127.0.0.1:%d", SB_PORT_INGEST_ZMQ + sb_teststack_offset(st));
  assert_int_equal(zmq_connect(s, ep), 0);
  const unsigned char truncated[] = {0x12, 0x40, 0x0a, 0x05, 'h', 'e'}; /* says 64 bytes follow */
  assert_int_equal(zmq_send(s, truncated, sizeof truncated, 0), (int)sizeof truncated);
  int timeout = 5000;
  zmq_setsockopt(s, ZMQ_RCVTIMEO, &timeout, sizeof timeout);
  zmq_msg_t m;
  zmq_msg_init(&m);
  assert_true(zmq_msg_recv(&m, s, 0) > 0);
  Switchboard__V1__PublishReply *rep =
      switchboard__v1__publish_reply__unpack(NULL, zmq_msg_size(&m), zmq_msg_data(&m));
  assert_non_null(rep);
  assert_int_equal(rep->n_acks, 1);
  assert_int_equal(rep->acks[0]->code, SWITCHBOARD__V1__ACK_CODE__ACK_INVALID);
  switchboard__v1__publish_reply__free_unpacked(rep, NULL);
  zmq_msg_close(&m);
  zmq_close(s);
  zmq_ctx_term(zctx);
}

static void garbage_in_a_stage_is_dead_lettered_and_the_stage_lives(void **state) {
  (void)state;
  void *zctx = zmq_ctx_new(), *s = zmq_socket(zctx, ZMQ_PUSH);
  char ep[64], out[BODY_MAX];
  snprintf(ep, sizeof ep, "tcp://127.0.0.1:%d", SB_PORT_ROUTE_IN + sb_teststack_offset(st));
  assert_int_equal(zmq_connect(s, ep), 0);
  assert_int_equal(zmq_send(s, "\xff\xff\xff garbage", 12, 0), 12);
  redisReply *r = NULL;
  for (int i = 0; i < 100; i++) {
    if (r)
      freeReplyObject(r);
    r = redisCommand(sb_teststack_redis(st), "LLEN sb:{g}:dlq");
    if (r->integer > 0)
      break;
    usleep(50000);
  }
  assert_true(r->integer >= 1);
  freeReplyObject(r);
  r = redisCommand(sb_teststack_redis(st), "LINDEX sb:{g}:dlq 0");
  assert_non_null(strstr(r->str, "\"stage\":\"route\""));
  assert_non_null(strstr(r->str, "malformed protobuf"));
  freeReplyObject(r);
  assert_int_equal(sb_teststack_http(st, SB_PORT_ADMIN_ROUTE, "GET", "/healthz", NULL, "", 0, out, sizeof out), 200);
  assert_int_equal(sb_teststack_http(st, SB_PORT_ADMIN_ROUTE, "GET", "/metrics", NULL, "", 0, out, sizeof out), 200);
  assert_non_null(strstr(out, "sb_stage_rejected_total"));
  zmq_close(s);
  zmq_ctx_term(zctx);
}

static void rejections_are_counted_in_metrics(void **state) {
  (void)state;
  char out[1 << 16];
  assert_int_equal(sb_teststack_http(st, SB_PORT_ADMIN_INGEST, "GET", "/metrics", NULL, "", 0, out, sizeof out), 200);
  assert_non_null(strstr(out, "sb_ingest_http_rejected_total"));
  assert_non_null(strstr(out, "code=\"invalid_event\""));
  assert_non_null(strstr(out, "sb_ingest_zmq_malformed_total"));
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(malformed_json_is_a_400_with_a_json_error),
      cmocka_unit_test(a_missing_attribute_is_named),
      cmocka_unit_test(an_unknown_tenant_is_a_422),
      cmocka_unit_test(an_oversized_body_is_a_413),
      cmocka_unit_test(wrong_method_and_path_are_405_and_404),
      cmocka_unit_test(a_good_event_is_accepted_once_and_redacted_at_rest),
      cmocka_unit_test(a_truncated_protobuf_gets_ack_invalid),
      cmocka_unit_test(garbage_in_a_stage_is_dead_lettered_and_the_stage_lives),
      cmocka_unit_test(rejections_are_counted_in_metrics),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
