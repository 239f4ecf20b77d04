/*
 * sb_door_identity: identity links over HTTP (see sb_door_identity.h).
 *
 * Parse (pure, sb_identity), authorise, then one identity.lua call; the
 * pending request holds only its response and a counter, so a reply that
 * arrives after the door is gone is still answered once.
 */
#include "sb_door_identity.h"
#include "sb_error.h"
#include "sb_identity.h"
#include "sb_keys.h"
#include "sb_script.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

extern const char sb_script_identity[];

#define FIELD_MAX (SB_IDENTITY_CHANNEL_MAX + 1 + SB_IDENTITY_ID_MAX + 1)

struct sb_door_identity {
  sb_service_t *svc;
  int script;
};

typedef struct {
  sb_http_response_t *res;
  sb_counter_t *linked;
  char tenant[SB_IDENTITY_TENANT_MAX + 1];
  char customer[SB_IDENTITY_ID_MAX + 1];
} pending_t;

sb_door_identity_t *sb_door_identity_new(sb_service_t *s) {
  sb_door_identity_t *d = calloc(1, sizeof *d);
  if (!d)
    return NULL;
  d->svc = s;
  d->script = sb_script_add(s->redis, "identity", sb_script_identity);
  if (d->script < 0) {
    free(d);
    return NULL;
  }
  return d;
}

void sb_door_identity_destroy(sb_door_identity_t **dp) {
  free(*dp);
  *dp = NULL;
}

static void reject(sb_door_identity_t *d, sb_http_response_t *res, int status, const char *code,
                   const char *msg, const char *headers) {
  char labels[64];
  snprintf(labels, sizeof labels, "code=\"%s\"", code);
  sb_counter_add(sb_metrics_counter(d->svc->metrics, "sb_ingest_http_rejected_total",
                                    "HTTP requests refused, by error code", labels), 1);
  sb_http_respond_error(res, status, code, msg, headers);
}

static void on_linked(const redisReply *reply, int err, void *arg) {
  pending_t *p = arg;
  if (err || !reply || reply->type != REDIS_REPLY_ARRAY || reply->elements != 3 ||
      reply->element[1]->type != REDIS_REPLY_STRING || reply->element[2]->type != REDIS_REPLY_STRING) {
    sb_http_respond_error(p->res, 503, "unavailable", "the identity store is unavailable; retry later",
                          "Retry-After: 1\r\n");
    free(p);
    return;
  }
  cJSON *o = cJSON_CreateObject();
  cJSON_AddStringToObject(o, "tenant", p->tenant);
  cJSON_AddStringToObject(o, "customer", p->customer);
  cJSON_AddNumberToObject(o, "linked", (double)reply->element[0]->integer);
  cJSON_AddStringToObject(o, "conversation", reply->element[1]->str);
  cJSON_AddStringToObject(o, "customer_id", reply->element[2]->str);
  char *text = cJSON_PrintUnformatted(o);
  sb_http_respond(p->res, 200, "application/json", text ? text : "{}", text ? strlen(text) : 2, NULL);
  sb_counter_add(p->linked, (uint64_t)reply->element[0]->integer);
  free(text);
  cJSON_Delete(o);
  free(p);
}

/* 0 if the request's key may link for the tenant, else responds. */
static int authorize(sb_door_identity_t *d, const sb_http_request_t *req, sb_http_response_t *res,
                     const char *tenant) {
  const sb_tenant_t *t = sb_service_tenant(d->svc, tenant);
  const char *h = sb_http_request_header(req, "Authorization");
  const char *key = h && strncasecmp(h, "Bearer ", 7) == 0 && h[7] ? h + 7 : NULL;
  if (!t) {
    reject(d, res, 422, "unknown_tenant", "no such tenant", NULL);
    return -1;
  }
  if (sb_tenant_key_ok(t, key))
    return 0;
  reject(d, res, key ? 403 : 401, key ? "forbidden" : "unauthorized",
         key ? "this key may not link identities for the tenant"
             : "an API key is required (Authorization: Bearer)",
         NULL);
  return -1;
}

static int send_link(sb_door_identity_t *d, const sb_identity_link_t *l, pending_t *p) {
  char stats[SB_KEY_MAX], fields[SB_IDENTITY_MAX][FIELD_MAX];
  const char *argv[2 + SB_IDENTITY_MAX];
  sb_key_tenant(stats, sizeof stats, l->tenant, "stats");
  argv[0] = stats;
  argv[1] = l->customer;
  for (size_t i = 0; i < l->n; i++) {
    snprintf(fields[i], sizeof fields[i], "%s:%s", l->ids[i].channel, l->ids[i].id);
    argv[2 + i] = fields[i];
  }
  return sb_redis_evalsha(d->svc->redis, d->script, 1, (int)(2 + l->n), argv, NULL, on_linked, p);
}

void sb_door_identity_post(sb_door_identity_t *d, const sb_http_request_t *req,
                           sb_http_response_t *res) {
  char err[160];
  sb_identity_link_t *l = malloc(sizeof *l);
  pending_t *p = calloc(1, sizeof *p);
  if (!l || !p) {
    reject(d, res, 500, "internal", "out of memory", NULL);
  } else if (sb_identity_parse(req->body, req->body_len, l, err, sizeof err)) {
    reject(d, res, 400, "invalid_identity", err, NULL);
  } else if (authorize(d, req, res, l->tenant) == 0) {
    p->res = res;
    p->linked = sb_metrics_counter(d->svc->metrics, "sb_ingest_identities_linked_total",
                                   "channel identities linked to a customer", NULL);
    memcpy(p->tenant, l->tenant, sizeof p->tenant);
    memcpy(p->customer, l->customer, sizeof p->customer);
    if (send_link(d, l, p) == 0) {
      free(l);
      return; /* on_linked answers */
    }
    reject(d, res, 503, "unavailable", "the identity store is unavailable; retry later",
           "Retry-After: 1\r\n");
  }
  free(l);
  free(p);
}
