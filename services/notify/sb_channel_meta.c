/*
 * sb_channel_meta: Meta's Graph API send endpoints, one adapter for the two
 * channels a Meta account serves (the message's channel picks the API):
 *
 *   WhatsApp Cloud API  POST {base}/v19.0/<phone_number_id>/messages
 *     {"messaging_product": "whatsapp", "recipient_type": "individual",
 *      "to": "<wa_id>", "type": "text", "text": {"body": "..."}}
 *   Messenger Send API  POST {base}/v19.0/me/messages
 *     {"recipient": {"id": "<PSID>"}, "messaging_type": "RESPONSE",
 *      "message": {"text": "..."}}
 *   both with "Authorization: Bearer <access token>".
 *
 * A send's answer names the message (WhatsApp messages[0].id, Messenger
 * message_id): kept as sent_id, what WhatsApp's status receipts name.
 * Errors come as {"error": {"code": N, "message": "..."}}: the throttling
 * codes (4, 17, 32, 613, 80007, 130429, 131048, 131056) and the transient
 * ones (1, 2) retry later, like 5xx; anything else (100 bad parameter, 190
 * token, 551 or 131047 outside the customer-service window) is permanent.
 */
#include "sb_channel_out.h"
#include "sb_error.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <string.h>

#define GRAPH_VERSION "v19.0"

static const int retry_codes[] = {1, 2, 4, 17, 32, 613, 80007, 130429, 131048, 131056};

static int whatsapp(const sb_out_message_t *m) {
  return m->channel && strcmp(m->channel, "whatsapp") == 0;
}

static int build(const sb_out_account_t *a, const sb_out_message_t *m, const char *access_token,
                 int64_t now_ms, int no_reply, sb_out_request_t *out, char *why, size_t whylen) {
  (void)access_token;
  (void)now_ms;
  (void)no_reply;
  memset(out, 0, sizeof *out);
  int wa = whatsapp(m);
  if (!m->to || !*m->to || !m->text || !a->token || (wa && !a->sender)) {
    snprintf(why, whylen, "meta: %s", !a->token ? "no access token"
                                      : (wa && !a->sender) ? "whatsapp needs \"sender\" (phone_number_id)"
                                                           : "no recipient");
    return SB_EINVAL;
  }
  snprintf(out->url, sizeof out->url, "%s/" GRAPH_VERSION "/%s/messages", a->api_base,
           wa ? a->sender : "me");
  cJSON *b = cJSON_CreateObject();
  if (wa) {
    cJSON_AddStringToObject(b, "messaging_product", "whatsapp");
    cJSON_AddStringToObject(b, "recipient_type", "individual");
    cJSON_AddStringToObject(b, "to", m->to);
    cJSON_AddStringToObject(b, "type", "text");
    cJSON_AddStringToObject(cJSON_AddObjectToObject(b, "text"), "body", m->text);
  } else {
    cJSON_AddStringToObject(cJSON_AddObjectToObject(b, "recipient"), "id", m->to);
    cJSON_AddStringToObject(b, "messaging_type", "RESPONSE");
    cJSON_AddStringToObject(cJSON_AddObjectToObject(b, "message"), "text", m->text);
  }
  return sb_out_request_json_bearer(out, b, a->token, "meta", "access token", why, whylen);
}

static void classify(const sb_out_request_t *req, long status, const char *body,
                     sb_out_result_t *out) {
  (void)req;
  sb_out_http_verdict("meta", status, out);
  if (status == 0)
    return;
  cJSON *j = cJSON_Parse(body ? body : "");
  if (out->verdict == SB_OUT_SENT) {
    /* WhatsApp: {"messages": [{"id": "wamid..."}]}; Messenger: "message_id" */
    const cJSON *m = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(j, "messages"), 0);
    const cJSON *id = m ? cJSON_GetObjectItemCaseSensitive(m, "id")
                        : cJSON_GetObjectItemCaseSensitive(j, "message_id");
    if (cJSON_IsString(id))
      sb_out_sent_id(out, id->valuestring);
    cJSON_Delete(j);
    return;
  }
  const cJSON *e = cJSON_GetObjectItemCaseSensitive(j, "error");
  const cJSON *code = cJSON_GetObjectItemCaseSensitive(e, "code");
  const cJSON *msg = cJSON_GetObjectItemCaseSensitive(e, "message");
  if (cJSON_IsNumber(code)) {
    for (size_t i = 0; i < sizeof retry_codes / sizeof retry_codes[0]; i++)
      if (code->valueint == retry_codes[i])
        out->verdict = SB_OUT_RETRY;
    snprintf(out->reason, sizeof out->reason, "meta %ld code %d: %.160s", status, code->valueint,
             cJSON_IsString(msg) ? msg->valuestring : "");
  }
  cJSON_Delete(j);
}

const sb_channel_ops_t sb_channel_meta = {
    .platform = "meta",
    .default_base = "https://graph.facebook.com",
    .build = build,
    .classify = classify,
};
