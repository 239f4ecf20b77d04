/*
 * sb_channel_wechat: WeChat Official Account customer-service messages.
 *
 *   POST {base}/cgi-bin/message/custom/send?access_token=TOKEN
 *        {"touser": "<openid>", "msgtype": "text", "text": {"content": "..."}}
 *
 * WeChat answers HTTP 200 whatever happened; the verdict is in the body's
 * errcode: 0 sent; 40001 (invalid credential), 40014 (invalid token) and
 * 42001 (token expired) mean our access token is stale: fetch a new one
 * and send again; -1 (system busy) and 45009 (API call limit) retry later;
 * anything else (45015 reply window of 48 h passed, 40003 bad openid, ...)
 * is permanent. The access token comes from
 *   GET {base}/cgi-bin/token?grant_type=client_credential&appid=..&secret=..
 * -> {"access_token": "...", "expires_in": 7200}, cached by the sender.
 */
#include "sb_channel_out.h"
#include "sb_error.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <string.h>

#define WECHAT_ERR_BUSY -1
#define WECHAT_ERR_INVALID_CREDENTIAL 40001
#define WECHAT_ERR_INVALID_TOKEN 40014
#define WECHAT_ERR_TOKEN_EXPIRED 42001
#define WECHAT_ERR_API_LIMIT 45009

static int build(const sb_out_account_t *a, const sb_out_message_t *m, const char *access_token,
                 int64_t now_ms, int no_reply, sb_out_request_t *out, char *why, size_t whylen) {
  char tok[SB_OUT_TOKEN_MAX * 3];
  (void)now_ms;
  (void)no_reply;
  memset(out, 0, sizeof *out);
  if (!m->to || !*m->to || !m->text) {
    snprintf(why, whylen, "wechat: no openid to send to");
    return SB_EINVAL;
  }
  if (!access_token || sb_out_urlencode(access_token, tok, sizeof tok)) {
    snprintf(why, whylen, "wechat: no access token");
    return SB_EINVAL;
  }
  int n = snprintf(out->url, sizeof out->url, "%s/cgi-bin/message/custom/send?access_token=%s",
                   a->api_base, tok);
  if (n < 0 || (size_t)n >= sizeof out->url) {
    snprintf(why, whylen, "wechat: url too long");
    return SB_EINVAL;
  }
  cJSON *b = cJSON_CreateObject();
  cJSON_AddStringToObject(b, "touser", m->to);
  cJSON_AddStringToObject(b, "msgtype", "text");
  cJSON_AddStringToObject(cJSON_AddObjectToObject(b, "text"), "content", m->text);
  out->body = cJSON_PrintUnformatted(b);
  cJSON_Delete(b);
  if (!out->body)
    return SB_ENOMEM;
  return sb_out_request_header(out, "Content-Type: application/json");
}

static void classify(const sb_out_request_t *req, long status, const char *body,
                     sb_out_result_t *out) {
  (void)req;
  sb_out_http_verdict("wechat", status, out);
  if (out->verdict != SB_OUT_SENT)
    return;
  cJSON *j = cJSON_Parse(body ? body : "");
  const cJSON *code = cJSON_GetObjectItemCaseSensitive(j, "errcode");
  const cJSON *msg = cJSON_GetObjectItemCaseSensitive(j, "errmsg");
  if (!cJSON_IsNumber(code)) {
    out->verdict = SB_OUT_RETRY; /* a 200 without an errcode is not WeChat's answer */
    snprintf(out->reason, sizeof out->reason, "wechat: answer without errcode");
  } else if (code->valueint != 0) {
    int c = code->valueint;
    out->verdict = (c == WECHAT_ERR_INVALID_CREDENTIAL || c == WECHAT_ERR_INVALID_TOKEN ||
                    c == WECHAT_ERR_TOKEN_EXPIRED)
                       ? SB_OUT_REFRESH
                   : (c == WECHAT_ERR_BUSY || c == WECHAT_ERR_API_LIMIT) ? SB_OUT_RETRY
                                                                         : SB_OUT_DEAD;
    snprintf(out->reason, sizeof out->reason, "wechat errcode %d: %.160s", c,
             cJSON_IsString(msg) ? msg->valuestring : "");
  }
  cJSON_Delete(j);
}

static int token_url(const sb_out_account_t *a, char *url, size_t cap) {
  char id[256], secret[512];
  if (!a->app_id || !a->app_secret || sb_out_urlencode(a->app_id, id, sizeof id) ||
      sb_out_urlencode(a->app_secret, secret, sizeof secret))
    return SB_EINVAL;
  int n = snprintf(url, cap, "%s/cgi-bin/token?grant_type=client_credential&appid=%s&secret=%s",
                   a->api_base, id, secret);
  return n < 0 || (size_t)n >= cap ? SB_ETOOBIG : 0;
}

static int token_parse(long status, const char *body, char *token, size_t cap, int64_t *expires_s,
                       char *why, size_t whylen) {
  if (status != 200) {
    snprintf(why, whylen, "wechat token: http %ld", status);
    return SB_EPARSE;
  }
  cJSON *j = cJSON_Parse(body ? body : "");
  const cJSON *t = cJSON_GetObjectItemCaseSensitive(j, "access_token");
  const cJSON *e = cJSON_GetObjectItemCaseSensitive(j, "expires_in");
  const cJSON *code = cJSON_GetObjectItemCaseSensitive(j, "errcode");
  int rc = 0;
  if (!cJSON_IsString(t) || !t->valuestring[0] || strlen(t->valuestring) >= cap ||
      !cJSON_IsNumber(e) || e->valuedouble <= 0) {
    snprintf(why, whylen, "wechat token: errcode %d", cJSON_IsNumber(code) ? code->valueint : 0);
    rc = SB_EPARSE;
  } else {
    snprintf(token, cap, "%s", t->valuestring);
    *expires_s = e->valuedouble < SB_OUT_TOKEN_LIFETIME_MAX_S ? (int64_t)e->valuedouble
                                                               : SB_OUT_TOKEN_LIFETIME_MAX_S;
  }
  cJSON_Delete(j);
  return rc;
}

const sb_channel_ops_t sb_channel_wechat = {
    .platform = "wechat",
    .default_base = "https://api.weixin.qq.com",
    .build = build,
    .classify = classify,
    .token_url = token_url,
    .token_parse = token_parse,
};
