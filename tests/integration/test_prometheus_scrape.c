/*
 * The services' /metrics against the real Prometheus tools (Debian's
 * promtool and prometheus 2.42), on the real stack (redis-server and the
 * five services), after traffic that moves every family the dashboard
 * shows: messages that nobody answers (SLA warnings and breaches, a stuck
 * queue, service-level gauges), a webhook to a closed port (failed,
 * retried, dead), bad HTTP and webhook requests, garbage in a stage.
 *  - every service's /metrics passes `promtool check metrics`, with no
 *    lint problem printed;
 *  - a prometheus server scraping the five admin ports every second sees
 *    all five targets up and answers PromQL with the published counts;
 *  - every metric name in docker/grafana/switchboard.json (panel targets
 *    and template variables) is one a service really exposes (or "up",
 *    which Prometheus itself makes and is asked for).
 * Without promtool or prometheus the test exits 77 and says which.
 */
#include "sb_testprom.h"
#include "sb_testutil.h"
#include "sb_teststack.h"

#include "sb_service.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <zmq.h>

#define NSERVICES 5
#define MESSAGES 20
#define BODY_MAX (1024 * 1024)
#define WAIT_MS 20000
#define POLL_US 100000
#define MAX_NAMES 1024
#define DASHBOARD "docker/grafana/switchboard.json"

static const char *const SERVICES[NSERVICES] = {"ingest", "classify", "route", "sla-timer", "notify"};
static const int ADMIN[NSERVICES] = {SB_PORT_ADMIN_INGEST, SB_PORT_ADMIN_CLASSIFY, SB_PORT_ADMIN_ROUTE,
                                     SB_PORT_ADMIN_SLA, SB_PORT_ADMIN_NOTIFY};
/* Series Prometheus makes itself for every target (asked of the server). */
static const char *const SYNTHETIC[] = {"up", "scrape_duration_seconds", "scrape_samples_scraped", NULL};

/* Nobody logs in to "billing": every message waits, warns at 500 ms,
 * breaches at 1 s, and the queue is stuck after 1 s. The webhook's
 * port is closed: attempts fail, are retried, and give up after 1 s. */
static const char *const TENANTS_FMT =
    "{\"tenants\":[{\"id\":\"pm\","
    "\"accounts\":[{\"platform\":\"telegram\",\"id\":\"pmbot\",\"secret\":\"tg-secret\"}],"
    "\"route\":{\"queues\":[{\"id\":\"billing\"}],\"default_queue\":\"billing\"},"
    "\"sla\":{\"first_response_ms\":1000,\"warn_percent\":50,"
    "\"stuck\":{\"after_ms\":1000,\"queues\":[\"billing\"]}},"
    "\"notify\":{\"webhooks\":[{\"id\":\"crm\",\"url\":\"http://127.0.0.1:%d/hook\",\"secret\":\"s\","
    "\"events\":[\"*\"],\"timeout_ms\":500}],"
    "\"retry\":{\"base_ms\":100,\"max_ms\":200,\"give_up_after_s\":1},"
    "\"breaker\":{\"failures\":2,\"open_ms\":300},"
    "\"outbound\":{\"accounts\":[{\"platform\":\"telegram\",\"account\":\"pmbot\",\"token\":\"t\","
    "\"api_base\":\"http://127.0.0.1:%d\"}]}}}]}";

static sb_teststack_t *st;
static sb_testprom_t *prom;
static char promtool[512], prometheus[512], promdir[256];
static char *bodies[NSERVICES];

/* ---- traffic and /metrics ---------------------------------------------------------- */

static char *metrics_of(int i) {
  char *out = malloc(BODY_MAX);
  int status = sb_teststack_http(st, ADMIN[i], "GET", "/metrics", NULL, "", 0, out, BODY_MAX);
  if (status != 200) {
    free(out);
    return NULL;
  }
  return out;
}

static int publish_messages(void) {
  char id[32], customer[32];
  for (int i = 0; i < MESSAGES; i++) {
    snprintf(id, sizeof id, "prom-%d", i);
    snprintf(customer, sizeof customer, "c-%d", i);
    sb_envelope_t *env = sb_teststack_message(st, "pm", id, "webchat", customer, "where is my refund?");
    if (!env)
      return -1;
    sbctl_client_queue(sb_teststack_client(st), env);
  }
  return sb_teststack_publish_all(st, 10000);
}

/* A bad CloudEvent, an unsigned Telegram delivery, and garbage pushed
 * straight into route's hand-off port: each is refused and counted. */
static void bad_input(void) {
  char out[4096];
  sb_teststack_http(st, SB_PORT_INGEST_HTTP, "POST", "/v1/events", "application/cloudevents+json", "{", 1,
                    out, sizeof out);
  sb_teststack_http(st, SB_PORT_INGEST_HTTP, "POST", "/webhooks/telegram/pmbot", "application/json", "{}", 2,
                    out, sizeof out);
  void *zctx = zmq_ctx_new(), *s = zmq_socket(zctx, ZMQ_PUSH);
  char ep[64];
  int linger = 1000;
  snprintf(ep, sizeof ep, "tcp://127.0.0.1:%d", SB_PORT_ROUTE_IN + sb_teststack_offset(st));
  zmq_setsockopt(s, ZMQ_LINGER, &linger, sizeof linger);
  if (zmq_connect(s, ep) == 0)
    zmq_send(s, "\xff\xff\xff garbage", 12, 0);
  zmq_close(s);
  zmq_ctx_term(zctx);
}

/* Waits until name appears in service i's /metrics (the lazily made families). */
static int wait_family(int i, const char *name) {
  for (int waited = 0; waited < WAIT_MS * 1000; waited += POLL_US) {
    char *b = metrics_of(i);
    int found = b && strstr(b, name);
    free(b);
    if (found)
      return 0;
    usleep(POLL_US);
  }
  fprintf(stderr, "%s never showed %s\n", SERVICES[i], name);
  return -1;
}

static int wait_traffic(void) {
  static const struct {
    int service;
    const char *name;
  } families[] = {
      {0, "sb_ingest_http_rejected_total{"},  {0, "sb_ingest_webhook_rejected_total{"},
      {2, "sb_stage_rejected_total{"},        {3, "kind=\"sla.breach\""},
      {3, "sb_queue_head_wait_seconds{"},     {3, "sb_service_level_backlog{"},
      {4, "result=\"dead\"} 1"},
  };
  for (size_t i = 0; i < sizeof families / sizeof families[0]; i++)
    if (wait_family(families[i].service, families[i].name))
      return -1;
  return 0;
}

static int setup(void **state) {
  (void)state;
  char json[2048];
  int closed = sb_test_free_port();
  snprintf(json, sizeof json, TENANTS_FMT, closed, closed);
  setenv("SB_STUCK_CHECK_MS", "200", 1);
  setenv("SB_SERVICE_LEVEL_S", "1", 1);
  st = sb_teststack_start(json, NULL);
  unsetenv("SB_STUCK_CHECK_MS");
  unsetenv("SB_SERVICE_LEVEL_S");
  if (!st || publish_messages())
    return -1;
  bad_input();
  if (wait_traffic())
    return -1;
  for (int i = 0; i < NSERVICES; i++)
    if (!(bodies[i] = metrics_of(i)))
      return -1;
  snprintf(promdir, sizeof promdir, "%s/prometheus", sb_teststack_dir(st));
  char cmd[512];
  snprintf(cmd, sizeof cmd, "mkdir -p '%s'", promdir);
  if (system(cmd) != 0)
    return -1;
  int ports[NSERVICES];
  for (int i = 0; i < NSERVICES; i++)
    ports[i] = ADMIN[i] + sb_teststack_offset(st);
  if (!(prom = sb_testprom_start(prometheus, promdir, ports, NSERVICES))) {
    fprintf(stderr, "prometheus did not start; its log:\n");
    snprintf(cmd, sizeof cmd, "cat '%s/prometheus.log' >&2", promdir);
    if (system(cmd) != 0)
      fprintf(stderr, "(no log)\n");
    return -1;
  }
  return 0;
}

static int teardown(void **state) {
  (void)state;
  sb_testprom_stop(&prom);
  for (int i = 0; i < NSERVICES; i++)
    free(bodies[i]);
  sb_teststack_stop(&st);
  return 0;
}

/* ---- a: promtool ------------------------------------------------------------------- */

static void every_service_passes_promtool_check_metrics(void **state) {
  (void)state;
  char out[8192];
  for (int i = 0; i < NSERVICES; i++) {
    int rc = sb_testprom_check_metrics(promtool, bodies[i], out, sizeof out);
    if (rc != 0 || out[0])
      fprintf(stderr, "promtool check metrics on %s: exit %d\n%s\n", SERVICES[i], rc, out);
    assert_int_equal(rc, 0);
    assert_string_equal(out, "");
  }
  /* the lint is real: a counter without _total is reported */
  int rc = sb_testprom_check_metrics(promtool, "# HELP sb_x x\n# TYPE sb_x counter\nsb_x 1\n", out,
                                     sizeof out);
  assert_true(rc != 0 || strstr(out, "_total") != NULL);
}

/* ---- b: a prometheus server -------------------------------------------------------- */

/* Polls the instant query q until its first value is at least min. */
static double query_at_least(const char *q, double min) {
  double v = 0;
  for (int waited = 0; waited < WAIT_MS * 1000; waited += POLL_US) {
    if (sb_testprom_query(prom, q, &v) > 0 && v >= min)
      return v;
    usleep(POLL_US);
  }
  fprintf(stderr, "query %s: %g, wanted >= %g\n", q, v, min);
  return v;
}

static void prometheus_scrapes_all_five_and_answers_queries(void **state) {
  (void)state;
  int up = -1;
  for (int waited = 0; waited < WAIT_MS * 1000 && up != NSERVICES; waited += POLL_US) {
    up = sb_testprom_targets_up(prom);
    usleep(POLL_US);
  }
  assert_int_equal(up, NSERVICES);
  double v;
  assert_int_equal(sb_testprom_query(prom, "count(up{job=\"switchboard\"} == 1)", &v), 1);
  assert_true(v == NSERVICES);
  assert_int_equal(sb_testprom_query(prom, "count(count by (service) (process_resident_memory_bytes))", &v),
                   1);
  assert_true(v == NSERVICES);
  assert_true(query_at_least("sum(sb_ingest_accepted_total)", MESSAGES) == MESSAGES);
  assert_true(query_at_least("sum(sb_stage_committed_total{stage=\"route\"})", MESSAGES) >= MESSAGES);
  assert_true(query_at_least("sum(sb_sla_fired_total{tenant=\"pm\",kind=\"sla.breach\"})", MESSAGES) >=
              MESSAGES);
  assert_true(query_at_least("sum(sb_stage_rejected_total{stage=\"route\"})", 1) >= 1);
  assert_true(query_at_least("max(sb_queue_waiting{tenant=\"pm\",queue=\"billing\"})", MESSAGES) >= MESSAGES);
  /* a series nobody exposes is an empty answer, not an error */
  assert_int_equal(sb_testprom_query(prom, "sb_no_such_metric_total", &v), 0);
}

/* ---- c: the dashboard -------------------------------------------------------------- */

static int exposed(const char *name) {
  size_t len = strlen(name);
  for (int i = 0; i < NSERVICES; i++)
    for (const char *p = bodies[i]; (p = strstr(p, name)); p += len) {
      int line_start = p == bodies[i] || p[-1] == '\n';
      if (line_start && (p[len] == '{' || p[len] == ' '))
        return 1;
    }
  return 0;
}

static int synthetic(const char *name) {
  for (const char *const *s = SYNTHETIC; *s; s++)
    if (strcmp(*s, name) == 0)
      return 1;
  return 0;
}

/* Adds the names expr reads to names (no repeats); fails the test on an
 * expression the scanner cannot follow. */
static void add_names(const char *expr, char (*names)[128], int *n) {
  char found[64][128];
  int k = sb_testprom_expr_names(expr, found, 64);
  if (k < 0)
    fprintf(stderr, "cannot scan: %s\n", expr);
  assert_true(k >= 0 && k <= 64);
  for (int i = 0; i < k; i++) {
    int dup = 0;
    for (int j = 0; j < *n && !dup; j++)
      dup = strcmp(names[j], found[i]) == 0;
    if (!dup && *n < MAX_NAMES)
      snprintf(names[(*n)++], 128, "%.127s", found[i]);
  }
}

/* Grafana's label_values(selector, label): the names the selector reads
 * (label_values(label) reads none). */
static void add_selector_names(const char *def, char (*names)[128], int *n) {
  char sel[512];
  const char *open = strchr(def, '('), *comma = strrchr(def, ',');
  assert_non_null(open);
  if (!comma || comma < open)
    return;
  snprintf(sel, sizeof sel, "%.*s", (int)(comma - open - 1), open + 1);
  add_names(sel, names, n);
}

/* Walks panels (rows may nest theirs): every target's expr, and checks each
 * panel's data source is the template variable. Returns the exprs seen. */
static int panel_exprs(const cJSON *panels, char (*names)[128], int *n) {
  const cJSON *p, *t;
  int exprs = 0;
  cJSON_ArrayForEach(p, panels) {
    exprs += panel_exprs(cJSON_GetObjectItemCaseSensitive(p, "panels"), names, n);
    const cJSON *targets = cJSON_GetObjectItemCaseSensitive(p, "targets");
    if (!targets)
      continue;
    const cJSON *ds = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(p, "datasource"), "uid");
    assert_true(cJSON_IsString(ds));
    assert_string_equal(ds->valuestring, "${DS_PROMETHEUS}");
    cJSON_ArrayForEach(t, targets) {
      const cJSON *e = cJSON_GetObjectItemCaseSensitive(t, "expr");
      assert_true(cJSON_IsString(e));
      add_names(e->valuestring, names, n);
      exprs++;
    }
  }
  return exprs;
}

static cJSON *load_dashboard(void) {
  char path[1024];
  snprintf(path, sizeof path, "%s/%s", sb_test_source_dir(), DASHBOARD);
  FILE *f = fopen(path, "r");
  assert_non_null(f);
  static char text[1 << 20];
  size_t len = fread(text, 1, sizeof text - 1, f);
  fclose(f);
  text[len] = '\0';
  cJSON *d = cJSON_Parse(text);
  assert_non_null(d);
  return d;
}

static void the_scanner_finds_metric_names_only(void **state) {
  (void)state;
  char names[8][128];
  const char *e = "sum by (stage, le) (rate(a_bucket{x=\"y{z}\",le!=\"1\"}[$__rate_interval])) "
                  "/ on (x) group_left (y) b offset 5m > bool 0.5 and ${var} or count(c:rule[1h:1m]) * 1e3";
  assert_int_equal(sb_testprom_expr_names(e, names, 8), 3);
  assert_string_equal(names[0], "a_bucket");
  assert_string_equal(names[1], "b");
  assert_string_equal(names[2], "c:rule");
  assert_int_equal(sb_testprom_expr_names("sum(rate(x[5m])", names, 8), -1);
  assert_int_equal(sb_testprom_expr_names("x{a=\"b}", names, 8), -1);
}

static void every_dashboard_metric_is_exposed(void **state) {
  (void)state;
  cJSON *d = load_dashboard();
  const cJSON *sv = cJSON_GetObjectItemCaseSensitive(d, "schemaVersion");
  assert_true(cJSON_IsNumber(sv) && sv->valueint >= 36);
  static char names[MAX_NAMES][128];
  int n = 0, exprs = panel_exprs(cJSON_GetObjectItemCaseSensitive(d, "panels"), names, &n);
  const cJSON *vars = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(d, "templating"), "list");
  const cJSON *v;
  int seen_vars = 0;
  cJSON_ArrayForEach(v, vars) {
    const char *vn = cJSON_GetObjectItemCaseSensitive(v, "name")->valuestring;
    seen_vars += strcmp(vn, "DS_PROMETHEUS") == 0 || strcmp(vn, "service") == 0 || strcmp(vn, "tenant") == 0;
    const cJSON *def = cJSON_GetObjectItemCaseSensitive(v, "definition");
    if (cJSON_IsString(def)) /* label_values(selector, label): the selector */
      add_selector_names(def->valuestring, names, &n);
  }
  assert_int_equal(seen_vars, 3);
  assert_true(exprs >= 40);
  printf("dashboard: %d expressions read %d metric names\n", exprs, n);
  int missing = 0;
  for (int i = 0; i < n; i++) {
    double value;
    int ok = synthetic(names[i]) ? sb_testprom_query(prom, names[i], &value) > 0 : exposed(names[i]);
    if (!ok)
      fprintf(stderr, "dashboard reads %s, which no service exposes\n", names[i]);
    missing += !ok;
  }
  assert_int_equal(missing, 0);
  assert_false(exposed("sb_no_such_metric_total")); /* the check can fail */
  cJSON_Delete(d);
}

int main(void) {
  if (sb_testprom_which("promtool", promtool, sizeof promtool) ||
      sb_testprom_which("prometheus", prometheus, sizeof prometheus)) {
    printf("SKIP: promtool and prometheus are needed (Debian package prometheus)\n");
    return 77;
  }
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(every_service_passes_promtool_check_metrics),
      cmocka_unit_test(prometheus_scrapes_all_five_and_answers_queries),
      cmocka_unit_test(the_scanner_finds_metric_names_only),
      cmocka_unit_test(every_dashboard_metric_is_exposed),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
