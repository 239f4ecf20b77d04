/*
 * sb_channel_telegram: Telegram Bot API sendMessage.
 *
 *   POST {base}/bot<token>/sendMessage  {"chat_id": <id>, "text": "..."}
 *
 * The answer is {"ok": true, "result": {...}} or {"ok": false,
 * "error_code": N, "description": "...", "parameters": {"retry_after": s}}.
 * 429 (flood control) retries no sooner than retry_after seconds; 5xx
 * retry; any other error (400 chat not found, 403 bot blocked by the
 * user) is permanent. A numeric chat id is sent as a JSON number, as the
 * Bot API documents it (Integer or String).
 */
#include "sb_channel_out.h"
#include "sb_error.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TELEGRAM_CHAT_ID_DIGITS_MAX 15 /* fits a double exactly */

static int numeric(const char *s) {
  size_t n = 0;
  if (*s == '-')
    s++;
  for (; s[n]; n++)
    if (s[n] < '0' || s[n] > '9')
      return 0;
  return n > 0 && n <= TELEGRAM_CHAT_ID_DIGITS_MAX;
}

static int build(const sb_out_account_t *a, const sb_out_message_t *m, const char *access_token,
                 int64_t now_ms, int no_reply, sb_out_request_t *out, char *why, size_t whylen) {
  (void)access_token;
  (void)now_ms;
  (void)no_reply;
  memset(out, 0, sizeof *out);
  if (!m->to || !*m->to || !m->text) {
    snprintf(why, whylen, "telegram: no chat id to send to");
    return SB_EINVAL;
  }
  int n = snprintf(out->url, sizeof out->url, "%s/bot%s/sendMessage", a->api_base,
                   a->token ? a->token : "");
  if (!a->token || n < 0 || (size_t)n >= sizeof out->url) {
    snprintf(why, whylen, "telegram: no bot token");
    return SB_EINVAL;
  }
  cJSON *b = cJSON_CreateObject();
  if (numeric(m->to))
    cJSON_AddNumberToObject(b, "chat_id", strtod(m->to, NULL));
  else
    cJSON_AddStringToObject(b, "chat_id", m->to);
  cJSON_AddStringToObject(b, "text", m->text);
  out->body = cJSON_PrintUnformatted(b);
  cJSON_Delete(b);
  if (!out->body)
    return SB_ENOMEM;
  return sb_out_request_header(out, "Content-Type: application/json");
}

static void classify(const sb_out_request_t *req, long status, const char *body,
                     sb_out_result_t *out) {
  (void)req;
  sb_out_http_verdict("telegram", status, out);
  cJSON *j = cJSON_Parse(body ? body : "");
  const cJSON *ok = cJSON_GetObjectItemCaseSensitive(j, "ok");
  if (cJSON_IsTrue(ok) && out->verdict == SB_OUT_SENT) {
    cJSON_Delete(j);
    return;
  }
  if (cJSON_IsFalse(ok)) {
    const cJSON *code = cJSON_GetObjectItemCaseSensitive(j, "error_code");
    const cJSON *desc = cJSON_GetObjectItemCaseSensitive(j, "description");
    const cJSON *params = cJSON_GetObjectItemCaseSensitive(j, "parameters");
    const cJSON *after = cJSON_GetObjectItemCaseSensitive(params, "retry_after");
    /* valueint: cJSON saturates it, where a cast of a huge double is undefined */
    long c = cJSON_IsNumber(code) ? (long)code->valueint : status;
    sb_out_http_verdict("telegram", c, out);
    if (out->verdict == SB_OUT_SENT)
      out->verdict = SB_OUT_DEAD; /* ok:false is never a success */
    if (c == 429 && cJSON_IsNumber(after) && after->valuedouble > 0)
      out->retry_after_ms = (int64_t)(after->valuedouble < SB_OUT_RETRY_AFTER_MAX_S
                                          ? after->valuedouble * 1000
                                          : SB_OUT_RETRY_AFTER_MAX_S * 1000.0);
    snprintf(out->reason, sizeof out->reason, "telegram %ld: %.160s", c,
             cJSON_IsString(desc) ? desc->valuestring : "");
  } else if (out->verdict == SB_OUT_SENT) {
    out->verdict = SB_OUT_RETRY;
    snprintf(out->reason, sizeof out->reason, "telegram: answer without \"ok\"");
  }
  cJSON_Delete(j);
}

const sb_channel_ops_t sb_channel_telegram = {
    .platform = "telegram",
    .default_base = "https://api.telegram.org",
    .build = build,
    .classify = classify,
};
