/* sb_door_webhook: see sb_door_webhook.h. */
#include "sb_door_webhook.h"
#include "sb_admit.h"
#include "sb_dlq.h"
#include "sb_error.h"
#include "sb_form.h"
#include "sb_log.h"
#include "sb_signature.h"
#include "sb_webhook.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SB_RETRY_AFTER "Retry-After: 1\r\n"
#define SB_TWIML_EMPTY "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Response></Response>"
#define SB_SOURCE_MAX (SB_ACCOUNT_PLATFORM_MAX + SB_ACCOUNT_ID_MAX + 2)

struct sb_door_webhook {
  sb_service_t *svc;
  sb_intake_t *intake;
  sb_dlq_t *dlq;
};

typedef struct {
  sb_door_webhook_t *w;
  sb_http_response_t *res;
  const char *platform; /* static */
  size_t remaining;
  int failed;
} delivery_t;

typedef struct {
  const char *platform;
  const char *signature_header; /* NULL: not signed that way */
} platform_t;

static const platform_t platforms[] = {
    {"meta", "X-Hub-Signature-256"},
    {"x", "x-twitter-webhooks-signature"},
    {"twilio", "X-Twilio-Signature"},
    {"email", NULL},
};

static void count(sb_door_webhook_t *w, const char *name, const char *help, const char *platform,
                  const char *reason, uint64_t n) {
  char labels[128];
  sb_metrics_labels(labels, sizeof labels, "platform", platform, "reason", reason, NULL);
  sb_counter_add(sb_metrics_counter(w->svc->metrics, name, help, labels), n);
}

static void reject(sb_door_webhook_t *w, sb_http_response_t *res, const char *platform, int status,
                   const char *code, const char *msg) {
  count(w, "sb_ingest_webhook_rejected_total", "webhook deliveries refused, by reason", platform, code, 1);
  sb_http_respond_error(res, status, code, msg, status == 429 || status == 503 ? SB_RETRY_AFTER : NULL);
}

static void answer(delivery_t *d) {
  if (d->failed)
    sb_http_respond_error(d->res, 503, "unavailable", "not all items were made durable; retry",
                          SB_RETRY_AFTER);
  else if (strcmp(d->platform, "twilio") == 0)
    sb_http_respond(d->res, 200, "text/xml", SB_TWIML_EMPTY, strlen(SB_TWIML_EMPTY), NULL);
  else
    sb_http_respond(d->res, 200, "application/json", "{\"status\":\"ok\"}", 15, NULL);
  free(d);
}

static void on_done(void *arg, size_t index, sb_intake_status_t st, const char *conv) {
  delivery_t *d = arg;
  (void)index;
  (void)conv;
  d->failed += st == SB_INTAKE_FAILED;
  if (--d->remaining == 0)
    answer(d);
}

static char *take(char **p) {
  char *s = *p ? *p : strdup("");
  *p = NULL;
  return s;
}

/* An interaction envelope from one item (strings taken from the item). */
static sb_envelope_t *envelope_of(sb_wh_item_t *it, const sb_account_t *acct) {
  sb_envelope_t *env = malloc(sizeof *env);
  Switchboard__V1__Interaction *in = malloc(sizeof *in);
  char source[SB_SOURCE_MAX];
  if (!env || !in) {
    free(env);
    free(in);
    return NULL;
  }
  switchboard__v1__envelope__init(env);
  switchboard__v1__interaction__init(in);
  snprintf(source, sizeof source, "/%s/%s", acct->platform, acct->id);
  env->id = strdup(it->platform_message_id ? it->platform_message_id : "");
  env->source = strdup(source);
  env->type = strdup(SB_TYPE_INTERACTION);
  env->specversion = strdup("1.0");
  env->tenant = strdup(acct->tenant->id);
  env->time_ms = it->time_ms;
  in->channel = sb_channel_parse(it->channel);
  in->customer = take(&it->customer);
  in->text = take(&it->text);
  in->public_ = it->is_public;
  in->platform_message_id = take(&it->platform_message_id);
  in->reply_to = take(&it->reply_to);
  env->body_case = SWITCHBOARD__V1__ENVELOPE__BODY_INTERACTION;
  env->interaction = in;
  return env;
}

/* One item: dead-lettered, counted, or submitted (then on_done answers). */
static void take_item(delivery_t *d, sb_wh_item_t *it, const sb_account_t *acct,
                      const sb_http_request_t *req) {
  sb_door_webhook_t *w = d->w;
  if (it->kind != SB_WH_MESSAGE || it->error[0]) {
    if (it->error[0])
      sb_dlq_push(w->dlq, acct->tenant->id, it->error, NULL, NULL, req->body, req->body_len);
    count(w, "sb_ingest_webhook_items_total", "webhook items by outcome", d->platform,
          it->error[0] ? "malformed" : it->kind == SB_WH_STATUS ? "status" : "ignored", 1);
    d->remaining--;
    return;
  }
  sb_envelope_t *env = envelope_of(it, acct);
  sb_admit_result_t ar;
  if (!env || sb_admit_envelope(env, w->svc->tenants, &ar)) {
    sb_dlq_push(w->dlq, acct->tenant->id, env ? ar.reason : "out of memory", NULL, NULL, req->body,
                req->body_len);
    count(w, "sb_ingest_webhook_items_total", "webhook items by outcome", d->platform, "malformed", 1);
    sb_envelope_free(env);
    d->remaining--;
    return;
  }
  count(w, "sb_ingest_webhook_items_total", "webhook items by outcome", d->platform, "message", 1);
  if (sb_intake_submit(w->intake, env, ar.thread, on_done, d, 0))
    d->failed++, d->remaining--;
}

static void submit_batch(sb_door_webhook_t *w, sb_http_response_t *res, const char *platform,
                         sb_wh_batch_t *b, const sb_account_t *acct, const sb_http_request_t *req) {
  if (sb_intake_room(w->intake) < b->n) {
    sb_intake_refused(w->intake, b->n);
    reject(w, res, platform, sb_redis_is_connected(w->svc->redis) ? 429 : 503,
           sb_redis_is_connected(w->svc->redis) ? "overloaded" : "unavailable", "retry later");
    return;
  }
  delivery_t *d = calloc(1, sizeof *d);
  if (!d) {
    reject(w, res, platform, 503, "unavailable", "out of memory");
    return;
  }
  d->w = w;
  d->res = res;
  d->platform = platform;
  d->remaining = b->n + 1; /* held until every item was handed over */
  for (size_t i = 0; i < b->n; i++)
    take_item(d, &b->items[i], acct, req);
  if (--d->remaining == 0)
    answer(d);
}

/* Signature over the raw body, before any parsing. form: Twilio's params. */
static int verify(const sb_account_t *acct, const platform_t *p, const sb_http_request_t *req,
                  const sb_form_t *form, const char **why) {
  const char *sig = p->signature_header ? sb_http_request_header(req, p->signature_header) : NULL;
  if (strcmp(p->platform, "meta") == 0)
    return sb_signature_meta_check(acct->secret, sig, req->body, req->body_len, why);
  if (strcmp(p->platform, "x") == 0)
    return sb_signature_x_check(acct->secret, sig, req->body, req->body_len, why);
  if (strcmp(p->platform, "twilio") == 0) {
    if (!acct->url) {
      *why = "account has no \"url\" configured (Twilio signs the public URL)";
      return SB_EINVAL;
    }
    return sb_signature_twilio_check(acct->secret, acct->url, form, sig, why);
  }
  /* e-mail inbound parse: a shared token in the query (?token=...) */
  const char *token = req->query && strstr(req->query, "token=") ? strstr(req->query, "token=") + 6 : "";
  size_t tlen = strcspn(token, "&");
  if (tlen != strlen(acct->secret) || !sb_signature_equal(token, acct->secret, tlen)) {
    *why = "missing or wrong token";
    return SB_EINVAL;
  }
  return 0;
}

static int parse(const platform_t *p, const sb_http_request_t *req, sb_form_t *form,
                 sb_wh_batch_t *b, char *err, size_t errlen) {
  if (strcmp(p->platform, "meta") == 0)
    return sb_webhook_meta_parse(req->body, req->body_len, b, err, errlen);
  if (strcmp(p->platform, "x") == 0)
    return sb_webhook_x_parse(req->body, req->body_len, b, err, errlen);
  if (strcmp(p->platform, "twilio") == 0)
    return sb_webhook_twilio_parse(form, b, err, errlen);
  const char *ct = sb_http_request_header(req, "Content-Type");
  int rc = sb_form_multipart_parse(ct ? ct : "", req->body, req->body_len, NULL, form, err, errlen);
  return rc ? rc : sb_webhook_email_parse(form, b, err, errlen);
}

static void post(sb_door_webhook_t *w, const platform_t *p, const sb_account_t *acct,
                 const sb_http_request_t *req, sb_http_response_t *res) {
  sb_form_t form = {0};
  sb_wh_batch_t b = {0};
  char err[256];
  const char *why = "";
  if (strcmp(p->platform, "twilio") == 0 &&
      sb_form_urlencoded_parse(req->body, req->body_len, NULL, &form, err, sizeof err)) {
    reject(w, res, p->platform, 400, "invalid_form", err);
  } else if (verify(acct, p, req, &form, &why)) {
    sb_log(SB_LOG_WARN, "webhook_bad_signature", "platform", p->platform, "account", acct->id, NULL);
    reject(w, res, p->platform, 401, "bad_signature", why);
  } else if (parse(p, req, &form, &b, err, sizeof err)) {
    /* signed by the platform yet unreadable: keep it, answer 200 (a 4xx
     * would only bring the same bytes back) */
    sb_dlq_push(w->dlq, acct->tenant->id, err, NULL, NULL, req->body, req->body_len);
    count(w, "sb_ingest_webhook_items_total", "webhook items by outcome", p->platform, "malformed", 1);
    sb_http_respond(res, 200, "application/json", "{\"status\":\"dead_lettered\"}", 26, NULL);
  } else {
    submit_batch(w, res, p->platform, &b, acct, req);
  }
  sb_wh_batch_free(&b);
  sb_form_free(&form);
}

static void get(sb_door_webhook_t *w, const platform_t *p, const sb_account_t *acct,
                const sb_http_request_t *req, sb_http_response_t *res) {
  sb_form_t q = {0};
  char err[128], json[256];
  const char *why = "", *challenge = NULL;
  const char *qs = req->query ? req->query : "";
  if (sb_form_urlencoded_parse(qs, strlen(qs), NULL, &q, err, sizeof err)) {
    reject(w, res, p->platform, 400, "invalid_query", err);
  } else if (strcmp(p->platform, "meta") == 0) {
    if (!acct->verify_token || sb_signature_meta_handshake(&q, acct->verify_token, &challenge, &why))
      reject(w, res, p->platform, 403, "handshake_refused", acct->verify_token ? why : "no verify_token configured");
    else
      sb_http_respond(res, 200, "text/plain", challenge, strlen(challenge), NULL);
  } else if (strcmp(p->platform, "x") == 0 && sb_form_get(&q, "crc_token") &&
             sb_signature_x_crc(acct->secret, sb_form_get(&q, "crc_token"), json, sizeof json) == 0) {
    sb_http_respond(res, 200, "application/json", json, strlen(json), NULL);
  } else {
    reject(w, res, p->platform, 400, "invalid_handshake", "no handshake for this platform and query");
  }
  sb_form_free(&q);
}

void sb_door_webhook_handle(sb_door_webhook_t *w, const sb_http_request_t *req,
                            sb_http_response_t *res) {
  char name[SB_ACCOUNT_PLATFORM_MAX], account[SB_ACCOUNT_ID_MAX];
  const char *rest = req->path + strlen(SB_WEBHOOK_PATH_PREFIX);
  size_t plen = strcspn(rest, "/");
  const platform_t *p = NULL;
  for (size_t i = 0; plen < sizeof name && i < sizeof platforms / sizeof platforms[0]; i++)
    if (strlen(platforms[i].platform) == plen && strncmp(rest, platforms[i].platform, plen) == 0)
      p = &platforms[i];
  const char *acct_id = rest + plen + (rest[plen] == '/');
  if (!p || !*acct_id || strlen(acct_id) >= sizeof account || strchr(acct_id, '/')) {
    reject(w, res, "unknown", 404, "not_found", "expected /webhooks/{meta,x,twilio,email}/{account}");
    return;
  }
  snprintf(name, sizeof name, "%s", p->platform);
  snprintf(account, sizeof account, "%s", acct_id);
  const sb_account_t *acct = sb_tenants_account(w->svc->tenants, name, account);
  if (!acct)
    reject(w, res, p->platform, 404, "unknown_account", "no tenant has this platform account");
  else if (strcmp(req->method, "POST") == 0)
    post(w, p, acct, req, res);
  else if (strcmp(req->method, "GET") == 0)
    get(w, p, acct, req, res);
  else
    reject(w, res, p->platform, 405, "method_not_allowed", "use GET (handshake) or POST");
}

sb_door_webhook_t *sb_door_webhook_new(sb_service_t *s, sb_intake_t *intake) {
  sb_door_webhook_t *w = calloc(1, sizeof *w);
  if (!w)
    return NULL;
  w->svc = s;
  w->intake = intake;
  w->dlq = sb_dlq_new(s, "ingest");
  return w;
}

void sb_door_webhook_destroy(sb_door_webhook_t **wp) {
  sb_door_webhook_t *w = *wp;
  if (!w)
    return;
  *wp = NULL;
  sb_dlq_destroy(&w->dlq);
  free(w);
}
