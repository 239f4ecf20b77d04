/*
 * sbctl: the command line of switchboard. One verb per job, dispatched from
 * a table:
 *   up       the whole stack on this machine (sbctl_up)
 *   publish  publish events (a JSON Lines file, or one message from flags)
 *   agent    simulated agents for one tenant until Ctrl-C
 *   tail     follow the feed, one JSON line per message
 *   stats    the bus's figures from Redis, as JSON
 *   dlq      dead letters: list, show, replay, purge (sbctl_dlq)
 *   classify the classifier offline, on JSON Lines (sbctl_classify)
 *   bench    the foundation benchmark on a fresh stack (sbctl_bench)
 *   tenant   check a tenant configuration file (sbctl_tenantcheck)
 *   simulate what-if: recorded traffic through a candidate configuration
 *            and agent roster on a virtual clock (sbctl_simulate)
 *
 * Exit status, every verb: 0 done; 1 the work failed or found problems
 * (Redis unreachable, rejected events, an invalid tenant file); 2 usage
 * error (unknown verb or option, missing argument, unreadable input);
 * simulate also 3: invalid input (FILE:LINE: reason).
 */
#include "sbctl_agents.h"
#include "sbctl_bench.h"
#include "sbctl_classify.h"
#include "sbctl_client.h"
#include "sbctl_corpus.h"
#include "sbctl_dlq.h"
#include "sbctl_progress.h"
#include "sbctl_simulate.h"
#include "sbctl_stats.h"
#include "sbctl_tail.h"
#include "sbctl_tenantcheck.h"
#include "sbctl_up.h"
#include "sbctl_view.h"
#include "sb_admit.h"
#include "sb_curve.h"
#include "sb_error.h"
#include "sb_keys.h"
#include "sb_service.h"
#include "sb_time.h"

#include <cjson/cJSON.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zmq.h>

#define SBCTL_ACK_TIMEOUT_MS 30000

static const sb_option_t sbctl_options[] = {
    {"tenants", SB_OPT_STR, "", "tenant configuration file (default: the bundled corpus/tenants.json)"},
    {"redis-url", SB_OPT_STR, "redis://127.0.0.1:6379", "stats, dlq: the Redis of the bus"},
    {"port-offset", SB_OPT_INT, "0", "added to every default port"},
    {"host", SB_OPT_STR, "127.0.0.1", "publish, agent, tail: the host where ingest and notify listen"},
    /* ingest and notify may run on different hosts: each endpoint apart */
    {"publish", SB_OPT_STR, "", "publish, agent: ingest's ZeroMQ publish endpoint; default tcp://host:5555+offset"},
    {"feed", SB_OPT_STR, "", "agent, tail: notify's feed endpoint; default tcp://host:5556+offset"},
    {"tenant", SB_OPT_STR, "", "publish, agent, dlq: the tenant"},
    {"accept-suggestions", SB_OPT_STR, "",
     "agent: judge suggested answers, using PCT % of them and turning the rest down (0..100); "
     "unset: no feedback"},
    {"channel", SB_OPT_STR, "webchat", "publish: channel of a message given by flags"},
    {"customer", SB_OPT_STR, "cli-customer", "publish: customer id of a message given by flags"},
    {"text", SB_OPT_STR, "", "publish: text of one message (instead of a file)"},
    {"topic", SB_OPT_STR, "", "tail: topic prefix, e.g. acme-air.assigned"},
    {"count", SB_OPT_INT, "0", "tail: stop after this many messages (0 = never)"},
    {"webhooks", SB_OPT_BOOL, "0", "dlq: the tenant's webhook dead letters (notify) instead"},
    {"requeue", SB_OPT_STR, "", "dlq --webhooks: send one event id's dead letters again, or \"all\""},
    {"json", SB_OPT_BOOL, "0", "tenant, stats, dlq: output for scripts, as JSON"},
    {"watch", SB_OPT_BOOL, "0", "stats: a live table, redrawn every second until Ctrl-C"},
    {"env-placeholders", SB_OPT_BOOL, "0",
     "tenant: give unset env:NAME secrets a placeholder (check a file away from its secrets)"},
    {NULL, 0, NULL, NULL}};

static volatile sig_atomic_t stop_flag;
static void on_signal(int s) { stop_flag = s; }

static sb_tenants_t *load_tenants(const sb_config_t *c) {
  char err[512];
  sb_tenants_t *t = sb_tenants_load(sb_config_str(c, "tenants"), err, sizeof err);
  if (!t)
    fprintf(stderr, "sbctl: %s\n", err);
  return t;
}

#define SBCTL_ENDPOINT_MAX 512

/* The option's endpoint when set, else tcp://<host>:<base + offset>. */
static void endpoint(const sb_config_t *c, const char *option, int base, char *out, size_t cap) {
  const char *v = sb_config_str(c, option);
  if (*v)
    snprintf(out, cap, "%s", v);
  else
    snprintf(out, cap, "tcp://%s:%lld", sb_config_str(c, "host"), base + sb_config_int(c, "port-offset"));
}

static sb_envelope_t *message_from_flags(const sb_config_t *c, const sb_tenants_t *t) {
  char id[64];
  snprintf(id, sizeof id, "cli-%lld-%d", (long long)sb_now_us(), (int)getpid());
  sb_cloudevent_t ce = {.id = id, .source = "/sbctl/publish", .type = SB_TYPE_INTERACTION,
                        .specversion = "1.0", .tenant = (char *)sb_config_str(c, "tenant")};
  cJSON *data = cJSON_CreateObject();
  cJSON_AddStringToObject(data, "channel", sb_config_str(c, "channel"));
  cJSON_AddStringToObject(data, "customer", sb_config_str(c, "customer"));
  cJSON_AddStringToObject(data, "text", sb_config_str(c, "text"));
  ce.data = cJSON_PrintUnformatted(data);
  cJSON_Delete(data);
  sb_admit_result_t ar;
  sb_envelope_t *env = sb_admit_cloudevent(&ce, t, &ar);
  if (!env)
    fprintf(stderr, "sbctl: %s\n", ar.reason);
  free(ce.data);
  return env;
}

static int cmd_publish(const sb_config_t *c) {
  sb_tenants_t *t = load_tenants(c);
  if (!t)
    return 2;
  char ep[SBCTL_ENDPOINT_MAX];
  endpoint(c, "publish", SB_PORT_INGEST_ZMQ, ep, sizeof ep);
  char why[256];
  sb_curve_t *curve = NULL;
  if (sb_curve_from_config(c, &curve, why, sizeof why) != 0) {
    fprintf(stderr, "sbctl publish: %s\n", why);
    sb_tenants_destroy(&t);
    return 2;
  }
  void *zctx = zmq_ctx_new();
  sbctl_client_t *cl = sbctl_client_new_curve(zctx, ep, curve);
  long bad = 0, n = 0;
  const char *file = sb_config_positional(c, 1);
  if (file) {
    n = sbctl_corpus_queue(file, t, cl, &bad);
  } else if (*sb_config_str(c, "text")) {
    sb_envelope_t *env = message_from_flags(c, t);
    if (env)
      sbctl_client_queue(cl, env), n = 1;
    else
      bad = 1;
  } else {
    fprintf(stderr, "sbctl publish: give a JSON Lines FILE or --tenant T --text TEXT\n");
  }
  int64_t until = sb_now_ms() + SBCTL_ACK_TIMEOUT_MS;
  sbctl_client_stats_t s;
  sbctl_progress_t *bar = file && n > 0 ? sbctl_progress_for(c, n, sb_now_ms()) : NULL;
  while (n > 0 && sbctl_client_outstanding(cl) && sb_now_ms() < until && !stop_flag) {
    sbctl_client_pump(cl);
    zmq_pollitem_t it = {sbctl_client_socket(cl), 0, ZMQ_POLLIN, 0};
    if (zmq_poll(&it, 1, 100) > 0)
      sbctl_client_on_readable(cl);
    sbctl_client_stats(cl, &s);
    sbctl_progress_update_client(bar, &s, sb_now_ms());
  }
  sbctl_client_stats(cl, &s);
  sbctl_progress_update_client(bar, &s, sb_now_ms());
  sbctl_progress_finish(&bar, sb_now_ms());
  int unanswered = (int)sbctl_client_outstanding(cl);
  printf("{\"queued\":%ld,\"bad_lines\":%ld,\"ok\":%llu,\"duplicate\":%llu,\"invalid\":%llu,"
         "\"unknown_tenant\":%llu,\"retried\":%llu,\"unanswered\":%d}\n",
         n, bad, (unsigned long long)s.ok, (unsigned long long)s.duplicate,
         (unsigned long long)s.invalid, (unsigned long long)s.unknown_tenant,
         (unsigned long long)s.retried, unanswered);
  if (*sbctl_client_last_error(cl))
    fprintf(stderr, "sbctl: last rejection: %s\n", sbctl_client_last_error(cl));
  sbctl_client_destroy(&cl);
  zmq_ctx_term(zctx);
  sb_curve_destroy(&curve);
  sb_tenants_destroy(&t);
  return n > 0 && !bad && !unanswered && !s.invalid && !s.unknown_tenant ? 0 : 1;
}

/* The client's CURVE keys (--curve-secret-key-file, --curve-server-key:
 * the door's and feed's edge public key); *out NULL when not given. */
static int load_curve(const sb_config_t *c, const char *verb, sb_curve_t **out) {
  char why[256];
  if (sb_curve_from_config(c, out, why, sizeof why) == 0)
    return 0;
  fprintf(stderr, "sbctl %s: %s\n", verb, why);
  return 2;
}

static int cmd_agent(const sb_config_t *c) {
  sb_curve_t *curve = NULL;
  if (load_curve(c, "agent", &curve))
    return 2;
  sb_tenants_t *all = load_tenants(c);
  if (!all) {
    sb_curve_destroy(&curve);
    return 2;
  }
  const sb_tenant_t *one = sb_tenants_find(all, sb_config_str(c, "tenant"), strlen(sb_config_str(c, "tenant")));
  if (!one) {
    fprintf(stderr, "sbctl agent: --tenant must name a configured tenant\n");
    sb_tenants_destroy(&all);
    sb_curve_destroy(&curve);
    return 2;
  }
  char json[256], err[128], ep[SBCTL_ENDPOINT_MAX], feed[SBCTL_ENDPOINT_MAX];
  int judge = sb_config_is_set(c, "accept-suggestions"), accept_pct = 0;
  if (judge && sbctl_agents_parse_pct(sb_config_str(c, "accept-suggestions"), &accept_pct, err, sizeof err)) {
    fprintf(stderr, "sbctl agent: %s\n", err);
    sb_tenants_destroy(&all);
    sb_curve_destroy(&curve);
    return 2;
  }
  snprintf(json, sizeof json, "{\"tenants\":[{\"id\":\"%s\"}]}", one->id);
  sb_tenants_t *t = sb_tenants_parse(json, strlen(json), err, sizeof err);
  endpoint(c, "publish", SB_PORT_INGEST_ZMQ, ep, sizeof ep);
  endpoint(c, "feed", SB_PORT_NOTIFY_PUB, feed, sizeof feed);
  void *zctx = zmq_ctx_new();
  sbctl_client_t *cl = sbctl_client_new_curve(zctx, ep, curve);
  sbctl_agents_opts_t o = {(int)sb_config_int(c, "agents"), (int)sb_config_int(c, "capacity"),
                           (int)sb_config_int(c, "reply-ms"), (int)sb_config_int(c, "close-ms")};
  sbctl_agents_t *a = cl ? sbctl_agents_new_curve(zctx, feed, cl, t, &o, curve) : NULL;
  if (a && judge)
    sbctl_agents_judge_suggestions(a, accept_pct);
  while (a && !stop_flag) {
    int wait = sbctl_agents_tick(a);
    zmq_pollitem_t it[] = {{sbctl_client_socket(cl), 0, ZMQ_POLLIN, 0},
                           {sbctl_agents_socket(a), 0, ZMQ_POLLIN, 0}};
    if (zmq_poll(it, 2, wait < 0 || wait > 200 ? 200 : wait) > 0) {
      if (it[0].revents)
        sbctl_client_on_readable(cl);
      if (it[1].revents)
        sbctl_agents_on_readable(a);
    }
  }
  sbctl_agents_stats_t st = {0};
  if (a)
    sbctl_agents_stats(a, &st);
  printf("{\"assignments\":%llu,\"replies\":%llu,\"closes\":%llu,\"suggestions_accepted\":%llu,"
         "\"suggestions_rejected\":%llu}\n",
         (unsigned long long)st.assignments, (unsigned long long)st.replies, (unsigned long long)st.closes,
         (unsigned long long)st.suggestions_accepted, (unsigned long long)st.suggestions_rejected);
  sbctl_agents_destroy(&a);
  sbctl_client_destroy(&cl);
  zmq_ctx_term(zctx);
  sb_tenants_destroy(&t);
  sb_tenants_destroy(&all);
  sb_curve_destroy(&curve);
  return 0;
}

static int cmd_tail(const sb_config_t *c) {
  char feed[SBCTL_ENDPOINT_MAX];
  endpoint(c, "feed", SB_PORT_NOTIFY_PUB, feed, sizeof feed);
  sb_curve_t *curve = NULL;
  if (load_curve(c, "tail", &curve))
    return 2;
  int rc = sbctl_tail(feed, sb_config_str(c, "topic"), sb_config_int(c, "count"), curve, &stop_flag);
  sb_curve_destroy(&curve);
  return rc;
}

/* stats: a table, --json one object, --watch a live table until Ctrl-C.
 * 2: the tenant file cannot be read; 1: Redis did not answer. */
static int cmd_stats(const sb_config_t *c) {
  sb_tenants_t *t = load_tenants(c);
  if (!t)
    return 2;
  redisContext *rc = sbctl_view_connect(sb_config_str(c, "redis-url"));
  sbctl_stats_mode_t mode = sb_config_bool(c, "json")    ? SBCTL_STATS_JSON
                            : sb_config_bool(c, "watch") ? SBCTL_STATS_WATCH
                                                         : SBCTL_STATS_TABLE;
  int status = rc ? sbctl_stats_run(rc, t, mode, &stop_flag) : -1;
  if (rc && status)
    fprintf(stderr, "sbctl stats: redis did not answer\n");
  if (rc)
    redisFree(rc);
  sb_tenants_destroy(&t);
  return status ? 1 : 0;
}

/* tenant [validate] FILE: every service's checks on a tenant file, with
 * line-numbered problems (sbctl_tenantcheck.h). */
static int cmd_tenant(const sb_config_t *c) {
  int a = 1;
  const char *file = sb_config_positional(c, a);
  if (file && strcmp(file, "validate") == 0 && sb_config_npositional(c) > 2)
    file = sb_config_positional(c, ++a);
  if (!file && sb_config_is_set(c, "tenants"))
    file = sb_config_str(c, "tenants");
  if (!file || sb_config_npositional(c) > a + 1) {
    fprintf(stderr, "usage: sbctl tenant [validate] FILE [--json] [--env-placeholders]\n");
    return 2;
  }
  char err[512];
  sbctl_tenantcheck_t *tc = NULL;
  if (sbctl_tenantcheck_load(file, sb_config_bool(c, "env-placeholders"), &tc, err, sizeof err)) {
    fprintf(stderr, "sbctl tenant: %s\n", err);
    return 2;
  }
  if (sb_config_bool(c, "json"))
    sbctl_tenantcheck_print_json(tc, file, stdout);
  else
    sbctl_tenantcheck_print(tc, file, stdout);
  int ok = sbctl_tenantcheck_ok(tc);
  sbctl_tenantcheck_destroy(&tc);
  return ok ? 0 : 1;
}

static const struct {
  const char *verb;
  int (*fn)(const sb_config_t *c);
  const char *help;
} verbs[] = {
    {"up", sbctl_up, "run the whole stack here [--replay FILE] [--exit-when-drained]"},
    {"publish", cmd_publish, "publish FILE.jsonl, or --tenant T --text TEXT"},
    {"agent", cmd_agent, "simulated agents for --tenant T until Ctrl-C"},
    {"tail", cmd_tail, "follow the feed [--topic PREFIX] [--count N]"},
    {"stats", cmd_stats, "figures per tenant from Redis: a table, --json for scripts, --watch live"},
    {"dlq", sbctl_dlq, "dead letters of --tenant T or --global: [list] | show ID | replay ID|all | purge ID|all; "
            "--webhooks [--requeue KEY|all]"},
    {"classify", sbctl_classify, "classify JSON Lines offline [--tenant-config FILE] INPUT.jsonl | --eval FILE"},
    {"bench", sbctl_bench, "benchmark a fresh stack [--events N] [--latency-events N] (JSON)"},
    {"tenant", cmd_tenant, "check a tenant file: [validate] FILE [--json] [--env-placeholders]"},
    {"simulate", sbctl_simulate, "what-if: replay RECORDING.jsonl --roster FILE [--tenants CANDIDATE] [--json]"},
};
#define NVERBS (sizeof verbs / sizeof verbs[0])

/* For `sbctl VERB --help`: options a verb reads beyond those whose help
 * starts with the verb's name ("stats, dlq: ..."). */
static const struct {
  const char *verb;
  const char *options;
} verb_extra_options[] = {
    {"up", "tenants port-offset agents capacity reply-ms close-ms"},
    {"publish", "tenants port-offset curve-secret-key-file curve-public-key-file curve-server-key"},
    {"agent", "tenants port-offset agents capacity reply-ms close-ms curve-secret-key-file curve-public-key-file "
              "curve-server-key"},
    {"tail", "port-offset curve-secret-key-file curve-public-key-file curve-server-key"},
    {"stats", "tenants"},
    {"tenant", "tenants"},
    {"simulate", "tenants tenant json"},
};

static const sb_option_t *const option_tables[] = {sbctl_options, sbctl_up_options, sbctl_bench_options,
                                                   sbctl_classify_options, sb_curve_options,
                                                   sbctl_simulate_options, sbctl_dlq_options,
                                                   sbctl_progress_options, NULL};

/* 1 if the help line's "verb, verb --flag: ..." prefix names verb. */
static int help_names_verb(const char *help, const char *verb) {
  size_t n = strcspn(help, ":(");
  if (help[n] != ':')
    return 0;
  size_t vlen = strlen(verb);
  for (const char *p = help; p < help + n; p += strcspn(p, " ,"), p += strspn(p, " ,"))
    if (strncmp(p, verb, vlen) == 0 && (p[vlen] == ',' || p[vlen] == ' ' || p[vlen] == ':'))
      return 1;
  return 0;
}

static int verb_reads(const char *verb, const sb_option_t *o) {
  if (help_names_verb(o->help, verb))
    return 1;
  size_t len = strlen(o->name);
  for (size_t i = 0; i < sizeof verb_extra_options / sizeof verb_extra_options[0]; i++) {
    const char *l = verb_extra_options[i].options;
    if (strcmp(verb_extra_options[i].verb, verb))
      continue;
    for (const char *p = l; *p; p += strcspn(p, " "), p += strspn(p, " "))
      if (strncmp(p, o->name, len) == 0 && (p[len] == ' ' || p[len] == '\0'))
        return 1;
  }
  return 0;
}

/* `sbctl VERB --help`: the verb's line and the options it reads. */
static void verb_usage(FILE *f, const char *verb, const char *help) {
  fprintf(f, "usage: sbctl %s [--option=value ...]\n  %s\n\noptions (flag, then environment SB_*, then default):\n",
          verb, help);
  for (const sb_option_t *const *t = option_tables; *t; t++)
    for (const sb_option_t *o = *t; o->name; o++)
      if (verb_reads(verb, o))
        fprintf(f, "  --%-20s %s (default '%s')\n", o->name, o->help, o->def);
  fprintf(f, "\nexit status: 0 done; 1 failed or found problems; 2 usage error%s\n",
          strcmp(verb, "simulate") == 0 ? "; 3 invalid input (FILE:LINE: reason)" : "");
}

static void usage(FILE *f) {
  fprintf(f, "usage: sbctl VERB [--option=value ...]\n\nverbs:\n");
  for (size_t i = 0; i < NVERBS; i++)
    fprintf(f, "  %-8s %s\n", verbs[i].verb, verbs[i].help);
  fprintf(f, "\nsbctl VERB --help lists a verb's options, sbctl --help every option.\n"
             "exit status: 0 done; 1 failed or found problems; 2 usage error"
             " (simulate: 3 invalid input)\n");
}

static void default_tenants(sb_config_t *c) {
  if (*sb_config_str(c, "tenants"))
    return;
  char path[4096], dir[4000];
  struct stat st;
  sbctl_bindir(dir, sizeof dir);
  snprintf(path, sizeof path, "%s/../corpus/tenants.json", dir); /* build tree */
  if (stat(path, &st) != 0)
    snprintf(path, sizeof path, "%s/corpus/tenants.json", SB_SOURCE_DIR);
  sb_config_set(c, "tenants", path);
}

/* The verb named in argv with --help or -h, as an index of verbs[], or -1. */
static int help_verb(int argc, char **argv) {
  int help = 0, verb = -1;
  for (int i = 1; i < argc; i++) {
    help |= strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0;
    for (size_t k = 0; verb < 0 && k < NVERBS; k++)
      if (strcmp(argv[i], verbs[k].verb) == 0)
        verb = (int)k;
  }
  return help ? verb : -1;
}

int main(int argc, char **argv) {
  int hv = help_verb(argc, argv);
  if (hv >= 0) {
    verb_usage(stdout, verbs[hv].verb, verbs[hv].help);
    return 0;
  }
  sb_config_t *c = sb_config_new("sbctl", option_tables);
  char err[512];
  int rc = sb_config_load(c, argc, argv, err, sizeof err);
  if (rc != SB_CONFIG_RUN) {
    if (rc < 0)
      fprintf(stderr, "sbctl: %s\n", err);
    sb_config_destroy(&c);
    return rc == SB_CONFIG_EXIT ? 0 : 2;
  }
  default_tenants(c);
  signal(SIGINT, on_signal);
  signal(SIGTERM, on_signal);
  const char *verb = sb_config_positional(c, 0);
  rc = 2;
  size_t i = 0;
  while (verb && i < NVERBS && strcmp(verbs[i].verb, verb))
    i++;
  if (verb && i < NVERBS)
    rc = verbs[i].fn(c);
  else
    usage(stderr);
  sb_config_destroy(&c);
  return rc;
}
