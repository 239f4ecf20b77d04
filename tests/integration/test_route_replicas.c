/*
 * Four sb-route replicas race on one tenant. The test plays the stages
 * around them: like classify it stores each envelope and its lease in
 * Redis and PUSHes it (ZeroMQ spreads the messages over the four
 * replicas), like sla-timer it PULLs their output. Logins race with new
 * conversations, then every assignment is closed as soon as it is seen,
 * so closes on different replicas pull from the same waiting line at the
 * same time. Must hold: no conversation is ever assigned twice, no agent
 * ever holds more than its capacity, and every conversation is served.
 */
#include "sb_testutil.h"

#include "sb_envelope.h"
#include "sb_keys.h"
#include "sb_redisd.h"
#include "sb_time.h"
#include "sbctl_proc.h"
#include "sbctl_view.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zmq.h>

#define REPLICAS 4
#define AGENTS 40
#define CAPACITY 3
#define CONVERSATIONS 1000
#define MESSAGES 1500
#define P "sb:{t:acme}:"

static sb_redisd_t *redisd;
static redisContext *rc;
static pid_t pids[REPLICAS];
static int admin_ports[REPLICAS];
static void *zctx, *push, *sink;
static char dir[256];
static int seq;

/* assignments seen per conversation; output keys already counted */
static int assigned[CONVERSATIONS];
static char (*seen)[SB_EVENT_KEY_LEN + 1];
static size_t nseen;

static pid_t spawn_route(int i, int listen_port, int admin_port, int sink_port) {
  char bin[512], tenants[300], listen[64], next[64], admin[16], log[300];
  snprintf(bin, sizeof bin, "%s/sb-route", sb_test_binary_dir());
  snprintf(tenants, sizeof tenants, "%s/tenants.json", dir);
  snprintf(listen, sizeof listen, "tcp://127.0.0.1:%d", listen_port);
  snprintf(next, sizeof next, "tcp://127.0.0.1:%d", sink_port);
  snprintf(admin, sizeof admin, "%d", admin_port);
  snprintf(log, sizeof log, "%s/route-%d.log", dir, i);
  pid_t pid = fork();
  if (pid == 0) {
    int fd = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    dup2(fd, 1);
    dup2(fd, 2);
    execl(bin, bin, "--redis-url", sb_redisd_url(redisd), "--tenants", tenants, "--listen", listen,
          "--next", next, "--admin-port", admin, "--log-level", "warn", (char *)NULL);
    _exit(127);
  }
  return pid;
}

static int setup(void **state) {
  (void)state;
  redisd = sb_redisd_start(NULL);
  if (!redisd || !(rc = sbctl_view_connect(sb_redisd_url(redisd))))
    return -1;
  snprintf(dir, sizeof dir, "%s", sb_redisd_dir(redisd));
  char path[300];
  snprintf(path, sizeof path, "%s/tenants.json", dir);
  FILE *f = fopen(path, "w");
  fputs("{\"tenants\": [{\"id\": \"acme\", \"route\": {\"queues\": [{\"id\": \"chat\","
        " \"strategy\": \"least_occupied\"}]}},"
        " {\"id\": \"offers\", \"route\": {\"queues\": [{\"id\": \"chat\","
        "  \"offer\": {\"timeout_s\": 1, \"hops\": 5, \"away_on_timeout\": true}}]}}]}\n", f);
  fclose(f);
  zctx = zmq_ctx_new();
  push = zmq_socket(zctx, ZMQ_PUSH);
  sink = zmq_socket(zctx, ZMQ_PULL);
  int sink_port = sb_test_free_port();
  char ep[64];
  snprintf(ep, sizeof ep, "tcp://127.0.0.1:%d", sink_port);
  if (zmq_bind(sink, ep))
    return -1;
  for (int i = 0; i < REPLICAS; i++) {
    int lp = sb_test_free_port(), ap = sb_test_free_port();
    while (ap == lp)
      ap = sb_test_free_port();
    admin_ports[i] = ap;
    pids[i] = spawn_route(i, lp, ap, sink_port);
    if (pids[i] < 0 || sbctl_proc_wait_ready(pids[i], ap, 15000))
      return -1;
    snprintf(ep, sizeof ep, "tcp://127.0.0.1:%d", lp);
    zmq_connect(push, ep);
  }
  usleep(200000); /* every PUSH connection up, so sends spread over all four */
  seen = calloc(MESSAGES * 4, sizeof *seen);
  return 0;
}

static int teardown(void **state) {
  (void)state;
  sbctl_proc_stop(pids, REPLICAS, 5000);
  zmq_close(push);
  zmq_close(sink);
  zmq_ctx_term(zctx);
  redisFree(rc);
  sb_redisd_stop(&redisd);
  free(seen);
  return 0;
}

/* Stores the envelope and its route lease, then sends it, as classify
 * does. */
static const char *tenant = "acme";

static void hand_over(sb_envelope_t *env) {
  char id[24], key[SB_EVENT_KEY_LEN + 1];
  snprintf(id, sizeof id, "e%d", ++seq);
  sb_event_key("/tests/replicas", id, key);
  env->id = id;
  env->source = "/tests/replicas";
  env->type = env->agent ? "com.switchboard.agent" : "com.switchboard.interaction";
  env->tenant = (char *)tenant;
  env->key = key;
  env->time_ms = sb_now_ms();
  size_t len = switchboard__v1__envelope__get_packed_size(env);
  uint8_t *blob = malloc(len);
  switchboard__v1__envelope__pack(env, blob);
  freeReplyObject(redisCommand(rc, "SET sb:{t:%s}:ev:%s %b EX 3600", tenant, key, blob, len));
  freeReplyObject(redisCommand(rc, "ZADD sb:{t:%s}:lease:route %lld %s", tenant,
                               (long long)sb_now_ms() + 600000, key));
  assert_int_equal(zmq_send(push, blob, len, 0), (int)len);
  free(blob);
}

static void send_message(int conv) {
  char id[16], customer[16];
  snprintf(id, sizeof id, "conv-%d", conv);
  snprintf(customer, sizeof customer, "cust-%d", conv);
  Switchboard__V1__Interaction in = SWITCHBOARD__V1__INTERACTION__INIT;
  in.channel = SWITCHBOARD__V1__CHANNEL__CHANNEL_WEBCHAT;
  in.customer = customer;
  in.text = "hello";
  sb_envelope_t env = SWITCHBOARD__V1__ENVELOPE__INIT;
  env.body_case = SWITCHBOARD__V1__ENVELOPE__BODY_INTERACTION;
  env.interaction = &in;
  env.conversation = id;
  hand_over(&env);
}

static void send_agent(Switchboard__V1__AgentAction action, const char *agent, const char *conv) {
  Switchboard__V1__AgentEvent a = SWITCHBOARD__V1__AGENT_EVENT__INIT;
  a.action = action;
  a.agent = (char *)agent;
  a.conversation = (char *)(conv ? conv : "");
  a.capacity = CAPACITY;
  sb_envelope_t env = SWITCHBOARD__V1__ENVELOPE__INIT;
  env.body_case = SWITCHBOARD__V1__ENVELOPE__BODY_AGENT;
  env.agent = &a;
  hand_over(&env);
}

/* One new assignment seen: counted, and (when closing) closed at once. */
static void on_assignment(const char *conv, const char *agent, int close_now, int *closes) {
  int c = atoi(conv + 5);
  assert_true(c >= 0 && c < CONVERSATIONS);
  assigned[c]++;
  if (close_now) {
    send_agent(SWITCHBOARD__V1__AGENT_ACTION__AGENT_CLOSE, agent, conv);
    (*closes)++;
  }
}

/* Reads the replicas' output for up to ms; returns how many distinct
 * inputs it accounted for. Route's sweeper re-sends what this sink never
 * acknowledges: an output key seen before is skipped. */
static int collect(int ms, int close_now, int *closes, int *closed, int want) {
  int got = 0;
  int64_t until = sb_now_ms() + ms;
  while (sb_now_ms() < until && got < want) {
    zmq_pollitem_t it = {sink, 0, ZMQ_POLLIN, 0};
    if (zmq_poll(&it, 1, 100) <= 0)
      continue;
    zmq_msg_t m;
    zmq_msg_init(&m);
    zmq_msg_recv(&m, sink, 0);
    sb_envelope_t *env = sb_envelope_unpack(zmq_msg_data(&m), zmq_msg_size(&m));
    zmq_msg_close(&m);
    assert_non_null(env);
    assert_non_null(env->routing);
    int dup = 0;
    for (size_t i = 0; i < nseen && !dup; i++)
      dup = strcmp(seen[i], env->key) == 0;
    if (!dup) {
      snprintf(seen[nseen++], sizeof seen[0], "%s", env->key);
      got++;
      const Switchboard__V1__RoutingDecision *d = env->routing;
      if (d->outcome == SWITCHBOARD__V1__ROUTE_OUTCOME__ROUTE_ASSIGNED)
        on_assignment(d->conversation, d->agent, close_now, closes);
      for (size_t i = 0; i < d->n_pulled; i++)
        on_assignment(d->pulled[i]->conversation, d->pulled[i]->agent, close_now, closes);
      if (d->outcome == SWITCHBOARD__V1__ROUTE_OUTCOME__ROUTE_AGENT_OK && strcmp(d->reason, "closed") == 0)
        (*closed)++;
      assert_int_not_equal(d->outcome, SWITCHBOARD__V1__ROUTE_OUTCOME__ROUTE_REJECTED);
    }
    sb_envelope_free(env);
  }
  return got;
}

/* sb_stage_batches_total of the replica on this admin port (GET /metrics) */
static long long batches_of(int port) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  assert_int_equal(connect(fd, (struct sockaddr *)&a, sizeof a), 0);
  const char req[] = "GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
  assert_int_equal(write(fd, req, sizeof req - 1), (ssize_t)(sizeof req - 1));
  static char buf[1 << 20];
  size_t len = 0;
  ssize_t n;
  while ((n = read(fd, buf + len, sizeof buf - 1 - len)) > 0)
    len += (size_t)n;
  buf[len] = '\0';
  close(fd);
  const char *m = strstr(buf, "\nsb_stage_batches_total{");
  assert_non_null(m);
  return atoll(strchr(m, '}') + 1);
}

static long long hget(const char *key, const char *field) {
  redisReply *r = redisCommand(rc, "HGET %s %s", key, field);
  long long v = r->str ? atoll(r->str) : -1;
  freeReplyObject(r);
  return v;
}

/* Every agent's free units match the conversations it holds in Redis. */
static void capacity_holds(void) {
  int held[AGENTS] = {0};
  for (int c = 0; c < CONVERSATIONS; c++) {
    redisReply *r = redisCommand(rc, "HMGET " P "conv:conv-%d state agent", c);
    if (r->element[0]->str && strcmp(r->element[0]->str, "assigned") == 0)
      held[atoi(r->element[1]->str + 6)]++;
    freeReplyObject(r);
  }
  for (int a = 0; a < AGENTS; a++) {
    char key[64];
    snprintf(key, sizeof key, P "agent:agent-%d", a);
    assert_true(held[a] <= CAPACITY);
    assert_int_equal(hget(key, "free"), CAPACITY - held[a]);
  }
}

static void four_replicas_never_assign_twice_nor_beyond_capacity(void **state) {
  (void)state;
  int closes = 0, closed = 0, inputs = 0;
  /* logins race with the first messages of a thousand conversations */
  for (int i = 0, a = 0; i < MESSAGES; i++) {
    send_message(i < CONVERSATIONS ? i : (i * 7) % CONVERSATIONS);
    inputs++;
    if (i % 25 == 0 && a < AGENTS) {
      char agent[16];
      snprintf(agent, sizeof agent, "agent-%d", a++);
      send_agent(SWITCHBOARD__V1__AGENT_ACTION__AGENT_LOGIN, agent, NULL);
      inputs++;
    }
  }
  assert_int_equal(collect(60000, 0, &closes, &closed, inputs), inputs);
  capacity_holds();
  int first = 0;
  for (int c = 0; c < CONVERSATIONS; c++)
    first += assigned[c];
  assert_int_equal(first, AGENTS * CAPACITY); /* every unit taken, no more */
  /* now close everything assigned, as it is seen: the closes on four
   * replicas pull from one waiting line */
  for (int c = 0; c < CONVERSATIONS; c++)
    if (assigned[c]) {
      redisReply *r = redisCommand(rc, "HGET " P "conv:conv-%d agent", c);
      char conv[16];
      snprintf(conv, sizeof conv, "conv-%d", c);
      send_agent(SWITCHBOARD__V1__AGENT_ACTION__AGENT_CLOSE, r->str, conv);
      closes++;
      freeReplyObject(r);
    }
  int64_t until = sb_now_ms() + 90000;
  while (closed < CONVERSATIONS && sb_now_ms() < until)
    collect(1000, 1, &closes, &closed, closes - closed);
  printf("replicas: %d conversations, %d closes, %d closed\n", CONVERSATIONS, closes, closed);
  for (int c = 0; c < CONVERSATIONS; c++)
    if (assigned[c] != 1)
      fail_msg("conversation %d was assigned %d times", c, assigned[c]);
  assert_int_equal(closed, CONVERSATIONS);
  capacity_holds(); /* all back: free == capacity */
  assert_int_equal(hget(P "stats", "assigned"), CONVERSATIONS);
  assert_int_equal(hget(P "stats", "waiting"), 0);
  for (int i = 0; i < REPLICAS; i++) /* all four took part */
    assert_true(batches_of(admin_ports[i]) > 0);
}

/* The replicas' clock: an offer nobody accepts moves on by itself, once
 * per expiry although four replicas race to expire it, as a decision
 * handed on to sla-timer. Two agents, neither accepts: the offer goes from
 * the first to the second, then (no one left to offer it to) waits. */
static void an_offer_not_accepted_moves_on_once(void **state) {
  (void)state;
  tenant = "offers";
  send_agent(SWITCHBOARD__V1__AGENT_ACTION__AGENT_LOGIN, "slow", NULL);
  send_agent(SWITCHBOARD__V1__AGENT_ACTION__AGENT_LOGIN, "slower", NULL);
  usleep(300000); /* both logged in before the message */
  send_message(7);
  int timeouts = 0;
  char first[16] = "";
  int64_t until = sb_now_ms() + 5000; /* offers of 1 s, ticks of 250 ms */
  while (sb_now_ms() < until) {
    zmq_pollitem_t it = {sink, 0, ZMQ_POLLIN, 0};
    if (zmq_poll(&it, 1, 100) <= 0)
      continue;
    zmq_msg_t m;
    zmq_msg_init(&m);
    zmq_msg_recv(&m, sink, 0);
    sb_envelope_t *env = sb_envelope_unpack(zmq_msg_data(&m), zmq_msg_size(&m));
    zmq_msg_close(&m);
    assert_non_null(env);
    const Switchboard__V1__RoutingDecision *d = env->routing;
    if (strcmp(env->tenant, "offers") == 0 && d && env->attempt == 0) {
      if (d->outcome == SWITCHBOARD__V1__ROUTE_OUTCOME__ROUTE_ASSIGNED && !first[0]) {
        assert_true(d->offer_expires_ms > 0);
        snprintf(first, sizeof first, "%s", d->agent);
      } else if (strcmp(env->type, "com.switchboard.route.offer_timeout") == 0) {
        timeouts++;
        assert_string_equal(d->reason, "reoffer_after_timeout");
        if (timeouts == 1) { /* to the other agent */
          assert_int_equal(d->outcome, SWITCHBOARD__V1__ROUTE_OUTCOME__ROUTE_ASSIGNED);
          assert_string_not_equal(d->agent, first);
        } else { /* both tried: it waits */
          assert_int_equal(d->outcome, SWITCHBOARD__V1__ROUTE_OUTCOME__ROUTE_QUEUED);
        }
      }
    }
    sb_envelope_free(env);
  }
  assert_true(first[0]);
  assert_int_equal(timeouts, 2);
  redisReply *r = redisCommand(rc, "HGET sb:{t:offers}:stats offer_timeout");
  assert_int_equal(atoi(r->str), 2);
  freeReplyObject(r);
  static const char *const agents[] = {"slow", "slower"};
  for (int i = 0; i < 2; i++) { /* both let it expire: away, their unit back */
    r = redisCommand(rc, "HMGET sb:{t:offers}:agent:%s status free", agents[i]);
    assert_string_equal(r->element[0]->str, "away");
    assert_int_equal(atoi(r->element[1]->str), CAPACITY);
    freeReplyObject(r);
  }
  tenant = "acme";
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(four_replicas_never_assign_twice_nor_beyond_capacity),
      cmocka_unit_test(an_offer_not_accepted_moves_on_once),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
