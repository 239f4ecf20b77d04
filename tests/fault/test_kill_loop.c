/*
 * Fault loop: under a steady publishing load, every service (ingest,
 * classify, route, sla-timer, notify) is killed with SIGKILL and restarted,
 * in turn, ROUNDS times each, 300-800 ms apart. Then the bus drains and:
 * - every acknowledged event was routed exactly once: its key appears once
 *   in notify's feed history of the routing kinds (assigned, queued,
 *   routed), and route's routed count equals the acknowledged count;
 * - every SLA timer fired at most once: no key twice in the sla.warning /
 *   sla.breach histories, and sla-timer's fire counts equal them;
 * - every webhook delivery was delivered or dead-lettered: nothing left
 *   due, delivered + dead = enqueued, and the receiver saw every delivered
 *   event id.
 * The publisher resends a request unanswered for RESEND_MS (ingest may die
 * holding it); a resent event that was durable is answered duplicate.
 * ROUNDS can be lowered with SB_KILL_LOOP_ROUNDS (default 20).
 */
#include "sb_hookrecv.h"
#include "sb_testutil.h"
#include "sb_teststack.h"

#include "sb_keys.h"
#include "sb_time.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <zmq.h>

#define ROUNDS_DEFAULT 20
#define RATE_PER_S 60 /* modest: the machine also runs the five services and Redis */
#define GAP_MIN_MS 300
#define GAP_SPREAD_MS 500
#define RESEND_MS 3000
#define CUSTOMERS 150
#define TENANT "loop"
#define DRAIN_MS 180000

/* Every kind, service_level included (sla-timer publishes one at each
 * --service-level-s boundary of the wall clock: notify once crashed on it). */
#define HOOK_KINDS "\"*\""

static const char *const stages[] = {"ingest", "classify", "route", "sla-timer", "notify"};
#define NSTAGES (sizeof stages / sizeof stages[0])

typedef struct {
  sb_teststack_t *st;
  long long queued; /* events handed to the publisher */
  uint64_t seed;
} loop_t;

static uint64_t next_rand(loop_t *l) {
  l->seed = l->seed * 6364136223846793005ULL + 1442695040888963407ULL;
  return l->seed >> 33;
}

static void queue_one(loop_t *l) {
  char id[48], customer[32];
  snprintf(id, sizeof id, "kl-%lld", l->queued);
  snprintf(customer, sizeof customer, "c-%lld", l->queued % CUSTOMERS);
  sb_envelope_t *env = sb_teststack_message(l->st, TENANT, id, "whatsapp", customer,
                                            "Where is my bag? It did not arrive in Lisbon.");
  assert_non_null(env);
  sbctl_client_queue(sb_teststack_client(l->st), env);
  l->queued++;
}

/* Publishes at RATE_PER_S for ms, pumping the client. */
static void load_for(loop_t *l, int ms) {
  sbctl_client_t *c = sb_teststack_client(l->st);
  int64_t start = sb_now_ms(), end = start + ms;
  static int64_t owed_from;
  if (!owed_from)
    owed_from = start;
  for (int64_t now = start; now < end; now = sb_now_ms()) {
    while ((now - owed_from) * RATE_PER_S >= 1000) { /* one event per 1000/RATE ms */
      queue_one(l);
      owed_from += 1000 / RATE_PER_S;
    }
    sbctl_client_pump(c);
    zmq_pollitem_t it = {sbctl_client_socket(c), 0, ZMQ_POLLIN, 0};
    if (zmq_poll(&it, 1, 10) > 0)
      sbctl_client_on_readable(c);
  }
}

static int rounds(void) {
  const char *v = getenv("SB_KILL_LOOP_ROUNDS");
  int n = v ? atoi(v) : ROUNDS_DEFAULT;
  return n > 0 ? n : ROUNDS_DEFAULT;
}

static redisReply *cmd(sb_teststack_t *st, const char *fmt, const char *a) {
  redisReply *r = redisCommand(sb_teststack_redis(st), fmt, a);
  assert_non_null(r);
  return r;
}

static long long stat_field(sb_teststack_t *st, const char *field) {
  char k[SB_KEY_MAX];
  sb_key_tenant(k, sizeof k, TENANT, "stats");
  redisReply *r = redisCommand(sb_teststack_redis(st), "HGET %s %s", k, field);
  assert_non_null(r);
  long long v = r->type == REDIS_REPLY_STRING ? atoll(r->str) : 0;
  freeReplyObject(r);
  return v;
}

/* Adds the "key" field of every entry of the tenant's feed:<kind> history
 * to the Redis set `set`; returns the number of entries. */
static long long collect_feed(sb_teststack_t *st, const char *kind, const char *set) {
  char k[SB_KEY_MAX], suffix[64];
  snprintf(suffix, sizeof suffix, "feed:%s", kind);
  sb_key_tenant(k, sizeof k, TENANT, suffix);
  redisReply *r = cmd(st, "XRANGE %s - +", k);
  assert_int_equal(r->type, REDIS_REPLY_ARRAY);
  long long n = 0;
  for (size_t i = 0; i < r->elements; i++) {
    redisReply *fields = r->element[i]->element[1];
    for (size_t f = 0; f + 1 < fields->elements; f += 2)
      if (strcmp(fields->element[f]->str, "key") == 0) {
        freeReplyObject(redisCommand(sb_teststack_redis(st), "SADD %s %s", set, fields->element[f + 1]->str));
        n++;
      }
  }
  freeReplyObject(r);
  return n;
}

static long long scard(sb_teststack_t *st, const char *set) {
  redisReply *r = cmd(st, "SCARD %s", set);
  long long v = r->integer;
  freeReplyObject(r);
  return v;
}

static long long tenant_int(sb_teststack_t *st, const char *verb, const char *suffix) {
  char k[SB_KEY_MAX], fmt[32];
  sb_key_tenant(k, sizeof k, TENANT, suffix);
  snprintf(fmt, sizeof fmt, "%s %%s", verb);
  redisReply *r = cmd(st, fmt, k);
  long long v = r->type == REDIS_REPLY_INTEGER ? r->integer : -1;
  freeReplyObject(r);
  return v;
}

/* Waits until every SLA timer has fired and every webhook left its queue. */
static int wait_quiet(sb_teststack_t *st, int ms) {
  int64_t until = sb_now_ms() + ms;
  while (sb_now_ms() < until) {
    if (tenant_int(st, "ZCARD", "timers") == 0 && tenant_int(st, "ZCARD", "hooks:due:crm") == 0)
      return 0;
    usleep(200000);
  }
  return -1;
}

/* Distinct event ids the receiver answered 200 for. */
static long long received_ids(sb_teststack_t *st, sb_hookrecv_t *rcv) {
  cJSON *all = sb_hookrecv_received(rcv, "/loop");
  assert_non_null(all);
  const cJSON *req;
  cJSON_ArrayForEach(req, all) {
    const cJSON *id = cJSON_GetObjectItem(req, "event_id"), *status = cJSON_GetObjectItem(req, "status");
    if (cJSON_IsString(id) && cJSON_IsNumber(status) && status->valueint == 200)
      freeReplyObject(redisCommand(sb_teststack_redis(st), "SADD test:hooks %s", id->valuestring));
  }
  cJSON_Delete(all);
  return scard(st, "test:hooks");
}

static void kill_and_restart(loop_t *l, const char *stage) {
  load_for(l, GAP_MIN_MS + (int)(next_rand(l) % GAP_SPREAD_MS));
  int status = sb_teststack_kill(l->st, stage, SIGKILL);
  if (!(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL)) /* it died by itself: say how */
    fprintf(stderr, "kill loop: %s was not running: wait status %d (exit %d, signal %d)\n", stage, status,
            WIFEXITED(status) ? WEXITSTATUS(status) : -1, WIFSIGNALED(status) ? WTERMSIG(status) : -1);
  assert_true(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
  assert_int_equal(sb_teststack_restart(l->st, stage), 0);
}

static void every_stage_killed_in_turn_loses_and_repeats_nothing(void **state) {
  (void)state;
  sb_hookrecv_t *rcv = sb_hookrecv_start(0);
  assert_non_null(rcv);
  char json[1024];
  snprintf(json, sizeof json,
           "{\"tenants\":[{\"id\":\"" TENANT "\",\"sla\":{\"first_response_ms\":1500,\"warn_percent\":50},"
           "\"notify\":{\"webhooks\":[{\"id\":\"crm\",\"url\":\"http://127.0.0.1:%d/loop\","
           "\"secret\":\"env:SB_TEST_HOOK_SECRET\",\"events\":[" HOOK_KINDS "]}],"
           "\"retry\":{\"base_ms\":100,\"max_ms\":1000,\"jitter\":\"none\"},\"breaker\":{\"failures\":1000}}}]}",
           sb_hookrecv_port(rcv));
  setenv("SB_TEST_HOOK_SECRET", "whsec-loop", 1);
  setenv("SB_FEED_HISTORY", "1000000", 1); /* notify keeps every feed entry: the record we count */
  loop_t l = {.st = sb_teststack_start(json, "everysec"), .seed = (uint64_t)getpid()};
  assert_non_null(l.st);
  sbctl_client_t *c = sb_teststack_client(l.st);
  sbctl_client_resend_after(c, RESEND_MS);
  sbctl_client_queue(c, sb_teststack_agent_event(l.st, TENANT, "login-1", "login", "agent-1", NULL, 20));
  assert_int_equal(sb_teststack_publish_all(l.st, 10000), 0);

  int64_t t0 = sb_now_ms();
  int n = rounds();
  for (int r = 0; r < n; r++)
    for (size_t s = 0; s < NSTAGES; s++)
      kill_and_restart(&l, stages[s]);
  int64_t t_kills = sb_now_ms() - t0;
  assert_int_equal(sb_teststack_publish_all(l.st, 60000), 0);
  sbctl_client_stats_t cs;
  sbctl_client_stats(c, &cs);
  long long acknowledged = (long long)(cs.ok + cs.duplicate) - 1; /* minus the login */
  assert_int_equal(cs.invalid + cs.unknown_tenant, 0);
  assert_int_equal(acknowledged, l.queued); /* each event answered once, all accepted */

  sbctl_stats_t s;
  int drained = sb_teststack_wait_drained(l.st, acknowledged, DRAIN_MS, &s);
  int quiet = wait_quiet(l.st, 60000);

  freeReplyObject(cmd(l.st, "DEL %s", "test:routed"));
  freeReplyObject(cmd(l.st, "DEL %s", "test:hooks"));
  long long routed_entries = collect_feed(l.st, "assigned", "test:routed") +
                             collect_feed(l.st, "queued", "test:routed") +
                             collect_feed(l.st, "routed", "test:routed");
  long long routed_distinct = scard(l.st, "test:routed");
  freeReplyObject(cmd(l.st, "DEL %s", "test:sla"));
  long long warn_entries = collect_feed(l.st, "sla.warning", "test:sla");
  long long warn_distinct = scard(l.st, "test:sla");
  freeReplyObject(cmd(l.st, "DEL %s", "test:sla"));
  long long breach_entries = collect_feed(l.st, "sla.breach", "test:sla");
  long long breach_distinct = scard(l.st, "test:sla");
  long long enqueued = stat_field(l.st, "hooks_enqueued"), delivered = stat_field(l.st, "hooks_delivered"),
            dead = stat_field(l.st, "hooks_dead"), seen = received_ids(l.st, rcv);

  printf("kill loop: %d rounds x %zu services = %d kills in %.1f s, %lld events published\n", n, NSTAGES,
         n * (int)NSTAGES, (double)t_kills / 1000.0, l.queued);
  printf("kill loop: acknowledged %lld / routed %lld / duplicated effects %lld / lost %lld "
         "(resent %llu, answered duplicate %llu)\n",
         acknowledged, routed_distinct, routed_entries - routed_distinct, acknowledged - routed_distinct,
         (unsigned long long)cs.resent, (unsigned long long)cs.duplicate);
  printf("kill loop: sla armed %lld, warnings %lld (fired %lld), breaches %lld (fired %lld); "
         "webhooks enqueued %lld, delivered %lld, dead %lld, ids received %lld\n",
         s.sla_armed, warn_distinct, s.sla_warning, breach_distinct, s.sla_breach, enqueued, delivered, dead,
         seen);

  assert_int_equal(drained, 0);
  assert_int_equal(quiet, 0);
  assert_int_equal(s.routed_messages, acknowledged);
  assert_int_equal(routed_distinct, acknowledged); /* none lost */
  assert_int_equal(routed_entries, routed_distinct); /* none routed twice */
  assert_true(s.assigned <= 20);                     /* capacity held through restarts */
  assert_int_equal(warn_entries, warn_distinct);     /* each timer fired at most once */
  assert_int_equal(breach_entries, breach_distinct);
  assert_int_equal(s.sla_warning, warn_distinct);
  assert_int_equal(s.sla_breach, breach_distinct);
  assert_true(s.sla_breach > 0 && s.sla_breach <= s.sla_armed);
  assert_true(enqueued > acknowledged);               /* a webhook per routed event, and more */
  assert_int_equal(delivered + dead, enqueued);       /* each delivered or dead-lettered */
  assert_int_equal(tenant_int(l.st, "LLEN", "hooks:dlq"), dead);
  assert_int_equal(seen, delivered);                  /* the receiver has every delivered one */
  sb_teststack_stop(&l.st);
  sb_hookrecv_stop(&rcv);
  unsetenv("SB_FEED_HISTORY");
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(every_stage_killed_in_turn_loses_and_repeats_nothing),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
