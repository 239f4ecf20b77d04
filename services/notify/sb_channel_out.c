/*
 * sb_channel_out: see sb_channel_out.h. The adapter table, the helpers
 * every adapter shares, and the notify.outbound configuration.
 */
#include "sb_channel_out.h"
#include "sb_error.h"

#include <cjson/cJSON.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SECRET_ENV_PREFIX "env:"

static const sb_channel_ops_t *const adapters[] = {
    &sb_channel_wechat, &sb_channel_telegram, &sb_channel_line, &sb_channel_meta,
    &sb_channel_twilio, &sb_channel_email, &sb_channel_x};

const sb_channel_ops_t *sb_channel_find(const char *platform) {
  for (size_t i = 0; platform && i < sizeof adapters / sizeof adapters[0]; i++)
    if (strcmp(adapters[i]->platform, platform) == 0)
      return adapters[i];
  return NULL;
}

void sb_out_request_clear(sb_out_request_t *r) {
  free(r->body);
  memset(r, 0, sizeof *r);
}

int sb_out_request_json_bearer(sb_out_request_t *r, cJSON *json, const char *token,
                               const char *platform, const char *what, char *why, size_t whylen) {
  r->body = cJSON_PrintUnformatted(json);
  cJSON_Delete(json);
  if (!r->body)
    return SB_ENOMEM;
  if (sb_out_request_header(r, "Content-Type: application/json") ||
      sb_out_request_header(r, "Authorization: Bearer %s", token)) {
    snprintf(why, whylen, "%s: %s too long", platform, what);
    return SB_EINVAL;
  }
  return 0;
}

int sb_out_request_header(sb_out_request_t *r, const char *fmt, ...) {
  if (r->nheaders == SB_OUT_HEADERS_MAX)
    return SB_ETOOBIG;
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(r->headers[r->nheaders], SB_OUT_HEADER_MAX, fmt, ap);
  va_end(ap);
  if (n < 0 || n >= SB_OUT_HEADER_MAX)
    return SB_ETOOBIG;
  r->nheaders++;
  return 0;
}

void sb_out_http_verdict(const char *platform, long status, sb_out_result_t *out) {
  memset(out, 0, sizeof *out);
  if (status >= 200 && status < 300) {
    out->verdict = SB_OUT_SENT;
    return;
  }
  int retry = status == 0 || status == 408 || status == 429 || status >= 500;
  out->verdict = retry ? SB_OUT_RETRY : SB_OUT_DEAD;
  if (status == 0)
    snprintf(out->reason, sizeof out->reason, "%s: no response", platform);
  else
    snprintf(out->reason, sizeof out->reason, "%s: http %ld%s", platform, status,
             retry ? "" : ", not retried");
}

void sb_out_sent_id(sb_out_result_t *out, const char *id) {
  size_t n = 0;
  for (; id && id[n]; n++)
    if (n + 1 >= sizeof out->sent_id || id[n] <= ' ' || id[n] > '~' || id[n] == '|')
      return;
  if (n > 0)
    memcpy(out->sent_id, id, n + 1);
}

int sb_out_urlencode(const char *s, char *out, size_t cap) {
  static const char hex[] = "0123456789ABCDEF";
  size_t n = 0;
  for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
    int plain = (*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') ||
                *p == '-' || *p == '_' || *p == '.' || *p == '~';
    if (n + (plain ? 1 : 3) >= cap)
      return SB_ETOOBIG;
    if (plain) {
      out[n++] = (char)*p;
    } else {
      out[n++] = '%';
      out[n++] = hex[*p >> 4];
      out[n++] = hex[*p & 15];
    }
  }
  if (n >= cap)
    return SB_ETOOBIG;
  out[n] = '\0';
  return 0;
}

/* ---- configuration --------------------------------------------------------- */

typedef struct {
  const sb_tenants_t *tenants;
  const char *tenant;
  char *err;
  size_t errlen;
} ctx_t;

static int fail(ctx_t *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int fail(ctx_t *c, const char *fmt, ...) {
  int n = snprintf(c->err, c->errlen, "tenant %s: ", c->tenant);
  va_list ap;
  va_start(ap, fmt);
  if (n >= 0 && (size_t)n < c->errlen)
    vsnprintf(c->err + n, c->errlen - (size_t)n, fmt, ap);
  va_end(ap);
  return SB_ECONFIG;
}

/* A string member, or an "env:NAME" secret read from the environment. */
static int read_str(ctx_t *c, const cJSON *v, const char *path, int secret, char **out) {
  if (!cJSON_IsString(v) || !v->valuestring[0])
    return fail(c, "%s must be a non-empty string", path);
  const char *s = v->valuestring;
  if (secret && strncmp(s, SECRET_ENV_PREFIX, strlen(SECRET_ENV_PREFIX)) == 0) {
    s = getenv(s + strlen(SECRET_ENV_PREFIX));
    if (!s || !*s)
      return fail(c, "%s names an unset environment variable", path);
  }
  free(*out);
  *out = strdup(s);
  return *out ? 0 : SB_ENOMEM;
}

/* An http(s) URL, kept exactly (a URL the platform signs must match). */
static int read_url(ctx_t *c, const cJSON *v, const char *path, char **out) {
  int rc = read_str(c, v, path, 0, out);
  if (rc)
    return rc;
  if (strncmp(*out, "http://", 7) && strncmp(*out, "https://", 8))
    return fail(c, "%s must start with http:// or https://", path);
  return 0;
}

static int read_base(ctx_t *c, const cJSON *v, const char *path, char **out) {
  int rc = read_url(c, v, path, out);
  if (rc)
    return rc;
  size_t n = strlen(*out);
  while (n > 0 && (*out)[n - 1] == '/')
    (*out)[--n] = '\0';
  return 0;
}

static int read_member(ctx_t *c, const cJSON *m, const char *path, sb_out_account_t *a) {
  char p[160];
  snprintf(p, sizeof p, "%s.%s", path, m->string);
  if (strcmp(m->string, "platform") == 0 || strcmp(m->string, "account") == 0)
    return 0;
  if (strcmp(m->string, "token") == 0)
    return read_str(c, m, p, 1, &a->token);
  if (strcmp(m->string, "app_secret") == 0)
    return read_str(c, m, p, 1, &a->app_secret);
  if (strcmp(m->string, "token_secret") == 0) {
    if (strcmp(a->platform, "x") != 0)
      return fail(c, "%s is for x accounts only", p);
    return read_str(c, m, p, 1, &a->token_secret);
  }
  if (strcmp(m->string, "app_id") == 0)
    return read_str(c, m, p, 0, &a->app_id);
  if (strcmp(m->string, "sender") == 0)
    return read_str(c, m, p, 0, &a->sender);
  if (strcmp(m->string, "api_base") == 0)
    return read_base(c, m, p, &a->api_base);
  if (strcmp(m->string, "status_callback") == 0) {
    if (strcmp(a->platform, "twilio") != 0)
      return fail(c, "%s is for twilio accounts only", p);
    if (cJSON_IsString(m) && !m->valuestring[0]) { /* "": no status callbacks */
      free(a->status_callback);
      return (a->status_callback = strdup("")) ? 0 : SB_ENOMEM;
    }
    return read_url(c, m, p, &a->status_callback);
  }
  if (strcmp(m->string, "default_subject") == 0) {
    if (strcmp(a->platform, "email") != 0)
      return fail(c, "%s is for email accounts only", p);
    int rc = read_str(c, m, p, 0, &a->default_subject);
    if (rc)
      return rc;
    for (const char *s = a->default_subject; *s; s++)
      if ((unsigned char)*s < 0x20 || *s == 0x7f)
        return fail(c, "%s must not hold control characters", p);
    if (strlen(a->default_subject) > SB_OUT_EMAIL_SUBJECT_MAX)
      return fail(c, "%s is over %d bytes", p, SB_OUT_EMAIL_SUBJECT_MAX);
    return 0;
  }
  if (strcmp(m->string, "timeout_ms") == 0) {
    if (!cJSON_IsNumber(m) || m->valuedouble < 1 || m->valuedouble > SB_OUT_TIMEOUT_LIMIT_MS)
      return fail(c, "%s must be a number in 1..%d", p, SB_OUT_TIMEOUT_LIMIT_MS);
    a->timeout_ms = (int64_t)m->valuedouble;
    return 0;
  }
  return fail(c, "%s is not a known member", p);
}

/* What each platform needs to send, checked once at load. */
static int check_credentials(ctx_t *c, const char *path, sb_out_account_t *a,
                             const sb_account_t *acct) {
  if (strcmp(a->platform, "wechat") == 0) {
    if (!a->app_id && acct->app_id && !(a->app_id = strdup(acct->app_id)))
      return SB_ENOMEM;
    if (!a->app_secret && acct->secret && !(a->app_secret = strdup(acct->secret)))
      return SB_ENOMEM; /* the account's secret is the AppSecret */
    if (!a->app_id || !a->app_secret)
      return fail(c, "%s: wechat needs \"app_id\" and \"app_secret\" (here or on the account)",
                  path);
  } else if (strcmp(a->platform, "twilio") == 0) {
    if (!a->token && acct->secret && !(a->token = strdup(acct->secret)))
      return SB_ENOMEM; /* the auth token */
    /* Twilio calls back only where each message asks (or the number's own
     * setting says): by default, the account's webhook, where ingest takes
     * status callbacks as receipts */
    if (!a->status_callback && acct->url && !(a->status_callback = strdup(acct->url)))
      return SB_ENOMEM;
    if (!a->app_id || !a->sender || !a->token)
      return fail(c, "%s: twilio needs \"app_id\" (AccountSid), \"sender\" and an auth token", path);
  } else if (strcmp(a->platform, "x") == 0) {
    if (!a->app_secret && acct->secret && !(a->app_secret = strdup(acct->secret)))
      return SB_ENOMEM; /* the consumer secret also signs X's webhooks */
    if (!a->app_id || !a->app_secret || !a->token || !a->token_secret)
      return fail(c, "%s: x needs \"app_id\" (API key), \"token\" and \"token_secret\" "
                  "(the account's access token)", path);
  } else if (strcmp(a->platform, "email") == 0) {
    char name[SB_OUT_HEADER_MAX], addr[SB_OUT_HEADER_MAX];
    if (!a->token || !a->sender)
      return fail(c, "%s: email needs \"token\" (the SendGrid API key) and \"sender\"", path);
    if (sb_out_email_sender(a->sender, name, sizeof name, addr, sizeof addr))
      return fail(c, "%s.sender must be an address or \"Name <address>\"", path);
  } else if (!a->token) {
    return fail(c, "%s: %s needs \"token\"", path, a->platform);
  }
  return 0;
}

static int read_account(ctx_t *c, const cJSON *o, int index, sb_out_account_t *a, int64_t timeout) {
  char path[96];
  snprintf(path, sizeof path, "notify.outbound.accounts[%d]", index);
  const cJSON *pl = cJSON_GetObjectItemCaseSensitive(o, "platform");
  const cJSON *id = cJSON_GetObjectItemCaseSensitive(o, "account");
  if (!cJSON_IsObject(o) || !cJSON_IsString(pl) || !cJSON_IsString(id))
    return fail(c, "%s must be an object with string \"platform\" and \"account\"", path);
  const sb_channel_ops_t *ops = sb_channel_find(pl->valuestring);
  if (!ops)
    return fail(c, "%s.platform \"%s\" has no outbound adapter", path, pl->valuestring);
  const sb_account_t *acct = sb_tenants_account(c->tenants, pl->valuestring, id->valuestring);
  if (!acct || strcmp(acct->tenant->id, c->tenant) != 0)
    return fail(c, "%s names no %s account \"%s\" of this tenant", path, pl->valuestring,
                id->valuestring);
  snprintf(a->platform, sizeof a->platform, "%s", pl->valuestring);
  snprintf(a->account, sizeof a->account, "%s", id->valuestring);
  a->timeout_ms = timeout;
  for (const cJSON *m = o->child; m; m = m->next) {
    int rc = read_member(c, m, path, a);
    if (rc)
      return rc;
  }
  if (!a->api_base && !(a->api_base = strdup(ops->default_base)))
    return SB_ENOMEM;
  return check_credentials(c, path, a, acct);
}

static int parse_outbound(ctx_t *c, const cJSON *ob, sb_out_config_t *cfg) {
  if (!cJSON_IsObject(ob))
    return fail(c, "notify.outbound must be an object");
  int64_t timeout = SB_OUT_TIMEOUT_DEFAULT_MS;
  const cJSON *accounts = NULL;
  for (const cJSON *m = ob->child; m; m = m->next) {
    if (strcmp(m->string, "timeout_ms") == 0) {
      if (!cJSON_IsNumber(m) || m->valuedouble < 1 || m->valuedouble > SB_OUT_TIMEOUT_LIMIT_MS)
        return fail(c, "notify.outbound.timeout_ms must be a number in 1..%d",
                    SB_OUT_TIMEOUT_LIMIT_MS);
      timeout = (int64_t)m->valuedouble;
    } else if (strcmp(m->string, "accounts") == 0) {
      accounts = m;
    } else {
      return fail(c, "notify.outbound.%s is not a known member", m->string);
    }
  }
  if (accounts && !cJSON_IsArray(accounts))
    return fail(c, "notify.outbound.accounts must be an array");
  int n = accounts ? cJSON_GetArraySize(accounts) : 0;
  if (n > SB_OUT_ACCOUNTS_MAX)
    return fail(c, "notify.outbound.accounts has more than %d entries", SB_OUT_ACCOUNTS_MAX);
  for (int i = 0; i < n; i++) {
    sb_out_account_t *a = &cfg->accounts[cfg->naccounts++];
    int rc = read_account(c, cJSON_GetArrayItem(accounts, i), i, a, timeout);
    if (rc)
      return rc;
    if (sb_out_config_find(cfg, a->platform, a->account) != a)
      return fail(c, "notify.outbound.accounts[%d] repeats %s account \"%s\"", i, a->platform,
                  a->account);
  }
  return 0;
}

int sb_out_config_parse(const sb_tenants_t *tenants, const char *tenant, const char *notify_json,
                        sb_out_config_t **out, char *err, size_t errlen) {
  ctx_t c = {tenants, tenant, err, errlen};
  *out = NULL;
  sb_out_config_t *cfg = calloc(1, sizeof *cfg);
  if (!cfg)
    return SB_ENOMEM;
  cJSON *root = notify_json ? cJSON_Parse(notify_json) : NULL;
  int rc = 0;
  if (notify_json && !root)
    rc = fail(&c, "notify is not valid JSON");
  const cJSON *ob = root ? cJSON_GetObjectItemCaseSensitive(root, "outbound") : NULL;
  if (rc == 0 && ob)
    rc = parse_outbound(&c, ob, cfg);
  cJSON_Delete(root);
  if (rc) {
    sb_out_config_destroy(&cfg);
    return rc;
  }
  *out = cfg;
  return 0;
}

static void wipe_free(char *s) {
  if (s) {
    memset(s, 0, strlen(s));
    free(s);
  }
}

void sb_out_config_destroy(sb_out_config_t **cp) {
  sb_out_config_t *c = *cp;
  if (!c)
    return;
  *cp = NULL;
  for (size_t i = 0; i < c->naccounts; i++) {
    free(c->accounts[i].api_base);
    free(c->accounts[i].app_id);
    free(c->accounts[i].sender);
    free(c->accounts[i].status_callback);
    free(c->accounts[i].default_subject);
    wipe_free(c->accounts[i].token);
    wipe_free(c->accounts[i].app_secret);
    wipe_free(c->accounts[i].token_secret);
  }
  free(c);
}

const sb_out_account_t *sb_out_config_find(const sb_out_config_t *c, const char *platform,
                                           const char *account) {
  for (size_t i = 0; c && i < c->naccounts; i++)
    if (strcmp(c->accounts[i].platform, platform) == 0 &&
        strcmp(c->accounts[i].account, account) == 0)
      return &c->accounts[i];
  return NULL;
}
