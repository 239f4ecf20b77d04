/*
 * sb_channel_x: answers on X (Twitter) through the X API v2, as the
 * account's own user (OAuth 1.0a user context: the API key and secret of
 * the app, the access token and secret of the account; they do not expire).
 *
 *   a direct message (the customer wrote privately):
 *     POST {base}/2/dm_conversations/with/<user id>/messages  {"text": ...}
 *   a public reply (the customer mentioned the account in a post):
 *     POST {base}/2/tweets
 *       {"text": ..., "reply": {"in_reply_to_tweet_id": <their post>}}
 *   Authorization: OAuth oauth_consumer_key, oauth_nonce, oauth_signature,
 *     oauth_signature_method="HMAC-SHA1", oauth_timestamp, oauth_token,
 *     oauth_version="1.0" (RFC 5849; a JSON body is not signed)
 *
 * 201 is sent, and the answer's data.dm_event_id or data.id is kept as
 * sent_id (the Account Activity API echoes our own DMs and posts with that
 * id); 429 and 5xx retry; other statuses (400, 401 bad credentials, 403 a
 * DM the user does not accept, or a post too long) are permanent, the
 * reason from the body's "detail" or "title".
 */
#include "sb_channel_out.h"
#include "sb_error.h"

#include <cjson/cJSON.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define X_NONCE_BYTES 16
#define X_PARAMS_MAX 16
#define X_ENC_MAX 1024 /* one percent-encoded parameter */
#define X_ID_MAX 32    /* digits of an X user or post id */

static int cmp_param(const void *a, const void *b) {
  const sb_out_param_t *x = a, *y = b;
  int c = strcmp(x->name, y->name);
  return c ? c : strcmp(x->value, y->value);
}

/* text[*len..] += s; SB_ETOOBIG past cap */
static int add(char *text, size_t cap, size_t *len, const char *s) {
  size_t n = strlen(s);
  if (*len + n >= cap)
    return SB_ETOOBIG;
  memcpy(text + *len, s, n + 1);
  *len += n;
  return 0;
}

/* text[*len..] += percent-encoded s */
static int add_enc(char *text, size_t cap, size_t *len, const char *s) {
  int rc = sb_out_urlencode(s, text + *len, cap - *len);
  if (rc == 0)
    *len += strlen(text + *len);
  return rc;
}

int sb_out_oauth1_sign(const char *method, const char *url, const sb_out_param_t *params, size_t n,
                       const char *consumer_secret, const char *token_secret, char *out,
                       size_t cap) {
  if (n > X_PARAMS_MAX || cap < SB_OUT_OAUTH1_SIG_LEN)
    return SB_ETOOBIG;
  size_t pcap = n * (2 * X_ENC_MAX + 2) + 1;
  size_t bcap = strlen(method) + 3 * strlen(url) + 3 * pcap + 3, plen = 0, blen = 0;
  char *enc = malloc(n * 2 * X_ENC_MAX + 1), *pairs = malloc(pcap), *base = malloc(bcap);
  sb_out_param_t sorted[X_PARAMS_MAX];
  int rc = enc && pairs && base ? 0 : SB_ENOMEM;
  /* the parameters percent-encoded, sorted by name then value, joined */
  for (size_t i = 0; rc == 0 && i < n; i++) {
    char *name = enc + 2 * i * X_ENC_MAX, *value = name + X_ENC_MAX;
    rc = sb_out_urlencode(params[i].name, name, X_ENC_MAX);
    if (rc == 0)
      rc = sb_out_urlencode(params[i].value, value, X_ENC_MAX);
    sorted[i] = (sb_out_param_t){name, value};
  }
  if (rc == 0)
    qsort(sorted, n, sizeof *sorted, cmp_param);
  for (size_t i = 0; rc == 0 && i < n; i++) {
    rc = add(pairs, pcap, &plen, i ? "&" : "");
    if (rc == 0)
      rc = add(pairs, pcap, &plen, sorted[i].name);
    if (rc == 0)
      rc = add(pairs, pcap, &plen, "=");
    if (rc == 0)
      rc = add(pairs, pcap, &plen, sorted[i].value);
  }
  /* the signature base string: METHOD&enc(url)&enc(pairs) */
  if (rc == 0)
    rc = add(base, bcap, &blen, method);
  if (rc == 0)
    rc = add(base, bcap, &blen, "&");
  if (rc == 0)
    rc = add_enc(base, bcap, &blen, url);
  if (rc == 0)
    rc = add(base, bcap, &blen, "&");
  if (rc == 0)
    rc = add_enc(base, bcap, &blen, plen ? pairs : "");
  /* the key: enc(consumer secret)&enc(token secret) */
  char key[2 * X_ENC_MAX + 2];
  size_t klen = 0;
  if (rc == 0)
    rc = add_enc(key, sizeof key, &klen, consumer_secret);
  if (rc == 0)
    rc = add(key, sizeof key, &klen, "&");
  if (rc == 0)
    rc = add_enc(key, sizeof key, &klen, token_secret);
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int maclen = 0;
  if (rc == 0 && !HMAC(EVP_sha1(), key, (int)klen, (const unsigned char *)base, blen, mac, &maclen))
    rc = SB_ENOMEM;
  if (rc == 0)
    EVP_EncodeBlock((unsigned char *)out, mac, (int)maclen);
  OPENSSL_cleanse(key, sizeof key);
  free(enc);
  free(pairs);
  free(base);
  return rc;
}

static int digits(const char *s) {
  size_t n = s ? strlen(s) : 0;
  return n > 0 && n <= X_ID_MAX && strspn(s, "0123456789") == n;
}

/* "Authorization: OAuth ..." for a POST to url (no query) at now_ms */
static int oauth_header(const sb_out_account_t *a, const char *url, int64_t now_ms,
                        sb_out_request_t *out) {
  unsigned char raw[X_NONCE_BYTES];
  char nonce[2 * X_NONCE_BYTES + 1], ts[24], sig[SB_OUT_OAUTH1_SIG_LEN], sig_enc[3 * SB_OUT_OAUTH1_SIG_LEN];
  if (RAND_bytes(raw, sizeof raw) != 1)
    return SB_ENOMEM;
  for (size_t i = 0; i < sizeof raw; i++)
    snprintf(nonce + 2 * i, 3, "%02x", raw[i]);
  snprintf(ts, sizeof ts, "%lld", (long long)(now_ms / 1000));
  sb_out_param_t p[] = {{"oauth_consumer_key", a->app_id}, {"oauth_nonce", nonce},
                        {"oauth_signature_method", "HMAC-SHA1"}, {"oauth_timestamp", ts},
                        {"oauth_token", a->token}, {"oauth_version", "1.0"}};
  int rc = sb_out_oauth1_sign("POST", url, p, sizeof p / sizeof p[0], a->app_secret, a->token_secret,
                              sig, sizeof sig);
  if (rc == 0)
    rc = sb_out_urlencode(sig, sig_enc, sizeof sig_enc);
  if (rc == 0)
    rc = sb_out_request_header(out,
                               "Authorization: OAuth oauth_consumer_key=\"%s\", oauth_nonce=\"%s\", "
                               "oauth_signature=\"%s\", oauth_signature_method=\"HMAC-SHA1\", "
                               "oauth_timestamp=\"%s\", oauth_token=\"%s\", oauth_version=\"1.0\"",
                               a->app_id, nonce, sig_enc, ts, a->token);
  return rc;
}

static int build(const sb_out_account_t *a, const sb_out_message_t *m, const char *access_token,
                 int64_t now_ms, int no_reply, sb_out_request_t *out, char *why, size_t whylen) {
  (void)access_token;
  (void)no_reply;
  memset(out, 0, sizeof *out);
  int public_reply = m->is_public && m->in_reply_to && *m->in_reply_to;
  if (!m->text || !a->app_id || !a->app_secret || !a->token || !a->token_secret) {
    snprintf(why, whylen, "x: credentials missing");
    return SB_EINVAL;
  }
  if (public_reply ? !digits(m->in_reply_to) : !digits(m->to)) {
    snprintf(why, whylen, "x: %s is not an X id", public_reply ? "the post answered" : "the recipient");
    return SB_EINVAL;
  }
  cJSON *j = cJSON_CreateObject();
  cJSON_AddStringToObject(j, "text", m->text);
  if (public_reply) {
    snprintf(out->url, sizeof out->url, "%s/2/tweets", a->api_base);
    cJSON_AddStringToObject(cJSON_AddObjectToObject(j, "reply"), "in_reply_to_tweet_id", m->in_reply_to);
  } else {
    snprintf(out->url, sizeof out->url, "%s/2/dm_conversations/with/%s/messages", a->api_base, m->to);
  }
  out->body = cJSON_PrintUnformatted(j);
  cJSON_Delete(j);
  if (!out->body)
    return SB_ENOMEM;
  if (sb_out_request_header(out, "Content-Type: application/json") ||
      oauth_header(a, out->url, now_ms, out)) {
    snprintf(why, whylen, "x: credentials too long");
    return SB_EINVAL;
  }
  return 0;
}

static void classify(const sb_out_request_t *req, long status, const char *body,
                     sb_out_result_t *out) {
  (void)req;
  sb_out_http_verdict("x", status, out);
  if (status == 0)
    return;
  cJSON *j = cJSON_Parse(body ? body : "");
  if (out->verdict == SB_OUT_SENT) { /* what the Account Activity echo will name */
    const cJSON *data = cJSON_GetObjectItemCaseSensitive(j, "data");
    const cJSON *id = cJSON_GetObjectItemCaseSensitive(data, "dm_event_id");
    if (!cJSON_IsString(id))
      id = cJSON_GetObjectItemCaseSensitive(data, "id");
    if (cJSON_IsString(id))
      sb_out_sent_id(out, id->valuestring);
    cJSON_Delete(j);
    return;
  }
  const cJSON *detail = cJSON_GetObjectItemCaseSensitive(j, "detail");
  if (!cJSON_IsString(detail))
    detail = cJSON_GetObjectItemCaseSensitive(j, "title");
  if (cJSON_IsString(detail))
    snprintf(out->reason, sizeof out->reason, "x %ld: %.180s", status, detail->valuestring);
  cJSON_Delete(j);
}

const sb_channel_ops_t sb_channel_x = {
    .platform = "x",
    .default_base = "https://api.x.com",
    .build = build,
    .classify = classify,
};
