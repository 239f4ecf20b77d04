/* sb_teststack: see sb_teststack.h. */
#include "sb_teststack.h"
#include "sb_testutil.h"

#include "sb_admit.h"
#include "sb_keys.h"
#include "sb_curve.h"
#include "sbctl_stack.h"
#include "sb_service.h"
#include "sb_time.h"
#include "sbctl_proc.h"

#include <arpa/inet.h>
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <zmq.h>


#define TESTSTACK_REPLICAS_MAX 8
#define TESTSTACK_READY_MS 20000
#define TESTSTACK_STOP_MS 15000

struct sb_teststack {
  sbctl_stack_t *stack;
  pid_t replicas[TESTSTACK_REPLICAS_MAX]; /* sb_teststack_add_replica */
  int nreplicas;
  sb_tenants_t *tenants;
  char tenants_path[512];
  redisContext *rc;
  void *zctx;
  sbctl_client_t *client;
  /* sb_teststack_start_edge_curve */
  sb_teststack_keys_t *edge;
  char edge_dir[64];
  /* sb_teststack_start_url: the services' log folder, removed at stop */
  char ext_dir[64];
};

static int write_tenants(sb_teststack_t *st, const char *json) {
  char err[256];
  if (!json) {
    snprintf(st->tenants_path, sizeof st->tenants_path, "%s/corpus/tenants.json", sb_test_source_dir());
  } else {
    char dir[] = "/tmp/sb-tenants-XXXXXX";
    if (!mkdtemp(dir))
      return -1;
    snprintf(st->tenants_path, sizeof st->tenants_path, "%s/tenants.json", dir);
    FILE *f = fopen(st->tenants_path, "w");
    if (!f)
      return -1;
    fputs(json, f);
    fclose(f);
  }
  st->tenants = sb_tenants_load(st->tenants_path, err, sizeof err);
  if (!st->tenants)
    fprintf(stderr, "teststack: %s\n", err);
  return st->tenants ? 0 : -1;
}

/* Prints the services' warnings and errors (and sanitizer reports), so a
 * failing test shows why; the logs go with the temporary folder. */
static void show_failures(const sb_teststack_t *st) {
  char cmd[1024];
  snprintf(cmd, sizeof cmd,
           "cd %s && cat ingest.log classify.log route.log sla-timer.log notify.log 2>/dev/null"
           " | grep -v '\\\"level\\\":\\\"info\\\"' | head -50 >&2",
           sbctl_stack_logdir(st->stack));
  if (system(cmd) != 0)
    return;
}

/* redis_url NULL: the stack's own redis-server; else the services use it
 * and log into a fresh temporary folder (st->ext_dir). */
static sb_teststack_t *start_stack(const char *tenants_json, const char *appendfsync,
                                   const char *redis_url) {
  sb_teststack_t *st = calloc(1, sizeof *st);
  if (!st || write_tenants(st, tenants_json)) {
    sb_teststack_stop(&st);
    return NULL;
  }
  sbctl_stack_opts_t o = {.tenants = st->tenants_path, .appendfsync = appendfsync,
                          .port_offset = -1, .bindir = sb_test_binary_dir()};
  if (redis_url) {
    snprintf(st->ext_dir, sizeof st->ext_dir, "/tmp/sb-stack-XXXXXX");
    if (!mkdtemp(st->ext_dir)) {
      st->ext_dir[0] = '\0';
      sb_teststack_stop(&st);
      return NULL;
    }
    o.redis_url = redis_url;
    o.logdir = st->ext_dir;
  }
  /* sbctl_stack_start itself starts again at another offset when a
   * service exits at start (a port taken since it was picked); this loop
   * covers the rest: a private Redis that fails to start, a service not
   * ready in time on a loaded machine. */
  for (int attempt = 0; attempt < 3 && !st->stack; attempt++) {
    if (attempt)
      fprintf(stderr, "sb_teststack: start failed, trying again at another port offset\n");
    st->stack = sbctl_stack_start(&o, NULL);
  }
  if (!st->stack) {
    sb_teststack_stop(&st);
    return NULL;
  }
  if (!redis_url || strncmp(redis_url, "redis://", 8) == 0) /* a cluster has no one view */
    st->rc = sbctl_view_connect(sbctl_stack_redis_url(st->stack));
  char ep[64];
  snprintf(ep, sizeof ep, "tcp://127.0.0.1:%d", SB_PORT_INGEST_ZMQ + sbctl_stack_offset(st->stack));
  st->zctx = zmq_ctx_new();
  st->client = sbctl_client_new(st->zctx, ep);
  return st;
}

static void edge_cleanup(sb_teststack_t *st);

void sb_teststack_stop(sb_teststack_t **stp) {
  sb_teststack_t *st = *stp;
  if (!st)
    return;
  *stp = NULL;
  sbctl_client_destroy(&st->client);
  if (st->zctx)
    zmq_ctx_term(st->zctx);
  sbctl_proc_stop(st->replicas, st->nreplicas, TESTSTACK_STOP_MS);
  if (st->stack) {
    sbctl_stack_stop_services(st->stack); /* their logs are complete now */
    show_failures(st);
    sbctl_stack_stop(&st->stack);
  }
  if (strncmp(st->tenants_path, "/tmp/sb-tenants-", 16) == 0) {
    unlink(st->tenants_path);
    *strrchr(st->tenants_path, '/') = '\0';
    rmdir(st->tenants_path);
  }
  if (st->rc)
    redisFree(st->rc);
  sb_tenants_destroy(&st->tenants);
  if (st->edge)
    edge_cleanup(st);
  if (st->ext_dir[0]) {
    static const char *const logs[] = {"ingest", "classify", "route", "sla-timer", "notify"};
    for (size_t i = 0; i < sizeof logs / sizeof logs[0]; i++) {
      char path[128];
      snprintf(path, sizeof path, "%s/%s.log", st->ext_dir, logs[i]);
      unlink(path);
    }
    rmdir(st->ext_dir);
  }
  free(st);
}

sb_teststack_t *sb_teststack_start(const char *tenants_json, const char *appendfsync) {
  return start_stack(tenants_json, appendfsync, NULL);
}

sb_teststack_t *sb_teststack_start_url(const char *tenants_json, const char *redis_url) {
  return redis_url ? start_stack(tenants_json, NULL, redis_url) : NULL;
}

int sb_teststack_offset(const sb_teststack_t *st) { return sbctl_stack_offset(st->stack); }
const char *sb_teststack_dir(const sb_teststack_t *st) { return sbctl_stack_logdir(st->stack); }
const sb_tenants_t *sb_teststack_tenants(const sb_teststack_t *st) { return st->tenants; }
redisContext *sb_teststack_redis(sb_teststack_t *st) { return st->rc; }
sbctl_client_t *sb_teststack_client(sb_teststack_t *st) { return st->client; }

int sb_teststack_kill(sb_teststack_t *st, const char *service, int sig) {
  return sbctl_stack_kill(st->stack, service, sig);
}

int sb_teststack_restart(sb_teststack_t *st, const char *service) {
  return sbctl_stack_restart(st->stack, service);
}

int sb_teststack_add_replica(sb_teststack_t *st, const char *service) {
  int listen_port = sb_test_free_port(), admin_port = sb_test_free_port();
  if (st->nreplicas == TESTSTACK_REPLICAS_MAX || !listen_port || !admin_port || listen_port == admin_port)
    return -1;
  char listen[64], admin[16];
  snprintf(listen, sizeof listen, "tcp://127.0.0.1:%d", listen_port);
  snprintf(admin, sizeof admin, "%d", admin_port);
  sbctl_proc_env_t e = {sb_test_binary_dir(), sbctl_stack_logdir(st->stack), sbctl_stack_redis_url(st->stack),
                        st->tenants_path, sbctl_stack_offset(st->stack)};
  /* the child inherits them at fork; the stack's own services are running */
  setenv("SB_LISTEN", listen, 1);
  setenv("SB_ADMIN_PORT", admin, 1);
  pid_t pid = sbctl_proc_spawn(&e, service);
  unsetenv("SB_LISTEN");
  unsetenv("SB_ADMIN_PORT");
  if (pid < 0)
    return -1;
  st->replicas[st->nreplicas++] = pid;
  return sbctl_proc_wait_ready(pid, admin_port, TESTSTACK_READY_MS) ? -1 : admin_port;
}

int sb_teststack_redis_kill(sb_teststack_t *st, int sig) {
  if (st->rc) {
    redisFree(st->rc); /* reconnected by sb_teststack_redis_restart */
    st->rc = NULL;
  }
  return sbctl_stack_redis_kill(st->stack, sig);
}

int sb_teststack_redis_restart(sb_teststack_t *st) {
  int rc = sbctl_stack_redis_restart(st->stack);
  if (rc == 0)
    st->rc = sbctl_view_connect(sbctl_stack_redis_url(st->stack));
  return rc == 0 && st->rc ? 0 : -1;
}

int sb_teststack_publish_all(sb_teststack_t *st, int timeout_ms) {
  int64_t until = sb_now_ms() + timeout_ms;
  while (sbctl_client_outstanding(st->client) && sb_now_ms() < until) {
    sbctl_client_pump(st->client);
    zmq_pollitem_t it = {sbctl_client_socket(st->client), 0, ZMQ_POLLIN, 0};
    if (zmq_poll(&it, 1, 50) > 0)
      sbctl_client_on_readable(st->client);
  }
  return sbctl_client_outstanding(st->client) ? -1 : 0;
}

int sb_teststack_wait_drained(sb_teststack_t *st, long long messages, int timeout_ms,
                              sbctl_stats_t *out) {
  int64_t until = sb_now_ms() + timeout_ms;
  for (;;) {
    if (sbctl_view_read_all(st->rc, st->tenants, out))
      return -1;
    if (sbctl_view_inflight(out) == 0 && out->routed_messages >= messages)
      return 0;
    if (sb_now_ms() > until)
      return -1;
    usleep(50000);
  }
}

static sb_envelope_t *admit(sb_teststack_t *st, sb_cloudevent_t *ce) {
  sb_admit_result_t ar;
  sb_envelope_t *env = sb_admit_cloudevent(ce, st->tenants, &ar);
  if (!env)
    fprintf(stderr, "teststack: not admitted: %s\n", ar.reason);
  free(ce->data);
  return env;
}

sb_envelope_t *sb_teststack_message(sb_teststack_t *st, const char *tenant, const char *id,
                                    const char *channel, const char *customer, const char *text) {
  sb_cloudevent_t ce = {.id = (char *)id, .source = "/tests", .type = SB_TYPE_INTERACTION,
                        .specversion = "1.0", .tenant = (char *)tenant};
  cJSON *d = cJSON_CreateObject();
  cJSON_AddStringToObject(d, "channel", channel);
  cJSON_AddStringToObject(d, "customer", customer);
  cJSON_AddStringToObject(d, "text", text);
  ce.data = cJSON_PrintUnformatted(d);
  cJSON_Delete(d);
  return admit(st, &ce);
}

sb_envelope_t *sb_teststack_agent_event(sb_teststack_t *st, const char *tenant, const char *id,
                                        const char *action, const char *agent,
                                        const char *conversation, int capacity) {
  char type[64];
  snprintf(type, sizeof type, "%s%s", SB_TYPE_AGENT_PREFIX, action);
  sb_cloudevent_t ce = {.id = (char *)id, .source = "/tests/agents", .type = type,
                        .specversion = "1.0", .tenant = (char *)tenant};
  cJSON *d = cJSON_CreateObject();
  cJSON_AddStringToObject(d, "agent", agent);
  if (conversation)
    cJSON_AddStringToObject(d, "conversation", conversation);
  if (capacity)
    cJSON_AddNumberToObject(d, "capacity", capacity);
  ce.data = cJSON_PrintUnformatted(d);
  cJSON_Delete(d);
  return admit(st, &ce);
}

int sb_teststack_http(sb_teststack_t *st, int base_port, const char *method, const char *path,
                      const char *content_type, const char *body, size_t len, char *out,
                      size_t cap) {
  return sb_teststack_http_header(st, base_port, method, path, NULL, content_type, body, len, out, cap);
}

int sb_teststack_http_header(sb_teststack_t *st, int base_port, const char *method, const char *path,
                             const char *header, const char *content_type, const char *body,
                             size_t len, char *out, size_t cap) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)(base_port + sb_teststack_offset(st)))};
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof a) != 0) {
    if (fd >= 0)
      close(fd);
    return -1;
  }
  char head[8192];
  int hl = snprintf(head, sizeof head,
                    "%s %s HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n%s%sContent-Type: %s\r\n"
                    "Content-Length: %zu\r\n\r\n",
                    method, path, header ? header : "", header ? "\r\n" : "",
                    content_type ? content_type : "application/json", len);
  int ok = hl > 0 && (size_t)hl < sizeof head && write(fd, head, (size_t)hl) == hl; /* never a cut head */
  for (size_t off = 0; ok && off < len;) {
    ssize_t w = write(fd, body + off, len - off);
    ok = w > 0;
    off += ok ? (size_t)w : 0;
  }
  size_t got = 0;
  char *buf = malloc(1 << 20);
  ssize_t r;
  while (ok && got < (1 << 20) - 1 && (r = read(fd, buf + got, (1 << 20) - 1 - got)) > 0)
    got += (size_t)r;
  close(fd);
  buf[got] = '\0';
  int status = -1;
  sscanf(buf, "HTTP/1.%*d %d", &status);
  const char *b = strstr(buf, "\r\n\r\n");
  if (out && cap)
    snprintf(out, cap, "%s", b ? b + 4 : "");
  free(buf);
  return status;
}

/* ---- CURVE at the edge ----------------------------------------------- */

static void edge_cleanup(sb_teststack_t *st) {
  static const char *const files[] = {"edge.key", "clients"};
  unsetenv("SB_EDGE_CURVE_SECRET_KEY_FILE");
  unsetenv("SB_EDGE_CURVE_CLIENTS_FILE");
  for (size_t i = 0; st->edge_dir[0] && i < sizeof files / sizeof files[0]; i++) {
    char path[128];
    snprintf(path, sizeof path, "%s/%s", st->edge_dir, files[i]);
    unlink(path);
  }
  if (st->edge_dir[0])
    rmdir(st->edge_dir);
  free(st->edge);
  st->edge = NULL;
}

static int edge_write(const char *dir, const char *name, const char *a, const char *b) {
  char path[128];
  snprintf(path, sizeof path, "%s/%s", dir, name);
  FILE *f = fopen(path, "w");
  if (!f)
    return -1;
  fprintf(f, "# written by sb_teststack\n%s\n%s\n", a, b ? b : "");
  fclose(f);
  return setenv(strcmp(name, "edge.key") == 0 ? "SB_EDGE_CURVE_SECRET_KEY_FILE" : "SB_EDGE_CURVE_CLIENTS_FILE",
                path, 1);
}

sb_teststack_t *sb_teststack_start_edge_curve(const char *tenants_json, const char *appendfsync,
                                              const char *extra_clients) {
  sb_teststack_keys_t *k = calloc(1, sizeof *k);
  char dir[] = "/tmp/sb-edge-curve-XXXXXX";
  if (!k || zmq_curve_keypair(k->server_public, k->server_secret) != 0 ||
      zmq_curve_keypair(k->client_public, k->client_secret) != 0 || !mkdtemp(dir)) {
    free(k);
    return NULL;
  }
  int bad = edge_write(dir, "edge.key", k->server_secret, NULL) ||
            edge_write(dir, "clients", k->client_public, extra_clients);
  sb_teststack_t *st = bad ? NULL : sb_teststack_start(tenants_json, appendfsync);
  if (!st) {
    sb_teststack_t tmp = {.edge = k};
    snprintf(tmp.edge_dir, sizeof tmp.edge_dir, "%s", dir);
    edge_cleanup(&tmp);
    return NULL;
  }
  st->edge = k;
  snprintf(st->edge_dir, sizeof st->edge_dir, "%s", dir);
  sb_curve_t *keys = sb_teststack_edge_client_keys(st, k->client_secret);
  char ep[64];
  snprintf(ep, sizeof ep, "tcp://127.0.0.1:%d", SB_PORT_INGEST_ZMQ + sbctl_stack_offset(st->stack));
  sbctl_client_destroy(&st->client); /* the plaintext one would never be answered */
  st->client = keys ? sbctl_client_new_curve(st->zctx, ep, keys) : NULL;
  sb_curve_destroy(&keys);
  if (!st->client)
    sb_teststack_stop(&st);
  return st;
}

const sb_teststack_keys_t *sb_teststack_edge_keys(const sb_teststack_t *st) { return st->edge; }

sb_curve_t *sb_teststack_edge_client_keys(const sb_teststack_t *st, const char *client_secret) {
  char pub[41], sec[41];
  if (!st->edge || (!client_secret && zmq_curve_keypair(pub, sec) != 0))
    return NULL;
  sb_curve_t *c = sb_curve_new();
  if (c && (sb_curve_set_secret(c, client_secret ? client_secret : sec) != 0 ||
            sb_curve_set_server_key(c, st->edge->server_public) != 0))
    sb_curve_destroy(&c);
  return c;
}

sb_envelope_t *sb_teststack_routed(sb_teststack_t *st, const char *tenant, const char *source,
                                   const char *id, int wait_ms) {
  char key[SB_EVENT_KEY_LEN + 1], k[SB_KEY_MAX], suffix[64];
  sb_event_key(source, id, key);
  snprintf(suffix, sizeof suffix, "ev:%s", key);
  sb_key_tenant(k, sizeof k, tenant, suffix);
  int64_t until = sb_now_ms() + wait_ms;
  do {
    redisReply *r = redisCommand(st->rc, "GET %s", k);
    sb_envelope_t *env = r && r->type == REDIS_REPLY_STRING ? sb_envelope_unpack(r->str, r->len) : NULL;
    if (r)
      freeReplyObject(r);
    if (env && env->routing)
      return env;
    sb_envelope_free(env);
    usleep(20000);
  } while (sb_now_ms() < until);
  return NULL;
}
