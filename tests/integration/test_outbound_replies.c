/*
 * Customer messages out through a real bus: platform webhooks into a real
 * ingest, an agent's reply (and acknowledgements, private-channel
 * redirects) out of a real notify to a local stand-in of the WeChat,
 * Telegram and LINE APIs (tests/fixtures/outbound/platform_stub.py; never
 * the internet). Asserts each platform's request as its API documents it,
 * the WeChat token fetch and its refresh on errcode 40001, Telegram's 429
 * retry_after respected, LINE's reply then push fallback, a permanent 400
 * dead-lettered, an envelope re-sent to notify sending once, a reply by an
 * agent who does not own the conversation sending nothing, WhatsApp's
 * Cloud API request, and the move_private redirect in the customer's
 * language with a verifiable link.
 */
#include "sb_testcrypto.h"
#include "sb_testfixture.h"
#include "sb_testutil.h"
#include "sb_teststack.h"
#include "sb_testwebhook.h"

#include "sb_outbox.h"
#include "sb_service.h"

#include <arpa/inet.h>
#include <cjson/cJSON.h>
#include <hiredis/hiredis.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <zmq.h>

#define WX_TOKEN "wx-token"
#define WX_APPID "wx5823bf96d3bd56c7"
#define WX_SECRET "wx-app-secret"
#define TG_SECRET "tg_secret-0123456789"
#define TG_BOT "7012345678:AAtest-bot-token"
#define LINE_SECRET "line-channel-secret"
#define LINE_CAT "line-channel-access-token"
#define LINK_SECRET "link-secret-for-tests"
#define META_SECRET "meta-app-secret"
#define META_TOKEN "meta-system-user-token"
#define WA_PHONE_ID "106540352242922"
#define WA_SEND "/v19.0/" WA_PHONE_ID "/messages"
#define WA_ACK_ID "wamid.HBgLMTY1MDU1NTEyMzQVAgARGBI0QUZCQTk0RTNDQTk1RkE2NTQA"
#define TW_SID "AC1f2e3d4c5b6a79881726354453627181"
#define TW_TOKEN "twilio-auth-token"
#define TW_URL "https://hooks.air.example/webhooks/twilio/" TW_SID
#define TW_SEND "/2010-04-01/Accounts/" TW_SID "/Messages.json"
#define TW_ACK_SID "SM0a1b2c3d4e5f60718293a4b5c6d7e8f9" /* twilio_status.form's MessageSid */
#define EMAIL_TOKEN "inbound-parse-token"
#define SG_KEY "SG.test-key"
#define SG_SEND "/v3/mail/send"
#define X_SECRET "x-consumer-secret"
#define X_API_KEY "x-api-key"
#define X_TOKEN "2244994945-x-access-token"
#define X_TOKEN_SECRET "x-token-secret"
#define X_DM_SEND "/2/dm_conversations/with/3001969357/messages"
#define X_REPLY_DM "1931800000000099001" /* the dm_event_id X gives our answer */
#define OPENID "oLVPpjqs9BhvzwPj5A-vTYAX3GLc"
#define NONCE "1372623149"
#define OUT_MAX 16384
#define STUB_REPLY_MAX (4u << 20)
#define WAIT_MS 20000

#define TG_SEND "/bot" TG_BOT "/sendMessage"
#define TG_LATE_SECRET "tg_late-0123456789"
#define TG_LATE_BOT "7099999999:AAlate-bot-token"
#define TG_LATE_SEND "/bot" TG_LATE_BOT "/sendMessage"
#define WX_SEND "/cgi-bin/message/custom/send"
#define WX_TOKEN_PATH "/cgi-bin/token"

static sb_teststack_t *st;
static pid_t stub_pid;
static int stub_port;

/* ---- the platform stub ------------------------------------------------------ */

static long long now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static char *stub_request(const char *method, const char *path, const char *body) {
  return sb_test_http_body(stub_port, method, path, body, STUB_REPLY_MAX);
}

static int stub_start(void) {
  char script[1024], port[16];
  stub_port = sb_test_free_port();
  snprintf(script, sizeof script, "%s/tests/fixtures/outbound/platform_stub.py", sb_test_source_dir());
  snprintf(port, sizeof port, "%d", stub_port);
  stub_pid = fork();
  if (stub_pid == 0) {
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    execl("/usr/bin/python3", "python3", script, port, (char *)NULL);
    _exit(127);
  }
  for (long long until = now_ms() + 5000; now_ms() < until; usleep(20000)) {
    char *b = stub_request("GET", "/_received", NULL);
    if (b) {
      free(b);
      return 0;
    }
  }
  return -1;
}

static void stub_script(const char *path, int status, const char *body_json) {
  char req[1024];
  snprintf(req, sizeof req, "{\"path\":\"%s\",\"status\":%d,\"body\":%s}", path, status, body_json);
  free(stub_request("POST", "/_script", req));
}

/* The requests whose path starts with prefix and whose body holds needle
 * (NULL: any), oldest first; the caller frees the array. */
static cJSON *stub_find(const char *prefix, const char *needle) {
  char *b = stub_request("GET", "/_received", NULL);
  cJSON *all = b ? cJSON_Parse(b) : NULL, *out = cJSON_CreateArray();
  free(b);
  for (cJSON *e = all ? all->child : NULL; e; e = e->next) {
    const char *path = cJSON_GetObjectItem(e, "path")->valuestring;
    const char *body = cJSON_GetObjectItem(e, "body")->valuestring;
    if (strncmp(path, prefix, strlen(prefix)) == 0 && (!needle || strstr(body, needle)))
      cJSON_AddItemToArray(out, cJSON_Duplicate(e, 1));
  }
  cJSON_Delete(all);
  return out;
}

static int stub_count(const char *prefix, const char *needle) {
  cJSON *a = stub_find(prefix, needle);
  int n = cJSON_GetArraySize(a);
  cJSON_Delete(a);
  return n;
}

static void dump_state(void);

/* Waits for n matching requests; on a timeout, prints what the tenant's
 * stats and dead letters say (a failing test explains itself). */
static cJSON *stub_wait(const char *prefix, const char *needle, int n, int timeout_ms) {
  long long until = now_ms() + timeout_ms;
  while (stub_count(prefix, needle) < n && now_ms() < until)
    usleep(50000);
  if (stub_count(prefix, needle) < n)
    dump_state();
  return stub_find(prefix, needle);
}

static const char *field(const cJSON *req, const char *name) {
  return cJSON_GetObjectItem(req, name)->valuestring;
}

/* ---- the stack --------------------------------------------------------------- */

static char *tenants_json(void) {
  char *t = malloc(10240);
  char *sg_key = sb_test_fixture("tests/fixtures/webhooks/sendgrid_event_key.pub", NULL);
  snprintf(t, 10240,
           "{\"tenants\":[{\"id\":\"air\",\"languages\":[\"en\",\"fr\"],"
           "\"sla\":{\"first_response_ms\":600000},"
           "\"accounts\":["
           "{\"platform\":\"wechat\",\"id\":\"gh-plain\",\"secret\":\"" WX_SECRET "\","
           "\"verify_token\":\"" WX_TOKEN "\",\"app_id\":\"" WX_APPID "\"},"
           "{\"platform\":\"telegram\",\"id\":\"acmebot\",\"secret\":\"" TG_SECRET "\"},"
           "{\"platform\":\"line\",\"id\":\"acme-line\",\"secret\":\"" LINE_SECRET "\"},"
           "{\"platform\":\"meta\",\"id\":\"page-1\",\"secret\":\"" META_SECRET "\",\"verify_token\":\"vt\"},"
           "{\"platform\":\"twilio\",\"id\":\"" TW_SID "\",\"secret\":\"" TW_TOKEN "\",\"url\":\"" TW_URL "\"},"
           "{\"platform\":\"email\",\"id\":\"support\",\"secret\":\"" EMAIL_TOKEN "\","
           "\"event_key\":\"%s\"},"
           "{\"platform\":\"x\",\"id\":\"acmeair\",\"secret\":\"" X_SECRET "\"}],"
           "\"notify\":{"
           "\"outbound\":{\"timeout_ms\":5000,\"accounts\":["
           "{\"platform\":\"wechat\",\"account\":\"gh-plain\",\"api_base\":\"http://127.0.0.1:%d\"},"
           "{\"platform\":\"telegram\",\"account\":\"acmebot\",\"token\":\"" TG_BOT "\","
           "\"api_base\":\"http://127.0.0.1:%d\"},"
           "{\"platform\":\"line\",\"account\":\"acme-line\",\"token\":\"" LINE_CAT "\","
           "\"api_base\":\"http://127.0.0.1:%d\"},"
           "{\"platform\":\"meta\",\"account\":\"page-1\",\"token\":\"" META_TOKEN "\","
           "\"sender\":\"" WA_PHONE_ID "\",\"api_base\":\"http://127.0.0.1:%d\"},"
           "{\"platform\":\"twilio\",\"account\":\"" TW_SID "\",\"app_id\":\"" TW_SID "\","
           "\"sender\":\"+14155552671\",\"api_base\":\"http://127.0.0.1:%d\"},"
           "{\"platform\":\"email\",\"account\":\"support\",\"token\":\"" SG_KEY "\","
           "\"sender\":\"Acme Air <support@acme-air.example>\",\"api_base\":\"http://127.0.0.1:%d\"},"
           "{\"platform\":\"x\",\"account\":\"acmeair\",\"app_id\":\"" X_API_KEY "\",\"token\":\"" X_TOKEN "\","
           "\"token_secret\":\"" X_TOKEN_SECRET "\",\"api_base\":\"http://127.0.0.1:%d\"}]},"
           "\"templates\":{\"default_language\":\"en\","
           "\"ack\":{\"en\":\"Thanks for your message! We answer within {expected_response}.\","
           "\"fr\":\"Merci pour votre message ! Réponse sous {expected_response}.\"},"
           "\"move_private\":{\"en\":\"Please continue privately: {secure_link}\","
           "\"fr\":\"Merci de continuer en privé : {secure_link}\"}},"
           "\"acknowledge\":{\"template\":\"ack\"},"
           "\"redirect\":{\"template\":\"move_private\",\"link\":\"https://help.example/private\","
           "\"link_secret\":\"" LINK_SECRET "\"},"
           "\"retry\":{\"base_ms\":300,\"max_ms\":1000,\"give_up_after_s\":60,\"jitter\":\"none\"}}},"
           /* a first response promised in 800 ms, and a word to the customer when it is missed */
           "{\"id\":\"late\",\"sla\":{\"first_response_ms\":800,\"on_breach\":[\"acknowledge_customer\"]},"
           "\"accounts\":[{\"platform\":\"telegram\",\"id\":\"latebot\",\"secret\":\"" TG_LATE_SECRET "\"}],"
           "\"notify\":{\"outbound\":{\"accounts\":[{\"platform\":\"telegram\",\"account\":\"latebot\","
           "\"token\":\"" TG_LATE_BOT "\",\"api_base\":\"http://127.0.0.1:%d\"}]},"
           "\"templates\":{\"default_language\":\"en\",\"late\":{\"en\":\"Sorry for the wait: an agent is on it.\"}},"
           "\"breach_ack\":{\"template\":\"late\"}}}]}",
           sg_key, stub_port, stub_port, stub_port, stub_port, stub_port, stub_port, stub_port, stub_port);
  free(sg_key);
  return t;
}

static int setup(void **state) {
  (void)state;
  if (stub_start())
    return -1;
  char *t = tenants_json();
  /* No service level: its publication at each 5-minute boundary changes
   * {expected_response} (the mean first response so far), so an
   * acknowledgement's exact text would depend on when the test ran. */
  setenv("SB_SERVICE_LEVEL_S", "0", 1);
  st = sb_teststack_start(t, NULL);
  unsetenv("SB_SERVICE_LEVEL_S");
  free(t);
  return st ? 0 : -1;
}

static int teardown(void **state) {
  (void)state;
  sb_teststack_stop(&st);
  if (stub_pid > 0) {
    kill(stub_pid, SIGKILL);
    waitpid(stub_pid, NULL, 0);
  }
  return 0;
}

static int ingest(const char *path, const char *header, const char *ctype, const char *body,
                  size_t len) {
  char out[OUT_MAX];
  return sb_teststack_http_header(st, SB_PORT_INGEST_HTTP, "POST", path, header, ctype, body, len,
                                  out, sizeof out);
}

static int post_telegram(const char *fixture) {
  size_t len = 0;
  char *body = sb_test_fixture(fixture, &len);
  int rc = ingest("/webhooks/telegram/acmebot", "X-Telegram-Bot-Api-Secret-Token: " TG_SECRET,
                  "application/json", body, len);
  free(body);
  return rc;
}

/* POSTs body to path with its signature header: header (name and any
 * prefix) then the base64 (b64) or hex (not b64) HMAC-SHA256 of the body
 * under secret, computed by the openssl tool. */
static int post_hmac_signed(const char *path, const char *secret, int b64, const char *header,
                            const char *body, size_t len) {
  char line[200], cmd[200];
  snprintf(cmd, sizeof cmd, b64 ? "dgst -sha256 -binary -hmac %s | openssl base64 -A"
                                : "dgst -sha256 -hmac %s -r", secret);
  char *mac = sb_test_openssl(cmd, body, len, NULL);
  mac[strcspn(mac, " ")] = '\0'; /* -r prints "<hex> *stdin" */
  snprintf(line, sizeof line, "%s%s", header, mac);
  free(mac);
  return ingest(path, line, "application/json", body, len);
}

/* A LINE webhook fixture, signed as LINE signs (x-line-signature: base64
 * HMAC-SHA256 of the body). */
static int post_line(const char *fixture) {
  size_t len = 0;
  char *body = sb_test_fixture(fixture, &len);
  int rc = post_hmac_signed("/webhooks/line/acme-line", LINE_SECRET, 1, "x-line-signature: ", body, len);
  free(body);
  return rc;
}

/* A signed Meta webhook (X-Hub-Signature-256: sha256=<hex>). */
static int post_meta(const char *body, size_t len) {
  return post_hmac_signed("/webhooks/meta/page-1", META_SECRET, 0, "X-Hub-Signature-256: sha256=", body, len);
}

/* A Twilio webhook fixture (form), signed as Twilio signs for TW_URL. */
static int post_twilio(const char *fixture) {
  char header[200];
  size_t len = 0;
  char *body = sb_test_fixture(fixture, &len);
  while (len && (body[len - 1] == '\n' || body[len - 1] == '\r'))
    body[--len] = '\0';
  char *sig = sb_test_twilio_signature(TW_URL, TW_TOKEN, body, len);
  snprintf(header, sizeof header, "X-Twilio-Signature: %s", sig);
  free(sig);
  int rc = ingest("/webhooks/twilio/" TW_SID, header, "application/x-www-form-urlencoded", body, len);
  free(body);
  return rc;
}

/* An inbound-parse e-mail (multipart/form-data, as SendGrid posts it)
 * from Ana, with its Message-ID, References and Subject. */
static int post_email(const char *message_id, const char *references, const char *subject,
                      const char *text) {
  char body[4096], refs[512] = "";
  if (references)
    snprintf(refs, sizeof refs, "In-Reply-To: <sg-0a1b2c@sendgrid.example>\r\nReferences: %s\r\n",
             references);
  int n = snprintf(body, sizeof body,
                   "--xYzZY\r\nContent-Disposition: form-data; name=\"headers\"\r\n\r\n"
                   "From: Ana Silva <Ana.Silva@Example.org>\r\nMessage-ID: <%s>\r\n%s"
                   "Subject: %s\r\nTo: Acme Air <support@acme-air.example>\r\n"
                   "\r\n--xYzZY\r\nContent-Disposition: form-data; name=\"from\"\r\n\r\n"
                   "Ana Silva <Ana.Silva@Example.org>\r\n"
                   "--xYzZY\r\nContent-Disposition: form-data; name=\"subject\"\r\n\r\n%s\r\n"
                   "--xYzZY\r\nContent-Disposition: form-data; name=\"text\"\r\n\r\n%s\r\n"
                   "--xYzZY--\r\n",
                   message_id, refs, subject, subject, text);
  assert_true(n > 0 && (size_t)n < sizeof body);
  return ingest("/webhooks/email/support?token=" EMAIL_TOKEN, NULL,
                "multipart/form-data; boundary=xYzZY", body, (size_t)n);
}

/* SendGrid's Event Webhook: events (a JSON array) signed as SendGrid signs
 * them (ECDSA P-256 over timestamp + body, by the openssl tool, with the
 * key whose public half is the account's event_key). */
static int post_sendgrid_events(const char *events, long long ts) {
  char header[512], signed_text[4096], cmd[1024];
  int n = snprintf(signed_text, sizeof signed_text, "%lld%s", ts, events);
  assert_true(n > 0 && (size_t)n < sizeof signed_text);
  snprintf(cmd, sizeof cmd,
           "dgst -sha256 -sign %s/tests/fixtures/webhooks/sendgrid_event_key.pem | openssl base64 -A",
           sb_test_source_dir());
  char *sig = sb_test_openssl(cmd, signed_text, (size_t)n, NULL);
  snprintf(header, sizeof header,
           "X-Twilio-Email-Event-Webhook-Signature: %s\r\nX-Twilio-Email-Event-Webhook-Timestamp: %lld",
           sig, ts);
  free(sig);
  return ingest("/webhooks/email/support", header, "application/json", events, strlen(events));
}

/* An X Account Activity delivery, signed as X signs it
 * (x-twitter-webhooks-signature: sha256=<base64 HMAC-SHA256>). */
static int post_x_body(const char *body, size_t len) {
  return post_hmac_signed("/webhooks/x/acmeair", X_SECRET, 1, "x-twitter-webhooks-signature: sha256=", body,
                          len);
}

static int post_x(const char *fixture) {
  size_t len = 0;
  char *body = sb_test_fixture(fixture, &len);
  int rc = post_x_body(body, len);
  free(body);
  return rc;
}

/* Asserts that req (a recorded POST to path) is signed with OAuth 1.0a as
 * the account: the signature recomputed by the openssl tool over the base
 * string RFC 5849 defines (sb_test_oauth1_signature). */
static void x_signed(const cJSON *req, const char *path) {
  const char *auth = field(req, "authorization");
  char url[256];
  assert_true(strncmp(auth, "OAuth ", 6) == 0);
  char *key = sb_test_oauth_param(auth, "oauth_consumer_key"), *token = sb_test_oauth_param(auth, "oauth_token");
  char *ts = sb_test_oauth_param(auth, "oauth_timestamp"), *sig = sb_test_oauth_param(auth, "oauth_signature");
  assert_string_equal(key, X_API_KEY);
  assert_string_equal(token, X_TOKEN);
  assert_true(llabs(atoll(ts) - (long long)time(NULL)) < 120);
  snprintf(url, sizeof url, "http://127.0.0.1:%d%s", stub_port, path);
  char *want = sb_test_oauth1_signature(auth, url, X_SECRET, X_TOKEN_SECRET);
  assert_string_equal(sig, want);
  free(want);
  free(key);
  free(token);
  free(ts);
  free(sig);
}

/* The delivery events of channel on air's feed: how many, and (first not
 * NULL) the oldest, unpacked (the caller frees it; NULL when none). */
static int feed_deliveries(const char *channel, sb_envelope_t **first) {
  int n = 0;
  if (first)
    *first = NULL;
  redisReply *h = redisCommand(sb_teststack_redis(st), "XRANGE sb:{t:air}:feed:delivery - +");
  for (size_t i = 0; h->type == REDIS_REPLY_ARRAY && i < h->elements; i++) {
    const redisReply *f = h->element[i]->element[1]; /* key, env */
    sb_envelope_t *e = sb_envelope_unpack(f->element[3]->str, f->element[3]->len);
    if (e && e->delivery && strcmp(e->delivery->channel, channel) == 0 && n++ == 0 && first)
      *first = e;
    else
      sb_envelope_free(e);
  }
  freeReplyObject(h);
  return n;
}

/* Waits for channel's first delivery event on air's feed (NULL: none). */
static sb_envelope_t *feed_delivery_wait(const char *channel, int *n) {
  sb_envelope_t *e = NULL;
  for (long long until = now_ms() + WAIT_MS; !e && now_ms() < until; usleep(50000))
    *n = feed_deliveries(channel, &e);
  return e;
}

static void conversation(const char *channel, const char *customer, char *out, size_t cap) {
  out[0] = '\0';
  for (long long until = now_ms() + WAIT_MS; !out[0] && now_ms() < until; usleep(50000)) {
    redisReply *r = redisCommand(sb_teststack_redis(st), "HGET sb:{t:air}:threads %s:%s", channel,
                                 customer);
    assert_non_null(r);
    snprintf(out, cap, "%s", r->type == REDIS_REPLY_STRING ? r->str : "");
    freeReplyObject(r);
  }
  if (!out[0])
    dump_state();
  assert_true(out[0] != '\0');
}

static void dump_state(void) {
  const char *cmds[] = {"HKEYS sb:{t:air}:threads", "HGETALL sb:{t:air}:stats", "LRANGE sb:{t:air}:hooks:dlq 0 4",
                        "LRANGE sb:{t:air}:dlq 0 4"};
  for (size_t c = 0; c < sizeof cmds / sizeof cmds[0]; c++) {
    redisReply *r = redisCommand(sb_teststack_redis(st), cmds[c]);
    fprintf(stderr, "# %s\n", cmds[c]);
    for (size_t i = 0; r && r->type == REDIS_REPLY_ARRAY && i < r->elements; i++)
      fprintf(stderr, "#   %s\n", r->element[i]->str);
    freeReplyObject(r);
  }
}

static long long stat_of(const char *name) {
  redisReply *r = redisCommand(sb_teststack_redis(st), "HGET sb:{t:air}:stats %s", name);
  long long v = r && r->type == REDIS_REPLY_STRING ? atoll(r->str) : 0;
  freeReplyObject(r);
  return v;
}

static void publish(sb_envelope_t *env) {
  sbctl_client_queue(sb_teststack_client(st), env);
  assert_int_equal(sb_teststack_publish_all(st, 5000), 0);
}

/* An agent event through ingest; returns once route has decided on it
 * (reply() goes to route directly: a reply that overtook its agent's login
 * on a loaded machine would be refused, and the test would wait in vain). */
static void agent(const char *id, const char *action, const char *who, const char *conv) {
  sb_envelope_t *env = sb_teststack_agent_event(st, "air", id, action, who, conv, conv ? 0 : 5);
  assert_non_null(env);
  publish(env);
  sb_envelope_t *routed = sb_teststack_routed(st, "air", "/tests/agents", id, WAIT_MS);
  assert_non_null(routed);
  sb_envelope_free(routed);
}

/* An agent's reply with its text, handed to route the way classify hands
 * events on (envelope stored, route's lease recorded, the bytes pushed to
 * route's port), so that a test controls exactly what route sees; route,
 * sla-timer and notify are the real ones. (test_agent_actions covers the
 * reply text's way through ingest and its redaction.) */
static void reply(const char *id, const char *who, const char *conv, const char *text) {
  char key[SB_EVENT_KEY_LEN + 1], ep[64];
  sb_envelope_t *env = sb_teststack_agent_event(st, "air", id, "reply", who, conv, 0);
  assert_non_null(env);
  sb_event_key("/tests/agents", id, key);
  if (env->key && env->key[0])
    free(env->key);
  env->key = strdup(key);
  if (env->agent->text != protobuf_c_empty_string) /* protobuf-c's static default */
    free(env->agent->text);
  env->agent->text = strdup(text);
  size_t len = 0;
  uint8_t *blob = sb_envelope_pack(env, &len);
  sb_envelope_free(env);
  redisContext *rc = sb_teststack_redis(st);
  freeReplyObject(redisCommand(rc, "SET sb:{t:air}:ev:%s %b EX 600", key, blob, len));
  freeReplyObject(redisCommand(rc, "ZADD sb:{t:air}:lease:route %lld %s",
                               (long long)time(NULL) * 1000 + 60000, key));
  void *z = zmq_ctx_new(), *push = zmq_socket(z, ZMQ_PUSH);
  int linger = 2000;
  zmq_setsockopt(push, ZMQ_LINGER, &linger, sizeof linger);
  snprintf(ep, sizeof ep, "tcp://127.0.0.1:%d", SB_PORT_ROUTE_IN + sb_teststack_offset(st));
  assert_int_equal(zmq_connect(push, ep), 0);
  assert_int_equal(zmq_send(push, blob, len, 0), (int)len);
  zmq_close(push);
  zmq_ctx_term(z); /* waits (linger) until the bytes left */
  free(blob);
}

/* ---- tests ---------------------------------------------------------------------- */

/* on_breach "acknowledge_customer": when nobody answered in time, the
 * customer gets the tenant's breach_ack text once, on the platform they
 * wrote on. (The fixture's message is dated in the past, and the clock
 * starts at the message's time: the breach is due at once.) */
static void a_missed_first_response_acknowledges_the_customer_once(void **state) {
  (void)state;
  size_t len = 0;
  char *body = sb_test_fixture("tests/fixtures/outbound/telegram_private_en.json", &len);
  assert_int_equal(ingest("/webhooks/telegram/latebot", "X-Telegram-Bot-Api-Secret-Token: " TG_LATE_SECRET,
                          "application/json", body, len),
                   200);
  free(body);
  cJSON *r = stub_wait(TG_LATE_SEND, "Sorry for the wait", 1, WAIT_MS);
  assert_int_equal(cJSON_GetArraySize(r), 1);
  assert_string_equal(field(cJSON_GetArrayItem(r, 0), "body"),
                      "{\"chat_id\":5105563999,\"text\":\"Sorry for the wait: an agent is on it.\"}");
  cJSON_Delete(r);
  usleep(1500000);
  assert_int_equal(stub_count(TG_LATE_SEND, "Sorry for the wait"), 1);
  redisReply *b = redisCommand(sb_teststack_redis(st), "HMGET sb:{t:late}:stats sla_breach sla_acknowledge_customer");
  assert_true(b && b->type == REDIS_REPLY_ARRAY && b->elements == 2 && b->element[0]->str && b->element[1]->str);
  assert_int_equal(atoll(b->element[0]->str), 1);
  assert_int_equal(atoll(b->element[1]->str), 1);
  freeReplyObject(b);
}

static void telegram_ack_then_owner_reply_go_out_as_send_message(void **state) {
  (void)state;
  char conv[128];
  assert_int_equal(post_telegram("tests/fixtures/outbound/telegram_private_en.json"), 200);
  conversation("telegram", "5105563999", conv, sizeof conv);
  /* the acknowledgement: the policy target, no service level yet */
  cJSON *acks = stub_wait(TG_SEND, "We answer within", 1, WAIT_MS);
  assert_int_equal(cJSON_GetArraySize(acks), 1);
  const cJSON *a = cJSON_GetArrayItem(acks, 0);
  assert_string_equal(field(a, "method"), "POST");
  assert_string_equal(field(a, "path"), TG_SEND);
  assert_string_equal(field(a, "content_type"), "application/json");
  assert_string_equal(field(a, "body"),
                      "{\"chat_id\":5105563999,\"text\":\"Thanks for your message! We answer within 10 min.\"}");
  cJSON_Delete(acks);

  agent("login-bo", "login", "bo", NULL);
  reply("r-bo-1", "bo", conv, "Your suitcase is on the next flight.");
  cJSON *r = stub_wait(TG_SEND, "next flight", 1, WAIT_MS);
  assert_int_equal(cJSON_GetArraySize(r), 1);
  assert_string_equal(field(cJSON_GetArrayItem(r, 0), "body"),
                      "{\"chat_id\":5105563999,\"text\":\"Your suitcase is on the next flight.\"}");
  cJSON_Delete(r);
}

static void a_non_owner_reply_sends_nothing(void **state) {
  (void)state;
  char conv[128];
  conversation("telegram", "5105563999", conv, sizeof conv);
  agent("login-eve", "login", "eve", NULL);
  reply("r-eve-1", "eve", conv, "Eve was never assigned this one.");
  reply("r-bo-2", "bo", conv, "Second answer from the owner.");
  cJSON *r = stub_wait(TG_SEND, "Second answer", 1, WAIT_MS);
  assert_int_equal(cJSON_GetArraySize(r), 1);
  cJSON_Delete(r);
  usleep(1000000);
  assert_int_equal(stub_count("/", "Eve was never"), 0);
  agent("logout-eve", "logout", "eve", NULL); /* later conversations go to bo */
}

/* The stored envelope of the owner's first reply is pushed to notify again
 * with its lease back (what a replay or a sweeper re-send looks like): the
 * commit runs, the send does not. */
static void an_envelope_re_sent_to_notify_sends_once(void **state) {
  (void)state;
  char key[SB_EVENT_KEY_LEN + 1], ep[64];
  sb_event_key("/tests/agents", "r-bo-1", key);
  redisContext *rc = sb_teststack_redis(st);
  redisReply *ev = redisCommand(rc, "GET sb:{t:air}:ev:%s", key);
  assert_true(ev && ev->type == REDIS_REPLY_STRING);
  long long dup0 = stat_of("out_duplicate");
  void *z = zmq_ctx_new(), *push = zmq_socket(z, ZMQ_PUSH);
  snprintf(ep, sizeof ep, "tcp://127.0.0.1:%d", SB_PORT_NOTIFY_IN + sb_teststack_offset(st));
  assert_int_equal(zmq_connect(push, ep), 0);
  for (int i = 0; i < 2; i++) {
    freeReplyObject(redisCommand(rc, "ZADD sb:{t:air}:lease:notify %lld %s",
                                 (long long)time(NULL) * 1000 + 60000, key));
    assert_int_equal(zmq_send(push, ev->str, ev->len, 0), (int)ev->len);
    for (long long until = now_ms() + WAIT_MS; stat_of("out_duplicate") < dup0 + i + 1 &&
                                               now_ms() < until;)
      usleep(50000);
  }
  assert_int_equal(stat_of("out_duplicate"), dup0 + 2);
  usleep(1000000);
  assert_int_equal(stub_count(TG_SEND, "next flight"), 1);
  int linger = 0;
  zmq_setsockopt(push, ZMQ_LINGER, &linger, sizeof linger);
  zmq_close(push);
  zmq_ctx_term(z);
  freeReplyObject(ev);
}

static void telegram_429_waits_for_retry_after(void **state) {
  (void)state;
  char conv[128];
  conversation("telegram", "5105563999", conv, sizeof conv);
  stub_script(TG_SEND, 429,
              "{\"ok\":false,\"error_code\":429,\"description\":\"Too Many Requests: retry after 2\","
              "\"parameters\":{\"retry_after\":2}}");
  reply("r-bo-3", "bo", conv, "Third answer, after flood control.");
  cJSON *r = stub_wait(TG_SEND, "Third answer", 2, WAIT_MS);
  assert_int_equal(cJSON_GetArraySize(r), 2);
  double t1 = cJSON_GetObjectItem(cJSON_GetArrayItem(r, 0), "t")->valuedouble;
  double t2 = cJSON_GetObjectItem(cJSON_GetArrayItem(r, 1), "t")->valuedouble;
  assert_int_equal(cJSON_GetObjectItem(cJSON_GetArrayItem(r, 0), "status")->valueint, 429);
  assert_int_equal(cJSON_GetObjectItem(cJSON_GetArrayItem(r, 1), "status")->valueint, 200);
  assert_true(t2 - t1 >= 1.95); /* not the 300 ms back-off: the platform's 2 s */
  assert_true(t2 - t1 < 15.0);
  cJSON_Delete(r);
}

static void a_permanent_400_is_dead_lettered_once(void **state) {
  (void)state;
  char conv[128], metrics[OUT_MAX * 4];
  conversation("telegram", "5105563999", conv, sizeof conv);
  stub_script(TG_SEND, 400, "{\"ok\":false,\"error_code\":400,\"description\":\"Bad Request: chat not found\"}");
  reply("r-bo-4", "bo", conv, "Fourth answer, to a chat that is gone.");
  cJSON *r = stub_wait(TG_SEND, "Fourth answer", 1, WAIT_MS);
  cJSON_Delete(r);
  redisReply *d = NULL;
  for (long long until = now_ms() + WAIT_MS; now_ms() < until; usleep(50000)) {
    d = redisCommand(sb_teststack_redis(st), "LRANGE sb:{t:air}:hooks:dlq 0 -1");
    if (d->elements > 0 && strstr(d->element[0]->str, "chat not found"))
      break;
    freeReplyObject(d);
    d = NULL;
  }
  assert_non_null(d);
  cJSON *e = cJSON_Parse(d->element[0]->str);
  assert_string_equal(cJSON_GetObjectItem(e, "stage")->valuestring, "outbound");
  assert_string_equal(cJSON_GetObjectItem(e, "hook")->valuestring, "out:telegram:acmebot");
  assert_non_null(strstr(cJSON_GetObjectItem(e, "key")->valuestring, ":reply"));
  assert_non_null(strstr(cJSON_GetObjectItem(e, "reason")->valuestring, "telegram 400"));
  char key[128];
  snprintf(key, sizeof key, "%s", cJSON_GetObjectItem(e, "key")->valuestring);
  cJSON_Delete(e);
  freeReplyObject(d);
  usleep(1500000); /* longer than the back-off: no second try */
  assert_int_equal(stub_count(TG_SEND, "Fourth answer"), 1);
  /* sbctl dlq --webhooks --requeue <key>: sent again, and this time it goes */
  long long n = 0;
  assert_int_equal(sb_outbox_dlq_replay(sb_teststack_redis(st), "air", key, &n), 0);
  assert_int_equal(n, 1);
  cJSON *again = stub_wait(TG_SEND, "Fourth answer", 2, WAIT_MS);
  assert_int_equal(cJSON_GetArraySize(again), 2);
  assert_int_equal(cJSON_GetObjectItem(cJSON_GetArrayItem(again, 1), "status")->valueint, 200);
  cJSON_Delete(again);
  assert_int_equal(sb_teststack_http(st, SB_PORT_ADMIN_NOTIFY, "GET", "/metrics", NULL, "", 0,
                                     metrics, sizeof metrics),
                   200);
  assert_true(sb_test_metric(metrics, "sb_outbound_messages_total",
                             "platform=\"telegram\",account=\"acmebot\",result=\"dead\"") >= 1);
  assert_true(sb_test_metric(metrics, "sb_outbound_messages_total",
                             "platform=\"telegram\",account=\"acmebot\",result=\"sent\"") >= 4);
}

static void wechat_fetches_a_token_and_refreshes_it_on_40001(void **state) {
  (void)state;
  char ts[32], sig[SB_TEST_SHA1_HEX], path[1024], conv[128];
  size_t len = 0;
  char *body = sb_test_fixture("tests/fixtures/webhooks/wechat_text.xml", &len);
  snprintf(ts, sizeof ts, "%ld", (long)time(NULL));
  const char *parts[] = {WX_TOKEN, ts, NONCE};
  sb_test_wechat_sign(sig, parts, 3);
  snprintf(path, sizeof path,
           "/webhooks/wechat/gh-plain?signature=%s&timestamp=%s&nonce=" NONCE "&openid=" OPENID, sig, ts);
  stub_script(WX_SEND, 200, "{\"errcode\":40001,\"errmsg\":\"invalid credential, access_token is invalid\"}");
  assert_int_equal(ingest(path, NULL, "text/xml", body, len), 200);
  free(body);
  conversation("wechat", OPENID, conv, sizeof conv);
  cJSON *sends = stub_wait(WX_SEND, NULL, 2, WAIT_MS);
  assert_int_equal(cJSON_GetArraySize(sends), 2);
  cJSON *tokens = stub_find(WX_TOKEN_PATH, NULL);
  assert_int_equal(cJSON_GetArraySize(tokens), 2);
  for (int i = 0; i < 2; i++) {
    const cJSON *t = cJSON_GetArrayItem(tokens, i);
    assert_string_equal(field(t, "method"), "GET");
    assert_string_equal(field(t, "path"), WX_TOKEN_PATH "?grant_type=client_credential&appid=" WX_APPID
                                                        "&secret=" WX_SECRET);
  }
  /* the first token was refused; the second send carries the new one */
  const cJSON *s1 = cJSON_GetArrayItem(sends, 0), *s2 = cJSON_GetArrayItem(sends, 1);
  assert_int_equal(strstr(field(s1, "path"), "access_token=TOKEN-") != NULL, 1);
  assert_string_not_equal(field(s1, "path"), field(s2, "path"));
  cJSON *b = cJSON_Parse(field(s2, "body"));
  assert_string_equal(cJSON_GetObjectItem(b, "touser")->valuestring, OPENID);
  assert_string_equal(cJSON_GetObjectItem(b, "msgtype")->valuestring, "text");
  assert_non_null(strstr(cJSON_GetObjectItem(cJSON_GetObjectItem(b, "text"), "content")->valuestring,
                         "We answer within"));
  assert_int_equal(cJSON_GetArraySize(b), 3);
  cJSON_Delete(b);
  /* the agent's reply reuses the cached token: no third fetch */
  reply("r-bo-wx", "bo", conv, "WeChat answer from the owner.");
  cJSON *r = stub_wait(WX_SEND, "WeChat answer", 1, WAIT_MS);
  assert_int_equal(cJSON_GetArraySize(r), 1);
  assert_string_equal(field(cJSON_GetArrayItem(r, 0), "path"), field(s2, "path"));
  cJSON_Delete(r);
  assert_int_equal(stub_count(WX_TOKEN_PATH, NULL), 2);
  cJSON_Delete(sends);
  cJSON_Delete(tokens);
}

/* The webhook's reply token answers while it is fresh (the ack uses it);
 * used once, LINE refuses it again (400) and the owner's reply is pushed. */
static void line_answers_with_the_reply_token_then_pushes(void **state) {
  (void)state;
  char conv[128];
  assert_int_equal(post_line("tests/fixtures/outbound/line_text.json"), 200);
  conversation("line", "U5bf4980629a1b2c3d4e5f60718293a4c", conv, sizeof conv);
  cJSON *ack = stub_wait("/v2/bot/message/reply", "We answer within", 1, WAIT_MS);
  assert_int_equal(cJSON_GetArraySize(ack), 1);
  assert_non_null(strstr(field(cJSON_GetArrayItem(ack, 0), "body"),
                         "{\"replyToken\":\"c70d432864f44d079f6d8efe86cf4099\","));
  assert_int_equal(stub_count("/v2/bot/message/push", "We answer within"), 0);
  cJSON_Delete(ack);
  stub_script("/v2/bot/message/reply", 400, "{\"message\":\"Invalid reply token\"}");
  reply("r-bo-line", "bo", conv, "LINE answer from the owner.");
  cJSON *push = stub_wait("/v2/bot/message/push", "LINE answer", 1, WAIT_MS);
  cJSON *reply = stub_find("/v2/bot/message/reply", "LINE answer");
  assert_int_equal(cJSON_GetArraySize(reply), 1);
  assert_int_equal(cJSON_GetArraySize(push), 1);
  const cJSON *r1 = cJSON_GetArrayItem(reply, 0), *p1 = cJSON_GetArrayItem(push, 0);
  assert_string_equal(field(r1, "authorization"), "Bearer " LINE_CAT);
  assert_string_equal(field(r1, "content_type"), "application/json");
  assert_string_equal(field(r1, "body"), "{\"replyToken\":\"c70d432864f44d079f6d8efe86cf4099\","
                                         "\"messages\":[{\"type\":\"text\",\"text\":\"LINE answer from the owner.\"}]}");
  assert_string_equal(field(p1, "authorization"), "Bearer " LINE_CAT);
  assert_string_equal(field(p1, "body"), "{\"to\":\"U5bf4980629a1b2c3d4e5f60718293a4c\","
                                         "\"messages\":[{\"type\":\"text\",\"text\":\"LINE answer from the owner.\"}]}");
  assert_true(cJSON_GetObjectItem(p1, "t")->valuedouble >= cJSON_GetObjectItem(r1, "t")->valuedouble);
  cJSON_Delete(reply);
  cJSON_Delete(push);
}

/* A message written in a LINE group is answered in the group: once the
 * reply token is refused, the push goes to the group's id, not the user. */
static void line_group_answers_go_to_the_group(void **state) {
  (void)state;
  char conv[128];
  stub_script("/v2/bot/message/reply", 400, "{\"message\":\"Invalid reply token\"}");
  assert_int_equal(post_line("tests/fixtures/outbound/line_group_text.json"), 200);
  conversation("line", "U7cf4980629a1b2c3d4e5f60718293a4e", conv, sizeof conv);
  cJSON *push = stub_wait("/v2/bot/message/push", "We answer within", 1, WAIT_MS);
  assert_int_equal(cJSON_GetArraySize(push), 1);
  assert_non_null(strstr(field(cJSON_GetArrayItem(push, 0), "body"),
                         "{\"to\":\"C4af4980629a1b2c3d4e5f60718293a4d\","));
  assert_int_equal(stub_count("/v2/bot/message/push", "U7cf4980629a1b2c3d4e5f60718293a4e"), 0);
  cJSON_Delete(push);
}

static void whatsapp_ack_and_reply_use_the_cloud_api(void **state) {
  (void)state;
  char conv[128];
  size_t len = 0;
  char *body = sb_test_fixture("tests/fixtures/webhooks/meta_whatsapp_messages.json", &len);
  /* the Cloud API names what it sent: the id its status receipts name */
  stub_script(WA_SEND, 200, "{\"messaging_product\":\"whatsapp\",\"contacts\":[{\"input\":\"+16505551234\","
                            "\"wa_id\":\"16505551234\"}],\"messages\":[{\"id\":\"" WA_ACK_ID "\"}]}");
  assert_int_equal(post_meta(body, len), 200);
  free(body);
  conversation("whatsapp", "+16505551234", conv, sizeof conv);
  cJSON *ack = stub_wait(WA_SEND, "We answer within", 1, WAIT_MS);
  assert_int_equal(cJSON_GetArraySize(ack), 1);
  const cJSON *a = cJSON_GetArrayItem(ack, 0);
  assert_string_equal(field(a, "authorization"), "Bearer " META_TOKEN);
  assert_string_equal(field(a, "content_type"), "application/json");
  assert_string_equal(field(a, "body"), "{\"messaging_product\":\"whatsapp\",\"recipient_type\":"
                                        "\"individual\",\"to\":\"+16505551234\",\"type\":\"text\","
                                        "\"text\":{\"body\":\"Thanks for your message! We answer within 10 min.\"}}");
  cJSON_Delete(ack);
  reply("r-bo-wa", "bo", conv, "WhatsApp answer from the owner.");
  cJSON *r = stub_wait(WA_SEND, "WhatsApp answer", 1, WAIT_MS);
  assert_int_equal(cJSON_GetArraySize(r), 1);
  cJSON_Delete(r);

  /* WhatsApp's receipts for the acknowledgement (delivered, then read; a
   * third names a message we never sent) reach the feed as two delivery
   * events of the conversation */
  body = sb_test_fixture("tests/fixtures/webhooks/meta_whatsapp_statuses.json", &len);
  assert_int_equal(post_meta(body, len), 200);
  free(body);
  redisReply *h = NULL;
  for (long long until = now_ms() + WAIT_MS; now_ms() < until; usleep(50000)) {
    freeReplyObject(h);
    h = redisCommand(sb_teststack_redis(st), "XRANGE sb:{t:air}:feed:delivery - +");
    if (h->type == REDIS_REPLY_ARRAY && h->elements >= 2)
      break;
  }
  assert_int_equal(h->type, REDIS_REPLY_ARRAY);
  assert_int_equal(h->elements, 2);
  const char *want[] = {"delivered", "read"};
  for (size_t i = 0; i < 2; i++) {
    const redisReply *f = h->element[i]->element[1]; /* key, env */
    assert_string_equal(f->element[2]->str, "env");
    sb_envelope_t *e = sb_envelope_unpack(f->element[3]->str, f->element[3]->len);
    assert_non_null(e);
    assert_int_equal(e->body_case, SWITCHBOARD__V1__ENVELOPE__BODY_DELIVERY);
    assert_string_equal(e->type, "com.switchboard.delivery");
    assert_string_equal(e->conversation, conv);
    assert_string_equal(e->delivery->status, want[i]);
    assert_string_equal(e->delivery->purpose, "ack");
    assert_string_equal(e->delivery->channel, "whatsapp");
    assert_string_equal(e->delivery->platform_message_id, WA_ACK_ID);
    assert_int_equal(e->feed_seq, i + 1);
    sb_envelope_free(e);
  }
  freeReplyObject(h);
  /* the same receipts again change no state: no further event */
  body = sb_test_fixture("tests/fixtures/webhooks/meta_whatsapp_statuses.json", &len);
  assert_int_equal(post_meta(body, len), 200);
  free(body);
  usleep(1500000); /* three sweeps */
  h = redisCommand(sb_teststack_redis(st), "XLEN sb:{t:air}:feed:delivery");
  assert_int_equal(h->integer, 2);
  freeReplyObject(h);
}

/* Messenger: the Send API's message_id is kept; a delivery receipt listing
 * it (delivery.mids) reaches the feed as the conversation's delivery event;
 * the read receipt (a watermark, no message named) makes none. */
static void messenger_delivery_receipts_name_the_conversation(void **state) {
  (void)state;
  char conv[128];
  size_t len = 0;
  stub_script("/v19.0/me/messages", 200, "{\"recipient_id\":\"6783456789012345\",\"message_id\":\"m_ack_ms_1\"}");
  char *body = sb_test_fixture("tests/fixtures/webhooks/meta_messenger.json", &len);
  assert_int_equal(post_meta(body, len), 200);
  free(body);
  conversation("messenger", "6783456789012345", conv, sizeof conv);
  cJSON *ack = stub_wait("/v19.0/me/messages", "We answer within", 1, WAIT_MS);
  assert_int_equal(cJSON_GetArraySize(ack), 1);
  cJSON_Delete(ack);
  const char *receipt =
      "{\"object\":\"page\",\"entry\":[{\"id\":\"106540352242922\",\"time\":1749416460150,\"messaging\":["
      "{\"sender\":{\"id\":\"6783456789012345\"},\"recipient\":{\"id\":\"106540352242922\"},"
      "\"timestamp\":1749416460000,\"delivery\":{\"mids\":[\"m_ack_ms_1\"],\"watermark\":1749416459000}},"
      "{\"sender\":{\"id\":\"6783456789012345\"},\"recipient\":{\"id\":\"106540352242922\"},"
      "\"timestamp\":1749416470000,\"read\":{\"watermark\":1749416469000}}]}]}";
  assert_int_equal(post_meta(receipt, strlen(receipt)), 200);
  int n = 0;
  sb_envelope_t *found = feed_delivery_wait("messenger", &n);
  assert_non_null(found);
  assert_string_equal(found->conversation, conv);
  assert_string_equal(found->delivery->platform_message_id, "m_ack_ms_1");
  assert_string_equal(found->delivery->status, "delivered");
  assert_string_equal(found->delivery->purpose, "ack");
  assert_int_equal(n, 1); /* the read watermark made none */
  sb_envelope_free(found);
}

/* Twilio (SMS): the acknowledgement goes out through the Messages API, its
 * sid is kept, and the status callback naming that sid reaches the feed as
 * the conversation's delivery event; the same callback again makes none. */
static void twilio_status_callbacks_name_the_conversation(void **state) {
  (void)state;
  char conv[128];
  stub_script(TW_SEND, 201, "{\"sid\":\"" TW_ACK_SID "\",\"status\":\"queued\",\"to\":\"+13035550123\"}");
  assert_int_equal(post_twilio("tests/fixtures/webhooks/twilio_sms.form"), 200);
  conversation("sms", "+13035550123", conv, sizeof conv);
  cJSON *ack = stub_wait(TW_SEND, "To=%2B13035550123", 1, WAIT_MS);
  assert_int_equal(cJSON_GetArraySize(ack), 1);
  const cJSON *a = cJSON_GetArrayItem(ack, 0);
  assert_string_equal(field(a, "content_type"), "application/x-www-form-urlencoded");
  assert_non_null(strstr(field(a, "body"), "From=%2B14155552671&Body=Thanks"));
  /* Twilio is asked to post the message's status to the signed webhook */
  assert_non_null(strstr(field(a, "body"), "&StatusCallback=https%3A%2F%2Fhooks.air.example%2Fwebhooks"
                                           "%2Ftwilio%2F" TW_SID));
  char *basic = sb_test_openssl("base64 -A", TW_SID ":" TW_TOKEN, strlen(TW_SID ":" TW_TOKEN), NULL);
  char want[256];
  snprintf(want, sizeof want, "Basic %s", basic);
  free(basic);
  assert_string_equal(field(a, "authorization"), want);
  cJSON_Delete(ack);
  assert_int_equal(post_twilio("tests/fixtures/webhooks/twilio_status.form"), 200);
  int n = 0;
  sb_envelope_t *found = feed_delivery_wait("sms", &n);
  assert_non_null(found);
  assert_string_equal(found->conversation, conv);
  assert_string_equal(found->delivery->platform_message_id, TW_ACK_SID);
  assert_string_equal(found->delivery->status, "delivered");
  assert_string_equal(found->delivery->purpose, "ack");
  sb_envelope_free(found);
  /* Twilio retries a callback it thinks failed: the same state is no event */
  assert_int_equal(post_twilio("tests/fixtures/webhooks/twilio_status.form"), 200);
  usleep(1500000); /* three sweeps */
  assert_int_equal(feed_deliveries("sms", NULL), 1);
}

/* One SendGrid request's JSON body: asserts it goes to Ana from the
 * tenant's sender with the key, "Re:" her (redacted) subject, threaded on
 * her message mid; returns the text sent. */
static char *sendgrid_check(const cJSON *req, const char *mid) {
  assert_string_equal(field(req, "authorization"), "Bearer " SG_KEY);
  assert_string_equal(field(req, "content_type"), "application/json");
  cJSON *j = cJSON_Parse(field(req, "body"));
  assert_non_null(j);
  const cJSON *to = cJSON_GetArrayItem(
      cJSON_GetObjectItem(cJSON_GetArrayItem(cJSON_GetObjectItem(j, "personalizations"), 0), "to"), 0);
  assert_string_equal(cJSON_GetObjectItem(to, "email")->valuestring, "ana.silva@example.org");
  const cJSON *from = cJSON_GetObjectItem(j, "from");
  assert_string_equal(cJSON_GetObjectItem(from, "email")->valuestring, "support@acme-air.example");
  assert_string_equal(cJSON_GetObjectItem(from, "name")->valuestring, "Acme Air");
  const char *subject = cJSON_GetObjectItem(j, "subject")->valuestring;
  assert_true(strcmp(subject, "Re: Lost bag, card [CARD] charged") == 0 ||
              strcmp(subject, "Re: Lost bag") == 0);
  char want[256];
  snprintf(want, sizeof want, "<%s>", mid);
  const cJSON *h = cJSON_GetObjectItem(j, "headers");
  assert_string_equal(cJSON_GetObjectItem(h, "In-Reply-To")->valuestring, want);
  assert_string_equal(cJSON_GetObjectItem(h, "References")->valuestring, want);
  const cJSON *c = cJSON_GetArrayItem(cJSON_GetObjectItem(j, "content"), 0);
  assert_string_equal(cJSON_GetObjectItem(c, "type")->valuestring, "text/plain");
  char *text = strdup(cJSON_GetObjectItem(c, "value")->valuestring);
  cJSON_Delete(j);
  return text;
}

/* The agent a conversation is assigned to (waits for it). */
static void owner_of(const char *conv, char *out, size_t cap) {
  out[0] = '\0';
  for (long long until = now_ms() + WAIT_MS; !out[0] && now_ms() < until; usleep(50000)) {
    redisReply *r = redisCommand(sb_teststack_redis(st), "HMGET sb:{t:air}:conv:%s state agent", conv);
    if (r && r->type == REDIS_REPLY_ARRAY && r->element[0]->str && !strcmp(r->element[0]->str, "assigned"))
      snprintf(out, cap, "%s", r->element[1]->str ? r->element[1]->str : "");
    freeReplyObject(r);
  }
  assert_true(out[0] != '\0');
}

/* E-mail: the acknowledgement and the owner's answer go out through
 * SendGrid's Mail Send API as "Re:" the customer's subject (with the card
 * number she put in it redacted) and threaded on her mail; SendGrid's
 * signed events for the acknowledgement become its delivery events; her answer to
 * ours (References start with her first mail, In-Reply-To names ours,
 * which we never saw) stays in the conversation, and the next answer
 * threads on it. */
static void email_answers_go_out_through_sendgrid_threaded(void **state) {
  (void)state;
  char conv[128], conv2[128], who[64];
  agent("login-em", "login", "em", NULL); /* someone free, whoever bo holds by now */
  assert_int_equal(post_email("ana-1@mail.example.org", NULL, "Lost bag, card 5555 5555 5555 4444 charged",
                              "My bag did not arrive."),
                   200);
  conversation("email", "ana.silva@example.org", conv, sizeof conv);
  cJSON *ack = stub_wait(SG_SEND, "We answer within", 1, WAIT_MS);
  assert_int_equal(cJSON_GetArraySize(ack), 1);
  char *text = sendgrid_check(cJSON_GetArrayItem(ack, 0), "ana-1@mail.example.org");
  assert_string_equal(text, "Thanks for your message! We answer within 10 min.");
  free(text);
  assert_null(strstr(field(cJSON_GetArrayItem(ack, 0), "body"), "5555"));
  cJSON_Delete(ack);

  /* SendGrid named the acknowledgement in X-Message-Id: its signed
   * "delivered" event becomes the conversation's delivery event; the
   * same event unsigned, or signed with another timestamp, is refused */
  char sent[256] = "";
  for (long long until = now_ms() + WAIT_MS; !sent[0] && now_ms() < until; usleep(50000)) {
    redisReply *k = redisCommand(sb_teststack_redis(st), "KEYS sb:{t:air}:sent:email:*");
    if (k && k->type == REDIS_REPLY_ARRAY && k->elements == 1)
      snprintf(sent, sizeof sent, "%s", k->element[0]->str + strlen("sb:{t:air}:sent:email:"));
    freeReplyObject(k);
  }
  assert_true(strncmp(sent, "sgStub", 6) == 0);
  char events[1024];
  long long ts = (long long)time(NULL);
  snprintf(events, sizeof events,
           "[{\"email\":\"ana.silva@example.org\",\"timestamp\":%lld,\"event\":\"processed\","
           "\"sg_event_id\":\"cHJvY2Vzc2Vk\",\"sg_message_id\":\"%s.filterdrecv-p3mdw1-1\"},"
           "{\"email\":\"ana.silva@example.org\",\"timestamp\":%lld,\"event\":\"delivered\","
           "\"sg_event_id\":\"ZGVsaXZlcmVk\",\"sg_message_id\":\"%s.filterdrecv-p3mdw1-1\","
           "\"response\":\"250 OK\"}]",
           ts, sent, ts + 1, sent);
  assert_int_equal(ingest("/webhooks/email/support", NULL, "application/json", events, strlen(events)), 401);
  assert_int_equal(post_sendgrid_events(events, ts), 200);
  int n = 0;
  sb_envelope_t *found = feed_delivery_wait("email", &n);
  assert_non_null(found);
  assert_string_equal(found->conversation, conv);
  assert_string_equal(found->delivery->platform_message_id, sent);
  assert_string_equal(found->delivery->purpose, "ack");
  sb_envelope_free(found);
  for (long long until = now_ms() + WAIT_MS; n < 2 && now_ms() < until; usleep(50000))
    n = feed_deliveries("email", NULL);
  assert_int_equal(n, 2); /* sent, then delivered */

  owner_of(conv, who, sizeof who);
  reply("r-email-1", who, conv, "Your bag is at the desk.");
  cJSON *r = stub_wait(SG_SEND, "Your bag is at the desk", 1, WAIT_MS);
  assert_int_equal(cJSON_GetArraySize(r), 1);
  free(sendgrid_check(cJSON_GetArrayItem(r, 0), "ana-1@mail.example.org"));
  cJSON_Delete(r);

  assert_int_equal(post_email("ana-2@mail.example.org",
                              "<ana-1@mail.example.org> <sg-0a1b2c@sendgrid.example>", "Re: Lost bag",
                              "Thanks, which desk?"),
                   200);
  /* notify keeps her latest mail as what answers thread on */
  int seen = 0;
  for (long long until = now_ms() + WAIT_MS; !seen && now_ms() < until; usleep(50000)) {
    redisReply *a = redisCommand(sb_teststack_redis(st), "GET sb:{t:air}:out:addr:%s", conv);
    seen = a && a->type == REDIS_REPLY_STRING && strstr(a->str, "ana-2@mail.example.org");
    freeReplyObject(a);
  }
  assert_true(seen);
  conversation("email", "ana.silva@example.org", conv2, sizeof conv2);
  assert_string_equal(conv2, conv);
  reply("r-email-2", who, conv, "Desk 4, terminal 2.");
  r = stub_wait(SG_SEND, "Desk 4", 1, WAIT_MS);
  assert_int_equal(cJSON_GetArraySize(r), 1);
  free(sendgrid_check(cJSON_GetArrayItem(r, 0), "ana-2@mail.example.org"));
  cJSON_Delete(r);
  assert_int_equal(stub_count(SG_SEND, "We answer within"), 1); /* no second acknowledgement */
}

/* X: public complaints that classify marks move_private are answered by a
 * public reply to each post with the secure link; once the customer writes
 * by DM (the same conversation), the owner's answer goes by DM. Every
 * request is signed with OAuth 1.0a as the account. */
static void x_mentions_get_public_replies_and_dms_get_dms(void **state) {
  (void)state;
  char conv[128], conv2[128], who[64];
  assert_int_equal(post_x("tests/fixtures/webhooks/x_tweet_create_events.json"), 200);
  conversation("x", "3001969357", conv, sizeof conv);
  /* both public complaints are redirected to a private channel (classify's
   * move_private), each by a public reply to its post */
  cJSON *red = stub_wait("/2/tweets", "Please continue privately: https://help.example/private?c=", 2, WAIT_MS);
  assert_int_equal(cJSON_GetArraySize(red), 2);
  const char *posts[] = {"1931800000000000001", "1931800000000000003"};
  for (int i = 0; i < 2; i++) {
    const cJSON *a = cJSON_GetArrayItem(red, i);
    assert_string_equal(field(a, "content_type"), "application/json");
    cJSON *body = cJSON_Parse(field(a, "body"));
    assert_non_null(body);
    const cJSON *to = cJSON_GetObjectItem(cJSON_GetObjectItem(body, "reply"), "in_reply_to_tweet_id");
    assert_true(cJSON_IsString(to));
    assert_true(!strcmp(to->valuestring, posts[0]) || !strcmp(to->valuestring, posts[1]));
    posts[!strcmp(to->valuestring, posts[0]) ? 0 : 1] = ""; /* each post once */
    cJSON_Delete(body);
    x_signed(a, "/2/tweets");
  }
  cJSON_Delete(red);
  assert_int_equal(stub_count(X_DM_SEND, NULL), 0);

  assert_int_equal(post_x("tests/fixtures/webhooks/x_direct_message_events.json"), 200);
  int seen = 0;
  for (long long until = now_ms() + WAIT_MS; !seen && now_ms() < until; usleep(50000)) {
    redisReply *r = redisCommand(sb_teststack_redis(st), "GET sb:{t:air}:out:addr:%s", conv);
    seen = r && r->type == REDIS_REPLY_STRING && strstr(r->str, "\"pub\":false");
    freeReplyObject(r);
  }
  assert_true(seen);
  conversation("x", "3001969357", conv2, sizeof conv2);
  assert_string_equal(conv2, conv); /* a mention then a DM: one case */
  owner_of(conv, who, sizeof who);
  stub_script(X_DM_SEND, 201, "{\"data\":{\"dm_conversation_id\":\"2244994945-3001969357\","
                              "\"dm_event_id\":\"" X_REPLY_DM "\"}}");
  reply("r-x-1", who, conv, "Your rebooking on SB125 is confirmed.");
  cJSON *r = stub_wait(X_DM_SEND, "rebooking", 1, WAIT_MS);
  assert_int_equal(cJSON_GetArraySize(r), 1);
  assert_string_equal(field(cJSON_GetArrayItem(r, 0), "body"), "{\"text\":\"Your rebooking on SB125 is confirmed.\"}");
  x_signed(cJSON_GetArrayItem(r, 0), X_DM_SEND);
  cJSON_Delete(r);
  assert_int_equal(stub_count("/2/tweets", "rebooking"), 0);

  /* the customer reads the answer: X's read receipt names our DM's
   * dm_event_id (last_read_event_id), and it becomes the reply's "read"
   * delivery event on the conversation; our own read of theirs (sender =
   * the account) makes none */
  const int before = feed_deliveries("x", NULL);
  const char *mine = "{\"for_user_id\":\"2244994945\",\"direct_message_mark_read_events\":[{"
                     "\"created_timestamp\":\"1764000000000\",\"sender_id\":\"2244994945\","
                     "\"target\":{\"recipient\":{\"id\":\"3001969357\"}},"
                     "\"last_read_event_id\":\"" X_REPLY_DM "\"}]}";
  assert_int_equal(post_x_body(mine, strlen(mine)), 200);
  const char *theirs = "{\"for_user_id\":\"2244994945\",\"direct_message_mark_read_events\":[{"
                       "\"created_timestamp\":\"1764000000001\",\"sender_id\":\"3001969357\","
                       "\"target\":{\"recipient\":{\"id\":\"2244994945\"}},"
                       "\"last_read_event_id\":\"" X_REPLY_DM "\"}]}";
  assert_int_equal(post_x_body(theirs, strlen(theirs)), 200);
  sb_envelope_t *e = NULL;
  int n = 0;
  for (long long until = now_ms() + WAIT_MS; now_ms() < until && n <= before; usleep(50000))
    n = feed_deliveries("x", NULL);
  assert_int_equal(n, before + 1);
  redisReply *h = redisCommand(sb_teststack_redis(st), "XREVRANGE sb:{t:air}:feed:delivery + - COUNT 1");
  assert_int_equal(h->type, REDIS_REPLY_ARRAY);
  assert_int_equal(h->elements, 1);
  const redisReply *f = h->element[0]->element[1]; /* key, env */
  e = sb_envelope_unpack(f->element[3]->str, f->element[3]->len);
  assert_non_null(e);
  assert_int_equal(e->body_case, SWITCHBOARD__V1__ENVELOPE__BODY_DELIVERY);
  assert_string_equal(e->conversation, conv);
  assert_string_equal(e->delivery->channel, "x");
  assert_string_equal(e->delivery->platform_message_id, X_REPLY_DM);
  assert_string_equal(e->delivery->status, "read");
  assert_string_equal(e->delivery->purpose, "reply");
  assert_int_equal(e->delivery->time_ms, 1764000000001LL);
  sb_envelope_free(e);
  freeReplyObject(h);
  /* the same receipt again moves nothing */
  assert_int_equal(post_x_body(theirs, strlen(theirs)), 200);
  usleep(1500000); /* three sweeps */
  assert_int_equal(feed_deliveries("x", NULL), before + 1);
}

static void move_private_redirect_goes_out_in_the_customers_language(void **state) {
  (void)state;
  char conv[128], msg[256];
  assert_int_equal(post_telegram("tests/fixtures/outbound/telegram_group_fr_card.json"), 200);
  conversation("telegram", "284761931", conv, sizeof conv);
  cJSON *r = stub_wait(TG_SEND, "continuer en priv", 1, WAIT_MS);
  assert_int_equal(cJSON_GetArraySize(r), 1);
  cJSON *b = cJSON_Parse(field(cJSON_GetArrayItem(r, 0), "body"));
  /* in the group it was written in, not a private chat the customer may
   * never have opened with the bot */
  assert_int_equal((long long)cJSON_GetObjectItem(b, "chat_id")->valuedouble, -1001864203311LL);
  const char *text = cJSON_GetObjectItem(b, "text")->valuestring;
  char prefix[256];
  snprintf(prefix, sizeof prefix, "Merci de continuer en privé : https://help.example/private?c=%s&e=", conv);
  assert_int_equal(strncmp(text, prefix, strlen(prefix)), 0);
  long long e = atoll(text + strlen(prefix));
  assert_true(e > (long long)time(NULL) + 3600); /* the default day */
  const char *sig = strstr(text, "&s=");
  assert_non_null(sig);
  /* the signature, recomputed by the openssl tool */
  snprintf(msg, sizeof msg, "air|%s|%lld", conv, e);
  char *hex = sb_test_openssl("dgst -sha256 -hmac " LINK_SECRET " -r", msg, strlen(msg), NULL);
  assert_int_equal(strlen(sig + 3), 32);
  assert_memory_equal(sig + 3, hex, 32);
  free(hex);
  cJSON_Delete(b);
  cJSON_Delete(r);
  usleep(500000); /* a redirect replaces the acknowledgement */
  assert_int_equal(stub_count(TG_SEND, "-1001864203311,\"text\":\"Merci pour"), 0);
  assert_int_equal(stub_count(TG_SEND, "-1001864203311,\"text\":\"Thanks"), 0);
}

static void notify_never_logs_message_text(void **state) {
  (void)state;
  char path[1024];
  snprintf(path, sizeof path, "%s/notify.log", sb_teststack_dir(st));
  FILE *f = fopen(path, "rb");
  assert_non_null(f);
  char *log = calloc(1, 8u << 20);
  size_t len = fread(log, 1, (8u << 20) - 1, f);
  fclose(f);
  assert_true(len > 0);
  assert_null(strstr(log, "next flight"));
  assert_null(strstr(log, "Fourth answer"));
  assert_non_null(strstr(log, "outbound_dead_letter")); /* the log was written */
  assert_null(strstr(log, "runtime error"));             /* UBSan, in the sanitizer build */
  assert_null(strstr(log, "AddressSanitizer"));
  free(log);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(a_missed_first_response_acknowledges_the_customer_once),
      cmocka_unit_test(telegram_ack_then_owner_reply_go_out_as_send_message),
      cmocka_unit_test(a_non_owner_reply_sends_nothing),
      cmocka_unit_test(an_envelope_re_sent_to_notify_sends_once),
      cmocka_unit_test(telegram_429_waits_for_retry_after),
      cmocka_unit_test(a_permanent_400_is_dead_lettered_once),
      cmocka_unit_test(wechat_fetches_a_token_and_refreshes_it_on_40001),
      cmocka_unit_test(line_answers_with_the_reply_token_then_pushes),
      cmocka_unit_test(line_group_answers_go_to_the_group),
      cmocka_unit_test(whatsapp_ack_and_reply_use_the_cloud_api),
      cmocka_unit_test(messenger_delivery_receipts_name_the_conversation),
      cmocka_unit_test(twilio_status_callbacks_name_the_conversation),
      cmocka_unit_test(email_answers_go_out_through_sendgrid_threaded),
      cmocka_unit_test(x_mentions_get_public_replies_and_dms_get_dms),
      cmocka_unit_test(move_private_redirect_goes_out_in_the_customers_language),
      cmocka_unit_test(notify_never_logs_message_text),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
