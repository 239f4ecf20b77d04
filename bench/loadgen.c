/*
 * loadgen: an open-loop load generator for the whole bus.
 *
 * It publishes interactions to ingest's ZeroMQ publish endpoint (sbctl's
 * publisher, sbctl_client) on a schedule fixed in advance: exponential
 * inter-arrival times (Poisson) or a fixed interval, at one or more target
 * rates (steps, to find the knee), optionally with periodic bursts. The
 * schedule never waits for an acknowledgement: each event is stamped with
 * the time it was *meant* to be sent (published_us), so a stall anywhere,
 * the publisher's window included, counts against the bus (no coordinated
 * omission). It reads notify's PUB feed and, for every routing decision of
 * its own events, records routing.decided_us - published_us into a
 * log-linear histogram (sb_metrics), per step and per second of the step,
 * and splits it into stages from the envelope's own timestamps (see
 * stage_names below).
 *
 * By default it starts its own stack (sbctl_stack: private redis-server with
 * AOF everysec, the five services) and logs in simulated agents with room
 * for every conversation; --ingest and --feed aim it at an existing
 * deployment instead (agents are still logged in through --ingest). Both
 * take comma-separated lists (replicas): requests are spread over the
 * ingests that are connected and re-sent when unanswered (--resend-ms, or
 * at once when a connection drops); the SUB reads every notify's feed,
 * and an event read twice counts once (feed_duplicates).
 *
 * Output: one JSON document per line, one per step (see bench/README.md).
 * Between steps it waits for the step's events to be routed (at most
 * --drain-timeout seconds) so that one step's backlog does not pollute the
 * next; what is left is reported as backlog.
 */
#include "sbctl_agents.h"
#include "sbctl_client.h"
#include "sbctl_stack.h"
#include "sbctl_up.h"
#include "sbctl_view.h"
#include "sb_admit.h"
#include "sb_config.h"
#include "sb_metrics.h"
#include "sb_service.h"
#include "sb_time.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <zmq.h>

#define LG_MSGS_PER_CONV 4     /* each customer writes this many messages in a row */
#define LG_AGENT_CAPACITY 100  /* conversations one simulated agent holds */
#define LG_POLL_MS 1           /* longest sleep while events are due soon */
#define LG_LOGIN_MS 10000      /* agents' logins must be acknowledged by then */
#define LG_LOGIN_MIN_MS 500    /* and the feed subscription given this long */
#define LG_STEPS_MAX 64
#define LG_START_DELAY_US 2000 /* a step's schedule starts this far ahead */
#define LG_ENDPOINTS_MAX 1024 /* bytes of an --ingest or --feed list */
#define LG_RECONNECT_MS 10     /* the feed: rejoin a restarted notify before it publishes much */
#define LG_SLOWEST 10          /* slowest events of a step reported with their stamps */
#define LG_TEXT "Hello, my flight to Lisbon was cancelled and I need to rebook for tomorrow."

static const sb_option_t lg_options[] = {
    {"rates", SB_OPT_STR, "2000", "target rates in events/s, comma-separated: one step each"},
    {"duration", SB_OPT_INT, "10", "seconds per step"},
    {"schedule", SB_OPT_STR, "poisson", "inter-arrival times: poisson (exponential) or fixed"},
    {"burst", SB_OPT_STR, "", "periodic bursts MULTx:DURs:everyPERs (e.g. 5x:2s:every10s), centred in each period"},
    {"drain-timeout", SB_OPT_INT, "10", "seconds to wait after a step for its events to be routed"},
    {"ingest", SB_OPT_STR, "",
     "ingest's ZeroMQ publish endpoint(s) of an existing deployment, comma-separated (default: start a stack)"},
    {"feed", SB_OPT_STR, "", "notify's PUB feed endpoint(s) of an existing deployment, comma-separated"},
    {"resend-ms", SB_OPT_INT, "1000",
     "send a request again when unanswered this long (0: never); ingest acks a resend as a duplicate"},
    {"tenants", SB_OPT_STR, "", "tenant configuration file (default: the bundled corpus/tenants.json)"},
    {"seed", SB_OPT_INT, "1", "seed of the Poisson schedule"},
    {NULL, 0, NULL, NULL}};

static volatile sig_atomic_t lg_stop;
static void on_signal(int s) { lg_stop = s; }

typedef struct {
  double mult, dur_s, every_s; /* mult 0: no bursts */
} burst_t;

/* Where publish->assigned goes, from the timestamps each stage writes into
 * the envelope: published_us (the schedule), ingested_us (ingest admits it),
 * classification.classified_us, routing.decided_us, and the time loadgen
 * reads it on notify's feed. All are gettimeofday() on this machine. */
enum { LG_STAGE_INGEST, LG_STAGE_CLASSIFY, LG_STAGE_ROUTE, LG_STAGE_NOTIFY, LG_STAGES };
static const char *const stage_names[LG_STAGES] = {"publish_to_ingested", "ingested_to_classified",
                                                   "classified_to_decided", "decided_to_feed"};

/* One slow event: where its time went (the envelope's stamps, see above). */
typedef struct {
  int64_t published_us, ingested_us, classified_us, decided_us, seen_us;
} slow_t;

typedef struct {
  double rate;                 /* target (base) rate, events/s */
  int64_t t0_us, t1_us;        /* the scheduled window */
  uint64_t sent, routed, with_agent, build_errors;
  uint64_t feed_duplicates;    /* an event read twice from the feed(s), counted once */
  slow_t slowest[LG_SLOWEST];  /* by publish->decided, unordered */
  int64_t last_ack_us, last_routed_us;
  sbctl_client_stats_t st0, st1;
  long long cmds0, cmds1;      /* Redis commands (own stack only) */
  long long bus0, bus1;        /* the bus's re-sends of hand-offs (own stack) */
  sb_histogram_t *lat, *lag;   /* publish->assigned; generator's own lateness */
  sb_histogram_t **sec;        /* publish->assigned by second of the schedule */
  sb_histogram_t *stage[LG_STAGES];
  uint64_t *sec_sent;
  size_t nsec;
  int drained;
} step_t;

typedef struct {
  sb_config_t *cfg;
  sb_tenants_t *tenants;
  sbctl_stack_t *stack;
  redisContext *rc;
  void *zctx, *sub;
  sbctl_client_t *client;
  char run[32], ingest[LG_ENDPOINTS_MAX], feed[LG_ENDPOINTS_MAX];
  uint64_t seq;
  uint8_t *seen;               /* by event number: read on the feed already */
  size_t nseen;
  step_t steps[LG_STEPS_MAX];
  size_t nsteps;
  burst_t burst;
  int poisson;
  unsigned short xsubi[3];
} lg_t;

/* --- schedule --------------------------------------------------------- */

static int parse_burst(const char *s, burst_t *b) {
  *b = (burst_t){0};
  if (!*s)
    return 0;
  if (sscanf(s, "%lfx:%lfs:every%lfs", &b->mult, &b->dur_s, &b->every_s) != 3 || b->mult <= 0 ||
      b->dur_s <= 0 || b->every_s < b->dur_s)
    return -1;
  return 0;
}

static int parse_rates(lg_t *g, const char *s) {
  char *copy = strdup(s), *save = NULL;
  for (char *t = strtok_r(copy, ",", &save); t && g->nsteps < LG_STEPS_MAX; t = strtok_r(NULL, ",", &save))
    g->steps[g->nsteps++].rate = atof(t);
  free(copy);
  for (size_t i = 0; i < g->nsteps; i++)
    if (g->steps[i].rate <= 0)
      return -1;
  return g->nsteps ? 0 : -1;
}

/* The rate in force at t_s seconds into a step: bursts sit in the middle
 * of each period. */
static double rate_at(const lg_t *g, const step_t *s, double t_s) {
  const burst_t *b = &g->burst;
  if (b->mult <= 0)
    return s->rate;
  double phase = fmod(t_s, b->every_s), start = (b->every_s - b->dur_s) / 2;
  return phase >= start && phase < start + b->dur_s ? s->rate * b->mult : s->rate;
}

static int64_t next_time(lg_t *g, const step_t *s, int64_t t_us) {
  double r = rate_at(g, s, (t_us - s->t0_us) / 1e6);
  double gap_s = g->poisson ? -log(1.0 - erand48(g->xsubi)) / r : 1.0 / r;
  return t_us + (int64_t)(gap_s * 1e6) + (gap_s * 1e6 < 1);
}

/* --- events ------------------------------------------------------------ */

static sb_envelope_t *message(lg_t *g, uint64_t i) {
  size_t nt = sb_tenants_count(g->tenants);
  const sb_tenant_t *t = sb_tenants_at(g->tenants, (size_t)(i / LG_MSGS_PER_CONV) % nt);
  char id[96], customer[96];
  snprintf(id, sizeof id, "%s-%llu", g->run, (unsigned long long)i);
  snprintf(customer, sizeof customer, "%s-c%llu", g->run, (unsigned long long)(i / LG_MSGS_PER_CONV));
  cJSON *d = cJSON_CreateObject();
  cJSON_AddStringToObject(d, "channel", "whatsapp");
  cJSON_AddStringToObject(d, "customer", customer);
  cJSON_AddStringToObject(d, "text", LG_TEXT);
  sb_cloudevent_t ce = {.id = id, .source = "/bench/loadgen", .type = SB_TYPE_INTERACTION,
                        .specversion = "1.0", .tenant = (char *)t->id, .data = cJSON_PrintUnformatted(d)};
  cJSON_Delete(d);
  sb_admit_result_t ar;
  sb_envelope_t *env = sb_admit_cloudevent(&ce, g->tenants, &ar);
  free(ce.data);
  if (env)
    env->time_ms = 0; /* live traffic: ingest stamps the time of receipt */
  return env;
}

static void send_one(lg_t *g, step_t *s, int64_t due_us) {
  sb_envelope_t *env = message(g, g->seq++);
  if (!env) {
    s->build_errors++;
    return;
  }
  env->published_us = due_us; /* the intended time, not the actual one */
  sbctl_client_queue(g->client, env);
  s->sent++;
  size_t k = (size_t)((due_us - s->t0_us) / 1000000);
  if (k < s->nsec)
    s->sec_sent[k]++;
  int64_t lag = sb_now_us() - due_us;
  sb_histogram_record(s->lag, lag > 0 ? (uint64_t)lag : 0);
}

/* --- the feed ------------------------------------------------------------ */

static step_t *step_of(lg_t *g, int64_t published_us) {
  for (size_t i = 0; i < g->nsteps; i++)
    if (published_us >= g->steps[i].t0_us && published_us < g->steps[i].t1_us)
      return &g->steps[i];
  return NULL;
}

static void record_span(sb_histogram_t *h, int64_t from_us, int64_t to_us) {
  sb_histogram_record(h, to_us > from_us ? (uint64_t)(to_us - from_us) : 0);
}

/* Only events that carry every stamp count, so the stages add up. */
static void record_stages(step_t *s, const sb_envelope_t *env, int64_t seen_us) {
  const Switchboard__V1__Classification *c = env->classification;
  if (!c || !env->ingested_us || !c->classified_us)
    return;
  record_span(s->stage[LG_STAGE_INGEST], env->published_us, env->ingested_us);
  record_span(s->stage[LG_STAGE_CLASSIFY], env->ingested_us, c->classified_us);
  record_span(s->stage[LG_STAGE_ROUTE], c->classified_us, env->routing->decided_us);
  record_span(s->stage[LG_STAGE_NOTIFY], env->routing->decided_us, seen_us);
}

/* 1 the first time event number n (its id "<run>-<n>") is read, 0 after:
 * with several notify replicas each publishes what it committed, which
 * should be each event once; this counts it if not. */
static int first_sighting(lg_t *g, const char *n_text) {
  char *end;
  unsigned long long n = strtoull(n_text, &end, 10);
  if (*end || n >= g->seq)
    return 1; /* not one of ours as numbered: nothing to compare */
  if (n >= g->nseen) {
    size_t want = g->nseen ? g->nseen : 4096;
    while (want <= n)
      want *= 2;
    uint8_t *p = realloc(g->seen, want);
    if (!p)
      return 1;
    memset(p + g->nseen, 0, want - g->nseen);
    g->seen = p, g->nseen = want;
  }
  int first = !g->seen[n];
  g->seen[n] = 1;
  return first;
}

/* Keeps the event if it is among the step's LG_SLOWEST (replaces the
 * fastest kept; an empty entry has published_us 0). */
static void keep_if_slow(step_t *s, const sb_envelope_t *env, int64_t seen_us) {
  const Switchboard__V1__Classification *c = env->classification;
  slow_t e = {env->published_us, env->ingested_us, c ? c->classified_us : 0, env->routing->decided_us, seen_us};
  size_t min = 0;
  for (size_t i = 0; i < LG_SLOWEST; i++) {
    slow_t *k = &s->slowest[i];
    if (!k->published_us) {
      min = i;
      break;
    }
    if (k->decided_us - k->published_us < s->slowest[min].decided_us - s->slowest[min].published_us)
      min = i;
  }
  slow_t *m = &s->slowest[min];
  if (!m->published_us || e.decided_us - e.published_us > m->decided_us - m->published_us)
    *m = e;
}

static void on_envelope(lg_t *g, const sb_envelope_t *env) {
  const Switchboard__V1__RoutingDecision *r = env->routing;
  size_t rl = strlen(g->run);
  if (!r || !env->id || strncmp(env->id, g->run, rl) != 0 || env->id[rl] != '-' ||
      env->body_case != SWITCHBOARD__V1__ENVELOPE__BODY_INTERACTION)
    return;
  step_t *s = step_of(g, env->published_us);
  if (!s)
    return;
  if (!first_sighting(g, env->id + rl + 1)) {
    s->feed_duplicates++;
    return;
  }
  s->routed++;
  s->last_routed_us = sb_now_us();
  if ((r->outcome == SWITCHBOARD__V1__ROUTE_OUTCOME__ROUTE_ASSIGNED ||
       r->outcome == SWITCHBOARD__V1__ROUTE_OUTCOME__ROUTE_EXISTING) &&
      r->decided_us >= env->published_us) {
    uint64_t us = (uint64_t)(r->decided_us - env->published_us);
    s->with_agent++;
    sb_histogram_record(s->lat, us);
    size_t k = (size_t)((env->published_us - s->t0_us) / 1000000);
    if (k < s->nsec)
      sb_histogram_record(s->sec[k], us);
    record_stages(s, env, s->last_routed_us);
    keep_if_slow(s, env, s->last_routed_us);
  }
}

/* Only routing outcomes ("<tenant>.assigned", ".queued", ".routed") matter. */
static int wanted_topic(const zmq_msg_t *topic) {
  const char *p = zmq_msg_data((zmq_msg_t *)topic);
  size_t n = zmq_msg_size((zmq_msg_t *)topic);
  static const char *const kinds[] = {".assigned", ".queued", ".routed"};
  for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++) {
    size_t k = strlen(kinds[i]);
    if (n >= k && memcmp(p + n - k, kinds[i], k) == 0)
      return 1;
  }
  return 0;
}

static void read_feed(lg_t *g) {
  for (;;) {
    zmq_msg_t topic, body;
    zmq_msg_init(&topic);
    zmq_msg_init(&body);
    if (zmq_msg_recv(&topic, g->sub, ZMQ_DONTWAIT) < 0) {
      zmq_msg_close(&topic);
      zmq_msg_close(&body);
      return;
    }
    if (zmq_msg_more(&topic) && zmq_msg_recv(&body, g->sub, 0) >= 0 && wanted_topic(&topic)) {
      sb_envelope_t *env = sb_envelope_unpack(zmq_msg_data(&body), zmq_msg_size(&body));
      if (env)
        on_envelope(g, env);
      sb_envelope_free(env);
    }
    zmq_msg_close(&topic);
    zmq_msg_close(&body);
  }
}

/* Sends what the window allows, waits up to timeout_ms for replies or the
 * feed, reads both; notes the time of the last acknowledgement. */
static void poll_once(lg_t *g, step_t *s, int timeout_ms) {
  zmq_pollitem_t it[] = {{sbctl_client_socket(g->client), 0, ZMQ_POLLIN, 0}, {g->sub, 0, ZMQ_POLLIN, 0}};
  sbctl_client_pump(g->client);
  if (zmq_poll(it, 2, timeout_ms) <= 0)
    return;
  if (it[0].revents) {
    sbctl_client_stats_t before, after;
    sbctl_client_stats(g->client, &before);
    sbctl_client_on_readable(g->client);
    sbctl_client_stats(g->client, &after);
    if (s && after.ok + after.duplicate > before.ok + before.duplicate)
      s->last_ack_us = sb_now_us();
  }
  if (it[1].revents)
    read_feed(g);
}

/* --- steps ------------------------------------------------------------- */

static int step_alloc(step_t *s, int duration_s) {
  s->nsec = (size_t)duration_s;
  s->lat = sb_histogram_new();
  s->lag = sb_histogram_new();
  s->sec = calloc(s->nsec, sizeof *s->sec);
  s->sec_sent = calloc(s->nsec, sizeof *s->sec_sent);
  if (!s->lat || !s->lag || !s->sec || !s->sec_sent)
    return -1;
  for (int i = 0; i < LG_STAGES; i++)
    if (!(s->stage[i] = sb_histogram_new()))
      return -1;
  for (size_t k = 0; k < s->nsec; k++)
    if (!(s->sec[k] = sb_histogram_new()))
      return -1;
  return 0;
}

static void step_free(step_t *s) {
  for (size_t k = 0; s->sec && k < s->nsec; k++)
    sb_histogram_destroy(&s->sec[k]);
  free(s->sec);
  free(s->sec_sent);
  sb_histogram_destroy(&s->lat);
  sb_histogram_destroy(&s->lag);
  for (int i = 0; i < LG_STAGES; i++)
    sb_histogram_destroy(&s->stage[i]);
}

static void drain(lg_t *g, step_t *s) {
  int64_t until = sb_now_ms() + sb_config_int(g->cfg, "drain-timeout") * 1000;
  while (!lg_stop && sb_now_ms() < until) {
    if (s->routed >= s->sent && sbctl_client_outstanding(g->client) == 0)
      break;
    poll_once(g, s, LG_POLL_MS);
  }
  s->drained = s->routed >= s->sent && sbctl_client_outstanding(g->client) == 0;
}

/* Hand-offs re-sent inside the bus so far (sbctl_view: the tenants'
 * "resent_<stage>" stats), -1 without a connection or an answer. */
static long long bus_resent(const lg_t *g) {
  sbctl_stats_t st;
  return g->rc && sbctl_view_read_all(g->rc, g->tenants, &st) == 0 ? st.resent : -1;
}

static void run_step(lg_t *g, step_t *s, int duration_s) {
  sbctl_client_stats(g->client, &s->st0);
  s->cmds0 = g->rc ? sbctl_view_commands(g->rc) : -1;
  s->bus0 = bus_resent(g);
  s->t0_us = sb_now_us() + LG_START_DELAY_US;
  s->t1_us = s->t0_us + (int64_t)duration_s * 1000000;
  int64_t due = s->t0_us;
  while (!lg_stop && due < s->t1_us) {
    int64_t now = sb_now_us();
    for (; due <= now && due < s->t1_us; due = next_time(g, s, due))
      send_one(g, s, due);
    /* never sleep past the next due time by more than LG_POLL_MS */
    poll_once(g, s, due > now + 1000 ? LG_POLL_MS : 0);
  }
  drain(g, s);
  sbctl_client_stats(g->client, &s->st1);
  s->cmds1 = g->rc ? sbctl_view_commands(g->rc) : -1;
  s->bus1 = bus_resent(g);
}

/* --- report ------------------------------------------------------------ */

static double ms(const sb_histogram_t *h, double q) { return sb_histogram_quantile(h, q) / 1000.0; }

static double rate_over(uint64_t n, int64_t t0, int64_t t1) { return t1 > t0 ? n / ((t1 - t0) / 1e6) : 0; }

static void print_timeline(const step_t *s) {
  printf(",\"timeline\":[");
  for (size_t k = 0; k < s->nsec; k++)
    printf("%s{\"t_s\":%zu,\"sent\":%llu,\"count\":%llu,\"p50_ms\":%.3f,\"p99_ms\":%.3f,\"max_ms\":%.3f}",
           k ? "," : "", k, (unsigned long long)s->sec_sent[k], (unsigned long long)sb_histogram_count(s->sec[k]),
           ms(s->sec[k], 0.5), ms(s->sec[k], 0.99), sb_histogram_max(s->sec[k]) / 1000.0);
  printf("]");
}

static void print_stages(const step_t *s) {
  printf(",\"stages_ms\":{");
  for (int i = 0; i < LG_STAGES; i++)
    printf("%s\"%s\":{\"count\":%llu,\"p50\":%.3f,\"p99\":%.3f}", i ? "," : "", stage_names[i],
           (unsigned long long)sb_histogram_count(s->stage[i]), ms(s->stage[i], 0.5), ms(s->stage[i], 0.99));
  printf("}");
}

/* When the step's schedule began (wall clock, for a caller that lines up
 * its own events with the timeline), requests sent again after
 * --resend-ms, events read twice on the feed (counted once), and hand-offs
 * re-sent inside the bus (own stack; -1 otherwise). */
static void print_delivery(const step_t *s) {
  printf(",\"t0_unix_ms\":%lld,\"resent\":%llu,\"feed_duplicates\":%llu", (long long)(s->t0_us / 1000),
         (unsigned long long)(s->st1.resent - s->st0.resent), (unsigned long long)s->feed_duplicates);
  printf(",\"bus_resent\":%lld", s->bus0 < 0 || s->bus1 < 0 ? -1 : s->bus1 - s->bus0);
}

static double span_ms(int64_t from_us, int64_t to_us) { return from_us && to_us ? (to_us - from_us) / 1000.0 : -1; }

/* The slowest events, slowest first: scheduled second and the time each
 * stage took (-1: a stamp is missing). Says which stage a tail comes from. */
static void print_slowest(const step_t *s) {
  slow_t v[LG_SLOWEST];
  size_t n = 0;
  for (size_t i = 0; i < LG_SLOWEST; i++)
    if (s->slowest[i].published_us)
      v[n++] = s->slowest[i];
  printf(",\"slowest\":[");
  for (size_t i = 0; i < n; i++) {
    size_t w = i; /* selection sort: ten entries */
    for (size_t j = i + 1; j < n; j++)
      if (v[j].decided_us - v[j].published_us > v[w].decided_us - v[w].published_us)
        w = j;
    slow_t e = v[w];
    v[w] = v[i];
    printf("%s{\"t_s\":%.3f,\"ms\":%.3f,\"%s\":%.3f,\"%s\":%.3f,\"%s\":%.3f,\"%s\":%.3f}", i ? "," : "",
           (e.published_us - s->t0_us) / 1e6, span_ms(e.published_us, e.decided_us), stage_names[LG_STAGE_INGEST],
           span_ms(e.published_us, e.ingested_us), stage_names[LG_STAGE_CLASSIFY],
           span_ms(e.ingested_us, e.classified_us), stage_names[LG_STAGE_ROUTE],
           span_ms(e.classified_us, e.decided_us), stage_names[LG_STAGE_NOTIFY], span_ms(e.decided_us, e.seen_us));
  }
  printf("]");
}

static void print_step(const lg_t *g, size_t i, int duration_s) {
  const step_t *s = &g->steps[i];
  uint64_t acked = (s->st1.ok + s->st1.duplicate) - (s->st0.ok + s->st0.duplicate);
  uint64_t errors = (s->st1.invalid - s->st0.invalid) + (s->st1.unknown_tenant - s->st0.unknown_tenant) +
                    s->build_errors;
  double cpe = s->cmds0 >= 0 && s->cmds1 >= 0 && s->sent ? (double)(s->cmds1 - s->cmds0) / (double)s->sent : -1;
  printf("{\"tool\":\"loadgen\",\"step\":%zu,\"schedule\":\"%s\",\"burst\":\"%s\",\"duration_s\":%d,"
         "\"offered_per_s\":%.1f,\"sent\":%llu,\"sent_per_s\":%.1f,\"acked\":%llu,\"achieved_ack_per_s\":%.1f,"
         "\"routed\":%llu,\"with_agent\":%llu,\"e2e_per_s\":%.1f,\"backlog\":%lld,\"drained\":%s,",
         i, g->poisson ? "poisson" : "fixed", sb_config_str(g->cfg, "burst"), duration_s, s->rate,
         (unsigned long long)s->sent, rate_over(s->sent, s->t0_us, s->t1_us), (unsigned long long)acked,
         rate_over(acked, s->t0_us, s->last_ack_us > s->t1_us ? s->last_ack_us : s->t1_us),
         (unsigned long long)s->routed, (unsigned long long)s->with_agent,
         rate_over(s->routed, s->t0_us, s->last_routed_us > s->t1_us ? s->last_routed_us : s->t1_us),
         (long long)s->sent - (long long)s->routed, s->drained ? "true" : "false");
  printf("\"latency_ms\":{\"count\":%llu,\"p50\":%.3f,\"p90\":%.3f,\"p99\":%.3f,\"p999\":%.3f,\"max\":%.3f,"
         "\"mean\":%.3f},\"send_lag_ms\":{\"p99\":%.3f,\"max\":%.3f},\"retries\":%llu,\"errors\":%llu,"
         "\"redis_commands_per_event\":%.2f,\"stack\":\"%s\"",
         (unsigned long long)sb_histogram_count(s->lat), ms(s->lat, 0.5), ms(s->lat, 0.9), ms(s->lat, 0.99),
         ms(s->lat, 0.999), sb_histogram_max(s->lat) / 1000.0, sb_histogram_mean(s->lat) / 1000.0,
         ms(s->lag, 0.99), sb_histogram_max(s->lag) / 1000.0,
         (unsigned long long)(s->st1.retried - s->st0.retried), (unsigned long long)errors, cpe,
         g->stack ? "private (redis AOF everysec, same machine)" : "external");
  print_delivery(s);
  print_slowest(s);
  print_stages(s);
  print_timeline(s);
  printf("}\n");
  fflush(stdout);
}

/* --- setup ------------------------------------------------------------- */

static int start_stack(lg_t *g) {
  char bindir[4096];
  sbctl_bindir(bindir, sizeof bindir);
  sbctl_stack_opts_t o = {.tenants = sb_config_str(g->cfg, "tenants"), .appendfsync = "everysec",
                          .port_offset = -1, .bindir = bindir};
  if (!(g->stack = sbctl_stack_start(&o, &lg_stop)))
    return -1;
  int off = sbctl_stack_offset(g->stack);
  g->rc = sbctl_view_connect(sbctl_stack_redis_url(g->stack));
  snprintf(g->ingest, sizeof g->ingest, "tcp://127.0.0.1:%d", SB_PORT_INGEST_ZMQ + off);
  snprintf(g->feed, sizeof g->feed, "tcp://127.0.0.1:%d", SB_PORT_NOTIFY_PUB + off);
  fprintf(stderr, "loadgen: stack at port offset %d, redis %s, logs %s\n", off, sbctl_stack_redis_url(g->stack),
          sbctl_stack_logdir(g->stack));
  return 0;
}

/* Agents with room for every conversation the schedule can open; they log
 * in and hold what they get. The helper is dropped once they are in. */
static int login_agents(lg_t *g, double events) {
  sbctl_client_t *ac = sbctl_client_new(g->zctx, g->ingest);
  long conversations = (long)(events / LG_MSGS_PER_CONV) + 1;
  long per_tenant = conversations / (long)sb_tenants_count(g->tenants) / LG_AGENT_CAPACITY + 2;
  sbctl_agents_opts_t ao = {(int)per_tenant, LG_AGENT_CAPACITY, -1, 0};
  char feed[LG_ENDPOINTS_MAX]; /* the helper takes one feed; logins need no more */
  snprintf(feed, sizeof feed, "%.*s", (int)strcspn(g->feed, ","), g->feed);
  sbctl_agents_t *a = ac ? sbctl_agents_new(g->zctx, feed, ac, g->tenants, &ao) : NULL;
  int64_t start = sb_now_ms();
  while (a && !lg_stop && sb_now_ms() < start + LG_LOGIN_MS &&
         (sbctl_client_outstanding(ac) || sb_now_ms() < start + LG_LOGIN_MIN_MS)) {
    zmq_pollitem_t it[] = {{sbctl_client_socket(ac), 0, ZMQ_POLLIN, 0}, {sbctl_agents_socket(a), 0, ZMQ_POLLIN, 0}};
    sbctl_agents_tick(a);
    if (zmq_poll(it, 2, 5) > 0) {
      if (it[0].revents)
        sbctl_client_on_readable(ac);
      if (it[1].revents)
        sbctl_agents_on_readable(a);
    }
    read_feed(g);
  }
  int rc = a && sbctl_client_outstanding(ac) == 0 ? 0 : -1;
  sbctl_agents_destroy(&a);
  sbctl_client_destroy(&ac);
  fprintf(stderr, "loadgen: %ld agents per tenant %s\n", per_tenant, rc ? "NOT logged in" : "logged in");
  return rc;
}

/* The SUB joins every notify replica's feed: each event is published by
 * the one replica that committed it. */
static int connect_feeds(lg_t *g) {
  char copy[LG_ENDPOINTS_MAX], *save = NULL;
  int n = 0;
  snprintf(copy, sizeof copy, "%s", g->feed);
  for (char *e = strtok_r(copy, ",", &save); e; e = strtok_r(NULL, ",", &save), n++)
    if (zmq_connect(g->sub, e) != 0) {
      fprintf(stderr, "loadgen: --feed %s: %s\n", e, zmq_strerror(zmq_errno()));
      return -1;
    }
  return n ? 0 : -1;
}

static int open_sockets(lg_t *g) {
  g->client = sbctl_client_new(g->zctx, g->ingest);
  if (!g->client) {
    fprintf(stderr, "loadgen: --ingest %s: cannot connect\n", g->ingest);
    return -1;
  }
  /* a request lost with a stopping ingest goes to another one; stamped
   * with its scheduled time, the wait counts against the bus */
  sbctl_client_resend_after(g->client, (int)sb_config_int(g->cfg, "resend-ms"));
  g->sub = zmq_socket(g->zctx, ZMQ_SUB);
  int linger = 0, hwm = 0, ivl = LG_RECONNECT_MS; /* no drops at the subscriber: we measure */
  zmq_setsockopt(g->sub, ZMQ_LINGER, &linger, sizeof linger);
  zmq_setsockopt(g->sub, ZMQ_RCVHWM, &hwm, sizeof hwm);
  zmq_setsockopt(g->sub, ZMQ_RECONNECT_IVL, &ivl, sizeof ivl);
  zmq_setsockopt(g->sub, ZMQ_SUBSCRIBE, "", 0);
  return connect_feeds(g);
}

/* An upper bound of the events the schedule sends: a burst covers at most
 * dur_s of every started period (Poisson's variance is covered by the
 * agents' spare room, see login_agents). */
static double planned_events(const lg_t *g, int duration_s) {
  const burst_t *b = &g->burst;
  double burst_s = 0, total = 0;
  if (b->mult > 1)
    burst_s = fmin(duration_s, ceil(duration_s / b->every_s) * b->dur_s);
  for (size_t i = 0; i < g->nsteps; i++)
    total += g->steps[i].rate * (duration_s + burst_s * (b->mult - 1));
  return total;
}

static int setup(lg_t *g, int duration_s) {
  char err[512], path[4096];
  if (!*sb_config_str(g->cfg, "tenants")) {
    snprintf(path, sizeof path, "%s/corpus/tenants.json", SB_SOURCE_DIR);
    sb_config_set(g->cfg, "tenants", path);
  }
  if (!(g->tenants = sb_tenants_load(sb_config_str(g->cfg, "tenants"), err, sizeof err))) {
    fprintf(stderr, "loadgen: %s\n", err);
    return -1;
  }
  snprintf(g->ingest, sizeof g->ingest, "%s", sb_config_str(g->cfg, "ingest"));
  snprintf(g->feed, sizeof g->feed, "%s", sb_config_str(g->cfg, "feed"));
  if ((!*g->ingest || !*g->feed) && start_stack(g))
    return -1;
  g->zctx = zmq_ctx_new();
  if (open_sockets(g))
    return -1;
  return login_agents(g, planned_events(g, duration_s));
}

static void teardown(lg_t *g) {
  sbctl_client_destroy(&g->client);
  if (g->sub)
    zmq_close(g->sub);
  if (g->zctx)
    zmq_ctx_term(g->zctx);
  if (g->rc)
    redisFree(g->rc);
  sbctl_stack_stop(&g->stack);
  sb_tenants_destroy(&g->tenants);
  free(g->seen);
  for (size_t i = 0; i < g->nsteps; i++)
    step_free(&g->steps[i]);
}

static int configure(lg_t *g, int argc, char **argv) {
  static const sb_option_t *const tables[] = {lg_options, NULL};
  char err[512];
  g->cfg = sb_config_new("loadgen", tables);
  int rc = g->cfg ? sb_config_load(g->cfg, argc, argv, err, sizeof err) : -1;
  if (rc == SB_CONFIG_EXIT)
    return 1;
  const char *sched = rc == 0 ? sb_config_str(g->cfg, "schedule") : "";
  g->poisson = strcmp(sched, "poisson") == 0;
  if (rc == 0 && (!g->poisson && strcmp(sched, "fixed") != 0))
    snprintf(err, sizeof err, "--schedule: poisson or fixed"), rc = -1;
  else if (rc == 0 && (parse_rates(g, sb_config_str(g->cfg, "rates")) || sb_config_int(g->cfg, "duration") < 1))
    snprintf(err, sizeof err, "--rates: positive numbers; --duration: at least 1 s"), rc = -1;
  else if (rc == 0 && parse_burst(sb_config_str(g->cfg, "burst"), &g->burst))
    snprintf(err, sizeof err, "--burst: MULTx:DURs:everyPERs, e.g. 5x:2s:every10s"), rc = -1;
  if (rc)
    fprintf(stderr, "loadgen: %s\n", err);
  return rc;
}

int main(int argc, char **argv) {
  static lg_t g;
  signal(SIGINT, on_signal);
  signal(SIGTERM, on_signal);
  int rc = configure(&g, argc, argv);
  if (rc) {
    sb_config_destroy(&g.cfg);
    return rc > 0 ? 0 : 2;
  }
  int duration_s = (int)sb_config_int(g.cfg, "duration");
  long long seed = sb_config_int(g.cfg, "seed");
  g.xsubi[0] = (unsigned short)seed, g.xsubi[1] = (unsigned short)(seed >> 16), g.xsubi[2] = 0x330e;
  snprintf(g.run, sizeof g.run, "lg%lx%x", (long)time(NULL), (unsigned)getpid());
  for (size_t i = 0; i < g.nsteps; i++)
    if (step_alloc(&g.steps[i], duration_s))
      lg_stop = 1;
  rc = !lg_stop && setup(&g, duration_s) == 0 ? 0 : 1;
  for (size_t i = 0; rc == 0 && i < g.nsteps && !lg_stop; i++) {
    run_step(&g, &g.steps[i], duration_s);
    print_step(&g, i, duration_s);
    if (g.stack && sbctl_stack_check(g.stack) >= 0) {
      fprintf(stderr, "loadgen: a service exited; see %s\n", sbctl_stack_logdir(g.stack));
      rc = 1;
    }
  }
  teardown(&g);
  sb_config_destroy(&g.cfg);
  return rc || lg_stop ? 1 : 0;
}
