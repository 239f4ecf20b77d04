/*
 * test_sbctl_dlq: `sbctl dlq` as a user runs it (the built binary) on a
 * real stack. A real dead letter: an agent transfers a conversation to a
 * queue the tenant does not have, and route dead-letters the event. list
 * and show find it by a stable ID (the envelope decoded); after the tenant
 * file gains the queue and route reloads (SIGHUP), replay puts the hand-off
 * back (ev:<key> and an expired lease:route), classify's sweeper re-sends
 * it, and route transfers the conversation: the event gets its routing
 * decision and leaves the list. Entries that cannot go back (a stage with
 * no lease, the list of no tenant) are refused with a reason and stay;
 * purge removes entries and counts them. Tenant isolation: nothing done to
 * one tenant's dead letters changes another's list.
 */
#include "sb_testutil.h"
#include "sb_teststack.h"

#include "sb_envelope.h"
#include "sb_keys.h"
#include "sb_service.h"
#include "sb_time.h"

#include <cjson/cJSON.h>
#include <openssl/evp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define TENANT "dq"
#define OTHER "dq-other"
#define QUEUES_BEFORE "[{\"id\":\"general\"}]"
#define QUEUES_AFTER "[{\"id\":\"general\"},{\"id\":\"vip\"}]"
#define TENANTS_WITH(queues)                                                                       \
  "{\"tenants\":[{\"id\":\"" TENANT "\",\"route\":{\"queues\":" queues                             \
  ",\"default_queue\":\"general\"}},{\"id\":\"" OTHER "\",\"route\":{\"queues\":" QUEUES_BEFORE   \
  ",\"default_queue\":\"general\"}}]}"
#define WAIT_MS 15000
#define OUT_MAX (1 << 18)

static sb_teststack_t *st;
static char redis_url[128];

/* Runs `sbctl dlq ARGS --redis-url URL`: stdout in out, stderr in err
 * (either may be NULL); its exit status. */
static int sbctl(const char *args, char *out, char *err) {
  char bin[4096], cmd[8192], errfile[] = "/tmp/sb-dlq-err-XXXXXX";
  struct stat sb;
  snprintf(bin, sizeof bin, "%s/sbctl", sb_test_binary_dir());
  if (stat(bin, &sb) != 0)
    fail_msg("%s is missing: build the sbctl target first", bin);
  int fd = mkstemp(errfile);
  assert_true(fd >= 0);
  close(fd);
  snprintf(cmd, sizeof cmd, "'%s' dlq %s --redis-url %s 2>'%s'", bin, args, redis_url, errfile);
  FILE *p = popen(cmd, "r");
  assert_non_null(p);
  static char sink[OUT_MAX];
  char *o = out ? out : sink;
  size_t n = fread(o, 1, OUT_MAX - 1, p);
  o[n] = '\0';
  int status = pclose(p);
  FILE *e = fopen(errfile, "r");
  n = e ? fread(err ? err : sink, 1, OUT_MAX - 1, e) : 0;
  (err ? err : sink)[n] = '\0';
  if (e)
    fclose(e);
  unlink(errfile);
  assert_true(WIFEXITED(status));
  return WEXITSTATUS(status);
}

/* `sbctl dlq list --json` of a tenant ("--global" for none), parsed. */
static cJSON *list(const char *who) {
  static char out[OUT_MAX];
  char args[256];
  snprintf(args, sizeof args, "list %s%s --json", *who == '-' ? "" : "--tenant ", who);
  assert_int_equal(sbctl(args, out, NULL), 0);
  cJSON *o = cJSON_Parse(out);
  if (!o)
    fail_msg("list %s: not JSON: %s", who, out);
  return o;
}

static int list_count(const char *who) {
  cJSON *o = list(who);
  int n = cJSON_GetObjectItem(o, "count")->valueint;
  assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(o, "dead_letters")), n);
  cJSON_Delete(o);
  return n;
}

/* The raw list, to compare before and after (tenant isolation). */
static char *raw_list(const char *tenant) {
  char k[SB_KEY_MAX];
  sb_key_tenant(k, sizeof k, tenant, "dlq");
  redisReply *r = redisCommand(sb_teststack_redis(st), "LRANGE %s 0 -1", k);
  assert_non_null(r);
  size_t cap = 16;
  for (size_t i = 0; i < r->elements; i++)
    cap += r->element[i]->len + 1;
  char *s = calloc(1, cap);
  for (size_t i = 0; i < r->elements; i++)
    strcat(strcat(s, r->element[i]->str), "\n");
  freeReplyObject(r);
  return s;
}

static long long stat_of(const char *tenant, const char *field) {
  char k[SB_KEY_MAX];
  sb_key_tenant(k, sizeof k, tenant, "stats");
  redisReply *r = redisCommand(sb_teststack_redis(st), "HGET %s %s", k, field);
  long long v = r && r->type == REDIS_REPLY_STRING ? atoll(r->str) : 0;
  if (r)
    freeReplyObject(r);
  return v;
}

/* Waits until the tenant's list holds n entries; their count. */
static int wait_count(const char *tenant, int n) {
  int64_t until = sb_now_ms() + WAIT_MS;
  int have;
  while ((have = list_count(tenant)) != n && sb_now_ms() < until)
    usleep(50000);
  return have;
}

static sb_envelope_t *decided(const char *tenant, const char *source, const char *id) {
  return sb_teststack_routed(st, tenant, source, id, WAIT_MS);
}

/* POSTs one agent event of tenant; data: the JSON of its "data". */
static void post_agent(const char *tenant, const char *id, const char *action, const char *data) {
  char body[2048], out[2048];
  snprintf(body, sizeof body,
           "{\"specversion\":\"1.0\",\"id\":\"%s\",\"source\":\"/desk\",\"type\":\"%s%s\","
           "\"tenant\":\"%s\",\"data\":%s}",
           id, SB_TYPE_AGENT_PREFIX, action, tenant, data);
  int status = sb_teststack_http(st, SB_PORT_INGEST_HTTP, "POST", "/v1/agent-events",
                                 "application/cloudevents+json", body, strlen(body), out, sizeof out);
  if (status != 202 && status != 200)
    fail_msg("%s: HTTP %d %s", id, status, out);
}

/* A dead letter as sb_dlq writes it, pushed to list (for stages whose
 * failures a test cannot provoke: ingest, or a message of no tenant). */
static void push_letter(const char *list, const char *stage, const char *key, const char *id) {
  sb_envelope_t *env = sb_teststack_message(st, TENANT, id, "webchat", "c-push", "hello");
  size_t len = 0;
  uint8_t *bytes = sb_envelope_pack(env, &len);
  char *b64 = calloc(1, 4 * ((len + 2) / 3) + 1), entry[8192];
  EVP_EncodeBlock((unsigned char *)b64, bytes, (int)len);
  snprintf(entry, sizeof entry,
           "{\"ts_ms\":%lld,\"stage\":\"%s\",\"reason\":\"test\",\"key\":\"%s\",\"bytes_b64\":\"%s\"}",
           (long long)sb_now_ms(), stage, key, b64);
  redisReply *r = redisCommand(sb_teststack_redis(st), "LPUSH %s %s", list, entry);
  assert_non_null(r);
  freeReplyObject(r);
  free(b64);
  free(bytes);
  sb_envelope_free(env);
}

/* The first entry of a --json list whose field equals value; its id. */
static void find_id(cJSON *l, const char *field, const char *value, char *id, size_t cap) {
  cJSON *e;
  cJSON_ArrayForEach(e, cJSON_GetObjectItem(l, "dead_letters")) {
    if (strstr(cJSON_GetStringValue(cJSON_GetObjectItem(e, field)), value)) {
      snprintf(id, cap, "%s", cJSON_GetStringValue(cJSON_GetObjectItem(e, "id")));
      return;
    }
  }
  fail_msg("no dead letter with %s \"%s\"", field, value);
}

static long long reloads_ok(void) {
  static char body[1 << 16];
  int status = sb_teststack_http(st, SB_PORT_ADMIN_ROUTE, "GET", "/metrics", NULL, NULL, 0, body, sizeof body);
  assert_int_equal(status, 200);
  return sb_test_metric(body, "sb_route_reloads_total", "result=\"ok\"");
}

/* A conversation of TENANT assigned to an agent: its id and owner. */
static void assigned_conversation(char *conv, size_t cap, char *agent, size_t acap) {
  post_agent(TENANT, "login-ann", "login", "{\"agent\":\"ann\",\"capacity\":3}");
  post_agent(TENANT, "login-bob", "login", "{\"agent\":\"bob\",\"capacity\":3}");
  sb_envelope_free(decided(TENANT, "/desk", "login-bob"));
  sbctl_client_queue(sb_teststack_client(st), sb_teststack_message(st, TENANT, "m-1", "webchat", "cust-1", "hello"));
  assert_int_equal(sb_teststack_publish_all(st, WAIT_MS), 0);
  sb_envelope_t *env = decided(TENANT, "/tests", "m-1");
  assert_non_null(env);
  assert_int_equal(env->routing->outcome, SWITCHBOARD__V1__ROUTE_OUTCOME__ROUTE_ASSIGNED);
  snprintf(conv, cap, "%s", env->conversation);
  snprintf(agent, acap, "%s", env->routing->agent);
  sb_envelope_free(env);
}

static void a_dead_lettered_transfer_is_shown_replayed_after_the_fix_and_routed(void **state) {
  (void)state;
  char conv[128], owner[64], data[512], id[32], args[256], out[OUT_MAX], err[OUT_MAX];
  assigned_conversation(conv, sizeof conv, owner, sizeof owner);

  /* a real dead letter in route, and one in the other tenant */
  snprintf(data, sizeof data, "{\"agent\":\"%s\",\"conversation\":\"%s\",\"queue\":\"vip\"}", owner, conv);
  post_agent(TENANT, "xfer-1", "transfer", data);
  post_agent(OTHER, "xfer-o", "transfer", "{\"agent\":\"x\",\"conversation\":\"none\",\"queue\":\"vip\"}");
  assert_int_equal(wait_count(TENANT, 1), 1);
  assert_int_equal(wait_count(OTHER, 1), 1);
  char *other_before = raw_list(OTHER);

  cJSON *l = list(TENANT);
  cJSON *e = cJSON_GetArrayItem(cJSON_GetObjectItem(l, "dead_letters"), 0);
  assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItem(e, "stage")), "route");
  assert_non_null(strstr(cJSON_GetStringValue(cJSON_GetObjectItem(e, "reason")), "queue"));
  snprintf(id, sizeof id, "%s", cJSON_GetStringValue(cJSON_GetObjectItem(e, "id")));
  cJSON_Delete(l);
  assert_int_equal(strlen(id), 16);
  l = list(TENANT); /* the same entry, the same ID */
  find_id(l, "id", id, args, sizeof args);
  cJSON_Delete(l);

  /* show: the envelope decoded */
  snprintf(args, sizeof args, "show %s --tenant " TENANT " --json", id);
  assert_int_equal(sbctl(args, out, NULL), 0);
  cJSON *shown = cJSON_Parse(out);
  assert_non_null(shown);
  cJSON *agent = cJSON_GetObjectItem(cJSON_GetObjectItem(shown, "envelope"), "agent");
  assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItem(agent, "target_queue")), "vip");
  assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItem(agent, "action")), "AGENT_TRANSFER");
  assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItem(cJSON_GetObjectItem(shown, "envelope"), "tenant")),
                      TENANT);
  cJSON_Delete(shown);
  /* an ID of another tenant's list is not found here */
  l = list(OTHER);
  char other_id[32];
  find_id(l, "stage", "route", other_id, sizeof other_id);
  cJSON_Delete(l);
  snprintf(args, sizeof args, "show %s --tenant " TENANT, other_id);
  assert_int_equal(sbctl(args, NULL, err), 1);
  assert_non_null(strstr(err, "no dead letter"));

  /* the fix: the tenant gains the queue, route reloads */
  char tenants[512];
  pid_t pid = sb_test_child_pid("sb-route", "SB_TENANTS", tenants, sizeof tenants);
  assert_true(pid > 0);
  sb_test_write_file(tenants, TENANTS_WITH(QUEUES_AFTER));
  long long before = reloads_ok();
  assert_int_equal(kill(pid, SIGHUP), 0);
  int64_t until = sb_now_ms() + WAIT_MS;
  while (reloads_ok() == before && sb_now_ms() < until)
    usleep(20000);
  assert_int_equal(reloads_ok(), before + 1);

  /* replay: the hand-off goes back; classify's sweeper re-sends it */
  sb_envelope_t *env = decided(TENANT, "/desk", "xfer-1");
  assert_null(env); /* no decision yet: route dead-lettered it */
  snprintf(args, sizeof args, "replay %s --tenant " TENANT, id);
  assert_int_equal(sbctl(args, out, NULL), 0);
  assert_non_null(strstr(out, "replayed 1 dead letter"));
  env = decided(TENANT, "/desk", "xfer-1");
  assert_non_null(env);
  assert_int_equal(env->routing->outcome, SWITCHBOARD__V1__ROUTE_OUTCOME__ROUTE_AGENT_OK);
  assert_non_null(strstr(env->routing->reason, "transferred"));
  sb_envelope_free(env);
  assert_int_equal(list_count(TENANT), 0);
  assert_int_equal(stat_of(TENANT, "dlq_replayed"), 1);
  /* gone: the same ID again matches nothing */
  assert_int_equal(sbctl(args, NULL, err), 1);
  assert_non_null(strstr(err, "no dead letter"));

  char *other_after = raw_list(OTHER);
  assert_string_equal(other_before, other_after);
  free(other_before);
  free(other_after);
  sb_test_write_file(tenants, TENANTS_WITH(QUEUES_AFTER));
}

static void refusals_purge_and_tenant_isolation(void **state) {
  (void)state;
  char k[SB_KEY_MAX], id[32], args[256], out[OUT_MAX], err[OUT_MAX];
  char *other_before = raw_list(OTHER);
  assert_int_equal(list_count(OTHER), 1);

  /* an ingest dead letter has no lease to go back through: refused, kept */
  sb_key_tenant(k, sizeof k, TENANT, "dlq");
  push_letter(k, "ingest", "", "p-1");
  cJSON *l = list(TENANT);
  find_id(l, "stage", "ingest", id, sizeof id);
  cJSON_Delete(l);
  snprintf(args, sizeof args, "replay %s --tenant " TENANT, id);
  assert_int_equal(sbctl(args, out, err), 1);
  assert_non_null(strstr(err, "no incoming lease"));
  assert_int_equal(list_count(TENANT), 1);

  /* replay all: the replayable ones go, the refused one stays */
  post_agent(TENANT, "xfer-2", "transfer", "{\"agent\":\"x\",\"conversation\":\"none\",\"queue\":\"nowhere\"}");
  assert_int_equal(wait_count(TENANT, 2), 2);
  assert_int_equal(sbctl("replay all --tenant " TENANT " --json", out, err), 0);
  cJSON *o = cJSON_Parse(out);
  assert_non_null(o);
  assert_int_equal(cJSON_GetObjectItem(o, "replayed")->valueint, 1);
  assert_int_equal(cJSON_GetObjectItem(o, "refused")->valueint, 1);
  cJSON_Delete(o);
  /* still no such queue: route dead-letters it again (at-least-once) */
  assert_int_equal(wait_count(TENANT, 2), 2);

  /* the list of no tenant: listed and purged, never replayed */
  push_letter("sb:{g}:dlq", "route", "0123456789abcdef0123456789abcdef", "g-1");
  l = list("--global");
  find_id(l, "reason", "test", id, sizeof id);
  cJSON_Delete(l);
  snprintf(args, sizeof args, "replay %s --global", id);
  assert_int_equal(sbctl(args, NULL, err), 1);
  assert_non_null(strstr(err, "no tenant"));
  snprintf(args, sizeof args, "purge %s --global", id);
  assert_int_equal(sbctl(args, out, NULL), 0);
  assert_non_null(strstr(out, "purged 1"));

  /* purge all of one tenant: counted; the other tenant's list unchanged */
  long long purged = stat_of(TENANT, "dlq_purged");
  assert_int_equal(sbctl("purge all --tenant " TENANT, out, NULL), 0);
  assert_non_null(strstr(out, "purged 2"));
  assert_int_equal(list_count(TENANT), 0);
  assert_int_equal(stat_of(TENANT, "dlq_purged"), purged + 2);
  char *other_after = raw_list(OTHER);
  assert_string_equal(other_before, other_after);
  assert_int_equal(stat_of(OTHER, "dlq_purged"), 0);
  assert_int_equal(sbctl("purge all --tenant " TENANT, NULL, err), 1); /* nothing matched */
  free(other_before);
  free(other_after);

  /* and the other tenant's own purge by ID */
  l = list(OTHER);
  find_id(l, "stage", "route", id, sizeof id);
  cJSON_Delete(l);
  snprintf(args, sizeof args, "purge %s --tenant " OTHER, id);
  assert_int_equal(sbctl(args, NULL, NULL), 0);
  assert_int_equal(list_count(OTHER), 0);
  assert_int_equal(stat_of(OTHER, "dlq_purged"), 1);
}

static void usage_errors_exit_2(void **state) {
  (void)state;
  assert_int_equal(sbctl("list", NULL, NULL), 2);                              /* no --tenant */
  assert_int_equal(sbctl("list --tenant " TENANT " --global", NULL, NULL), 2); /* both */
  assert_int_equal(sbctl("replay --tenant " TENANT, NULL, NULL), 2);           /* no ID */
  assert_int_equal(sbctl("show all --tenant " TENANT, NULL, NULL), 2);
  assert_int_equal(sbctl("frobnicate x --tenant " TENANT, NULL, NULL), 2);
  assert_int_equal(sbctl("purge all --webhooks --tenant " TENANT, NULL, NULL), 2);
  /* --webhooks keeps working (empty here) */
  assert_int_equal(sbctl("--webhooks --tenant " TENANT " --json", NULL, NULL), 0);
}

static int setup(void **state) {
  (void)state;
  st = sb_teststack_start(TENANTS_WITH(QUEUES_BEFORE), NULL);
  if (!st)
    return -1;
  redisContext *rc = sb_teststack_redis(st);
  snprintf(redis_url, sizeof redis_url, "redis://%s:%d", rc->tcp.host, rc->tcp.port);
  return 0;
}

static int teardown(void **state) {
  (void)state;
  sb_teststack_stop(&st);
  return 0;
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(a_dead_lettered_transfer_is_shown_replayed_after_the_fix_and_routed),
      cmocka_unit_test(refusals_purge_and_tenant_isolation),
      cmocka_unit_test(usage_errors_exit_2),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
