/*
 * Outbound webhooks through the real bus (redis-server + the five
 * services) to real local HTTP receivers (tests/support/hook_receiver.py):
 * the signature verifies with an HMAC computed here; a 500 is retried with
 * growing back-off until it succeeds; a failing endpoint opens its breaker
 * and stops being hammered while a healthy endpoint of the same tenant
 * keeps receiving promptly (and a hanging one delays nobody); a 404 is
 * dead-lettered at once, listed and replayed; a killed notify loses no
 * pending delivery; a refused connection is retried until the endpoint
 * comes up. One stack, one tenant per behaviour.
 */
#include "sb_hookrecv.h"
#include "sb_testutil.h"
#include "sb_teststack.h"

#include "sb_envelope.h"
#include "sb_keys.h"
#include "sb_outbox.h"
#include "sb_service.h"
#include "sb_time.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define SECRET "whsec-test-1"
#define WAIT_MS 10000

static sb_teststack_t *st;
static sb_hookrecv_t *recv_;
static int refused_port;

static void publish(const char *tenant, const char *id) {
  sbctl_client_queue(sb_teststack_client(st), sb_teststack_message(st, tenant, id, "webchat", "cust-1", "hello"));
  assert_int_equal(sb_teststack_publish_all(st, 5000), 0);
}

static long long redis_int(const char *fmt, const char *a, const char *b) {
  redisReply *r = redisCommand(sb_teststack_redis(st), fmt, a, b);
  long long v = r && r->type == REDIS_REPLY_INTEGER ? r->integer
                : r && r->type == REDIS_REPLY_STRING ? atoll(r->str) : -1;
  if (r)
    freeReplyObject(r);
  return v;
}

static long long zcard(const char *tenant, const char *hook) {
  char k[SB_KEY_MAX], s[128];
  snprintf(s, sizeof s, "hooks:due:%s", hook);
  sb_key_tenant(k, sizeof k, tenant, s);
  return redis_int("ZCARD %s", k, NULL);
}

static long long wait_value(long long (*f)(const char *, const char *), const char *a, const char *b,
                            long long want, int ms) {
  int64_t until = sb_now_ms() + ms;
  long long v;
  while ((v = f(a, b)) != want && sb_now_ms() < until)
    usleep(20000);
  return v;
}

static long long dlq_len(const char *tenant, const char *unused) {
  char k[SB_KEY_MAX];
  (void)unused;
  sb_key_tenant(k, sizeof k, tenant, "hooks:dlq");
  return redis_int("LLEN %s", k, NULL);
}

static const char *str(const cJSON *o, const char *name) {
  const cJSON *v = cJSON_GetObjectItem(o, name);
  return cJSON_IsString(v) ? v->valuestring : "";
}

static double num(const cJSON *o, const char *name) { return cJSON_GetObjectItem(o, name)->valuedouble; }

static void signature_verifies_with_an_independent_hmac(void **state) {
  (void)state;
  publish("sig", "sig-1");
  assert_int_equal(sb_hookrecv_wait(recv_, "/sig", 200, 1, WAIT_MS), 1);
  cJSON *a = sb_hookrecv_received(recv_, "/sig");
  const cJSON *rec = a->child;
  const char *sig = str(rec, "signature"), *body = str(rec, "body");
  long long t = 0;
  char v1[65] = "";
  assert_int_equal(sscanf(sig, "t=%lld,v1=%64s", &t, v1), 2);
  assert_true(llabs(t - sb_now_ms() / 1000) < 60);
  char signed_[16384];
  int n = snprintf(signed_, sizeof signed_, "%lld.%s", t, body);
  unsigned char md[32];
  unsigned int mdlen = 0;
  HMAC(EVP_sha256(), SECRET, (int)strlen(SECRET), (unsigned char *)signed_, (size_t)n, md, &mdlen);
  char hex[65];
  for (unsigned i = 0; i < mdlen; i++)
    snprintf(hex + 2 * i, 3, "%02x", md[i]);
  assert_string_equal(v1, hex);
  cJSON *b = cJSON_Parse(body);
  char key[SB_EVENT_KEY_LEN + 1];
  sb_event_key("/tests", "sig-1", key);
  assert_string_equal(str(b, "id"), key);
  assert_string_equal(str(rec, "event_id"), key);
  assert_string_equal(str(b, "type"), "queued");
  assert_string_equal(str(b, "tenant"), "sig");
  assert_string_equal(str(b, "source_id"), "sig-1");
  cJSON_Delete(b);
  cJSON_Delete(a);
}

static void a_500_is_retried_with_growing_backoff_until_it_succeeds(void **state) {
  (void)state;
  sb_hookrecv_mode(recv_, "/rty", "fail");
  publish("rty", "rty-1");
  assert_true(sb_hookrecv_wait(recv_, "/rty", 500, 4, WAIT_MS) >= 4);
  sb_hookrecv_mode(recv_, "/rty", "ok");
  assert_int_equal(sb_hookrecv_wait(recv_, "/rty", 200, 1, WAIT_MS), 1);
  cJSON *a = sb_hookrecv_received(recv_, "/rty");
  double prev_t = 0, first_gap = 0, last_gap = 0;
  int i = 0;
  for (const cJSON *r = a->child; r; r = r->next, i++) {
    assert_int_equal((int)num(r, "attempt"), i + 1);
    double t = num(r, "t");
    if (i >= 1) {
      double gap = t - prev_t;
      /* jitter "none", base 100 ms: 100, 200, 400, 800 ms after each
       * failure, plus a round trip or two (claim, request). Never early;
       * late by at most the slack a loaded (or sanitized) build needs. */
      double want = 0.1 * (1 << (i - 1));
      if (gap < want - 0.01 || gap > want + 1.5)
        fail_msg("attempt %d came %.3f s after the previous one, wanted %.3f s", i + 1, gap, want);
      if (i == 1)
        first_gap = gap;
      last_gap = gap;
    }
    prev_t = t;
  }
  assert_true(i >= 5);
  assert_true(last_gap >= 0.8 - 0.01 && last_gap > first_gap); /* the back-off grew */
  assert_int_equal(wait_value(zcard, "rty", "h", 0, WAIT_MS), 0);
  cJSON_Delete(a);
}

/* The value of sb_webhook_breaker_state for one endpoint, from /metrics. */
static int breaker_state(const char *hook) {
  char *out = malloc(1 << 20), want[64];
  int state = -1;
  snprintf(want, sizeof want, "hook=\"%s\"", hook);
  if (sb_teststack_http(st, SB_PORT_ADMIN_NOTIFY, "GET", "/metrics", NULL, "", 0, out, 1 << 20) == 200)
    for (char *l = strtok(out, "\n"); l; l = strtok(NULL, "\n"))
      if (strncmp(l, "sb_webhook_breaker_state{", 25) == 0 && strstr(l, want) && strstr(l, "tenant=\"brk\""))
        state = atoi(strrchr(l, ' ') + 1);
  free(out);
  return state;
}

static void a_dead_endpoint_opens_its_breaker_while_others_keep_receiving(void **state) {
  (void)state;
  sb_hookrecv_mode(recv_, "/dead", "fail");
  sb_hookrecv_mode(recv_, "/slow", "hang");
  int64_t t0 = sb_now_ms();
  char id[32];
  for (int i = 0; i < 10; i++) {
    snprintf(id, sizeof id, "brk-%d", i);
    sbctl_client_queue(sb_teststack_client(st), sb_teststack_message(st, "brk", id, "webchat", "c", "hi"));
  }
  assert_int_equal(sb_teststack_publish_all(st, 5000), 0);
  /* the healthy endpoint gets all ten promptly, whatever the others do:
   * before the dead one's breaker (4 s) would let anything through again */
  assert_int_equal(sb_hookrecv_wait(recv_, "/live", 200, 10, 3900), 10);
  assert_true(sb_now_ms() - t0 < 3900);
  usleep(1000000);
  int dead = sb_hookrecv_count(recv_, "/dead", 0);
  /* 3 consecutive failures open it; at most max_in_flight (4) were already out */
  assert_true(dead >= 3 && dead <= 3 + 4);
  assert_int_equal(breaker_state("dead"), 1);
  usleep(1000000); /* open_ms is 4 s: no attempt meanwhile */
  assert_int_equal(sb_hookrecv_count(recv_, "/dead", 0), dead);
  assert_int_equal(breaker_state("live"), 0);
  /* still all pending, none lost */
  assert_int_equal(zcard("brk", "dead"), 10);
}

static void a_404_is_dead_lettered_at_once_then_listed_and_replayed(void **state) {
  (void)state;
  sb_hookrecv_mode(recv_, "/dlq", "status:404");
  publish("dlq", "dlq-1");
  assert_int_equal(wait_value(dlq_len, "dlq", NULL, 1, WAIT_MS), 1);
  usleep(300000);
  assert_int_equal(sb_hookrecv_count(recv_, "/dlq", 0), 1); /* never retried */
  assert_int_equal(zcard("dlq", "h"), 0);
  char buf[16384] = "";
  FILE *f = fmemopen(buf, sizeof buf, "w");
  assert_int_equal(sb_outbox_dlq_list(sb_teststack_redis(st), "dlq", f), 0);
  fclose(f);
  cJSON *e = cJSON_Parse(buf);
  assert_non_null(e);
  char key[SB_EVENT_KEY_LEN + 1];
  sb_event_key("/tests", "dlq-1", key);
  assert_string_equal(str(e, "key"), key);
  assert_string_equal(str(e, "hook"), "h");
  assert_string_equal(str(e, "reason"), "http 404: client error, not retried");
  assert_int_equal((int)num(e, "attempts"), 1);
  cJSON_Delete(e);
  sb_hookrecv_mode(recv_, "/dlq", "ok");
  long long n = 0;
  assert_int_equal(sb_outbox_dlq_replay(sb_teststack_redis(st), "dlq", "all", &n), 0);
  assert_int_equal(n, 1);
  assert_int_equal(sb_hookrecv_wait(recv_, "/dlq", 200, 1, WAIT_MS), 1);
  assert_int_equal(dlq_len("dlq", NULL), 0);
  cJSON *a = sb_hookrecv_received(recv_, "/dlq");
  assert_string_equal(str(a->child->next, "event_id"), key);
  cJSON_Delete(a);
}

static int distinct_delivered(const char *path) {
  cJSON *a = sb_hookrecv_received(recv_, path);
  char seen[64][SB_EVENT_KEY_LEN + 1];
  int n = 0;
  for (const cJSON *r = a ? a->child : NULL; r; r = r->next) {
    if (num(r, "status") != 200)
      continue;
    int dup = 0;
    for (int i = 0; i < n; i++)
      dup |= strcmp(seen[i], str(r, "event_id")) == 0;
    if (!dup && n < 64)
      snprintf(seen[n++], sizeof seen[0], "%s", str(r, "event_id"));
  }
  cJSON_Delete(a);
  return n;
}

static void a_killed_notify_loses_no_pending_delivery(void **state) {
  (void)state;
  sb_hookrecv_mode(recv_, "/rst", "fail");
  char id[32];
  for (int i = 0; i < 5; i++) {
    snprintf(id, sizeof id, "rst-%d", i);
    sbctl_client_queue(sb_teststack_client(st), sb_teststack_message(st, "rst", id, "webchat", "c", "hi"));
  }
  assert_int_equal(sb_teststack_publish_all(st, 5000), 0);
  assert_true(sb_hookrecv_wait(recv_, "/rst", 500, 5, WAIT_MS) >= 5);
  assert_int_equal(zcard("rst", "h"), 5);
  assert_true(sb_teststack_kill(st, "notify", SIGKILL) >= 0);
  /* more events while notify is down: they wait on sla-timer's lease */
  for (int i = 5; i < 8; i++) {
    snprintf(id, sizeof id, "rst-%d", i);
    sbctl_client_queue(sb_teststack_client(st), sb_teststack_message(st, "rst", id, "webchat", "c", "hi"));
  }
  assert_int_equal(sb_teststack_publish_all(st, 5000), 0);
  sb_hookrecv_mode(recv_, "/rst", "ok");
  assert_int_equal(sb_teststack_restart(st, "notify"), 0);
  int64_t until = sb_now_ms() + 3 * WAIT_MS;
  while (distinct_delivered("/rst") < 8 && sb_now_ms() < until)
    usleep(50000);
  assert_int_equal(distinct_delivered("/rst"), 8);
  assert_int_equal(wait_value(zcard, "rst", "h", 0, WAIT_MS), 0);
}

static long long attempts_of(const char *tenant, const char *id) {
  char key[SB_EVENT_KEY_LEN + 1], suffix[96], k[SB_KEY_MAX];
  sb_event_key("/tests", id, key);
  snprintf(suffix, sizeof suffix, "hooks:d:h:%s", key);
  sb_key_tenant(k, sizeof k, tenant, suffix);
  return redis_int("HGET %s %s", k, "attempts");
}

static void a_refused_endpoint_is_retried_until_it_comes_up(void **state) {
  (void)state;
  publish("ref", "ref-1");
  int64_t until = sb_now_ms() + WAIT_MS;
  while (attempts_of("ref", "ref-1") < 2 && sb_now_ms() < until)
    usleep(20000);
  assert_true(attempts_of("ref", "ref-1") >= 2);
  sb_hookrecv_t *late = sb_hookrecv_start(refused_port);
  assert_non_null(late);
  assert_int_equal(sb_hookrecv_wait(late, "/ref", 200, 1, WAIT_MS), 1);
  assert_int_equal(wait_value(zcard, "ref", "h", 0, WAIT_MS), 0);
  sb_hookrecv_stop(&late);
}

static int setup(void **state) {
  (void)state;
  setenv("SB_TEST_HOOK_SECRET", SECRET, 1);
  recv_ = sb_hookrecv_start(0);
  refused_port = sb_test_free_port();
  if (!recv_ || !refused_port)
    return -1;
  int p = sb_hookrecv_port(recv_);
  char *json = malloc(16384);
#define HOOK(tenant, hooks, policy) "{\"id\":\"" tenant "\",\"notify\":{\"webhooks\":[" hooks "]" policy "}}"
/* queued only: with "*" sla-timer's periodic service_level event would
 * land in the counts whenever a test straddles a period boundary */
#define EP(id, path, extra) "{\"id\":\"" id "\",\"url\":\"http://127.0.0.1:%d" path "\",\"secret\":\"env:SB_TEST_HOOK_SECRET\",\"events\":[\"queued\"]" extra "}"
  snprintf(json, 16384,
           "{\"tenants\":["
           HOOK("sig", "{\"id\":\"crm\",\"url\":\"http://127.0.0.1:%d/sig\",\"secret\":\"env:SB_TEST_HOOK_SECRET\",\"events\":[\"queued\",\"assigned\"]}", "") ","
           HOOK("rty", EP("h", "/rty", ""), ",\"retry\":{\"base_ms\":100,\"max_ms\":5000,\"jitter\":\"none\"},\"breaker\":{\"failures\":100}") ","
           HOOK("brk", EP("dead", "/dead", "") "," EP("slow", "/slow", ",\"timeout_ms\":500") "," EP("live", "/live", ""),
                ",\"retry\":{\"base_ms\":50,\"max_ms\":200,\"jitter\":\"none\"},\"breaker\":{\"failures\":3,\"open_ms\":4000}") ","
           HOOK("dlq", EP("h", "/dlq", ""), "") ","
           HOOK("rst", EP("h", "/rst", ""), ",\"retry\":{\"base_ms\":300,\"max_ms\":300},\"breaker\":{\"failures\":100}") ","
           HOOK("ref", EP("h", "/ref", ""), ",\"retry\":{\"base_ms\":100,\"max_ms\":300,\"jitter\":\"none\"},\"breaker\":{\"failures\":100}")
           "]}",
           p, p, p, p, p, p, p, refused_port);
  st = sb_teststack_start(json, NULL);
  free(json);
  return st ? 0 : -1;
}

static int teardown(void **state) {
  (void)state;
  sb_teststack_stop(&st);
  sb_hookrecv_stop(&recv_);
  return 0;
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(signature_verifies_with_an_independent_hmac),
      cmocka_unit_test(a_500_is_retried_with_growing_backoff_until_it_succeeds),
      cmocka_unit_test(a_dead_endpoint_opens_its_breaker_while_others_keep_receiving),
      cmocka_unit_test(a_404_is_dead_lettered_at_once_then_listed_and_replayed),
      cmocka_unit_test(a_killed_notify_loses_no_pending_delivery),
      cmocka_unit_test(a_refused_endpoint_is_retried_until_it_comes_up),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
