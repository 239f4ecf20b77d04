/*
 * Delivery receipts through a real ingest: a signed Meta (WhatsApp) status
 * delivery stores the latest state per platform message id in
 * dlv:<channel>:<id> (delivery.lua), never moves a message back when
 * receipts come out of order or again, and never becomes a message.
 */
#include "sb_testfixture.h"
#include "sb_testutil.h"
#include "sb_teststack.h"

#include "sb_service.h"
#include "sb_signature.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TENANTS                                                                                    \
  "{\"tenants\":[{\"id\":\"air\",\"accounts\":["                                                   \
  "{\"platform\":\"meta\",\"id\":\"page-1\",\"secret\":\"meta-secret\",\"verify_token\":\"vt\"}]}]}"
#define OUT_MAX 8192
#define WAMID_READ "wamid.HBgLMTY1MDU1NTEyMzQVAgARGBI0QUZCQTk0RTNDQTk1RkE2NTQA"
#define WAMID_FAILED "wamid.HBgLMTY1MDU1NTEyMzQVAgARGBJGQjdGNUI3RDYxMEQ4RDc5NjIA"

static sb_teststack_t *st;

static int setup(void **state) {
  (void)state;
  st = sb_teststack_start(TENANTS, NULL);
  return st ? 0 : -1;
}

static int teardown(void **state) {
  (void)state;
  sb_teststack_stop(&st);
  return 0;
}

static int post_meta(const char *body, size_t len) {
  uint8_t mac[64];
  size_t n = sizeof mac;
  char hex[160], header[200], out[OUT_MAX];
  assert_int_equal(sb_signature_hmac("sha256", "meta-secret", 11, body, len, mac, &n), 0);
  sb_signature_hex_encode(mac, n, hex, sizeof hex);
  snprintf(header, sizeof header, "X-Hub-Signature-256: sha256=%s", hex);
  return sb_teststack_http_header(st, SB_PORT_INGEST_HTTP, "POST", "/webhooks/meta/page-1", header,
                                  "application/json", body, len, out, OUT_MAX);
}

/* The stored state of a WhatsApp message, or "" when none. */
static void state_of(const char *wamid, char *out, size_t cap) {
  redisReply *r = redisCommand(sb_teststack_redis(st), "HGET sb:{t:air}:dlv:whatsapp:%s status", wamid);
  assert_non_null(r);
  snprintf(out, cap, "%s", r->type == REDIS_REPLY_STRING ? r->str : "");
  freeReplyObject(r);
}

static sbctl_stats_t stats(void) {
  sbctl_stats_t s = {0};
  assert_int_equal(sbctl_view_read(sb_teststack_redis(st), "air", &s), 0);
  return s;
}

static void receipts_store_the_latest_state_per_message(void **state) {
  (void)state;
  size_t len;
  char *body = sb_test_fixture("tests/fixtures/webhooks/meta_whatsapp_statuses.json", &len), s[32];
  sbctl_stats_t before = stats();
  assert_int_equal(post_meta(body, len), 200); /* delivered, then read; and failed */
  state_of(WAMID_READ, s, sizeof s);
  assert_string_equal(s, "read");
  state_of(WAMID_FAILED, s, sizeof s);
  assert_string_equal(s, "failed");
  assert_int_equal(post_meta(body, len), 200); /* a redelivery changes nothing */
  state_of(WAMID_READ, s, sizeof s);
  assert_string_equal(s, "read");
  assert_int_equal(stats().ingested, before.ingested);
  free(body);
}

static void a_late_receipt_never_moves_a_message_back(void **state) {
  (void)state;
  static const char late[] =
      "{\"object\":\"whatsapp_business_account\",\"entry\":[{\"id\":\"1\",\"changes\":[{\"field\":"
      "\"messages\",\"value\":{\"messaging_product\":\"whatsapp\",\"metadata\":{\"display_phone_number\":"
      "\"15550783881\",\"phone_number_id\":\"106540352242922\"},\"statuses\":[{\"id\":\"" WAMID_READ "\","
      "\"status\":\"delivered\",\"timestamp\":\"1749416600\",\"recipient_id\":\"16505551234\"},"
      "{\"id\":\"wamid.new\",\"status\":\"sent\",\"timestamp\":\"1749416601\",\"recipient_id\":"
      "\"16505551234\"}]}}]}]}";
  char s[32];
  assert_int_equal(post_meta(late, strlen(late)), 200);
  state_of(WAMID_READ, s, sizeof s);
  assert_string_equal(s, "read");
  state_of("wamid.new", s, sizeof s);
  assert_string_equal(s, "sent");
  redisReply *r = redisCommand(sb_teststack_redis(st), "TTL sb:{t:air}:dlv:whatsapp:wamid.new");
  assert_int_equal(r->type, REDIS_REPLY_INTEGER);
  assert_true(r->integer > 0); /* expires with the events */
  freeReplyObject(r);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(receipts_store_the_latest_state_per_message),
      cmocka_unit_test(a_late_receipt_never_moves_a_message_back),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
