/*
 * sb_channel_line: LINE Messaging API.
 *
 *   reply  POST {base}/v2/bot/message/reply
 *          {"replyToken": "...", "messages": [{"type": "text", "text": "..."}]}
 *   push   POST {base}/v2/bot/message/push
 *          {"to": "<userId>", "messages": [{"type": "text", "text": "..."}]}
 *   both with "Authorization: Bearer <channel access token>".
 *
 * A reply is free of charge but needs the webhook's reply token, which is
 * single-use and valid only shortly after the webhook; so a reply is tried
 * while the token is younger than SB_LINE_REPLY_TOKEN_TTL_MS, and a 400 to
 * a reply (LINE's "Invalid reply token") falls back to a push at once. 429
 * and 5xx retry later; other statuses (400 to a push, 401 bad channel
 * token, 403) are permanent.
 */
#include "sb_channel_out.h"
#include "sb_error.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <string.h>

#define MODE_PUSH 0
#define MODE_REPLY 1

static int build(const sb_out_account_t *a, const sb_out_message_t *m, const char *access_token,
                 int64_t now_ms, int no_reply, sb_out_request_t *out, char *why, size_t whylen) {
  (void)access_token;
  memset(out, 0, sizeof *out);
  int reply = !no_reply && m->reply_token && *m->reply_token &&
              now_ms - m->reply_token_ms < SB_LINE_REPLY_TOKEN_TTL_MS;
  if ((!reply && (!m->to || !*m->to)) || !m->text || !a->token) {
    snprintf(why, whylen, "line: %s", a->token ? "no userId to push to" : "no channel token");
    return SB_EINVAL;
  }
  out->mode = reply ? MODE_REPLY : MODE_PUSH;
  snprintf(out->url, sizeof out->url, "%s/v2/bot/message/%s", a->api_base, reply ? "reply" : "push");
  cJSON *b = cJSON_CreateObject();
  if (reply)
    cJSON_AddStringToObject(b, "replyToken", m->reply_token);
  else
    cJSON_AddStringToObject(b, "to", m->to);
  cJSON *msg = cJSON_CreateObject();
  cJSON_AddStringToObject(msg, "type", "text");
  cJSON_AddStringToObject(msg, "text", m->text);
  cJSON_AddItemToArray(cJSON_AddArrayToObject(b, "messages"), msg);
  return sb_out_request_json_bearer(out, b, a->token, "line", "channel token", why, whylen);
}

static void classify(const sb_out_request_t *req, long status, const char *body,
                     sb_out_result_t *out) {
  sb_out_http_verdict("line", status, out);
  if (out->verdict == SB_OUT_SENT || status == 0)
    return;
  cJSON *j = cJSON_Parse(body ? body : "");
  const cJSON *msg = cJSON_GetObjectItemCaseSensitive(j, "message");
  snprintf(out->reason, sizeof out->reason, "line %s %ld: %.160s",
           req->mode == MODE_REPLY ? "reply" : "push", status,
           cJSON_IsString(msg) ? msg->valuestring : "");
  cJSON_Delete(j);
  if (req->mode == MODE_REPLY && status == 400)
    out->verdict = SB_OUT_FALLBACK;
}

const sb_channel_ops_t sb_channel_line = {
    .platform = "line",
    .default_base = "https://api.line.me",
    .build = build,
    .classify = classify,
};
