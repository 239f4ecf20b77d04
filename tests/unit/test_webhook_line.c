/*
 * test_webhook_line: behaviours of the LINE reader of sb_webhook
 * (Messaging API webhook events into items).
 *
 * Fixtures in tests/fixtures/webhooks/line_*.json follow the Messaging
 * API's documented webhook events; hostile cases are built inline.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sb_error.h"
#include "sb_testfixture.h"
#include "sb_testutil.h"
#include "sb_testwebhook.h"
#include "sb_webhook.h"

enum { ERR_LEN = 256 };

#define FIX "tests/fixtures/webhooks/"
#define USER1 "U4af4980629a1b2c3d4e5f60718293a4b"

typedef sb_test_wh_result_t result_t;

static result_t parse_len(const char *body, size_t len) {
  return sb_test_wh_parse(sb_webhook_line_parse, body, len);
}

static result_t parse(const char *body) { return parse_len(body, strlen(body)); }

static result_t parse_fixture(const char *name) { return sb_test_wh_fixture(sb_webhook_line_parse, name); }

static const sb_wh_item_t *ok_item(const result_t *r, size_t i, sb_wh_kind_t kind) {
  assert_int_equal(r->rc, 0);
  assert_true(i < r->b.n);
  const sb_wh_item_t *it = &r->b.items[i];
  if (it->error[0] != '\0') fail_msg("item %zu: %s", i, it->error);
  assert_int_equal(it->kind, kind);
  assert_string_equal(it->channel, "line");
  return it;
}

static void test_events_in_order_private_public_redelivered_and_ignored(void **state) {
  result_t r = parse_fixture("line_events.json");
  assert_int_equal(r.b.n, 5);
  const sb_wh_item_t *it = ok_item(&r, 0, SB_WH_MESSAGE);
  assert_string_equal(it->platform_message_id, "01HZX5T8K3M9Q2W7E4R6Y1U0IP");
  assert_string_equal(it->customer, USER1);
  assert_string_equal(it->text, "荷物が届いていません。予約番号は ABC123 です。");
  assert_false(it->is_public);
  assert_null(it->reply_chat); /* one-to-one: answers go to the user */
  assert_false(it->redelivery);
  assert_int_equal(it->time_ms, 1718003000123LL);
  assert_string_equal(it->reply_token, "b60d432864f44d079f6d8efe86cf404b");
  it = ok_item(&r, 1, SB_WH_MESSAGE);
  assert_string_equal(it->reply_token, "0f3779fba3b349968c5d07db31eab56f");
  assert_true(it->is_public);
  assert_string_equal(it->reply_chat, "Ca56f94637c1a2b3c4d5e6f708192a3b4"); /* the group */
  assert_true(it->redelivery);
  assert_string_equal(it->text, "[image]");
  assert_string_equal(it->reply_to, "507845617285930001");
  assert_string_equal(it->customer, "U91eeaf62d1a2b3c4d5e6f708192a3b4c");
  ok_item(&r, 2, SB_WH_IGNORED); /* follow */
  it = ok_item(&r, 3, SB_WH_MESSAGE);
  assert_string_equal(it->text, "[postback] action=rebook&flight=NH204");
  assert_string_equal(it->reply_token, "b60d432864f44d079f6d8efe86cf404c");
  ok_item(&r, 4, SB_WH_IGNORED); /* unfollow */
  sb_wh_batch_free(&r.b);
}

static void test_verify_request_has_no_items(void **state) {
  result_t r = parse_fixture("line_verify.json");
  assert_int_equal(r.rc, 0);
  assert_int_equal(r.b.n, 0);
  sb_wh_batch_free(&r.b);
}

static void test_message_types(void **state) {
  const char *cases[][2] = {
      {"{\"type\":\"file\",\"fileName\":\"boarding.pdf\"}", "[file] boarding.pdf"},
      {"{\"type\":\"location\",\"title\":\"Haneda\",\"address\":\"Ota City\",\"latitude\":"
       "35.5494,\"longitude\":139.7798}",
       "[location] Haneda Ota City (35.549400, 139.779800)"},
      {"{\"type\":\"sticker\",\"packageId\":\"446\",\"stickerId\":\"1988\"}", "[sticker]"},
      {"{\"type\":\"audio\",\"duration\":6000}", "[audio]"},
      {"{\"type\":\"video\"}", "[video]"},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    char body[512];
    snprintf(body, sizeof body,
             "{\"events\":[{\"type\":\"message\",\"webhookEventId\":\"E%zu\",\"source\":"
             "{\"type\":\"room\",\"roomId\":\"Ra8dbf4f5e6\",\"userId\":\"U1\"},\"message\":%s}]}",
             i, cases[i][0]);
    result_t r = parse(body);
    const sb_wh_item_t *it = ok_item(&r, 0, SB_WH_MESSAGE);
    assert_string_equal(it->text, cases[i][1]);
    assert_true(it->is_public);
    assert_string_equal(it->reply_chat, "Ra8dbf4f5e6");
    sb_wh_batch_free(&r.b);
  }
}

static void test_bad_events_are_marked_and_the_rest_parsed(void **state) {
  result_t r = parse(
      "{\"events\":[7,"
      "{\"type\":\"message\",\"source\":{\"userId\":\"U1\"},\"message\":{\"type\":\"text\",\"text\":\"a\"}},"
      "{\"type\":\"message\",\"webhookEventId\":\"E2\",\"source\":{\"type\":\"group\"},"
      "\"message\":{\"type\":\"text\",\"text\":\"b\"}},"
      "{\"type\":\"message\",\"webhookEventId\":\"E3\",\"source\":{\"userId\":\"U1\"},"
      "\"message\":{\"type\":\"text\"}},"
      "{\"type\":\"message\",\"webhookEventId\":\"E4\",\"source\":{\"type\":\"group\",\"userId\":\"U1\"},"
      "\"message\":{\"type\":\"text\",\"text\":\"ok\"}}]}");
  assert_int_equal(r.rc, 0);
  assert_int_equal(r.b.n, 5);
  assert_non_null(strstr(r.b.items[0].error, "object"));
  assert_non_null(strstr(r.b.items[1].error, "webhookEventId"));
  assert_non_null(strstr(r.b.items[2].error, "source.userId"));
  assert_string_equal(r.b.items[2].platform_message_id, "E2");
  assert_non_null(strstr(r.b.items[3].error, "message.text"));
  assert_null(r.b.items[4].reply_chat);
  assert_string_equal(ok_item(&r, 4, SB_WH_MESSAGE)->text, "ok");
  sb_wh_batch_free(&r.b);
  r = parse("{\"destination\":\"U\"}");
  assert_int_equal(r.rc, SB_EPARSE);
  assert_non_null(strstr(r.err, "events"));
  r = parse("{\"events\":{}}");
  assert_int_equal(r.rc, SB_EPARSE);
  r = parse("not json");
  assert_int_equal(r.rc, SB_EPARSE);
}

static void test_truncations_are_safe_and_a_redelivery_keeps_its_id(void **state) {
  size_t len = 0;
  char *body = sb_test_fixture(FIX "line_events.json", &len);
  for (size_t n = 0; n < len; n++) {
    result_t r = parse_len(body, n);
    sb_wh_batch_free(&r.b);
  }
  free(body);
  const char *first = "{\"events\":[{\"type\":\"postback\",\"webhookEventId\":\"E9\","
                      "\"deliveryContext\":{\"isRedelivery\":false},\"source\":{\"userId\":\"U1\"},"
                      "\"postback\":{\"data\":\"d\"}}]}";
  const char *again = "{\"events\":[{\"type\":\"postback\",\"webhookEventId\":\"E9\","
                      "\"deliveryContext\":{\"isRedelivery\":true},\"source\":{\"userId\":\"U1\"},"
                      "\"postback\":{\"data\":\"d\"}}]}";
  result_t a = parse(first), b = parse(again);
  assert_string_equal(ok_item(&a, 0, SB_WH_MESSAGE)->platform_message_id,
                      ok_item(&b, 0, SB_WH_MESSAGE)->platform_message_id);
  assert_false(a.b.items[0].redelivery);
  assert_true(b.b.items[0].redelivery);
  sb_wh_batch_free(&a.b);
  sb_wh_batch_free(&b.b);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_events_in_order_private_public_redelivered_and_ignored),
      cmocka_unit_test(test_verify_request_has_no_items),
      cmocka_unit_test(test_message_types),
      cmocka_unit_test(test_bad_events_are_marked_and_the_rest_parsed),
      cmocka_unit_test(test_truncations_are_safe_and_a_redelivery_keeps_its_id),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
