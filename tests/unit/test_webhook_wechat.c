/*
 * test_webhook_wechat: behaviours of the WeChat reader of sb_webhook (XML
 * messages into items) and of the safe-mode path that feeds it (the
 * Encrypt field, its signature and its decryption in sb_signature).
 *
 * Fixtures in tests/fixtures/webhooks/wechat_*.xml follow WeChat's
 * documented message formats; hostile bodies (billion laughs, external
 * entities, DOCTYPEs, truncations, other encodings, oversized bodies) are
 * built inline. Ciphertexts and signatures come from the openssl command
 * line tool (sb_testcrypto), never from the code under test.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sb_error.h"
#include "sb_signature.h"
#include "sb_testcrypto.h"
#include "sb_testfixture.h"
#include "sb_testutil.h"
#include "sb_testwebhook.h"
#include "sb_webhook.h"

enum { ERR_LEN = 256, FAST_MS = 200 };

#define FIX "tests/fixtures/webhooks/"
#define OPENID "oLVPpjqs9BhvzwPj5A-vTYAX3GLc"
#define TOKEN "wechat-token-for-tests"
#define APPID "wx5823bf96d3bd56c7"
/* 43 characters; its last one ('e') carries two bits beyond the 32-byte
 * key, as WeChat's console generates them: WeChat decodes leniently. */
#define AES_KEY "jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2e"

typedef sb_test_wh_result_t result_t;

static result_t parse_len(const char *body, size_t len) {
  return sb_test_wh_parse(sb_webhook_wechat_parse, body, len);
}

static result_t parse(const char *body) { return parse_len(body, strlen(body)); }

static result_t parse_fixture(const char *name) { return sb_test_wh_fixture(sb_webhook_wechat_parse, name); }

static const sb_wh_item_t *one_item(const result_t *r, sb_wh_kind_t kind) {
  assert_int_equal(r->rc, 0);
  assert_int_equal(r->b.n, 1);
  const sb_wh_item_t *it = &r->b.items[0];
  if (it->error[0] != '\0') fail_msg("item: %s", it->error);
  assert_int_equal(it->kind, kind);
  assert_string_equal(it->channel, "wechat");
  return it;
}

static void assert_refused(const char *body, int rc, const char *reason) {
  result_t r = parse(body);
  assert_int_equal(r.rc, rc);
  if (strstr(r.err, reason) == NULL) fail_msg("reason \"%s\", want \"%s\"", r.err, reason);
}

/* ------------------------------------------------------------- messages */

static void test_text_message_is_a_private_message_from_the_openid(void **state) {
  result_t r = parse_fixture("wechat_text.xml");
  const sb_wh_item_t *it = one_item(&r, SB_WH_MESSAGE);
  assert_string_equal(it->customer, OPENID);
  assert_string_equal(it->platform_message_id, "24587913541837265");
  assert_string_equal(it->text, "我的航班 CA936 延误了，请问怎么改签？ & <thanks>");
  assert_false(it->is_public);
  assert_int_equal(it->time_ms, 1718001234000LL);
  assert_null(it->status);
  sb_wh_batch_free(&r.b);
}

static void test_location_voice_link_and_media_get_labels(void **state) {
  result_t r = parse_fixture("wechat_location.xml");
  const sb_wh_item_t *it = one_item(&r, SB_WH_MESSAGE);
  assert_string_equal(it->text, "[location] 上海市黄浦区人民大道 (31.230416, 121.473701)");
  sb_wh_batch_free(&r.b);
  const char *cases[][2] = {
      {"<MsgType>voice</MsgType><Recognition>我要退票</Recognition>", "[voice] 我要退票"},
      {"<MsgType>voice</MsgType>", "[voice]"},
      {"<MsgType>image</MsgType><PicUrl>http://mmbiz.qpic.cn/x</PicUrl>", "[image]"},
      {"<MsgType>video</MsgType><MediaId>m</MediaId>", "[video]"},
      {"<MsgType>shortvideo</MsgType>", "[video]"},
      {"<MsgType>link</MsgType><Title>Refunds</Title><Description>policy</Description>"
       "<Url>https://acme.example/r</Url>",
       "[link] Refunds policy https://acme.example/r"},
      {"<MsgType>miniprogrampage</MsgType>", "[miniprogrampage]"},
      {"<MsgType>Weird-Type</MsgType>", "[attachment]"},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    char body[1024];
    snprintf(body, sizeof body,
             "<xml><FromUserName>" OPENID "</FromUserName><CreateTime>1718001234</CreateTime>"
             "%s<MsgId>%zu</MsgId></xml>",
             cases[i][0], 100 + i);
    r = parse(body);
    it = one_item(&r, SB_WH_MESSAGE);
    assert_string_equal(it->text, cases[i][1]);
    sb_wh_batch_free(&r.b);
  }
}

static void test_subscribe_is_ignored_and_click_is_a_message_keyed_by_sender_and_time(
    void **state) {
  result_t r = parse_fixture("wechat_event_subscribe.xml");
  const sb_wh_item_t *it = one_item(&r, SB_WH_IGNORED);
  assert_null(it->customer);
  sb_wh_batch_free(&r.b);
  r = parse("<xml><FromUserName>u</FromUserName><CreateTime>1</CreateTime>"
            "<MsgType>event</MsgType><Event>unsubscribe</Event></xml>");
  one_item(&r, SB_WH_IGNORED);
  sb_wh_batch_free(&r.b);
  r = parse_fixture("wechat_event_click.xml");
  it = one_item(&r, SB_WH_MESSAGE);
  assert_string_equal(it->platform_message_id, "event:" OPENID ":1718000100");
  assert_string_equal(it->customer, OPENID);
  assert_string_equal(it->text, "[click] MENU_BAGGAGE_CLAIM");
  sb_wh_batch_free(&r.b);
  /* the same click re-sent: the same id, so ingest sees a duplicate */
  result_t again = parse_fixture("wechat_event_click.xml");
  assert_string_equal(one_item(&again, SB_WH_MESSAGE)->platform_message_id,
                      "event:" OPENID ":1718000100");
  sb_wh_batch_free(&again.b);
}

static void test_missing_fields_mark_the_item_and_no_msgtype_fails(void **state) {
  result_t r = parse("<xml><MsgType>text</MsgType><Content>hi</Content><MsgId>1</MsgId></xml>");
  assert_int_equal(r.rc, 0);
  assert_int_equal(r.b.n, 1);
  assert_non_null(strstr(r.b.items[0].error, "FromUserName"));
  assert_null(r.b.items[0].text);
  sb_wh_batch_free(&r.b);
  r = parse("<xml><FromUserName>u</FromUserName><MsgType>text</MsgType><Content>hi</Content></xml>");
  assert_non_null(strstr(r.b.items[0].error, "MsgId"));
  sb_wh_batch_free(&r.b);
  r = parse("<xml><FromUserName>u</FromUserName><MsgType>text</MsgType><MsgId>1</MsgId></xml>");
  assert_non_null(strstr(r.b.items[0].error, "Content"));
  sb_wh_batch_free(&r.b);
  r = parse("<xml><FromUserName>u</FromUserName><MsgType>event</MsgType><Event>CLICK</Event></xml>");
  assert_non_null(strstr(r.b.items[0].error, "CreateTime"));
  sb_wh_batch_free(&r.b);
  assert_refused("<xml><FromUserName>u</FromUserName></xml>", SB_EPARSE, "no MsgType");
  /* a control character in an id is the item's fault, not the delivery's */
  r = parse("<xml><FromUserName>a&#x9;b</FromUserName><MsgType>text</MsgType>"
            "<Content>x</Content><MsgId>1</MsgId></xml>");
  assert_non_null(strstr(r.b.items[0].error, "control"));
  sb_wh_batch_free(&r.b);
}

/* ------------------------------------------------------------- hostile */

static void test_billion_laughs_is_refused_fast(void **state) {
  const char *lol =
      "<?xml version=\"1.0\"?>\n<!DOCTYPE xml [\n <!ENTITY lol \"lol\">\n"
      " <!ENTITY lol1 \"&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;\">\n"
      " <!ENTITY lol2 \"&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;\">\n"
      " <!ENTITY lol3 \"&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;\">\n"
      " <!ENTITY lol4 \"&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;\">\n"
      " <!ENTITY lol5 \"&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;\">\n"
      " <!ENTITY lol6 \"&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;\">\n"
      " <!ENTITY lol7 \"&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;\">\n"
      " <!ENTITY lol8 \"&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;\">\n"
      " <!ENTITY lol9 \"&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;\">\n"
      "]>\n<xml><FromUserName>u</FromUserName><MsgType>text</MsgType>"
      "<Content>&lol9;</Content><MsgId>1</MsgId></xml>";
  clock_t t0 = clock();
  assert_refused(lol, SB_EPARSE, "DOCTYPE");
  assert_true((clock() - t0) * 1000 / CLOCKS_PER_SEC < FAST_MS);
}

static void test_external_entities_and_any_doctype_are_refused(void **state) {
  assert_refused("<?xml version=\"1.0\"?><!DOCTYPE xml [<!ENTITY xxe SYSTEM "
                 "\"file:///etc/passwd\">]><xml><FromUserName>u</FromUserName>"
                 "<MsgType>text</MsgType><Content>&xxe;</Content><MsgId>1</MsgId></xml>",
                 SB_EPARSE, "DOCTYPE");
  assert_refused("<!DOCTYPE xml SYSTEM \"http://evil.example/x.dtd\"><xml/>", SB_EPARSE,
                 "DOCTYPE");
  assert_refused("<!DOCTYPE xml [<!ENTITY % p SYSTEM \"http://evil.example/p\"> %p;]><xml/>",
                 SB_EPARSE, "DOCTYPE");
  assert_refused("<!DOCTYPE xml><xml><MsgType>text</MsgType></xml>", SB_EPARSE, "DOCTYPE");
  /* without a DTD an entity is undefined: expat's own error */
  assert_refused("<xml><MsgType>text</MsgType><Content>&xxe;</Content></xml>", SB_EPARSE,
                 "undefined entity");
}

static void test_truncated_xml_fails_at_every_length(void **state) {
  size_t len = 0;
  char *body = sb_test_fixture(FIX "wechat_text.xml", &len);
  while (len > 0 && (body[len - 1] == '\n' || body[len - 1] == ' ')) len--;
  for (size_t n = 0; n < len; n++) {
    result_t r = parse_len(body, n);
    assert_int_not_equal(r.rc, 0);
  }
  result_t r = parse_len(body, len);
  one_item(&r, SB_WH_MESSAGE);
  sb_wh_batch_free(&r.b);
  free(body);
}

static void test_only_utf8_is_read(void **state) {
  assert_refused("<?xml version=\"1.0\" encoding=\"GBK\"?><xml><MsgType>text</MsgType></xml>",
                 SB_EPARSE, "UTF-8");
  assert_refused("<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?><xml/>", SB_EPARSE, "UTF-8");
  /* GBK bytes for 你好 without a declaration: not UTF-8 */
  assert_refused("<xml><MsgType>text</MsgType><Content>\xC4\xE3\xBA\xC3</Content></xml>",
                 SB_EPARSE, "invalid XML");
  /* UTF-16 with its byte order mark */
  static const char utf16[] = "\xFF\xFE<\0x\0m\0l\0/\0>\0";
  result_t r = parse_len(utf16, sizeof utf16 - 1);
  assert_int_equal(r.rc, SB_EPARSE);
  /* declared UTF-8 in any case, and a UTF-8 byte order mark, are fine */
  r = parse("\xEF\xBB\xBF<?xml version=\"1.0\" encoding=\"utf-8\"?><xml><FromUserName>u"
            "</FromUserName><MsgType>text</MsgType><Content>ok</Content><MsgId>1</MsgId></xml>");
  assert_string_equal(one_item(&r, SB_WH_MESSAGE)->text, "ok");
  sb_wh_batch_free(&r.b);
}

/* The parser is reused from body to body (XML_ParserReset): a body that was
 * refused half way, with an encoding declared, or stopped inside a field,
 * must leave nothing that changes how the next one reads. */
static void test_a_refused_body_leaves_nothing_for_the_next(void **state) {
  (void)state;
  static const char *const hostile[] = {
      "<?xml version=\"1.0\"?><!DOCTYPE xml [<!ENTITY e \"x\">]><xml>&e;</xml>",
      "<xml><FromUserName>a</FromUserName><FromUserName>b</FromUserName></xml>",
      "<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?><xml/>",
      "<xml><MsgType>text</MsgType><Content>trunc",
      "<notxml><MsgType>text</MsgType></notxml>",
  };
  for (size_t i = 0; i < sizeof hostile / sizeof hostile[0]; i++) {
    result_t bad = parse(hostile[i]);
    assert_int_not_equal(bad.rc, 0);
    result_t r = parse_fixture("wechat_text.xml");
    const sb_wh_item_t *it = one_item(&r, SB_WH_MESSAGE);
    assert_string_equal(it->customer, OPENID);
    assert_string_equal(it->text, "我的航班 CA936 延误了，请问怎么改签？ & <thanks>");
    sb_wh_batch_free(&r.b);
  }
}

static void test_oversized_deep_and_odd_shapes_fail_the_delivery(void **state) {
  size_t big = SB_WEBHOOK_XML_MAX + 1;
  char *body = malloc(big);
  memset(body, ' ', big);
  memcpy(body, "<xml>", 5);
  result_t r = parse_len(body, big);
  assert_int_equal(r.rc, SB_ETOOBIG);
  free(body);
  char deep[512] = "<xml>";
  for (int i = 0; i < SB_WEBHOOK_XML_DEPTH; i++) strcat(deep, "<a>");
  assert_refused(deep, SB_ETOOBIG, "nested");
  assert_refused("<message><MsgType>text</MsgType></message>", SB_EPARSE, "<xml>");
  assert_refused("<xml><MsgType>text</MsgType><MsgType>event</MsgType></xml>", SB_EPARSE,
                 "twice");
  assert_refused("", SB_EPARSE, "invalid XML");
  assert_refused("{\"json\": true}", SB_EPARSE, "invalid XML");
  static const char nul[] = "<xml><MsgType>te\0xt</MsgType></xml>";
  r = parse_len(nul, sizeof nul - 1);
  assert_int_equal(r.rc, SB_EPARSE);
}

static void test_a_replayed_body_gives_the_same_id(void **state) {
  result_t a = parse_fixture("wechat_text.xml"), b = parse_fixture("wechat_text.xml");
  assert_string_equal(one_item(&a, SB_WH_MESSAGE)->platform_message_id,
                      one_item(&b, SB_WH_MESSAGE)->platform_message_id);
  sb_wh_batch_free(&a.b);
  sb_wh_batch_free(&b.b);
}

/* ------------------------------------------------------------ safe mode */

/* The outer body WeChat posts in safe mode. */
static char *safe_body(const char *encrypt) {
  char *body = malloc(strlen(encrypt) + 256);
  assert_non_null(body);
  sprintf(body, "<xml><ToUserName><![CDATA[gh_3d8c5b6f9a21]]></ToUserName>"
                "<Encrypt><![CDATA[%s]]></Encrypt></xml>", encrypt);
  return body;
}

static void test_safe_mode_decrypts_checks_signature_and_reads_the_message(void **state) {
  size_t len = 0, plen = 0;
  char *msg = sb_test_fixture(FIX "wechat_text.xml", &len), *encrypt = NULL, *plain = NULL;
  char *cipher = sb_test_wechat_encrypt(AES_KEY, APPID, msg, len);
  char *body = safe_body(cipher), err[ERR_LEN], sig[SB_TEST_SHA1_HEX];
  const char *why = NULL;
  assert_int_equal(sb_webhook_wechat_encrypted(body, strlen(body), &encrypt, err, sizeof err), 0);
  assert_string_equal(encrypt, cipher);
  const char *parts[] = {TOKEN, "1718001234", "1514823170", cipher};
  sb_test_wechat_sign(sig, parts, 4);
  assert_int_equal(
      sb_signature_wechat_check(TOKEN, "1718001234", "1514823170", encrypt, sig, &why), 0);
  assert_int_equal(sb_signature_wechat_decrypt(AES_KEY, APPID, encrypt, &plain, &plen, &why), 0);
  assert_int_equal(plen, len);
  assert_memory_equal(plain, msg, len);
  result_t r = parse_len(plain, plen);
  assert_string_equal(one_item(&r, SB_WH_MESSAGE)->customer, OPENID);
  sb_wh_batch_free(&r.b);
  /* the plain signature (no Encrypt) is not the msg_signature */
  assert_int_equal(
      sb_signature_wechat_check(TOKEN, "1718001234", "1514823170", NULL, sig, &why), SB_EINVAL);
  free(plain);
  free(encrypt);
  free(body);
  free(cipher);
  free(msg);
}

static void test_safe_mode_wrong_appid_key_and_tampering_are_refused(void **state) {
  const char *msg = "<xml><MsgType>text</MsgType></xml>";
  char *cipher = sb_test_wechat_encrypt(AES_KEY, "wx0000000000000000", msg, strlen(msg));
  char *plain = NULL;
  size_t plen = 0;
  const char *why = NULL;
  assert_int_equal(sb_signature_wechat_decrypt(AES_KEY, APPID, cipher, &plain, &plen, &why),
                   SB_EINVAL);
  assert_string_equal(why, "AppID does not match");
  assert_null(plain);
  free(cipher);
  cipher = sb_test_wechat_encrypt(AES_KEY, APPID, msg, strlen(msg));
  /* another account's key: padding or AppID fails, never a message */
  assert_int_equal(sb_signature_wechat_decrypt("abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG",
                                               APPID, cipher, &plain, &plen, &why),
                   SB_EINVAL);
  assert_null(plain);
  assert_int_equal(sb_signature_wechat_decrypt("short", APPID, cipher, &plain, &plen, &why),
                   SB_EINVAL);
  assert_int_equal(sb_signature_wechat_decrypt(AES_KEY, APPID, "not base64!", &plain, &plen, &why),
                   SB_EINVAL);
  assert_int_equal(sb_signature_wechat_decrypt(AES_KEY, APPID, "AAAA", &plain, &plen, &why),
                   SB_EINVAL);
  assert_string_equal(why, "ciphertext is not whole AES blocks");
  /* one flipped bit in the last block breaks the padding */
  size_t n = strlen(cipher);
  cipher[n - 6] = cipher[n - 6] == 'A' ? 'B' : 'A';
  assert_int_equal(sb_signature_wechat_decrypt(AES_KEY, APPID, cipher, &plain, &plen, &why),
                   SB_EINVAL);
  assert_null(plain);
  free(cipher);
}

static void test_safe_mode_outer_body_needs_encrypt(void **state) {
  char err[ERR_LEN], *encrypt = (char *)"x";
  const char *body = "<xml><ToUserName>gh</ToUserName></xml>";
  assert_int_equal(sb_webhook_wechat_encrypted(body, strlen(body), &encrypt, err, sizeof err),
                   SB_EPARSE);
  assert_null(encrypt);
  assert_non_null(strstr(err, "Encrypt"));
  body = "<!DOCTYPE x [<!ENTITY e \"e\">]><xml><Encrypt>&e;</Encrypt></xml>";
  assert_int_equal(sb_webhook_wechat_encrypted(body, strlen(body), &encrypt, err, sizeof err),
                   SB_EPARSE);
  assert_null(encrypt);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_text_message_is_a_private_message_from_the_openid),
      cmocka_unit_test(test_location_voice_link_and_media_get_labels),
      cmocka_unit_test(
          test_subscribe_is_ignored_and_click_is_a_message_keyed_by_sender_and_time),
      cmocka_unit_test(test_missing_fields_mark_the_item_and_no_msgtype_fails),
      cmocka_unit_test(test_billion_laughs_is_refused_fast),
      cmocka_unit_test(test_external_entities_and_any_doctype_are_refused),
      cmocka_unit_test(test_truncated_xml_fails_at_every_length),
      cmocka_unit_test(test_only_utf8_is_read),
      cmocka_unit_test(test_a_refused_body_leaves_nothing_for_the_next),
      cmocka_unit_test(test_oversized_deep_and_odd_shapes_fail_the_delivery),
      cmocka_unit_test(test_a_replayed_body_gives_the_same_id),
      cmocka_unit_test(test_safe_mode_decrypts_checks_signature_and_reads_the_message),
      cmocka_unit_test(test_safe_mode_wrong_appid_key_and_tampering_are_refused),
      cmocka_unit_test(test_safe_mode_outer_body_needs_encrypt),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
