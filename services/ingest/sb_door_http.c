/* sb_door_http: see sb_door_http.h. */
#include "sb_door_http.h"
#include "sb_admit.h"
#include "sb_door_identity.h"
#include "sb_door_webhook.h"
#include "sb_cloudevent.h"
#include "sb_cloudevent_http.h"
#include "sb_error.h"
#include "sb_http.h"
#include "sb_log.h"
#include "sb_time.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define SB_RETRY_AFTER "Retry-After: 1\r\n"
#define SB_JSON "application/json"

struct sb_door_http {
  sb_service_t *svc;
  sb_intake_t *intake;
  sb_http_server_t *http;
  sb_door_webhook_t *webhooks;
  sb_door_identity_t *identities;
};

typedef struct {
  sb_door_http_t *door;
  sb_http_response_t *res;
  size_t n, remaining;
  int batch, accepted, failed;
  cJSON *results;
} request_t;

typedef void (*route_fn)(sb_door_http_t *d, const sb_http_request_t *req, sb_http_response_t *res,
                         int agent_only);

static void reject(sb_door_http_t *d, sb_http_response_t *res, int status, const char *code,
                   const char *msg, const char *headers) {
  char labels[64];
  snprintf(labels, sizeof labels, "code=\"%s\"", code);
  sb_counter_add(sb_metrics_counter(d->svc->metrics, "sb_ingest_http_rejected_total",
                                    "HTTP requests refused, by error code", labels), 1);
  sb_http_respond_error(res, status, code, msg, headers);
}

static void respond_json(sb_http_response_t *res, int status, cJSON *body, const char *headers) {
  char *text = cJSON_PrintUnformatted(body);
  sb_http_respond(res, status, SB_JSON, text ? text : "{}", text ? strlen(text) : 2, headers);
  free(text);
}

static void finish(request_t *r) {
  cJSON *body = r->batch ? cJSON_CreateObject() : cJSON_DetachItemFromArray(r->results, 0);
  if (r->batch)
    cJSON_AddItemToObject(body, "results", r->results);
  else
    cJSON_Delete(r->results);
  if (r->failed)
    respond_json(r->res, 503, body, SB_RETRY_AFTER);
  else
    respond_json(r->res, r->accepted ? 202 : 200, body, NULL);
  cJSON_Delete(body);
  free(r);
}

static void on_done(void *arg, size_t index, sb_intake_status_t st, const char *conv) {
  request_t *r = arg;
  static const char *const names[] = {"accepted", "duplicate", "failed"};
  cJSON *o = cJSON_GetArrayItem(r->results, (int)index);
  cJSON_AddStringToObject(o, "status", names[st]);
  if (*conv)
    cJSON_AddStringToObject(o, "conversation", conv);
  r->accepted += st == SB_INTAKE_ACCEPTED;
  r->failed += st == SB_INTAKE_FAILED;
  if (--r->remaining == 0)
    finish(r);
}

/* The integrator's key from "Authorization: Bearer <key>", or NULL. */
static const char *bearer_key(const sb_http_request_t *req) {
  const char *h = sb_http_request_header(req, "Authorization");
  return h && strncasecmp(h, "Bearer ", 7) == 0 && h[7] ? h + 7 : NULL;
}

/* 0 if the key may publish for the event's tenant, else responds 401/403. */
static int authorize(sb_door_http_t *d, sb_http_response_t *res, const sb_envelope_t *env,
                     const char *key, size_t i) {
  const sb_tenant_t *t = sb_service_tenant(d->svc, env->tenant);
  if (t && sb_tenant_key_ok(t, key))
    return 0;
  char msg[160];
  snprintf(msg, sizeof msg, "event %zu: %s", i,
           key ? "this key may not publish for the event's tenant" : "an API key is required (Authorization: Bearer)");
  reject(d, res, key ? 403 : 401, key ? "forbidden" : "unauthorized", msg, NULL);
  return -1;
}

/* Admits every event or none; returns the envelopes or NULL (responded). */
static sb_envelope_t **admit_all(sb_door_http_t *d, sb_http_response_t *res, sb_cloudevent_t *ev,
                                 size_t n, int agent_only, const char *key,
                                 sb_admit_result_t *threads) {
  sb_envelope_t **envs = calloc(n, sizeof *envs);
  for (size_t i = 0; envs && i < n; i++) {
    sb_admit_result_t ar;
    char msg[256];
    int responded = 0;
    if (agent_only && strncmp(ev[i].type, SB_TYPE_AGENT_PREFIX, strlen(SB_TYPE_AGENT_PREFIX))) {
      ar.status = SB_ADMIT_INVALID;
      snprintf(ar.reason, sizeof ar.reason, "only %s* events are taken here", SB_TYPE_AGENT_PREFIX);
    } else if ((envs[i] = sb_admit_cloudevent(&ev[i], d->svc->tenants, &ar))) {
      threads[i] = ar;
      if (authorize(d, res, envs[i], key, i) == 0)
        continue;
      responded = 1;
      sb_envelope_free(envs[i]);
    }
    int unknown = ar.status == SB_ADMIT_UNKNOWN_TENANT;
    snprintf(msg, sizeof msg, "event %zu: %s", i, ar.reason);
    if (!responded)
      reject(d, res, unknown ? 422 : 400, unknown ? "unknown_tenant" : "invalid_event", msg, NULL);
    for (size_t j = 0; j < i; j++)
      sb_envelope_free(envs[j]);
    free(envs);
    return NULL;
  }
  if (!envs)
    reject(d, res, 500, "internal", "out of memory", NULL);
  return envs;
}

/* Takes every tenant's tokens for this request, or none: 0, or responds
 * 429 with Retry-After and returns -1. */
static int within_rate(sb_door_http_t *d, sb_http_response_t *res, sb_envelope_t **envs, size_t n) {
  typedef struct {
    const sb_tenant_t *t;
    size_t n;
  } share_t;
  share_t *share = calloc(n, sizeof *share);
  size_t m = 0, k;
  for (size_t i = 0; share && i < n; i++) {
    const sb_tenant_t *t = sb_service_tenant(d->svc, envs[i]->tenant);
    for (k = 0; k < m && share[k].t != t; k++)
      ;
    share[k].t = t;
    share[k].n++;
    m += k == m;
  }
  sb_ratelimit_t *rl = sb_intake_limiter(d->intake);
  int64_t wait = share ? 0 : 1000, now = sb_now_ms();
  for (k = 0; k < m && wait == 0; k++)
    wait = sb_ratelimit_take(rl, share[k].t, share[k].n, now);
  for (size_t r = 0; wait && r + 1 < k; r++) /* give back what earlier tenants took */
    sb_ratelimit_refund(rl, share[r].t, share[r].n);
  if (wait) {
    char headers[64], msg[160];
    snprintf(headers, sizeof headers, "Retry-After: %lld\r\n", (long long)((wait + 999) / 1000));
    snprintf(msg, sizeof msg, "tenant %s is over its rate; retry later", share ? share[k - 1].t->id : "?");
    sb_intake_refused(d->intake, n);
    reject(d, res, 429, "rate_limited", msg, headers);
  }
  free(share);
  return wait ? -1 : 0;
}

static void submit_all(sb_door_http_t *d, sb_http_response_t *res, sb_envelope_t **envs,
                       sb_admit_result_t *threads, size_t n, int batch) {
  request_t *r = calloc(1, sizeof *r);
  r->door = d;
  r->res = res;
  r->n = r->remaining = n;
  r->batch = batch;
  r->results = cJSON_CreateArray();
  for (size_t i = 0; i < n; i++) {
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "id", envs[i]->id);
    cJSON_AddItemToArray(r->results, o);
  }
  for (size_t i = 0; i < n; i++)
    if (sb_intake_submit(d->intake, envs[i], &threads[i], on_done, r, i))
      on_done(r, i, SB_INTAKE_FAILED, ""); /* only on OOM: room was checked */
}

/* The request's events in either content mode: 0 with *ev, *n and *batch,
 * or -1 when it has responded (400 or 415 with the reason). */
static int parse_events(sb_door_http_t *d, const sb_http_request_t *req, sb_http_response_t *res,
                        sb_cloudevent_t **ev, size_t *n, int *batch) {
  char err[256];
  int status = 400;
  *batch = 0;
  if (sb_cloudevent_http_is_binary(req->headers, req->nheaders)) {
    *n = 1;
    if (sb_cloudevent_http_binary(req->headers, req->nheaders, req->body, req->body_len, NULL, ev,
                                  &status, err, sizeof err) == 0)
      return 0;
  } else {
    long at = -1;
    if (sb_cloudevent_parse(req->body, req->body_len, NULL, ev, n, err, sizeof err, &at) == 0) {
      *batch = req->body[strspn(req->body, " \t\r\n\xef\xbb\xbf")] == '[';
      return 0;
    }
  }
  reject(d, res, status, status == 415 ? "unsupported_media_type" : status == 500 ? "internal" : "invalid_event",
         err, NULL);
  return -1;
}

static void post_events(sb_door_http_t *d, const sb_http_request_t *req, sb_http_response_t *res,
                        int agent_only) {
  sb_cloudevent_t *ev = NULL;
  size_t n = 0;
  int batch;
  if (parse_events(d, req, res, &ev, &n, &batch))
    return;
  size_t room = sb_intake_room(d->intake);
  if (room < n) {
    sb_intake_refused(d->intake, n);
    if (sb_redis_is_connected(d->svc->redis))
      reject(d, res, 429, "overloaded", "too many events in flight; retry later", SB_RETRY_AFTER);
    else
      reject(d, res, 503, "unavailable", "the event store is unavailable; retry later", SB_RETRY_AFTER);
    sb_cloudevent_free(&ev, n);
    return;
  }
  /* read req before admit_all: a response (even an error) releases it */
  sb_admit_result_t *threads = calloc(n, sizeof *threads);
  sb_envelope_t **envs = threads ? admit_all(d, res, ev, n, agent_only, bearer_key(req), threads) : NULL;
  sb_cloudevent_free(&ev, n);
  if (envs && within_rate(d, res, envs, n) == 0)
    submit_all(d, res, envs, threads, n, batch);
  else if (envs)
    for (size_t i = 0; i < n; i++)
      sb_envelope_free(envs[i]);
  else if (!threads)
    reject(d, res, 500, "internal", "out of memory", NULL);
  free(envs);
  free(threads);
}

static void post_identities(sb_door_http_t *d, const sb_http_request_t *req,
                            sb_http_response_t *res, int agent_only) {
  (void)agent_only;
  sb_door_identity_post(d->identities, req, res);
}

static const struct {
  const char *method, *path;
  route_fn fn;
  int agent_only;
} routes[] = {
    {"POST", "/v1/events", post_events, 0},
    {"POST", "/v1/agent-events", post_events, 1},
    {"POST", SB_IDENTITY_PATH, post_identities, 0},
};

static void on_request(const sb_http_request_t *req, sb_http_response_t *res, void *arg) {
  sb_door_http_t *d = arg;
  int path_known = 0;
  if (strncmp(req->path, SB_WEBHOOK_PATH_PREFIX, strlen(SB_WEBHOOK_PATH_PREFIX)) == 0) {
    sb_door_webhook_handle(d->webhooks, req, res);
    return;
  }
  for (size_t i = 0; i < sizeof routes / sizeof routes[0]; i++) {
    if (strcmp(req->path, routes[i].path))
      continue;
    path_known = 1;
    if (strcmp(req->method, routes[i].method) == 0) {
      routes[i].fn(d, req, res, routes[i].agent_only);
      return;
    }
  }
  if (path_known)
    reject(d, res, 405, "method_not_allowed", "use POST", "Allow: POST\r\n");
  else
    reject(d, res, 404, "not_found", "no such endpoint", NULL);
}

sb_door_http_t *sb_door_http_new(sb_service_t *s, sb_intake_t *intake, const char *host, int port) {
  sb_door_http_t *d = calloc(1, sizeof *d);
  if (!d)
    return NULL;
  d->svc = s;
  d->intake = intake;
  d->webhooks = sb_door_webhook_new(s, intake);
  d->identities = sb_door_identity_new(s);
  d->http = sb_http_server_new(s->loop, NULL, on_request, d);
  if (!d->webhooks || !d->identities || !d->http || sb_http_server_listen(d->http, host, port)) {
    sb_http_server_destroy(&d->http);
    sb_door_webhook_destroy(&d->webhooks);
    sb_door_identity_destroy(&d->identities);
    free(d);
    return NULL;
  }
  return d;
}

void sb_door_http_destroy(sb_door_http_t **dp) {
  sb_door_http_t *d = *dp;
  if (!d)
    return;
  *dp = NULL;
  sb_http_server_destroy(&d->http);
  sb_door_webhook_destroy(&d->webhooks);
  sb_door_identity_destroy(&d->identities);
  free(d);
}

int sb_door_http_port(const sb_door_http_t *d) { return sb_http_server_port(d->http); }
