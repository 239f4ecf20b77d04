/*
 * Redis ACL users (docker/redis/users.acl.in, rendered by render-acl.sh):
 * a private redis-server loads the rendered file;
 * - every service user can connect and run its own kind of command, and is
 *   refused FLUSHALL, CONFIG, KEYS, SCRIPT FLUSH, ACL and keys outside sb:*;
 *   the default user is off; the read-only ops user cannot write;
 * - every command a service's Lua scripts call (the common ones and its own)
 *   is granted to its user, so the file cannot fall behind the scripts;
 * - the five services, each connected as its own user, carry messages from
 *   the ZeroMQ door to route (acknowledged, routed, no lease left open) and
 *   log no NOPERM.
 */
#include "sb_testutil.h"

#include "sb_admit.h"
#include "sb_envelope.h"
#include "sb_redisd.h"
#include "sb_service.h"
#include "sb_time.h"
#include "sbctl_client.h"
#include "sbctl_proc.h"
#include "sbctl_view.h"

#include <arpa/inet.h>
#include <cjson/cJSON.h>
#include <ctype.h>
#include <glob.h>
#include <hiredis/hiredis.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zmq.h>

#define MESSAGES 20
#define READY_MS 15000
#define DRAIN_MS 20000

static const char *const service_users[] = {"ingest", "classify", "route",
                                            "sla-timer", "notify"};
static const char *const all_users[] = {
    "sb-ingest", "sb-classify", "sb-route",  "sb-sla-timer",
    "sb-notify", "sb-ops",      "sb-monitor"};
#define NUSERS (sizeof all_users / sizeof all_users[0])

typedef struct {
  char dir[64], acl[128];
  sb_redisd_t *redis;
} fixture_t;

static int setup(void **state) {
  fixture_t *f = calloc(1, sizeof *f);
  snprintf(f->dir, sizeof f->dir, "/tmp/sb-acl-XXXXXX");
  assert_non_null(mkdtemp(f->dir));
  char path[256], cmd[1024];
  snprintf(path, sizeof path, "%s/pw", f->dir);
  assert_int_equal(mkdir(path, 0700), 0);
  for (size_t i = 0; i < NUSERS; i++) {
    snprintf(path, sizeof path, "%s/pw/%s", f->dir, all_users[i]);
    FILE *p = fopen(path, "w");
    assert_non_null(p);
    fprintf(p, "pw-%s\n",
            all_users[i]); /* the trailing newline is not part of it */
    fclose(p);
  }
  snprintf(f->acl, sizeof f->acl, "%s/users.acl", f->dir);
  snprintf(cmd, sizeof cmd, "sh %s/docker/redis/render-acl.sh %s/pw > %s",
           sb_test_source_dir(), f->dir, f->acl);
  assert_int_equal(system(cmd), 0);
  sb_redisd_opts_t o = {.acl_file = f->acl,
                        .probe_user = "sb-monitor",
                        .probe_password = "pw-sb-monitor"};
  f->redis = sb_redisd_start(&o);
  assert_non_null(f->redis);
  *state = f;
  return 0;
}

static int teardown(void **state) {
  fixture_t *f = *state;
  sb_redisd_stop(&f->redis);
  char cmd[256];
  snprintf(cmd, sizeof cmd, "rm -rf %s", f->dir);
  if (system(cmd) != 0)
    fprintf(stderr, "could not remove %s\n", f->dir);
  free(f);
  return 0;
}

static redisContext *connect_as(fixture_t *f, const char *user) {
  redisContext *c = redisConnect("127.0.0.1", sb_redisd_port(f->redis));
  assert_non_null(c);
  assert_int_equal(c->err, 0);
  if (user) {
    redisReply *r = redisCommand(c, "AUTH %s pw-%s", user, user);
    assert_non_null(r);
    assert_int_equal(r->type, REDIS_REPLY_STATUS);
    freeReplyObject(r);
  }
  return c;
}

/* 1 if the reply to the command is an error starting with prefix. */
static int refused(redisContext *c, const char *prefix, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  redisReply *r = redisvCommand(c, fmt, ap);
  va_end(ap);
  int ok = r && r->type == REDIS_REPLY_ERROR &&
           strncmp(r->str, prefix, strlen(prefix)) == 0;
  if (!ok)
    fprintf(stderr, "not refused (%s): %s -> %s\n", prefix, fmt,
            r && r->str ? r->str : "?");
  freeReplyObject(r);
  return ok;
}

static int answered(redisContext *c, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  redisReply *r = redisvCommand(c, fmt, ap);
  va_end(ap);
  int ok = r && r->type != REDIS_REPLY_ERROR;
  if (!ok)
    fprintf(stderr, "refused: %s -> %s\n", fmt, r && r->str ? r->str : "?");
  freeReplyObject(r);
  return ok;
}

static void users_get_only_what_they_need(void **state) {
  fixture_t *f = *state;
  for (size_t i = 0; i < NUSERS; i++) {
    redisContext *c = connect_as(f, all_users[i]);
    assert_true(answered(c, "PING"));
    assert_true(refused(c, "NOPERM", "FLUSHALL"));
    assert_true(refused(c, "NOPERM", "CONFIG GET maxmemory"));
    assert_true(refused(c, "NOPERM", "CONFIG SET appendonly no"));
    assert_true(refused(c, "NOPERM", "KEYS *"));
    assert_true(refused(c, "NOPERM", "SCRIPT FLUSH"));
    assert_true(refused(c, "NOPERM", "ACL LIST"));
    assert_true(refused(c, "NOPERM", "SHUTDOWN NOSAVE"));
    assert_true(refused(c, "NOPERM", "GET other:key")); /* outside sb:* */
    redisFree(c);
  }
  /* a service writes its keys and runs scripts by SHA; the ops user reads */
  redisContext *route = connect_as(f, "sb-route"),
               *ops = connect_as(f, "sb-ops");
  assert_true(answered(route, "SET sb:{t:acl}:x 1"));
  redisReply *sha = redisCommand(route, "SCRIPT LOAD %s",
                                 "return redis.call('GET', KEYS[1])");
  assert_non_null(sha);
  assert_int_equal(sha->type, REDIS_REPLY_STRING);
  assert_true(answered(route, "EVALSHA %s 1 sb:{t:acl}:x", sha->str));
  assert_true(refused(route, "NOPERM", "EVALSHA %s 1 other:x", sha->str));
  freeReplyObject(sha);
  assert_true(
      refused(route, "NOPERM", "EVAL %s 0", "return redis.call('FLUSHALL')"));
  assert_true(refused(route, "NOPERM", "SET other:x 1"));
  assert_true(answered(ops, "GET sb:{t:acl}:x"));
  assert_true(refused(ops, "NOPERM", "SET sb:{t:acl}:x 2"));
  assert_true(refused(ops, "NOPERM", "DEL sb:{t:acl}:x"));
  assert_true(refused(route, "NOPERM",
                      "DEL sb:{t:acl}:x")); /* route has no DEL either */
  redisFree(route);
  redisFree(ops);
  /* the default user is off; a wrong password is refused */
  redisContext *anon = connect_as(f, NULL);
  assert_true(refused(anon, "NOAUTH", "PING"));
  assert_true(refused(anon, "WRONGPASS", "AUTH sb-route nope"));
  assert_true(refused(anon, "WRONGPASS", "AUTH default x"));
  redisFree(anon);
}

/* The template's "user sb-<svc> ..." line, lower-case, in out. */
static void user_line(const char *svc, char *out, size_t cap) {
  char path[512], want[64], line[1024];
  snprintf(path, sizeof path, "%s/docker/redis/users.acl.in",
           sb_test_source_dir());
  snprintf(want, sizeof want, "user sb-%s ", svc);
  FILE *f = fopen(path, "r");
  assert_non_null(f);
  out[0] = '\0';
  while (fgets(line, sizeof line, f))
    if (strncmp(line, want, strlen(want)) == 0)
      snprintf(out, cap, "%s", line);
  fclose(f);
  for (char *p = out; *p; p++)
    *p = (char)tolower((unsigned char)*p);
  assert_true(out[0] != '\0');
}

/* Checks each redis.call('X' / redis.pcall('X' / call_chunked('X' of the
 * file against the user line; returns the commands not granted. */
static int missing_in(const char *file, const char *svc, const char *grants) {
  static const char *const calls[] = {"redis.call('",   "redis.pcall('",
                                      "call_chunked('", "redis.call(\"",
                                      "redis.pcall(\"", "call_chunked(\""};
  FILE *f = fopen(file, "r");
  assert_non_null(f);
  char line[4096];
  int missing = 0;
  while (fgets(line, sizeof line, f)) {
    for (size_t c = 0; c < sizeof calls / sizeof calls[0]; c++) {
      for (char *p = strstr(line, calls[c]); p; p = strstr(p + 1, calls[c])) {
        char cmd[40] = "+";
        size_t n = 1;
        for (const char *q = p + strlen(calls[c]);
             isalpha((unsigned char)*q) && n < sizeof cmd - 2; q++)
          cmd[n++] = (char)tolower((unsigned char)*q);
        cmd[n++] = ' ';
        cmd[n] = '\0';
        if (n > 2 && !strstr(grants, cmd)) {
          fprintf(stderr, "%s: %s calls %s, not granted to sb-%s\n", file, svc,
                  cmd, svc);
          missing++;
        }
      }
    }
  }
  fclose(f);
  return missing;
}

static void every_script_command_is_granted(void **state) {
  (void)state;
  int missing = 0;
  for (size_t i = 0; i < sizeof service_users / sizeof service_users[0]; i++) {
    char grants[2048], pattern[512];
    user_line(service_users[i], grants, sizeof grants - 1);
    grants[strcspn(grants, "\n")] = '\0';
    strcat(grants, " "); /* every grant ends with a blank */
    const char *dirs[] = {"common", NULL};
    for (int d = 0; d < 2; d++) {
      if (dirs[d])
        snprintf(pattern, sizeof pattern, "%s/%s/*.lua", sb_test_source_dir(),
                 dirs[d]);
      else
        snprintf(pattern, sizeof pattern, "%s/services/%s/*.lua",
                 sb_test_source_dir(), service_users[i]);
      glob_t g;
      if (glob(pattern, 0, NULL, &g) != 0)
        continue;
      for (size_t k = 0; k < g.gl_pathc; k++)
        missing += missing_in(g.gl_pathv[k], service_users[i], grants);
      globfree(&g);
    }
  }
  assert_int_equal(missing, 0);
}

static int port_free(int port) {
  int s = socket(AF_INET, SOCK_STREAM, 0), one = 1;
  struct sockaddr_in a = {.sin_family = AF_INET,
                          .sin_port = htons((uint16_t)port)};
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  int ok = bind(s, (struct sockaddr *)&a, sizeof a) == 0;
  close(s);
  return ok;
}

static int pick_offset(void) {
  static const int bases[] = {
      SB_PORT_INGEST_HTTP, SB_PORT_INGEST_ZMQ,   SB_PORT_NOTIFY_PUB,
      SB_PORT_CLASSIFY_IN, SB_PORT_ROUTE_IN,     SB_PORT_SLA_IN,
      SB_PORT_NOTIFY_IN,   SB_PORT_ADMIN_INGEST, SB_PORT_ADMIN_CLASSIFY,
      SB_PORT_ADMIN_ROUTE, SB_PORT_ADMIN_SLA,    SB_PORT_ADMIN_NOTIFY};
  srand((unsigned)(getpid() ^ sb_now_us()));
  for (int tries = 0; tries < 100; tries++) {
    int off = 20000 + rand() % 30000, ok = 1;
    for (size_t i = 0; ok && i < sizeof bases / sizeof bases[0]; i++)
      ok = port_free(bases[i] + off);
    if (ok)
      return off;
  }
  return -1;
}

static sb_envelope_t *message(const sb_tenants_t *t, const char *tenant,
                              int i) {
  char id[32], customer[32];
  snprintf(id, sizeof id, "acl-%d", i);
  snprintf(customer, sizeof customer, "cust-%d", i);
  sb_cloudevent_t ce = {.id = id,
                        .source = "/tests/acl",
                        .type = SB_TYPE_INTERACTION,
                        .specversion = "1.0",
                        .tenant = (char *)tenant};
  cJSON *d = cJSON_CreateObject();
  cJSON_AddStringToObject(d, "channel", "webchat");
  cJSON_AddStringToObject(d, "customer", customer);
  cJSON_AddStringToObject(d, "text",
                          "my parcel has not arrived, can you help?");
  ce.data = cJSON_PrintUnformatted(d);
  cJSON_Delete(d);
  sb_admit_result_t ar;
  sb_envelope_t *env = sb_admit_cloudevent(&ce, t, &ar);
  free(ce.data);
  return env;
}

static void publish(int offset, const sb_tenants_t *t, const char *tenant) {
  char ep[64];
  snprintf(ep, sizeof ep, "tcp://127.0.0.1:%d", SB_PORT_INGEST_ZMQ + offset);
  void *zctx = zmq_ctx_new();
  sbctl_client_t *cl = sbctl_client_new(zctx, ep);
  for (int i = 0; i < MESSAGES; i++) {
    sb_envelope_t *env = message(t, tenant, i);
    assert_non_null(env);
    sbctl_client_queue(cl, env);
  }
  int64_t until = sb_now_ms() + DRAIN_MS;
  while (sbctl_client_outstanding(cl) && sb_now_ms() < until) {
    sbctl_client_pump(cl);
    zmq_pollitem_t it = {sbctl_client_socket(cl), 0, ZMQ_POLLIN, 0};
    if (zmq_poll(&it, 1, 100) > 0)
      sbctl_client_on_readable(cl);
  }
  sbctl_client_stats_t s;
  sbctl_client_stats(cl, &s);
  assert_int_equal(s.ok, MESSAGES); /* ingest made each durable as sb-ingest */
  sbctl_client_destroy(&cl);
  zmq_ctx_term(zctx);
}

static int log_has(const char *dir, const char *service, const char *needle) {
  char cmd[512];
  snprintf(cmd, sizeof cmd, "grep -q '%s' %s/%s.log", needle, dir, service);
  return system(cmd) == 0;
}

static void the_services_run_each_as_its_own_user(void **state) {
  fixture_t *f = *state;
  char tenants_path[512], err[256];
  snprintf(tenants_path, sizeof tenants_path, "%s/corpus/tenants.json",
           sb_test_source_dir());
  sb_tenants_t *t = sb_tenants_load(tenants_path, err, sizeof err);
  assert_non_null(t);
  const char *tenant = sb_tenants_at(t, 0)->id;
  int offset = pick_offset();
  assert_true(offset > 0);
  pid_t pids[SBCTL_NSERVICES] = {0};
  for (int i = 0; i < SBCTL_NSERVICES; i++) {
    const char *name = sbctl_services[i].name;
    char url[256];
    snprintf(url, sizeof url, "redis://sb-%s:pw-sb-%s@127.0.0.1:%d", name, name,
             sb_redisd_port(f->redis));
    sbctl_proc_env_t e = {sb_test_binary_dir(), f->dir, url, tenants_path,
                          offset};
    pids[i] = sbctl_proc_spawn(&e, name);
    assert_true(pids[i] > 0);
    assert_int_equal(
        sbctl_proc_wait_ready(pids[i], sbctl_services[i].admin_port + offset,
                              READY_MS),
        0);
  }
  publish(offset, t, tenant);
  char ops_url[256];
  snprintf(ops_url, sizeof ops_url, "redis://sb-ops:pw-sb-ops@127.0.0.1:%d",
           sb_redisd_port(f->redis));
  redisContext *ops = sbctl_view_connect(ops_url);
  assert_non_null(ops);
  sbctl_stats_t s;
  int64_t until = sb_now_ms() + DRAIN_MS;
  int drained = 0;
  while (!drained && sb_now_ms() < until) {
    memset(&s, 0, sizeof s); /* sbctl_view_read adds up */
    assert_int_equal(sbctl_view_read(ops, tenant, &s), 0);
    drained = sbctl_view_inflight(&s) == 0 && s.routed_messages >= MESSAGES;
    if (!drained)
      usleep(50000);
  }
  if (!drained) {
    char cmd[256];
    sbctl_view_json(stderr, &s);
    snprintf(cmd, sizeof cmd,
             "grep -h -v '\"level\":\"info\"' %s/*.log | head -30 >&2", f->dir);
    if (system(cmd) != 0)
      fprintf(stderr, "no logs\n");
  }
  assert_true(drained);
  redisFree(ops);
  sbctl_proc_stop(pids, SBCTL_NSERVICES, 5000);
  for (size_t i = 0; i < sizeof service_users / sizeof service_users[0]; i++)
    assert_false(log_has(f->dir, service_users[i], "NOPERM"));
  sb_tenants_destroy(&t);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(every_script_command_is_granted),
      cmocka_unit_test_setup_teardown(users_get_only_what_they_need, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(the_services_run_each_as_its_own_user,
                                      setup, teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
