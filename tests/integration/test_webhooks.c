/*
 * Platform webhooks through a real ingest (and the rest of the bus):
 * handshakes, signatures checked over the raw bytes, redeliveries counted
 * as duplicates, receipts never becoming messages, a malformed item
 * dead-lettered while the delivery is accepted, unknown accounts refused.
 * Payloads are the platforms' documented formats (tests/fixtures/webhooks).
 */
#include "sb_testfixture.h"
#include "sb_testutil.h"
#include "sb_testwebhook.h"
#include "sb_teststack.h"

#include "sb_service.h"
#include "sb_signature.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TWILIO_URL "https://hooks.example.com/webhooks/twilio/AC1"
#define TENANTS                                                                                    \
  "{\"tenants\":[{\"id\":\"air\",\"accounts\":["                                                   \
  "{\"platform\":\"meta\",\"id\":\"page-1\",\"secret\":\"meta-secret\",\"verify_token\":\"vt\"},"  \
  "{\"platform\":\"x\",\"id\":\"airx\",\"secret\":\"x-secret\"},"                                  \
  "{\"platform\":\"twilio\",\"id\":\"AC1\",\"secret\":\"twilio-token\",\"url\":\"" TWILIO_URL "\"}]}]}"
#define OUT_MAX 8192

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

/* An HTTP request to ingest with one extra header (NULL for none). */
static int request(const char *method, const char *path, const char *header, const char *ctype,
                   const char *body, size_t len, char *out) {
  return sb_teststack_http_header(st, SB_PORT_INGEST_HTTP, method, path, header, ctype, body, len, out,
                                  OUT_MAX);
}

static void hmac_text(const char *algo, const char *key, const void *msg, size_t len, int base64,
                      char *out, size_t cap) {
  uint8_t mac[64];
  size_t n = sizeof mac; /* in: room, out: length */
  assert_int_equal(sb_signature_hmac(algo, key, strlen(key), msg, len, mac, &n), 0);
  if (base64)
    sb_signature_base64_encode(mac, n, out, cap);
  else
    sb_signature_hex_encode(mac, n, out, cap);
}

static sbctl_stats_t stats(void) {
  sbctl_stats_t s = {0};
  assert_int_equal(sbctl_view_read(sb_teststack_redis(st), "air", &s), 0);
  return s;
}

static int post_meta(const char *fixture, const char *secret, char *out) {
  size_t len;
  char *body = sb_test_fixture(fixture, &len), mac[128], header[200];
  assert_non_null(body);
  hmac_text("sha256", secret, body, len, 0, mac, sizeof mac);
  snprintf(header, sizeof header, "X-Hub-Signature-256: sha256=%s", mac);
  int status = request("POST", "/webhooks/meta/page-1", header, "application/json", body, len, out);
  free(body);
  return status;
}

static void meta_handshake_answers_the_challenge_only_with_the_token(void **state) {
  (void)state;
  char out[OUT_MAX];
  assert_int_equal(request("GET", "/webhooks/meta/page-1?hub.mode=subscribe&hub.verify_token=vt&hub.challenge=1158201444",
                           NULL, "text/plain", "", 0, out), 200);
  assert_string_equal(out, "1158201444");
  assert_int_equal(request("GET", "/webhooks/meta/page-1?hub.mode=subscribe&hub.verify_token=no&hub.challenge=1",
                           NULL, "text/plain", "", 0, out), 403);
}

static void x_crc_is_the_hmac_of_the_token(void **state) {
  (void)state;
  char out[OUT_MAX], mac[128], expect[200];
  assert_int_equal(request("GET", "/webhooks/x/airx?crc_token=challenge-42", NULL, "text/plain", "", 0, out), 200);
  hmac_text("sha256", "x-secret", "challenge-42", 12, 1, mac, sizeof mac);
  snprintf(expect, sizeof expect, "sha256=%s", mac);
  assert_non_null(strstr(out, expect));
}

static void signed_meta_messages_land_once_and_redeliveries_are_duplicates(void **state) {
  (void)state;
  char out[OUT_MAX];
  sbctl_stats_t before = stats();
  assert_int_equal(post_meta("tests/fixtures/webhooks/meta_whatsapp_messages.json", "meta-secret", out), 200);
  sbctl_stats_t after = stats();
  long long messages = after.ingested - before.ingested;
  assert_true(messages >= 2);
  assert_int_equal(post_meta("tests/fixtures/webhooks/meta_whatsapp_messages.json", "meta-secret", out), 200);
  sbctl_stats_t again = stats();
  assert_int_equal(again.ingested, after.ingested);
  assert_int_equal(again.duplicates - after.duplicates, messages);
}

/* The author as the platform names it reaches the envelope: the display
 * name (notify's {customer_name}) and an X author's followers (the reach
 * classify's priority weighs). */
static void the_authors_name_and_reach_ride_along(void **state) {
  (void)state;
  char out[OUT_MAX], mac[128], header[200];
  assert_int_equal(post_meta("tests/fixtures/webhooks/meta_whatsapp_messages.json", "meta-secret", out), 200);
  sb_envelope_t *e = sb_teststack_routed(st, "air", "/meta/page-1",
                                         "wamid.HBgLMTY1MDU1NTEyMzQVAgASGBQzQTRBNjU5OUFFRTAzODEwMTQ0RgA=", 10000);
  assert_non_null(e);
  assert_non_null(e->interaction->author);
  assert_string_equal(e->interaction->author->name, "Sheena Nelson");
  sb_envelope_free(e);
  size_t len;
  char *body = sb_test_fixture("tests/fixtures/webhooks/x_tweet_create_events.json", &len);
  assert_non_null(body);
  hmac_text("sha256", "x-secret", body, len, 1, mac, sizeof mac);
  snprintf(header, sizeof header, "x-twitter-webhooks-signature: sha256=%s", mac);
  assert_int_equal(request("POST", "/webhooks/x/airx", header, "application/json", body, len, out), 200);
  free(body);
  e = sb_teststack_routed(st, "air", "/x/airx", "1931800000000000001", 10000);
  assert_non_null(e);
  assert_non_null(e->interaction->author);
  assert_string_equal(e->interaction->author->name, "Jordan Brinks");
  assert_int_equal(e->interaction->author->followers, 22);
  sb_envelope_free(e);
}

static void a_wrong_signature_is_401_and_writes_nothing(void **state) {
  (void)state;
  char out[OUT_MAX];
  sbctl_stats_t before = stats();
  assert_int_equal(post_meta("tests/fixtures/webhooks/meta_messenger.json", "not-the-secret", out), 401);
  assert_non_null(strstr(out, "bad_signature"));
  size_t len;
  char *body = sb_test_fixture("tests/fixtures/webhooks/meta_messenger.json", &len);
  assert_int_equal(request("POST", "/webhooks/meta/page-1", NULL, "application/json", body, len, out), 401);
  free(body);
  assert_int_equal(stats().ingested, before.ingested);
}

static void receipts_never_become_messages(void **state) {
  (void)state;
  char out[OUT_MAX];
  sbctl_stats_t before = stats();
  assert_int_equal(post_meta("tests/fixtures/webhooks/meta_whatsapp_statuses.json", "meta-secret", out), 200);
  assert_int_equal(stats().ingested, before.ingested);
}

static void a_malformed_item_is_dead_lettered_and_the_rest_accepted(void **state) {
  (void)state;
  char out[OUT_MAX];
  sbctl_stats_t before = stats();
  assert_int_equal(post_meta("tests/fixtures/webhooks/meta_whatsapp_mixed_bad.json", "meta-secret", out), 200);
  sbctl_stats_t after = stats();
  assert_true(after.ingested > before.ingested);
  assert_true(after.dead_letters > before.dead_letters);
}

static void a_signed_twilio_sms_lands_and_gets_twiml(void **state) {
  (void)state;
  size_t len;
  char *body = sb_test_fixture("tests/fixtures/webhooks/twilio_sms.form", &len), header[200];
  char out[OUT_MAX];
  while (len && (body[len - 1] == '\n' || body[len - 1] == '\r'))
    body[--len] = '\0';
  char *sig = sb_test_twilio_signature(TWILIO_URL, "twilio-token", body, len);
  snprintf(header, sizeof header, "X-Twilio-Signature: %s", sig);
  free(sig);
  sbctl_stats_t before = stats();
  assert_int_equal(request("POST", "/webhooks/twilio/AC1", header, "application/x-www-form-urlencoded", body, len, out), 200);
  assert_non_null(strstr(out, "<Response>"));
  assert_int_equal(stats().ingested, before.ingested + 1);
  assert_int_equal(request("POST", "/webhooks/twilio/AC1", "X-Twilio-Signature: AAAA", "application/x-www-form-urlencoded", body, len, out), 401);
  free(body);
}

static void unknown_accounts_and_platforms_are_404(void **state) {
  (void)state;
  char out[OUT_MAX];
  assert_int_equal(request("POST", "/webhooks/meta/nobody", NULL, "application/json", "{}", 2, out), 404);
  assert_non_null(strstr(out, "unknown_account"));
  assert_int_equal(request("POST", "/webhooks/myspace/page-1", NULL, "application/json", "{}", 2, out), 404);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(meta_handshake_answers_the_challenge_only_with_the_token),
      cmocka_unit_test(x_crc_is_the_hmac_of_the_token),
      cmocka_unit_test(signed_meta_messages_land_once_and_redeliveries_are_duplicates),
      cmocka_unit_test(the_authors_name_and_reach_ride_along),
      cmocka_unit_test(a_wrong_signature_is_401_and_writes_nothing),
      cmocka_unit_test(receipts_never_become_messages),
      cmocka_unit_test(a_malformed_item_is_dead_lettered_and_the_rest_accepted),
      cmocka_unit_test(a_signed_twilio_sms_lands_and_gets_twiml),
      cmocka_unit_test(unknown_accounts_and_platforms_are_404),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
