/*
 * sb_channel_plan: the pure half of sb_channel_send (see sb_channel_send.h):
 * notify.acknowledge / notify.redirect, what an envelope sends, the
 * conversation's reply address, the secure link. No I/O, no clock.
 */
#include "sb_channel_send.h"
#include "sb_error.h"

#include <cjson/cJSON.h>
#include <inttypes.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define LINK_SIG_HEX 32 /* 128 bits of the HMAC: enough against guessing */
#define SECRET_ENV_PREFIX "env:"

typedef Switchboard__V1__Interaction interaction_t;

/* ---- notify.acknowledge, notify.redirect ------------------------------------ */

static int fail(char *err, size_t errlen, const char *tenant, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static int fail(char *err, size_t errlen, const char *tenant, const char *fmt, ...) {
  int n = snprintf(err, errlen, "tenant %s: ", tenant);
  va_list ap;
  va_start(ap, fmt);
  if (n >= 0 && (size_t)n < errlen)
    vsnprintf(err + n, errlen - (size_t)n, fmt, ap);
  va_end(ap);
  return SB_ECONFIG;
}

static int take_template(const char *tenant, const cJSON *o, const char *path,
                         const sb_templates_t *tpl, char **out, char *err, size_t errlen) {
  const cJSON *t = cJSON_GetObjectItemCaseSensitive(o, "template");
  if (!cJSON_IsString(t))
    return fail(err, errlen, tenant, "%s.template must name a template", path);
  if (!sb_templates_has(tpl, t->valuestring))
    return fail(err, errlen, tenant, "%s.template \"%s\" is not in notify.templates", path,
                t->valuestring);
  return (*out = strdup(t->valuestring)) ? 0 : SB_ENOMEM;
}

/* notify.acknowledge and notify.breach_ack: {"template": ..., "enabled": ...} */
static int read_ack(const char *tenant, const char *path, const cJSON *o, const sb_templates_t *tpl,
                    char **out, char *err, size_t errlen) {
  if (!cJSON_IsObject(o))
    return fail(err, errlen, tenant, "%s must be an object", path);
  for (const cJSON *m = o->child; m; m = m->next)
    if (strcmp(m->string, "template") && strcmp(m->string, "enabled"))
      return fail(err, errlen, tenant, "%s.%s is not a known member", path, m->string);
  const cJSON *en = cJSON_GetObjectItemCaseSensitive(o, "enabled");
  if (en && !cJSON_IsBool(en))
    return fail(err, errlen, tenant, "%s.enabled must be true or false", path);
  if (cJSON_IsFalse(en))
    return 0;
  return take_template(tenant, o, path, tpl, out, err, errlen);
}

static int read_secret(const char *tenant, const cJSON *v, char **out, char *err, size_t errlen) {
  if (!cJSON_IsString(v) || !v->valuestring[0])
    return fail(err, errlen, tenant, "notify.redirect.link_secret must be a non-empty string");
  const char *s = v->valuestring;
  if (strncmp(s, SECRET_ENV_PREFIX, strlen(SECRET_ENV_PREFIX)) == 0 &&
      !(s = getenv(s + strlen(SECRET_ENV_PREFIX))))
    return fail(err, errlen, tenant, "notify.redirect.link_secret names an unset environment variable");
  return (*out = strdup(s)) ? 0 : SB_ENOMEM;
}

static int read_redirect(const char *tenant, const cJSON *o, const sb_templates_t *tpl,
                         sb_out_policy_t *p, char *err, size_t errlen) {
  if (!cJSON_IsObject(o))
    return fail(err, errlen, tenant, "notify.redirect must be an object");
  for (const cJSON *m = o->child; m; m = m->next)
    if (strcmp(m->string, "template") && strcmp(m->string, "link") &&
        strcmp(m->string, "link_secret") && strcmp(m->string, "link_ttl_s"))
      return fail(err, errlen, tenant, "notify.redirect.%s is not a known member", m->string);
  const cJSON *link = cJSON_GetObjectItemCaseSensitive(o, "link");
  const cJSON *ttl = cJSON_GetObjectItemCaseSensitive(o, "link_ttl_s");
  if (!cJSON_IsString(link) ||
      (strncmp(link->valuestring, "https://", 8) && strncmp(link->valuestring, "http://", 7)))
    return fail(err, errlen, tenant, "notify.redirect.link must be an http(s) URL");
  if (ttl && (!cJSON_IsNumber(ttl) || ttl->valuedouble < 60))
    return fail(err, errlen, tenant, "notify.redirect.link_ttl_s must be a number >= 60");
  p->link_ttl_s = ttl ? (int64_t)ttl->valuedouble : SB_OUT_LINK_TTL_DEFAULT_S;
  if (!(p->link = strdup(link->valuestring)))
    return SB_ENOMEM;
  int rc = read_secret(tenant, cJSON_GetObjectItemCaseSensitive(o, "link_secret"), &p->link_secret,
                       err, errlen);
  return rc ? rc : take_template(tenant, o, "notify.redirect", tpl, &p->redirect_template, err, errlen);
}

int sb_out_policy_parse(const char *tenant, const char *notify_json, const sb_templates_t *tpl,
                        sb_out_policy_t *p, char *err, size_t errlen) {
  memset(p, 0, sizeof *p);
  cJSON *root = notify_json ? cJSON_Parse(notify_json) : NULL;
  const cJSON *ack = cJSON_GetObjectItemCaseSensitive(root, "acknowledge");
  const cJSON *red = cJSON_GetObjectItemCaseSensitive(root, "redirect");
  const cJSON *late = cJSON_GetObjectItemCaseSensitive(root, "breach_ack");
  int rc = 0;
  if (ack)
    rc = read_ack(tenant, "notify.acknowledge", ack, tpl, &p->ack_template, err, errlen);
  if (rc == 0 && late)
    rc = read_ack(tenant, "notify.breach_ack", late, tpl, &p->breach_ack_template, err, errlen);
  if (rc == 0 && red)
    rc = read_redirect(tenant, red, tpl, p, err, errlen);
  cJSON_Delete(root);
  if (rc)
    sb_out_policy_clear(p);
  return rc;
}

void sb_out_policy_clear(sb_out_policy_t *p) {
  free(p->ack_template);
  free(p->breach_ack_template);
  free(p->redirect_template);
  free(p->link);
  if (p->link_secret)
    memset(p->link_secret, 0, strlen(p->link_secret));
  free(p->link_secret);
  memset(p, 0, sizeof *p);
}

/* ---- helpers ------------------------------------------------------------------ */

void sb_out_format_duration(int64_t ms, char *out, size_t cap) {
  if (ms < 60000)
    snprintf(out, cap, "%" PRId64 " s", ms <= 0 ? 1 : (ms + 999) / 1000);
  else if (ms < 2 * 3600000)
    snprintf(out, cap, "%" PRId64 " min", (ms + 59999) / 60000);
  else
    snprintf(out, cap, "%" PRId64 " h", (ms + 3599999) / 3600000);
}

int sb_out_secure_link(const sb_out_policy_t *p, const char *tenant, const char *conv,
                       int64_t now_ms, char *out, size_t cap) {
  char msg[512], enc[256], hex[2 * EVP_MAX_MD_SIZE + 1];
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned maclen = 0;
  int64_t exp = now_ms / 1000 + p->link_ttl_s;
  int n = snprintf(msg, sizeof msg, "%s|%s|%" PRId64, tenant, conv, exp);
  if (n < 0 || (size_t)n >= sizeof msg || sb_out_urlencode(conv, enc, sizeof enc))
    return SB_ETOOBIG;
  if (!HMAC(EVP_sha256(), p->link_secret, (int)strlen(p->link_secret), (const unsigned char *)msg,
            (size_t)n, mac, &maclen))
    return SB_EIO;
  for (unsigned i = 0; i < maclen; i++)
    snprintf(hex + 2 * i, 3, "%02x", mac[i]);
  n = snprintf(out, cap, "%s%sc=%s&e=%" PRId64 "&s=%.*s", p->link, strchr(p->link, '?') ? "&" : "?",
               enc, exp, LINK_SIG_HEX, hex);
  return n < 0 || (size_t)n >= cap ? SB_ETOOBIG : 0;
}

/* "/telegram/bot-1" -> platform, account. 0 if it has that shape. */
static int split_source(const char *src, char *platform, size_t pcap, char *account, size_t acap) {
  if (!src || src[0] != '/')
    return -1;
  const char *slash = strchr(src + 1, '/');
  if (!slash || (size_t)(slash - src - 1) >= pcap || strlen(slash + 1) >= acap || !slash[1])
    return -1;
  snprintf(platform, pcap, "%.*s", (int)(slash - src - 1), src + 1);
  snprintf(account, acap, "%s", slash + 1);
  return 0;
}

/* The reply address of a customer message, as JSON, or NULL when its
 * account sends nothing (no adapter or no outbound credentials). */
static char *address_of(const sb_out_plan_ctx_t *c, const sb_envelope_t *env) {
  const interaction_t *in = env->interaction;
  char platform[SB_ACCOUNT_PLATFORM_MAX], account[SB_ACCOUNT_ID_MAX];
  if (!in->customer || !*in->customer || !env->conversation || !*env->conversation ||
      split_source(env->source, platform, sizeof platform, account, sizeof account) ||
      !sb_out_config_find(c->accounts, platform, account))
    return NULL;
  const Switchboard__V1__Classification *cl = env->classification;
  cJSON *a = cJSON_CreateObject();
  cJSON_AddStringToObject(a, "p", platform);
  cJSON_AddStringToObject(a, "a", account);
  /* a group message is answered in its group (Telegram) */
  cJSON_AddStringToObject(a, "to", in->reply_chat && *in->reply_chat ? in->reply_chat : in->customer);
  cJSON_AddStringToObject(a, "name", in->author && in->author->name ? in->author->name : "");
  cJSON_AddStringToObject(a, "lang", cl && cl->language ? cl->language : "");
  cJSON_AddStringToObject(a, "ch", sb_channel_name(in->channel));
  if (in->channel == SWITCHBOARD__V1__CHANNEL__CHANNEL_EMAIL) { /* an answer threads on it */
    cJSON_AddStringToObject(a, "subj", in->subject ? in->subject : "");
    cJSON_AddStringToObject(a, "mid", in->platform_message_id ? in->platform_message_id : "");
  } else if (in->channel == SWITCHBOARD__V1__CHANNEL__CHANNEL_X) { /* a post is answered in public */
    cJSON_AddStringToObject(a, "mid", in->platform_message_id ? in->platform_message_id : "");
    cJSON_AddBoolToObject(a, "pub", in->public_);
  }
  if (in->reply_token && *in->reply_token) { /* LINE: answer with it while fresh */
    cJSON_AddStringToObject(a, "rt", in->reply_token);
    cJSON_AddNumberToObject(a, "rtm", (double)(env->ingested_us / 1000));
  }
  char *s = cJSON_PrintUnformatted(a);
  cJSON_Delete(a);
  return s;
}

/* in: the customer's message, or NULL (an SLA event: no name, and the
 * template's default language) */
static int render(const sb_out_plan_ctx_t *c, const sb_envelope_t *env, const char *tpl,
                  const char *link, sb_out_plan_t *plan) {
  const interaction_t *in = env->body_case == SWITCHBOARD__V1__ENVELOPE__BODY_INTERACTION ? env->interaction : NULL;
  const Switchboard__V1__Classification *cl = env->classification;
  char expected[32], text[SB_TEMPLATE_TEXT_MAX];
  sb_out_format_duration(c->expected_ms, expected, sizeof expected);
  sb_template_vars_t v = {.customer_name = in && in->author ? in->author->name : NULL,
                          .expected_response = expected,
                          .secure_link = link,
                          .conversation = env->conversation};
  if (sb_templates_render(c->templates, tpl, cl ? cl->language : NULL, &v, text, sizeof text, NULL))
    return 0; /* too long for a message: send nothing rather than a cut text */
  return (plan->text = strdup(text)) ? 0 : SB_ENOMEM;
}

static int plan_customer(const sb_out_plan_ctx_t *c, const sb_envelope_t *env, sb_out_plan_t *plan) {
  const Switchboard__V1__Classification *cl = env->classification;
  const Switchboard__V1__RoutingDecision *rd = env->routing;
  if (!(plan->address = address_of(c, env)))
    return 0;
  const sb_out_policy_t *p = c->policy;
  int rc = 0;
  if (p->redirect_template && env->interaction->public_ && cl && cl->move_private) {
    char link[1024];
    if (sb_out_secure_link(p, c->tenant->id, env->conversation, c->now_ms, link, sizeof link))
      return 0;
    snprintf(plan->purpose, sizeof plan->purpose, "redirect");
    rc = render(c, env, p->redirect_template, link, plan);
  } else if (p->ack_template && rd && rd->new_conversation) {
    snprintf(plan->purpose, sizeof plan->purpose, "ack");
    rc = render(c, env, p->ack_template, "", plan);
  }
  if (!plan->text)
    plan->purpose[0] = '\0';
  return rc;
}

const char *sb_out_conversation(const sb_envelope_t *env) {
  if (env->conversation && *env->conversation)
    return env->conversation;
  if (env->body_case == SWITCHBOARD__V1__ENVELOPE__BODY_AGENT && env->agent &&
      env->agent->conversation && *env->agent->conversation)
    return env->agent->conversation;
  return NULL;
}

/* A breach whose policy says "acknowledge_customer": the tenant's
 * breach_ack text to the conversation's reply address (kept by notify.lua
 * from the customer's message). */
static int plan_breach_ack(const sb_out_plan_ctx_t *c, const sb_envelope_t *env, sb_out_plan_t *plan) {
  const Switchboard__V1__SlaEvent *e = env->sla;
  if (!e || e->kind != SWITCHBOARD__V1__SLA_KIND__SLA_BREACH || !e->acknowledge_customer ||
      !c->policy->breach_ack_template || !sb_out_conversation(env))
    return 0;
  snprintf(plan->purpose, sizeof plan->purpose, "breach_ack");
  int rc = render(c, env, c->policy->breach_ack_template, "", plan);
  if (!plan->text)
    plan->purpose[0] = '\0';
  return rc;
}

int sb_channel_plan(const sb_out_plan_ctx_t *c, const sb_envelope_t *env, sb_out_plan_t *plan) {
  memset(plan, 0, sizeof *plan);
  if (env->body_case == SWITCHBOARD__V1__ENVELOPE__BODY_INTERACTION && env->interaction)
    return plan_customer(c, env, plan);
  if (env->body_case == SWITCHBOARD__V1__ENVELOPE__BODY_SLA)
    return plan_breach_ack(c, env, plan);
  if (env->body_case != SWITCHBOARD__V1__ENVELOPE__BODY_AGENT || !env->agent)
    return 0;
  const Switchboard__V1__AgentEvent *ag = env->agent;
  const Switchboard__V1__RoutingDecision *rd = env->routing;
  if (ag->action != SWITCHBOARD__V1__AGENT_ACTION__AGENT_REPLY || !ag->text || !*ag->text || !rd ||
      rd->outcome != SWITCHBOARD__V1__ROUTE_OUTCOME__ROUTE_AGENT_OK || !sb_out_conversation(env))
    return 0; /* not accepted: e.g. rejected as not_owner */
  snprintf(plan->purpose, sizeof plan->purpose, "reply");
  return (plan->text = strdup(ag->text)) ? 0 : SB_ENOMEM;
}

void sb_out_plan_clear(sb_out_plan_t *p) {
  free(p->text);
  free(p->address);
  memset(p, 0, sizeof *p);
}
