/*
 * The whole pipeline on a Redis Cluster of three masters and three
 * replicas (six real redis-server processes, AOF everysec, joined with
 * `redis-cli --cluster create`), with the services connected through a
 * "redis-cluster://" seed list. Six tenants are chosen so that their hash
 * tags spread over all three masters (checked with the servers' CLUSTER
 * KEYSLOT and CLUSTER SLOTS). Every tenant's events are routed; then one
 * master is killed with SIGKILL while publishing goes on; its replica takes
 * over after cluster-node-timeout; the services report ready again and, in
 * the end, every acknowledged event of every tenant is routed exactly once
 * (per-tenant stats read on the node that owns the tenant's slot now).
 */
#include "sb_teststack.h"
#include "sb_testutil.h"

#include "sb_redis_cluster.h"
#include "sb_redisd.h"
#include "sb_service.h"
#include "sb_time.h"

#include <hiredis/hiredis.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zmq.h>

#define NODES 6
#define MASTERS 3
#define TENANTS 6
#define BEFORE 100 /* events per tenant before the failover */
#define DURING 60  /* events per tenant published across it */
#define NODE_TIMEOUT_MS 2000
#define CLUSTER_OK_MS 20000
#define DRAIN_MS 45000

typedef struct {
  sb_redisd_t *d[NODES];
  int port[NODES];
  char tenant[TENANTS][32];
} cluster_t;

static redisContext *node_connect(const cluster_t *c, int i) {
  if (!c->d[i] || !sb_redisd_pid(c->d[i]))
    return NULL;
  struct timeval tv = {1, 0};
  redisContext *rc = redisConnectWithTimeout("127.0.0.1", c->port[i], tv);
  if (rc && rc->err) {
    redisFree(rc);
    rc = NULL;
  }
  if (rc)
    redisSetTimeout(rc, tv);
  return rc;
}

/* 1 when every live node says cluster_state:ok. */
static int cluster_ok(const cluster_t *c) {
  int live = 0;
  for (int i = 0; i < NODES; i++) {
    redisContext *rc = node_connect(c, i);
    if (!rc)
      continue;
    redisReply *r = redisCommand(rc, "CLUSTER INFO");
    int ok = r && r->type == REDIS_REPLY_STRING &&
             strstr(r->str, "cluster_state:ok");
    if (r)
      freeReplyObject(r);
    redisFree(rc);
    if (!ok)
      return 0;
    live++;
  }
  return live > 0;
}

/* 1 when every live replica has finished its sync (master_link_status:up):
 * `redis-cli --cluster create` returns before the first full sync, and a
 * master killed before it leaves a replica with nothing. */
static int replicas_synced(const cluster_t *c) {
  for (int i = 0; i < NODES; i++) {
    redisContext *rc = node_connect(c, i);
    if (!rc)
      continue;
    redisReply *r = redisCommand(rc, "INFO replication");
    int ok = r && r->type == REDIS_REPLY_STRING &&
             (strstr(r->str, "role:master") ||
              strstr(r->str, "master_link_status:up"));
    if (r)
      freeReplyObject(r);
    redisFree(rc);
    if (!ok)
      return 0;
  }
  return 1;
}

static int wait_cluster_ok(const cluster_t *c, int ms) {
  int64_t until = sb_now_ms() + ms;
  while (!(cluster_ok(c) && replicas_synced(c)) && sb_now_ms() < until)
    usleep(100000);
  return cluster_ok(c) && replicas_synced(c) ? 0 : -1;
}

/* The bus port is named (--cluster-port): the default, port + 10000, does
 * not exist for the high ephemeral ports sb_redisd picks. A replica always
 * takes over (validity factor 0): the test is about the client, not about
 * how stale a replica Redis would refuse to promote. */
static void cluster_start(cluster_t *c) {
  char extra[256];
  sb_redisd_opts_t o = {
      .appendonly = 1, .appendfsync = "everysec", .extra_args = extra};
  char cmd[1024];
  int n = snprintf(cmd, sizeof cmd, "redis-cli --cluster create");
  for (int i = 0; i < NODES; i++) {
    snprintf(extra, sizeof extra,
             "--cluster-enabled yes --cluster-config-file nodes.conf "
             "--cluster-node-timeout %d"
             " --cluster-replica-validity-factor 0 --cluster-port %d",
             NODE_TIMEOUT_MS, sb_test_free_port());
    c->d[i] = sb_redisd_start(&o);
    assert_non_null(c->d[i]);
    c->port[i] = sb_redisd_port(c->d[i]);
    n += snprintf(cmd + n, sizeof cmd - (size_t)n, " 127.0.0.1:%d", c->port[i]);
  }
  snprintf(cmd + n, sizeof cmd - (size_t)n,
           " --cluster-replicas 1 --cluster-yes >%s/create.log 2>&1",
           sb_redisd_dir(c->d[0]));
  assert_int_equal(system(cmd), 0);
  assert_int_equal(wait_cluster_ok(c, CLUSTER_OK_MS), 0);
}

static void cluster_stop(cluster_t *c) {
  for (int i = 0; i < NODES; i++)
    sb_redisd_stop(&c->d[i]);
}

/* The port of the master serving slot now, asked of a live node; 0 if
 * none answers. */
static int slot_owner(const cluster_t *c, unsigned slot) {
  for (int i = 0; i < NODES; i++) {
    redisContext *rc = node_connect(c, i);
    if (!rc)
      continue;
    redisReply *r = redisCommand(rc, "CLUSTER SLOTS");
    int port = 0;
    for (size_t k = 0; r && r->type == REDIS_REPLY_ARRAY && k < r->elements;
         k++) {
      const redisReply *e = r->element[k];
      if ((long long)slot >= e->element[0]->integer &&
          (long long)slot <= e->element[1]->integer)
        port = (int)e->element[2]->element[1]->integer;
    }
    if (r)
      freeReplyObject(r);
    redisFree(rc);
    if (port)
      return port;
  }
  return 0;
}

static int index_of_port(const cluster_t *c, int port) {
  for (int i = 0; i < NODES; i++)
    if (c->port[i] == port)
      return i;
  return -1;
}

static unsigned server_keyslot(const cluster_t *c, const char *key) {
  redisContext *rc = node_connect(c, 0);
  assert_non_null(rc);
  redisReply *r = redisCommand(rc, "CLUSTER KEYSLOT %s", key);
  assert_true(r && r->type == REDIS_REPLY_INTEGER);
  unsigned s = (unsigned)r->integer;
  freeReplyObject(r);
  redisFree(rc);
  return s;
}

/* Two tenants per master: names tried in order until each master has two;
 * asserts (with the servers' own KEYSLOT) that all three masters hold some. */
static void choose_tenants(cluster_t *c) {
  int per[NODES] = {0}, n = 0;
  for (int i = 0; n < TENANTS && i < 1000; i++) {
    char name[32], key[64];
    snprintf(name, sizeof name, "tenant%d", i);
    snprintf(key, sizeof key, "sb:{t:%s}:stats", name);
    unsigned slot = server_keyslot(c, key);
    assert_int_equal(slot, sb_redis_cluster_slot(key, strlen(key)));
    int m = index_of_port(c, slot_owner(c, slot));
    assert_true(m >= 0);
    if (per[m] < TENANTS / MASTERS) {
      per[m]++;
      snprintf(c->tenant[n++], sizeof c->tenant[0], "%s", name);
    }
  }
  assert_int_equal(n, TENANTS);
  int masters = 0;
  for (int i = 0; i < NODES; i++)
    masters += per[i] > 0;
  assert_int_equal(masters, MASTERS);
}

static char *tenants_json(const cluster_t *c) {
  static char buf[2048];
  int n = snprintf(buf, sizeof buf, "{\"tenants\": [");
  for (int i = 0; i < TENANTS; i++)
    n += snprintf(
        buf + n, sizeof buf - (size_t)n,
        "%s{\"id\": \"%s\", \"languages\": [\"en\", \"fr\"],"
        " \"sla\": {\"first_response_ms\": 120000, \"warn_percent\": 75}}",
        i ? ", " : "", c->tenant[i]);
  snprintf(buf + n, sizeof buf - (size_t)n, "]}");
  return buf;
}

/* One tenant's figures, read on the master that owns its slot now. */
static int tenant_stats(const cluster_t *c, const char *tenant,
                        sbctl_stats_t *out) {
  char key[64];
  snprintf(key, sizeof key, "sb:{t:%s}:stats", tenant);
  int i =
      index_of_port(c, slot_owner(c, sb_redis_cluster_slot(key, strlen(key))));
  redisContext *rc = i >= 0 ? node_connect(c, i) : NULL;
  memset(out, 0, sizeof *out);
  int rcode = rc ? sbctl_view_read(rc, tenant, out) : -1;
  if (rc)
    redisFree(rc);
  return rcode;
}

/* 0 when every tenant has routed want[t] messages and no lease is open. */
static int wait_routed(const cluster_t *c, const int *want, int ms,
                       long long *routed) {
  int64_t until = sb_now_ms() + ms;
  for (;;) {
    int done = 1;
    for (int t = 0; t < TENANTS; t++) {
      sbctl_stats_t s;
      if (tenant_stats(c, c->tenant[t], &s) != 0)
        done = 0, routed[t] = -1;
      else
        routed[t] = s.routed_messages,
        done &= s.routed_messages >= want[t] && sbctl_view_inflight(&s) == 0;
    }
    if (done || sb_now_ms() > until)
      return done ? 0 : -1;
    usleep(100000);
  }
}

static void queue_messages(sb_teststack_t *st, const cluster_t *c,
                           const char *prefix, int n, int *queued) {
  char id[48], customer[32];
  for (int t = 0; t < TENANTS; t++)
    for (int i = 0; i < n; i++) {
      snprintf(id, sizeof id, "%s-%s-%d", prefix, c->tenant[t], i);
      snprintf(customer, sizeof customer, "c%d", i % 40);
      sbctl_client_queue(
          sb_teststack_client(st),
          sb_teststack_message(st, c->tenant[t], id, "sms", customer,
                               "My tram has not come for 40 minutes"));
      queued[t]++;
    }
}

static void pump_for(sb_teststack_t *st, int ms) {
  int64_t until = sb_now_ms() + ms;
  while (sb_now_ms() < until) {
    sbctl_client_pump(sb_teststack_client(st));
    zmq_pollitem_t it = {sbctl_client_socket(sb_teststack_client(st)), 0,
                         ZMQ_POLLIN, 0};
    if (zmq_poll(&it, 1, 20) > 0)
      sbctl_client_on_readable(sb_teststack_client(st));
  }
}

static int readyz(sb_teststack_t *st, int base) {
  char out[256];
  return sb_teststack_http(st, base, "GET", "/readyz", NULL, "", 0, out,
                           sizeof out);
}

static int all_ready(sb_teststack_t *st) {
  static const int admin[] = {SB_PORT_ADMIN_INGEST, SB_PORT_ADMIN_CLASSIFY,
                              SB_PORT_ADMIN_ROUTE, SB_PORT_ADMIN_SLA,
                              SB_PORT_ADMIN_NOTIFY};
  for (size_t i = 0; i < sizeof admin / sizeof admin[0]; i++)
    if (readyz(st, admin[i]) != 200)
      return 0;
  return 1;
}

static void print_routed(const char *when, const cluster_t *c,
                         const long long *routed) {
  printf("%s:", when);
  for (int t = 0; t < TENANTS; t++)
    printf(" %s=%lld", c->tenant[t], routed[t]);
  printf("\n");
}

static void
pipeline_survives_a_master_failover_with_every_event_routed_once(void **state) {
  (void)state;
  cluster_t c;
  memset(&c, 0, sizeof c);
  cluster_start(&c);
  choose_tenants(&c);
  char url[512];
  int n = snprintf(url, sizeof url, "redis-cluster://");
  for (int i = 0; i < NODES; i++)
    n += snprintf(url + n, sizeof url - (size_t)n, "%s127.0.0.1:%d",
                  i ? "," : "", c.port[i]);
  sb_teststack_t *st = sb_teststack_start_url(tenants_json(&c), url);
  assert_non_null(st);
  assert_null(sb_teststack_redis(st));
  assert_true(all_ready(st));

  int queued[TENANTS] = {0};
  long long routed[TENANTS];
  queue_messages(st, &c, "before", BEFORE, queued);
  assert_int_equal(sb_teststack_publish_all(st, 30000), 0);
  sbctl_client_stats_t cs;
  sbctl_client_stats(sb_teststack_client(st), &cs);
  assert_int_equal(cs.ok, TENANTS * BEFORE);
  int rc = wait_routed(&c, queued, DRAIN_MS, routed);
  print_routed("before failover", &c, routed);
  assert_int_equal(rc, 0);
  for (int t = 0; t < TENANTS; t++)
    assert_int_equal(routed[t], queued[t]);

  /* the master of the first tenant goes, hard */
  char key[64];
  snprintf(key, sizeof key, "sb:{t:%s}:stats", c.tenant[0]);
  int victim = index_of_port(
      &c, slot_owner(&c, sb_redis_cluster_slot(key, strlen(key))));
  assert_true(victim >= 0);
  queue_messages(st, &c, "during", DURING / 2, queued);
  pump_for(st, 50); /* the kill lands while these are in flight */
  int64_t killed_at = sb_now_ms();
  assert_int_equal(sb_redisd_kill(c.d[victim], SIGKILL), 0);
  queue_messages(st, &c, "during2", DURING / 2, queued);
  pump_for(st, 500);
  int64_t until = sb_now_ms() + CLUSTER_OK_MS;
  int promoted = 0;
  while (
      sb_now_ms() < until &&
      !(promoted = index_of_port(&c, slot_owner(&c, sb_redis_cluster_slot(
                                                        key, strlen(key)))) !=
                       victim &&
                   cluster_ok(&c)))
    pump_for(st, 100);
  assert_true(promoted);
  printf("failover: replica took over %lld ms after the kill\n",
         (long long)(sb_now_ms() - killed_at));
  assert_int_equal(sb_teststack_publish_all(st, 30000), 0);
  until = sb_now_ms() + 15000;
  while (!all_ready(st) && sb_now_ms() < until)
    usleep(100000);
  assert_true(all_ready(st));
  printf("failover: all services ready %lld ms after the kill\n",
         (long long)(sb_now_ms() - killed_at));

  sbctl_client_stats(sb_teststack_client(st), &cs);
  int total = 0;
  for (int t = 0; t < TENANTS; t++)
    total += queued[t];
  printf("failover: acknowledged %llu + duplicates %llu of %d, retried %llu\n",
         (unsigned long long)cs.ok, (unsigned long long)cs.duplicate, total,
         (unsigned long long)cs.retried);
  assert_int_equal(cs.ok + cs.duplicate, total);
  rc = wait_routed(&c, queued, DRAIN_MS, routed);
  print_routed("after failover", &c, routed);
  assert_int_equal(rc, 0);
  for (int t = 0; t < TENANTS; t++)
    assert_int_equal(routed[t],
                     queued[t]); /* each acknowledged event once, none twice */
  sb_teststack_stop(&st);
  cluster_stop(&c);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(
          pipeline_survives_a_master_failover_with_every_event_routed_once),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
