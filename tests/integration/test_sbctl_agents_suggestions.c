/*
 * test_sbctl_agents_suggestions: `sbctl agent --accept-suggestions PCT` as
 * a user runs it (the built binary) against a real stack. Three tenants
 * have the same answers, so classify suggests "bag-a" for every message;
 * one simulated agent per tenant works N conversations. With PCT 100 each
 * reply names the answer (route counts N accepts, no rejection); with PCT
 * 0 each reply is preceded by a turned-down suggestion (N rejections, no
 * accept); without the flag nothing is counted. sbctl's own summary line
 * agrees. Bad values (101, -1, "abc") are refused with a reason, exit 2.
 */
#include "sb_testutil.h"
#include "sb_teststack.h"

#include "sb_keys.h"
#include "sb_service.h"
#include "sb_time.h"

#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define TENANT_JSON(id)                                                                     \
  "{\"id\":\"" id "\",\"route\":{\"queues\":[{\"id\":\"general\"}],"                          \
  "\"default_queue\":\"general\"},\"classify\":{\"answers\":["                                \
  "{\"id\":\"bag-a\",\"text\":\"lost baggage claim form\"},"                                 \
  "{\"id\":\"refund\",\"text\":\"refund for a cancelled flight\"}]}}"
#define TENANTS "{\"tenants\":[" TENANT_JSON("p100") "," TENANT_JSON("p0") "," TENANT_JSON("pnone") "]}"
#define MESSAGE "My baggage is lost, where is the claim form?"
#define CONVERSATIONS 4
#define WAIT_MS 30000
#define QUIET_MS 1000 /* after the last close: feedback would have been counted */
enum { PATH_MAX_BYTES = 512, OUT_MAX = 4096 };

static sb_teststack_t *st;
static char dir[PATH_MAX_BYTES], tenants_file[PATH_MAX_BYTES + 32];

static int setup(void **state) {
  (void)state;
  snprintf(dir, sizeof dir, "/tmp/sb-agents-sugg-XXXXXX");
  if (!mkdtemp(dir))
    return -1;
  snprintf(tenants_file, sizeof tenants_file, "%s/tenants.json", dir);
  FILE *f = fopen(tenants_file, "w");
  if (!f || fputs(TENANTS, f) < 0)
    return -1;
  fclose(f);
  st = sb_teststack_start(TENANTS, NULL);
  return st ? 0 : -1;
}

static int teardown(void **state) {
  (void)state;
  sb_teststack_stop(&st);
  unlink(tenants_file);
  rmdir(dir);
  return 0;
}

/* `sbctl agent` for tenant in the background, stdout to out_file; its pid.
 * pct NULL: no --accept-suggestions. */
static pid_t start_agents(const char *tenant, const char *pct, const char *out_file) {
  char bin[PATH_MAX_BYTES], offset[16], t[64], p[32];
  snprintf(bin, sizeof bin, "%s/sbctl", sb_test_binary_dir());
  snprintf(offset, sizeof offset, "%d", sb_teststack_offset(st));
  snprintf(t, sizeof t, "--tenant=%s", tenant);
  snprintf(p, sizeof p, "--accept-suggestions=%s", pct ? pct : "");
  pid_t pid = fork();
  assert_true(pid >= 0);
  if (pid == 0) {
    int fd = open(out_file, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (fd < 0 || dup2(fd, 1) < 0)
      _exit(127);
    char *argv[] = {bin, "agent", "--tenants", tenants_file, t, "--port-offset", offset,
                    "--agents", "1", "--capacity", "5", "--reply-ms", "100", "--close-ms", "300",
                    pct ? p : NULL, NULL};
    execv(bin, argv);
    _exit(127);
  }
  return pid;
}

/* Stops sbctl (Ctrl-C), which prints its summary: exit status 0. */
static void stop_agents(pid_t pid, const char *out_file, char *out) {
  int status = 0;
  assert_int_equal(kill(pid, SIGINT), 0);
  assert_int_equal(waitpid(pid, &status, 0), pid);
  assert_true(WIFEXITED(status));
  assert_int_equal(WEXITSTATUS(status), 0);
  FILE *f = fopen(out_file, "r");
  assert_non_null(f);
  size_t n = fread(out, 1, OUT_MAX - 1, f);
  out[n] = '\0';
  fclose(f);
  unlink(out_file);
}

/* The agent is known to route (its agent:<id> hash exists): logged in,
 * and its feed subscription, made before the login, is up. The agents
 * only know the suggestions of messages they saw on the feed. */
static void wait_logged_in(const char *tenant) {
  char key[SB_KEY_MAX], suffix[96];
  snprintf(suffix, sizeof suffix, "agent:%s-agent-01", tenant);
  sb_key_tenant(key, sizeof key, tenant, suffix);
  int64_t until = sb_now_ms() + WAIT_MS;
  long long n = 0;
  while (n == 0 && sb_now_ms() < until) {
    redisReply *r = redisCommand(sb_teststack_redis(st), "EXISTS %s", key);
    assert_non_null(r);
    n = r->integer;
    freeReplyObject(r);
    if (n == 0)
      usleep(20 * 1000);
  }
  assert_int_equal(n, 1);
}

static long long closed(const char *tenant) {
  sbctl_stats_t s = {0};
  assert_int_equal(sbctl_view_read(sb_teststack_redis(st), tenant, &s), 0);
  return s.closed;
}

/* The tenant's counts hash (route's) as "field=value field=value ...",
 * fields sorted. */
static void counts(const char *tenant, char *out, size_t cap) {
  char key[SB_KEY_MAX];
  sb_key_tenant(key, sizeof key, tenant, "sugfb");
  redisReply *r = redisCommand(sb_teststack_redis(st), "HGETALL %s", key);
  assert_non_null(r);
  assert_int_equal(r->type, REDIS_REPLY_ARRAY);
  out[0] = '\0';
  /* at most two fields exist (a:bag-a, r:bag-a): "a:" sorts first */
  for (int pass = 0; pass < 2; pass++)
    for (size_t i = 0; i + 1 < r->elements; i += 2)
      if ((r->element[i]->str[0] == 'a') == (pass == 0))
        snprintf(out + strlen(out), cap - strlen(out), "%s%s=%s", out[0] ? " " : "",
                 r->element[i]->str, r->element[i + 1]->str);
  freeReplyObject(r);
}

/* N messages of N customers; each routed with "bag-a" suggested. */
static void publish_messages(const char *tenant) {
  for (int i = 0; i < CONVERSATIONS; i++) {
    char id[64], cust[64];
    snprintf(id, sizeof id, "%s-m%d", tenant, i);
    snprintf(cust, sizeof cust, "%s-cust-%d", tenant, i);
    sbctl_client_queue(sb_teststack_client(st),
                       sb_teststack_message(st, tenant, id, "webchat", cust, MESSAGE));
  }
  assert_int_equal(sb_teststack_publish_all(st, WAIT_MS), 0);
  for (int i = 0; i < CONVERSATIONS; i++) {
    char id[64];
    snprintf(id, sizeof id, "%s-m%d", tenant, i);
    sb_envelope_t *env = sb_teststack_routed(st, tenant, "/tests", id, WAIT_MS);
    assert_non_null(env);
    assert_non_null(env->classification);
    assert_string_equal(env->classification->suggested_reply, "bag-a");
    sb_envelope_free(env);
  }
}

/* Runs the agents for tenant until every conversation closed and the
 * counts hash reads want (or WAIT_MS); returns sbctl's summary in out. */
static void run_case(const char *tenant, const char *pct, const char *want, char *out) {
  char out_file[PATH_MAX_BYTES + 32], got[256] = "";
  snprintf(out_file, sizeof out_file, "%s/%s.out", dir, tenant);
  pid_t pid = start_agents(tenant, pct, out_file);
  wait_logged_in(tenant);
  publish_messages(tenant);
  int64_t until = sb_now_ms() + WAIT_MS;
  while (closed(tenant) < CONVERSATIONS && sb_now_ms() < until)
    usleep(50 * 1000);
  assert_int_equal(closed(tenant), CONVERSATIONS);
  int64_t quiet = sb_now_ms() + QUIET_MS; /* no late feedback either */
  while (sb_now_ms() < quiet || (strcmp(got, want) != 0 && sb_now_ms() < until)) {
    counts(tenant, got, sizeof got);
    usleep(50 * 1000);
  }
  stop_agents(pid, out_file, out);
  printf("%s: counts \"%s\", sbctl: %s", tenant, got, out);
  assert_string_equal(got, want);
}

static void accept_100_counts_only_accepts(void **state) {
  (void)state;
  char out[OUT_MAX];
  run_case("p100", "100", "a:bag-a=4", out);
  assert_non_null(strstr(out, "\"replies\":4,"));
  assert_non_null(strstr(out, "\"suggestions_accepted\":4,\"suggestions_rejected\":0}"));
}

static void accept_0_counts_only_rejections(void **state) {
  (void)state;
  char out[OUT_MAX];
  run_case("p0", "0", "r:bag-a=4", out);
  assert_non_null(strstr(out, "\"replies\":4,"));
  assert_non_null(strstr(out, "\"suggestions_accepted\":0,\"suggestions_rejected\":4}"));
}

static void without_the_flag_nothing_is_counted(void **state) {
  (void)state;
  char out[OUT_MAX];
  run_case("pnone", NULL, "", out);
  assert_non_null(strstr(out, "\"replies\":4,"));
  assert_non_null(strstr(out, "\"suggestions_accepted\":0,\"suggestions_rejected\":0}"));
}

/* `sbctl agent --accept-suggestions V`: exit 2 and a reason naming the flag. */
static void bad_percentages_are_refused(void **state) {
  (void)state;
  const char *bad[] = {"101", "-1", "abc", "50%", ""};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    char cmd[PATH_MAX_BYTES * 3], line[512] = "";
    snprintf(cmd, sizeof cmd, "%s/sbctl agent --tenants %s --tenant p100 --accept-suggestions='%s' 2>&1",
             sb_test_binary_dir(), tenants_file, bad[i]);
    FILE *p = popen(cmd, "r");
    assert_non_null(p);
    if (!fgets(line, sizeof line, p))
      line[0] = '\0';
    int status = pclose(p);
    printf("--accept-suggestions='%s': %s", bad[i], line);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 2);
    assert_non_null(strstr(line, "--accept-suggestions"));
    assert_non_null(strstr(line, "0..100"));
  }
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(bad_percentages_are_refused),
      cmocka_unit_test(accept_100_counts_only_accepts),
      cmocka_unit_test(accept_0_counts_only_rejections),
      cmocka_unit_test(without_the_flag_nothing_is_counted),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
