/*
 * sbctl_up: see sbctl_up.h. A plain blocking tool: one zmq_poll loop over
 * the publisher, the agents' publisher and the feed, with a once-a-second
 * look at Redis for the view. (The services are the ones with one libuv
 * loop and no blocking call; sbctl is their client.)
 */
#include "sbctl_up.h"
#include "sbctl_agents.h"
#include "sbctl_client.h"
#include "sbctl_corpus.h"
#include "sbctl_progress.h"
#include "sbctl_stack.h"
#include "sbctl_view.h"
#include "sb_service.h"
#include "sb_time.h"

#include <errno.h>
#include <libgen.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zmq.h>

#define SBCTL_VIEW_MS 1000
#define SBCTL_PATH_MAX 4096

const sb_option_t sbctl_up_options[] = {
    {"replay", SB_OPT_STR, "", "up: JSON Lines of CloudEvents to publish"},
    {"exit-when-drained", SB_OPT_BOOL, "false", "up: exit when every replayed event is acknowledged and routed"},
    {"drain-timeout-s", SB_OPT_INT, "300", "up: give up waiting for the drain after this long (exit 1)"},
    {"agents", SB_OPT_INT, "5", "simulated agents per tenant"},
    {"capacity", SB_OPT_INT, "3", "conversations each simulated agent handles at once"},
    {"reply-ms", SB_OPT_INT, "800", "a simulated agent replies this long after an assignment"},
    {"close-ms", SB_OPT_INT, "400", "and closes this long after replying"},
    {"logs", SB_OPT_STR, "", "up: folder for the services' logs (default: a temporary folder)"},
    {NULL, 0, NULL, NULL}};


static volatile sig_atomic_t interrupted;
static void on_signal(int sig) { interrupted = sig; }

typedef struct {
  const sb_config_t *c;
  sbctl_stack_t *stack;
  int offset;
  sb_tenants_t *tenants;
  redisContext *rc;
  sbctl_stats_t base; /* figures before we started (shared Redis) */
} up_t;

void sbctl_bindir(char *out, size_t cap) {
  char exe[SBCTL_PATH_MAX];
  ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
  exe[n > 0 ? n : 0] = '\0';
  snprintf(out, cap, "%s", n > 0 ? dirname(exe) : ".");
}

static int start_all(up_t *u) {
  char bindir[SBCTL_PATH_MAX];
  sbctl_bindir(bindir, sizeof bindir);
  sbctl_stack_opts_t o = {.tenants = sb_config_str(u->c, "tenants"),
                          .redis_url = getenv("SB_REDIS_URL"),
                          .appendfsync = "everysec",
                          .port_offset = (int)sb_config_int(u->c, "port-offset"),
                          .logdir = sb_config_str(u->c, "logs"),
                          .bindir = bindir};
  u->stack = sbctl_stack_start(&o, &interrupted);
  if (!u->stack)
    return -1;
  u->offset = sbctl_stack_offset(u->stack);
  u->rc = sbctl_view_connect(sbctl_stack_redis_url(u->stack));
  return u->rc && sbctl_view_read_all(u->rc, u->tenants, &u->base) == 0 ? 0 : -1;
}

static void print_endpoints(const up_t *u) {
  int o = u->offset;
  printf("switchboard is up\n  redis        %s%s\n", sbctl_stack_redis_url(u->stack),
         sbctl_stack_private_redis(u->stack) ? " (private, AOF everysec)" : "");
  printf("  ingest HTTP  http://127.0.0.1:%d/v1/events\n", SB_PORT_INGEST_HTTP + o);
  printf("  ingest ZMQ   tcp://127.0.0.1:%d (PublishRequest)\n", SB_PORT_INGEST_ZMQ + o);
  printf("  feed (PUB)   tcp://127.0.0.1:%d\n", SB_PORT_NOTIFY_PUB + o);
  for (int i = SBCTL_NSERVICES - 1; i >= 0; i--)
    printf("  %-12s http://127.0.0.1:%d/metrics /healthz /readyz\n", sbctl_services[i].name,
           sbctl_services[i].admin_port + o);
  printf("  logs         %s\n", sbctl_stack_logdir(u->stack));
  fflush(stdout);
}

/* figures since we started (Redis may be shared) */
static void delta(const up_t *u, const sbctl_stats_t *now, sbctl_stats_t *d) {
  const long long *a = (const long long *)now, *b = (const long long *)&u->base;
  long long *o = (long long *)d;
  for (size_t i = 0; i < sizeof *d / sizeof(long long); i++)
    o[i] = a[i] - b[i];
  memcpy(d->inflight, now->inflight, sizeof d->inflight); /* gauges: as they are */
  d->waiting = now->waiting;
}

static void view(const sbctl_stats_t *d, const sbctl_client_stats_t *cs, sbctl_agents_t *ag,
                 double secs, int tty) {
  const sb_histogram_t *h = sbctl_agents_latency(ag);
  long long answered = d->sla_met + d->sla_missed;
  if (tty)
    printf("\033[H\033[2J");
  printf("t=%5.0fs  in %llu (ok %llu dup %llu bad %llu)  classified %lld  routed %lld  assigned %lld"
         "  waiting %lld  in-flight c/r/s/n %lld/%lld/%lld/%lld  answered %lld  SLA met %lld%%"
         "  warn %lld breach %lld  publish->assigned p50 %.2fms p99 %.2fms%s",
         secs, (unsigned long long)cs->sent, (unsigned long long)cs->ok,
         (unsigned long long)cs->duplicate, (unsigned long long)(cs->invalid + cs->unknown_tenant),
         d->classified, d->routed_messages, d->assigned, d->waiting, d->inflight[0], d->inflight[1],
         d->inflight[2], d->inflight[3], answered, answered ? 100 * d->sla_met / answered : 100,
         d->sla_warning, d->sla_breach, sb_histogram_quantile(h, 0.5) / 1000.0,
         sb_histogram_quantile(h, 0.99) / 1000.0, tty ? "\n(Ctrl-C stops everything)\n" : "\n");
  fflush(stdout);
}

static int drained(const sbctl_stats_t *d, const sbctl_client_stats_t *cs, sbctl_client_t *replay) {
  return sbctl_client_outstanding(replay) == 0 && sbctl_view_inflight(d) == 0 &&
         d->routed_messages >= (long long)cs->ok;
}

static void summary(const sbctl_stats_t *d, const sbctl_client_stats_t *cs, long bad, sbctl_agents_t *ag,
                    double secs, int ok) {
  const sb_histogram_t *h = sbctl_agents_latency(ag);
  long long lost = (long long)cs->ok - d->routed_messages;
  printf("{\"drained\":%s,\"replayed\":%llu,\"acknowledged\":%llu,\"duplicates\":%llu,"
         "\"rejected\":%llu,\"bad_lines\":%ld,\"routed\":%lld,\"lost\":%lld,\"elapsed_s\":%.2f,"
         "\"publish_to_assigned_ms\":{\"p50\":%.3f,\"p99\":%.3f,\"count\":%llu},\"redis\":",
         ok ? "true" : "false", (unsigned long long)cs->sent, (unsigned long long)cs->ok,
         (unsigned long long)cs->duplicate, (unsigned long long)(cs->invalid + cs->unknown_tenant),
         bad, d->routed_messages, lost > 0 ? lost : 0, secs, sb_histogram_quantile(h, 0.5) / 1000.0,
         sb_histogram_quantile(h, 0.99) / 1000.0, (unsigned long long)sb_histogram_count(h));
  sbctl_view_json(stdout, d);
  printf("}\n");
}

typedef struct {
  sbctl_client_t *replay, *agent_client;
  sbctl_agents_t *agents;
  long bad;
  sbctl_progress_t *bar; /* the replay's progress on stderr, until acknowledged */
} run_t;

static int poll_once(run_t *r, int timeout_ms) {
  zmq_pollitem_t items[] = {
      {sbctl_client_socket(r->replay), 0, ZMQ_POLLIN, 0},
      {sbctl_client_socket(r->agent_client), 0, ZMQ_POLLIN, 0},
      {sbctl_agents_socket(r->agents), 0, ZMQ_POLLIN, 0},
  };
  int rc = zmq_poll(items, 3, timeout_ms);
  if (rc < 0)
    return errno == EINTR ? 0 : -1;
  if (items[0].revents)
    sbctl_client_on_readable(r->replay);
  if (items[1].revents)
    sbctl_client_on_readable(r->agent_client);
  if (items[2].revents)
    sbctl_agents_on_readable(r->agents);
  return 0;
}

static void replay_progress(run_t *r) {
  sbctl_client_stats_t cs;
  sbctl_client_stats(r->replay, &cs);
  sbctl_progress_update_client(r->bar, &cs, sb_now_ms());
  if (r->bar && sbctl_client_outstanding(r->replay) == 0)
    sbctl_progress_finish(&r->bar, sb_now_ms());
}

static int run(up_t *u, run_t *r) {
  int exit_when_drained = sb_config_bool(u->c, "exit-when-drained");
  int64_t start = sb_now_ms(), next_view = start + SBCTL_VIEW_MS;
  int64_t give_up = start + 1000 * sb_config_int(u->c, "drain-timeout-s");
  int tty = isatty(STDOUT_FILENO) && !exit_when_drained;
  sbctl_stats_t now, d;
  sbctl_client_stats_t cs;
  while (!interrupted) {
    sbctl_client_pump(r->replay);
    int wait = sbctl_agents_tick(r->agents);
    if (poll_once(r, wait < 0 || wait > 100 ? 100 : wait))
      return 1;
    replay_progress(r);
    if (sb_now_ms() < next_view)
      continue;
    next_view += SBCTL_VIEW_MS;
    if (sbctl_view_read_all(u->rc, u->tenants, &now))
      return 1;
    delta(u, &now, &d);
    sbctl_client_stats(r->replay, &cs);
    double secs = (sb_now_ms() - start) / 1000.0;
    int dead = sbctl_stack_check(u->stack);
    if (dead >= 0) {
      fprintf(stderr, "sbctl: sb-%s stopped unexpectedly; see %s/%s.log\n", sbctl_services[dead].name,
              sbctl_stack_logdir(u->stack), sbctl_services[dead].name);
      return 1;
    }
    if (!exit_when_drained || tty) {
      view(&d, &cs, r->agents, secs, tty);
      continue;
    }
    int done = drained(&d, &cs, r->replay);
    if (done || sb_now_ms() > give_up) {
      int ok = done && cs.invalid == 0 && cs.unknown_tenant == 0 && r->bad == 0 &&
               d.routed_messages == (long long)cs.ok;
      summary(&d, &cs, r->bad, r->agents, secs, ok);
      return ok ? 0 : 1;
    }
    if (((sb_now_ms() - start) / SBCTL_VIEW_MS) % 5 == 0)
      view(&d, &cs, r->agents, secs, 0);
  }
  return 0;
}

static int replay_and_run(up_t *u, void *zctx) {
  char publish[64], feed[64];
  snprintf(publish, sizeof publish, "tcp://127.0.0.1:%d", SB_PORT_INGEST_ZMQ + u->offset);
  snprintf(feed, sizeof feed, "tcp://127.0.0.1:%d", SB_PORT_NOTIFY_PUB + u->offset);
  run_t r = {0};
  sbctl_agents_opts_t ao = {(int)sb_config_int(u->c, "agents"), (int)sb_config_int(u->c, "capacity"),
                            (int)sb_config_int(u->c, "reply-ms"), (int)sb_config_int(u->c, "close-ms")};
  r.replay = sbctl_client_new(zctx, publish);
  r.agent_client = sbctl_client_new(zctx, publish);
  r.agents = r.agent_client ? sbctl_agents_new(zctx, feed, r.agent_client, u->tenants, &ao) : NULL;
  int rc = 1;
  long queued = 0;
  const char *corpus = sb_config_str(u->c, "replay");
  if (!r.replay || !r.agents) {
    fprintf(stderr, "sbctl: cannot connect to %s / %s\n", publish, feed);
  } else if (*corpus && (queued = sbctl_corpus_queue(corpus, u->tenants, r.replay, &r.bad)) < 0) {
    fprintf(stderr, "sbctl: cannot read %s\n", corpus);
  } else {
    r.bar = queued > 0 ? sbctl_progress_for(u->c, queued, sb_now_ms()) : NULL;
    usleep(200000); /* let the SUB connection settle before the first assignment */
    rc = run(u, &r);
  }
  sbctl_progress_finish(&r.bar, sb_now_ms());
  sbctl_agents_destroy(&r.agents);
  sbctl_client_destroy(&r.agent_client);
  sbctl_client_destroy(&r.replay);
  return rc;
}

int sbctl_up(const sb_config_t *c) {
  up_t u = {.c = c, .offset = (int)sb_config_int(c, "port-offset")};
  char err[512];
  u.tenants = sb_tenants_load(sb_config_str(c, "tenants"), err, sizeof err);
  if (!u.tenants) {
    fprintf(stderr, "sbctl: %s\n", err);
    return 2;
  }
  struct sigaction sa = {.sa_handler = on_signal};
  sigaction(SIGINT, &sa, NULL);
  sigaction(SIGTERM, &sa, NULL);
  int rc = 1;
  if (start_all(&u) == 0) {
    print_endpoints(&u);
    void *zctx = zmq_ctx_new();
    rc = replay_and_run(&u, zctx);
    zmq_ctx_term(zctx);
  }
  if (interrupted)
    printf("\nstopping...\n");
  sbctl_stack_stop(&u.stack);
  if (u.rc)
    redisFree(u.rc);
  sb_tenants_destroy(&u.tenants);
  return interrupted && rc == 0 ? 0 : rc;
}
