/*
 * WeChat, Telegram and LINE webhooks through a real ingest (and the rest of
 * the bus), over real HTTP: each channel's handshake or verification, one
 * signed delivery of each landing exactly once (a repost is a counted
 * duplicate and one customer stays one conversation), and wrong
 * signatures, a wrong AppID, a stale WeChat timestamp and a plaintext post
 * to a safe-mode account refused with nothing written.
 *
 * Payloads are the platforms' documented formats
 * (tests/fixtures/webhooks); signatures and ciphertexts come from the
 * openssl command line tool (sb_testcrypto), not from the code under test.
 */
#include "sb_testcrypto.h"
#include "sb_testfixture.h"
#include "sb_testutil.h"
#include "sb_teststack.h"

#include "sb_service.h"

#include <hiredis/hiredis.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define WX_TOKEN "wx-token"
#define WX_APPID "wx5823bf96d3bd56c7"
#define WX_AES_KEY "jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2e"
#define TG_SECRET "tg_secret-0123456789"
#define LINE_SECRET "line-channel-secret"
#define OPENID "oLVPpjqs9BhvzwPj5A-vTYAX3GLc"
#define TENANTS                                                                                    \
  "{\"tenants\":[{\"id\":\"air\",\"accounts\":["                                                   \
  "{\"platform\":\"wechat\",\"id\":\"gh-plain\",\"secret\":\"app-secret\",\"verify_token\":\""     \
  WX_TOKEN "\"},"                                                                                  \
  "{\"platform\":\"wechat\",\"id\":\"gh-safe\",\"secret\":\"app-secret\",\"verify_token\":\""      \
  WX_TOKEN "\",\"app_id\":\"" WX_APPID "\",\"aes_key\":\"" WX_AES_KEY "\"},"                       \
  "{\"platform\":\"telegram\",\"id\":\"acmebot\",\"secret\":\"" TG_SECRET "\"},"                   \
  "{\"platform\":\"line\",\"id\":\"acme-line\",\"secret\":\"" LINE_SECRET "\"}]}]}"
#define OUT_MAX 16384
#define PATH_MAX_ 1024
#define NONCE "1372623149"

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

static int request(const char *method, const char *path, const char *header, const char *ctype,
                   const char *body, size_t len, char *out) {
  return sb_teststack_http_header(st, SB_PORT_INGEST_HTTP, method, path, header, ctype, body, len,
                                  out, OUT_MAX);
}

static sbctl_stats_t stats(void) {
  sbctl_stats_t s = {0};
  assert_int_equal(sbctl_view_read(sb_teststack_redis(st), "air", &s), 0);
  return s;
}

/* The conversation of a customer on a channel ("" when none). */
static void conversation(const char *channel, const char *customer, char *out, size_t cap) {
  redisReply *r = redisCommand(sb_teststack_redis(st), "HGET sb:{t:air}:threads %s:%s", channel,
                               customer);
  assert_non_null(r);
  snprintf(out, cap, "%s", r->type == REDIS_REPLY_STRING ? r->str : "");
  freeReplyObject(r);
}

static void now_text(char *out, size_t cap, long skew) {
  snprintf(out, cap, "%ld", (long)time(NULL) + skew);
}

/* ----------------------------------------------------------------- WeChat */

/* POST body to account with the query WeChat would send: the plain
 * signature, and in safe mode msg_signature over encrypt too. */
static int post_wechat(const char *account, const char *body, size_t len, const char *encrypt,
                       const char *token, long skew, char *out) {
  char ts[32], sig[SB_TEST_SHA1_HEX], msig[SB_TEST_SHA1_HEX], path[PATH_MAX_];
  now_text(ts, sizeof ts, skew);
  const char *parts[] = {token, ts, NONCE, encrypt};
  sb_test_wechat_sign(sig, parts, 3);
  if (encrypt) {
    sb_test_wechat_sign(msig, parts, 4);
    snprintf(path, sizeof path,
             "/webhooks/wechat/%s?signature=%s&timestamp=%s&nonce=" NONCE
             "&openid=" OPENID "&encrypt_type=aes&msg_signature=%s",
             account, sig, ts, msig);
  } else {
    snprintf(path, sizeof path,
             "/webhooks/wechat/%s?signature=%s&timestamp=%s&nonce=" NONCE "&openid=" OPENID,
             account, sig, ts);
  }
  return request("POST", path, NULL, "text/xml", body, len, out);
}

/* The safe-mode body WeChat posts for message msg. */
static char *safe_body(const char *app_id, const char *msg, size_t len, char **encrypt) {
  *encrypt = sb_test_wechat_encrypt(WX_AES_KEY, app_id, msg, len);
  char *body = malloc(strlen(*encrypt) + 128);
  assert_non_null(body);
  sprintf(body, "<xml><ToUserName><![CDATA[gh_3d8c5b6f9a21]]></ToUserName>"
                "<Encrypt><![CDATA[%s]]></Encrypt></xml>", *encrypt);
  return body;
}

static void wechat_verification_answers_echostr_only_when_signed(void **state) {
  (void)state;
  char out[OUT_MAX], sig[SB_TEST_SHA1_HEX], path[PATH_MAX_];
  const char *parts[] = {WX_TOKEN, "1409659813", NONCE};
  sb_test_wechat_sign(sig, parts, 3);
  snprintf(path, sizeof path,
           "/webhooks/wechat/gh-plain?signature=%s&timestamp=1409659813&nonce=" NONCE
           "&echostr=5838479218127813673",
           sig);
  assert_int_equal(request("GET", path, NULL, "text/plain", "", 0, out), 200);
  assert_string_equal(out, "5838479218127813673");
  snprintf(path, sizeof path,
           "/webhooks/wechat/gh-plain?signature=%s&timestamp=1409659814&nonce=" NONCE
           "&echostr=5838479218127813673",
           sig);
  assert_int_equal(request("GET", path, NULL, "text/plain", "", 0, out), 403);
}

static void wechat_plaintext_lands_once_in_one_conversation(void **state) {
  (void)state;
  char out[OUT_MAX], conv[128], conv2[128];
  size_t len = 0, clen = 0;
  char *body = sb_test_fixture("tests/fixtures/webhooks/wechat_text.xml", &len);
  char *click = sb_test_fixture("tests/fixtures/webhooks/wechat_event_click.xml", &clen);
  sbctl_stats_t before = stats();
  assert_int_equal(post_wechat("gh-plain", body, len, NULL, WX_TOKEN, 0, out), 200);
  assert_string_equal(out, "success");
  sbctl_stats_t after = stats();
  assert_int_equal(after.ingested, before.ingested + 1);
  conversation("wechat", OPENID, conv, sizeof conv);
  assert_true(conv[0] != '\0');
  /* WeChat's retry of the same message: counted, nothing new */
  assert_int_equal(post_wechat("gh-plain", body, len, NULL, WX_TOKEN, 0, out), 200);
  assert_string_equal(out, "success");
  sbctl_stats_t again = stats();
  assert_int_equal(again.ingested, after.ingested);
  assert_int_equal(again.duplicates, after.duplicates + 1);
  /* a menu click of the same customer joins the same conversation */
  assert_int_equal(post_wechat("gh-plain", click, clen, NULL, WX_TOKEN, 0, out), 200);
  assert_int_equal(post_wechat("gh-plain", click, clen, NULL, WX_TOKEN, 0, out), 200);
  sbctl_stats_t last = stats();
  assert_int_equal(last.ingested, again.ingested + 1);
  assert_int_equal(last.duplicates, again.duplicates + 1);
  conversation("wechat", OPENID, conv2, sizeof conv2);
  assert_string_equal(conv, conv2);
  free(click);
  free(body);
}

static void wechat_wrong_signature_or_stale_timestamp_is_401(void **state) {
  (void)state;
  char out[OUT_MAX];
  size_t len = 0;
  char *body = sb_test_fixture("tests/fixtures/webhooks/wechat_location.xml", &len);
  sbctl_stats_t before = stats();
  assert_int_equal(post_wechat("gh-plain", body, len, NULL, "not-the-token", 0, out), 401);
  assert_non_null(strstr(out, "bad_signature"));
  assert_int_equal(post_wechat("gh-plain", body, len, NULL, WX_TOKEN, -3600, out), 401);
  assert_non_null(strstr(out, "timestamp"));
  assert_int_equal(request("POST", "/webhooks/wechat/gh-plain", NULL, "text/xml", body, len, out),
                   401);
  /* the safe-mode account takes no plaintext */
  assert_int_equal(post_wechat("gh-safe", body, len, NULL, WX_TOKEN, 0, out), 401);
  assert_non_null(strstr(out, "encrypt_type"));
  sbctl_stats_t after = stats();
  assert_int_equal(after.ingested, before.ingested);
  assert_int_equal(after.dead_letters, before.dead_letters);
  free(body);
}

static void wechat_safe_mode_lands_once_and_a_wrong_appid_is_refused(void **state) {
  (void)state;
  char out[OUT_MAX], *encrypt = NULL;
  size_t len = 0;
  char *msg = sb_test_fixture("tests/fixtures/webhooks/wechat_location.xml", &len);
  char *body = safe_body(WX_APPID, msg, len, &encrypt);
  sbctl_stats_t before = stats();
  assert_int_equal(post_wechat("gh-safe", body, strlen(body), encrypt, WX_TOKEN, 0, out), 200);
  assert_string_equal(out, "success");
  assert_int_equal(post_wechat("gh-safe", body, strlen(body), encrypt, WX_TOKEN, 0, out), 200);
  sbctl_stats_t after = stats();
  assert_int_equal(after.ingested, before.ingested + 1);
  assert_int_equal(after.duplicates, before.duplicates + 1);
  free(body);
  free(encrypt);
  /* correctly signed, but encrypted for another official account */
  body = safe_body("wx0000000000000000", msg, len, &encrypt);
  assert_int_equal(post_wechat("gh-safe", body, strlen(body), encrypt, WX_TOKEN, 0, out), 401);
  assert_non_null(strstr(out, "AppID"));
  /* msg_signature that does not cover this Encrypt */
  assert_int_equal(post_wechat("gh-safe", body, strlen(body), "other", WX_TOKEN, 0, out), 401);
  /* a billion-laughs outer body is refused before anything is read */
  const char *lol = "<!DOCTYPE x [<!ENTITY a \"aaaaaaaaaa\"><!ENTITY b \"&a;&a;&a;&a;\">]>"
                    "<xml><Encrypt>&b;</Encrypt></xml>";
  assert_int_equal(post_wechat("gh-safe", lol, strlen(lol), "x", WX_TOKEN, 0, out), 400);
  assert_non_null(strstr(out, "DOCTYPE"));
  assert_int_equal(stats().ingested, after.ingested);
  free(body);
  free(encrypt);
  free(msg);
}

/* --------------------------------------------------------------- Telegram */

static void telegram_update_lands_once_and_a_wrong_secret_is_401(void **state) {
  (void)state;
  char out[OUT_MAX], conv[128];
  size_t len = 0;
  char *body = sb_test_fixture("tests/fixtures/webhooks/telegram_private_text.json", &len);
  const char *header = "X-Telegram-Bot-Api-Secret-Token: " TG_SECRET;
  sbctl_stats_t before = stats();
  assert_int_equal(request("POST", "/webhooks/telegram/acmebot",
                           "X-Telegram-Bot-Api-Secret-Token: wrong", "application/json", body,
                           len, out),
                   401);
  assert_int_equal(
      request("POST", "/webhooks/telegram/acmebot", NULL, "application/json", body, len, out),
      401);
  assert_int_equal(stats().ingested, before.ingested);
  assert_int_equal(
      request("POST", "/webhooks/telegram/acmebot", header, "application/json", body, len, out),
      200);
  assert_int_equal(
      request("POST", "/webhooks/telegram/acmebot", header, "application/json", body, len, out),
      200);
  sbctl_stats_t after = stats();
  assert_int_equal(after.ingested, before.ingested + 1);
  assert_int_equal(after.duplicates, before.duplicates + 1);
  conversation("telegram", "5105563018", conv, sizeof conv);
  assert_true(conv[0] != '\0');
  free(body);
}

/* ------------------------------------------------------------------- LINE */

static int post_line(const char *body, size_t len, const char *secret, char *out) {
  char header[200];
  char *mac = sb_test_openssl("dgst -sha256 -binary -hmac " LINE_SECRET " | openssl base64 -A",
                              body, len, NULL);
  if (strcmp(secret, LINE_SECRET) != 0)
    mac[0] = mac[0] == 'A' ? 'B' : 'A';
  snprintf(header, sizeof header, "x-line-signature: %s", mac);
  free(mac);
  return request("POST", "/webhooks/line/acme-line", header, "application/json", body, len, out);
}

static void line_verify_request_is_200_and_writes_nothing(void **state) {
  (void)state;
  char out[OUT_MAX];
  size_t len = 0;
  char *body = sb_test_fixture("tests/fixtures/webhooks/line_verify.json", &len);
  sbctl_stats_t before = stats();
  assert_int_equal(post_line(body, len, LINE_SECRET, out), 200);
  assert_int_equal(stats().ingested, before.ingested);
  free(body);
}

static void line_events_land_once_and_redeliveries_are_counted(void **state) {
  (void)state;
  char out[OUT_MAX], conv[128];
  size_t len = 0;
  char *body = sb_test_fixture("tests/fixtures/webhooks/line_events.json", &len);
  sbctl_stats_t before = stats();
  assert_int_equal(post_line(body, len, "wrong", out), 401);
  assert_int_equal(stats().ingested, before.ingested);
  assert_int_equal(post_line(body, len, LINE_SECRET, out), 200);
  sbctl_stats_t after = stats();
  assert_int_equal(after.ingested, before.ingested + 3); /* text, image, postback */
  assert_int_equal(post_line(body, len, LINE_SECRET, out), 200);
  sbctl_stats_t again = stats();
  assert_int_equal(again.ingested, after.ingested);
  assert_int_equal(again.duplicates, after.duplicates + 3);
  conversation("line", "U4af4980629a1b2c3d4e5f60718293a4b", conv, sizeof conv);
  assert_true(conv[0] != '\0');
  char *metrics = malloc(OUT_MAX * 8);
  assert_int_equal(sb_teststack_http(st, SB_PORT_ADMIN_INGEST, "GET", "/metrics", NULL, "", 0,
                                     metrics, OUT_MAX * 8),
                   200);
  /* one event flagged isRedelivery, posted twice; three messages re-sent */
  assert_non_null(strstr(metrics, "sb_ingest_webhook_redeliveries_total{service=\"ingest\","
                                  "platform=\"line\",reason=\"flagged\"} 2\n"));
  assert_non_null(strstr(metrics, "sb_ingest_webhook_duplicates_total{service=\"ingest\","
                                  "platform=\"line\",reason=\"stored\"} 3\n"));
  free(metrics);
  free(body);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(wechat_verification_answers_echostr_only_when_signed),
      cmocka_unit_test(wechat_plaintext_lands_once_in_one_conversation),
      cmocka_unit_test(wechat_wrong_signature_or_stale_timestamp_is_401),
      cmocka_unit_test(wechat_safe_mode_lands_once_and_a_wrong_appid_is_refused),
      cmocka_unit_test(telegram_update_lands_once_and_a_wrong_secret_is_401),
      cmocka_unit_test(line_verify_request_is_200_and_writes_nothing),
      cmocka_unit_test(line_events_land_once_and_redeliveries_are_counted),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
