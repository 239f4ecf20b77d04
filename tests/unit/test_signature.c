/*
 * test_signature: behaviours of sb_signature (HMAC, hex and base64, the
 * Meta, X, Twilio, WeChat, Telegram, LINE and SendGrid checks and
 * handshakes; the
 * WeChat safe-mode decryption is in test_webhook_wechat, beside the
 * reader it feeds).
 *
 * Every expected MAC below was computed outside this code base, with the
 * command quoted next to it (OpenSSL's command line tool or Python's hmac
 * module), or comes from a published test vector; a check that passes must
 * pass for the right bytes and fail for any other.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sb_error.h"
#include "sb_form.h"
#include "sb_signature.h"
#include "sb_testfixture.h"
#include "sb_testutil.h"

enum { TEXT_MAX = 256 };

#define META_SECRET "meta-app-secret-for-tests"
#define X_SECRET "x-consumer-secret-for-tests"
#define TWILIO_TOKEN "twilio-auth-token-for-tests"

static const char META_BODY[] = "{\"object\":\"page\",\"entry\":[]}";
/* printf '{"object":"page","entry":[]}' |
 *   openssl dgst -sha256 -hmac 'meta-app-secret-for-tests' */
static const char META_SIG[] =
    "sha256=bd8e771450daa7bc6e995d14e891f04b2be607655d3dac4f3f8c690b8efe9629";

static const char X_BODY[] =
    "{\"for_user_id\":\"2244994945\",\"tweet_create_events\":[]}";
/* printf '<X_BODY>' | openssl dgst -sha256 -hmac 'x-consumer-secret-for-tests'
 *   -binary | base64 */
static const char X_SIG[] =
    "sha256=Ul7hcR97TZYNEay60jjLbBNH9wPLN3xnSV8FnIIO2/U=";

static void hex_of(const uint8_t *mac, size_t n, char *out) {
  assert_int_equal(sb_signature_hex_encode(mac, n, out, TEXT_MAX), 0);
}

static sb_form_t form_of(const char *urlencoded) {
  sb_form_t f = {0};
  assert_int_equal(sb_form_urlencoded_parse(urlencoded, strlen(urlencoded),
                                            NULL, &f, NULL, 0),
                   0);
  return f;
}

/* ------------------------------------------------------------ primitives */

static void test_hmac_sha256_matches_rfc4231_case_2(void **state) {
  uint8_t mac[SB_SIGNATURE_DIGEST_MAX];
  size_t n = sizeof mac;
  char hex[TEXT_MAX];
  const char *msg = "what do ya want for nothing?";
  assert_int_equal(
      sb_signature_hmac("sha256", "Jefe", 4, msg, strlen(msg), mac, &n), 0);
  assert_int_equal(n, SB_SIGNATURE_SHA256_LEN);
  hex_of(mac, n, hex);
  assert_string_equal(
      hex, "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
}

static void test_hmac_sha1_matches_rfc2202_case_2(void **state) {
  uint8_t mac[SB_SIGNATURE_DIGEST_MAX];
  size_t n = sizeof mac;
  char hex[TEXT_MAX];
  const char *msg = "what do ya want for nothing?";
  assert_int_equal(
      sb_signature_hmac("sha1", "Jefe", 4, msg, strlen(msg), mac, &n), 0);
  assert_int_equal(n, SB_SIGNATURE_SHA1_LEN);
  hex_of(mac, n, hex);
  assert_string_equal(hex, "effcdf6ae5eb2fa2d27416d5f184df9c259a7c79");
}

static void test_hmac_rejects_unknown_algorithm_and_small_buffer(void **state) {
  uint8_t mac[SB_SIGNATURE_DIGEST_MAX];
  size_t n = sizeof mac;
  assert_int_equal(sb_signature_hmac("md5", "k", 1, "m", 1, mac, &n),
                   SB_EINVAL);
  assert_int_equal(sb_signature_hmac(NULL, "k", 1, "m", 1, mac, &n), SB_EINVAL);
  n = SB_SIGNATURE_SHA256_LEN - 1;
  assert_int_equal(sb_signature_hmac("sha256", "k", 1, "m", 1, mac, &n),
                   SB_ETOOBIG);
}

static void test_equal_compares_all_bytes(void **state) {
  assert_true(sb_signature_equal("abcdef", "abcdef", 6));
  assert_false(sb_signature_equal("abcdef", "abcdeg", 6));
  assert_false(sb_signature_equal("xbcdef", "abcdef", 6));
  assert_true(sb_signature_equal("abc", "abd", 2));
}

/* RFC 4648 section 10. */
static const char *const B64_PLAIN[] = {"",     "f",     "fo",    "foo",
                                        "foob", "fooba", "foobar"};
static const char *const B64_TEXT[] = {
    "", "Zg==", "Zm8=", "Zm9v", "Zm9vYg==", "Zm9vYmE=", "Zm9vYmFy"};

static void test_base64_round_trips_rfc4648_vectors(void **state) {
  for (size_t i = 0; i < sizeof B64_PLAIN / sizeof B64_PLAIN[0]; i++) {
    char text[TEXT_MAX];
    uint8_t bytes[TEXT_MAX];
    size_t n = 0;
    size_t len = strlen(B64_PLAIN[i]);
    assert_int_equal(
        sb_signature_base64_encode(B64_PLAIN[i], len, text, sizeof text), 0);
    assert_string_equal(text, B64_TEXT[i]);
    assert_int_equal(
        sb_signature_base64_decode(text, strlen(text), bytes, sizeof bytes, &n),
        0);
    assert_int_equal(n, len);
    assert_memory_equal(bytes, B64_PLAIN[i], len);
  }
}

static void test_base64_decode_rejects_non_canonical_text(void **state) {
  static const char *const bad[] = {
      "Zg=",  "Zh==", "Z===",  "Zg==Zg==", "Zm9v\n", "Zm-v",
      "Zm_v", "=Zm9", "Zm9v=", "Zm8",      "Zm8 ",   "Zm=v"};
  uint8_t bytes[TEXT_MAX];
  size_t n;
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
    assert_int_equal(sb_signature_base64_decode(bad[i], strlen(bad[i]), bytes,
                                                sizeof bytes, &n),
                     SB_EINVAL);
}

static void test_encoders_refuse_short_buffers(void **state) {
  char out[16];
  uint8_t bytes[2];
  size_t n;
  assert_int_equal(sb_signature_base64_encode("foobar", 6, out, 8), SB_ETOOBIG);
  assert_int_equal(sb_signature_base64_encode("foobar", 6, out, 9), 0);
  assert_int_equal(sb_signature_hex_encode("abcd", 4, out, 8), SB_ETOOBIG);
  assert_int_equal(sb_signature_base64_decode("Zm9v", 4, bytes, 2, &n),
                   SB_ETOOBIG);
  assert_int_equal(sb_signature_hex_decode("0a0b0c", 6, bytes, 2, &n),
                   SB_ETOOBIG);
}

static void test_hex_decode_takes_either_case_and_rejects_junk(void **state) {
  uint8_t bytes[4];
  size_t n = 0;
  assert_int_equal(sb_signature_hex_decode("0aFf", 4, bytes, 4, &n), 0);
  assert_int_equal(n, 2);
  assert_int_equal(bytes[0], 0x0a);
  assert_int_equal(bytes[1], 0xff);
  assert_int_equal(sb_signature_hex_decode("0aF", 3, bytes, 4, &n), SB_EINVAL);
  assert_int_equal(sb_signature_hex_decode("0g", 2, bytes, 4, &n), SB_EINVAL);
}

/* ------------------------------------------------------------------ Meta */

static void test_meta_valid_signature_passes(void **state) {
  const char *why = NULL;
  assert_int_equal(sb_signature_meta_check(META_SECRET, META_SIG, META_BODY,
                                           strlen(META_BODY), &why),
                   0);
}

static void test_meta_signature_of_fixture_passes(void **state) {
  size_t len = 0;
  char *body = sb_test_fixture("tests/fixtures/webhooks/"
                               "meta_whatsapp_messages.json",
                               &len);
  /* openssl dgst -sha256 -hmac 'meta-app-secret-for-tests'
   *   < tests/fixtures/webhooks/meta_whatsapp_messages.json */
  const char *sig = "sha256=de97230eb941fbd2337144cf3820bd6d2646b6790a5985b"
                    "09606fe47b4e1e279";
  assert_int_equal(sb_signature_meta_check(META_SECRET, sig, body, len, NULL),
                   0);
  free(body);
}

static void test_meta_any_changed_byte_fails(void **state) {
  char body[sizeof META_BODY];
  const char *why = NULL;
  for (size_t i = 0; i < strlen(META_BODY); i++) {
    memcpy(body, META_BODY, sizeof body);
    body[i] ^= 0x01;
    assert_int_equal(sb_signature_meta_check(META_SECRET, META_SIG, body,
                                             strlen(META_BODY), &why),
                     SB_EINVAL);
    assert_string_equal(why, "signature mismatch");
  }
  assert_int_equal(sb_signature_meta_check(META_SECRET, META_SIG, META_BODY,
                                           strlen(META_BODY) - 1, &why),
                   SB_EINVAL);
}

static void test_meta_wrong_secret_fails(void **state) {
  assert_int_equal(sb_signature_meta_check("other-secret", META_SIG, META_BODY,
                                           strlen(META_BODY), NULL),
                   SB_EINVAL);
}

static void test_meta_header_spacing_and_hex_case_are_tolerated(void **state) {
  char sig[TEXT_MAX];
  snprintf(sig, sizeof sig, "  %s\t", META_SIG);
  for (char *p = sig + 9; *p; p++)
    if (*p >= 'a' && *p <= 'f') *p = (char)(*p - 'a' + 'A');
  assert_int_equal(sb_signature_meta_check(META_SECRET, sig, META_BODY,
                                           strlen(META_BODY), NULL),
                   0);
}

static void test_meta_malformed_headers_fail_with_reason(void **state) {
  static const struct {
    const char *header, *why;
  } cases[] = {
      {NULL, "missing signature header"},
      {"", "missing signature header"},
      {"   ", "missing signature header"},
      {"sha1=bd8e771450daa7bc6e995d14e891f04b2be607655d3dac4f3f8c690b8efe9629",
       "signature header must start with sha256="},
      {"bd8e771450daa7bc6e995d14e891f04b2be607655d3dac4f3f8c690b8efe9629",
       "signature header must start with sha256="},
      {"sha256=bd8e77", "malformed signature"},
      {"sha256="
       "zz8e771450daa7bc6e995d14e891f04b2be607655d3dac4f3f8c690b8efe9629",
       "malformed signature"},
      {"sha256="
       "bd8e771450daa7bc6e995d14e891f04b2be607655d3dac4f3f8c690b8efe962900",
       "malformed signature"},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    const char *why = NULL;
    assert_int_equal(sb_signature_meta_check(META_SECRET, cases[i].header,
                                             META_BODY, strlen(META_BODY),
                                             &why),
                     SB_EINVAL);
    assert_string_equal(why, cases[i].why);
  }
}

static void test_meta_overlong_header_fails(void **state) {
  char sig[SB_SIGNATURE_HEADER_MAX + 16];
  memset(sig, 'a', sizeof sig - 1);
  sig[sizeof sig - 1] = '\0';
  memcpy(sig, "sha256=", 7);
  const char *why = NULL;
  assert_int_equal(sb_signature_meta_check(META_SECRET, sig, META_BODY,
                                           strlen(META_BODY), &why),
                   SB_EINVAL);
  assert_string_equal(why, "signature header too long");
}

static void test_empty_secret_never_passes(void **state) {
  uint8_t mac[SB_SIGNATURE_DIGEST_MAX];
  size_t n = sizeof mac;
  char sig[TEXT_MAX] = "sha256=";
  const char *why = NULL;
  /* a signature made with the empty key is still refused */
  assert_int_equal(
      sb_signature_hmac("sha256", "", 0, META_BODY, strlen(META_BODY), mac, &n),
      0);
  hex_of(mac, n, sig + 7);
  assert_int_equal(
      sb_signature_meta_check("", sig, META_BODY, strlen(META_BODY), &why),
      SB_EINVAL);
  assert_string_equal(why, "no secret configured for this account");
  assert_int_equal(
      sb_signature_meta_check(NULL, sig, META_BODY, strlen(META_BODY), NULL),
      SB_EINVAL);
  assert_int_equal(
      sb_signature_x_check("", X_SIG, X_BODY, strlen(X_BODY), NULL), SB_EINVAL);
}

static void test_meta_handshake_returns_challenge(void **state) {
  sb_form_t q = form_of("hub.mode=subscribe&hub.challenge=1158201444&"
                        "hub.verify_token=meatyhamhock");
  const char *challenge = NULL, *why = NULL;
  assert_int_equal(
      sb_signature_meta_handshake(&q, "meatyhamhock", &challenge, &why), 0);
  assert_string_equal(challenge, "1158201444");
  sb_form_free(&q);
}

static void test_meta_handshake_refusals(void **state) {
  static const struct {
    const char *query, *why;
  } cases[] = {
      {"hub.mode=subscribe&hub.challenge=1&hub.verify_token=wrong",
       "hub.verify_token does not match"},
      {"hub.mode=subscribe&hub.challenge=1&hub.verify_token=meatyhamhoc",
       "hub.verify_token does not match"},
      {"hub.mode=subscribe&hub.challenge=1", "hub.verify_token does not match"},
      {"hub.mode=unsubscribe&hub.challenge=1&hub.verify_token=meatyhamhock",
       "hub.mode must be subscribe"},
      {"hub.mode=subscribe&hub.verify_token=meatyhamhock",
       "hub.challenge must be 1..128 of [A-Za-z0-9_-]"},
      {"hub.mode=subscribe&hub.challenge=%3Cscript%3E&hub.verify_token="
       "meatyhamhock",
       "hub.challenge must be 1..128 of [A-Za-z0-9_-]"},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    sb_form_t q = form_of(cases[i].query);
    const char *challenge = "unset", *why = NULL;
    assert_int_equal(
        sb_signature_meta_handshake(&q, "meatyhamhock", &challenge, &why),
        SB_EINVAL);
    assert_null(challenge);
    assert_string_equal(why, cases[i].why);
    sb_form_free(&q);
  }
  sb_form_t q = form_of("hub.mode=subscribe&hub.challenge=1&hub.verify_token=");
  assert_int_equal(sb_signature_meta_handshake(&q, "", NULL, NULL), SB_EINVAL);
  sb_form_free(&q);
}

/* --------------------------------------------------------------------- X */

static void test_x_valid_signature_passes(void **state) {
  assert_int_equal(
      sb_signature_x_check(X_SECRET, X_SIG, X_BODY, strlen(X_BODY), NULL), 0);
}

static void test_x_tampered_body_or_hex_signature_fails(void **state) {
  const char *why = NULL;
  char body[sizeof X_BODY];
  memcpy(body, X_BODY, sizeof body);
  body[3] = 'X';
  assert_int_equal(
      sb_signature_x_check(X_SECRET, X_SIG, body, strlen(body), &why),
      SB_EINVAL);
  assert_string_equal(why, "signature mismatch");
  /* X signs in base64: Meta's hex form of the same MAC is malformed here */
  assert_int_equal(
      sb_signature_x_check(X_SECRET, META_SIG, X_BODY, strlen(X_BODY), &why),
      SB_EINVAL);
  assert_string_equal(why, "malformed signature");
}

static void test_x_crc_response_matches_openssl(void **state) {
  char json[SB_SIGNATURE_X_CRC_JSON_MAX];
  assert_int_equal(sb_signature_x_crc(X_SECRET, "a7f3c2e1-crc-token-0001", json,
                                      sizeof json),
                   0);
  /* printf 'a7f3c2e1-crc-token-0001' | openssl dgst -sha256
   *   -hmac 'x-consumer-secret-for-tests' -binary | base64 */
  assert_string_equal(json, "{\"response_token\":\"sha256=b9PGIM6/V2X+kqxYK+"
                            "mO0HH53vrL/ykPcWD3tiCCbXU=\"}");
}

static void test_x_crc_refuses_bad_arguments(void **state) {
  char json[SB_SIGNATURE_X_CRC_JSON_MAX];
  char big[SB_SIGNATURE_X_CRC_TOKEN_MAX + 2];
  memset(big, 'a', sizeof big - 1);
  big[sizeof big - 1] = '\0';
  assert_int_equal(sb_signature_x_crc("", "t", json, sizeof json), SB_EINVAL);
  assert_int_equal(sb_signature_x_crc(X_SECRET, "", json, sizeof json),
                   SB_EINVAL);
  assert_int_equal(sb_signature_x_crc(X_SECRET, NULL, json, sizeof json),
                   SB_EINVAL);
  assert_int_equal(sb_signature_x_crc(X_SECRET, big, json, sizeof json),
                   SB_EINVAL);
  assert_int_equal(sb_signature_x_crc(X_SECRET, "t", json, 40), SB_ETOOBIG);
}

/* ---------------------------------------------------------------- Twilio */

/* Twilio's documented example (auth token 12345); also reproduced with
 * python3 hmac: url + "".join(k + v for k, v in sorted(params)) */
#define TWILIO_DOC_URL "https://mycompany.com/myapp.php?foo=1&bar=2"
#define TWILIO_DOC_FORM                                                        \
  "CallSid=CA1234567890ABCDE&Caller=%2B14158675309&Digits=1234&"               \
  "From=%2B14158675309&To=%2B18005551212"
#define TWILIO_DOC_SIG "RSOYDt4T1cUTdK1PDd93/VVr8B8="

static void test_twilio_documented_example_passes(void **state) {
  sb_form_t f = form_of(TWILIO_DOC_FORM);
  assert_int_equal(sb_signature_twilio_check("12345", TWILIO_DOC_URL, &f,
                                             TWILIO_DOC_SIG, NULL),
                   0);
  sb_form_free(&f);
}

static void test_twilio_param_order_in_body_does_not_matter(void **state) {
  sb_form_t f = form_of("To=%2B18005551212&Digits=1234&From=%2B14158675309&"
                        "Caller=%2B14158675309&CallSid=CA1234567890ABCDE");
  assert_int_equal(sb_signature_twilio_check("12345", TWILIO_DOC_URL, &f,
                                             TWILIO_DOC_SIG, NULL),
                   0);
  sb_form_free(&f);
}

static void test_twilio_changed_param_url_or_token_fails(void **state) {
  sb_form_t f = form_of(TWILIO_DOC_FORM "&Extra=1");
  const char *why = NULL;
  assert_int_equal(sb_signature_twilio_check("12345", TWILIO_DOC_URL, &f,
                                             TWILIO_DOC_SIG, &why),
                   SB_EINVAL);
  assert_string_equal(why, "signature mismatch");
  sb_form_free(&f);
  f = form_of(TWILIO_DOC_FORM);
  assert_int_equal(sb_signature_twilio_check("12345",
                                             "https://mycompany.com/myapp.php",
                                             &f, TWILIO_DOC_SIG, NULL),
                   SB_EINVAL);
  assert_int_equal(sb_signature_twilio_check("54321", TWILIO_DOC_URL, &f,
                                             TWILIO_DOC_SIG, NULL),
                   SB_EINVAL);
  assert_int_equal(sb_signature_twilio_check("12345", TWILIO_DOC_URL, &f,
                                             "sha256=" TWILIO_DOC_SIG, NULL),
                   SB_EINVAL);
  sb_form_free(&f);
}

static void test_twilio_url_with_or_without_default_port_passes(void **state) {
  sb_form_t f = form_of(TWILIO_DOC_FORM);
  /* signed without the port, configured with it */
  assert_int_equal(sb_signature_twilio_check(
                       "12345",
                       "https://mycompany.com:443/myapp.php?foo=1&bar=2", &f,
                       TWILIO_DOC_SIG, NULL),
                   0);
  /* signed with the port: python3 hmac over
   * "https://mycompany.com:443/myapp.php?foo=1&bar=2" + sorted pairs */
  assert_int_equal(
      sb_signature_twilio_check("12345", TWILIO_DOC_URL, &f,
                                "kvajT1Ptam85bY51eRf/AJRuM3w=", NULL),
      0);
  sb_form_free(&f);
}

static void test_twilio_fixture_signature_passes(void **state) {
  size_t len = 0;
  char *body = sb_test_fixture("tests/fixtures/webhooks/twilio_sms.form", &len);
  sb_form_t f = {0};
  assert_int_equal(sb_form_urlencoded_parse(body, len, NULL, &f, NULL, 0), 0);
  /* python3: pairs = urllib.parse.parse_qsl(body, keep_blank_values=True);
   * base64(hmac.new(token, url + "".join(k + v for k, v in sorted(pairs)),
   * sha1)) */
  assert_int_equal(sb_signature_twilio_check(
                       TWILIO_TOKEN,
                       "https://ingest.example.com/webhooks/twilio/acme-sms",
                       &f, "kGgolnn8rqds1I/d6gCMwqyOMZY=", NULL),
                   0);
  sb_form_free(&f);
  free(body);
}

static void test_twilio_repeated_names_sort_by_value(void **state) {
  /* python3: sorted(set([("a","2"),("a","1"),("b","x"),("a","2")])) as in
   * twilio-python's RequestValidator */
  sb_form_t f = form_of("a=2&a=1&b=x&a=2");
  assert_int_equal(
      sb_signature_twilio_check("12345", "https://example.com/hook", &f,
                                "BDd0jWE25rvBqZHZXIA54g94Ua0=", NULL),
      0);
  sb_form_free(&f);
}

static void test_twilio_missing_url_or_header_fails(void **state) {
  sb_form_t f = form_of(TWILIO_DOC_FORM);
  const char *why = NULL;
  assert_int_equal(
      sb_signature_twilio_check("12345", NULL, &f, TWILIO_DOC_SIG, &why),
      SB_EINVAL);
  assert_string_equal(why, "missing request URL");
  assert_int_equal(
      sb_signature_twilio_check("12345", TWILIO_DOC_URL, &f, NULL, &why),
      SB_EINVAL);
  assert_string_equal(why, "missing signature header");
  assert_int_equal(
      sb_signature_twilio_check("", TWILIO_DOC_URL, &f, TWILIO_DOC_SIG, &why),
      SB_EINVAL);
  sb_form_free(&f);
}

/* ---------------------------------------------------------------- WeChat */

#define WX_TOKEN "wechat-token-for-tests"
/* printf '13726231491409659813wechat-token-for-tests' | openssl dgst -sha1
 * (the parts sorted: nonce, timestamp, token) */
#define WX_SIG "ddf5e82f89a3fa3f4069a8ee78456fc797368912"

static void test_wechat_signature_is_sha1_of_sorted_parts(void **state) {
  const char *why = NULL;
  assert_int_equal(
      sb_signature_wechat_check(WX_TOKEN, "1409659813", "1372623149", NULL, WX_SIG, &why), 0);
  assert_int_equal(sb_signature_wechat_check(WX_TOKEN, "1409659813", "1372623149", NULL,
                                             "DDF5E82F89A3FA3F4069A8EE78456FC797368912", &why),
                   0);
  /* timestamp and nonce swapped: the same sorted string, the same SHA-1 */
  assert_int_equal(
      sb_signature_wechat_check(WX_TOKEN, "1372623149", "1409659813", NULL, WX_SIG, &why), 0);
}

static void test_wechat_wrong_token_part_or_signature_fails(void **state) {
  const char *why = NULL;
  assert_int_equal(
      sb_signature_wechat_check("other-token", "1409659813", "1372623149", NULL, WX_SIG, &why),
      SB_EINVAL);
  assert_string_equal(why, "signature mismatch");
  assert_int_equal(
      sb_signature_wechat_check(WX_TOKEN, "1409659814", "1372623149", NULL, WX_SIG, &why),
      SB_EINVAL);
  assert_int_equal(sb_signature_wechat_check(WX_TOKEN, "1409659813", "1372623149", "Encrypt",
                                             WX_SIG, &why),
                   SB_EINVAL);
  assert_int_equal(
      sb_signature_wechat_check(WX_TOKEN, "1409659813", "1372623149", NULL, "ddf5", &why),
      SB_EINVAL);
  assert_string_equal(why, "malformed signature");
  assert_int_equal(
      sb_signature_wechat_check(WX_TOKEN, "1409659813", "1372623149", NULL, NULL, &why),
      SB_EINVAL);
  assert_int_equal(sb_signature_wechat_check(WX_TOKEN, NULL, "1372623149", NULL, WX_SIG, &why),
                   SB_EINVAL);
  assert_int_equal(sb_signature_wechat_check(WX_TOKEN, "", "1372623149", NULL, WX_SIG, &why),
                   SB_EINVAL);
  assert_int_equal(sb_signature_wechat_check("", "1409659813", "1372623149", NULL, WX_SIG, &why),
                   SB_EINVAL);
  assert_int_equal(
      sb_signature_wechat_check(NULL, "1409659813", "1372623149", NULL, WX_SIG, &why), SB_EINVAL);
}

static void test_wechat_handshake_returns_echostr(void **state) {
  const char *echo = NULL, *why = NULL;
  sb_form_t q = form_of("signature=" WX_SIG "&timestamp=1409659813&nonce=1372623149"
                        "&echostr=5838479218127813673");
  assert_int_equal(sb_signature_wechat_handshake(&q, WX_TOKEN, &echo, &why), 0);
  assert_string_equal(echo, "5838479218127813673");
  sb_form_free(&q);
  q = form_of("signature=" WX_SIG "&timestamp=1409659813&nonce=1372623149"
              "&echostr=%3Cscript%3E");
  assert_int_equal(sb_signature_wechat_handshake(&q, WX_TOKEN, &echo, &why), SB_EINVAL);
  assert_null(echo);
  sb_form_free(&q);
  q = form_of("signature=" WX_SIG "&timestamp=1409659813&nonce=1&echostr=1");
  assert_int_equal(sb_signature_wechat_handshake(&q, WX_TOKEN, &echo, &why), SB_EINVAL);
  assert_null(echo);
  sb_form_free(&q);
}

/* -------------------------------------------------------------- Telegram */

static void test_telegram_secret_token_must_match_exactly(void **state) {
  const char *why = NULL;
  assert_int_equal(sb_signature_telegram_check("tg_Secret-123", "tg_Secret-123", &why), 0);
  assert_int_equal(sb_signature_telegram_check("tg_Secret-123", "tg_Secret-124", &why),
                   SB_EINVAL);
  assert_string_equal(why, "secret token mismatch");
  assert_int_equal(sb_signature_telegram_check("tg_Secret-123", "tg_Secret-12", &why), SB_EINVAL);
  assert_int_equal(sb_signature_telegram_check("tg_Secret-123", "tg_Secret-1234", &why),
                   SB_EINVAL);
  assert_int_equal(sb_signature_telegram_check("tg_Secret-123", "", &why), SB_EINVAL);
  assert_int_equal(sb_signature_telegram_check("tg_Secret-123", NULL, &why), SB_EINVAL);
  assert_string_equal(why, "missing secret token header");
  assert_int_equal(sb_signature_telegram_check("", "", &why), SB_EINVAL);
  assert_int_equal(sb_signature_telegram_check(NULL, "x", &why), SB_EINVAL);
  char long_header[SB_SIGNATURE_TELEGRAM_TOKEN_MAX + 2];
  memset(long_header, 'a', sizeof long_header - 1);
  long_header[sizeof long_header - 1] = '\0';
  assert_int_equal(sb_signature_telegram_check("a", long_header, &why), SB_EINVAL);
  assert_string_equal(why, "secret token header too long");
}

/* ------------------------------------------------------------------ LINE */

#define LINE_SECRET "line-channel-secret-for-tests"
static const char LINE_BODY[] =
    "{\"destination\":\"U8e8a3f1d2c7b6a5948372615a4b3c2d1\",\"events\":[]}";
/* printf '<LINE_BODY>' | openssl dgst -sha256 -hmac
 *   'line-channel-secret-for-tests' -binary | base64 */
static const char LINE_SIG[] = "ySZD01Q6tG/ZCBo+MRG5NNroPj7zg5C+RdWgd/H4PyU=";

static void test_line_signature_is_base64_hmac_of_the_body(void **state) {
  const char *why = NULL;
  size_t len = 0;
  char *body = sb_test_fixture("tests/fixtures/webhooks/line_verify.json", &len);
  assert_int_equal(len, strlen(LINE_BODY));
  assert_int_equal(sb_signature_line_check(LINE_SECRET, LINE_SIG, body, len, &why), 0);
  free(body);
  assert_int_equal(
      sb_signature_line_check(LINE_SECRET, LINE_SIG, LINE_BODY, sizeof LINE_BODY - 1, &why), 0);
}

static void test_line_wrong_secret_body_or_header_fails(void **state) {
  const char *why = NULL;
  size_t n = sizeof LINE_BODY - 1;
  assert_int_equal(sb_signature_line_check("other", LINE_SIG, LINE_BODY, n, &why), SB_EINVAL);
  assert_string_equal(why, "signature mismatch");
  assert_int_equal(sb_signature_line_check(LINE_SECRET, LINE_SIG, LINE_BODY, n - 1, &why),
                   SB_EINVAL);
  char prefixed[128];
  snprintf(prefixed, sizeof prefixed, "sha256=%s", LINE_SIG);
  assert_int_equal(sb_signature_line_check(LINE_SECRET, prefixed, LINE_BODY, n, &why), SB_EINVAL);
  assert_int_equal(sb_signature_line_check(LINE_SECRET, NULL, LINE_BODY, n, &why), SB_EINVAL);
  assert_int_equal(sb_signature_line_check(LINE_SECRET, "%%%%", LINE_BODY, n, &why), SB_EINVAL);
  assert_string_equal(why, "malformed signature");
  assert_int_equal(sb_signature_line_check("", LINE_SIG, LINE_BODY, n, &why), SB_EINVAL);
}

/* SendGrid Signed Event Webhook: ECDSA P-256 over timestamp + body, key
 * tests/fixtures/webhooks/sendgrid_event_key.pem. Computed with
 *   printf '%s%s' "$SG_TS" "$SG_BODY" |
 *     openssl dgst -sha256 -sign sendgrid_event_key.pem | base64 -w0
 * and the public key with
 *   openssl ec -in sendgrid_event_key.pem -pubout -outform DER | base64 -w0 */
#define SG_KEY "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEU3B0Zl+3ntlQr/ZOyc3vyr6ADKe6NS/1HpC8sxqCtKdm" \
               "qSr0t2FEeo37ZSaNQNJWEvcqr7TxFkj7D/T+3z2rYQ=="
#define SG_TS "1764064800"
#define SG_SIG "MEUCIGw0a9jMkIGoDzX9GJn52owLS1JXl4sdE0OpKKdhuVz0AiEA1GHm/Kil8mlr8iObpjoReal9q/5cfnHy" \
               "ecnsEJBzyVo="
static const char SG_BODY[] = "[{\"email\":\"ana.silva@example.org\",\"timestamp\":1764064810,"
                              "\"event\":\"delivered\",\"sg_message_id\":\"Rz7HMYu7Tw-nCeg0JtWeZQ"
                              ".filterdrecv-1\"}]";
/* openssl genpkey -algorithm ed25519 | openssl pkey -pubout -outform DER | base64 -w0 */
#define ED25519_KEY "MCowBQYDK2VwAyEABSxkn89dVZdc2iOqguglj0ViLBmJsu/R2ogK7yZPWsk="

static void test_sendgrid_ecdsa_signature_over_timestamp_and_body(void **state) {
  (void)state;
  const char *why = NULL;
  int64_t now = 1764064800 + 60;
  size_t n = strlen(SG_BODY);
  assert_int_equal(sb_signature_sendgrid_check(SG_KEY, SG_SIG, SG_TS, now, SG_BODY, n, &why), 0);
  /* a day later still (SendGrid retries for up to 24 h), not two */
  assert_int_equal(sb_signature_sendgrid_check(SG_KEY, SG_SIG, SG_TS, now + 86400, SG_BODY, n, &why), 0);
  assert_int_equal(sb_signature_sendgrid_check(SG_KEY, SG_SIG, SG_TS, now + 2 * 86400, SG_BODY, n, &why),
                   SB_EINVAL);
  assert_string_equal(why, "timestamp outside the replay window");
  /* one byte of the body, the timestamp, or the signature changed */
  char body[sizeof SG_BODY];
  memcpy(body, SG_BODY, sizeof body);
  body[n - 4] ^= 1;
  assert_int_equal(sb_signature_sendgrid_check(SG_KEY, SG_SIG, SG_TS, now, body, n, &why), SB_EINVAL);
  assert_string_equal(why, "signature mismatch");
  assert_int_equal(sb_signature_sendgrid_check(SG_KEY, SG_SIG, "1764064801", now, SG_BODY, n, &why),
                   SB_EINVAL);
  assert_string_equal(why, "signature mismatch");
  char sig[] = SG_SIG;
  sig[10] = sig[10] == 'A' ? 'B' : 'A';
  assert_int_equal(sb_signature_sendgrid_check(SG_KEY, sig, SG_TS, now, SG_BODY, n, &why), SB_EINVAL);
  /* missing or malformed parts, and keys that cannot verify it */
  static const struct {
    const char *key, *sig, *ts, *why;
  } bad[] = {
      {NULL, SG_SIG, SG_TS, "no event_key (SendGrid verification key) configured for this account"},
      {"", SG_SIG, SG_TS, "no event_key (SendGrid verification key) configured for this account"},
      {SG_KEY, NULL, SG_TS, "missing signature or timestamp header"},
      {SG_KEY, SG_SIG, NULL, "missing signature or timestamp header"},
      {SG_KEY, SG_SIG, "17640648OO", "bad timestamp header"},
      {SG_KEY, SG_SIG, "-1764064800", "bad timestamp header"},
      {SG_KEY, "not base64!", SG_TS, "signature header is not base64"},
      {ED25519_KEY, SG_SIG, SG_TS, "event_key is not a base64 EC public key"},
      {"bm90IGEga2V5", SG_SIG, SG_TS, "event_key is not a base64 EC public key"},
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    why = NULL;
    assert_int_equal(
        sb_signature_sendgrid_check(bad[i].key, bad[i].sig, bad[i].ts, now, SG_BODY, n, &why),
        SB_EINVAL);
    assert_string_equal(why, bad[i].why);
  }
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_hmac_sha256_matches_rfc4231_case_2),
      cmocka_unit_test(test_hmac_sha1_matches_rfc2202_case_2),
      cmocka_unit_test(test_hmac_rejects_unknown_algorithm_and_small_buffer),
      cmocka_unit_test(test_equal_compares_all_bytes),
      cmocka_unit_test(test_base64_round_trips_rfc4648_vectors),
      cmocka_unit_test(test_base64_decode_rejects_non_canonical_text),
      cmocka_unit_test(test_encoders_refuse_short_buffers),
      cmocka_unit_test(test_hex_decode_takes_either_case_and_rejects_junk),
      cmocka_unit_test(test_meta_valid_signature_passes),
      cmocka_unit_test(test_meta_signature_of_fixture_passes),
      cmocka_unit_test(test_meta_any_changed_byte_fails),
      cmocka_unit_test(test_meta_wrong_secret_fails),
      cmocka_unit_test(test_meta_header_spacing_and_hex_case_are_tolerated),
      cmocka_unit_test(test_meta_malformed_headers_fail_with_reason),
      cmocka_unit_test(test_meta_overlong_header_fails),
      cmocka_unit_test(test_empty_secret_never_passes),
      cmocka_unit_test(test_meta_handshake_returns_challenge),
      cmocka_unit_test(test_meta_handshake_refusals),
      cmocka_unit_test(test_x_valid_signature_passes),
      cmocka_unit_test(test_x_tampered_body_or_hex_signature_fails),
      cmocka_unit_test(test_x_crc_response_matches_openssl),
      cmocka_unit_test(test_x_crc_refuses_bad_arguments),
      cmocka_unit_test(test_twilio_documented_example_passes),
      cmocka_unit_test(test_twilio_param_order_in_body_does_not_matter),
      cmocka_unit_test(test_twilio_changed_param_url_or_token_fails),
      cmocka_unit_test(test_twilio_url_with_or_without_default_port_passes),
      cmocka_unit_test(test_twilio_fixture_signature_passes),
      cmocka_unit_test(test_twilio_repeated_names_sort_by_value),
      cmocka_unit_test(test_twilio_missing_url_or_header_fails),
      cmocka_unit_test(test_wechat_signature_is_sha1_of_sorted_parts),
      cmocka_unit_test(test_wechat_wrong_token_part_or_signature_fails),
      cmocka_unit_test(test_wechat_handshake_returns_echostr),
      cmocka_unit_test(test_telegram_secret_token_must_match_exactly),
      cmocka_unit_test(test_line_signature_is_base64_hmac_of_the_body),
      cmocka_unit_test(test_line_wrong_secret_body_or_header_fails),
      cmocka_unit_test(test_sendgrid_ecdsa_signature_over_timestamp_and_body),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
