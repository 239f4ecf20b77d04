/*
 * test_admin: the admin endpoint over real loopback TCP. The admin server
 * runs on a uv loop in the main thread; each fetch() runs one blocking
 * client in a second thread (request with "Connection: close", read to
 * EOF) while the loop serves, then the main thread checks the answer.
 * Readiness flips between fetches, while the loop is not running.
 */
#include "sb_testutil.h"

#include "sb_admin.h"
#include "sb_metrics.h"

#include <arpa/inet.h>
#include <cjson/cJSON.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#define CLIENT_TIMEOUT_S 5
#define GUARD_MS 10000
#define REPLY_MAX (256 * 1024)

typedef struct {
  uv_loop_t loop;
  uv_async_t done;
  uv_timer_t guard;
  sb_metrics_t *metrics;
  sb_admin_t *admin;
  int ready;
  const char *why;
  int ready_calls;
} fx_t;

typedef struct {
  int port;
  const char *request;
  char reply[REPLY_MAX];
  size_t len;
  uv_async_t *done;
} fetch_t;

static int ready_fn(void *arg, const char **why) {
  fx_t *fx = arg;
  fx->ready_calls++;
  if (!fx->ready)
    *why = fx->why;
  return fx->ready;
}

static void on_done(uv_async_t *a) { uv_stop(a->loop); }
static void on_guard(uv_timer_t *t) { uv_stop(t->loop); }

static int setup(void **state) {
  fx_t *fx = calloc(1, sizeof *fx);
  uv_loop_init(&fx->loop);
  uv_async_init(&fx->loop, &fx->done, on_done);
  uv_timer_init(&fx->loop, &fx->guard);
  fx->metrics = sb_metrics_new("route");
  fx->ready = 1;
  fx->admin = sb_admin_new(&fx->loop, fx->metrics, ready_fn, fx);
  if (!fx->admin || sb_admin_listen(fx->admin, "127.0.0.1", 0) != 0)
    return -1;
  *state = fx;
  return 0;
}

static int teardown(void **state) {
  fx_t *fx = *state;
  sb_admin_destroy(&fx->admin);
  uv_close((uv_handle_t *)&fx->done, NULL);
  uv_close((uv_handle_t *)&fx->guard, NULL);
  uv_run(&fx->loop, UV_RUN_DEFAULT);
  int rc = uv_loop_close(&fx->loop); /* every handle closed */
  sb_metrics_destroy(&fx->metrics);
  free(fx);
  return rc == 0 ? 0 : -1;
}

static void fetch_main(void *arg) {
  fetch_t *f = arg;
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  struct timeval tv = {CLIENT_TIMEOUT_S, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)f->port)};
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd, (struct sockaddr *)&a, sizeof a) == 0) {
    send(fd, f->request, strlen(f->request), MSG_NOSIGNAL);
    ssize_t n = 1;
    while (f->len < REPLY_MAX - 1 && n > 0) {
      n = recv(fd, f->reply + f->len, REPLY_MAX - 1 - f->len, 0);
      f->len += n > 0 ? (size_t)n : 0;
    }
  }
  f->reply[f->len] = '\0';
  close(fd);
  uv_async_send(f->done);
}

/* Sends "<method> <path>" and returns the whole reply (caller frees). */
static fetch_t *fetch(fx_t *fx, const char *method, const char *path) {
  fetch_t *f = calloc(1, sizeof *f);
  char *req = malloc(256);
  snprintf(req, 256, "%s %s HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", method, path);
  f->port = sb_admin_port(fx->admin);
  f->request = req;
  f->done = &fx->done;
  uv_thread_t t;
  assert_int_equal(uv_thread_create(&t, fetch_main, f), 0);
  uv_timer_start(&fx->guard, on_guard, GUARD_MS, 0);
  uv_run(&fx->loop, UV_RUN_DEFAULT);
  uv_timer_stop(&fx->guard);
  uv_thread_join(&t);
  free(req);
  f->request = NULL;
  return f;
}

static int reply_status(const fetch_t *f) {
  int status = 0;
  sscanf(f->reply, "HTTP/1.1 %d", &status);
  return status;
}

static const char *reply_body(const fetch_t *f) {
  const char *b = strstr(f->reply, "\r\n\r\n");
  return b ? b + 4 : "";
}

static void assert_json_field(const fetch_t *f, const char *obj, const char *key,
                              const char *want) {
  cJSON *j = cJSON_Parse(reply_body(f));
  assert_non_null(j);
  cJSON *o = obj ? cJSON_GetObjectItem(j, obj) : j;
  cJSON *v = cJSON_GetObjectItem(o, key);
  assert_true(cJSON_IsString(v));
  assert_string_equal(v->valuestring, want);
  cJSON_Delete(j);
}

static void healthz_says_ok(void **state) {
  fx_t *fx = *state;
  fetch_t *f = fetch(fx, "GET", "/healthz");
  assert_int_equal(reply_status(f), 200);
  assert_non_null(strstr(f->reply, "\r\nContent-Type: application/json\r\n"));
  assert_string_equal(reply_body(f), "{\"status\":\"ok\"}");
  free(f);
}

static void readyz_follows_readiness(void **state) {
  fx_t *fx = *state;
  fetch_t *f = fetch(fx, "GET", "/readyz");
  assert_int_equal(reply_status(f), 200);
  assert_string_equal(reply_body(f), "{\"status\":\"ready\"}");
  free(f);

  fx->ready = 0;
  fx->why = "redis_disconnected";
  f = fetch(fx, "GET", "/readyz");
  assert_int_equal(reply_status(f), 503);
  assert_json_field(f, NULL, "status", "not_ready");
  assert_json_field(f, NULL, "reason", "redis_disconnected");
  free(f);

  fx->ready = 1;
  f = fetch(fx, "GET", "/readyz");
  assert_int_equal(reply_status(f), 200);
  free(f);
  assert_int_equal(fx->ready_calls, 3);
}

static void metrics_renders_registry(void **state) {
  fx_t *fx = *state;
  sb_counter_add(sb_metrics_counter(fx->metrics, "sb_routed_total", "Routed.", "queue=\"q1\""), 42);
  fetch_t *f = fetch(fx, "GET", "/metrics");
  assert_int_equal(reply_status(f), 200);
  assert_non_null(strstr(f->reply, "\r\nContent-Type: text/plain; version=0.0.4"));
  assert_non_null(strstr(reply_body(f), "# TYPE sb_routed_total counter\n"));
  assert_non_null(strstr(reply_body(f), "sb_routed_total{service=\"route\",queue=\"q1\"} 42\n"));
  assert_non_null(strstr(reply_body(f), "\nprocess_resident_memory_bytes{service=\"route\"} "));
  /* the body is exactly what the registry renders */
  char *text = NULL;
  size_t len = 0;
  assert_int_equal(sb_metrics_render(fx->metrics, &text, &len), 0);
  char *rss = strstr(text, "process_resident_memory_bytes{"); /* may move between renders */
  assert_memory_equal(reply_body(f), text, (size_t)(rss - text));
  free(text);
  free(f);
}

static void unknown_path_and_method_are_json_errors(void **state) {
  fx_t *fx = *state;
  fetch_t *f = fetch(fx, "GET", "/nope");
  assert_int_equal(reply_status(f), 404);
  assert_json_field(f, "error", "code", "not_found");
  free(f);
  f = fetch(fx, "POST", "/healthz");
  assert_int_equal(reply_status(f), 405);
  assert_non_null(strstr(f->reply, "\r\nAllow: GET\r\n"));
  assert_json_field(f, "error", "code", "method_not_allowed");
  free(f);
  f = fetch(fx, "DELETE", "/metrics");
  assert_int_equal(reply_status(f), 405);
  free(f);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(healthz_says_ok, setup, teardown),
      cmocka_unit_test_setup_teardown(readyz_follows_readiness, setup, teardown),
      cmocka_unit_test_setup_teardown(metrics_renders_registry, setup, teardown),
      cmocka_unit_test_setup_teardown(unknown_path_and_method_are_json_errors, setup, teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
