/*
 * sb_admin: /healthz, /readyz and /metrics over sb_http (see sb_admin.h).
 *
 * Dispatch is a table of paths; a route answers before returning, so the
 * admin struct is never referenced by a pending response and can be freed at
 * once in sb_admin_destroy (the server itself finishes closing on the loop).
 */
#include "sb_admin.h"

#include "sb_error.h"
#include "sb_http.h"

#include <cjson/cJSON.h>
#include <stdlib.h>
#include <string.h>

#define ADMIN_MAX_BODY 4096u /* GETs carry no body */
#define ADMIN_MAX_CONNECTIONS 64u
#define JSON_TYPE "application/json"
#define METRICS_TYPE "text/plain; version=0.0.4; charset=utf-8"
#define HEALTHY_BODY "{\"status\":\"ok\"}"
#define READY_BODY "{\"status\":\"ready\"}"
#define STATUS_OK 200
#define STATUS_NOT_FOUND 404
#define STATUS_NOT_ALLOWED 405
#define STATUS_INTERNAL 500
#define STATUS_UNAVAILABLE 503

struct sb_admin {
  sb_http_server_t *http;
  sb_metrics_t *metrics;
  sb_admin_ready_fn ready;
  void *ready_arg;
};

typedef void (*route_fn)(sb_admin_t *a, sb_http_response_t *res);

static void serve_healthz(sb_admin_t *a, sb_http_response_t *res) {
  (void)a;
  sb_http_respond(res, STATUS_OK, JSON_TYPE, HEALTHY_BODY, strlen(HEALTHY_BODY), NULL);
}

/* {"status":"not_ready","reason":why}, JSON-escaped; NULL on OOM. */
static char *not_ready_json(const char *why) {
  cJSON *root = cJSON_CreateObject();
  cJSON_AddStringToObject(root, "status", "not_ready");
  cJSON_AddStringToObject(root, "reason", why ? why : "unknown");
  char *s = cJSON_GetObjectItem(root, "reason") ? cJSON_PrintUnformatted(root) : NULL;
  cJSON_Delete(root);
  return s;
}

static void serve_readyz(sb_admin_t *a, sb_http_response_t *res) {
  const char *why = NULL;
  if (!a->ready || a->ready(a->ready_arg, &why)) {
    sb_http_respond(res, STATUS_OK, JSON_TYPE, READY_BODY, strlen(READY_BODY), NULL);
    return;
  }
  char *body = not_ready_json(why);
  if (body)
    sb_http_respond(res, STATUS_UNAVAILABLE, JSON_TYPE, body, strlen(body), NULL);
  else
    sb_http_respond_error(res, STATUS_INTERNAL, "internal", "out of memory", NULL);
  cJSON_free(body);
}

static void serve_metrics(sb_admin_t *a, sb_http_response_t *res) {
  char *text = NULL;
  size_t len = 0;
  if (a->metrics && sb_metrics_render(a->metrics, &text, &len) != 0) {
    sb_http_respond_error(res, STATUS_INTERNAL, "internal", "out of memory", NULL);
    return;
  }
  sb_http_respond(res, STATUS_OK, METRICS_TYPE, text ? text : "", len, NULL);
  free(text);
}

static const struct {
  const char *path;
  route_fn fn;
} routes[] = {
    {"/healthz", serve_healthz},
    {"/readyz", serve_readyz},
    {"/metrics", serve_metrics},
};

static void on_request(const sb_http_request_t *req, sb_http_response_t *res, void *arg) {
  for (size_t i = 0; i < sizeof routes / sizeof routes[0]; i++) {
    if (strcmp(req->path, routes[i].path) != 0)
      continue;
    if (strcmp(req->method, "GET") != 0)
      sb_http_respond_error(res, STATUS_NOT_ALLOWED, "method_not_allowed", "use GET",
                            "Allow: GET\r\n");
    else
      routes[i].fn(arg, res);
    return;
  }
  sb_http_respond_error(res, STATUS_NOT_FOUND, "not_found", "no such admin path", NULL);
}

sb_admin_t *sb_admin_new(uv_loop_t *loop, sb_metrics_t *metrics, sb_admin_ready_fn ready,
                         void *arg) {
  sb_admin_t *a = calloc(1, sizeof *a);
  if (!a)
    return NULL;
  sb_http_limits_t limits;
  sb_http_limits_default(&limits);
  limits.max_body = ADMIN_MAX_BODY;
  limits.max_connections = ADMIN_MAX_CONNECTIONS;
  a->http = sb_http_server_new(loop, &limits, on_request, a);
  if (!a->http) {
    free(a);
    return NULL;
  }
  a->metrics = metrics;
  a->ready = ready;
  a->ready_arg = arg;
  return a;
}

int sb_admin_listen(sb_admin_t *a, const char *host, int port) {
  return sb_http_server_listen(a->http, host, port);
}

int sb_admin_port(const sb_admin_t *a) { return sb_http_server_port(a->http); }

void sb_admin_destroy(sb_admin_t **ap) {
  if (!ap || !*ap)
    return;
  sb_http_server_destroy(&(*ap)->http);
  free(*ap);
  *ap = NULL;
}
