/*
 * sb_channel_email: e-mail answers through SendGrid's v3 Mail Send API,
 * the sending half of the inbound-parse webhook ingest reads.
 *
 *   POST {base}/v3/mail/send
 *   Authorization: Bearer <API key>
 *   Content-Type: application/json
 *   {"personalizations": [{"to": [{"email": <customer>}]}],
 *    "from": {"email": <sender address>[, "name": <sender name>]},
 *    "subject": "Re: <the customer's subject>",
 *    "content": [{"type": "text/plain", "value": <text>}],
 *    "headers": {"In-Reply-To": "<Message-ID>", "References": "<Message-ID>"}}
 *
 * The answer threads in the customer's mail client (In-Reply-To and
 * References name the customer's last message), and the customer's next
 * mail comes back to the same conversation: its References start with that
 * id, which ingest remembers. A message whose Message-ID was missing
 * ("nomsgid-..." stand-in) gets no threading headers.
 *
 * 202 (accepted for delivery) is sent; 429 and 5xx retry; other statuses
 * (400 bad request, 401/403 key refused, 413 too large) are permanent, the
 * reason from the body's errors[0].message. SendGrid names the message it
 * accepted in the X-Message-Id response header (sent_id_header): its
 * Event Webhook's sg_message_id starts with that id, so ingest turns
 * SendGrid's events into the conversation's delivery state.
 */
#include "sb_channel_out.h"
#include "sb_error.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define EMAIL_ADDR_MAX 320 /* RFC 5321: 64 local + @ + 255 domain */
/* never cut: a subject is at most 256 bytes (ingest, admission) and a
 * default_subject SB_OUT_EMAIL_SUBJECT_MAX */
#define EMAIL_SUBJECT_MAX 512
#define REPLY_PREFIX "Re: "

/* addr looks like one mailbox: printable ASCII without spaces, quotes,
 * angle brackets or commas, exactly one '@' with text on both sides. */
static int address_ok(const char *addr, size_t n) {
  const char *at = memchr(addr, '@', n);
  if (n == 0 || n > EMAIL_ADDR_MAX || !at || at == addr || at == addr + n - 1 ||
      memchr(at + 1, '@', n - (size_t)(at + 1 - addr)))
    return 0;
  for (size_t i = 0; i < n; i++) {
    unsigned char c = (unsigned char)addr[i];
    if (c <= ' ' || c >= 0x7f || strchr("<>\",;()[]\\", c))
      return 0;
  }
  return 1;
}

int sb_out_email_sender(const char *sender, char *name, size_t ncap, char *addr, size_t acap) {
  const char *lt = strrchr(sender, '<');
  const char *a = sender, *end = sender + strlen(sender);
  size_t nlen = 0;
  if (lt) { /* "Name <addr>" */
    const char *gt = strchr(lt, '>');
    if (!gt || gt[1] != '\0')
      return SB_EINVAL;
    a = lt + 1;
    end = gt;
    nlen = (size_t)(lt - sender);
    while (nlen > 0 && sender[nlen - 1] == ' ')
      nlen--;
  }
  size_t alen = (size_t)(end - a);
  if (!address_ok(a, alen) || alen >= acap || nlen >= ncap)
    return SB_EINVAL;
  for (size_t i = 0; i < nlen; i++)
    if ((unsigned char)sender[i] < 0x20 || sender[i] == 0x7f)
      return SB_EINVAL;
  memcpy(addr, a, alen);
  addr[alen] = '\0';
  memcpy(name, sender, nlen);
  name[nlen] = '\0';
  return 0;
}

/* "Re: " + subject, unless it already says "Re:"; the account's
 * default_subject when the customer's is empty or not printable. */
static void reply_subject(const sb_out_account_t *a, const char *subject, char *out, size_t cap) {
  const char *s = subject ? subject : "";
  while (*s == ' ')
    s++;
  int ok = *s != '\0';
  for (const char *p = s; ok && *p; p++)
    if ((unsigned char)*p < 0x20 || *p == 0x7f)
      ok = 0;
  if (!ok)
    snprintf(out, cap, "%s", a->default_subject ? a->default_subject : SB_OUT_EMAIL_SUBJECT_DEFAULT);
  else if (strncasecmp(s, "re:", 3) == 0)
    snprintf(out, cap, "%s", s);
  else
    snprintf(out, cap, REPLY_PREFIX "%s", s);
}

/* A Message-ID worth naming (not ingest's "nomsgid-" stand-in). */
static int msg_id_ok(const char *id) {
  size_t n = id ? strlen(id) : 0;
  if (n == 0 || n > SB_OUT_HEADER_MAX / 2 || strncmp(id, "nomsgid-", 8) == 0)
    return 0;
  for (size_t i = 0; i < n; i++)
    if ((unsigned char)id[i] <= ' ' || (unsigned char)id[i] >= 0x7f || id[i] == '<' || id[i] == '>')
      return 0;
  return 1;
}

static int build(const sb_out_account_t *a, const sb_out_message_t *m, const char *access_token,
                 int64_t now_ms, int no_reply, sb_out_request_t *out, char *why, size_t whylen) {
  (void)access_token;
  (void)now_ms;
  (void)no_reply;
  memset(out, 0, sizeof *out);
  char name[SB_OUT_HEADER_MAX], from[EMAIL_ADDR_MAX + 1], subject[EMAIL_SUBJECT_MAX];
  if (!m->to || !address_ok(m->to, strlen(m->to))) {
    snprintf(why, whylen, "email: %s", m->to && *m->to ? "recipient is not an e-mail address"
                                                        : "no recipient");
    return SB_EINVAL;
  }
  if (!m->text || !a->token || !a->sender ||
      sb_out_email_sender(a->sender, name, sizeof name, from, sizeof from)) {
    snprintf(why, whylen, "email: credentials or sender missing");
    return SB_EINVAL;
  }
  reply_subject(a, m->subject, subject, sizeof subject);
  cJSON *j = cJSON_CreateObject(), *to = cJSON_CreateObject(), *p = cJSON_CreateObject();
  cJSON *f = cJSON_CreateObject(), *c = cJSON_CreateObject();
  cJSON_AddStringToObject(to, "email", m->to);
  cJSON_AddItemToArray(cJSON_AddArrayToObject(p, "to"), to);
  cJSON_AddItemToArray(cJSON_AddArrayToObject(j, "personalizations"), p);
  cJSON_AddStringToObject(f, "email", from);
  if (name[0])
    cJSON_AddStringToObject(f, "name", name);
  cJSON_AddItemToObject(j, "from", f);
  cJSON_AddStringToObject(j, "subject", subject);
  cJSON_AddStringToObject(c, "type", "text/plain");
  cJSON_AddStringToObject(c, "value", m->text);
  cJSON_AddItemToArray(cJSON_AddArrayToObject(j, "content"), c);
  if (msg_id_ok(m->in_reply_to)) {
    char id[SB_OUT_HEADER_MAX];
    snprintf(id, sizeof id, "<%s>", m->in_reply_to);
    cJSON *h = cJSON_AddObjectToObject(j, "headers");
    cJSON_AddStringToObject(h, "In-Reply-To", id);
    cJSON_AddStringToObject(h, "References", id);
  }
  snprintf(out->url, sizeof out->url, "%s/v3/mail/send", a->api_base);
  return sb_out_request_json_bearer(out, j, a->token, "email", "API key", why, whylen);
}

static void classify(const sb_out_request_t *req, long status, const char *body,
                     sb_out_result_t *out) {
  (void)req;
  sb_out_http_verdict("email", status, out);
  if (status == 0 || out->verdict == SB_OUT_SENT)
    return;
  cJSON *j = cJSON_Parse(body ? body : "");
  const cJSON *errors = cJSON_GetObjectItemCaseSensitive(j, "errors");
  const cJSON *first = cJSON_IsArray(errors) ? cJSON_GetArrayItem(errors, 0) : NULL;
  const cJSON *msg = cJSON_GetObjectItemCaseSensitive(first, "message");
  const cJSON *field = cJSON_GetObjectItemCaseSensitive(first, "field");
  if (cJSON_IsString(msg))
    snprintf(out->reason, sizeof out->reason, "email %ld: %.160s%s%.40s", status, msg->valuestring,
             cJSON_IsString(field) ? " field " : "", cJSON_IsString(field) ? field->valuestring : "");
  cJSON_Delete(j);
}

const sb_channel_ops_t sb_channel_email = {
    .platform = "email",
    .default_base = "https://api.sendgrid.com",
    .build = build,
    .classify = classify,
    .sent_id_header = "X-Message-Id",
};
