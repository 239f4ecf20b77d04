/*
 * test_spike_incident: spike incidents end to end on a real stack with two
 * classify replicas. ingest is restarted with both replicas as its --next,
 * so ZeroMQ spreads the traffic over them (each sees about half). Tenant
 * "spk" gets a steady trickle of "refund" and "delay" messages for a few
 * 1 s buckets (its baselines), then a burst of "refund"; tenant "calm"
 * gets the same trickle all along. Asserted:
 *   - exactly one Incident (spike_volume, key "refund") reaches notify's
 *     feed on "spk.incident", with observed > baseline, the supervisor
 *     alert set and the id "spike_volume:refund:<bucket start>" (a
 *     multiple of the bucket), though both replicas opened it; no incident
 *     id is published twice; the tenant's stats count each once;
 *   - burst messages carry Classification.spike (stored envelopes), only
 *     with ids that were published; trickle messages before it carry none;
 *   - "calm" never raises an incident;
 *   - sb_classify_spike_incidents_total: each replica opened it (so the
 *     single event is the de-duplication's doing).
 */
#include "sb_testutil.h"
#include "sb_teststack.h"

#include "sbctl_proc.h"
#include "sb_envelope.h"
#include "sb_service.h"
#include "sb_time.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <zmq.h>

#define INTENTS                                                                                              \
  "\"intents\":[{\"name\":\"refund\",\"keywords\":{\"*\":[\"refund\"]}},"                                    \
  "{\"name\":\"delay\",\"keywords\":{\"*\":[\"delayed\"]}}],"                                                \
  "\"spike\":{\"bucket_s\":1,\"warmup_buckets\":3,\"min_count\":8}"
#define TENANTS                                                                                              \
  "{\"tenants\":[{\"id\":\"spk\",\"classify\":{" INTENTS "}},{\"id\":\"calm\",\"classify\":{" INTENTS "}}]}"
#define BUCKET_MS 1000
#define WARM_BUCKETS 5
#define TRICKLE 3 /* per intent, tenant and bucket */
#define BURST 40
#define SEEN_MAX 16
#define READY_MS 10000

typedef struct {
  sb_envelope_t *ev[SEEN_MAX];
  int n, calm;
} feed_t;

/* The second classify replica and ingest spreading over both: pids. */
typedef struct {
  pid_t ingest, classify_b;
  int b_admin;
} replicas_t;

static pid_t spawn(sb_teststack_t *st, const char *service, const char *const *env) {
  char url[256], tenants[512];
  assert_true(sb_test_child_pid("sb-route", "SB_REDIS_URL", url, sizeof url) > 0);
  assert_true(sb_test_child_pid("sb-route", "SB_TENANTS", tenants, sizeof tenants) > 0);
  sbctl_proc_env_t e = {sb_test_binary_dir(), sb_teststack_dir(st), url, tenants, sb_teststack_offset(st)};
  for (size_t i = 0; env[i]; i += 2)
    setenv(env[i], env[i + 1], 1); /* inherited at fork */
  pid_t pid = sbctl_proc_spawn(&e, service);
  for (size_t i = 0; env[i]; i += 2)
    unsetenv(env[i]);
  assert_true(pid > 0);
  return pid;
}

static void start_replicas(sb_teststack_t *st, replicas_t *r) {
  int off = sb_teststack_offset(st), listen_port = sb_test_free_port();
  r->b_admin = sb_test_free_port();
  assert_true(listen_port > 0 && r->b_admin > 0 && listen_port != r->b_admin);
  char listen[64], admin[16], next[160];
  snprintf(listen, sizeof listen, "tcp://127.0.0.1:%d", listen_port);
  snprintf(admin, sizeof admin, "%d", r->b_admin);
  const char *benv[] = {"SB_LISTEN", listen, "SB_ADMIN_PORT", admin, NULL};
  r->classify_b = spawn(st, "classify", benv);
  assert_int_equal(sbctl_proc_wait_ready(r->classify_b, r->b_admin, READY_MS), 0);
  assert_true(sb_teststack_kill(st, "ingest", SIGTERM) >= 0);
  snprintf(next, sizeof next, "tcp://127.0.0.1:%d,%s", SB_PORT_CLASSIFY_IN + off, listen);
  const char *ienv[] = {"SB_NEXT", next, NULL};
  r->ingest = spawn(st, "ingest", ienv);
  assert_int_equal(sbctl_proc_wait_ready(r->ingest, SB_PORT_ADMIN_INGEST + off, READY_MS), 0);
}

static void stop_replicas(replicas_t *r) {
  pid_t pids[] = {r->ingest, r->classify_b};
  for (size_t i = 0; i < 2; i++) {
    kill(pids[i], SIGTERM);
    int status = 0;
    assert_int_equal(waitpid(pids[i], &status, 0), pids[i]);
    assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0); /* ASan reports fail it */
  }
}

static void read_feed(void *sub, feed_t *f, int ms) {
  int64_t until = sb_now_ms() + ms;
  while (sb_now_ms() < until) {
    zmq_pollitem_t it = {sub, 0, ZMQ_POLLIN, 0};
    if (zmq_poll(&it, 1, 20) <= 0)
      continue;
    zmq_msg_t t, b;
    zmq_msg_init(&t);
    zmq_msg_init(&b);
    zmq_msg_recv(&t, sub, 0);
    zmq_msg_recv(&b, sub, 0);
    if (zmq_msg_size(&t) == strlen("calm.incident")) {
      f->calm++;
    } else {
      assert_int_equal(zmq_msg_size(&t), strlen("spk.incident"));
      assert_memory_equal(zmq_msg_data(&t), "spk.incident", zmq_msg_size(&t));
      sb_envelope_t *env = sb_envelope_unpack(zmq_msg_data(&b), zmq_msg_size(&b));
      assert_non_null(env);
      assert_int_equal(env->body_case, SWITCHBOARD__V1__ENVELOPE__BODY_INCIDENT);
      assert_true(f->n < SEEN_MAX);
      f->ev[f->n++] = env;
    }
    zmq_msg_close(&t);
    zmq_msg_close(&b);
  }
}

/* Sleeps to the start of the next wall-clock bucket. */
static void next_bucket(void) {
  int64_t now = sb_now_ms();
  usleep((useconds_t)((BUCKET_MS - now % BUCKET_MS) * 1000 + 20000));
}

static void trickle(sb_teststack_t *st, int bucket) {
  char id[64];
  for (int i = 0; i < TRICKLE; i++) {
    for (int t = 0; t < 2; t++) {
      const char *tenant = t ? "calm" : "spk";
      snprintf(id, sizeof id, "%s-r-%d-%d", tenant, bucket, i);
      sbctl_client_queue(sb_teststack_client(st),
                         sb_teststack_message(st, tenant, id, "x", "@ann", "please refund my ticket"));
      snprintf(id, sizeof id, "%s-d-%d-%d", tenant, bucket, i);
      sbctl_client_queue(sb_teststack_client(st),
                         sb_teststack_message(st, tenant, id, "x", "@bob", "is my flight delayed"));
    }
  }
  assert_int_equal(sb_teststack_publish_all(st, 5000), 0);
}

static void burst(sb_teststack_t *st) {
  char id[64];
  for (int i = 0; i < BURST; i++) {
    snprintf(id, sizeof id, "spk-burst-%d", i);
    sbctl_client_queue(sb_teststack_client(st),
                       sb_teststack_message(st, "spk", id, "x", "@crowd", "please refund my ticket"));
  }
  assert_int_equal(sb_teststack_publish_all(st, 5000), 0);
}

static const Switchboard__V1__Incident *find_incident(const feed_t *f, const char *kind, const char *key, int *count) {
  const Switchboard__V1__Incident *found = NULL;
  *count = 0;
  for (int i = 0; i < f->n; i++) {
    const Switchboard__V1__Incident *in = f->ev[i]->incident;
    if (!strcmp(in->kind, kind) && !strcmp(in->key, key))
      found = in, (*count)++;
  }
  return found;
}

static int published(const feed_t *f, const char *id) {
  for (int i = 0; i < f->n; i++)
    if (!strcmp(f->ev[i]->incident->id, id))
      return 1;
  return 0;
}

/* The message's stored Classification.spike ("" when none). */
static void stored_spike(sb_teststack_t *st, const char *id, char *out, size_t cap) {
  sb_envelope_t *env = sb_teststack_routed(st, "spk", "/tests", id, 10000);
  assert_non_null(env);
  assert_non_null(env->classification);
  snprintf(out, cap, "%s", env->classification->spike);
  sb_envelope_free(env);
}

static long long classify_metric(sb_teststack_t *st, int admin_port, const char *label) {
  static char body[1 << 17];
  int status = sb_teststack_http(st, admin_port - sb_teststack_offset(st), "GET", "/metrics", NULL, NULL, 0,
                                 body, sizeof body);
  assert_int_equal(status, 200);
  return sb_test_metric(body, "sb_classify_spike_incidents_total", label);
}

static void check_feed(const feed_t *f) {
  int count = 0;
  const Switchboard__V1__Incident *in = find_incident(f, "spike_volume", "refund", &count);
  assert_int_equal(count, 1);
  assert_true(in->observed > in->baseline);
  assert_true(in->observed >= 8); /* min_count */
  assert_true(in->supervisor_alert);
  assert_int_equal(in->started_ms % BUCKET_MS, 0);
  char want[96];
  snprintf(want, sizeof want, "spike_volume:refund:%lld", (long long)in->started_ms);
  assert_string_equal(in->id, want);
  for (int i = 0; i < f->n; i++) {
    assert_string_equal(f->ev[i]->source, "/classify");
    assert_string_equal(f->ev[i]->tenant, "spk");
    for (int j = i + 1; j < f->n; j++) /* one event per incident */
      assert_string_not_equal(f->ev[i]->incident->id, f->ev[j]->incident->id);
  }
  assert_int_equal(f->calm, 0);
}

static void check_messages(sb_teststack_t *st, const feed_t *f) {
  char id[64], spike[128];
  int carried = 0;
  for (int i = 0; i < BURST; i++) {
    snprintf(id, sizeof id, "spk-burst-%d", i);
    stored_spike(st, id, spike, sizeof spike);
    if (*spike) {
      if (!published(f, spike))
        fail_msg("%s carries %s, which was never published", id, spike);
      carried++;
    }
  }
  print_message("%d incident(s) on the feed; %d of %d burst messages carry one\n", f->n, carried, BURST);
  assert_true(carried >= BURST / 4); /* after each replica's raise */
  for (int b = 0; b < WARM_BUCKETS - 1; b++) {
    snprintf(id, sizeof id, "spk-r-%d-0", b);
    stored_spike(st, id, spike, sizeof spike);
    assert_string_equal(spike, "");
  }
}

static void a_burst_raises_one_incident_across_two_replicas(void **state) {
  (void)state;
  sb_teststack_t *st = sb_teststack_start(TENANTS, NULL);
  assert_non_null(st);
  replicas_t r;
  start_replicas(st, &r);
  void *zctx = zmq_ctx_new(), *sub = zmq_socket(zctx, ZMQ_SUB);
  char ep[64];
  snprintf(ep, sizeof ep, "tcp://127.0.0.1:%d", SB_PORT_NOTIFY_PUB + sb_teststack_offset(st));
  zmq_setsockopt(sub, ZMQ_SUBSCRIBE, "spk.incident", strlen("spk.incident"));
  zmq_setsockopt(sub, ZMQ_SUBSCRIBE, "calm.incident", strlen("calm.incident"));
  assert_int_equal(zmq_connect(sub, ep), 0);
  feed_t f = {0};
  for (int b = 0; b < WARM_BUCKETS; b++) {
    next_bucket();
    trickle(st, b);
  }
  read_feed(sub, &f, 100);
  assert_int_equal(f.n, 0); /* steady: nothing yet */
  next_bucket();
  burst(st);
  trickle(st, WARM_BUCKETS);
  for (int b = WARM_BUCKETS + 1; b < WARM_BUCKETS + 3; b++) {
    read_feed(sub, &f, (int)(BUCKET_MS - sb_now_ms() % BUCKET_MS));
    trickle(st, b);
  }
  read_feed(sub, &f, 3000); /* the sweeper hands them on every 500 ms */
  check_feed(&f);
  check_messages(st, &f);
  redisReply *rep = redisCommand(sb_teststack_redis(st), "HGET sb:{t:spk}:stats spike_incidents");
  assert_non_null(rep);
  assert_int_equal(rep->type, REDIS_REPLY_STRING);
  assert_int_equal(atoi(rep->str), f.n); /* stored once each */
  freeReplyObject(rep);
  rep = redisCommand(sb_teststack_redis(st), "HEXISTS sb:{t:calm}:stats spike_incidents");
  assert_int_equal(rep->integer, 0);
  freeReplyObject(rep);
  long long a = classify_metric(st, SB_PORT_ADMIN_CLASSIFY + sb_teststack_offset(st), "kind=\"spike_volume\"");
  long long b = classify_metric(st, r.b_admin, "kind=\"spike_volume\"");
  print_message("opened: replica a %lld, replica b %lld\n", a, b);
  assert_true(a >= 1 && b >= 1); /* both opened it; the feed had it once */
  for (int i = 0; i < f.n; i++)
    sb_envelope_free(f.ev[i]);
  zmq_close(sub);
  zmq_ctx_term(zctx);
  stop_replicas(&r);
  sb_teststack_stop(&st);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(a_burst_raises_one_incident_across_two_replicas),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
