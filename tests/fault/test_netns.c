/*
 * Several hosts on one machine: Redis, each of the five services and the
 * test's client in network namespaces of their own, joined by a bridge
 * (tests/support/sb_netns.h). Each service gets --host=<its address> and
 * --next / --redis-url naming the other hosts' addresses, nothing else.
 * From the client host the test publishes over ZeroMQ and HTTP, logs two
 * agents in (one per door), follows notify's feed and reads Redis, and
 * every event must be assigned to an agent.
 *
 * How "nothing assumes localhost" is proven: loopback is DOWN in every host
 * (Redis, the services, and the client host where this test and its sbctl
 * runs live) before anything starts there. With lo down, 127.0.0.1 has no
 * route (connect: ENETUNREACH) and is no local address (bind:
 * EADDRNOTAVAIL), so a service that dials localhost (Redis, a peer stage)
 * or binds it never becomes ready or never routes, whatever the code path;
 * a scan of listening sockets would only find the binds that happened.
 * A bind to the wildcard 0.0.0.0 still works with lo down and would ignore
 * --host: so each service's /proc/<pid>/net/tcp{,6} (its namespace's
 * table) must hold exactly the listeners README "Interfaces" documents,
 * each on the host's own address.
 *
 * Skips (77) only when this process cannot create network namespaces.
 */
#include "sb_netns.h"
#include "sb_testfeed.h"
#include "sb_testutil.h"

#include "sb_admit.h"
#include "sb_keys.h"
#include "sb_service.h"
#include "sb_time.h"
#include "sbctl_client.h"
#include "sbctl_view.h"

#include <arpa/inet.h>
#include <cjson/cJSON.h>
#include <hiredis/hiredis.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>
#include <zmq.h>

#define NSVC 5
#define TENANT "acme-air"
#define ZMQ_MESSAGES 40
#define HTTP_MESSAGES 20
/* Two agents with room for exactly every conversation: afterwards only
 * sbctl's own agent (sbctl_across_hosts) has free capacity. */
#define AGENT_CAPACITY ((ZMQ_MESSAGES + HTTP_MESSAGES) / 2)
#define REDIS_PORT 6379
#define READY_MS 30000
#define ROUTED_MS 30000
#define STOP_MS 15000
#define IO_TIMEOUT_S 10

static const char *const hosts[] = {"redis", "ingest", "classify", "route", "sla-timer", "notify", "client"};

/* In start order (last stage first); each service's next hop and the
 * listeners README "Interfaces" documents for it (0 ends a list). */
typedef struct {
  const char *name, *next;
  int next_port, admin_port, ports[4];
} svc_t;
static const svc_t svcs[NSVC] = {
    {"notify", NULL, 0, SB_PORT_ADMIN_NOTIFY, {SB_PORT_NOTIFY_IN, SB_PORT_NOTIFY_PUB, SB_PORT_ADMIN_NOTIFY}},
    {"sla-timer", "notify", SB_PORT_NOTIFY_IN, SB_PORT_ADMIN_SLA, {SB_PORT_SLA_IN, SB_PORT_ADMIN_SLA}},
    {"route", "sla-timer", SB_PORT_SLA_IN, SB_PORT_ADMIN_ROUTE, {SB_PORT_ROUTE_IN, SB_PORT_ADMIN_ROUTE}},
    {"classify", "route", SB_PORT_ROUTE_IN, SB_PORT_ADMIN_CLASSIFY, {SB_PORT_CLASSIFY_IN, SB_PORT_ADMIN_CLASSIFY}},
    {"ingest", "classify", SB_PORT_CLASSIFY_IN, SB_PORT_ADMIN_INGEST,
     {SB_PORT_INGEST_HTTP, SB_PORT_INGEST_ZMQ, SB_PORT_ADMIN_INGEST}},
};

typedef struct {
  sb_netns_t *ns;
  char dir[64], tenants_path[512], redis_url[64];
  pid_t redis, pid[NSVC];
  sb_tenants_t *tenants;
  redisContext *rc;
  void *zctx, *sub;       /* the feed's SUB socket */
  sbctl_client_t *client; /* the ZeroMQ publisher */
} world_t;

/* ---- HTTP from the client host ---------------------------------------- */

/* One request to addr:port; the status (body copied to out), or -1. */
static int http(const char *addr, int port, const char *method, const char *path, const char *body,
                char *out, size_t cap) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
  struct timeval tv = {IO_TIMEOUT_S, 0};
  if (fd < 0 || inet_pton(AF_INET, addr, &a.sin_addr) != 1 ||
      setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv) != 0 ||
      connect(fd, (struct sockaddr *)&a, sizeof a) != 0) {
    if (fd >= 0)
      close(fd);
    return -1;
  }
  char req[4096], resp[8192];
  size_t len = body ? strlen(body) : 0;
  int n = snprintf(req, sizeof req,
                   "%s %s HTTP/1.1\r\nHost: %s:%d\r\nConnection: close\r\n"
                   "Content-Type: application/cloudevents+json\r\nContent-Length: %zu\r\n\r\n%s",
                   method, path, addr, port, len, body ? body : "");
  size_t got = 0;
  int sent = n > 0 && (size_t)n < sizeof req && write(fd, req, (size_t)n) == n; /* never a cut request */
  for (ssize_t r = 1; sent && r > 0 && got < sizeof resp - 1; got += r > 0 ? (size_t)r : 0)
    r = read(fd, resp + got, sizeof resp - 1 - got);
  close(fd);
  resp[got] = '\0';
  int status = -1;
  sscanf(resp, "HTTP/1.%*d %d", &status);
  const char *b = strstr(resp, "\r\n\r\n");
  if (out && cap)
    snprintf(out, cap, "%s", b ? b + 4 : "");
  return status;
}

static int readyz(const world_t *w, const svc_t *s) {
  return http(sb_netns_addr(w->ns, s->name), s->admin_port, "GET", "/readyz", NULL, NULL, 0);
}

/* ---- the hosts and their processes -------------------------------------- */

static void start_redis(world_t *w) {
  const char *addr = sb_netns_addr(w->ns, "redis");
  char port[16], log[128];
  snprintf(port, sizeof port, "%d", REDIS_PORT);
  snprintf(log, sizeof log, "%s/redis.log", w->dir);
  char *argv[] = {"redis-server", "--bind", (char *)addr, "--port", port, "--save", "",
                  "--appendonly", "no", "--protected-mode", "no", "--dir", w->dir, NULL};
  w->redis = sb_netns_spawn(w->ns, "redis", log, argv);
  assert_true(w->redis > 0);
  snprintf(w->redis_url, sizeof w->redis_url, "redis://%s:%d", addr, REDIS_PORT);
  int64_t until = sb_now_ms() + READY_MS;
  while (!w->rc && sb_now_ms() < until) {
    struct timeval tv = {1, 0};
    redisContext *c = redisConnectWithTimeout(addr, REDIS_PORT, tv);
    redisReply *r = c && !c->err ? redisCommand(c, "PING") : NULL;
    if (r && r->type == REDIS_REPLY_STATUS)
      w->rc = c, c = NULL;
    if (r)
      freeReplyObject(r);
    if (c)
      redisFree(c);
    if (!w->rc)
      usleep(50000);
  }
  assert_non_null(w->rc);
}

static void start_service(world_t *w, int i) {
  const svc_t *s = &svcs[i];
  char bin[1024], log[128], host[64], redis[96], tenants[600], next[96], rules[1024], lex[1024];
  snprintf(bin, sizeof bin, "%s/sb-%s", sb_test_binary_dir(), s->name);
  snprintf(log, sizeof log, "%s/%s.log", w->dir, s->name);
  snprintf(host, sizeof host, "--host=%s", sb_netns_addr(w->ns, s->name));
  snprintf(redis, sizeof redis, "--redis-url=%s", w->redis_url);
  snprintf(tenants, sizeof tenants, "--tenants=%s", w->tenants_path);
  snprintf(next, sizeof next, "--next=tcp://%s:%d", s->next ? sb_netns_addr(w->ns, s->next) : "",
           s->next_port);
  snprintf(rules, sizeof rules, "--rules=%s/corpus/rules/default.json", sb_test_source_dir());
  snprintf(lex, sizeof lex, "--lexicons=%s/corpus/lexicons", sb_test_source_dir());
  char *argv[10] = {bin, host, redis, tenants};
  int n = 4;
  if (s->next)
    argv[n++] = next;
  if (strcmp(s->name, "classify") == 0)
    argv[n++] = rules, argv[n++] = lex;
  w->pid[i] = sb_netns_spawn(w->ns, s->name, log, argv);
  assert_true(w->pid[i] > 0);
  int64_t until = sb_now_ms() + READY_MS;
  while (readyz(w, s) != 200 && waitpid(w->pid[i], NULL, WNOHANG) == 0 && sb_now_ms() < until)
    usleep(50000);
  int status = readyz(w, s);
  if (status != 200)
    fprintf(stderr, "netns: %s not ready from the client host (status %d); see its log\n", s->name, status);
  assert_int_equal(status, 200);
}

/* Prints what the services logged above info (and sanitizer reports), so a
 * failure says why; then removes the folder. */
static void drop_dir(const world_t *w) {
  char cmd[512];
  snprintf(cmd, sizeof cmd,
           "cd %s && cat ingest.log classify.log route.log sla-timer.log notify.log 2>/dev/null | grep -v '\"level\":\"info\"' | head -40 >&2;"
           " rm -rf %s",
           w->dir, w->dir);
  if (system(cmd) != 0)
    fprintf(stderr, "netns: cleaning %s failed\n", w->dir);
}

static void world_start(world_t *w) {
  char err[256];
  snprintf(w->tenants_path, sizeof w->tenants_path, "%s/corpus/tenants.json", sb_test_source_dir());
  w->tenants = sb_tenants_load(w->tenants_path, err, sizeof err);
  assert_non_null(w->tenants);
  snprintf(w->dir, sizeof w->dir, SB_NETNS_TMP_PREFIX "%d-XXXXXX", (int)getpid());
  if (!mkdtemp(w->dir))
    w->dir[0] = '\0';
  assert_true(w->dir[0]);
  w->ns = sb_netns_new(hosts, sizeof hosts / sizeof hosts[0]);
  assert_non_null(w->ns);
  for (size_t i = 0; i < sizeof hosts / sizeof hosts[0]; i++) /* see the top of the file */
    assert_int_equal(sb_netns_loopback(w->ns, hosts[i], 0), 0);
  /* from here on every socket of this thread, and of the threads it starts
   * (ZeroMQ's), is the client host's */
  assert_int_equal(sb_netns_enter(w->ns, "client"), 0);
  start_redis(w);
  for (int i = 0; i < NSVC; i++)
    start_service(w, i);
  w->zctx = zmq_ctx_new();
}

/* Stops the services, first stage first; each must exit 0 (a clean
 * drain; under ASan, no leak report). */
static void stop_services(world_t *w) {
  int status[NSVC];
  for (int i = NSVC - 1; i >= 0; i--) {
    status[i] = w->pid[i] > 0 ? sb_netns_stop(w->ns, w->pid[i], STOP_MS) : -1;
    w->pid[i] = 0;
  }
  for (int i = 0; i < NSVC; i++) {
    if (!WIFEXITED(status[i]) || WEXITSTATUS(status[i]) != 0)
      fprintf(stderr, "netns: sb-%s ended with wait status %d\n", svcs[i].name, status[i]);
    assert_true(WIFEXITED(status[i]) && WEXITSTATUS(status[i]) == 0);
  }
}

/* cmocka teardown: runs after a failed assertion too, so the hosts, their
 * processes and the folder always go. */
static int world_teardown(void **state) {
  world_t *w = *state;
  for (int i = 0; i < NSVC; i++)
    if (w->pid[i] > 0)
      sb_netns_stop(w->ns, w->pid[i], STOP_MS);
  if (w->redis > 0)
    sb_netns_stop(w->ns, w->redis, STOP_MS);
  if (w->rc)
    redisFree(w->rc);
  sbctl_client_destroy(&w->client); /* open sockets would hold zmq_ctx_term */
  if (w->sub)
    zmq_close(w->sub);
  if (w->zctx)
    zmq_ctx_term(w->zctx);
  if (w->dir[0])
    drop_dir(w);
  sb_netns_destroy(&w->ns);
  sb_tenants_destroy(&w->tenants);
  free(w);
  return 0;
}

static int world_setup(void **state) {
  *state = calloc(1, sizeof(world_t));
  return *state ? 0 : -1;
}

/* ---- listeners ---------------------------------------------------------- */

static int documented(const svc_t *s, int port) {
  for (int k = 0; k < 4 && s->ports[k]; k++)
    if (s->ports[k] == port)
      return k;
  return -1;
}

/* Every LISTEN socket in /proc/<pid>/net/tcp (the service's namespace) is
 * on addr at a documented port; none in tcp6; marks the ports found. */
static void check_listeners(const world_t *w, int i) {
  const svc_t *s = &svcs[i];
  const char *addr = sb_netns_addr(w->ns, s->name);
  int seen[4] = {0};
  char path[64], line[512];
  for (int v6 = 0; v6 < 2; v6++) {
    snprintf(path, sizeof path, "/proc/%d/net/tcp%s", (int)w->pid[i], v6 ? "6" : "");
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    while (fgets(line, sizeof line, f)) {
      char local[64];
      unsigned port, state;
      if (sscanf(line, " %*d: %63[0-9A-Fa-f]:%x %*[0-9A-Fa-f]:%*x %x", local, &port, &state) != 3 ||
          state != 0x0A) /* TCP_LISTEN */
        continue;
      char got[INET6_ADDRSTRLEN] = "(ipv6)";
      struct in_addr a = {.s_addr = (uint32_t)strtoul(local, NULL, 16)}; /* kernel prints it as a host int */
      if (!v6)
        inet_ntop(AF_INET, &a, got, sizeof got);
      int k = documented(s, (int)port);
      printf("netns: sb-%s listens on %s:%u%s\n", s->name, got, port, k < 0 ? " (undocumented)" : "");
      assert_false(v6);
      assert_string_equal(got, addr);
      assert_true(k >= 0);
      seen[k] = 1;
    }
    fclose(f);
  }
  for (int k = 0; k < 4 && s->ports[k]; k++)
    assert_true(seen[k]);
}

/* ---- traffic ------------------------------------------------------------ */

static sb_envelope_t *admit(const world_t *w, const char *id, const char *type, cJSON *data) {
  sb_cloudevent_t ce = {.id = (char *)id, .source = "/tests/netns", .type = (char *)type,
                        .specversion = "1.0", .tenant = TENANT};
  ce.data = cJSON_PrintUnformatted(data);
  cJSON_Delete(data);
  sb_admit_result_t ar;
  sb_envelope_t *env = sb_admit_cloudevent(&ce, w->tenants, &ar);
  if (!env)
    fprintf(stderr, "netns: not admitted: %s\n", ar.reason);
  free(ce.data);
  assert_non_null(env);
  return env;
}

static cJSON *message_data(const char *customer) {
  cJSON *d = cJSON_CreateObject();
  cJSON_AddStringToObject(d, "channel", "webchat");
  cJSON_AddStringToObject(d, "customer", customer);
  cJSON_AddStringToObject(d, "text", "My flight was cancelled and I need a refund please");
  return d;
}

static cJSON *login_data(const char *agent) {
  cJSON *d = cJSON_CreateObject();
  cJSON_AddStringToObject(d, "agent", agent);
  cJSON_AddNumberToObject(d, "capacity", AGENT_CAPACITY);
  return d;
}

/* One agent and ZMQ_MESSAGES messages (one conversation each) through
 * ingest's ZeroMQ door; every one acknowledged as durable. */
static void publish_zmq(world_t *w) {
  char ep[64], id[32], customer[32];
  snprintf(ep, sizeof ep, "tcp://%s:%d", sb_netns_addr(w->ns, "ingest"), SB_PORT_INGEST_ZMQ);
  sbctl_client_t *c = w->client = sbctl_client_new(w->zctx, ep);
  assert_non_null(c);
  sbctl_client_queue(c, admit(w, "login-z", SB_TYPE_AGENT_PREFIX "login", login_data("agent-z")));
  for (int i = 0; i < ZMQ_MESSAGES; i++) {
    snprintf(id, sizeof id, "m-z-%d", i);
    snprintf(customer, sizeof customer, "cz-%d", i);
    sbctl_client_queue(c, admit(w, id, SB_TYPE_INTERACTION, message_data(customer)));
  }
  int64_t until = sb_now_ms() + ROUTED_MS;
  while (sbctl_client_outstanding(c) && sb_now_ms() < until) {
    sbctl_client_pump(c);
    zmq_pollitem_t it = {sbctl_client_socket(c), 0, ZMQ_POLLIN, 0};
    if (zmq_poll(&it, 1, 50) > 0)
      sbctl_client_on_readable(c);
  }
  sbctl_client_stats_t s;
  sbctl_client_stats(c, &s);
  assert_int_equal(sbctl_client_outstanding(c), 0);
  assert_int_equal(s.ok + s.duplicate, ZMQ_MESSAGES + 1);
  sbctl_client_destroy(&w->client);
}

static char *cloudevent_json(const char *id, const char *type, cJSON *data) {
  cJSON *ce = cJSON_CreateObject();
  cJSON_AddStringToObject(ce, "specversion", "1.0");
  cJSON_AddStringToObject(ce, "id", id);
  cJSON_AddStringToObject(ce, "source", "/tests/netns");
  cJSON_AddStringToObject(ce, "type", type);
  cJSON_AddStringToObject(ce, "tenant", TENANT);
  cJSON_AddItemToObject(ce, "data", data);
  char *s = cJSON_PrintUnformatted(ce);
  cJSON_Delete(ce);
  return s;
}

static void post(const world_t *w, const char *path, char *json, int want) {
  char out[512];
  int status = http(sb_netns_addr(w->ns, "ingest"), SB_PORT_INGEST_HTTP, "POST", path, json, out, sizeof out);
  if (status != want)
    fprintf(stderr, "netns: POST %s: %d %s\n", path, status, out);
  free(json);
  assert_int_equal(status, want);
}

/* An agent logged in through /v1/agent-events, answered 202 (durable). */
static void login_http(const world_t *w) {
  post(w, "/v1/agent-events", cloudevent_json("login-h", SB_TYPE_AGENT_PREFIX "login", login_data("agent-h")), 202);
}

/* HTTP_MESSAGES messages (one conversation each) through /v1/events. */
static void publish_http(const world_t *w) {
  char id[32], customer[32];
  for (int i = 0; i < HTTP_MESSAGES; i++) {
    snprintf(id, sizeof id, "m-h-%d", i);
    snprintf(customer, sizeof customer, "ch-%d", i);
    post(w, "/v1/events", cloudevent_json(id, SB_TYPE_INTERACTION, message_data(customer)), 202);
  }
}

/* ---- the feed ----------------------------------------------------------- */

typedef struct {
  char seen[ZMQ_MESSAGES + HTTP_MESSAGES];
  int assigned, foreign_agent;
} feed_t;

static void on_feed(const char *topic, const sb_envelope_t *env, void *arg) {
  feed_t *f = arg;
  if (strcmp(topic, TENANT ".assigned") != 0 || !env || !env->routing)
    return;
  int i;
  char door;
  if (sscanf(env->id, "m-%c-%d", &door, &i) != 2 || i < 0 || i >= (door == 'z' ? ZMQ_MESSAGES : HTTP_MESSAGES))
    return;
  int k = door == 'z' ? i : ZMQ_MESSAGES + i;
  if (!f->seen[k])
    f->assigned++;
  f->seen[k] = 1;
  if (strcmp(env->routing->agent, "agent-z") != 0 && strcmp(env->routing->agent, "agent-h") != 0)
    f->foreign_agent++;
}

static void *subscribe(world_t *w) {
  char ep[64];
  snprintf(ep, sizeof ep, "tcp://%s:%d", sb_netns_addr(w->ns, "notify"), SB_PORT_NOTIFY_PUB);
  void *sub = zmq_socket(w->zctx, ZMQ_SUB);
  assert_non_null(sub);
  int hwm = 0, linger = 0;
  zmq_setsockopt(sub, ZMQ_RCVHWM, &hwm, sizeof hwm);
  zmq_setsockopt(sub, ZMQ_LINGER, &linger, sizeof linger);
  assert_int_equal(zmq_setsockopt(sub, ZMQ_SUBSCRIBE, TENANT ".", strlen(TENANT ".")), 0);
  assert_int_equal(zmq_connect(sub, ep), 0);
  usleep(300000); /* the subscription reaches the publisher */
  return w->sub = sub;
}

/* ---- sbctl from the client host ---------------------------------------- */

/* Starts sbctl VERB ARGS... in the client host, output to <dir>/sbctl-<verb>.out. */
static pid_t sbctl_start(world_t *w, const char *verb, char *const args[]) {
  char bin[1024], log[128];
  snprintf(bin, sizeof bin, "%s/sbctl", sb_test_binary_dir());
  snprintf(log, sizeof log, "%s/sbctl-%s.out", w->dir, verb);
  char *argv[12] = {bin, (char *)verb};
  for (int i = 0; args[i] && i < 9; i++)
    argv[i + 2] = args[i];
  pid_t pid = sb_netns_spawn(w->ns, "client", log, argv);
  assert_true(pid > 0);
  return pid;
}

/* Waits for it: 0 when it exited 0; its output in out. */
static int sbctl_finish(world_t *w, const char *verb, pid_t pid, char *out, size_t cap) {
  int st = sb_netns_wait(w->ns, pid, ROUTED_MS);
  char path[128];
  snprintf(path, sizeof path, "%s/sbctl-%s.out", w->dir, verb);
  FILE *f = fopen(path, "r");
  size_t n = f ? fread(out, 1, cap - 1, f) : 0;
  out[n] = '\0';
  if (f)
    fclose(f);
  if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
    fprintf(stderr, "netns: sbctl %s: wait status %d, output:\n%s\n", verb, st, out);
  return WIFEXITED(st) && WEXITSTATUS(st) == 0 ? 0 : -1;
}

/* 0 once route has stored agent's state (its login went through). */
static int wait_agent(world_t *w, const char *agent) {
  char k[SB_KEY_MAX], suffix[96];
  snprintf(suffix, sizeof suffix, "agent:%s", agent);
  sb_key_tenant(k, sizeof k, TENANT, suffix);
  for (int64_t until = sb_now_ms() + ROUTED_MS; sb_now_ms() < until; usleep(50000)) {
    redisReply *r = redisCommand(w->rc, "EXISTS %s", k);
    int found = r && r->type == REDIS_REPLY_INTEGER && r->integer == 1;
    if (r)
      freeReplyObject(r);
    if (found)
      return 0;
  }
  return -1;
}

/* The CLI against the hosts, as an operator runs it from a desk: `tail
 * --host` follows notify's feed; `agent` logs an agent in with ingest and
 * notify on two different hosts (--publish, --feed; --host stays
 * 127.0.0.1, which has no route here); `publish --publish` sends one
 * message, which only that agent has room for, and the tail sees it
 * assigned to it; `stats --redis-url` reads the figures from the Redis
 * host. */
static void sbctl_across_hosts(world_t *w) {
  char host_n[64], pub[64], feed[64], url[96], out[8192];
  snprintf(host_n, sizeof host_n, "--host=%s", sb_netns_addr(w->ns, "notify"));
  snprintf(pub, sizeof pub, "--publish=tcp://%s:%d", sb_netns_addr(w->ns, "ingest"), SB_PORT_INGEST_ZMQ);
  snprintf(feed, sizeof feed, "--feed=tcp://%s:%d", sb_netns_addr(w->ns, "notify"), SB_PORT_NOTIFY_PUB);
  snprintf(url, sizeof url, "--redis-url=%s", w->redis_url);
  char *tail_args[] = {host_n, "--topic=" TENANT ".assigned", "--count=1", NULL};
  pid_t tail = sbctl_start(w, "tail", tail_args);
  char *agent_args[] = {pub, feed, "--tenant=" TENANT, "--agents=1", "--capacity=1", "--reply-ms=600000", NULL};
  pid_t agent = sbctl_start(w, "agent", agent_args);
  assert_int_equal(wait_agent(w, TENANT "-agent-01"), 0);
  usleep(1000000); /* the tail's and the agent's subscriptions reach the feed */
  char *pub_args[] = {pub, "--tenant=" TENANT, "--customer=cli-netns", "--text=Lost my bag on the way to Lisbon",
                      NULL};
  assert_int_equal(sbctl_finish(w, "publish", sbctl_start(w, "publish", pub_args), out, sizeof out), 0);
  assert_int_equal(sbctl_finish(w, "tail", tail, out, sizeof out), 0);
  printf("netns: sbctl tail: %.120s...\n", out);
  assert_non_null(strstr(out, "\"" TENANT "-agent-01\""));
  kill(agent, SIGTERM);
  assert_int_equal(sbctl_finish(w, "agent", agent, out, sizeof out), 0);
  printf("netns: sbctl agent: %s", out);
  assert_non_null(strstr(out, "\"assignments\":1,"));
  char *stats_args[] = {url, "--json", NULL};
  assert_int_equal(sbctl_finish(w, "stats", sbctl_start(w, "stats", stats_args), out, sizeof out), 0);
  cJSON *j = cJSON_Parse(out);
  const cJSON *t = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(j, "tenants"), TENANT);
  const cJSON *routed = cJSON_GetObjectItemCaseSensitive(t, "routed_messages");
  printf("netns: sbctl stats: routed_messages %g\n", cJSON_IsNumber(routed) ? routed->valuedouble : -1.0);
  assert_true(cJSON_IsNumber(routed));
  assert_int_equal((int)routed->valuedouble, ZMQ_MESSAGES + HTTP_MESSAGES + 1);
  cJSON_Delete(j);
}

/* ---- the test ----------------------------------------------------------- */

static void check_redis(world_t *w) {
  sbctl_stats_t s;
  int64_t until = sb_now_ms() + ROUTED_MS;
  do {
    memset(&s, 0, sizeof s);
    assert_int_equal(sbctl_view_read(w->rc, TENANT, &s), 0);
    if (s.routed_messages >= ZMQ_MESSAGES + HTTP_MESSAGES && sbctl_view_inflight(&s) == 0)
      break;
    usleep(50000);
  } while (sb_now_ms() < until);
  printf("netns: redis %s: routed %lld, assigned %lld, waiting %lld, sla armed %lld, dead letters %lld\n",
         w->redis_url, s.routed_messages, s.assigned, s.waiting, s.sla_armed, s.dead_letters);
  assert_int_equal(s.routed_messages, ZMQ_MESSAGES + HTTP_MESSAGES); /* each once */
  assert_int_equal(s.assigned, ZMQ_MESSAGES + HTTP_MESSAGES);
  assert_int_equal(s.waiting, 0);
  assert_int_equal(s.sla_armed, ZMQ_MESSAGES + HTTP_MESSAGES);
  assert_int_equal(s.dead_letters, 0);
  assert_int_equal(sbctl_view_inflight(&s), 0);
}

static void one_stage_per_host_routes_every_event_without_localhost(void **state) {
  world_t *w = *state;
  int64_t t0 = sb_now_ms();
  world_start(w);
  printf("netns: 7 hosts and 5 services up in %lld ms\n", (long long)(sb_now_ms() - t0));
  for (int i = 0; i < NSVC; i++)
    check_listeners(w, i);
  void *sub = subscribe(w);
  login_http(w); /* both agents before the first message: each is assigned at once */
  publish_zmq(w);
  publish_http(w);
  feed_t f = {0};
  for (int64_t until = sb_now_ms() + ROUTED_MS; f.assigned < ZMQ_MESSAGES + HTTP_MESSAGES && sb_now_ms() < until;)
    sb_testfeed_read(sub, 200, on_feed, &f);
  zmq_close(w->sub);
  w->sub = NULL;
  printf("netns: feed from %s: %d of %d events assigned\n", sb_netns_addr(w->ns, "notify"), f.assigned,
         ZMQ_MESSAGES + HTTP_MESSAGES);
  assert_int_equal(f.assigned, ZMQ_MESSAGES + HTTP_MESSAGES);
  assert_int_equal(f.foreign_agent, 0);
  check_redis(w);
  sbctl_across_hosts(w);
  for (int i = 0; i < NSVC; i++)
    assert_int_equal(readyz(w, &svcs[i]), 200);
  stop_services(w);
  printf("netns: whole run %lld ms\n", (long long)(sb_now_ms() - t0));
}

int main(void) {
  char why[256];
  if (!sb_netns_supported(why, sizeof why)) {
    printf("test_netns: skipped: %s\n", why);
    return 77;
  }
  int stale = sb_netns_sweep();
  if (stale)
    printf("netns: deleted %d stale sbn-* namespaces of earlier runs\n", stale);
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(one_stage_per_host_routes_every_event_without_localhost, world_setup,
                                      world_teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
