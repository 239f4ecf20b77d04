/* sb_channel_out and its adapters: each platform's request exactly as its
 * API documents it (URL, headers, JSON body), the verdict on each kind of
 * answer (WeChat errcodes, Telegram ok:false with retry_after, LINE reply
 * refused -> push), and notify.outbound validation with reasons. */
#include "sb_testcrypto.h"
#include "sb_testutil.h"
#include "sb_testwebhook.h"

#include "sb_channel_out.h"
#include "sb_channel_send.h"
#include "sb_error.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char TENANTS[] =
    "{\"tenants\": [{\"id\": \"acme\", \"accounts\": ["
    "  {\"platform\": \"wechat\", \"id\": \"oa-1\", \"secret\": \"tok\", \"app_id\": \"wxAPP\"},"
    "  {\"platform\": \"wechat\", \"id\": \"oa-2\", \"secret\": \"tok\"},"
    "  {\"platform\": \"telegram\", \"id\": \"bot-1\", \"secret\": \"s\"},"
    "  {\"platform\": \"line\", \"id\": \"ch-1\", \"secret\": \"s\"},"
    "  {\"platform\": \"meta\", \"id\": \"page-1\", \"secret\": \"s\", \"verify_token\": \"v\"},"
    "  {\"platform\": \"twilio\", \"id\": \"tw-1\", \"secret\": \"tw-secret\", \"url\": \"https://x.example/t\"},"
    "  {\"platform\": \"email\", \"id\": \"support\", \"secret\": \"inbound-token\"},"
    "  {\"platform\": \"x\", \"id\": \"acmeair\", \"secret\": \"x-consumer-secret\"}]},"
    " {\"id\": \"other\", \"accounts\": [{\"platform\": \"telegram\", \"id\": \"bot-9\", \"secret\": \"s\"}]}]}";

static sb_tenants_t *tenants(void) {
  char err[256];
  sb_tenants_t *t = sb_tenants_parse(TENANTS, strlen(TENANTS), err, sizeof err);
  assert_non_null(t);
  return t;
}

static sb_out_account_t account(const char *platform, const char *token) {
  sb_out_account_t a;
  memset(&a, 0, sizeof a);
  snprintf(a.platform, sizeof a.platform, "%s", platform);
  a.api_base = (char *)"http://127.0.0.1:9";
  a.token = (char *)token;
  a.app_id = (char *)"wx APP";
  a.app_secret = (char *)"s&cret";
  return a;
}

static cJSON *body_of(const sb_out_request_t *r) {
  cJSON *j = cJSON_Parse(r->body);
  assert_non_null(j);
  return j;
}

static const char *str(const cJSON *o, const char *name) {
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);
  assert_true(cJSON_IsString(v));
  return v->valuestring;
}

static void wechat_request_is_custom_send_with_token_in_query(void **state) {
  (void)state;
  sb_out_account_t a = account("wechat", NULL);
  sb_out_message_t m = {.to = "oOPENID", .text = "Hello \"there\""};
  sb_out_request_t r;
  char why[128];
  assert_int_equal(sb_channel_wechat.build(&a, &m, NULL, 0, 0, &r, why, sizeof why), SB_EINVAL);
  sb_out_request_clear(&r);
  assert_int_equal(sb_channel_wechat.build(&a, &m, "AT/1+x", 0, 0, &r, why, sizeof why), 0);
  assert_string_equal(r.url,
                      "http://127.0.0.1:9/cgi-bin/message/custom/send?access_token=AT%2F1%2Bx");
  assert_int_equal(r.nheaders, 1);
  assert_string_equal(r.headers[0], "Content-Type: application/json");
  cJSON *j = body_of(&r);
  assert_string_equal(str(j, "touser"), "oOPENID");
  assert_string_equal(str(j, "msgtype"), "text");
  assert_string_equal(str(cJSON_GetObjectItem(j, "text"), "content"), "Hello \"there\"");
  assert_int_equal(cJSON_GetArraySize(j), 3);
  cJSON_Delete(j);
  sb_out_request_clear(&r);
  char url[512];
  assert_int_equal(sb_channel_wechat.token_url(&a, url, sizeof url), 0);
  assert_string_equal(url, "http://127.0.0.1:9/cgi-bin/token?grant_type=client_credential"
                           "&appid=wx%20APP&secret=s%26cret");
}

static void wechat_errcodes_decide_sent_refresh_retry_or_dead(void **state) {
  (void)state;
  sb_out_request_t r = {0};
  sb_out_result_t o;
  sb_channel_wechat.classify(&r, 200, "{\"errcode\":0,\"errmsg\":\"ok\"}", &o);
  assert_int_equal(o.verdict, SB_OUT_SENT);
  sb_channel_wechat.classify(&r, 200, "{\"errcode\":40001,\"errmsg\":\"invalid credential\"}", &o);
  assert_int_equal(o.verdict, SB_OUT_REFRESH);
  assert_non_null(strstr(o.reason, "40001"));
  sb_channel_wechat.classify(&r, 200, "{\"errcode\":42001,\"errmsg\":\"expired\"}", &o);
  assert_int_equal(o.verdict, SB_OUT_REFRESH);
  sb_channel_wechat.classify(&r, 200, "{\"errcode\":-1,\"errmsg\":\"system busy\"}", &o);
  assert_int_equal(o.verdict, SB_OUT_RETRY);
  sb_channel_wechat.classify(&r, 200, "{\"errcode\":45015,\"errmsg\":\"response out of time limit\"}",
                             &o);
  assert_int_equal(o.verdict, SB_OUT_DEAD);
  assert_non_null(strstr(o.reason, "45015"));
  sb_channel_wechat.classify(&r, 200, "not json", &o);
  assert_int_equal(o.verdict, SB_OUT_RETRY);
  sb_channel_wechat.classify(&r, 502, "", &o);
  assert_int_equal(o.verdict, SB_OUT_RETRY);
  char tok[64], why[128];
  int64_t exp = 0;
  assert_int_equal(sb_channel_wechat.token_parse(200, "{\"access_token\":\"T1\",\"expires_in\":7200}",
                                                 tok, sizeof tok, &exp, why, sizeof why),
                   0);
  assert_string_equal(tok, "T1");
  assert_int_equal(exp, 7200);
  assert_int_equal(sb_channel_wechat.token_parse(200, "{\"errcode\":40125,\"errmsg\":\"bad secret\"}",
                                                 tok, sizeof tok, &exp, why, sizeof why),
                   SB_EPARSE);
  assert_non_null(strstr(why, "40125"));
}

static void telegram_request_is_send_message_with_numeric_chat_id(void **state) {
  (void)state;
  sb_out_account_t a = account("telegram", "123:ABC");
  sb_out_message_t m = {.to = "-100123456", .text = "Thanks"};
  sb_out_request_t r;
  char why[128];
  assert_int_equal(sb_channel_telegram.build(&a, &m, NULL, 0, 0, &r, why, sizeof why), 0);
  assert_string_equal(r.url, "http://127.0.0.1:9/bot123:ABC/sendMessage");
  assert_string_equal(r.headers[0], "Content-Type: application/json");
  assert_string_equal(r.body, "{\"chat_id\":-100123456,\"text\":\"Thanks\"}");
  sb_out_request_clear(&r);
  m.to = "@channelname";
  assert_int_equal(sb_channel_telegram.build(&a, &m, NULL, 0, 0, &r, why, sizeof why), 0);
  assert_string_equal(r.body, "{\"chat_id\":\"@channelname\",\"text\":\"Thanks\"}");
  sb_out_request_clear(&r);
  m.to = "";
  assert_int_equal(sb_channel_telegram.build(&a, &m, NULL, 0, 0, &r, why, sizeof why), SB_EINVAL);
  sb_out_request_clear(&r);
}

static void telegram_429_retries_after_the_platforms_wait(void **state) {
  (void)state;
  sb_out_request_t r = {0};
  sb_out_result_t o;
  sb_channel_telegram.classify(&r, 200, "{\"ok\":true,\"result\":{\"message_id\":5}}", &o);
  assert_int_equal(o.verdict, SB_OUT_SENT);
  sb_channel_telegram.classify(&r, 429,
                               "{\"ok\":false,\"error_code\":429,\"description\":\"Too Many "
                               "Requests: retry after 3\",\"parameters\":{\"retry_after\":3}}",
                               &o);
  assert_int_equal(o.verdict, SB_OUT_RETRY);
  assert_int_equal(o.retry_after_ms, 3000);
  sb_channel_telegram.classify(
      &r, 400, "{\"ok\":false,\"error_code\":400,\"description\":\"Bad Request: chat not found\"}", &o);
  assert_int_equal(o.verdict, SB_OUT_DEAD);
  assert_non_null(strstr(o.reason, "chat not found"));
  sb_channel_telegram.classify(&r, 403, "{\"ok\":false,\"error_code\":403,\"description\":\"blocked\"}",
                               &o);
  assert_int_equal(o.verdict, SB_OUT_DEAD);
  sb_channel_telegram.classify(&r, 502, "<html>bad gateway</html>", &o);
  assert_int_equal(o.verdict, SB_OUT_RETRY);
  sb_channel_telegram.classify(&r, 200, "{\"ok\":false,\"error_code\":400}", &o);
  assert_int_equal(o.verdict, SB_OUT_DEAD); /* ok:false is never sent */
}

static void line_replies_with_a_fresh_token_and_pushes_otherwise(void **state) {
  (void)state;
  sb_out_account_t a = account("line", "CAT");
  sb_out_message_t m = {.to = "Uabc", .reply_token = "rt-1", .reply_token_ms = 1000000,
                        .text = "Hi"};
  sb_out_request_t r;
  char why[128];
  assert_int_equal(sb_channel_line.build(&a, &m, NULL, 1000000 + 10000, 0, &r, why, sizeof why), 0);
  assert_string_equal(r.url, "http://127.0.0.1:9/v2/bot/message/reply");
  assert_int_equal(r.nheaders, 2);
  assert_string_equal(r.headers[0], "Content-Type: application/json");
  assert_string_equal(r.headers[1], "Authorization: Bearer CAT");
  assert_string_equal(r.body,
                      "{\"replyToken\":\"rt-1\",\"messages\":[{\"type\":\"text\",\"text\":\"Hi\"}]}");
  sb_out_result_t o;
  sb_channel_line.classify(&r, 400, "{\"message\":\"Invalid reply token\"}", &o);
  assert_int_equal(o.verdict, SB_OUT_FALLBACK);
  assert_non_null(strstr(o.reason, "Invalid reply token"));
  sb_out_request_clear(&r);
  /* the fallback, and a token too old to try: push */
  assert_int_equal(sb_channel_line.build(&a, &m, NULL, 1000000 + 10000, 1, &r, why, sizeof why), 0);
  assert_string_equal(r.url, "http://127.0.0.1:9/v2/bot/message/push");
  assert_string_equal(r.body, "{\"to\":\"Uabc\",\"messages\":[{\"type\":\"text\",\"text\":\"Hi\"}]}");
  sb_channel_line.classify(&r, 400, "{\"message\":\"The request body has 1 error(s)\"}", &o);
  assert_int_equal(o.verdict, SB_OUT_DEAD);
  sb_channel_line.classify(&r, 429, "{\"message\":\"rate limit\"}", &o);
  assert_int_equal(o.verdict, SB_OUT_RETRY);
  sb_channel_line.classify(&r, 200, "{}", &o);
  assert_int_equal(o.verdict, SB_OUT_SENT);
  sb_out_request_clear(&r);
  assert_int_equal(sb_channel_line.build(&a, &m, NULL, 1000000 + SB_LINE_REPLY_TOKEN_TTL_MS, 0, &r,
                                         why, sizeof why),
                   0);
  assert_string_equal(r.url, "http://127.0.0.1:9/v2/bot/message/push");
  sb_out_request_clear(&r);
}

static void meta_whatsapp_and_messenger_requests_follow_the_graph_api(void **state) {
  (void)state;
  sb_out_account_t a = account("meta", "PAGE-TOKEN");
  a.sender = (char *)"1065432198";
  sb_out_message_t m = {.to = "447700900123", .text = "Hi", .channel = "whatsapp"};
  sb_out_request_t r;
  char why[128];
  assert_int_equal(sb_channel_meta.build(&a, &m, NULL, 0, 0, &r, why, sizeof why), 0);
  assert_string_equal(r.url, "http://127.0.0.1:9/v19.0/1065432198/messages");
  assert_string_equal(r.headers[0], "Content-Type: application/json");
  assert_string_equal(r.headers[1], "Authorization: Bearer PAGE-TOKEN");
  assert_string_equal(r.body, "{\"messaging_product\":\"whatsapp\",\"recipient_type\":\"individual\","
                              "\"to\":\"447700900123\",\"type\":\"text\",\"text\":{\"body\":\"Hi\"}}");
  sb_out_request_clear(&r);
  m.channel = "messenger";
  m.to = "6543210987";
  assert_int_equal(sb_channel_meta.build(&a, &m, NULL, 0, 0, &r, why, sizeof why), 0);
  assert_string_equal(r.url, "http://127.0.0.1:9/v19.0/me/messages");
  assert_string_equal(r.body, "{\"recipient\":{\"id\":\"6543210987\"},\"messaging_type\":\"RESPONSE\","
                              "\"message\":{\"text\":\"Hi\"}}");
  sb_out_result_t o;
  sb_channel_meta.classify(&r, 200, "{\"recipient_id\":\"6543210987\",\"message_id\":\"m_1\"}", &o);
  assert_int_equal(o.verdict, SB_OUT_SENT);
  assert_string_equal(o.sent_id, "m_1"); /* what its receipts would name */
  sb_channel_meta.classify(&r, 200, "{\"messaging_product\":\"whatsapp\",\"messages\":[{\"id\":\"wamid.HBg=\"}]}",
                           &o);
  assert_string_equal(o.sent_id, "wamid.HBg=");
  /* a sent message without an id, or one no sane key could hold: none kept */
  sb_channel_meta.classify(&r, 200, "{}", &o);
  assert_int_equal(o.verdict, SB_OUT_SENT);
  assert_string_equal(o.sent_id, "");
  sb_channel_meta.classify(&r, 200, "{\"message_id\":\"m 1|x\"}", &o);
  assert_string_equal(o.sent_id, "");
  char big[300] = "{\"message_id\":\"";
  memset(big + strlen(big), 'm', 200);
  strcat(big, "\"}");
  sb_channel_meta.classify(&r, 200, big, &o);
  assert_int_equal(o.verdict, SB_OUT_SENT);
  assert_string_equal(o.sent_id, "");
  sb_channel_meta.classify(&r, 400, "{\"error\":{\"message\":\"(#613) Calls exceed the rate\",\"code\":613}}", &o);
  assert_int_equal(o.verdict, SB_OUT_RETRY);
  sb_channel_meta.classify(&r, 400, "{\"error\":{\"message\":\"Re-engagement message\",\"code\":131047}}", &o);
  assert_int_equal(o.verdict, SB_OUT_DEAD);
  assert_non_null(strstr(o.reason, "131047"));
  sb_channel_meta.classify(&r, 503, "", &o);
  assert_int_equal(o.verdict, SB_OUT_RETRY);
  sb_out_request_clear(&r);
  a.sender = NULL;
  m.channel = "whatsapp";
  assert_int_equal(sb_channel_meta.build(&a, &m, NULL, 0, 0, &r, why, sizeof why), SB_EINVAL);
  sb_out_request_clear(&r);
}

static void twilio_posts_a_form_with_basic_auth(void **state) {
  (void)state;
  sb_out_account_t a = account("twilio", "tw-secret");
  a.app_id = (char *)"AC0123";
  a.sender = (char *)"+15550000000";
  sb_out_message_t m = {.to = "+15551234567", .text = "Hello there & bye", .channel = "sms"};
  sb_out_request_t r;
  char why[128];
  assert_int_equal(sb_channel_twilio.build(&a, &m, NULL, 0, 0, &r, why, sizeof why), 0);
  assert_string_equal(r.url, "http://127.0.0.1:9/2010-04-01/Accounts/AC0123/Messages.json");
  assert_string_equal(r.headers[0], "Content-Type: application/x-www-form-urlencoded");
  assert_string_equal(r.headers[1], "Authorization: Basic QUMwMTIzOnR3LXNlY3JldA==");
  assert_string_equal(r.body, "To=%2B15551234567&From=%2B15550000000&Body=Hello%20there%20%26%20bye");
  sb_out_result_t o;
  sb_channel_twilio.classify(&r, 201, "{\"sid\":\"SM1\",\"status\":\"queued\"}", &o);
  assert_int_equal(o.verdict, SB_OUT_SENT);
  assert_string_equal(o.sent_id, "SM1"); /* status callbacks' MessageSid */
  sb_channel_twilio.classify(&r, 400, "{\"code\":21211,\"message\":\"The 'To' number is not valid\"}", &o);
  assert_int_equal(o.verdict, SB_OUT_DEAD);
  assert_non_null(strstr(o.reason, "21211"));
  sb_channel_twilio.classify(&r, 429, "{\"code\":20429,\"message\":\"Too Many Requests\"}", &o);
  assert_int_equal(o.verdict, SB_OUT_RETRY);
  sb_out_request_clear(&r);
  /* with a status callback URL, each message asks Twilio to call it */
  a.status_callback = (char *)"https://hooks.example/webhooks/twilio/AC0123?x=1&y=2";
  assert_int_equal(sb_channel_twilio.build(&a, &m, NULL, 0, 0, &r, why, sizeof why), 0);
  assert_string_equal(r.body, "To=%2B15551234567&From=%2B15550000000&Body=Hello%20there%20%26%20bye"
                              "&StatusCallback=https%3A%2F%2Fhooks.example%2Fwebhooks%2Ftwilio%2FAC0123"
                              "%3Fx%3D1%26y%3D2");
  sb_out_request_clear(&r);
  a.status_callback = (char *)""; /* none */
  assert_int_equal(sb_channel_twilio.build(&a, &m, NULL, 0, 0, &r, why, sizeof why), 0);
  assert_null(strstr(r.body, "StatusCallback"));
  sb_out_request_clear(&r);
}

/* A member of the first element of array member name of o. */
static const cJSON *first_of(const cJSON *o, const char *name) {
  const cJSON *a = cJSON_GetObjectItemCaseSensitive(o, name);
  assert_true(cJSON_IsArray(a) && cJSON_GetArraySize(a) >= 1);
  return cJSON_GetArrayItem(a, 0);
}

/* SendGrid v3 Mail Send: the answer is "Re:" the customer's subject and
 * names the customer's mail in In-Reply-To and References, so that it
 * threads in their client and their next mail threads back here. */
static void email_answers_through_sendgrid_threaded_on_the_customers_mail(void **state) {
  (void)state;
  sb_out_account_t a = account("email", "SG.key-123");
  a.sender = (char *)"Acme Support <help@acme.example>";
  sb_out_message_t m = {.to = "ana@example.com",
                        .text = "Your refund left today.\nAna from Acme",
                        .channel = "email",
                        .subject = "Refund for order 1042",
                        .in_reply_to = "CAF1x=abc@mail.example.com"};
  sb_out_request_t r;
  char why[128] = "";
  assert_int_equal(sb_channel_email.build(&a, &m, NULL, 0, 0, &r, why, sizeof why), 0);
  assert_string_equal(r.url, "http://127.0.0.1:9/v3/mail/send");
  assert_int_equal(r.nheaders, 2);
  assert_string_equal(r.headers[0], "Content-Type: application/json");
  assert_string_equal(r.headers[1], "Authorization: Bearer SG.key-123");
  cJSON *j = body_of(&r);
  assert_string_equal(str(first_of(first_of(j, "personalizations"), "to"), "email"), "ana@example.com");
  const cJSON *from = cJSON_GetObjectItemCaseSensitive(j, "from");
  assert_string_equal(str(from, "email"), "help@acme.example");
  assert_string_equal(str(from, "name"), "Acme Support");
  assert_string_equal(str(j, "subject"), "Re: Refund for order 1042");
  assert_string_equal(str(first_of(j, "content"), "type"), "text/plain");
  assert_string_equal(str(first_of(j, "content"), "value"), "Your refund left today.\nAna from Acme");
  const cJSON *h = cJSON_GetObjectItemCaseSensitive(j, "headers");
  assert_string_equal(str(h, "In-Reply-To"), "<CAF1x=abc@mail.example.com>");
  assert_string_equal(str(h, "References"), "<CAF1x=abc@mail.example.com>");
  cJSON_Delete(j);
  sb_out_request_clear(&r);

  /* a subject that already answers keeps its own "RE:"; a plain sender has
   * no name; a mail that had no Message-ID (ingest's stand-in) gets no
   * threading headers */
  a.sender = (char *)"help@acme.example";
  m.subject = "RE: Refund for order 1042";
  m.in_reply_to = "nomsgid-0123456789abcdef0123456789abcdef";
  assert_int_equal(sb_channel_email.build(&a, &m, NULL, 0, 0, &r, why, sizeof why), 0);
  j = body_of(&r);
  assert_string_equal(str(j, "subject"), "RE: Refund for order 1042");
  assert_null(cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(j, "from"), "name"));
  assert_null(cJSON_GetObjectItemCaseSensitive(j, "headers"));
  cJSON_Delete(j);
  sb_out_request_clear(&r);

  /* no subject (or only spaces): the default, or the account's own */
  m.subject = "   ";
  m.in_reply_to = NULL;
  assert_int_equal(sb_channel_email.build(&a, &m, NULL, 0, 0, &r, why, sizeof why), 0);
  j = body_of(&r);
  assert_string_equal(str(j, "subject"), SB_OUT_EMAIL_SUBJECT_DEFAULT);
  cJSON_Delete(j);
  sb_out_request_clear(&r);
  a.default_subject = (char *)"Votre message";
  m.subject = NULL;
  assert_int_equal(sb_channel_email.build(&a, &m, NULL, 0, 0, &r, why, sizeof why), 0);
  j = body_of(&r);
  assert_string_equal(str(j, "subject"), "Votre message");
  cJSON_Delete(j);
  sb_out_request_clear(&r);

  /* a recipient that is not one mailbox is refused before any request */
  const char *bad[] = {"", "ana", "ana@", "@example.com", "a b@example.com", "ana@x@y",
                       "Ana <ana@example.com>", "ana@example.com,bob@example.com"};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    m.to = bad[i];
    why[0] = '\0';
    assert_int_equal(sb_channel_email.build(&a, &m, NULL, 0, 0, &r, why, sizeof why), SB_EINVAL);
    assert_string_equal(why, bad[i][0] ? "email: recipient is not an e-mail address" : "email: no recipient");
    sb_out_request_clear(&r);
  }

  /* 202 is sent (SendGrid names the message only in a header: no sent_id);
   * 429 and 5xx retry; 400 and 401 are permanent, with SendGrid's reason */
  sb_out_result_t o;
  sb_channel_email.classify(&r, 202, "", &o);
  assert_int_equal(o.verdict, SB_OUT_SENT);
  assert_string_equal(o.sent_id, "");
  sb_channel_email.classify(&r, 400,
                            "{\"errors\":[{\"message\":\"Does not contain a valid address.\","
                            "\"field\":\"personalizations.0.to.0.email\",\"help\":null}]}",
                            &o);
  assert_int_equal(o.verdict, SB_OUT_DEAD);
  assert_string_equal(o.reason,
                      "email 400: Does not contain a valid address. field personalizations.0.to.0.email");
  sb_channel_email.classify(&r, 401, "{\"errors\":[{\"field\":null,\"message\":\"The provided authorization "
                                     "grant is invalid, expired, or revoked\"}]}", &o);
  assert_int_equal(o.verdict, SB_OUT_DEAD);
  assert_non_null(strstr(o.reason, "authorization grant"));
  sb_channel_email.classify(&r, 429, "{\"errors\":[{\"message\":\"too many requests\"}]}", &o);
  assert_int_equal(o.verdict, SB_OUT_RETRY);
  sb_channel_email.classify(&r, 503, "<html>busy</html>", &o);
  assert_int_equal(o.verdict, SB_OUT_RETRY);
}

static void email_sender_is_one_mailbox_with_an_optional_name(void **state) {
  (void)state;
  char name[64], addr[64];
  assert_int_equal(sb_out_email_sender("Acme Support <help@acme.example>", name, sizeof name, addr,
                                       sizeof addr),
                   0);
  assert_string_equal(name, "Acme Support");
  assert_string_equal(addr, "help@acme.example");
  assert_int_equal(sb_out_email_sender("help@acme.example", name, sizeof name, addr, sizeof addr), 0);
  assert_string_equal(name, "");
  assert_string_equal(addr, "help@acme.example");
  const char *bad[] = {"Acme", "Acme <help@acme.example", "Acme <help@acme.example> x",
                       "<help>", "a@b, c@d", "Acme\r\nBcc: x <help@acme.example>"};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
    assert_int_equal(sb_out_email_sender(bad[i], name, sizeof name, addr, sizeof addr), SB_EINVAL);
  /* too long for the caller's buffer */
  assert_int_equal(sb_out_email_sender("help@acme.example", name, sizeof name, addr, 8), SB_EINVAL);
}

/* RFC 5849's HMAC-SHA1 signature, on the example X publishes ("Creating a
 * signature": the same base string and key give hCtSmYh+iHYCEqBWrE7C7hYmtUk=,
 * also computed with `openssl dgst -sha1 -hmac <key> -binary | base64`). */
static void x_oauth1_signature_matches_the_published_example(void **state) {
  (void)state;
  const sb_out_param_t p[] = {
      {"status", "Hello Ladies + Gentlemen, a signed OAuth request!"},
      {"include_entities", "true"},
      {"oauth_consumer_key", "xvz1evFS4wEEPTGEFPHBog"},
      {"oauth_nonce", "kYjzVBB8Y0ZFabxSWbWovY3uYSQ2pTgmZeNu2VS4cg"},
      {"oauth_signature_method", "HMAC-SHA1"},
      {"oauth_timestamp", "1318622958"},
      {"oauth_token", "370773112-GmHxMAgYyLbNEtIKZeRNFsMKPR9EyMZeS9weJAEb"},
      {"oauth_version", "1.0"}};
  char sig[SB_OUT_OAUTH1_SIG_LEN];
  assert_int_equal(sb_out_oauth1_sign("POST", "https://api.twitter.com/1.1/statuses/update.json", p,
                                      sizeof p / sizeof p[0], "kAcSOqF21Fu85e7zjz7ZN2U4ZRhfV3WpwPAoE3Z7kBw",
                                      "LswwdoUaIvS8ltyTt5jkRh4J50vUPVVHtR2YPi5kE", sig, sizeof sig),
                   0);
  assert_string_equal(sig, "hCtSmYh+iHYCEqBWrE7C7hYmtUk=");
  /* another token secret, another signature; too small an output */
  assert_int_equal(sb_out_oauth1_sign("POST", "https://api.twitter.com/1.1/statuses/update.json", p,
                                      sizeof p / sizeof p[0], "kAcSOqF21Fu85e7zjz7ZN2U4ZRhfV3WpwPAoE3Z7kBw",
                                      "other", sig, sizeof sig),
                   0);
  assert_string_not_equal(sig, "hCtSmYh+iHYCEqBWrE7C7hYmtUk=");
  assert_int_equal(sb_out_oauth1_sign("POST", "https://x", p, 1, "a", "b", sig, 28), SB_ETOOBIG);
}

/* X: a DM answers a private message, a public reply answers a post; each
 * request is signed as the account (OAuth 1.0a), the signature checked
 * against the openssl tool over the base string X documents
 * (sb_test_oauth1_signature). */
static void x_answers_by_dm_or_public_reply_signed_as_the_account(void **state) {
  (void)state;
  sb_out_account_t a = account("x", "370773112-token");
  a.app_id = (char *)"api-key-1";
  a.app_secret = (char *)"api secret&1";
  a.token_secret = (char *)"token-secret";
  sb_out_message_t m = {.to = "3001969357", .text = "We are on it, Jordan.", .channel = "x",
                        .in_reply_to = "1931800000000000100"};
  sb_out_request_t r;
  char why[128] = "";
  assert_int_equal(sb_channel_x.build(&a, &m, NULL, 1764064800123, 0, &r, why, sizeof why), 0);
  assert_string_equal(r.url, "http://127.0.0.1:9/2/dm_conversations/with/3001969357/messages");
  assert_string_equal(r.body, "{\"text\":\"We are on it, Jordan.\"}");
  assert_string_equal(r.headers[0], "Content-Type: application/json");
  assert_true(strncmp(r.headers[1], "Authorization: OAuth oauth_consumer_key=\"api-key-1\", ", 53) == 0);
  const char *auth = r.headers[1] + strlen("Authorization: ");
  char *nonce = sb_test_oauth_param(auth, "oauth_nonce"), *ts = sb_test_oauth_param(auth, "oauth_timestamp");
  char *sig = sb_test_oauth_param(auth, "oauth_signature");
  assert_string_equal(ts, "1764064800");
  assert_int_equal(strlen(nonce), 32);
  char *want = sb_test_oauth1_signature(auth, r.url, "api secret&1", "token-secret");
  assert_string_equal(sig, want);
  free(want);
  free(sig);
  free(ts);
  sb_out_request_clear(&r);
  /* a second request: another nonce */
  assert_int_equal(sb_channel_x.build(&a, &m, NULL, 1764064800123, 0, &r, why, sizeof why), 0);
  char *nonce2 = sb_test_oauth_param(r.headers[1], "oauth_nonce");
  assert_string_not_equal(nonce, nonce2);
  free(nonce);
  free(nonce2);
  sb_out_request_clear(&r);

  /* public: a reply to the customer's post */
  m.is_public = 1;
  m.in_reply_to = "1931800000000000001";
  assert_int_equal(sb_channel_x.build(&a, &m, NULL, 1764064800123, 0, &r, why, sizeof why), 0);
  assert_string_equal(r.url, "http://127.0.0.1:9/2/tweets");
  assert_string_equal(r.body, "{\"text\":\"We are on it, Jordan.\",\"reply\":{\"in_reply_to_tweet_id\":"
                              "\"1931800000000000001\"}}");
  sb_out_request_clear(&r);

  /* ids that are not X ids never reach a URL or a body; credentials */
  m.in_reply_to = "19318/../../2/users";
  assert_int_equal(sb_channel_x.build(&a, &m, NULL, 0, 0, &r, why, sizeof why), SB_EINVAL);
  assert_string_equal(why, "x: the post answered is not an X id");
  sb_out_request_clear(&r);
  m.is_public = 0;
  m.to = "3001969357/../../x";
  assert_int_equal(sb_channel_x.build(&a, &m, NULL, 0, 0, &r, why, sizeof why), SB_EINVAL);
  assert_string_equal(why, "x: the recipient is not an X id");
  sb_out_request_clear(&r);
  m.to = "3001969357";
  a.token_secret = NULL;
  assert_int_equal(sb_channel_x.build(&a, &m, NULL, 0, 0, &r, why, sizeof why), SB_EINVAL);
  assert_string_equal(why, "x: credentials missing");
  sb_out_request_clear(&r);

  /* 201 names what was sent (the Account Activity echo's id); 403 is
   * permanent with X's detail; 429 retries */
  sb_out_result_t o;
  sb_channel_x.classify(&r, 201, "{\"data\":{\"dm_conversation_id\":\"2244994945-3001969357\","
                                 "\"dm_event_id\":\"1931800000000000777\"}}", &o);
  assert_int_equal(o.verdict, SB_OUT_SENT);
  assert_string_equal(o.sent_id, "1931800000000000777");
  sb_channel_x.classify(&r, 201, "{\"data\":{\"id\":\"1931800000000000888\",\"text\":\"x\"}}", &o);
  assert_string_equal(o.sent_id, "1931800000000000888");
  sb_channel_x.classify(&r, 403, "{\"title\":\"Forbidden\",\"type\":\"about:blank\",\"status\":403,"
                                 "\"detail\":\"You are not permitted to send this user a message.\"}", &o);
  assert_int_equal(o.verdict, SB_OUT_DEAD);
  assert_string_equal(o.reason, "x 403: You are not permitted to send this user a message.");
  sb_channel_x.classify(&r, 429, "{\"title\":\"Too Many Requests\",\"detail\":\"Too Many Requests\"}", &o);
  assert_int_equal(o.verdict, SB_OUT_RETRY);
}

static int parse(const char *notify, sb_out_config_t **c, char *err, size_t errlen) {
  sb_tenants_t *t = tenants();
  int rc = sb_out_config_parse(t, "acme", notify, c, err, errlen);
  sb_tenants_destroy(&t);
  return rc;
}

static void outbound_config_reads_accounts_and_defaults(void **state) {
  (void)state;
  setenv("HOUT_TEST_TG", "999:XYZ", 1);
  sb_out_config_t *c = NULL;
  char err[256] = "";
  int rc = parse("{\"outbound\": {\"timeout_ms\": 3000, \"accounts\": ["
                 "{\"platform\": \"telegram\", \"account\": \"bot-1\", \"token\": \"env:HOUT_TEST_TG\"},"
                 "{\"platform\": \"wechat\", \"account\": \"oa-1\", \"app_secret\": \"x\","
                 " \"api_base\": \"http://127.0.0.1:1234/\"},"
                 "{\"platform\": \"line\", \"account\": \"ch-1\", \"token\": \"CAT\", \"timeout_ms\": 7},"
                 "{\"platform\": \"twilio\", \"account\": \"tw-1\", \"app_id\": \"AC1\", \"sender\": \"+1555\"},"
                 "{\"platform\": \"email\", \"account\": \"support\", \"token\": \"SG.k\","
                 " \"sender\": \"Acme <help@acme.example>\", \"default_subject\": \"Votre message\"},"
                 "{\"platform\": \"x\", \"account\": \"acmeair\", \"app_id\": \"k\", \"token\": \"t\","
                 " \"token_secret\": \"ts\"}]}}",
                 &c, err, sizeof err);
  assert_int_equal(rc, 0);
  const sb_out_account_t *xa = sb_out_config_find(c, "x", "acmeair");
  assert_non_null(xa);
  assert_string_equal(xa->app_secret, "x-consumer-secret"); /* the account's secret */
  assert_string_equal(xa->token_secret, "ts");
  assert_string_equal(xa->api_base, "https://api.x.com");
  const sb_out_account_t *em = sb_out_config_find(c, "email", "support");
  assert_non_null(em);
  assert_string_equal(em->api_base, "https://api.sendgrid.com");
  assert_string_equal(em->sender, "Acme <help@acme.example>");
  assert_string_equal(em->default_subject, "Votre message");
  const sb_out_account_t *tg = sb_out_config_find(c, "telegram", "bot-1");
  assert_non_null(tg);
  assert_string_equal(tg->token, "999:XYZ");
  assert_string_equal(tg->api_base, "https://api.telegram.org");
  assert_int_equal(tg->timeout_ms, 3000);
  const sb_out_account_t *wx = sb_out_config_find(c, "wechat", "oa-1");
  assert_string_equal(wx->app_id, "wxAPP"); /* from the account entry */
  assert_string_equal(wx->app_secret, "x");
  assert_string_equal(wx->api_base, "http://127.0.0.1:1234");
  assert_int_equal(sb_out_config_find(c, "line", "ch-1")->timeout_ms, 7);
  assert_string_equal(sb_out_config_find(c, "twilio", "tw-1")->token, "tw-secret"); /* the auth token */
  assert_string_equal(sb_out_config_find(c, "twilio", "tw-1")->api_base, "https://api.twilio.com");
  /* status callbacks go by default to the account's signed webhook URL */
  assert_string_equal(sb_out_config_find(c, "twilio", "tw-1")->status_callback, "https://x.example/t");
  assert_null(sb_out_config_find(c, "line", "ch-1")->status_callback); /* twilio only */
  assert_null(sb_out_config_find(c, "line", "ch-2"));
  sb_out_config_destroy(&c);
  assert_null(c);
  /* set here (kept exactly, trailing '/' included), or "" for none */
  assert_int_equal(parse("{\"outbound\": {\"accounts\": [{\"platform\": \"twilio\", \"account\": \"tw-1\","
                         " \"app_id\": \"AC1\", \"sender\": \"+1555\","
                         " \"status_callback\": \"https://cb.example/twilio/\"}]}}",
                         &c, err, sizeof err),
                   0);
  assert_string_equal(sb_out_config_find(c, "twilio", "tw-1")->status_callback, "https://cb.example/twilio/");
  sb_out_config_destroy(&c);
  assert_int_equal(parse("{\"outbound\": {\"accounts\": [{\"platform\": \"twilio\", \"account\": \"tw-1\","
                         " \"app_id\": \"AC1\", \"sender\": \"+1555\", \"status_callback\": \"\"}]}}",
                         &c, err, sizeof err),
                   0);
  assert_string_equal(sb_out_config_find(c, "twilio", "tw-1")->status_callback, "");
  sb_out_config_destroy(&c);
  assert_int_equal(parse(NULL, &c, err, sizeof err), 0);
  assert_int_equal(c->naccounts, 0);
  sb_out_config_destroy(&c);
}

static void outbound_config_errors_name_tenant_and_field(void **state) {
  (void)state;
  static const struct {
    const char *json, *reason;
  } cases[] = {
      {"{\"outbound\": {\"accounts\": [{\"platform\": \"telegram\", \"account\": \"bot-1\"}]}}",
       "tenant acme: notify.outbound.accounts[0]: telegram needs \"token\""},
      {"{\"outbound\": {\"accounts\": [{\"platform\": \"telegram\", \"account\": \"bot-9\", \"token\": \"t\"}]}}",
       "tenant acme: notify.outbound.accounts[0] names no telegram account \"bot-9\" of this tenant"},
      {"{\"outbound\": {\"accounts\": [{\"platform\": \"fax\", \"account\": \"f\"}]}}",
       "tenant acme: notify.outbound.accounts[0].platform \"fax\" has no outbound adapter"},
      {"{\"outbound\": {\"accounts\": [{\"platform\": \"line\", \"account\": \"ch-1\", \"tokn\": \"t\"}]}}",
       "tenant acme: notify.outbound.accounts[0].tokn is not a known member"},
      {"{\"outbound\": {\"accounts\": [{\"platform\": \"line\", \"account\": \"ch-1\", \"token\": "
       "\"env:HOUT_UNSET_VAR\"}]}}",
       "tenant acme: notify.outbound.accounts[0].token names an unset environment variable"},
      {"{\"outbound\": {\"accounts\": [{\"platform\": \"wechat\", \"account\": \"oa-2\"}]}}",
       "tenant acme: notify.outbound.accounts[0]: wechat needs \"app_id\" and \"app_secret\" (here "
       "or on the account)"},
      {"{\"outbound\": {\"accounts\": [{\"platform\": \"line\", \"account\": \"ch-1\", \"token\": \"t\","
       " \"api_base\": \"ftp://x\"}]}}",
       "tenant acme: notify.outbound.accounts[0].api_base must start with http:// or https://"},
      {"{\"outbound\": {\"accounts\": [{\"platform\": \"line\", \"account\": \"ch-1\", \"token\": \"t\"},"
       "{\"platform\": \"line\", \"account\": \"ch-1\", \"token\": \"t\"}]}}",
       "tenant acme: notify.outbound.accounts[1] repeats line account \"ch-1\""},
      {"{\"outbound\": {\"accounts\": [{\"platform\": \"twilio\", \"account\": \"tw-1\", \"app_id\": \"AC1\"}]}}",
       "tenant acme: notify.outbound.accounts[0]: twilio needs \"app_id\" (AccountSid), \"sender\" and an auth token"},
      {"{\"outbound\": {\"accounts\": [{\"platform\": \"twilio\", \"account\": \"tw-1\", \"app_id\": \"AC1\","
       " \"sender\": \"+1555\", \"status_callback\": \"hooks.example/t\"}]}}",
       "tenant acme: notify.outbound.accounts[0].status_callback must start with http:// or https://"},
      {"{\"outbound\": {\"accounts\": [{\"platform\": \"twilio\", \"account\": \"tw-1\", \"app_id\": \"AC1\","
       " \"sender\": \"+1555\", \"status_callback\": 1}]}}",
       "tenant acme: notify.outbound.accounts[0].status_callback must be a non-empty string"},
      {"{\"outbound\": {\"accounts\": [{\"platform\": \"line\", \"account\": \"ch-1\", \"token\": \"t\","
       " \"status_callback\": \"https://x\"}]}}",
       "tenant acme: notify.outbound.accounts[0].status_callback is for twilio accounts only"},
      {"{\"outbound\": {\"accounts\": [{\"platform\": \"email\", \"account\": \"support\", \"token\": \"k\"}]}}",
       "tenant acme: notify.outbound.accounts[0]: email needs \"token\" (the SendGrid API key) and \"sender\""},
      {"{\"outbound\": {\"accounts\": [{\"platform\": \"email\", \"account\": \"support\", \"token\": \"k\","
       " \"sender\": \"help at acme\"}]}}",
       "tenant acme: notify.outbound.accounts[0].sender must be an address or \"Name <address>\""},
      {"{\"outbound\": {\"accounts\": [{\"platform\": \"email\", \"account\": \"support\", \"token\": \"k\","
       " \"sender\": \"h@a.example\", \"default_subject\": \"a\\r\\nBcc: x@y\"}]}}",
       "tenant acme: notify.outbound.accounts[0].default_subject must not hold control characters"},
      {"{\"outbound\": {\"accounts\": [{\"platform\": \"line\", \"account\": \"ch-1\", \"token\": \"t\","
       " \"default_subject\": \"x\"}]}}",
       "tenant acme: notify.outbound.accounts[0].default_subject is for email accounts only"},
      {"{\"outbound\": {\"accounts\": [{\"platform\": \"x\", \"account\": \"acmeair\", \"app_id\": \"k\","
       " \"token\": \"t\"}]}}",
       "tenant acme: notify.outbound.accounts[0]: x needs \"app_id\" (API key), \"token\" and \"token_secret\" "
       "(the account's access token)"},
      {"{\"outbound\": {\"accounts\": [{\"platform\": \"line\", \"account\": \"ch-1\", \"token\": \"t\","
       " \"token_secret\": \"x\"}]}}",
       "tenant acme: notify.outbound.accounts[0].token_secret is for x accounts only"},
      {"{\"outbound\": {\"acounts\": []}}", "tenant acme: notify.outbound.acounts is not a known member"},
      {"{\"outbound\": {\"timeout_ms\": 0}}", "tenant acme: notify.outbound.timeout_ms must be a number in 1..120000"},
  };
  unsetenv("HOUT_UNSET_VAR");
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    sb_out_config_t *c = (sb_out_config_t *)1;
    char err[256] = "";
    assert_int_equal(parse(cases[i].json, &c, err, sizeof err), SB_ECONFIG);
    assert_null(c);
    assert_string_equal(err, cases[i].reason);
  }
}

static void http_status_alone_and_urlencoding(void **state) {
  (void)state;
  sb_out_result_t o;
  sb_out_http_verdict("x", 0, &o);
  assert_int_equal(o.verdict, SB_OUT_RETRY);
  assert_string_equal(o.reason, "x: no response");
  sb_out_http_verdict("x", 404, &o);
  assert_int_equal(o.verdict, SB_OUT_DEAD);
  assert_string_equal(o.reason, "x: http 404, not retried");
  char out[8];
  assert_int_equal(sb_out_urlencode("a b", out, sizeof out), 0);
  assert_string_equal(out, "a%20b");
  assert_int_equal(sb_out_urlencode("abcdefgh", out, sizeof out), SB_ETOOBIG);
  assert_ptr_equal(sb_channel_find("line"), &sb_channel_line);
  assert_null(sb_channel_find("myspace"));
}

/* ---- sb_channel_plan: what an envelope sends ---------------------------------- */

static const char PLAN_NOTIFY[] =
    "{\"outbound\": {\"accounts\": [{\"platform\": \"telegram\", \"account\": \"bot-1\", \"token\": \"t\"},"
    "  {\"platform\": \"email\", \"account\": \"support\", \"token\": \"k\", \"sender\": \"help@acme.example\"},"
    "  {\"platform\": \"x\", \"account\": \"acmeair\", \"app_id\": \"k\", \"token\": \"t\", \"token_secret\": \"s\"}]},"
    " \"templates\": {\"ack\": {\"en\": \"Hi {customer_name}, within {expected_response}\","
    "                             \"fr\": \"Bonjour {customer_name}, sous {expected_response}\"},"
    "               \"mp\": {\"en\": \"Go: {secure_link}\", \"fr\": \"Allez : {secure_link}\"},"
    "               \"late\": {\"en\": \"Sorry {customer_name}: about {expected_response}\"}},"
    " \"acknowledge\": {\"template\": \"ack\"}, \"breach_ack\": {\"template\": \"late\"},"
    " \"redirect\": {\"template\": \"mp\", \"link\": \"https://h.example/p\", \"link_secret\": \"k\","
    "               \"link_ttl_s\": 600}}";

typedef struct {
  sb_tenants_t *tenants;
  sb_out_config_t *cfg;
  sb_templates_t *tpl;
  sb_out_policy_t policy;
  sb_out_plan_ctx_t ctx;
} plan_fixture_t;

static void plan_setup(plan_fixture_t *f) {
  char err[256] = "";
  memset(f, 0, sizeof *f);
  f->tenants = tenants();
  assert_int_equal(sb_out_config_parse(f->tenants, "acme", PLAN_NOTIFY, &f->cfg, err, sizeof err), 0);
  assert_int_equal(sb_templates_parse("acme", PLAN_NOTIFY, "en", &f->tpl, err, sizeof err), 0);
  assert_int_equal(sb_out_policy_parse("acme", PLAN_NOTIFY, f->tpl, &f->policy, err, sizeof err), 0);
  f->ctx = (sb_out_plan_ctx_t){sb_tenants_find(f->tenants, "acme", 4), f->cfg, f->tpl, &f->policy,
                               900000, 1700000000000};
}

static void plan_teardown(plan_fixture_t *f) {
  sb_out_policy_clear(&f->policy);
  sb_templates_destroy(&f->tpl);
  sb_out_config_destroy(&f->cfg);
  sb_tenants_destroy(&f->tenants);
}

/* A customer message on telegram/bot-1 (fields as ingest, classify and
 * route leave them). */
typedef struct {
  sb_envelope_t env;
  Switchboard__V1__Interaction in;
  Switchboard__V1__Author author;
  Switchboard__V1__Classification cl;
  Switchboard__V1__RoutingDecision rd;
} message_t;

static void message_init(message_t *m, const char *source, const char *lang, int is_public,
                         int move_private, int new_conv) {
  switchboard__v1__envelope__init(&m->env);
  switchboard__v1__interaction__init(&m->in);
  switchboard__v1__author__init(&m->author);
  switchboard__v1__classification__init(&m->cl);
  switchboard__v1__routing_decision__init(&m->rd);
  m->env.source = (char *)source;
  m->env.conversation = (char *)"conv-1";
  m->env.body_case = SWITCHBOARD__V1__ENVELOPE__BODY_INTERACTION;
  m->env.interaction = &m->in;
  m->in.customer = (char *)"5105563018";
  m->in.public_ = is_public;
  m->in.author = &m->author;
  m->author.name = (char *)"Olena";
  m->env.classification = &m->cl;
  m->cl.language = (char *)lang;
  m->cl.move_private = move_private;
  m->env.routing = &m->rd;
  m->rd.new_conversation = new_conv;
}

/* A breach that says acknowledge_customer sends the breach_ack text (no
 * address of its own: the conversation's is used); a warning, or a breach
 * without the flag, sends nothing. */
static void plan_acknowledges_a_breach_only_when_the_policy_says_so(void **state) {
  (void)state;
  plan_fixture_t f;
  plan_setup(&f);
  Switchboard__V1__SlaEvent e = SWITCHBOARD__V1__SLA_EVENT__INIT;
  sb_envelope_t env = SWITCHBOARD__V1__ENVELOPE__INIT;
  env.source = "/sla-timer";
  env.conversation = "conv-1";
  env.body_case = SWITCHBOARD__V1__ENVELOPE__BODY_SLA;
  env.sla = &e;
  e.kind = SWITCHBOARD__V1__SLA_KIND__SLA_BREACH;
  e.acknowledge_customer = 1;
  sb_out_plan_t p;
  assert_int_equal(sb_channel_plan(&f.ctx, &env, &p), 0);
  assert_string_equal(p.purpose, "breach_ack");
  assert_string_equal(p.text, "Sorry : about 15 min");
  assert_null(p.address);
  sb_out_plan_clear(&p);
  e.acknowledge_customer = 0;
  assert_int_equal(sb_channel_plan(&f.ctx, &env, &p), 0);
  assert_string_equal(p.purpose, "");
  assert_null(p.text);
  e.acknowledge_customer = 1;
  e.kind = SWITCHBOARD__V1__SLA_KIND__SLA_WARNING;
  assert_int_equal(sb_channel_plan(&f.ctx, &env, &p), 0);
  assert_string_equal(p.purpose, "");
  plan_teardown(&f);
}

static void plan_acknowledges_a_new_conversation_with_its_address(void **state) {
  (void)state;
  plan_fixture_t f;
  plan_setup(&f);
  message_t m;
  sb_out_plan_t p;
  message_init(&m, "/telegram/bot-1", "fr", 0, 0, 1);
  assert_int_equal(sb_channel_plan(&f.ctx, &m.env, &p), 0);
  assert_string_equal(p.purpose, "ack");
  assert_string_equal(p.text, "Bonjour Olena, sous 15 min");
  cJSON *a = cJSON_Parse(p.address);
  assert_string_equal(str(a, "p"), "telegram");
  assert_string_equal(str(a, "a"), "bot-1");
  assert_string_equal(str(a, "to"), "5105563018");
  assert_string_equal(str(a, "lang"), "fr");
  cJSON_Delete(a);
  sb_out_plan_clear(&p);
  /* a later message of the same conversation: its address only */
  message_init(&m, "/telegram/bot-1", "fr", 0, 0, 0);
  assert_int_equal(sb_channel_plan(&f.ctx, &m.env, &p), 0);
  assert_string_equal(p.purpose, "");
  assert_non_null(p.address);
  sb_out_plan_clear(&p);
  /* an account without outbound credentials, or a source of no account */
  message_init(&m, "/line/ch-1", "fr", 0, 0, 1);
  assert_int_equal(sb_channel_plan(&f.ctx, &m.env, &p), 0);
  assert_null(p.address);
  assert_string_equal(p.purpose, "");
  message_init(&m, "/tests", "fr", 0, 0, 1);
  assert_int_equal(sb_channel_plan(&f.ctx, &m.env, &p), 0);
  assert_null(p.address);
  plan_teardown(&f);
}

/* An e-mail's address keeps what its answer threads on: the subject (as
 * ingest redacted it) and the Message-ID; an X message's, its id and
 * whether it was public; other channels' have none of these. */
static void plan_keeps_an_emails_subject_and_message_id_for_the_answer(void **state) {
  (void)state;
  plan_fixture_t f;
  plan_setup(&f);
  message_t m;
  sb_out_plan_t p;
  message_init(&m, "/email/support", "en", 0, 0, 0);
  m.in.channel = SWITCHBOARD__V1__CHANNEL__CHANNEL_EMAIL;
  m.in.customer = (char *)"ana@example.com";
  m.in.subject = (char *)"Card [card] refused";
  m.in.platform_message_id = (char *)"CAF1x=abc@mail.example.com";
  assert_int_equal(sb_channel_plan(&f.ctx, &m.env, &p), 0);
  cJSON *a = cJSON_Parse(p.address);
  assert_string_equal(str(a, "p"), "email");
  assert_string_equal(str(a, "to"), "ana@example.com");
  assert_string_equal(str(a, "ch"), "email");
  assert_string_equal(str(a, "subj"), "Card [card] refused");
  assert_string_equal(str(a, "mid"), "CAF1x=abc@mail.example.com");
  cJSON_Delete(a);
  sb_out_plan_clear(&p);
  message_init(&m, "/telegram/bot-1", "en", 0, 0, 0);
  m.in.channel = SWITCHBOARD__V1__CHANNEL__CHANNEL_TELEGRAM;
  assert_int_equal(sb_channel_plan(&f.ctx, &m.env, &p), 0);
  a = cJSON_Parse(p.address);
  assert_null(cJSON_GetObjectItemCaseSensitive(a, "subj"));
  assert_null(cJSON_GetObjectItemCaseSensitive(a, "mid"));
  cJSON_Delete(a);
  sb_out_plan_clear(&p);
  /* an X post is answered in public, in reply to it; a DM privately */
  for (int pub = 0; pub <= 1; pub++) {
    message_init(&m, "/x/acmeair", "en", pub, 0, 0);
    m.in.channel = SWITCHBOARD__V1__CHANNEL__CHANNEL_X;
    m.in.platform_message_id = (char *)"1931800000000000001";
    assert_int_equal(sb_channel_plan(&f.ctx, &m.env, &p), 0);
    a = cJSON_Parse(p.address);
    assert_string_equal(str(a, "mid"), "1931800000000000001");
    assert_int_equal(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(a, "pub")), pub);
    cJSON_Delete(a);
    sb_out_plan_clear(&p);
  }
  plan_teardown(&f);
}

static void plan_redirects_a_public_move_private_message_in_its_language(void **state) {
  (void)state;
  plan_fixture_t f;
  plan_setup(&f);
  message_t m;
  sb_out_plan_t p;
  char link[256];
  message_init(&m, "/telegram/bot-1", "fr", 1, 1, 1);
  assert_int_equal(sb_channel_plan(&f.ctx, &m.env, &p), 0);
  assert_string_equal(p.purpose, "redirect"); /* not "ack" as well */
  assert_int_equal(sb_out_secure_link(&f.policy, "acme", "conv-1", f.ctx.now_ms, link, sizeof link), 0);
  char want[300];
  snprintf(want, sizeof want, "Allez : %s", link);
  assert_string_equal(p.text, want);
  assert_int_equal(strncmp(link, "https://h.example/p?c=conv-1&e=1700000600&s=", 44), 0);
  assert_int_equal(strlen(link), 44 + 32);
  sb_out_plan_clear(&p);
  /* an unknown language: the default one; a private message: no redirect */
  message_init(&m, "/telegram/bot-1", "und", 1, 1, 0);
  assert_int_equal(sb_channel_plan(&f.ctx, &m.env, &p), 0);
  assert_int_equal(strncmp(p.text, "Go: https://h.example/p?c=conv-1", 32), 0);
  sb_out_plan_clear(&p);
  message_init(&m, "/telegram/bot-1", "fr", 0, 1, 0);
  assert_int_equal(sb_channel_plan(&f.ctx, &m.env, &p), 0);
  assert_string_equal(p.purpose, "");
  sb_out_plan_clear(&p);
  plan_teardown(&f);
}

static void plan_sends_only_replies_route_accepted(void **state) {
  (void)state;
  plan_fixture_t f;
  plan_setup(&f);
  sb_envelope_t env;
  Switchboard__V1__AgentEvent ag;
  Switchboard__V1__RoutingDecision rd;
  switchboard__v1__envelope__init(&env);
  switchboard__v1__agent_event__init(&ag);
  switchboard__v1__routing_decision__init(&rd);
  env.body_case = SWITCHBOARD__V1__ENVELOPE__BODY_AGENT;
  env.agent = &ag;
  env.routing = &rd;
  ag.action = SWITCHBOARD__V1__AGENT_ACTION__AGENT_REPLY;
  ag.conversation = (char *)"conv-1";
  ag.text = (char *)"On its way";
  rd.outcome = SWITCHBOARD__V1__ROUTE_OUTCOME__ROUTE_AGENT_OK;
  sb_out_plan_t p;
  assert_int_equal(sb_channel_plan(&f.ctx, &env, &p), 0);
  assert_string_equal(p.purpose, "reply");
  assert_string_equal(p.text, "On its way");
  assert_null(p.address); /* read from Redis by the commit */
  assert_string_equal(sb_out_conversation(&env), "conv-1");
  sb_out_plan_clear(&p);
  rd.outcome = SWITCHBOARD__V1__ROUTE_OUTCOME__ROUTE_REJECTED; /* not the owner */
  assert_int_equal(sb_channel_plan(&f.ctx, &env, &p), 0);
  assert_string_equal(p.purpose, "");
  rd.outcome = SWITCHBOARD__V1__ROUTE_OUTCOME__ROUTE_AGENT_OK;
  ag.action = SWITCHBOARD__V1__AGENT_ACTION__AGENT_CLOSE;
  assert_int_equal(sb_channel_plan(&f.ctx, &env, &p), 0);
  assert_string_equal(p.purpose, "");
  ag.action = SWITCHBOARD__V1__AGENT_ACTION__AGENT_REPLY;
  ag.text = (char *)""; /* ingest dropped the text: nothing to send */
  assert_int_equal(sb_channel_plan(&f.ctx, &env, &p), 0);
  assert_string_equal(p.purpose, "");
  plan_teardown(&f);
}

static void policy_errors_and_durations(void **state) {
  (void)state;
  sb_templates_t *tpl = NULL;
  sb_out_policy_t p;
  char err[256];
  assert_int_equal(sb_templates_parse("acme", PLAN_NOTIFY, "en", &tpl, err, sizeof err), 0);
  static const struct {
    const char *json, *reason;
  } cases[] = {
      {"{\"acknowledge\": {\"template\": \"nope\"}}",
       "tenant acme: notify.acknowledge.template \"nope\" is not in notify.templates"},
      {"{\"acknowledge\": {\"tempate\": \"ack\"}}", "tenant acme: notify.acknowledge.tempate is not a known member"},
      {"{\"breach_ack\": {\"template\": \"nope\"}}",
       "tenant acme: notify.breach_ack.template \"nope\" is not in notify.templates"},
      {"{\"breach_ack\": []}", "tenant acme: notify.breach_ack must be an object"},
      {"{\"redirect\": {\"template\": \"mp\", \"link\": \"ftp://x\", \"link_secret\": \"k\"}}",
       "tenant acme: notify.redirect.link must be an http(s) URL"},
      {"{\"redirect\": {\"template\": \"mp\", \"link\": \"https://x\"}}",
       "tenant acme: notify.redirect.link_secret must be a non-empty string"},
      {"{\"redirect\": {\"template\": \"mp\", \"link\": \"https://x\", \"link_secret\": \"k\", \"link_ttl_s\": 5}}",
       "tenant acme: notify.redirect.link_ttl_s must be a number >= 60"},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    assert_int_equal(sb_out_policy_parse("acme", cases[i].json, tpl, &p, err, sizeof err), SB_ECONFIG);
    assert_string_equal(err, cases[i].reason);
    assert_null(p.ack_template);
  }
  assert_int_equal(sb_out_policy_parse("acme", "{\"acknowledge\": {\"template\": \"ack\", \"enabled\": false}}",
                                       tpl, &p, err, sizeof err),
                   0);
  assert_null(p.ack_template);
  sb_templates_destroy(&tpl);
  char d[32];
  sb_out_format_duration(45000, d, sizeof d);
  assert_string_equal(d, "45 s");
  sb_out_format_duration(60001, d, sizeof d);
  assert_string_equal(d, "2 min");
  sb_out_format_duration(900000, d, sizeof d);
  assert_string_equal(d, "15 min");
  sb_out_format_duration(3 * 3600000, d, sizeof d);
  assert_string_equal(d, "3 h");
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(wechat_request_is_custom_send_with_token_in_query),
      cmocka_unit_test(wechat_errcodes_decide_sent_refresh_retry_or_dead),
      cmocka_unit_test(telegram_request_is_send_message_with_numeric_chat_id),
      cmocka_unit_test(telegram_429_retries_after_the_platforms_wait),
      cmocka_unit_test(line_replies_with_a_fresh_token_and_pushes_otherwise),
      cmocka_unit_test(meta_whatsapp_and_messenger_requests_follow_the_graph_api),
      cmocka_unit_test(twilio_posts_a_form_with_basic_auth),
      cmocka_unit_test(email_answers_through_sendgrid_threaded_on_the_customers_mail),
      cmocka_unit_test(email_sender_is_one_mailbox_with_an_optional_name),
      cmocka_unit_test(x_oauth1_signature_matches_the_published_example),
      cmocka_unit_test(x_answers_by_dm_or_public_reply_signed_as_the_account),
      cmocka_unit_test(outbound_config_reads_accounts_and_defaults),
      cmocka_unit_test(outbound_config_errors_name_tenant_and_field),
      cmocka_unit_test(http_status_alone_and_urlencoding),
      cmocka_unit_test(plan_acknowledges_a_new_conversation_with_its_address),
      cmocka_unit_test(plan_acknowledges_a_breach_only_when_the_policy_says_so),
      cmocka_unit_test(plan_redirects_a_public_move_private_message_in_its_language),
      cmocka_unit_test(plan_keeps_an_emails_subject_and_message_id_for_the_answer),
      cmocka_unit_test(plan_sends_only_replies_route_accepted),
      cmocka_unit_test(policy_errors_and_durations),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
