/*
 * test_webhook: behaviours of sb_webhook (Meta, X, Twilio and e-mail
 * deliveries into items).
 *
 * Fixtures in tests/fixtures/webhooks/ follow each platform's documented
 * payloads; hostile cases are built inline. Each test checks what an item
 * must carry for routing (kind, channel, customer, ids, text) and that a bad
 * item never sinks the good ones in the same delivery, while a delivery
 * that is wrong as a whole fails with an empty batch.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sb_error.h"
#include "sb_form.h"
#include "sb_testfixture.h"
#include "sb_testutil.h"
#include "sb_testwebhook.h"
#include "sb_webhook.h"

enum { ERR_LEN = 256, DEEP = 100000, FAST_MS = 200 };

#define FIX "tests/fixtures/webhooks/"
#define WA_OUR_MSG "wamid.HBgLMTY1MDU1NTEyMzQVAgARGBI0QUZCQTk0RTNDQTk1RkE2NTQA"
#define PSID "6783456789012345"
#define JORDAN "3001969357"

typedef sb_test_wh_parse_fn json_parse_fn;
typedef sb_test_wh_result_t result_t;

static result_t parse_len(json_parse_fn fn, const char *body, size_t len) {
  return sb_test_wh_parse(fn, body, len);
}

static result_t parse(json_parse_fn fn, const char *body) {
  return parse_len(fn, body, strlen(body));
}

static result_t parse_fixture(json_parse_fn fn, const char *name) {
  return sb_test_wh_fixture(fn, name);
}

/* Item i exists, has no error and has kind and channel. */
static const sb_wh_item_t *ok_item(const result_t *r, size_t i,
                                   sb_wh_kind_t kind, const char *channel) {
  assert_int_equal(r->rc, 0);
  assert_true(i < r->b.n);
  const sb_wh_item_t *it = &r->b.items[i];
  if (it->error[0] != '\0') fail_msg("item %zu: %s", i, it->error);
  assert_int_equal(it->kind, kind);
  assert_string_equal(it->channel, channel);
  if (kind == SB_WH_MESSAGE) {
    assert_non_null(it->platform_message_id);
    assert_non_null(it->customer);
    assert_non_null(it->text);
    assert_null(it->status);
  }
  if (kind == SB_WH_STATUS) {
    assert_non_null(it->status);
    assert_null(it->text);
  }
  return it;
}

static const sb_wh_item_t *bad_item(const result_t *r, size_t i,
                                    const char *reason) {
  assert_true(i < r->b.n);
  const sb_wh_item_t *it = &r->b.items[i];
  assert_string_equal(it->error, reason);
  assert_null(it->text);
  assert_null(it->customer);
  return it;
}

/* A WhatsApp delivery with the given messages[] elements. */
static char *wa_body(const char *messages) {
  const char *fmt =
      "{\"object\":\"whatsapp_business_account\",\"entry\":[{\"id\":\"1\","
      "\"changes\":[{\"field\":\"messages\",\"value\":{\"messages\":[%s]}}]}]}";
  size_t cap = strlen(fmt) + strlen(messages) + 1;
  char *body = malloc(cap);
  assert_non_null(body);
  snprintf(body, cap, fmt, messages);
  return body;
}

static result_t wa(const char *messages) {
  char *body = wa_body(messages);
  result_t r = parse(sb_webhook_meta_parse, body);
  free(body);
  return r;
}

/* -------------------------------------------------------------- WhatsApp */

static void test_whatsapp_text_image_location_reaction(void **state) {
  result_t r =
      parse_fixture(sb_webhook_meta_parse, "meta_whatsapp_messages.json");
  assert_int_equal(r.b.n, 4);
  const sb_wh_item_t *it = ok_item(&r, 0, SB_WH_MESSAGE, "whatsapp");
  assert_string_equal(it->customer, "+16505551234");
  assert_string_equal(it->author_name, "Sheena Nelson");
  assert_string_equal(it->text, "Hi, my flight SB123 was cancelled. Can you "
                                "rebook me? \xE2\x9C\x88\xEF\xB8\x8F");
  assert_string_equal(
      it->platform_message_id,
      "wamid.HBgLMTY1MDU1NTEyMzQVAgASGBQzQTRBNjU5OUFFRTAzODEwMTQ0RgA=");
  assert_int_equal(it->time_ms, 1749416383000LL);
  assert_false(it->is_public);
  assert_null(it->reply_to);
  it = ok_item(&r, 1, SB_WH_MESSAGE, "whatsapp");
  assert_string_equal(it->text, "[image] Here is my boarding pass");
  assert_string_equal(it->reply_to, WA_OUR_MSG);
  it = ok_item(&r, 2, SB_WH_MESSAGE, "whatsapp");
  assert_string_equal(it->text, "[location] Main Office 1 Hacker Way, Menlo "
                                "Park, CA 94025 (37.483307, -122.148981)");
  it = ok_item(&r, 3, SB_WH_MESSAGE, "whatsapp");
  assert_string_equal(it->text, "[reaction] \xF0\x9F\x91\x8D");
  assert_string_equal(it->reply_to, WA_OUR_MSG);
  sb_wh_batch_free(&r.b);
}

static void test_whatsapp_statuses_never_become_messages(void **state) {
  static const char *const want[] = {"delivered", "read", "failed"};
  result_t r =
      parse_fixture(sb_webhook_meta_parse, "meta_whatsapp_statuses.json");
  assert_int_equal(r.b.n, 3);
  for (size_t i = 0; i < 3; i++) {
    const sb_wh_item_t *it = ok_item(&r, i, SB_WH_STATUS, "whatsapp");
    assert_string_equal(it->status, want[i]);
    assert_string_equal(it->customer, "+16505551234");
    assert_non_null(it->platform_message_id);
  }
  assert_string_equal(r.b.items[0].platform_message_id, WA_OUR_MSG);
  assert_int_equal(r.b.items[1].time_ms, 1749416399000LL);
  sb_wh_batch_free(&r.b);
}

static void test_whatsapp_bad_items_are_marked_others_parsed(void **state) {
  result_t r =
      parse_fixture(sb_webhook_meta_parse, "meta_whatsapp_mixed_bad.json");
  assert_int_equal(r.b.n, 5);
  assert_string_equal(ok_item(&r, 0, SB_WH_MESSAGE, "whatsapp")->text,
                      "still fine");
  bad_item(&r, 1, "missing field \"id\"");
  const sb_wh_item_t *it = bad_item(&r, 2, "text is not valid UTF-8");
  assert_string_equal(it->platform_message_id, "wamid.BADUTF8");
  bad_item(&r, 3, "missing field \"text.body\"");
  /* an escaped NUL reads as U+FFFD instead of cutting the text short */
  assert_string_equal(ok_item(&r, 4, SB_WH_MESSAGE, "whatsapp")->text,
                      "also fine \xEF\xBF\xBD here");
  sb_wh_batch_free(&r.b);
}

static void
test_whatsapp_removed_reaction_and_system_are_ignored(void **state) {
  result_t r =
      wa("{\"from\":\"1\",\"id\":\"a\",\"type\":\"reaction\",\"reaction\":"
         "{\"message_id\":\"m\",\"emoji\":\"\"}},"
         "{\"from\":\"1\",\"id\":\"b\",\"type\":\"system\",\"system\":"
         "{\"body\":\"changed number\"}}");
  assert_int_equal(r.b.n, 2);
  for (size_t i = 0; i < 2; i++) {
    const sb_wh_item_t *it = ok_item(&r, i, SB_WH_IGNORED, "whatsapp");
    assert_null(it->text);
    assert_null(it->platform_message_id);
  }
  sb_wh_batch_free(&r.b);
}

static void test_whatsapp_other_message_types(void **state) {
  result_t r = wa(
      "{\"from\":\"1\",\"id\":\"a\",\"type\":\"interactive\",\"interactive\":"
      "{\"type\":\"button_reply\",\"button_reply\":{\"id\":\"x\",\"title\":"
      "\"Rebook me\"}}},"
      "{\"from\":\"1\",\"id\":\"b\",\"type\":\"order\",\"order\":{}},"
      "{\"from\":\"1\",\"id\":\"c\",\"type\":\"<b>\"},"
      "{\"from\":\"1\",\"id\":\"d\",\"type\":\"document\",\"document\":"
      "{\"filename\":\"x.pdf\"}},"
      "{\"from\":\"1\",\"id\":\"e\",\"type\":\"button\",\"button\":"
      "{\"text\":\"Yes\",\"payload\":\"Y\"}},"
      "{\"from\":\"not-a-number\",\"id\":\"f\",\"type\":\"text\",\"text\":"
      "{\"body\":\"\"}}");
  assert_int_equal(r.b.n, 6);
  assert_string_equal(ok_item(&r, 0, SB_WH_MESSAGE, "whatsapp")->text,
                      "Rebook me");
  assert_string_equal(ok_item(&r, 1, SB_WH_MESSAGE, "whatsapp")->text,
                      "[order]");
  assert_string_equal(ok_item(&r, 2, SB_WH_MESSAGE, "whatsapp")->text,
                      "[attachment]");
  assert_string_equal(ok_item(&r, 3, SB_WH_MESSAGE, "whatsapp")->text,
                      "[document]");
  assert_string_equal(ok_item(&r, 4, SB_WH_MESSAGE, "whatsapp")->text, "Yes");
  const sb_wh_item_t *it = ok_item(&r, 5, SB_WH_MESSAGE, "whatsapp");
  assert_string_equal(it->customer, "not-a-number");
  assert_string_equal(it->text, "");
  sb_wh_batch_free(&r.b);
}

static void test_whatsapp_non_message_fields_are_ignored(void **state) {
  result_t r = parse(sb_webhook_meta_parse,
                     "{\"object\":\"whatsapp_business_account\",\"entry\":[{"
                     "\"id\":\"1\",\"changes\":[{\"field\":"
                     "\"message_template_status_update\",\"value\":{\"event\":"
                     "\"APPROVED\"}}]}]}");
  assert_int_equal(r.b.n, 1);
  ok_item(&r, 0, SB_WH_IGNORED, "whatsapp");
  sb_wh_batch_free(&r.b);
}

static void test_item_field_limits_and_control_characters(void **state) {
  size_t big = SB_WEBHOOK_TEXT_MAX + 1, cap = big + 512;
  char *msgs = malloc(cap);
  assert_non_null(msgs);
  int n = snprintf(msgs, cap,
                   "{\"from\":\"1\",\"id\":\"a\\u0007\",\"type\":\"text\","
                   "\"text\":{\"body\":\"x\"}},"
                   "{\"from\":\"1\",\"id\":\"%0257d\",\"type\":\"text\","
                   "\"text\":{\"body\":\"x\"}},"
                   "{\"from\":\"1\",\"id\":\"c\",\"type\":\"text\",\"text\":"
                   "{\"body\":\"",
                   0);
  memset(msgs + n, 'y', big);
  snprintf(msgs + n + big, cap - (size_t)n - big, "\"}}");
  result_t r = wa(msgs);
  assert_int_equal(r.b.n, 3);
  bad_item(&r, 0, "field \"id\" contains a control character");
  bad_item(&r, 1, "field \"id\" exceeds 256 bytes");
  bad_item(&r, 2, "text exceeds 16384 bytes");
  sb_wh_batch_free(&r.b);
  msgs[n + big - 1] = '\0'; /* the same text one byte shorter: exactly max */
  strcat(msgs, "\"}}");
  r = wa(strstr(msgs, "{\"from\":\"1\",\"id\":\"c\""));
  assert_int_equal(strlen(ok_item(&r, 0, SB_WH_MESSAGE, "whatsapp")->text),
                   SB_WEBHOOK_TEXT_MAX);
  sb_wh_batch_free(&r.b);
  free(msgs);
}

static void test_item_count_limit_is_exact(void **state) {
  const char *one = "{\"from\":\"1\",\"id\":\"a\",\"type\":\"text\",\"text\":"
                    "{\"body\":\"x\"}}";
  size_t cap = (strlen(one) + 1) * (SB_WEBHOOK_MAX_ITEMS + 1) + 1;
  char *msgs = malloc(cap);
  assert_non_null(msgs);
  msgs[0] = '\0';
  for (int i = 0; i < SB_WEBHOOK_MAX_ITEMS; i++) {
    if (i) strcat(msgs, ",");
    strcat(msgs, one);
  }
  result_t r = wa(msgs);
  assert_int_equal(r.rc, 0);
  assert_int_equal(r.b.n, SB_WEBHOOK_MAX_ITEMS);
  sb_wh_batch_free(&r.b);
  strcat(msgs, ",");
  strcat(msgs, one);
  r = wa(msgs);
  assert_int_equal(r.rc, SB_ETOOBIG);
  free(msgs);
}

/* ------------------------------------------------ Messenger and Instagram */

static void test_messenger_messages_echo_and_receipts(void **state) {
  result_t r = parse_fixture(sb_webhook_meta_parse, "meta_messenger.json");
  assert_int_equal(r.b.n, 5);
  const sb_wh_item_t *it = ok_item(&r, 0, SB_WH_MESSAGE, "messenger");
  assert_string_equal(it->customer, PSID);
  assert_string_equal(it->text,
                      "Where is my refund? I have been waiting 3 weeks.");
  assert_int_equal(it->time_ms, 1749416383123LL);
  assert_string_equal(ok_item(&r, 1, SB_WH_MESSAGE, "messenger")->text,
                      "[image]");
  it = ok_item(&r, 2, SB_WH_STATUS, "messenger");
  assert_string_equal(it->status, "echo");
  assert_string_equal(it->customer, PSID);
  it = ok_item(&r, 3, SB_WH_STATUS, "messenger");
  assert_string_equal(it->status, "delivered");
  assert_string_equal(it->platform_message_id,
                      r.b.items[2].platform_message_id);
  it = ok_item(&r, 4, SB_WH_STATUS, "messenger");
  assert_string_equal(it->status, "read");
  assert_null(it->platform_message_id); /* a watermark */
  assert_int_equal(it->time_ms, 1749416421000LL);
  sb_wh_batch_free(&r.b);
}

static const char MS_EVENTS[] =
    "{\"object\":\"page\",\"entry\":[{\"id\":\"P\",\"time\":1,\"messaging\":["
    "{\"sender\":{\"id\":\"U\"},\"recipient\":{\"id\":\"P\"},\"timestamp\":"
    "1749416383123,\"reaction\":{\"mid\":\"m_1\",\"action\":\"react\","
    "\"reaction\":\"love\",\"emoji\":\"\\u2764\"}},"
    "{\"sender\":{\"id\":\"U\"},\"recipient\":{\"id\":\"P\"},\"timestamp\":2,"
    "\"reaction\":{\"mid\":\"m_1\",\"action\":\"unreact\"}},"
    "{\"sender\":{\"id\":\"U\"},\"recipient\":{\"id\":\"P\"},\"timestamp\":3,"
    "\"postback\":{\"title\":\"Talk to an agent\",\"payload\":\"AGENT\"}},"
    "{\"sender\":{\"id\":\"U\"},\"recipient\":{\"id\":\"P\"},\"timestamp\":4,"
    "\"optin\":{\"ref\":\"x\"}},"
    "{\"sender\":{\"id\":\"U\"},\"recipient\":{\"id\":\"P\"},\"timestamp\":5,"
    "\"delivery\":{\"mids\":[\"m_a\",\"m_b\"],\"watermark\":5}},"
    "{\"sender\":{\"id\":\"U\"},\"recipient\":{\"id\":\"P\"},\"timestamp\":6,"
    "\"message\":{\"text\":\"no mid\"}},"
    "7]}]}";

static void test_messenger_reactions_postbacks_and_others(void **state) {
  result_t r = parse(sb_webhook_meta_parse, MS_EVENTS);
  assert_int_equal(r.b.n, 8);
  const sb_wh_item_t *it = ok_item(&r, 0, SB_WH_MESSAGE, "messenger");
  assert_string_equal(it->text, "[reaction] \xE2\x9D\xA4");
  assert_string_equal(it->reply_to, "m_1");
  assert_string_equal(it->platform_message_id, "reaction:m_1:U:1749416383123");
  ok_item(&r, 1, SB_WH_IGNORED, "messenger");
  it = ok_item(&r, 2, SB_WH_MESSAGE, "messenger");
  assert_string_equal(it->text, "Talk to an agent");
  assert_string_equal(it->platform_message_id, "postback:U:P:3000");
  ok_item(&r, 3, SB_WH_IGNORED, "messenger");
  assert_string_equal(
      ok_item(&r, 4, SB_WH_STATUS, "messenger")->platform_message_id, "m_a");
  assert_string_equal(
      ok_item(&r, 5, SB_WH_STATUS, "messenger")->platform_message_id, "m_b");
  bad_item(&r, 6, "missing field \"message.mid\"");
  bad_item(&r, 7, "messaging event is not an object");
  sb_wh_batch_free(&r.b);
}

static void test_instagram_dms_and_public_comment(void **state) {
  result_t r = parse_fixture(sb_webhook_meta_parse, "meta_instagram.json");
  assert_int_equal(r.b.n, 3);
  const sb_wh_item_t *it = ok_item(&r, 0, SB_WH_MESSAGE, "instagram");
  assert_string_equal(it->text, "Do you ship to Canada?");
  assert_string_equal(it->customer, "1254459154682919");
  assert_false(it->is_public);
  assert_string_equal(ok_item(&r, 1, SB_WH_MESSAGE, "instagram")->text,
                      "[story_mention]");
  it = ok_item(&r, 2, SB_WH_MESSAGE, "instagram");
  assert_true(it->is_public);
  assert_string_equal(it->customer, "232323232");
  assert_string_equal(it->author_name, "jane.traveller");
  assert_string_equal(it->thread_hint, "17996218423468235");
  assert_string_equal(it->platform_message_id, "17865799348089039");
  assert_int_equal(it->time_ms, 1749416395000LL);
  sb_wh_batch_free(&r.b);
}

static void test_page_feed_comment_reply_echo_and_reaction(void **state) {
  result_t r = parse_fixture(sb_webhook_meta_parse, "meta_page_feed.json");
  assert_int_equal(r.b.n, 3);
  const sb_wh_item_t *it = ok_item(&r, 0, SB_WH_MESSAGE, "facebook");
  assert_true(it->is_public);
  assert_string_equal(it->customer, "7012345678901234");
  assert_string_equal(it->author_name, "Tom Baker");
  assert_string_equal(it->thread_hint, "106540352242922_122100000000000001");
  assert_null(it->reply_to); /* a top-level comment answers the post */
  assert_string_equal(it->text,
                      "My bag never arrived in Lisbon. Flight SB441.");
  it = ok_item(&r, 1, SB_WH_STATUS, "facebook");
  assert_string_equal(it->status, "echo");
  ok_item(&r, 2, SB_WH_IGNORED, "facebook");
  sb_wh_batch_free(&r.b);
}

/* ------------------------------------------------- whole-delivery errors */

static void test_meta_wrong_shape_fails_whole_delivery(void **state) {
  static const struct {
    const char *body;
    int rc;
    const char *reason;
  } cases[] = {
      {"", SB_EPARSE, "invalid JSON at byte 0"},
      {"{\"object\":\"page\",\"entry\":[]", SB_EPARSE, NULL},
      {"[1,2]", SB_EPARSE, "not a Meta delivery: unknown \"object\""},
      {"{\"object\":\"tiktok\",\"entry\":[]}", SB_EPARSE,
       "not a Meta delivery: unknown \"object\""},
      {"{\"object\":\"page\"}", SB_EPARSE,
       "not a Meta delivery: no \"entry\" array"},
      {"{\"object\":\"page\",\"entry\":{}}", SB_EPARSE,
       "not a Meta delivery: no \"entry\" array"},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    result_t r = parse(sb_webhook_meta_parse, cases[i].body);
    assert_int_equal(r.rc, cases[i].rc);
    if (cases[i].reason) assert_string_equal(r.err, cases[i].reason);
  }
}

static void test_meta_broken_entries_are_items(void **state) {
  result_t r = parse(sb_webhook_meta_parse,
                     "{\"object\":\"whatsapp_business_account\",\"entry\":"
                     "[3,{\"id\":\"1\"},{\"id\":\"2\",\"changes\":[]}]}");
  assert_int_equal(r.b.n, 2);
  bad_item(&r, 0, "entry is not an object");
  bad_item(&r, 1, "entry has no \"changes\" array");
  sb_wh_batch_free(&r.b);
}

static void test_raw_nul_fails_and_bom_is_skipped(void **state) {
  static const char nul[] = "{\"object\":\"page\",\0\"entry\":[]}";
  result_t r = parse_len(sb_webhook_meta_parse, nul, sizeof nul - 1);
  assert_int_equal(r.rc, SB_EPARSE);
  assert_string_equal(r.err, "invalid JSON at byte 17");
  r = parse(sb_webhook_meta_parse,
            "\xEF\xBB\xBF{\"object\":\"page\",\"entry\":[]}");
  assert_int_equal(r.rc, 0);
  assert_int_equal(r.b.n, 0);
  sb_wh_batch_free(&r.b);
}

static void test_nesting_limit_is_exact_and_deep_input_fast(void **state) {
  char body[256];
  int n = snprintf(body, sizeof body, "{\"object\":\"page\",\"entry\":[");
  for (int i = 2; i < SB_WEBHOOK_MAX_DEPTH; i++) body[n++] = '[';
  for (int i = 2; i < SB_WEBHOOK_MAX_DEPTH; i++) body[n++] = ']';
  snprintf(body + n, sizeof body - (size_t)n, "]}");
  result_t r = parse(sb_webhook_meta_parse, body);
  assert_int_equal(r.rc, 0); /* arrays as entries: items marked bad */
  sb_wh_batch_free(&r.b);
  char *deep = malloc(DEEP + 1);
  memset(deep, '[', DEEP);
  deep[DEEP] = '\0';
  clock_t t0 = clock();
  r = parse(sb_webhook_x_parse, deep);
  assert_int_equal(r.rc, SB_ETOOBIG);
  assert_true((clock() - t0) * 1000 / CLOCKS_PER_SEC < FAST_MS);
  deep[SB_WEBHOOK_MAX_DEPTH + 1] = '\0';
  assert_int_equal(parse(sb_webhook_meta_parse, deep).rc, SB_ETOOBIG);
  free(deep);
}

static void test_every_truncation_of_a_fixture_is_safe(void **state) {
  size_t len = 0;
  char *body = sb_test_fixture(FIX "meta_messenger.json", &len);
  for (size_t cut = 0; cut + 2 < len; cut++) { /* minus "}\n" */
    result_t r = parse_len(sb_webhook_meta_parse, body, cut);
    assert_int_equal(r.rc, SB_EPARSE);
  }
  free(body);
}

/* --------------------------------------------------------------------- X */

static void test_x_tweets_mentions_replies_echo_and_retweet(void **state) {
  result_t r = parse_fixture(sb_webhook_x_parse, "x_tweet_create_events.json");
  assert_int_equal(r.b.n, 4);
  const sb_wh_item_t *it = ok_item(&r, 0, SB_WH_MESSAGE, "x");
  assert_true(it->is_public);
  assert_string_equal(it->customer, JORDAN);
  assert_string_equal(it->author_name, "Jordan Brinks");
  assert_int_equal(it->followers, 22);
  assert_int_equal(it->time_ms, 1749416400000LL);
  assert_null(it->reply_to);
  assert_string_equal(it->text, "@AcmeAir my flight SB123 was cancelled & "
                                "nobody at the gate can help >:(");
  it = ok_item(&r, 1, SB_WH_MESSAGE, "x");
  assert_string_equal(it->reply_to, "1931800000000000002");
  assert_non_null(strstr(it->text, "with two kids & no hotel voucher."));
  it = ok_item(&r, 2, SB_WH_STATUS, "x");
  assert_string_equal(it->status, "echo");
  assert_string_equal(it->platform_message_id, "1931800000000000002");
  assert_string_equal(it->customer, JORDAN);
  ok_item(&r, 3, SB_WH_IGNORED, "x");
  sb_wh_batch_free(&r.b);
}

static void test_x_direct_messages_private_media_and_echo(void **state) {
  result_t r =
      parse_fixture(sb_webhook_x_parse, "x_direct_message_events.json");
  assert_int_equal(r.b.n, 3);
  const sb_wh_item_t *it = ok_item(&r, 0, SB_WH_MESSAGE, "x");
  assert_false(it->is_public);
  assert_string_equal(it->customer, JORDAN);
  assert_string_equal(it->author_name, "Jordan Brinks");
  assert_int_equal(it->followers, 22);
  assert_string_equal(it->platform_message_id, "1931800000000000100");
  assert_int_equal(it->time_ms, 1749416800000LL);
  assert_string_equal(ok_item(&r, 1, SB_WH_MESSAGE, "x")->text,
                      "[photo] https://t.co/Xyz9aBcD1e");
  it = ok_item(&r, 2, SB_WH_STATUS, "x");
  assert_string_equal(it->status, "echo");
  assert_string_equal(it->customer, JORDAN);
  sb_wh_batch_free(&r.b);
}

static void test_x_read_delete_and_other_events(void **state) {
  result_t r = parse(
      sb_webhook_x_parse,
      "{\"for_user_id\":\"9\",\"direct_message_mark_read_events\":[{"
      "\"created_timestamp\":\"1749416900000\",\"sender_id\":\"5\",\"target\":"
      "{\"recipient_id\":\"9\"},\"last_read_event_id\":\"77\"},{"
      "\"sender_id\":\"9\",\"last_read_event_id\":\"78\"}],"
      "\"tweet_delete_events\":[{\"status\":{\"id\":\"601\",\"user_id\":\"5\"},"
      "\"timestamp_ms\":\"1749416900001\"}],"
      "\"favorite_events\":[{\"id\":\"f\"},{\"id\":\"g\"}],"
      "\"follow_events\":{},"
      "\"direct_message_events\":[{\"type\":\"message_create\",\"id\":\"1\","
      "\"message_create\":{\"sender_id\":\"5\",\"message_data\":{}}}, 4],"
      "\"apps\":[]}");
  assert_int_equal(r.b.n, 8);
  const sb_wh_item_t *it = ok_item(&r, 0, SB_WH_STATUS, "x");
  assert_string_equal(it->status, "read");
  assert_string_equal(it->platform_message_id, "77");
  assert_string_equal(it->customer, "5");
  ok_item(&r, 1, SB_WH_IGNORED, "x");
  it = ok_item(&r, 2, SB_WH_STATUS, "x");
  assert_string_equal(it->status, "deleted");
  assert_string_equal(it->platform_message_id, "601");
  ok_item(&r, 3, SB_WH_IGNORED, "x");
  ok_item(&r, 4, SB_WH_IGNORED, "x");
  bad_item(&r, 5, "an *_events member is not an array");
  bad_item(&r, 6, "missing field \"message_data.text\"");
  bad_item(&r, 7, "event is not an object");
  sb_wh_batch_free(&r.b);
}

static void test_x_without_for_user_id_fails(void **state) {
  result_t r = parse(sb_webhook_x_parse, "{\"tweet_create_events\":[]}");
  assert_int_equal(r.rc, SB_EPARSE);
  assert_string_equal(r.err,
                      "not an Account Activity delivery: no \"for_user_id\"");
  assert_int_equal(parse(sb_webhook_x_parse, "nope").rc, SB_EPARSE);
}

/* ---------------------------------------------------------------- Twilio */

static result_t twilio_len(const char *urlencoded, size_t len) {
  sb_form_t f = {0};
  result_t r;
  memset(&r, 0, sizeof r);
  assert_int_equal(sb_form_urlencoded_parse(urlencoded, len, NULL, &f, NULL, 0),
                   0);
  r.rc = sb_webhook_twilio_parse(&f, &r.b, r.err, sizeof r.err);
  sb_form_free(&f);
  return r;
}

static result_t twilio(const char *urlencoded) {
  return twilio_len(urlencoded, strlen(urlencoded));
}

static result_t twilio_fixture(const char *name) {
  char path[ERR_LEN];
  size_t len = 0;
  snprintf(path, sizeof path, FIX "%s", name);
  char *body = sb_test_fixture(path, &len);
  result_t r = twilio_len(body, len);
  free(body);
  return r;
}

static void test_twilio_sms_whatsapp_and_status(void **state) {
  result_t r = twilio_fixture("twilio_sms.form");
  const sb_wh_item_t *it = ok_item(&r, 0, SB_WH_MESSAGE, "sms");
  assert_int_equal(r.b.n, 1);
  assert_string_equal(it->customer, "+13035550123");
  assert_string_equal(it->platform_message_id,
                      "SM3f1c0e0d6b1a4e5f9a2b7c8d9e0f1a2b");
  assert_string_equal(it->text, "Hi, this is Jordan. My booking ABC123 - is "
                                "the 7:05 flight on time? \xF0\x9F\x99\x8F");
  sb_wh_batch_free(&r.b);
  r = twilio_fixture("twilio_whatsapp.form");
  it = ok_item(&r, 0, SB_WH_MESSAGE, "whatsapp");
  assert_string_equal(it->customer, "+16505551234");
  assert_string_equal(it->author_name, "Sheena Nelson");
  assert_string_equal(it->text, "[image] Photo of the damaged suitcase");
  assert_string_equal(it->reply_to, "SM0a1b2c3d4e5f60718293a4b5c6d7e8f9");
  sb_wh_batch_free(&r.b);
  r = twilio_fixture("twilio_status.form");
  it = ok_item(&r, 0, SB_WH_STATUS, "sms");
  assert_string_equal(it->status, "delivered");
  assert_string_equal(it->customer, "+13035550123");
  assert_string_equal(it->platform_message_id,
                      "SM0a1b2c3d4e5f60718293a4b5c6d7e8f9");
  sb_wh_batch_free(&r.b);
}

static void test_twilio_bad_items_and_wrong_forms(void **state) {
  static const struct {
    const char *form, *reason;
  } cases[] = {
      {"MessageSid=SM1&From=%2B1&Body=%FF", "text is not valid UTF-8"},
      {"MessageSid=SM1&From=%2B1&Body=x&NumMedia=99",
       "field \"NumMedia\" must be 0..10"},
      {"MessageSid=SM1&From=%2B1%00&Body=x", "field \"From\" holds a NUL byte"},
      {"MessageSid=SM1&Body=x", "missing field \"From\""},
      {"MessageSid=SM1&MessageStatus=Delivered%21&To=%2B1",
       "field \"MessageStatus\" is not a status word"},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    result_t r = twilio(cases[i].form);
    assert_int_equal(r.rc, 0);
    assert_int_equal(r.b.n, 1);
    bad_item(&r, 0, cases[i].reason);
    sb_wh_batch_free(&r.b);
  }
  result_t r = twilio("From=%2B1&Body=hi");
  assert_int_equal(r.rc, SB_EPARSE);
  assert_null(r.b.items);
  r = twilio("SmsSid=SM9&From=%2B1&Body=old+API&NumMedia=1&"
             "MediaContentType0=application%2Fpdf");
  assert_string_equal(ok_item(&r, 0, SB_WH_MESSAGE, "sms")->text,
                      "[file] old API");
  sb_wh_batch_free(&r.b);
}

/* ---------------------------------------------------------------- e-mail */

static result_t email_form(const sb_form_t *f) {
  result_t r;
  memset(&r, 0, sizeof r);
  r.rc = sb_webhook_email_parse(f, &r.b, r.err, sizeof r.err);
  return r;
}

static result_t email_urlencoded(const char *body) {
  sb_form_t f = {0};
  assert_int_equal(
      sb_form_urlencoded_parse(body, strlen(body), NULL, &f, NULL, 0), 0);
  result_t r = email_form(&f);
  sb_form_free(&f);
  return r;
}

static void test_email_fixture_threads_by_references(void **state) {
  size_t len = 0;
  char *body = sb_test_fixture(FIX "email_inbound.multipart", &len);
  char *ct = sb_test_fixture(FIX "email_inbound.content-type", NULL);
  sb_form_t f = {0};
  assert_int_equal(sb_form_multipart_parse(ct, body, len, NULL, &f, NULL, 0),
                   0);
  result_t r = email_form(&f);
  assert_int_equal(r.b.n, 1);
  const sb_wh_item_t *it = ok_item(&r, 0, SB_WH_MESSAGE, "email");
  assert_string_equal(it->customer, "jordan.brinks@example.com");
  assert_string_equal(it->author_name, "Brinks, Jordan");
  assert_string_equal(it->platform_message_id,
                      "CAOv4aW3xjQ+7b1@mail.example.com");
  assert_string_equal(it->reply_to,
                      "case-4711.reply-2@support.acme-air.example");
  assert_string_equal(it->thread_hint, "CAOv4aW1abc@mail.example.com");
  assert_string_equal(it->subject, "Re: Your case 4711 - rebooking");
  assert_false(it->is_public);
  assert_true(strncmp(it->text, "Re: Your case 4711 - rebooking\n\nHello,\r\n",
                      40) == 0);
  sb_wh_batch_free(&r.b);
  sb_form_free(&f);
  free(body);
  free(ct);
}

static void test_email_without_message_id_gets_stable_id(void **state) {
  const char *a = "from=a%40b.example&text=hello&headers=Subject%3A+x%0A";
  result_t r1 = email_urlencoded(a), r2 = email_urlencoded(a);
  result_t r3 = email_urlencoded("from=a%40b.example&text=hello!&headers="
                                 "Subject%3A+x%0A");
  const char *id1 =
      ok_item(&r1, 0, SB_WH_MESSAGE, "email")->platform_message_id;
  assert_true(strncmp(id1, "nomsgid-", 8) == 0);
  assert_int_equal(strlen(id1), 8 + 32);
  assert_string_equal(id1, r2.b.items[0].platform_message_id);
  assert_string_not_equal(id1, r3.b.items[0].platform_message_id);
  assert_null(r1.b.items[0].thread_hint);
  sb_wh_batch_free(&r1.b);
  sb_wh_batch_free(&r2.b);
  sb_wh_batch_free(&r3.b);
}

static void test_email_in_reply_to_alone_threads(void **state) {
  result_t r = email_urlencoded(
      "from=JANE%40Example.org&subject=Hi&headers=message-id%3A+%3Cm1%40x%3E"
      "%0D%0AIn-Reply-To%3A%0D%0A+%3Corig%40acme%3E%0D%0A");
  const sb_wh_item_t *it = ok_item(&r, 0, SB_WH_MESSAGE, "email");
  assert_string_equal(it->customer, "jane@example.org");
  assert_null(it->author_name);
  assert_string_equal(it->platform_message_id, "m1@x");
  assert_string_equal(it->reply_to, "orig@acme");
  assert_string_equal(it->thread_hint, "orig@acme");
  assert_string_equal(it->text, "Hi");
  sb_wh_batch_free(&r.b);
}

static void test_email_auto_replies_are_ignored(void **state) {
  result_t r = email_urlencoded("from=a%40b.c&headers=Auto-Submitted%3A+"
                                "auto-replied%0AMessage-ID%3A+%3Cx%40y%3E");
  ok_item(&r, 0, SB_WH_IGNORED, "email");
  assert_null(r.b.items[0].platform_message_id);
  sb_wh_batch_free(&r.b);
  r = email_urlencoded("from=a%40b.c&headers=Auto-Submitted%3A+no%0A");
  ok_item(&r, 0, SB_WH_MESSAGE, "email");
  sb_wh_batch_free(&r.b);
}

static void test_email_bad_from_is_an_item_error(void **state) {
  static const char *const bad[] = {
      "from=Jane+Doe&text=x",         "from=%3Cjane%3E&text=x",
      "from=Jane+%3Cjane%40x&text=x", "from=a%40%40b&text=x",
      "text=x&headers=Subject%3A+y",
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    result_t r = email_urlencoded(bad[i]);
    assert_int_equal(r.rc, 0);
    assert_true(strlen(r.b.items[0].error) > 0);
    assert_null(r.b.items[0].customer);
    sb_wh_batch_free(&r.b);
  }
  result_t r = email_urlencoded("subject=no+sender");
  assert_int_equal(r.rc, SB_EPARSE);
}

static void test_email_long_text_is_cut_on_a_character(void **state) {
  size_t n = SB_WEBHOOK_TEXT_MAX + 10, len = 0;
  char *form = malloc(n * 6 + 64);
  len += (size_t)sprintf(form, "from=a%%40b.c&text=");
  for (size_t i = 0; i * 2 < n; i++)
    len += (size_t)sprintf(form + len, "%%C3%%A9");
  result_t r = email_urlencoded(form);
  const char *text = ok_item(&r, 0, SB_WH_MESSAGE, "email")->text;
  assert_int_equal(strlen(text), SB_WEBHOOK_TEXT_MAX);
  assert_string_equal(text + SB_WEBHOOK_TEXT_MAX - 2, "\xC3\xA9");
  sb_wh_batch_free(&r.b);
  free(form);
}

/* The subject kept for an answer: a folded header's line breaks and tabs
 * become spaces, a long one is cut on a character, none when it is
 * blank. (One that is not UTF-8 makes the text so: an item error.) */
static void test_email_subject_is_kept_clean_for_the_answer(void **state) {
  result_t r = email_urlencoded("from=a%40b.c&subject=Refund%0D%0A%09order+42&text=x");
  assert_string_equal(ok_item(&r, 0, SB_WH_MESSAGE, "email")->subject, "Refund   order 42");
  sb_wh_batch_free(&r.b);
  static const char *const none[] = {"from=a%40b.c&text=x", "from=a%40b.c&subject=+%0D%0A+&text=x"};
  for (size_t i = 0; i < sizeof none / sizeof none[0]; i++) {
    r = email_urlencoded(none[i]);
    assert_null(ok_item(&r, 0, SB_WH_MESSAGE, "email")->subject);
    sb_wh_batch_free(&r.b);
  }
  char form[4096];
  size_t len = (size_t)sprintf(form, "from=a%%40b.c&text=x&subject=a");
  for (int i = 0; i < SB_WEBHOOK_SUBJECT_MAX; i++) /* "a" then 2-byte characters */
    len += (size_t)sprintf(form + len, "%%C3%%A9");
  r = email_urlencoded(form);
  const char *subject = ok_item(&r, 0, SB_WH_MESSAGE, "email")->subject;
  assert_int_equal(strlen(subject), SB_WEBHOOK_SUBJECT_MAX - 1); /* not half of a character */
  assert_string_equal(subject + strlen(subject) - 2, "\xC3\xA9");
  sb_wh_batch_free(&r.b);
}

/* SendGrid's Event Webhook: each event one item in order; the message is
 * the X-Message-Id (sg_message_id before ".filter", dots inside kept);
 * processed/delivered/open/bounce/dropped are states, deferred, click and
 * spamreport are ignored; an event without sg_message_id and a non-object
 * are malformed items, the others still read; not an array: no batch. */
static void test_sendgrid_events_become_delivery_states(void **state) {
  result_t r = parse_fixture(sb_webhook_email_events_parse, "sendgrid_events.json");
  assert_int_equal(r.rc, 0);
  assert_int_equal(r.b.n, 10);
  static const struct {
    size_t i;
    const char *id, *status, *customer;
    int64_t time_ms;
  } states[] = {
      {0, "Rz7HMYu7Tw-nCeg0JtWeZQ", "sent", "ana.silva@example.org", 1764064800000},
      {2, "Rz7HMYu7Tw-nCeg0JtWeZQ", "delivered", "ana.silva@example.org", 1764064810000},
      {3, "Rz7HMYu7Tw-nCeg0JtWeZQ", "read", "ana.silva@example.org", 1764065400000},
      {5, "14c5d75ce93.dfd.64b469", "failed", "old.address@example.net", 1764064900000},
      {6, "Lp2vU1kAQ2S2ns4LG7yXvA", "failed", "spam.trap@example.com", 1764064901000},
  };
  for (size_t k = 0; k < sizeof states / sizeof states[0]; k++) {
    const sb_wh_item_t *it = ok_item(&r, states[k].i, SB_WH_STATUS, "email");
    assert_string_equal(it->platform_message_id, states[k].id);
    assert_string_equal(it->status, states[k].status);
    assert_string_equal(it->customer, states[k].customer);
    assert_int_equal(it->time_ms, states[k].time_ms);
  }
  for (size_t i = 1; i < 8; i += 3) /* 1 deferred, 4 click, 7 spamreport */
    assert_int_equal(r.b.items[i].kind, SB_WH_IGNORED);
  assert_non_null(strstr(r.b.items[8].error, "sg_message_id"));
  assert_null(r.b.items[8].status);
  assert_string_equal(r.b.items[9].error, "event is not an object");
  sb_wh_batch_free(&r.b);
  r = parse(sb_webhook_email_events_parse, "{\"event\":\"delivered\"}");
  assert_int_equal(r.rc, SB_EPARSE);
  assert_non_null(strstr(r.err, "not a JSON array"));
  r = parse(sb_webhook_email_events_parse, "[]");
  assert_int_equal(r.rc, 0);
  assert_int_equal(r.b.n, 0);
}

static void test_batch_free_is_safe_twice_and_on_null(void **state) {
  result_t r = parse_fixture(sb_webhook_meta_parse, "meta_instagram.json");
  sb_wh_batch_free(&r.b);
  assert_null(r.b.items);
  assert_int_equal(r.b.n, 0);
  sb_wh_batch_free(&r.b);
  sb_wh_batch_free(NULL);
  assert_int_equal(sb_webhook_meta_parse("{}", 2, NULL, NULL, 0), SB_EINVAL);
  assert_int_equal(sb_webhook_twilio_parse(NULL, &r.b, NULL, 0), SB_EINVAL);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_whatsapp_text_image_location_reaction),
      cmocka_unit_test(test_whatsapp_statuses_never_become_messages),
      cmocka_unit_test(test_whatsapp_bad_items_are_marked_others_parsed),
      cmocka_unit_test(test_whatsapp_removed_reaction_and_system_are_ignored),
      cmocka_unit_test(test_whatsapp_other_message_types),
      cmocka_unit_test(test_whatsapp_non_message_fields_are_ignored),
      cmocka_unit_test(test_item_field_limits_and_control_characters),
      cmocka_unit_test(test_item_count_limit_is_exact),
      cmocka_unit_test(test_messenger_messages_echo_and_receipts),
      cmocka_unit_test(test_messenger_reactions_postbacks_and_others),
      cmocka_unit_test(test_instagram_dms_and_public_comment),
      cmocka_unit_test(test_page_feed_comment_reply_echo_and_reaction),
      cmocka_unit_test(test_meta_wrong_shape_fails_whole_delivery),
      cmocka_unit_test(test_meta_broken_entries_are_items),
      cmocka_unit_test(test_raw_nul_fails_and_bom_is_skipped),
      cmocka_unit_test(test_nesting_limit_is_exact_and_deep_input_fast),
      cmocka_unit_test(test_every_truncation_of_a_fixture_is_safe),
      cmocka_unit_test(test_x_tweets_mentions_replies_echo_and_retweet),
      cmocka_unit_test(test_x_direct_messages_private_media_and_echo),
      cmocka_unit_test(test_x_read_delete_and_other_events),
      cmocka_unit_test(test_x_without_for_user_id_fails),
      cmocka_unit_test(test_twilio_sms_whatsapp_and_status),
      cmocka_unit_test(test_twilio_bad_items_and_wrong_forms),
      cmocka_unit_test(test_email_fixture_threads_by_references),
      cmocka_unit_test(test_email_without_message_id_gets_stable_id),
      cmocka_unit_test(test_email_in_reply_to_alone_threads),
      cmocka_unit_test(test_email_subject_is_kept_clean_for_the_answer),
      cmocka_unit_test(test_sendgrid_events_become_delivery_states),
      cmocka_unit_test(test_email_auto_replies_are_ignored),
      cmocka_unit_test(test_email_bad_from_is_an_item_error),
      cmocka_unit_test(test_email_long_text_is_cut_on_a_character),
      cmocka_unit_test(test_batch_free_is_safe_twice_and_on_null),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
