/*
 * route_bench: routing decisions per second and decision latency of
 * route.lua against a private redis-server, for each strategy, with
 * 10,000 agents online across 100 queues and 200 skills (by default).
 *
 * Each queue requires two skills; each agent holds the skills of three
 * queues (levels 1..5), so it serves about three queues. All agents log in
 * (capacity 4), then messages open new conversations in random queues
 * while an equal number of closes (of the oldest open conversations) free
 * capacity, so the system stays in the busy steady state where a decision
 * both ranks agents and, on a close, pulls from a waiting line. Calls carry
 * --batch items, as sb_stage sends them; the latency pass makes one call
 * per decision (batch 1) and reports the round trip over loopback.
 *
 * Also reported: Redis commands per item in the throughput phase (INFO
 * commandstats, those inside the script and the bench's own lease writes
 * included), the time Redis's thread spent in the script per item (INFO
 * commandstats' EVALSHA usec: what the script costs Redis, less disturbed
 * by a noisy machine than decisions/s, so the figure to compare two
 * versions of route.lua by), and Redis memory per logged-in agent and per
 * waiting conversation (INFO used_memory before and after).
 *
 *   route_bench [--agents N] [--queues N] [--skills N] [--messages N]
 *               [--batch N] [--latency N] [--strategy NAME]
 * Output: one JSON object per strategy on stdout.
 */
#include "sb_envelope.h"
#include "sb_redisd.h"
#include "sb_route.h"
#include "sb_route_config.h"
#include "sb_script.h"
#include "sb_stage.h"
#include "sb_time.h"

#include <hiredis/hiredis.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>


typedef struct {
  int agents, queues, skills, messages, batch, latency, capacity;
  const char *strategy;
} opts_t;

typedef struct {
  redisContext *rc;
  char sha[41];
  sb_route_config_t *cfg;
  const opts_t *o;
  long long key;
  /* open conversations in assignment order: conv id -> agent */
  char (*open_conv)[24];
  char (*open_agent)[24];
  size_t open_head, open_tail, open_cap;
  long long decisions, assigned, queued;
} bench_t;

#define NEXTRA 10
#define FIXED 10

static char *config_json(const opts_t *o, const char *strategy) {
  size_t cap = (size_t)o->queues * 160 + (size_t)o->agents * 200 + 256, len = 0;
  char *j = malloc(cap);
  len += (size_t)snprintf(j + len, cap - len, "{\"queues\": [");
  for (int q = 0; q < o->queues; q++)
    len += (size_t)snprintf(j + len, cap - len,
                            "%s{\"id\": \"q%d\", \"strategy\": \"%s\", \"skills\": {\"s%d\": 1, \"s%d\": 1}}",
                            q ? "," : "", q, strategy, (2 * q) % o->skills, (2 * q + 1) % o->skills);
  len += (size_t)snprintf(j + len, cap - len, "], \"agents\": [");
  srand(42);
  for (int a = 0; a < o->agents; a++) {
    int qs[3] = {a % o->queues, (a * 7 + 3) % o->queues, (a * 13 + 5) % o->queues};
    len += (size_t)snprintf(j + len, cap - len, "%s{\"id\": \"a%d\", \"skills\": {", a ? "," : "", a);
    int first = 1;
    for (int k = 0; k < 3; k++) {
      if ((k == 1 && qs[1] == qs[0]) || (k == 2 && (qs[2] == qs[0] || qs[2] == qs[1])))
        continue;
      len += (size_t)snprintf(j + len, cap - len, "%s\"s%d\": %d, \"s%d\": %d", first ? "" : ",",
                              (2 * qs[k]) % o->skills, 1 + rand() % 5, (2 * qs[k] + 1) % o->skills,
                              1 + rand() % 5);
      first = 0;
    }
    len += (size_t)snprintf(j + len, cap - len, "}}");
  }
  snprintf(j + len, cap - len, "]}");
  return j;
}

/* Commands Redis has run since the last CONFIG RESETSTAT (INFO
 * commandstats: every calls=, those scripts make included), and in
 * *script_us the microseconds its thread spent in EVALSHA (the scripts,
 * their commands included). */
static long long commands_run(redisContext *rc, long long *script_us) {
  redisReply *r = redisCommand(rc, "INFO commandstats");
  long long n = 0;
  const char *text = r && r->str ? r->str : "", *e = strstr(text, "cmdstat_evalsha:");
  for (const char *p = text; (p = strstr(p, "calls=")); p += 6)
    n += atoll(p + 6);
  e = e ? strstr(e, "usec=") : NULL;
  *script_us = e ? atoll(e + 5) : 0;
  freeReplyObject(r);
  return n;
}

static long long used_memory(redisContext *rc) {
  redisReply *r = redisCommand(rc, "INFO memory");
  const char *m = r && r->str ? strstr(r->str, "used_memory:") : NULL;
  long long v = m ? atoll(m + 12) : 0;
  freeReplyObject(r);
  return v;
}

/* One script call over n items; each item is NEXTRA strings in args.
 * Returns the reply (caller frees) after recording the leases. */
static redisReply *call(bench_t *b, const char *const (*items)[NEXTRA], int n) {
  char now[24], keys[512][24];
  snprintf(now, sizeof now, "%" PRId64, sb_now_us());
  const char **argv = malloc(sizeof *argv * (size_t)(FIXED + 2 + n * (NEXTRA + 2)));
  const char *fixed[] = {"EVALSHA", b->sha, "1", "sb:{t:bench}:stats", now, "0", "route", "", "routed",
                         "10", "3600"};
  int argc = 0;
  for (size_t i = 0; i < sizeof fixed / sizeof fixed[0]; i++)
    argv[argc++] = fixed[i];
  redisAppendCommand(b->rc, "MULTI");
  for (int i = 0; i < n; i++) {
    snprintf(keys[i], sizeof keys[i], "k%lld", ++b->key);
    redisAppendCommand(b->rc, "ZADD sb:{t:bench}:lease:route 1 %s", keys[i]);
  }
  redisAppendCommand(b->rc, "EXEC");
  for (int i = 0; i < n + 2; i++) {
    redisReply *r;
    redisGetReply(b->rc, (void **)&r);
    freeReplyObject(r);
  }
  for (int i = 0; i < n; i++) {
    argv[argc++] = keys[i];
    argv[argc++] = "";
    for (int k = 0; k < NEXTRA; k++)
      argv[argc++] = items[i][k];
  }
  redisReply *r = redisCommandArgv(b->rc, argc, argv, NULL);
  free(argv);
  if (!r || r->type != REDIS_REPLY_ARRAY) {
    fprintf(stderr, "route_bench: %s\n", r && r->str ? r->str : "no reply");
    exit(1);
  }
  return r;
}

static void open_push(bench_t *b, const char *conv, const char *agent) {
  size_t i = b->open_tail++ % b->open_cap;
  snprintf(b->open_conv[i], sizeof b->open_conv[i], "%s", conv);
  snprintf(b->open_agent[i], sizeof b->open_agent[i], "%s", agent);
}

/* Reads the decisions of one call: counts them and remembers assignments
 * so that they can be closed later. */
static void account(bench_t *b, redisReply *r) {
  for (size_t i = 0; i < r->elements; i++) {
    const redisReply *suffix = sb_stage_reply_suffix(r->element[i]);
    if (!suffix)
      continue;
    sb_envelope_t *e = sb_envelope_unpack(suffix->str, suffix->len);
    const Switchboard__V1__RoutingDecision *d = e ? e->routing : NULL;
    if (d && d->outcome == SWITCHBOARD__V1__ROUTE_OUTCOME__ROUTE_ASSIGNED) {
      b->decisions++;
      b->assigned++;
      open_push(b, d->conversation, d->agent);
    } else if (d && d->outcome == SWITCHBOARD__V1__ROUTE_OUTCOME__ROUTE_QUEUED) {
      b->decisions++;
      b->queued++;
    }
    for (size_t k = 0; d && k < d->n_pulled; k++) {
      b->decisions++;
      b->assigned++;
      open_push(b, d->pulled[k]->conversation, d->pulled[k]->agent);
    }
    sb_envelope_free(e);
  }
}

static int cmp_u64(const void *a, const void *b) {
  uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
  return x < y ? -1 : x > y;
}

/* Builds n items: alternately a new conversation and a close of the
 * oldest open one (when there is one). storage: per-item strings. */
typedef struct {
  char conv[24], cust[32], prio[8], agent[24];
} item_text_t;

static int build_items(bench_t *b, int n, const char *(*items)[NEXTRA], item_text_t *txt,
                       int *messages_left) {
  int k = 0;
  for (; k < n && (*messages_left > 0 || b->open_head < b->open_tail); k++) {
    item_text_t *t = &txt[k];
    if ((k % 2 == 0 || b->open_head == b->open_tail) && *messages_left > 0) {
      long long id = b->key + k + 1;
      snprintf(t->conv, sizeof t->conv, "c%lld", id);
      snprintf(t->cust, sizeof t->cust, "webchat:u%lld", id);
      snprintf(t->prio, sizeof t->prio, "%d", rand() % 100);
      char qid[16];
      snprintf(qid, sizeof qid, "q%d", rand() % b->o->queues);
      const char *it[NEXTRA] = {"m", t->conv, t->cust, "1700000000000", "webchat",
                                sb_route_config_queue_spec(b->cfg, qid), t->prio, "1", "bench",
                                sb_route_config_windows(b->cfg)};
      memcpy(items[k], it, sizeof it);
      (*messages_left)--;
    } else if (b->open_head < b->open_tail) {
      size_t i = b->open_head++ % b->open_cap;
      snprintf(t->conv, sizeof t->conv, "%s", b->open_conv[i]);
      snprintf(t->agent, sizeof t->agent, "%s", b->open_agent[i]);
      const char *it[NEXTRA] = {"a", "close", t->agent, t->conv, "0", "", "", "", "", ""};
      memcpy(items[k], it, sizeof it);
    } else {
      break;
    }
  }
  return k;
}

static void run(const opts_t *o, const char *strategy, const char *url) {
  bench_t b = {.o = o, .open_cap = (size_t)o->messages * 2 + 16};
  b.rc = redisConnect("127.0.0.1", atoi(strrchr(url, ':') + 1));
  freeReplyObject(redisCommand(b.rc, "FLUSHALL"));
  freeReplyObject(redisCommand(b.rc, "CONFIG RESETSTAT"));
  char *json = config_json(o, strategy);
  char err[256];
  sb_tenant_t t = {.id = "bench"};
  b.cfg = sb_route_config_new(&t, json, err, sizeof err);
  free(json);
  if (!b.cfg) {
    fprintf(stderr, "route_bench: %s\n", err);
    exit(1);
  }
  char *body = sb_route_script(sb_script_route);
  char *src = sb_script_source(body);
  free(body);
  redisReply *r = redisCommand(b.rc, "SCRIPT LOAD %s", src);
  snprintf(b.sha, sizeof b.sha, "%s", r->str);
  freeReplyObject(r);
  free(src);
  b.open_conv = calloc(b.open_cap, sizeof *b.open_conv);
  b.open_agent = calloc(b.open_cap, sizeof *b.open_agent);
  int batch = o->batch > 512 ? 512 : o->batch;
  const char *(*items)[NEXTRA] = calloc((size_t)batch, sizeof *items);
  item_text_t *txt = calloc((size_t)batch, sizeof *txt);
  char (*names)[24] = calloc((size_t)batch, sizeof *names), cap[8];
  snprintf(cap, sizeof cap, "%d", o->capacity);

  /* everyone logs in */
  long long mem0 = used_memory(b.rc);
  for (int i = 0; i < o->agents;) {
    int n = 0;
    for (; n < batch && i < o->agents; n++, i++) {
      snprintf(names[n], sizeof names[n], "a%d", i);
      const char *it[NEXTRA] = {"a", "login", names[n], "", cap,
                                sb_route_config_agent_spec(b.cfg, names[n]), "", "", "", ""};
      memcpy(items[n], it, sizeof it);
    }
    freeReplyObject(call(&b, items, n));
  }
  long long mem_agents = used_memory(b.rc) - mem0;

  /* throughput: messages and closes in batches */
  srand(7);
  int left = o->messages;
  long long us0, us1;
  long long cmds0 = commands_run(b.rc, &us0);
  int64_t t0 = sb_now_us();
  long long items_done = 0;
  int n;
  while ((n = build_items(&b, batch, items, txt, &left)) > 0) {
    r = call(&b, items, n);
    account(&b, r);
    freeReplyObject(r);
    items_done += n;
  }
  double secs = (double)(sb_now_us() - t0) / 1e6;
  long long decisions = b.decisions, assigned = b.assigned, queued = b.queued;
  long long cmds = commands_run(b.rc, &us1) - cmds0 - 1; /* less the INFO that read cmds0 */
  if (getenv("ROUTE_BENCH_COMMANDS")) { /* what the scripts called, to stderr */
    r = redisCommand(b.rc, "INFO commandstats");
    fprintf(stderr, "%s\n", r->str);
    freeReplyObject(r);
  }

  /* latency: one decision per call */
  uint64_t *lat = calloc((size_t)o->latency, sizeof *lat);
  left = o->latency / 2;
  int m = 0;
  while (m < o->latency && (n = build_items(&b, 1, items, txt, &left)) > 0) {
    int64_t s0 = sb_now_us();
    r = call(&b, items, 1);
    lat[m++] = (uint64_t)(sb_now_us() - s0);
    account(&b, r);
    freeReplyObject(r);
  }
  qsort(lat, (size_t)m, sizeof *lat, cmp_u64);

  /* memory per waiting conversation: everyone away, then conversations */
  for (int i = 0; i < o->agents;) {
    int k = 0;
    for (; k < batch && i < o->agents; k++, i++) {
      snprintf(names[k], sizeof names[k], "a%d", i);
      const char *it[NEXTRA] = {"a", "status", names[k], "", "0", "", "", "", "away", ""};
      memcpy(items[k], it, sizeof it);
    }
    freeReplyObject(call(&b, items, k));
  }
  freeReplyObject(redisCommand(b.rc, "DEL sb:{t:bench}:lease:route"));
  long long memw0 = used_memory(b.rc), waiting = 10000;
  left = (int)waiting;
  b.open_head = b.open_tail; /* no closes */
  while ((n = build_items(&b, batch, items, txt, &left)) > 0)
    freeReplyObject(call(&b, items, n));
  freeReplyObject(redisCommand(b.rc, "DEL sb:{t:bench}:lease:route"));
  long long mem_wait = used_memory(b.rc) - memw0;

  printf("{\"strategy\": \"%s\", \"agents\": %d, \"queues\": %d, \"skills\": %d, \"batch\": %d,"
         " \"items\": %lld, \"decisions\": %lld, \"assigned\": %lld, \"queued\": %lld,"
         " \"seconds\": %.3f, \"decisions_per_s\": %.0f, \"items_per_s\": %.0f,"
         " \"latency_us\": {\"calls\": %d, \"p50\": %" PRIu64 ", \"p99\": %" PRIu64 ", \"max\": %" PRIu64 "},"
         " \"redis_commands_per_item\": %.2f, \"redis_script_us_per_item\": %.1f,"
         " \"redis_bytes_per_agent\": %lld, \"redis_bytes_per_waiting_conversation\": %lld}\n",
         strategy, o->agents, o->queues, o->skills, batch, items_done, decisions, assigned,
         queued, secs, (double)decisions / secs, (double)items_done / secs, m,
         m ? lat[m / 2] : 0, m ? lat[(size_t)(m * 0.99)] : 0, m ? lat[m - 1] : 0,
         items_done ? (double)cmds / (double)items_done : 0.0,
         items_done ? (double)(us1 - us0) / (double)items_done : 0.0,
         mem_agents / o->agents, mem_wait / waiting);
  fflush(stdout);
  free(lat);
  free(items);
  free(txt);
  free(names);
  free(b.open_conv);
  free(b.open_agent);
  sb_route_config_destroy(&b.cfg);
  redisFree(b.rc);
}

int main(int argc, char **argv) {
  opts_t o = {10000, 100, 200, 100000, 64, 5000, 4, NULL};
  for (int i = 1; i + 1 < argc; i += 2) {
    if (!strcmp(argv[i], "--agents")) o.agents = atoi(argv[i + 1]);
    else if (!strcmp(argv[i], "--queues")) o.queues = atoi(argv[i + 1]);
    else if (!strcmp(argv[i], "--skills")) o.skills = atoi(argv[i + 1]);
    else if (!strcmp(argv[i], "--messages")) o.messages = atoi(argv[i + 1]);
    else if (!strcmp(argv[i], "--batch")) o.batch = atoi(argv[i + 1]);
    else if (!strcmp(argv[i], "--latency")) o.latency = atoi(argv[i + 1]);
    else if (!strcmp(argv[i], "--strategy")) o.strategy = argv[i + 1];
    else {
      fprintf(stderr, "usage: route_bench [--agents N] [--queues N] [--skills N] [--messages N]"
                      " [--batch N] [--latency N] [--strategy NAME]\n");
      return 2;
    }
  }
  if (o.agents < 1 || o.queues < 1 || o.skills < 2 || o.messages < 1 || o.batch < 1 ||
      o.latency < 1) {
    fprintf(stderr, "route_bench: every count must be positive (skills >= 2)\n");
    return 2;
  }
  sb_redisd_t *d = sb_redisd_start(NULL);
  if (!d) {
    fprintf(stderr, "route_bench: cannot start redis-server\n");
    return 1;
  }
  for (int s = 0; s < SB_ROUTE_STRATEGY_N; s++) {
    const char *name = sb_route_strategy_name((sb_route_strategy_t)s);
    if (!o.strategy || !strcmp(o.strategy, name))
      run(&o, name, sb_redisd_url(d));
  }
  sb_redisd_stop(&d);
  return 0;
}
