/*
 * webhook_drain: how fast notify delivers webhooks to a local receiver.
 *
 *   webhook_drain [N] [MAX_IN_FLIGHT]      (defaults 10000, 16)
 *
 * Starts a private redis-server, an HTTP receiver on this process's libuv
 * loop (sb_http, answering 200 or 503), and a real sb-notify (found beside
 * this binary) with one tenant and one endpoint. Then:
 *   1. throughput: N deliveries are queued in Redis as notify.lua queues
 *      them, the receiver answers 200: deliveries/s until all N are in;
 *   2. drain after recovery: the receiver fails (503) until the endpoint's
 *      breaker opened, N more are queued, then it recovers: the time from
 *      recovery until all N were delivered (includes the breaker's open_ms
 *      and the retry back-off that was pending).
 * Prints one JSON line. The queued records must match notify.lua's format
 * (hooks:due:<hook> zset + hooks:d:<hook>:<key> hash).
 */
#include "sb_http.h"
#include "sb_keys.h"
#include "sb_redisd.h"
#include "sb_time.h"

#include <hiredis/hiredis.h>
#include <libgen.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <uv.h>

#define BENCH_OPEN_MS 500
#define BENCH_BODY "{\"specversion\":\"1.0\",\"type\":\"queued\",\"tenant\":\"bench\",\"data\":{}}"

typedef struct {
  int failing;
  long ok, failed;
  long n, phase;
  int64_t t_start, t_recover;
  double rate, drain_ms;
  redisContext *rc;
  sb_http_server_t *http;
  uv_timer_t tick;
} bench_t;

static void handler(const sb_http_request_t *req, sb_http_response_t *res, void *arg) {
  bench_t *b = arg;
  (void)req;
  if (b->failing) {
    b->failed++;
    sb_http_respond(res, 503, "application/json", "{}", 2, NULL);
  } else {
    b->ok++;
    sb_http_respond(res, 200, "application/json", "{}", 2, NULL);
  }
}

/* Queues n deliveries with keys from base, pipelined. */
static void seed(bench_t *b, long base, long n) {
  char due[SB_KEY_MAX], rec[SB_KEY_MAX], suffix[96], key[40];
  long long now = sb_now_ms();
  sb_key_tenant(due, sizeof due, "bench", "hooks:due:h");
  for (long i = 0; i < n; i++) {
    snprintf(key, sizeof key, "%032lx", base + i);
    snprintf(suffix, sizeof suffix, "hooks:d:h:%s", key);
    sb_key_tenant(rec, sizeof rec, "bench", suffix);
    redisAppendCommand(b->rc, "HSET %s body %s attempts 0 first_ms %lld", rec, BENCH_BODY, now);
    redisAppendCommand(b->rc, "ZADD %s %lld %s", due, now, key);
  }
  for (long i = 0; i < 2 * n; i++) {
    redisReply *r = NULL;
    if (redisGetReply(b->rc, (void **)&r) == REDIS_OK)
      freeReplyObject(r);
  }
}

static void on_tick(uv_timer_t *t) {
  bench_t *b = t->data;
  int64_t now = sb_now_ms();
  if (b->phase == 0 && b->ok >= b->n) {
    b->rate = (double)b->n * 1000.0 / (double)(now - b->t_start);
    b->phase = 1;
    b->failing = 1;
    b->ok = 0;
    seed(b, b->n, b->n);
  } else if (b->phase == 1 && b->failed >= 20) {
    b->phase = 2; /* the breaker has opened by now; let it stay open a while */
    b->t_recover = now + BENCH_OPEN_MS / 2;
  } else if (b->phase == 2 && now >= b->t_recover) {
    b->failing = 0;
    b->phase = 3;
  } else if (b->phase == 3 && b->ok >= b->n) {
    b->drain_ms = (double)(now - b->t_recover);
    uv_stop(t->loop);
  }
}

static pid_t spawn_notify(const char *self, const char *url, const char *tenants) {
  char path[PATH_MAX], dir[PATH_MAX], offset[16];
  snprintf(dir, sizeof dir, "%s", self);
  snprintf(path, sizeof path, "%s/sb-notify", dirname(dir));
  snprintf(offset, sizeof offset, "%d", 20000 + (int)(getpid() % 20000));
  pid_t pid = fork();
  if (pid == 0) {
    execl(path, "sb-notify", "--redis-url", url, "--tenants", tenants, "--port-offset", offset,
          "--hooks-poll-ms", "50", "--log-level", "error", (char *)NULL);
    _exit(127);
  }
  return pid;
}

int main(int argc, char **argv) {
  bench_t b = {.n = argc > 1 ? atol(argv[1]) : 10000};
  int inflight = argc > 2 ? atoi(argv[2]) : 16;
  uv_loop_t *loop = uv_default_loop();
  sb_redisd_t *rd = sb_redisd_start(NULL);
  b.http = sb_http_server_new(loop, NULL, handler, &b);
  if (!rd || !b.http || sb_http_server_listen(b.http, "127.0.0.1", 0)) {
    fprintf(stderr, "webhook_drain: cannot start redis or the receiver\n");
    return 1;
  }
  b.rc = redisConnect("127.0.0.1", sb_redisd_port(rd));
  char tenants[] = "/tmp/sb-webhook-drain-XXXXXX";
  int fd = mkstemp(tenants);
  FILE *f = fdopen(fd, "w");
  fprintf(f,
          "{\"tenants\":[{\"id\":\"bench\",\"notify\":{\"webhooks\":[{\"id\":\"h\","
          "\"url\":\"http://127.0.0.1:%d/h\",\"secret\":\"bench\",\"events\":[\"*\"],"
          "\"max_in_flight\":%d}],\"retry\":{\"base_ms\":100,\"max_ms\":1000},"
          "\"breaker\":{\"failures\":5,\"open_ms\":%d}}}]}\n",
          sb_http_server_port(b.http), inflight, BENCH_OPEN_MS);
  fclose(f);
  seed(&b, 0, b.n);
  b.t_start = sb_now_ms();
  pid_t notify = spawn_notify(argv[0], sb_redisd_url(rd), tenants);
  uv_timer_init(loop, &b.tick);
  b.tick.data = &b;
  uv_timer_start(&b.tick, on_tick, 5, 5);
  uv_run(loop, UV_RUN_DEFAULT);
  printf("{\"webhooks\":%ld,\"max_in_flight\":%d,\"delivered_per_s\":%.0f,"
         "\"drain_after_recovery_ms\":%.0f,\"failed_attempts_while_down\":%ld}\n",
         b.n, inflight, b.rate, b.drain_ms, b.failed);
  kill(notify, SIGTERM);
  waitpid(notify, NULL, 0);
  unlink(tenants);
  redisFree(b.rc);
  sb_http_server_destroy(&b.http);
  uv_close((uv_handle_t *)&b.tick, NULL);
  uv_run(loop, UV_RUN_NOWAIT);
  sb_redisd_stop(&rd);
  return 0;
}
