/*
 * sla_bench: how accurately the real sb-sla-timer fires while a million
 * timers are armed and other SLA work loads Redis.
 *
 * A private redis-server (AOF everysec) gets --timers timers across
 * --tenants tenants, armed as sla_arm.lua arms a first response: per
 * conversation a warning and a breach member in the tenant's "timers"
 * sorted set and the clock in "timers:open" (keys in common/sb_keys.h).
 * --fire of them fall due during a --window-s window that starts a few
 * seconds after arming; the rest are due hours later and just sit there.
 * Meanwhile a second thread does --load-per-s arm-and-stop operations per
 * second on the same tenants (ZADD+HSET of a new timer, ZREM+HDEL of the
 * one armed a second before: the Redis work of the events that arm and
 * stop timers, without the rest of the pipeline).
 *
 * sb-sla-timer (the binary next to this one) claims due timers and hands
 * their SLA events to "notify", which is this program's PULL socket. For
 * each event: lateness = when it arrived here - its due time (SlaEvent
 * due_ms). Reported: p50/p99/max lateness, timers fired once / never /
 * more than once, Redis memory per armed timer.
 *
 *   sla_bench [--timers N] [--fire N] [--window-s S] [--tenants N]
 *             [--load-per-s N]
 * Output: one JSON object on stdout.
 */
#include "sb_envelope.h"
#include "sb_port.h"
#include "sb_redisd.h"
#include "sb_time.h"

#include <arpa/inet.h>
#include <hiredis/hiredis.h>
#include <inttypes.h>
#include <limits.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>
#include <zmq.h>

#define TARGET_MS 2000      /* first-response target: the warning is 400 ms before the breach */
#define WARN_PERCENT 80
#define ARM_CHUNK 200       /* conversations per ZADD/HSET command */
#define LEAD_MS 5000        /* the window opens this long after arming */
#define LOAD_TICK_MS 10

typedef struct {
  long timers, fire;
  int window_s, tenants, load_per_s;
} opts_t;

typedef struct {
  const char *url;
  int tenants, per_s;
  atomic_int stop;
  long ops;
} load_t;

static int parse_opts(int argc, char **argv, opts_t *o) {
  *o = (opts_t){1000000, 60000, 60, 10, 10000};
  for (int i = 1; i < argc; i += 2) {
    const char *v = i + 1 < argc ? argv[i + 1] : NULL;
    if (!v)
      return -1;
    if (strcmp(argv[i], "--timers") == 0)
      o->timers = atol(v);
    else if (strcmp(argv[i], "--fire") == 0)
      o->fire = atol(v);
    else if (strcmp(argv[i], "--window-s") == 0)
      o->window_s = atoi(v);
    else if (strcmp(argv[i], "--tenants") == 0)
      o->tenants = atoi(v);
    else if (strcmp(argv[i], "--load-per-s") == 0)
      o->load_per_s = atoi(v);
    else
      return -1;
  }
  /* timers come in pairs (warning, breach); the firing ones too */
  o->timers -= o->timers % 2, o->fire -= o->fire % 2;
  return o->timers >= 2 && o->fire >= 2 && o->fire <= o->timers && o->window_s > 0 &&
                 o->tenants > 0 && o->load_per_s >= 0
             ? 0
             : -1;
}

static redisContext *connect_url(const char *url) {
  int port = 0;
  if (sscanf(url, "redis://127.0.0.1:%d", &port) != 1)
    return NULL;
  redisContext *c = redisConnect("127.0.0.1", port);
  if (c && c->err) {
    redisFree(c);
    return NULL;
  }
  return c;
}

static long long used_memory(redisContext *c) {
  redisReply *r = redisCommand(c, "INFO memory");
  long long m = -1;
  const char *p = r && r->type == REDIS_REPLY_STRING ? strstr(r->str, "used_memory:") : NULL;
  if (p)
    m = atoll(p + strlen("used_memory:"));
  freeReplyObject(r);
  return m;
}

/* Arms conversations [from, to) of tenant t, the breach of conversation i
 * due at due(i): ZADD and HSET of ARM_CHUNK conversations per command. */
static int arm(redisContext *c, int t, long from, long to, int64_t (*due)(long i, void *),
               void *arg) {
  char timers[64], open[64];
  snprintf(timers, sizeof timers, "sb:{t:bench-%d}:timers", t);
  snprintf(open, sizeof open, "sb:{t:bench-%d}:timers:open", t);
  size_t cap = 2 + 4 * ARM_CHUNK;
  const char **argv = malloc(cap * sizeof *argv);
  size_t *lens = malloc(cap * sizeof *lens);
  char (*buf)[64] = malloc(cap * sizeof *buf), (*hb)[64] = malloc(cap * sizeof *hb);
  const char **hv = malloc(cap * sizeof *hv);
  size_t *hl = malloc(cap * sizeof *hl);
  int pending = 0, rc = 0;
  for (long i = from; i < to;) {
    size_t za = 0, ha = 0;
    /* ZADD key score member ... (two members per conversation) */
    argv[za++] = "ZADD", argv[za++] = timers;
    long end = i + ARM_CHUNK < to ? i + ARM_CHUNK : to;
    for (long k = i; k < end; k++) {
      int64_t breach = due(k, arg), warn = breach - TARGET_MS * (100 - WARN_PERCENT) / 100;
      size_t b = 4 * (size_t)(k - i);
      snprintf(buf[b], 64, "%" PRId64, warn);
      snprintf(buf[b + 1], 64, "w|c%ld|first_response", k);
      snprintf(buf[b + 2], 64, "%" PRId64, breach);
      snprintf(buf[b + 3], 64, "b|c%ld|first_response", k);
      for (int j = 0; j < 4; j++)
        argv[za++] = buf[b + j];
    }
    for (size_t j = 0; j < za; j++)
      lens[j] = strlen(argv[j]);
    redisAppendCommandArgv(c, (int)za, argv, lens);
    pending++;
    /* HSET open conv|target "<started>,<target>," ... */
    hv[ha++] = "HSET", hv[ha++] = open;
    for (long k = i; k < end; k++) {
      size_t b = 2 * (size_t)(k - i);
      snprintf(hb[b], 64, "c%ld|first_response", k);
      snprintf(hb[b + 1], 64, "%" PRId64 ",%d,", due(k, arg) - TARGET_MS, TARGET_MS);
      hv[ha++] = hb[b], hv[ha++] = hb[b + 1];
    }
    for (size_t j = 0; j < ha; j++)
      hl[j] = strlen(hv[j]);
    redisAppendCommandArgv(c, (int)ha, hv, hl);
    pending++;
    i = end;
    if (pending >= 64 || i >= to) {
      for (; pending > 0; pending--) {
        redisReply *r = NULL;
        if (redisGetReply(c, (void **)&r) != REDIS_OK || !r || r->type == REDIS_REPLY_ERROR)
          rc = -1;
        freeReplyObject(r);
      }
    }
  }
  free(argv), free(lens), free(buf), free(hb), free(hv), free(hl);
  return rc;
}

typedef struct {
  int64_t window_start;
  long fire_convs;
  int window_s;
} due_plan_t;

/* Conversations [0, fire_convs) fall due spread over the window; the
 * others 2..24 hours later. */
static int64_t planned_due(long i, void *arg) {
  const due_plan_t *p = arg;
  if (i < p->fire_convs)
    return p->window_start + (int64_t)i * p->window_s * 1000 / p->fire_convs;
  return p->window_start + 7200000 + (int64_t)(i % 79200) * 1000;
}

/* The background: arm a timer due in an hour, stop the one armed a second
 * ago, --load-per-s times a second, one pipeline per LOAD_TICK_MS. */
static void *load_thread(void *arg) {
  load_t *l = arg;
  redisContext *c = connect_url(l->url);
  if (!c)
    return NULL;
  long n = 0;
  int per_tick = l->per_s * LOAD_TICK_MS / 1000;
  int64_t next = sb_now_ms();
  while (!atomic_load(&l->stop)) {
    int64_t now = sb_now_ms();
    if (now < next) {
      usleep((useconds_t)(next - now) * 1000);
      continue;
    }
    next += LOAD_TICK_MS;
    int replies = 0;
    for (int k = 0; k < per_tick; k++, n++) {
      int t = (int)(n % l->tenants);
      long old = n - l->per_s;
      redisAppendCommand(c, "ZADD sb:{t:bench-%d}:timers %lld b|bg%ld|first_response", t,
                         (long long)(now + 3600000), n);
      redisAppendCommand(c, "HSET sb:{t:bench-%d}:timers:open bg%ld|first_response %lld,%d,", t, n,
                         (long long)now, TARGET_MS);
      replies += 2;
      if (old >= 0) {
        replies += 2;
        int ot = (int)(old % l->tenants);
        redisAppendCommand(c, "ZREM sb:{t:bench-%d}:timers b|bg%ld|first_response", ot, old);
        redisAppendCommand(c, "HDEL sb:{t:bench-%d}:timers:open bg%ld|first_response", ot, old);
      }
    }
    for (int k = 0; k < replies; k++) {
      redisReply *r = NULL;
      if (redisGetReply(c, (void **)&r) != REDIS_OK)
        break;
      freeReplyObject(r);
    }
  }
  l->ops = n;
  redisFree(c);
  return NULL;
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

static pid_t spawn_sla(const char *self, const char *url, const char *tenants, int pull_port) {
  char bin[PATH_MAX], next[64], listen[64], admin[16];
  snprintf(bin, sizeof bin, "%s", self);
  char *slash = strrchr(bin, '/');
  snprintf(slash ? slash + 1 : bin, sizeof bin - (size_t)(slash ? slash + 1 - bin : 0),
           "sb-sla-timer");
  snprintf(next, sizeof next, "tcp://127.0.0.1:%d", pull_port);
  snprintf(listen, sizeof listen, "tcp://127.0.0.1:%d", sb_port_pick());
  snprintf(admin, sizeof admin, "%d", sb_port_pick());
  pid_t pid = fork();
  if (pid == 0) {
    execl(bin, bin, "--redis-url", url, "--tenants", tenants, "--next", next, "--listen", listen,
          "--admin-port", admin, "--lease-ms", "3600000", "--service-level-s", "0", "--log-level",
          "warn", (char *)NULL);
    perror(bin);
    _exit(127);
  }
  return pid;
}

int main(int argc, char **argv) {
  opts_t o;
  if (parse_opts(argc, argv, &o)) {
    fprintf(stderr, "usage: sla_bench [--timers N] [--fire N] [--window-s S] [--tenants N] "
                    "[--load-per-s N]\n");
    return 2;
  }
  sb_redisd_opts_t ro = {.appendonly = 1, .appendfsync = "everysec"};
  sb_redisd_t *rd = sb_redisd_start(&ro);
  if (!rd)
    return 1;
  char tenants[PATH_MAX];
  snprintf(tenants, sizeof tenants, "%s/tenants.json", sb_redisd_dir(rd));
  FILE *f = fopen(tenants, "w");
  fprintf(f, "{\"tenants\": [");
  for (int t = 0; t < o.tenants; t++)
    fprintf(f, "%s{\"id\": \"bench-%d\", \"sla\": {\"first_response_ms\": %d, \"warn_percent\": %d}}",
            t ? ", " : "", t, TARGET_MS, WARN_PERCENT);
  fprintf(f, "]}\n");
  fclose(f);

  redisContext *c = connect_url(sb_redisd_url(rd));
  long long mem0 = used_memory(c);
  long convs = o.timers / 2, fire_convs = o.fire / 2;
  int64_t t0 = sb_now_ms();
  /* the window opens LEAD_MS after arming ends; arming takes a few seconds,
   * so plan it from an estimate and check below that nothing was late */
  due_plan_t plan = {t0 + LEAD_MS + convs / 50, fire_convs, o.window_s};
  for (int t = 0; t < o.tenants; t++) {
    /* conversation i belongs to tenant i % tenants: arm each tenant's share
     * as a contiguous block of ids for simplicity */
    long from = convs * t / o.tenants, to = convs * (t + 1) / o.tenants;
    if (arm(c, t, from, to, planned_due, &plan)) {
      fprintf(stderr, "sla_bench: arming failed\n");
      return 1;
    }
  }
  int64_t armed_ms = sb_now_ms() - t0;
  long long mem1 = used_memory(c);
  if (sb_now_ms() >= plan.window_start) {
    fprintf(stderr, "sla_bench: arming took %" PRId64 " ms, past the window's start\n", armed_ms);
    return 1;
  }

  void *zctx = zmq_ctx_new();
  void *pull = zmq_socket(zctx, ZMQ_PULL);
  int hwm = 0, pull_port = sb_port_pick();
  char ep[64];
  zmq_setsockopt(pull, ZMQ_RCVHWM, &hwm, sizeof hwm);
  snprintf(ep, sizeof ep, "tcp://127.0.0.1:%d", pull_port);
  if (zmq_bind(pull, ep)) {
    perror("zmq_bind");
    return 1;
  }
  load_t load = {.url = sb_redisd_url(rd), .tenants = o.tenants, .per_s = o.load_per_s};
  pthread_t lt;
  pthread_create(&lt, NULL, load_thread, &load);
  pid_t sla = spawn_sla(argv[0], sb_redisd_url(rd), tenants, pull_port);

  /* fired[i]: bit 0 warning, bit 1 breach; counts over 1 are duplicates */
  unsigned char *fired = calloc((size_t)fire_convs, 2);
  double *late = malloc((size_t)o.fire * sizeof *late);
  long got = 0, dups = 0, strays = 0;
  int64_t end = plan.window_start + (int64_t)o.window_s * 1000 + 30000;
  while (got < o.fire && sb_now_ms() < end) {
    zmq_pollitem_t pi = {pull, 0, ZMQ_POLLIN, 0};
    if (zmq_poll(&pi, 1, 100) <= 0)
      continue;
    zmq_msg_t m;
    zmq_msg_init(&m);
    if (zmq_msg_recv(&m, pull, 0) < 0) {
      zmq_msg_close(&m);
      continue;
    }
    double at = (double)sb_now_us() / 1000.0;
    sb_envelope_t *env = sb_envelope_unpack(zmq_msg_data(&m), zmq_msg_size(&m));
    zmq_msg_close(&m);
    long i = -1;
    const Switchboard__V1__SlaEvent *s = env && env->body_case == SWITCHBOARD__V1__ENVELOPE__BODY_SLA
                                             ? env->sla
                                             : NULL;
    if (s && s->conversation && sscanf(s->conversation, "c%ld", &i) == 1 && i >= 0 &&
        i < fire_convs) {
      int k = s->kind == SWITCHBOARD__V1__SLA_KIND__SLA_BREACH ? 1 : 0;
      if (fired[2 * i + k]++ == 0)
        late[got++] = at - (double)s->due_ms;
      else
        dups++;
    } else {
      strays++;
    }
    sb_envelope_free(env);
  }
  atomic_store(&load.stop, 1);
  pthread_join(lt, NULL);
  kill(sla, SIGTERM);
  waitpid(sla, NULL, 0);
  long never = 0;
  for (long i = 0; i < 2 * fire_convs; i++)
    never += fired[i] == 0;
  qsort(late, (size_t)got, sizeof *late, cmp_double);
  double p50 = got ? late[got / 2] : -1, p99 = got ? late[(long)(got * 0.99)] : -1;
  double mx = got ? late[got - 1] : -1, mn = got ? late[0] : -1;
  printf("{\"armed_timers\": %ld, \"tenants\": %d, \"fired_expected\": %ld, \"fired_once\": %ld, "
         "\"never_fired\": %ld, \"duplicates\": %ld, \"strays\": %ld, \"window_s\": %d, "
         "\"background_ops_per_s\": %d, \"background_ops\": %ld, \"arm_ms\": %" PRId64 ", "
         "\"lateness_ms\": {\"min\": %.2f, \"p50\": %.2f, \"p99\": %.2f, \"max\": %.2f}, "
         "\"redis_bytes_per_armed_timer\": %.1f}\n",
         o.timers, o.tenants, o.fire, got, never, dups, strays, o.window_s, o.load_per_s, load.ops,
         armed_ms, mn, p50, p99, mx, (double)(mem1 - mem0) / (double)o.timers);
  free(fired), free(late);
  zmq_close(pull);
  zmq_ctx_term(zctx);
  redisFree(c);
  sb_redisd_stop(&rd);
  return never == 0 && dups == 0 ? 0 : 1;
}
