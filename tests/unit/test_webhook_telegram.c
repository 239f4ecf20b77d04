/*
 * test_webhook_telegram: behaviours of the Telegram reader of sb_webhook
 * (Bot API Update objects into items).
 *
 * Fixtures in tests/fixtures/webhooks/telegram_*.json follow the Bot API's
 * documented Update objects; hostile cases are built inline.
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

typedef sb_test_wh_result_t result_t;

static result_t parse_len(const char *body, size_t len) {
  return sb_test_wh_parse(sb_webhook_telegram_parse, body, len);
}

static result_t parse(const char *body) { return parse_len(body, strlen(body)); }

static result_t parse_fixture(const char *name) { return sb_test_wh_fixture(sb_webhook_telegram_parse, name); }

static const sb_wh_item_t *one_item(const result_t *r, sb_wh_kind_t kind) {
  assert_int_equal(r->rc, 0);
  assert_int_equal(r->b.n, 1);
  const sb_wh_item_t *it = &r->b.items[0];
  if (it->error[0] != '\0') fail_msg("item: %s", it->error);
  assert_int_equal(it->kind, kind);
  assert_string_equal(it->channel, "telegram");
  return it;
}

static void test_private_text_is_private_from_the_sender_keyed_by_update_id(void **state) {
  result_t r = parse_fixture("telegram_private_text.json");
  const sb_wh_item_t *it = one_item(&r, SB_WH_MESSAGE);
  assert_string_equal(it->platform_message_id, "815003601");
  assert_string_equal(it->customer, "5105563018");
  assert_string_equal(it->author_name, "Olena Kovalenko");
  assert_string_equal(it->text, "Добрий день! Мій багаж не прибув у Київ.");
  assert_false(it->is_public);
  assert_int_equal(it->time_ms, 1718002000000LL);
  assert_null(it->reply_to);
  assert_null(it->reply_chat); /* a private chat: the customer's own */
  sb_wh_batch_free(&r.b);
}

static void test_group_photo_is_public_with_caption_and_reply(void **state) {
  result_t r = parse_fixture("telegram_group_photo.json");
  const sb_wh_item_t *it = one_item(&r, SB_WH_MESSAGE);
  assert_true(it->is_public);
  assert_string_equal(it->customer, "284761930");
  assert_string_equal(it->author_name, "Amir");
  assert_string_equal(it->text, "[photo] @acme_air_bot the seat on AC 871 was broken");
  assert_string_equal(it->reply_to, "87");
  assert_string_equal(it->reply_chat, "-1001864203311"); /* answers go to the group */
  sb_wh_batch_free(&r.b);
}

static void test_callback_edit_and_media_kinds(void **state) {
  result_t r = parse_fixture("telegram_callback_query.json");
  const sb_wh_item_t *it = one_item(&r, SB_WH_MESSAGE);
  assert_string_equal(it->text, "[button] rebook");
  assert_string_equal(it->customer, "5105563018");
  assert_string_equal(it->platform_message_id, "815003603");
  assert_false(it->is_public);
  sb_wh_batch_free(&r.b);
  const char *cases[][2] = {
      {"\"edited_message\":{\"from\":{\"id\":7},\"chat\":{\"type\":\"private\"},\"text\":\"fixed\"}",
       "[edited] fixed"},
      {"\"message\":{\"from\":{\"id\":7},\"chat\":{\"type\":\"group\"},\"document\":"
       "{\"file_name\":\"receipt.pdf\"},\"caption\":\"refund\"}",
       "[document] receipt.pdf refund"},
      {"\"message\":{\"from\":{\"id\":7},\"chat\":{\"type\":\"private\"},\"location\":"
       "{\"latitude\":50.45,\"longitude\":30.5234}}",
       "[location] (50.450000, 30.523400)"},
      {"\"message\":{\"from\":{\"id\":7},\"chat\":{\"type\":\"private\"},\"sticker\":"
       "{\"emoji\":\"😡\"}}",
       "[sticker] 😡"},
      {"\"message\":{\"from\":{\"id\":7},\"chat\":{\"type\":\"private\"},\"voice\":{}}",
       "[voice]"},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    char body[512];
    snprintf(body, sizeof body, "{\"update_id\":%zu,%s}", 10 + i, cases[i][0]);
    r = parse(body);
    assert_string_equal(one_item(&r, SB_WH_MESSAGE)->text, cases[i][1]);
    sb_wh_batch_free(&r.b);
  }
}

static void test_membership_channel_posts_bots_and_service_messages_are_ignored(void **state) {
  result_t r = parse_fixture("telegram_my_chat_member.json");
  one_item(&r, SB_WH_IGNORED);
  sb_wh_batch_free(&r.b);
  const char *bodies[] = {
      "{\"update_id\":1,\"channel_post\":{\"chat\":{\"type\":\"channel\"},\"text\":\"news\"}}",
      "{\"update_id\":2,\"message\":{\"from\":{\"id\":9,\"is_bot\":true},\"text\":\"beep\"}}",
      "{\"update_id\":3,\"message\":{\"from\":{\"id\":9},\"new_chat_members\":[{\"id\":9}]}}",
      "{\"update_id\":4}",
  };
  for (size_t i = 0; i < sizeof bodies / sizeof bodies[0]; i++) {
    r = parse(bodies[i]);
    one_item(&r, SB_WH_IGNORED);
    sb_wh_batch_free(&r.b);
  }
}

static void test_bad_updates(void **state) {
  result_t r = parse("{\"message\":{\"text\":\"hi\"}}");
  assert_int_equal(r.rc, SB_EPARSE);
  assert_non_null(strstr(r.err, "update_id"));
  r = parse("{\"update_id\":-5,\"message\":{}}");
  assert_int_equal(r.rc, SB_EPARSE);
  r = parse("[1,2]");
  assert_int_equal(r.rc, SB_EPARSE);
  r = parse("{\"update_id\":1,\"message\":{\"text\":\"no sender\"}}");
  assert_int_equal(r.b.n, 1);
  assert_non_null(strstr(r.b.items[0].error, "from.id"));
  assert_string_equal(r.b.items[0].platform_message_id, "1");
  assert_null(r.b.items[0].text);
  sb_wh_batch_free(&r.b);
  r = parse("{\"update_id\":1,\"message\":\"text\"}");
  assert_int_equal(r.b.n, 1);
  assert_true(r.b.items[0].error[0] != '\0');
  sb_wh_batch_free(&r.b);
  r = parse("{\"update_id\":1,\"message\":{\"from\":{\"id\":1},\"text\":\"\xC3\x28\"}}");
  assert_non_null(strstr(r.b.items[0].error, "UTF-8"));
  sb_wh_batch_free(&r.b);
}

static void test_a_redelivered_update_gives_the_same_id_and_truncations_are_safe(void **state) {
  size_t len = 0;
  char *body = sb_test_fixture(FIX "telegram_group_photo.json", &len);
  for (size_t n = 0; n < len; n++) {
    result_t r = parse_len(body, n);
    sb_wh_batch_free(&r.b);
  }
  result_t a = parse_len(body, len), b = parse_len(body, len);
  assert_string_equal(one_item(&a, SB_WH_MESSAGE)->platform_message_id,
                      one_item(&b, SB_WH_MESSAGE)->platform_message_id);
  sb_wh_batch_free(&a.b);
  sb_wh_batch_free(&b.b);
  free(body);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_private_text_is_private_from_the_sender_keyed_by_update_id),
      cmocka_unit_test(test_group_photo_is_public_with_caption_and_reply),
      cmocka_unit_test(test_callback_edit_and_media_kinds),
      cmocka_unit_test(test_membership_channel_posts_bots_and_service_messages_are_ignored),
      cmocka_unit_test(test_bad_updates),
      cmocka_unit_test(test_a_redelivered_update_gives_the_same_id_and_truncations_are_safe),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
