/*
 * publish_bench: how many events/s one ingest makes durable and
 * acknowledges on its ZeroMQ publish door, by itself (issue 3's ZeroMQ
 * figure; loadgen measures the whole bus instead).
 *
 *   publish_bench [--seconds 10] [--rounds 3] [--batches 1,10,100]
 *                 [--window 16] [--appendfsync everysec] [--tenants FILE] [--hold]
 *
 * The stack of sbctl_stack (a private redis-server with AOF, ingest on the
 * bundled tenants or --tenants) with classify, route, sla-timer and notify stopped: a
 * sink in this process binds classify's hand-off port and discards what
 * ingest hands on, so ingest's hand-off never backs up and nothing else
 * competes for the two cores. Leases toward classify are given 10 minutes
 * (SB_LEASE_MS) so that ingest's sweeper re-sends nothing during the run.
 *
 * One publisher (DEALER, closed loop): --window PublishRequests in flight,
 * each of B events, for each B of --batches in turn within a round (side by
 * side, so their ratio holds on a noisy machine). Every event is new: a new
 * id, 4 messages per customer, the bundled tenants in turn, so ingest does
 * its whole commit (dedupe, identity, threading, envelope, lease). The rate
 * counts ACK_OK answered within the step; p50/p99 are one request's round
 * trip (send to its PublishReply). Any other answer is counted and printed
 * (ACK_RETRY_LATER means ingest pushed back: the rate is then the door's
 * ceiling under back-pressure). One JSON line per step, then the medians
 * per batch size over the rounds, then a check: events acknowledged OK in
 * all, the leases toward classify recorded in Redis (the same number: an
 * acknowledgement never runs ahead of durability, and the sink clears
 * none), and the hand-offs the sink received.
 *
 * --hold starts the same bus and no publisher: it prints {"hold": true,
 * "port_offset", "redis"} and waits for SIGINT or SIGTERM, then prints
 * {"hold": false, "sink_received"} (bench/webhooks.py --ingest-alone
 * drives the HTTP doors of it with wrk).
 */
#include "sb_bench.h"
#include "sb_admit.h"
#include "sb_cloudevent.h"
#include "sb_envelope.h"
#include "sb_metrics.h"
#include "sb_service.h"
#include "sb_tenants.h"
#include "sb_time.h"
#include "sbctl_stack.h"
#include "sbctl_up.h"
#include "sbctl_view.h"

#include <cjson/cJSON.h>
#include <hiredis/hiredis.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zmq.h>

#define PB_BATCHES_MAX 8
#define PB_ROUNDS_MAX 20
#define PB_WINDOW_MAX 256
#define PB_MSGS_PER_CUSTOMER 4
#define PB_DRAIN_MS 20000
#define PB_LEASE_MS "600000"
#define PB_TEXT "Hello, my flight to Lisbon was cancelled and I need to rebook for tomorrow."

static volatile sig_atomic_t pb_stop;
static void on_signal(int sig) {
  (void)sig;
  pb_stop = 1;
}

typedef struct {
  int seconds, rounds, window, nbatches, batches[PB_BATCHES_MAX];
  int hold; /* --hold: no publisher; the bus waits for SIGINT/SIGTERM */
  const char *appendfsync;
  const char *tenants; /* NULL: the bundled corpus/tenants.json */
} opts_t;

typedef struct {
  int batch;
  uint64_t ok, other, retry_later;
  double seconds, rate;
  uint64_t p50_us, p99_us;
} step_t;

/* ---- the sink: classify's hand-off port, read and discarded ------------- */

typedef struct {
  void *zctx;
  char endpoint[64];
  atomic_int stop;
  atomic_ullong received;
  int bound; /* 1 bound, -1 failed */
} sink_t;

static void *sink_run(void *arg) {
  sink_t *k = arg;
  void *s = zmq_socket(k->zctx, ZMQ_PULL);
  int timeout = 100, hwm = 0;
  zmq_setsockopt(s, ZMQ_RCVTIMEO, &timeout, sizeof timeout);
  zmq_setsockopt(s, ZMQ_RCVHWM, &hwm, sizeof hwm);
  k->bound = zmq_bind(s, k->endpoint) == 0 ? 1 : -1;
  char buf[1];
  while (k->bound == 1 && !atomic_load(&k->stop))
    if (zmq_recv(s, buf, sizeof buf, 0) >= 0)
      atomic_fetch_add(&k->received, 1);
  zmq_close(s);
  return NULL;
}

/* ---- events --------------------------------------------------------------- */

typedef struct {
  const sb_tenants_t *tenants;
  char run[32];
  uint64_t seq;
  sb_envelope_t **tpl; /* one admitted envelope per tenant, re-used */
} events_t;

static sb_envelope_t *template_for(const char *tenant, const sb_tenants_t *tenants) {
  char data[] = "{\"channel\":\"whatsapp\",\"customer\":\"c\",\"text\":\"" PB_TEXT "\"}";
  sb_cloudevent_t ce = {.id = "t", .source = "/bench/publish", .type = SB_TYPE_INTERACTION,
                        .specversion = "1.0", .tenant = (char *)tenant, .data = data};
  sb_admit_result_t ar;
  sb_envelope_t *env = sb_admit_cloudevent(&ce, tenants, &ar);
  if (env)
    env->time_ms = 0; /* live traffic: ingest stamps the time of receipt */
  return env;
}

/* Event i as a shallow copy of its tenant's template with its own id and
 * customer (written into e's arrays at slot k): nothing to free. */
typedef struct {
  sb_envelope_t env;
  Switchboard__V1__Interaction in;
  char id[96], customer[96];
} event_t;

static sb_envelope_t *next_event(events_t *e, event_t *slot) {
  size_t nt = sb_tenants_count(e->tenants);
  uint64_t i = e->seq++, c = i / PB_MSGS_PER_CUSTOMER;
  const sb_envelope_t *tpl = e->tpl[c % nt];
  slot->env = *tpl;
  slot->in = *tpl->interaction;
  snprintf(slot->id, sizeof slot->id, "%s-%llu", e->run, (unsigned long long)i);
  snprintf(slot->customer, sizeof slot->customer, "%s-c%llu", e->run, (unsigned long long)c);
  slot->env.id = slot->id;
  slot->env.interaction = &slot->in;
  slot->in.customer = slot->customer;
  return &slot->env;
}

/* ---- the publisher ---------------------------------------------------------- */

typedef struct {
  void *sock;
  events_t *ev;
  int64_t sent_us[PB_WINDOW_MAX];
  uint64_t correlation;
  uint64_t ok_all; /* every ACK_OK, counted steps' and drains' */
  int inflight, window;
} pub_t;

/* One PublishRequest of batch new events. 0 or -1. */
static int send_request(pub_t *p, int batch) {
  Switchboard__V1__PublishRequest req = SWITCHBOARD__V1__PUBLISH_REQUEST__INIT;
  event_t *slots = malloc((size_t)batch * sizeof *slots);
  sb_envelope_t **envs = malloc((size_t)batch * sizeof *envs);
  uint8_t *buf = NULL;
  int rc = -1;
  if (slots && envs) {
    for (int i = 0; i < batch; i++)
      envs[i] = next_event(p->ev, &slots[i]);
    req.correlation = ++p->correlation;
    req.n_events = (size_t)batch;
    req.events = envs;
    size_t len = switchboard__v1__publish_request__get_packed_size(&req);
    if ((buf = malloc(len))) {
      switchboard__v1__publish_request__pack(&req, buf);
      p->sent_us[req.correlation % PB_WINDOW_MAX] = sb_now_us();
      rc = zmq_send(p->sock, buf, len, 0) == (int)len ? 0 : -1;
    }
  }
  free(buf);
  free(envs);
  free(slots);
  if (rc == 0)
    p->inflight++;
  return rc;
}

/* Reads one reply (waits up to timeout_ms): counts its acks into s when
 * counting, records its round trip. 1 read, 0 none, -1 error. */
static int read_reply(pub_t *p, step_t *s, sb_histogram_t *h, int counting, int timeout_ms) {
  zmq_pollitem_t it = {p->sock, 0, ZMQ_POLLIN, 0};
  if (zmq_poll(&it, 1, timeout_ms) <= 0)
    return 0;
  zmq_msg_t m;
  zmq_msg_init(&m);
  if (zmq_msg_recv(&m, p->sock, 0) < 0) {
    zmq_msg_close(&m);
    return -1;
  }
  Switchboard__V1__PublishReply *r =
      switchboard__v1__publish_reply__unpack(NULL, zmq_msg_size(&m), zmq_msg_data(&m));
  zmq_msg_close(&m);
  if (!r)
    return -1;
  p->inflight--;
  for (size_t i = 0; i < r->n_acks; i++)
    p->ok_all += r->acks[i]->code == SWITCHBOARD__V1__ACK_CODE__ACK_OK;
  if (counting) {
    sb_histogram_record(h, (uint64_t)(sb_now_us() - p->sent_us[r->correlation % PB_WINDOW_MAX]));
    for (size_t i = 0; i < r->n_acks; i++) {
      Switchboard__V1__AckCode code = r->acks[i]->code;
      if (code == SWITCHBOARD__V1__ACK_CODE__ACK_OK)
        s->ok++;
      else if (code == SWITCHBOARD__V1__ACK_CODE__ACK_RETRY_LATER)
        s->retry_later++;
      else
        s->other++;
    }
  }
  switchboard__v1__publish_reply__free_unpacked(r, NULL);
  return 1;
}

static int run_step(pub_t *p, int batch, int seconds, step_t *s) {
  memset(s, 0, sizeof *s);
  s->batch = batch;
  sb_histogram_t *h = sb_histogram_new();
  if (!h)
    return -1;
  int64_t t0 = sb_now_us(), end = t0 + (int64_t)seconds * 1000000;
  int rc = 0;
  while (rc >= 0 && !pb_stop && sb_now_us() < end) {
    while (rc >= 0 && p->inflight < p->window)
      rc = send_request(p, batch);
    if (rc >= 0)
      rc = read_reply(p, s, h, 1, 10);
  }
  s->seconds = (sb_now_us() - t0) / 1e6;
  /* the rest is answered before the next step, not counted */
  for (int64_t until = sb_now_ms() + PB_DRAIN_MS; rc >= 0 && p->inflight > 0 && sb_now_ms() < until;)
    rc = read_reply(p, s, h, 0, 100);
  s->rate = s->ok / s->seconds;
  s->p50_us = sb_histogram_quantile(h, 0.50);
  s->p99_us = sb_histogram_quantile(h, 0.99);
  sb_histogram_destroy(&h);
  if (p->inflight > 0) {
    fprintf(stderr, "publish_bench: %d requests unanswered after %d ms\n", p->inflight, PB_DRAIN_MS);
    return -1;
  }
  return rc < 0 ? -1 : 0;
}

/* ---- options, the stack, the run -------------------------------------------- */

static int parse_batches(const char *list, opts_t *o) {
  char *copy = strdup(list), *save = NULL;
  o->nbatches = 0;
  for (char *t = strtok_r(copy, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
    int b = atoi(t);
    if (b < 1 || b > 1000 || o->nbatches == PB_BATCHES_MAX) {
      free(copy);
      return -1;
    }
    o->batches[o->nbatches++] = b;
  }
  free(copy);
  return o->nbatches ? 0 : -1;
}

static void usage(void) {
  fprintf(stderr, "usage: publish_bench [--seconds N] [--rounds N] [--batches B,B,...] [--window N]"
                  " [--appendfsync everysec|always] [--tenants FILE] [--hold]\n");
}

static int parse_args(int argc, char **argv, opts_t *o) {
  *o = (opts_t){.seconds = 10, .rounds = 3, .window = 16, .appendfsync = "everysec"};
  if (parse_batches("1,10,100", o))
    return -1;
  for (int i = 1; i < argc; i += 2) {
    if (!strcmp(argv[i], "--hold")) {
      o->hold = 1;
      i--;
      continue;
    }
    if (i + 1 >= argc)
      return -1;
    if (!strcmp(argv[i], "--seconds"))
      o->seconds = atoi(argv[i + 1]);
    else if (!strcmp(argv[i], "--rounds"))
      o->rounds = atoi(argv[i + 1]);
    else if (!strcmp(argv[i], "--window"))
      o->window = atoi(argv[i + 1]);
    else if (!strcmp(argv[i], "--appendfsync"))
      o->appendfsync = argv[i + 1];
    else if (!strcmp(argv[i], "--tenants"))
      o->tenants = argv[i + 1];
    else if (!strcmp(argv[i], "--batches")) {
      if (parse_batches(argv[i + 1], o))
        return -1;
    } else
      return -1;
  }
  if (o->seconds < 1 || o->rounds < 1 || o->rounds > PB_ROUNDS_MAX || o->window < 1 ||
      o->window > PB_WINDOW_MAX || (strcmp(o->appendfsync, "everysec") && strcmp(o->appendfsync, "always")))
    return -1;
  return 0;
}

int main(int argc, char **argv) {
  opts_t o;
  if (parse_args(argc, argv, &o)) {
    usage();
    return 2;
  }
  signal(SIGINT, on_signal);
  signal(SIGTERM, on_signal);
  signal(SIGPIPE, SIG_IGN);
  char tenants_path[4096], bindir[4096];
  if (o.tenants)
    snprintf(tenants_path, sizeof tenants_path, "%s", o.tenants);
  else
    snprintf(tenants_path, sizeof tenants_path, "%s/corpus/tenants.json", SB_SOURCE_DIR);
  sbctl_bindir(bindir, sizeof bindir);
  char err[256] = "";
  sb_tenants_t *tenants = sb_tenants_load(tenants_path, err, sizeof err);
  if (!tenants) {
    fprintf(stderr, "publish_bench: %s\n", err);
    return 1;
  }
  setenv("SB_LEASE_MS", PB_LEASE_MS, 1); /* no re-sends toward the sink within a run */
  sbctl_stack_opts_t so = {.tenants = tenants_path, .appendfsync = o.appendfsync, .port_offset = -1,
                           .bindir = bindir};
  sbctl_stack_t *stack = sbctl_stack_start(&so, &pb_stop);
  if (!stack)
    return 1;
  /* ingest alone: the stages after it stop, the sink takes classify's port */
  const char *others[] = {"classify", "route", "sla-timer", "notify"};
  for (size_t i = 0; i < sizeof others / sizeof others[0]; i++)
    sbctl_stack_kill(stack, others[i], SIGKILL);
  int off = sbctl_stack_offset(stack);
  void *zctx = zmq_ctx_new();
  sink_t sink = {.zctx = zctx};
  snprintf(sink.endpoint, sizeof sink.endpoint, "tcp://127.0.0.1:%d", SB_PORT_CLASSIFY_IN + off);
  pthread_t sink_thread;
  pthread_create(&sink_thread, NULL, sink_run, &sink);
  while (sink.bound == 0)
    usleep(10000);

  size_t nt = sb_tenants_count(tenants);
  events_t ev = {.tenants = tenants, .tpl = calloc(nt, sizeof(sb_envelope_t *))};
  snprintf(ev.run, sizeof ev.run, "pb%lld", (long long)sb_now_ms());
  int rc = sink.bound == 1 ? 0 : 1;
  for (size_t i = 0; rc == 0 && i < nt; i++)
    if (!(ev.tpl[i] = template_for(sb_tenants_at(tenants, i)->id, tenants)))
      rc = 1;
  pub_t pub = {.ev = &ev, .window = o.window, .sock = zmq_socket(zctx, ZMQ_DEALER)};
  char ingest[64];
  snprintf(ingest, sizeof ingest, "tcp://127.0.0.1:%d", SB_PORT_INGEST_ZMQ + off);
  int hwm = 0;
  zmq_setsockopt(pub.sock, ZMQ_SNDHWM, &hwm, sizeof hwm);
  zmq_setsockopt(pub.sock, ZMQ_RCVHWM, &hwm, sizeof hwm);
  if (rc == 0 && zmq_connect(pub.sock, ingest))
    rc = 1;
  fprintf(stderr, "publish_bench: ingest %s alone (AOF %s), sink at %s, window %d\n", ingest,
          o.appendfsync, sink.endpoint, o.window);
  if (rc == 0 && o.hold) { /* another client drives ingest (bench/webhooks.py --ingest-alone) */
    printf("{\"hold\": true, \"port_offset\": %d, \"redis\": \"%s\"}\n", off,
           sbctl_stack_redis_url(stack));
    fflush(stdout);
    while (!pb_stop && sbctl_stack_check(stack) < 0)
      usleep(100000);
    printf("{\"hold\": false, \"sink_received\": %llu}\n",
           (unsigned long long)atomic_load(&sink.received));
    o.rounds = 0;
  }

  static step_t steps[PB_ROUNDS_MAX][PB_BATCHES_MAX];
  for (int r = 0; rc == 0 && r < o.rounds && !pb_stop; r++)
    for (int b = 0; rc == 0 && b < o.nbatches && !pb_stop; b++) {
      step_t *s = &steps[r][b];
      if (run_step(&pub, o.batches[b], o.seconds, s)) {
        rc = 1;
        break;
      }
      printf("{\"round\": %d, \"batch\": %d, \"window\": %d, \"seconds\": %.2f, \"acked_ok\": %llu,"
             " \"events_per_s\": %.0f, \"request_p50_ms\": %.2f, \"request_p99_ms\": %.2f,"
             " \"retry_later\": %llu, \"other_acks\": %llu}\n",
             r + 1, s->batch, o.window, s->seconds, (unsigned long long)s->ok, s->rate, s->p50_us / 1000.0,
             s->p99_us / 1000.0, (unsigned long long)s->retry_later, (unsigned long long)s->other);
      fflush(stdout);
    }
  for (int b = 0; rc == 0 && !o.hold && b < o.nbatches; b++) {
    double rate[PB_ROUNDS_MAX], p99[PB_ROUNDS_MAX];
    for (int r = 0; r < o.rounds; r++) {
      rate[r] = steps[r][b].rate;
      p99[r] = steps[r][b].p99_us / 1000.0;
    }
    printf("{\"summary\": true, \"batch\": %d, \"rounds\": %d, \"median_events_per_s\": %.0f,"
           " \"median_request_p99_ms\": %.2f}\n",
           o.batches[b], o.rounds, sb_bench_median(rate, o.rounds), sb_bench_median(p99, o.rounds));
  }
  /* every event acknowledged OK must have its record and its lease toward
   * classify in Redis (the sink commits nothing, so none was cleared) */
  uint64_t acked = pub.ok_all, leases = 0;
  redisContext *rc_redis = o.hold ? NULL : sbctl_view_connect(sbctl_stack_redis_url(stack));
  for (size_t i = 0; rc_redis && i < nt; i++) {
    redisReply *z = redisCommand(rc_redis, "ZCARD sb:{t:%s}:lease:classify", sb_tenants_at(tenants, i)->id);
    leases += z && z->type == REDIS_REPLY_INTEGER ? (uint64_t)z->integer : 0;
    freeReplyObject(z);
  }
  if (rc_redis)
    redisFree(rc_redis);
  if (!o.hold) {
    printf("{\"check\": true, \"acked_ok_total\": %llu, \"leases_recorded\": %llu,"
           " \"sink_received\": %llu}\n",
           (unsigned long long)acked, (unsigned long long)leases,
           (unsigned long long)atomic_load(&sink.received));
  }
  if (rc == 0 && !o.hold && leases != acked) {
    fprintf(stderr, "publish_bench: %llu events acknowledged but %llu leases recorded\n",
            (unsigned long long)acked, (unsigned long long)leases);
    rc = 1;
  }
  zmq_close(pub.sock);
  atomic_store(&sink.stop, 1);
  pthread_join(sink_thread, NULL);
  zmq_ctx_term(zctx);
  for (size_t i = 0; i < nt; i++)
    sb_envelope_free(ev.tpl[i]);
  free(ev.tpl);
  sbctl_stack_stop(&stack);
  sb_tenants_destroy(&tenants);
  return rc;
}
