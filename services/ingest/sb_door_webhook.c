/* sb_door_webhook: see sb_door_webhook.h. */
#include "sb_door_webhook.h"
#include "sb_admit.h"
#include "sb_dlq.h"
#include "sb_error.h"
#include "sb_form.h"
#include "sb_keys.h"
#include "sb_script.h"
#include "sb_log.h"
#include "sb_signature.h"
#include "sb_webhook.h"

extern const char sb_script_delivery[];

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h> /* strncasecmp */
#include <time.h>

#define SB_RETRY_AFTER "Retry-After: 1\r\n"
#define SB_TWIML_EMPTY "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Response></Response>"
#define SB_SOURCE_MAX (SB_ACCOUNT_PLATFORM_MAX + SB_ACCOUNT_ID_MAX + 2)
#define SB_WECHAT_OK "success" /* WeChat shows anything else to the customer */
#define SB_JSON_OK "{\"status\":\"ok\"}"
#define SB_JSON_DEAD "{\"status\":\"dead_lettered\"}"
#define SB_HOOK_ERR_MAX 256
#define SB_WECHAT_TIMESTAMP_DIGITS 12

struct sb_door_webhook {
  sb_service_t *svc;
  sb_intake_t *intake;
  sb_dlq_t *dlq;
  int delivery_script; /* delivery.lua: receipts -> dlv:<channel>:<id> */
};

/* One webhook request while it is checked and read. */
typedef struct {
  const sb_account_t *acct;
  const sb_http_request_t *req;
  sb_form_t query; /* the parsed query string */
  sb_form_t form;  /* Twilio's POST parameters, e-mail's parts */
  char *plain;     /* WeChat safe mode: the decrypted message */
  size_t plain_len;
  char err[SB_HOOK_ERR_MAX]; /* room for a reason that is not static */
} hook_t;

/* 0: authentic. SB_EINVAL: refused (401, *why). SB_EPARSE: the request
 * cannot even be checked (400, *why). */
typedef int (*verify_fn)(hook_t *h, const char **why);
/* sb_webhook's contract. */
typedef int (*parse_fn)(hook_t *h, sb_wh_batch_t *b, char *err, size_t errlen);
/* 0 with the answer's body (pointing into h or json) and type; else a
 * refusal with *why (403). */
typedef int (*handshake_fn)(hook_t *h, char *json, size_t cap, const char **body,
                            const char **type, const char **why);

typedef struct {
  const char *name;
  verify_fn verify;
  parse_fn parse;
  handshake_fn handshake; /* GET; NULL: the platform has none */
  const char *ok_type;    /* the 200 once every item is durable */
  const char *ok_body;    /* NULL: {"status":"ok"} or "dead_lettered" */
} platform_t;

typedef struct {
  sb_door_webhook_t *w;
  sb_http_response_t *res;
  const platform_t *p;
  size_t remaining;
  int failed;
} delivery_t;

static int refuse(const char **why, const char *reason) {
  *why = reason;
  return SB_EINVAL;
}

/* ----------------------------------------------------------------- Meta, X */

static int verify_meta(hook_t *h, const char **why) {
  return sb_signature_meta_check(h->acct->secret,
                                 sb_http_request_header(h->req, SB_SIGNATURE_META_HEADER),
                                 h->req->body, h->req->body_len, why);
}

static int parse_meta(hook_t *h, sb_wh_batch_t *b, char *err, size_t errlen) {
  return sb_webhook_meta_parse(h->req->body, h->req->body_len, b, err, errlen);
}

static int handshake_meta(hook_t *h, char *json, size_t cap, const char **body,
                          const char **type, const char **why) {
  if (!h->acct->verify_token)
    return refuse(why, "no verify_token configured");
  *type = "text/plain";
  return sb_signature_meta_handshake(&h->query, h->acct->verify_token, body, why);
}

static int verify_x(hook_t *h, const char **why) {
  return sb_signature_x_check(h->acct->secret,
                              sb_http_request_header(h->req, SB_SIGNATURE_X_HEADER),
                              h->req->body, h->req->body_len, why);
}

static int parse_x(hook_t *h, sb_wh_batch_t *b, char *err, size_t errlen) {
  return sb_webhook_x_parse(h->req->body, h->req->body_len, b, err, errlen);
}

static int handshake_x(hook_t *h, char *json, size_t cap, const char **body,
                       const char **type, const char **why) {
  const char *token = sb_form_get(&h->query, "crc_token");
  if (!token || sb_signature_x_crc(h->acct->secret, token, json, cap))
    return refuse(why, "crc_token missing or invalid");
  *body = json;
  *type = "application/json";
  return 0;
}

/* --------------------------------------------------------- Twilio, e-mail */

static int verify_twilio(hook_t *h, const char **why) {
  if (sb_form_urlencoded_parse(h->req->body, h->req->body_len, NULL, &h->form, h->err,
                               sizeof h->err)) {
    *why = h->err;
    return SB_EPARSE;
  }
  if (!h->acct->url)
    return refuse(why, "account has no \"url\" configured (Twilio signs the public URL)");
  return sb_signature_twilio_check(h->acct->secret, h->acct->url, &h->form,
                                   sb_http_request_header(h->req, SB_SIGNATURE_TWILIO_HEADER),
                                   why);
}

static int parse_twilio(hook_t *h, sb_wh_batch_t *b, char *err, size_t errlen) {
  return sb_webhook_twilio_parse(&h->form, b, err, errlen);
}

/* SendGrid posts two kinds to an e-mail account's URL: inbound mail
 * (inbound parse, multipart/form-data) and the Event Webhook (JSON) */
static int email_events(const hook_t *h) {
  const char *ct = sb_http_request_header(h->req, "Content-Type");
  return ct && strncasecmp(ct, "application/json", strlen("application/json")) == 0;
}

/* Events: SendGrid's ECDSA signature (the account's event_key); inbound
 * parse: a shared token in the query (?token=...) */
static int verify_email(hook_t *h, const char **why) {
  if (email_events(h))
    return sb_signature_sendgrid_check(
        h->acct->event_key, sb_http_request_header(h->req, SB_SIGNATURE_SENDGRID_HEADER),
        sb_http_request_header(h->req, SB_SIGNATURE_SENDGRID_TIMESTAMP), (int64_t)time(NULL),
        h->req->body, h->req->body_len, why);
  const sb_form_field_t *token = sb_form_find(&h->query, "token");
  size_t n = strlen(h->acct->secret);
  if (!token || token->value_len != n || !sb_signature_equal(token->value, h->acct->secret, n))
    return refuse(why, "missing or wrong token");
  return 0;
}

static int parse_email(hook_t *h, sb_wh_batch_t *b, char *err, size_t errlen) {
  if (email_events(h))
    return sb_webhook_email_events_parse(h->req->body, h->req->body_len, b, err, errlen);
  const char *ct = sb_http_request_header(h->req, "Content-Type");
  int rc = sb_form_multipart_parse(ct ? ct : "", h->req->body, h->req->body_len, NULL, &h->form,
                                   err, errlen);
  return rc ? rc : sb_webhook_email_parse(&h->form, b, err, errlen);
}

/* ------------------------------------------------------------------ WeChat */

/* Unix seconds within SB_WECHAT_TIMESTAMP_SKEW_S of our clock. */
static int wechat_fresh(const char *timestamp) {
  size_t n = timestamp ? strlen(timestamp) : 0;
  if (n == 0 || n > SB_WECHAT_TIMESTAMP_DIGITS || strspn(timestamp, "0123456789") != n)
    return 0;
  long long t = strtoll(timestamp, NULL, 10), now = (long long)time(NULL);
  return t >= now - SB_WECHAT_TIMESTAMP_SKEW_S && t <= now + SB_WECHAT_TIMESTAMP_SKEW_S;
}

/* Safe mode: msg_signature covers the Encrypt field, which is decrypted
 * into h->plain (AppID checked) for parse_wechat. */
static int verify_wechat_safe(hook_t *h, const char *ts, const char *nonce, const char **why) {
  const sb_account_t *a = h->acct;
  char *encrypt = NULL;
  if (!a->aes_key || !a->app_id)
    return refuse(why, "safe mode needs \"aes_key\" and \"app_id\" on the account");
  int rc = sb_webhook_wechat_encrypted(h->req->body, h->req->body_len, &encrypt, h->err,
                                       sizeof h->err);
  if (rc) {
    *why = h->err;
    return rc == SB_ENOMEM ? rc : SB_EPARSE;
  }
  rc = sb_signature_wechat_check(a->verify_token, ts, nonce, encrypt,
                                 sb_form_get(&h->query, "msg_signature"), why);
  if (rc == 0)
    rc = sb_signature_wechat_decrypt(a->aes_key, a->app_id, encrypt, &h->plain, &h->plain_len,
                                     why);
  free(encrypt);
  return rc;
}

static int verify_wechat(hook_t *h, const char **why) {
  const char *ts = sb_form_get(&h->query, "timestamp");
  const char *nonce = sb_form_get(&h->query, "nonce");
  const char *mode = sb_form_get(&h->query, "encrypt_type");
  if (!h->acct->verify_token)
    return refuse(why, "no verify_token (the WeChat Token) configured");
  if (!wechat_fresh(ts))
    return refuse(why, "timestamp missing or too far from our clock");
  if (mode && strcmp(mode, "aes") == 0)
    return verify_wechat_safe(h, ts, nonce, why);
  if (h->acct->aes_key)
    return refuse(why, "this account is in safe mode: encrypt_type=aes expected");
  return sb_signature_wechat_check(h->acct->verify_token, ts, nonce, NULL,
                                   sb_form_get(&h->query, "signature"), why);
}

static int parse_wechat(hook_t *h, sb_wh_batch_t *b, char *err, size_t errlen) {
  if (h->plain)
    return sb_webhook_wechat_parse(h->plain, h->plain_len, b, err, errlen);
  return sb_webhook_wechat_parse(h->req->body, h->req->body_len, b, err, errlen);
}

static int handshake_wechat(hook_t *h, char *json, size_t cap, const char **body,
                            const char **type, const char **why) {
  if (!h->acct->verify_token)
    return refuse(why, "no verify_token (the WeChat Token) configured");
  *type = "text/plain";
  return sb_signature_wechat_handshake(&h->query, h->acct->verify_token, body, why);
}

/* ------------------------------------------------------------ Telegram, LINE */

static int verify_telegram(hook_t *h, const char **why) {
  return sb_signature_telegram_check(
      h->acct->secret, sb_http_request_header(h->req, SB_SIGNATURE_TELEGRAM_HEADER), why);
}

static int parse_telegram(hook_t *h, sb_wh_batch_t *b, char *err, size_t errlen) {
  return sb_webhook_telegram_parse(h->req->body, h->req->body_len, b, err, errlen);
}

static int verify_line(hook_t *h, const char **why) {
  return sb_signature_line_check(h->acct->secret,
                                 sb_http_request_header(h->req, SB_SIGNATURE_LINE_HEADER),
                                 h->req->body, h->req->body_len, why);
}

static int parse_line(hook_t *h, sb_wh_batch_t *b, char *err, size_t errlen) {
  return sb_webhook_line_parse(h->req->body, h->req->body_len, b, err, errlen);
}

static const platform_t platforms[] = {
    {"meta", verify_meta, parse_meta, handshake_meta, "application/json", NULL},
    {"x", verify_x, parse_x, handshake_x, "application/json", NULL},
    {"twilio", verify_twilio, parse_twilio, NULL, "text/xml", SB_TWIML_EMPTY},
    {"email", verify_email, parse_email, NULL, "application/json", NULL},
    {"wechat", verify_wechat, parse_wechat, handshake_wechat, "text/plain", SB_WECHAT_OK},
    {"telegram", verify_telegram, parse_telegram, NULL, "application/json", NULL},
    {"line", verify_line, parse_line, NULL, "application/json", NULL},
};

/* ------------------------------------------------------------- deliveries */

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

/* 200 in the platform's terms; json_body when it has none of its own. */
static void respond_ok(sb_http_response_t *res, const platform_t *p, const char *json_body) {
  const char *body = p->ok_body ? p->ok_body : json_body;
  sb_http_respond(res, 200, p->ok_type, body, strlen(body), NULL);
}

static void answer(delivery_t *d) {
  if (d->failed)
    sb_http_respond_error(d->res, 503, "unavailable", "not all items were made durable; retry",
                          SB_RETRY_AFTER);
  else
    respond_ok(d->res, d->p, SB_JSON_OK);
  free(d);
}

static void on_done(void *arg, size_t index, sb_intake_status_t st, const char *conv) {
  delivery_t *d = arg;
  (void)index;
  (void)conv;
  d->failed += st == SB_INTAKE_FAILED;
  if (st == SB_INTAKE_DUPLICATE)
    count(d->w, "sb_ingest_webhook_duplicates_total",
          "webhook messages already stored (redeliveries), by how they were told apart",
          d->p->name, "stored", 1);
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
  in->reply_token = take(&it->reply_token);
  in->reply_chat = take(&it->reply_chat);
  in->subject = take(&it->subject);
  env->body_case = SWITCHBOARD__V1__ENVELOPE__BODY_INTERACTION;
  env->interaction = in;
  /* the display name ({customer_name} in notify's templates) and an X
   * author's reach (classify's priority) */
  if (it->author_name || it->followers) {
    in->author = malloc(sizeof *in->author);
    if (!in->author) {
      sb_envelope_free(env);
      return NULL;
    }
    switchboard__v1__author__init(in->author);
    in->author->name = take(&it->author_name);
    in->author->followers = it->followers;
  }
  return env;
}

/* An e-mail's References root (its thread's first message) is a second
 * way to find the conversation when In-Reply-To names a message we never
 * saw (an agent's reply sent from outside switchboard). */
static void refs_add_root(sb_admit_result_t *ar, const sb_wh_item_t *it) {
  size_t n = strlen(ar->refs);
  if (!ar->message[0] || !it->thread_hint || strchr(it->thread_hint, '\n') ||
      (n > 6 && strcmp(ar->refs + 6, it->thread_hint) == 0)) /* after "email:" */
    return;
  if ((size_t)snprintf(ar->refs + n, sizeof ar->refs - n, "%semail:%s", n ? "\n" : "",
                       it->thread_hint) >= sizeof ar->refs - n)
    ar->refs[n] = '\0'; /* did not fit: In-Reply-To alone */
}

/* One item: dead-lettered, counted, or submitted (then on_done answers). */
static void take_item(delivery_t *d, sb_wh_item_t *it, const sb_account_t *acct,
                      const sb_http_request_t *req) {
  sb_door_webhook_t *w = d->w;
  if (it->redelivery)
    count(w, "sb_ingest_webhook_redeliveries_total", "webhook items the platform marked as re-sent",
          d->p->name, "flagged", 1);
  if (it->kind != SB_WH_MESSAGE || it->error[0]) {
    if (it->error[0])
      sb_dlq_push(w->dlq, acct->tenant->id, it->error, NULL, NULL, req->body, req->body_len);
    count(w, "sb_ingest_webhook_items_total", "webhook items by outcome", d->p->name,
          it->error[0] ? "malformed" : it->kind == SB_WH_STATUS ? "status" : "ignored", 1);
    d->remaining--;
    return;
  }
  sb_envelope_t *env = envelope_of(it, acct);
  sb_admit_result_t ar;
  if (!env || sb_admit_envelope(env, w->svc->tenants, &ar)) {
    sb_dlq_push(w->dlq, acct->tenant->id, env ? ar.reason : "out of memory", NULL, NULL, req->body,
                req->body_len);
    count(w, "sb_ingest_webhook_items_total", "webhook items by outcome", d->p->name, "malformed", 1);
    sb_envelope_free(env);
    d->remaining--;
    return;
  }
  count(w, "sb_ingest_webhook_items_total", "webhook items by outcome", d->p->name, "message", 1);
  refs_add_root(&ar, it);
  if (sb_intake_submit(w->intake, env, &ar, on_done, d, 0))
    d->failed++, d->remaining--;
}

/* Order of the delivery states (delivery.lua keeps the highest). */
static int receipt_rank(const char *status) {
  static const struct {
    const char *status;
    int rank;
  } ranks[] = {{"sent", 1},        {"echo", 1},   {"delivered", 2}, {"read", 3},
               {"played", 3},      {"failed", 4}, {"undelivered", 4}, {"deleted", 5}};
  for (size_t i = 0; i < sizeof ranks / sizeof ranks[0]; i++)
    if (strcmp(ranks[i].status, status) == 0)
      return ranks[i].rank;
  return 0;
}

static void on_receipts(const redisReply *reply, int err, void *arg) {
  delivery_t *d = arg;
  d->failed += err || !reply || reply->type != REDIS_REPLY_INTEGER;
  if (--d->remaining == 0)
    answer(d);
}

typedef struct {
  char field[SB_WH_CHANNEL_LEN + 1 + SB_WEBHOOK_ID_MAX + 1];
  char rank[8], time_ms[24];
} receipt_t;

static int is_receipt(const sb_wh_item_t *it) {
  return it->kind == SB_WH_STATUS && !it->error[0] && it->platform_message_id && it->status;
}

/* One delivery.lua call for the receipts of the batch that name a message
 * (watermarks name none: counted only). 1 when sent (on_receipts will be
 * called once, later), 0 when there is nothing to send, else a negative
 * error. */
static int store_receipts(delivery_t *d, const sb_wh_batch_t *b, const sb_account_t *acct) {
  size_t n = 0, k = 3;
  for (size_t i = 0; i < b->n; i++)
    n += is_receipt(&b->items[i]);
  if (n == 0)
    return 0;
  const char **argv = calloc(3 + 4 * n, sizeof *argv);
  receipt_t *r = calloc(n, sizeof *r);
  char stats[SB_KEY_MAX], ttl[24], now[24];
  int rc = SB_ENOMEM;
  if (argv && r) {
    sb_key_tenant(stats, sizeof stats, acct->tenant->id, "stats");
    snprintf(ttl, sizeof ttl, "%lld", sb_config_int(d->w->svc->config, "event-ttl-s"));
    snprintf(now, sizeof now, "%lld", (long long)sb_now_ms());
    argv[0] = stats, argv[1] = ttl, argv[2] = now;
    for (size_t i = 0, j = 0; i < b->n; i++) {
      const sb_wh_item_t *it = &b->items[i];
      if (!is_receipt(it))
        continue;
      snprintf(r[j].field, sizeof r[j].field, "%s:%s", it->channel, it->platform_message_id);
      snprintf(r[j].rank, sizeof r[j].rank, "%d", receipt_rank(it->status));
      snprintf(r[j].time_ms, sizeof r[j].time_ms, "%lld", (long long)it->time_ms);
      argv[k++] = r[j].field;
      argv[k++] = it->status;
      argv[k++] = r[j].rank;
      argv[k++] = r[j].time_ms;
      j++;
    }
    rc = sb_redis_evalsha(d->w->svc->redis, d->w->delivery_script, 1, (int)k, argv, NULL,
                          on_receipts, d);
  }
  free(argv);
  free(r);
  return rc == 0 ? 1 : rc;
}

static void submit_batch(sb_door_webhook_t *w, sb_http_response_t *res, const platform_t *p,
                         sb_wh_batch_t *b, const sb_account_t *acct, const sb_http_request_t *req) {
  if (sb_intake_room(w->intake) < b->n) {
    sb_intake_refused(w->intake, b->n);
    reject(w, res, p->name, sb_redis_is_connected(w->svc->redis) ? 429 : 503,
           sb_redis_is_connected(w->svc->redis) ? "overloaded" : "unavailable", "retry later");
    return;
  }
  delivery_t *d = calloc(1, sizeof *d);
  if (!d) {
    reject(w, res, p->name, 503, "unavailable", "out of memory");
    return;
  }
  d->w = w;
  d->res = res;
  d->p = p;
  d->remaining = b->n + 1; /* held until every item was handed over */
  int receipts = store_receipts(d, b, acct);
  d->remaining += receipts > 0; /* on_receipts answers for them */
  d->failed += receipts < 0;    /* 503: the platform re-sends; receipts are idempotent */
  for (size_t i = 0; i < b->n; i++)
    take_item(d, &b->items[i], acct, req);
  if (--d->remaining == 0)
    answer(d);
}

static void post(sb_door_webhook_t *w, const platform_t *p, hook_t *h, sb_http_response_t *res) {
  sb_wh_batch_t b = {0};
  char err[256];
  const char *why = "";
  int rc = p->verify(h, &why);
  if (rc == SB_EPARSE) {
    reject(w, res, p->name, 400, "invalid_request", why);
  } else if (rc) {
    sb_log(SB_LOG_WARN, "webhook_bad_signature", "platform", p->name, "account", h->acct->id, NULL);
    reject(w, res, p->name, 401, "bad_signature", rc == SB_ENOMEM ? "out of memory" : why);
  } else if (p->parse(h, &b, err, sizeof err)) {
    /* signed by the platform yet unreadable: keep it, answer 200 (a 4xx
     * would only bring the same bytes back) */
    sb_dlq_push(w->dlq, h->acct->tenant->id, err, NULL, NULL, h->req->body, h->req->body_len);
    count(w, "sb_ingest_webhook_items_total", "webhook items by outcome", p->name, "malformed", 1);
    respond_ok(res, p, SB_JSON_DEAD);
  } else {
    submit_batch(w, res, p, &b, h->acct, h->req);
  }
  sb_wh_batch_free(&b);
}

static void get(sb_door_webhook_t *w, const platform_t *p, hook_t *h, sb_http_response_t *res) {
  char json[256];
  const char *why = "", *body = NULL, *type = NULL;
  if (!p->handshake)
    reject(w, res, p->name, 400, "invalid_handshake", "no handshake for this platform");
  else if (p->handshake(h, json, sizeof json, &body, &type, &why))
    reject(w, res, p->name, 403, "handshake_refused", why);
  else
    sb_http_respond(res, 200, type, body, strlen(body), NULL);
}

static const platform_t *platform_find(const char *name, size_t len) {
  for (size_t i = 0; i < sizeof platforms / sizeof platforms[0]; i++)
    if (strlen(platforms[i].name) == len && strncmp(name, platforms[i].name, len) == 0)
      return &platforms[i];
  return NULL;
}

/* A known account's request: the query parsed, then GET or POST. */
static void dispatch(sb_door_webhook_t *w, const platform_t *p, const sb_account_t *acct,
                     const sb_http_request_t *req, sb_http_response_t *res) {
  hook_t h = {.acct = acct, .req = req};
  const char *qs = req->query ? req->query : "";
  if (sb_form_urlencoded_parse(qs, strlen(qs), NULL, &h.query, h.err, sizeof h.err))
    reject(w, res, p->name, 400, "invalid_query", h.err);
  else if (strcmp(req->method, "POST") == 0)
    post(w, p, &h, res);
  else if (strcmp(req->method, "GET") == 0)
    get(w, p, &h, res);
  else
    reject(w, res, p->name, 405, "method_not_allowed", "use GET (handshake) or POST");
  sb_form_free(&h.query);
  sb_form_free(&h.form);
  free(h.plain);
}

void sb_door_webhook_handle(sb_door_webhook_t *w, const sb_http_request_t *req,
                            sb_http_response_t *res) {
  char name[SB_ACCOUNT_PLATFORM_MAX], account[SB_ACCOUNT_ID_MAX];
  const char *rest = req->path + strlen(SB_WEBHOOK_PATH_PREFIX);
  size_t plen = strcspn(rest, "/");
  const platform_t *p = plen < sizeof name ? platform_find(rest, plen) : NULL;
  const char *acct_id = rest + plen + (rest[plen] == '/');
  if (!p || !*acct_id || strlen(acct_id) >= sizeof account || strchr(acct_id, '/')) {
    reject(w, res, "unknown", 404, "not_found",
           "expected /webhooks/{meta,x,twilio,email,wechat,telegram,line}/{account}");
    return;
  }
  snprintf(name, sizeof name, "%s", p->name);
  snprintf(account, sizeof account, "%s", acct_id);
  const sb_account_t *acct = sb_tenants_account(w->svc->tenants, name, account);
  if (!acct)
    reject(w, res, p->name, 404, "unknown_account", "no tenant has this platform account");
  else
    dispatch(w, p, acct, req, res);
}

sb_door_webhook_t *sb_door_webhook_new(sb_service_t *s, sb_intake_t *intake) {
  sb_door_webhook_t *w = calloc(1, sizeof *w);
  if (!w)
    return NULL;
  w->svc = s;
  w->intake = intake;
  w->dlq = sb_dlq_new(s, "ingest");
  w->delivery_script = sb_script_add(s->redis, "delivery", sb_script_delivery);
  if (w->delivery_script < 0)
    sb_door_webhook_destroy(&w);
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
