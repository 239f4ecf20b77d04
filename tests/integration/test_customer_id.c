/*
 * Canonical customer id through a real stack (ingest, classify, route,
 * sla-timer, notify, redis-server): every customer message carries
 * Interaction.customer_id, set by ingest's commit. The case: one
 * person's public X mention, X DM and e-mail (inbound-parse webhook),
 * linked by POST /v1/identities, are one conversation and carry one
 * customer id on all three stored envelopes (read back after every stage
 * has handled them); an unlinked other person gets another id; an id is
 * stable across messages of one identity; a publisher cannot set it.
 */
#include "sb_testutil.h"
#include "sb_teststack.h"

#include "sb_envelope.h"
#include "sb_service.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TENANTS                                                                                    \
  "{\"tenants\":[{\"id\":\"air\","                                                                 \
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

static int post(const char *path, const char *ctype, const char *body, char *out) {
  return sb_teststack_http_header(st, SB_PORT_INGEST_HTTP, "POST", path, NULL, ctype, body, strlen(body),
                                  out, OUT_MAX);
}

static void json_member(const char *json, const char *name, char *val, size_t cap) {
  cJSON *o = cJSON_Parse(json);
  assert_non_null(o);
  const cJSON *m = cJSON_GetObjectItem(o, name);
  assert_true(cJSON_IsString(m));
  snprintf(val, cap, "%s", m->valuestring);
  cJSON_Delete(o);
}

/* A CloudEvent (source /test); its conversation into conv. extra: more
 * data members (",\"public\":true") or "". */
static void publish(const char *id, const char *channel, const char *customer, const char *extra,
                    char *conv) {
  char body[1024], out[OUT_MAX];
  snprintf(body, sizeof body,
           "{\"specversion\":\"1.0\",\"id\":\"%s\",\"source\":\"/test\",\"type\":"
           "\"com.switchboard.interaction\",\"tenant\":\"air\",\"data\":{\"channel\":\"%s\","
           "\"customer\":\"%s\",\"text\":\"hello\"%s}}",
           id, channel, customer, extra);
  assert_int_equal(post("/v1/events", "application/cloudevents+json", body, out), 202);
  json_member(out, "conversation", conv, 64);
}

static void email(const char *msgid, const char *from, char *conv) {
  char body[4096], out[OUT_MAX];
  snprintf(body, sizeof body,
           "--" BOUNDARY "\r\nContent-Disposition: form-data; name=\"headers\"\r\n\r\n"
           "From: %s\nMessage-ID: <%s>\nSubject: Bag\n\r\n"
           "--" BOUNDARY "\r\nContent-Disposition: form-data; name=\"from\"\r\n\r\n%s\r\n"
           "--" BOUNDARY "\r\nContent-Disposition: form-data; name=\"subject\"\r\n\r\nBag\r\n"
           "--" BOUNDARY "\r\nContent-Disposition: form-data; name=\"text\"\r\n\r\nWhere is my bag?\r\n"
           "--" BOUNDARY "--\r\n",
           from, msgid, from);
  assert_int_equal(post("/webhooks/email/support?token=mail-token", "multipart/form-data; boundary=" BOUNDARY,
                        body, out),
                   200);
  redisReply *r = redisCommand(sb_teststack_redis(st), "GET sb:{t:air}:mid:email:%s", msgid);
  assert_int_equal(r->type, REDIS_REPLY_STRING);
  snprintf(conv, 64, "%s", r->str);
  freeReplyObject(r);
}

/* The stored envelope of (source, id): its conversation and customer id. */
static void stored(const char *source, const char *id, char *conv, char *cid) {
  char key[SB_EVENT_KEY_LEN + 1];
  sb_event_key(source, id, key);
  redisReply *r = redisCommand(sb_teststack_redis(st), "GET sb:{t:air}:ev:%s", key);
  assert_int_equal(r->type, REDIS_REPLY_STRING);
  sb_envelope_t *env = sb_envelope_unpack((const uint8_t *)r->str, r->len);
  freeReplyObject(r);
  assert_non_null(env);
  assert_int_equal(env->body_case, SWITCHBOARD__V1__ENVELOPE__BODY_INTERACTION);
  assert_string_equal(env->interaction->text[0] ? "text" : "", "text"); /* the body survived */
  snprintf(conv, 64, "%s", env->conversation);
  snprintf(cid, 64, "%s", env->interaction->customer_id);
  sb_envelope_free(env);
}

static void mention_dm_and_email_of_one_person_share_one_customer_id(void **state) {
  (void)state;
  char out[OUT_MAX], c1[64], c2[64], c3[64], c4[64], gid[64];
  char s1[64], s2[64], s3[64], s4[64], i1[64], i2[64], i3[64], i4[64];
  publish("x-mention-1", "x", "1234567", ",\"public\":true", c1);
  publish("x-dm-1", "x", "1234567", "", c2);
  assert_string_equal(c2, c1);
  assert_int_equal(post("/v1/identities", "application/json",
                        "{\"tenant\":\"air\",\"customer\":\"c-ana\",\"identities\":["
                        "{\"channel\":\"x\",\"id\":\"1234567\"},{\"channel\":\"email\",\"id\":\"Ana@Example.com\"}]}",
                        out),
                   200);
  json_member(out, "customer_id", gid, sizeof gid);
  email("ana-1@mail.example", "Ana <ana@example.com>", c3);
  assert_string_equal(c3, c1); /* one case */
  publish("x-other-1", "x", "7654321", ",\"public\":true", c4);
  assert_string_not_equal(c4, c1);
  sbctl_stats_t stats;
  assert_int_equal(sb_teststack_wait_drained(st, 0, 30000, &stats), 0);
  stored("/test", "x-mention-1", s1, i1);
  stored("/test", "x-dm-1", s2, i2);
  stored("/email/support", "ana-1@mail.example", s3, i3);
  stored("/test", "x-other-1", s4, i4);
  assert_string_equal(s1, c1);
  assert_string_equal(s3, c1);
  assert_int_equal(strncmp(i1, "cus_", 4), 0);
  assert_int_equal(strlen(i1), 20);
  /* the link adopted the id the first listed identity (x) already had */
  assert_string_equal(gid, i1);
  assert_string_equal(i2, i1);
  assert_string_equal(i3, i1);
  assert_string_not_equal(i4, i1);
  assert_int_equal(strncmp(i4, "cus_", 4), 0);
}

static void a_publisher_cannot_choose_the_customer_id(void **state) {
  (void)state;
  char c1[64], c2[64], s[64], i1[64], i2[64];
  publish("bob-1", "webchat", "bob", ",\"customer_id\":\"cus_forged\"", c1);
  publish("bob-2", "webchat", "bob", "", c2);
  sbctl_stats_t stats;
  assert_int_equal(sb_teststack_wait_drained(st, 0, 30000, &stats), 0);
  stored("/test", "bob-1", s, i1);
  stored("/test", "bob-2", s, i2);
  assert_string_not_equal(i1, "cus_forged");
  assert_string_equal(i1, i2); /* stable for one identity */
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(mention_dm_and_email_of_one_person_share_one_customer_id),
      cmocka_unit_test(a_publisher_cannot_choose_the_customer_id),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
