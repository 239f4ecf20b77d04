/*
 * Identity linking and e-mail threading through a real ingest (and the
 * rest of the bus): POST /v1/identities is protected like /v1/events and
 * refuses bad bodies with a reason; linked identities on WeChat and e-mail
 * land in one conversation while unlinked ones stay apart; a link adopts
 * the open conversation one of its identities already has; an e-mail reply
 * follows In-Reply-To / References to the conversation of the message it
 * answers even from another address and under another subject.
 * Conversation ids come from the 202 of /v1/events and, for e-mail, from
 * mid:email:<Message-ID> (written once the webhook's 200 says durable).
 */
#include "sb_testutil.h"
#include "sb_teststack.h"

#include "sb_service.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define KEY "k1" /* sha256 below */
#define TENANTS                                                                                    \
  "{\"tenants\":[{\"id\":\"air\",\"api_keys\":[\"sha256:"                                          \
  "6ab9f1eb8f7d3388f4f9d586f66e99fd54080df2c446f0e58668b09c08a16dd0\"],"                           \
  "\"accounts\":[{\"platform\":\"email\",\"id\":\"support\",\"secret\":\"mail-token\"}]}]}"
#define OUT_MAX 8192
#define BOUNDARY "xYzZY"

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

static int post(const char *path, const char *header, const char *ctype, const char *body, char *out) {
  return sb_teststack_http_header(st, SB_PORT_INGEST_HTTP, "POST", path, header, ctype, body,
                                  strlen(body), out, OUT_MAX);
}

static int link_ids(const char *body, char *out) {
  return post("/v1/identities", "Authorization: Bearer " KEY, "application/json", body, out);
}

/* The string member name of the JSON response (or of its "error"), into val. */
static void json_member(const char *json, const char *name, char *val, size_t cap) {
  cJSON *o = cJSON_Parse(json);
  assert_non_null(o);
  const cJSON *e = cJSON_GetObjectItem(o, "error");
  const cJSON *m = cJSON_GetObjectItem(e ? e : o, name);
  assert_true(cJSON_IsString(m));
  snprintf(val, cap, "%s", m->valuestring);
  cJSON_Delete(o);
}

/* A CloudEvent from customer on channel; its conversation into conv. */
static void publish(const char *id, const char *channel, const char *customer, char *conv) {
  char body[1024], out[OUT_MAX];
  snprintf(body, sizeof body,
           "{\"specversion\":\"1.0\",\"id\":\"%s\",\"source\":\"/test\",\"type\":"
           "\"com.switchboard.interaction\",\"tenant\":\"air\",\"data\":{\"channel\":\"%s\","
           "\"customer\":\"%s\",\"text\":\"hello\"}}",
           id, channel, customer);
  assert_int_equal(post("/v1/events", "Authorization: Bearer " KEY, "application/cloudevents+json", body, out),
                   202);
  json_member(out, "conversation", conv, 64);
}

/* An inbound-parse e-mail; its conversation (mid:email:<msgid>) into conv. */
static void email(const char *msgid, const char *from, const char *subject, const char *extra_headers,
                  char *conv) {
  char body[4096], out[OUT_MAX];
  snprintf(body, sizeof body,
           "--" BOUNDARY "\r\nContent-Disposition: form-data; name=\"headers\"\r\n\r\n"
           "From: %s\nMessage-ID: <%s>\n%sSubject: %s\n\r\n"
           "--" BOUNDARY "\r\nContent-Disposition: form-data; name=\"from\"\r\n\r\n%s\r\n"
           "--" BOUNDARY "\r\nContent-Disposition: form-data; name=\"subject\"\r\n\r\n%s\r\n"
           "--" BOUNDARY "\r\nContent-Disposition: form-data; name=\"text\"\r\n\r\nWhere is my bag?\r\n"
           "--" BOUNDARY "--\r\n",
           from, msgid, extra_headers, subject, from, subject);
  assert_int_equal(post("/webhooks/email/support?token=mail-token", NULL,
                        "multipart/form-data; boundary=" BOUNDARY, body, out),
                   200);
  redisReply *r = redisCommand(sb_teststack_redis(st), "GET sb:{t:air}:mid:email:%s", msgid);
  assert_non_null(r);
  assert_int_equal(r->type, REDIS_REPLY_STRING);
  snprintf(conv, 64, "%s", r->str);
  freeReplyObject(r);
}

static void linking_needs_the_key_and_a_valid_body(void **state) {
  (void)state;
  char out[OUT_MAX], code[64];
  const char *ok = "{\"tenant\":\"air\",\"customer\":\"c-0\",\"identities\":[{\"channel\":\"x\",\"id\":\"1\"}]}";
  assert_int_equal(post("/v1/identities", NULL, "application/json", ok, out), 401);
  assert_int_equal(post("/v1/identities", "Authorization: Bearer nope", "application/json", ok, out), 403);
  assert_int_equal(link_ids("{\"tenant\":\"sea\",\"customer\":\"c\",\"identities\":[{\"channel\":\"x\",\"id\":\"1\"}]}",
                            out),
                   422);
  assert_int_equal(link_ids("{\"tenant\":\"air\",\"customer\":\"c\",\"identities\":[{\"channel\":\"email\",\"id\":\"x\"}]}",
                            out),
                   400);
  json_member(out, "code", code, sizeof code);
  assert_string_equal(code, "invalid_identity");
  json_member(out, "message", code, sizeof code);
  assert_non_null(strstr(code, "identities[0]"));
  assert_int_equal(link_ids("[[[[[[1]]]]]]", out), 400);
  assert_int_equal(link_ids("{\"tenant\":\"air\"", out), 400);
  assert_int_equal(link_ids(ok, out), 200);
  assert_int_equal(sb_teststack_http_header(st, SB_PORT_INGEST_HTTP, "GET", "/v1/identities", NULL, NULL,
                                            "", 0, out, OUT_MAX),
                   405);
}

static void linked_identities_share_one_conversation(void **state) {
  (void)state;
  char out[OUT_MAX], wechat[64], mail[64], other_wechat[64], other_mail[64];
  assert_int_equal(link_ids("{\"tenant\":\"air\",\"customer\":\"c-ana\",\"identities\":["
                            "{\"channel\":\"wechat\",\"id\":\"oABC\"},"
                            "{\"channel\":\"email\",\"id\":\"Ana@Example.com\"}]}",
                            out),
                   200);
  redisReply *r = redisCommand(sb_teststack_redis(st), "GET sb:{t:air}:ident:email:ana@example.com");
  assert_int_equal(r->type, REDIS_REPLY_STRING);
  assert_string_equal(r->str, "c-ana");
  freeReplyObject(r);
  publish("wx-1", "wechat", "oABC", wechat);
  email("ana-1@mail.example", "Ana <ANA@example.COM>", "My bag", "", mail);
  assert_string_equal(mail, wechat);
  /* unlinked identities keep a conversation per channel and customer */
  publish("wx-2", "wechat", "oXYZ", other_wechat);
  email("bob-1@mail.example", "bob@example.com", "My bag", "", other_mail);
  assert_string_not_equal(other_wechat, wechat);
  assert_string_not_equal(other_mail, wechat);
  assert_string_not_equal(other_mail, other_wechat);
  /* and the linked customer's next message still joins */
  publish("wx-3", "wechat", "oABC", other_wechat);
  assert_string_equal(other_wechat, wechat);
}

static void a_link_adopts_an_open_conversation(void **state) {
  (void)state;
  char out[OUT_MAX], first[64], adopted[64], mail[64];
  publish("wx-late-1", "wechat", "oLATE", first);
  assert_int_equal(link_ids("{\"tenant\":\"air\",\"customer\":\"c-late\",\"identities\":["
                            "{\"channel\":\"wechat\",\"id\":\"oLATE\"},"
                            "{\"channel\":\"email\",\"id\":\"late@example.com\"}]}",
                            out),
                   200);
  json_member(out, "conversation", adopted, sizeof adopted);
  assert_string_equal(adopted, first);
  email("late-1@mail.example", "late@example.com", "Still waiting", "", mail);
  assert_string_equal(mail, first);
}

static void email_replies_follow_their_references(void **state) {
  (void)state;
  char first[64], reply[64], by_refs[64], fresh[64];
  email("carl-1@mail.example", "Carl <carl@example.com>", "Lost bag", "", first);
  /* another address, another subject: In-Reply-To decides */
  email("carl-2@mail.example", "CARL.HOME@Example.NET", "Any news?",
        "In-Reply-To: <carl-1@mail.example>\n", reply);
  assert_string_equal(reply, first);
  /* In-Reply-To names a message we never saw: the References root does */
  email("dana-1@mail.example", "dana@example.org", "Fwd: Lost bag",
        "In-Reply-To: <agent-reply-9@acme.example>\nReferences: <carl-1@mail.example>\n"
        " <agent-reply-9@acme.example>\n",
        by_refs);
  assert_string_equal(by_refs, first);
  /* a reply to nothing known opens its own conversation */
  email("erin-1@mail.example", "erin@example.org", "Re: Lost bag",
        "In-Reply-To: <unknown@elsewhere.example>\n", fresh);
  assert_string_not_equal(fresh, first);
}

/* What route.lua's close does to a conversation (state closed; the
 * threads field of its first message forgotten): done directly, so the
 * test does not depend on an agent being assigned first. */
static void close_like_route(const char *conv, const char *first_thread) {
  redisReply *r = redisCommand(sb_teststack_redis(st), "HSET sb:{t:air}:conv:%s state closed", conv);
  freeReplyObject(r);
  r = redisCommand(sb_teststack_redis(st), "HDEL sb:{t:air}:threads %s", first_thread);
  freeReplyObject(r);
}

/* route forgets only the threads field of a conversation's first message
 * on close; the linked customer's field must not lead into a closed one,
 * nor may an e-mail reply to a message of it */
static void a_linked_customer_gets_a_new_conversation_after_close(void **state) {
  (void)state;
  char out[OUT_MAX], first[64], mail[64], after[64], again[64];
  assert_int_equal(link_ids("{\"tenant\":\"air\",\"customer\":\"c-zoe\",\"identities\":["
                            "{\"channel\":\"wechat\",\"id\":\"oZOE\"},"
                            "{\"channel\":\"email\",\"id\":\"zoe@example.com\"}]}",
                            out),
                   200);
  publish("wx-zoe-1", "wechat", "oZOE", first);
  email("zoe-1@mail.example", "zoe@example.com", "Question", "", mail);
  assert_string_equal(mail, first);
  /* route must have seen both first: its handling of a new conversation
   * writes the conversation's state, which would undo the close below */
  sbctl_stats_t stats;
  assert_int_equal(sb_teststack_wait_drained(st, 0, 30000, &stats), 0);
  close_like_route(first, "wechat:oZOE");
  email("zoe-2@mail.example", "zoe@example.com", "Re: Question", "In-Reply-To: <zoe-1@mail.example>\n",
        after);
  assert_string_not_equal(after, first);
  publish("wx-zoe-2", "wechat", "oZOE", again);
  assert_string_equal(again, after); /* and the new one is shared again */
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(linking_needs_the_key_and_a_valid_body),
      cmocka_unit_test(linked_identities_share_one_conversation),
      cmocka_unit_test(a_link_adopts_an_open_conversation),
      cmocka_unit_test(email_replies_follow_their_references),
      cmocka_unit_test(a_linked_customer_gets_a_new_conversation_after_close),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
