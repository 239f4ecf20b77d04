/* sbctl_bench: see sbctl_bench.h. */
#include "sbctl_bench.h"
#include "sbctl_agents.h"
#include "sbctl_client.h"
#include "sbctl_stack.h"
#include "sbctl_up.h"
#include "sbctl_view.h"
#include "sb_admit.h"
#include "sb_service.h"
#include "sb_time.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zmq.h>

#define BENCH_MSGS_PER_CONV 4       /* each customer writes this many messages */
#define BENCH_AGENT_CAPACITY 100
#define BENCH_TICK_MS 1
#define BENCH_DRAIN_TIMEOUT_MS 300000
#define BENCH_TEXT "Hello, my flight to Lisbon was cancelled and I need to rebook for tomorrow."

const sb_option_t sbctl_bench_options[] = {
    {"events", SB_OPT_INT, "100000", "bench: messages in the throughput phase"},
    {"latency-events", SB_OPT_INT, "30000", "bench: messages in the latency phase (at half the rate)"},
    {NULL, 0, NULL, NULL}};

static volatile sig_atomic_t bench_stop;
static void on_signal(int s) { bench_stop = s; }

typedef struct {
  sbctl_stack_t *stack;
  sb_tenants_t *tenants;
  redisContext *rc;
  void *zctx;
  sbctl_client_t *client, *agent_client;
  sbctl_agents_t *agents;
  long seq;
} bench_t;

static sb_envelope_t *message(bench_t *b, long i, const char *phase) {
  /* a customer (BENCH_MSGS_PER_CONV messages in a row) belongs to one tenant */
  const sb_tenant_t *t = sb_tenants_at(b->tenants, (size_t)(i / BENCH_MSGS_PER_CONV) % sb_tenants_count(b->tenants));
  char id[64], customer[64];
  snprintf(id, sizeof id, "%s-%ld", phase, i);
  snprintf(customer, sizeof customer, "%s-c%ld", phase, i / BENCH_MSGS_PER_CONV);
  cJSON *d = cJSON_CreateObject();
  cJSON_AddStringToObject(d, "channel", "whatsapp");
  cJSON_AddStringToObject(d, "customer", customer);
  cJSON_AddStringToObject(d, "text", BENCH_TEXT);
  sb_cloudevent_t ce = {.id = id, .source = "/bench", .type = SB_TYPE_INTERACTION, .specversion = "1.0",
                        .tenant = (char *)t->id, .data = cJSON_PrintUnformatted(d)};
  cJSON_Delete(d);
  sb_admit_result_t ar;
  sb_envelope_t *env = sb_admit_cloudevent(&ce, b->tenants, &ar);
  free(ce.data);
  if (env)
    env->time_ms = 0;
  return env;
}

static void poll_all(bench_t *b, int timeout_ms) {
  zmq_pollitem_t it[] = {{sbctl_client_socket(b->client), 0, ZMQ_POLLIN, 0},
                         {sbctl_client_socket(b->agent_client), 0, ZMQ_POLLIN, 0},
                         {sbctl_agents_socket(b->agents), 0, ZMQ_POLLIN, 0}};
  sbctl_client_pump(b->client);
  sbctl_agents_tick(b->agents);
  if (zmq_poll(it, 3, timeout_ms) <= 0)
    return;
  if (it[0].revents)
    sbctl_client_on_readable(b->client);
  if (it[1].revents)
    sbctl_client_on_readable(b->agent_client);
  if (it[2].revents)
    sbctl_agents_on_readable(b->agents);
}

/* Pumps until routed_messages reaches target and no lease is open. */
static int wait_drained(bench_t *b, long long target) {
  int64_t until = sb_now_ms() + BENCH_DRAIN_TIMEOUT_MS, next = 0;
  sbctl_stats_t s;
  while (!bench_stop && sb_now_ms() < until) {
    poll_all(b, 5);
    if (sb_now_ms() < next)
      continue;
    next = sb_now_ms() + 20;
    if (sbctl_view_read_all(b->rc, b->tenants, &s))
      return -1;
    if (s.routed_messages >= target && sbctl_view_inflight(&s) == 0 && sbctl_client_outstanding(b->client) == 0)
      return 0;
  }
  return -1;
}

static int start(bench_t *b, const sb_config_t *c, long conversations) {
  char bindir[4096], ep[64], feed[64], err[256];
  sbctl_bindir(bindir, sizeof bindir);
  b->tenants = sb_tenants_load(sb_config_str(c, "tenants"), err, sizeof err);
  sbctl_stack_opts_t o = {.tenants = sb_config_str(c, "tenants"), .appendfsync = "everysec",
                          .port_offset = -1, .bindir = bindir};
  b->stack = b->tenants ? sbctl_stack_start(&o, &bench_stop) : NULL;
  if (!b->stack)
    return -1;
  b->rc = sbctl_view_connect(sbctl_stack_redis_url(b->stack));
  int off = sbctl_stack_offset(b->stack);
  fprintf(stderr, "sbctl bench: stack at port offset %d, redis %s, logs %s\n", off,
          sbctl_stack_redis_url(b->stack), sbctl_stack_logdir(b->stack));
  snprintf(ep, sizeof ep, "tcp://127.0.0.1:%d", SB_PORT_INGEST_ZMQ + off);
  snprintf(feed, sizeof feed, "tcp://127.0.0.1:%d", SB_PORT_NOTIFY_PUB + off);
  b->zctx = zmq_ctx_new();
  b->client = sbctl_client_new(b->zctx, ep);
  b->agent_client = sbctl_client_new(b->zctx, ep);
  /* room for every conversation: agents only log in and hold */
  long per_tenant = conversations / (long)sb_tenants_count(b->tenants) / BENCH_AGENT_CAPACITY + 2;
  sbctl_agents_opts_t ao = {(int)per_tenant, BENCH_AGENT_CAPACITY, -1, 0};
  b->agents = sbctl_agents_new(b->zctx, feed, b->agent_client, b->tenants, &ao);
  int64_t until = sb_now_ms() + 10000;
  while (sb_now_ms() < until && (sbctl_client_outstanding(b->agent_client) || sb_now_ms() < until - 9500))
    poll_all(b, 5);
  return b->rc && b->client && b->agents ? 0 : -1;
}

static void stop(bench_t *b) {
  sbctl_agents_destroy(&b->agents);
  sbctl_client_destroy(&b->agent_client);
  sbctl_client_destroy(&b->client);
  if (b->zctx)
    zmq_ctx_term(b->zctx);
  if (b->rc)
    redisFree(b->rc);
  sbctl_stack_stop(&b->stack);
  sb_tenants_destroy(&b->tenants);
}

/* Where Redis's time went in the throughput phase, per event. */
typedef struct {
  double cmds, cpu_us;           /* commands; Redis CPU (INFO cpu) */
  sbctl_script_time_t scripts;   /* us and calls per script, over the phase */
} redis_cost_t;

/* after - before, script by script (a script new in after counts whole) */
static void scripts_diff(sbctl_script_time_t *after, const sbctl_script_time_t *before) {
  for (size_t i = 0; i < after->n; i++)
    for (size_t j = 0; j < before->n; j++)
      if (strcmp(after->s[i].name, before->s[j].name) == 0) {
        after->s[i].us -= before->s[j].us;
        after->s[i].calls -= before->s[j].calls;
      }
}

/* Phase 1: as fast as the window allows; returns events/s end to end. */
static double throughput(bench_t *b, long n, double *acked_rate, redis_cost_t *cost) {
  for (long i = 0; i < n; i++)
    sbctl_client_queue(b->client, message(b, i, "t"));
  sbctl_script_time_t st0;
  long long c0 = sbctl_view_commands(b->rc), cpu0 = sbctl_view_redis_cpu_us(b->rc);
  if (sbctl_view_script_time(b->rc, b->tenants, &st0))
    return 0;
  int64_t t0 = sb_now_us(), acked = 0;
  sbctl_stats_t s;
  sbctl_view_read_all(b->rc, b->tenants, &s);
  long long target = s.routed_messages + n;
  while (!bench_stop && sbctl_client_outstanding(b->client)) {
    poll_all(b, 5);
    if (!acked && !sbctl_client_outstanding(b->client))
      acked = sb_now_us();
  }
  acked = sb_now_us();
  if (wait_drained(b, target))
    return 0;
  int64_t t1 = sb_now_us();
  *acked_rate = n / ((acked - t0) / 1e6);
  cost->cmds = (double)(sbctl_view_commands(b->rc) - c0) / (double)n;
  cost->cpu_us = (double)(sbctl_view_redis_cpu_us(b->rc) - cpu0) / (double)n;
  if (sbctl_view_script_time(b->rc, b->tenants, &cost->scripts))
    return 0;
  scripts_diff(&cost->scripts, &st0);
  return n / ((t1 - t0) / 1e6);
}

/* Phase 2: open loop at rate events/s; the feed's histogram has latency. */
static int latency(bench_t *b, long n, double rate) {
  sbctl_stats_t s;
  sbctl_view_read_all(b->rc, b->tenants, &s);
  long long target = s.routed_messages + n;
  int64_t t0 = sb_now_us();
  long sent = 0;
  while (!bench_stop && sent < n) {
    int64_t now = sb_now_us();
    long due = (long)((now - t0) / 1e6 * rate);
    for (; sent < n && sent < due; sent++) {
      sb_envelope_t *env = message(b, sent, "l");
      if (env)
        env->published_us = t0 + (int64_t)(sent / rate * 1e6); /* the intended time */
      sbctl_client_queue(b->client, env);
    }
    poll_all(b, BENCH_TICK_MS);
  }
  return wait_drained(b, target);
}

static long peak_rss_kib(pid_t pid) {
  char path[64], line[256];
  snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
  FILE *f = fopen(path, "r");
  long kib = -1;
  while (f && fgets(line, sizeof line, f))
    if (sscanf(line, "VmHWM: %ld kB", &kib) == 1)
      break;
  if (f)
    fclose(f);
  return kib;
}

static void report(bench_t *b, long n, double eps, double acked, const redis_cost_t *cost, long ln,
                   double rate) {
  const sb_histogram_t *h = sbctl_agents_latency(b->agents);
  printf("{\"events\":%ld,\"end_to_end_events_per_s\":%.0f,\"acked_events_per_s\":%.0f,"
         "\"redis_commands_per_event\":%.2f,\"redis_cpu_us_per_event\":%.1f,\"redis_script_us_per_event\":{",
         n, eps, acked, cost->cmds, cost->cpu_us);
  double total = 0;
  for (size_t i = 0; i < cost->scripts.n; i++) {
    printf("\"%s\":%.2f,", cost->scripts.s[i].name, cost->scripts.s[i].us / (double)n);
    total += cost->scripts.s[i].us / (double)n;
  }
  printf("\"total\":%.1f},\"redis_script_calls_per_event\":{", total);
  for (size_t i = 0; i < cost->scripts.n; i++)
    printf("%s\"%s\":%.4f", i ? "," : "", cost->scripts.s[i].name, cost->scripts.s[i].calls / (double)n);
  printf("},\"latency_events\":%ld,\"latency_rate_per_s\":%.0f,"
         "\"publish_to_assigned_ms\":{\"p50\":%.3f,\"p99\":%.3f,\"max\":%.3f,\"count\":%llu},"
         "\"peak_rss_mib\":{",
         ln, rate, sb_histogram_quantile(h, 0.5) / 1000.0,
         sb_histogram_quantile(h, 0.99) / 1000.0, sb_histogram_max(h) / 1000.0,
         (unsigned long long)sb_histogram_count(h));
  for (int i = 0; i < SBCTL_NSERVICES; i++)
    printf("%s\"%s\":%.1f", i ? "," : "", sbctl_services[i].name,
           peak_rss_kib(sbctl_stack_pid(b->stack, i)) / 1024.0);
  printf("},\"redis\":\"AOF everysec, private, same machine\"}\n");
  fflush(stdout);
}

int sbctl_bench(const sb_config_t *c) {
  bench_t b = {0};
  long n = (long)sb_config_int(c, "events"), ln = (long)sb_config_int(c, "latency-events");
  signal(SIGINT, on_signal);
  signal(SIGTERM, on_signal);
  int rc = 1;
  if (n > 0 && start(&b, c, (n + ln) / BENCH_MSGS_PER_CONV + 1) == 0) {
    double acked = 0;
    redis_cost_t cost = {0};
    double eps = throughput(&b, n, &acked, &cost);
    if (eps > 0) {
      /* the latency phase measures its own events only */
      sbctl_agents_measure_from(b.agents, sb_now_us());
      if (latency(&b, ln, eps / 2) == 0) {
        report(&b, n, eps, acked, &cost, ln, eps / 2);
        rc = 0;
      }
    }
    if (rc)
      fprintf(stderr, "sbctl bench: the bus did not drain in time; see %s\n", sbctl_stack_logdir(b.stack));
  }
  stop(&b);
  return rc;
}
