/*
 * sb_channel_twilio: Twilio Programmable Messaging (SMS, and WhatsApp
 * through Twilio when the numbers carry the "whatsapp:" prefix).
 *
 *   POST {base}/2010-04-01/Accounts/<AccountSid>/Messages.json
 *   Content-Type: application/x-www-form-urlencoded
 *   Authorization: Basic base64(<AccountSid>:<auth token>)
 *   To=<customer>&From=<sender>&Body=<text>[&StatusCallback=<url>]
 *
 * StatusCallback (the account's status_callback: by default the webhook
 * URL ingest verifies Twilio's signature against) is where Twilio posts the
 * message's status changes; ingest turns them into delivery state.
 *
 * 201 (queued by Twilio) is sent, and the answer's "sid" is kept as
 * sent_id (status callbacks name it MessageSid); 429 and 5xx retry; other statuses (400
 * with code 21211 invalid To, 21610 unsubscribed recipient, 401...) are
 * permanent, reason from the body's "code" and "message".
 */
#include "sb_channel_out.h"
#include "sb_error.h"

#include <cjson/cJSON.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TWILIO_CRED_MAX 512

/* "name=<percent-encoded value>" appended to body; SB_ETOOBIG. */
static int form_add(char *body, size_t cap, const char *name, const char *value) {
  size_t n = strlen(body), enc_cap = cap > n ? cap - n : 0;
  char *enc = malloc(enc_cap ? enc_cap : 1);
  int rc = enc && enc_cap ? sb_out_urlencode(value, enc, enc_cap) : SB_ETOOBIG;
  if (rc == 0) {
    int w = snprintf(body + n, cap - n, "%s%s=%s", n ? "&" : "", name, enc);
    rc = w < 0 || (size_t)w >= cap - n ? SB_ETOOBIG : 0;
  }
  free(enc);
  return rc;
}

static int build(const sb_out_account_t *a, const sb_out_message_t *m, const char *access_token,
                 int64_t now_ms, int no_reply, sb_out_request_t *out, char *why, size_t whylen) {
  (void)access_token;
  (void)now_ms;
  (void)no_reply;
  memset(out, 0, sizeof *out);
  char cred[TWILIO_CRED_MAX], b64[TWILIO_CRED_MAX * 4 / 3 + 4];
  int n = snprintf(cred, sizeof cred, "%s:%s", a->app_id ? a->app_id : "", a->token ? a->token : "");
  if (!m->to || !*m->to || !m->text || !a->app_id || !a->token || !a->sender || n < 0 ||
      (size_t)n >= sizeof cred) {
    snprintf(why, whylen, "twilio: %s", m->to && *m->to ? "credentials missing" : "no recipient");
    return SB_EINVAL;
  }
  EVP_EncodeBlock((unsigned char *)b64, (const unsigned char *)cred, n);
  snprintf(out->url, sizeof out->url, "%s/2010-04-01/Accounts/%s/Messages.json", a->api_base,
           a->app_id);
  const char *callback = a->status_callback ? a->status_callback : "";
  size_t cap = 3 * (strlen(m->to) + strlen(a->sender) + strlen(m->text) + strlen(callback)) + 64;
  if (!(out->body = calloc(1, cap)))
    return SB_ENOMEM;
  if (form_add(out->body, cap, "To", m->to) || form_add(out->body, cap, "From", a->sender) ||
      form_add(out->body, cap, "Body", m->text) ||
      (*callback && form_add(out->body, cap, "StatusCallback", callback)) ||
      sb_out_request_header(out, "Content-Type: application/x-www-form-urlencoded") ||
      sb_out_request_header(out, "Authorization: Basic %s", b64)) {
    snprintf(why, whylen, "twilio: request too large");
    return SB_EINVAL;
  }
  return 0;
}

static void classify(const sb_out_request_t *req, long status, const char *body,
                     sb_out_result_t *out) {
  (void)req;
  sb_out_http_verdict("twilio", status, out);
  if (status == 0)
    return;
  cJSON *j = cJSON_Parse(body ? body : "");
  if (out->verdict == SB_OUT_SENT) { /* the Message resource: its "sid" is what status callbacks name */
    const cJSON *sid = cJSON_GetObjectItemCaseSensitive(j, "sid");
    if (cJSON_IsString(sid))
      sb_out_sent_id(out, sid->valuestring);
    cJSON_Delete(j);
    return;
  }
  const cJSON *code = cJSON_GetObjectItemCaseSensitive(j, "code");
  const cJSON *msg = cJSON_GetObjectItemCaseSensitive(j, "message");
  if (cJSON_IsNumber(code))
    snprintf(out->reason, sizeof out->reason, "twilio %ld code %d: %.160s", status, code->valueint,
             cJSON_IsString(msg) ? msg->valuestring : "");
  cJSON_Delete(j);
}

const sb_channel_ops_t sb_channel_twilio = {
    .platform = "twilio",
    .default_base = "https://api.twilio.com",
    .build = build,
    .classify = classify,
};
