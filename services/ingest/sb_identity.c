/*
 * sb_identity: parse and normalise identity links (see sb_identity.h).
 *
 * The pre-scan is one linear pass over the bytes: it tracks strings and
 * escapes only to count [ and { nesting, and refuses an escaped NUL
 * (cJSON would cut the string there, so two different ids could meet).
 */
#include "sb_identity.h"
#include "sb_envelope.h"
#include "sb_error.h"
#include "sb_utf8.h"

#include <cjson/cJSON.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int fail(char *err, size_t errlen, int rc, const char *fmt, ...) {
  if (err && errlen) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
  }
  return rc;
}

/* Nesting depth of the JSON text (outside strings), or -1 on "\u0000". */
static int json_depth(const char *s, size_t len) {
  int depth = 0, max = 0;
  bool in_str = false;
  for (size_t i = 0; i < len; i++) {
    char c = s[i];
    if (in_str) {
      if (c == '\\' && i + 1 < len) {
        if (s[i + 1] == 'u' && i + 5 < len && memcmp(s + i + 2, "0000", 4) == 0)
          return -1;
        i++;
      } else if (c == '"') {
        in_str = false;
      }
    } else if (c == '"') {
      in_str = true;
    } else if (c == '[' || c == '{') {
      if (++depth > max)
        max = depth;
    } else if (c == ']' || c == '}') {
      depth--;
    }
  }
  return max;
}

static bool tenant_ok(const char *t) {
  size_t n = strlen(t);
  return n >= 1 && n <= SB_IDENTITY_TENANT_MAX &&
         strspn(t, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-") == n;
}

/* 1..SB_IDENTITY_ID_MAX bytes, no control characters (UTF-8 checked). */
static bool id_ok(const char *s) {
  size_t n = strlen(s);
  return n >= 1 && n <= SB_IDENTITY_ID_MAX && !sb_utf8_has_control(s);
}

/* addr-spec as the e-mail webhook takes it: one '@' between non-empty
 * parts, no spaces, brackets or separators; lowercased. */
static int email_normalise(const char *id, char *out) {
  size_t n = strlen(id);
  const char *at = strchr(id, '@');
  if (n == 0 || n > SB_IDENTITY_ID_MAX || !at || at == id || at[1] == '\0' || strchr(at + 1, '@'))
    return SB_EINVAL;
  for (size_t i = 0; i < n; i++) {
    unsigned char c = (unsigned char)id[i];
    if (c <= ' ' || c == 0x7F || strchr("<>()[],;:\"\\", c))
      return SB_EINVAL;
    out[i] = (char)(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
  }
  out[n] = '\0';
  return 0;
}

/* E.164 with '+', as the WhatsApp and SMS webhooks write numbers: an
 * optional '+', 2..15 digits (the first not 0), separators " -()." dropped. */
static int phone_normalise(const char *id, char *out) {
  size_t digits = 0;
  const char *s = id[0] == '+' ? id + 1 : id;
  out[0] = '+';
  for (; *s; s++) {
    if (*s >= '0' && *s <= '9') {
      if (digits == SB_IDENTITY_PHONE_DIGITS_MAX || (digits == 0 && *s == '0'))
        return SB_EINVAL;
      out[1 + digits++] = *s;
    } else if (!strchr(" -().", *s)) {
      return SB_EINVAL;
    }
  }
  out[1 + digits] = '\0';
  return digits >= 2 ? 0 : SB_EINVAL;
}

int sb_identity_normalise(const char *channel, const char *id, char *out, size_t cap) {
  if (!channel || !id || !out || cap <= SB_IDENTITY_ID_MAX || !id_ok(id))
    return SB_EINVAL;
  Switchboard__V1__Channel c = sb_channel_parse(channel);
  switch (c) {
  case SWITCHBOARD__V1__CHANNEL__CHANNEL_EMAIL:
    return email_normalise(id, out);
  case SWITCHBOARD__V1__CHANNEL__CHANNEL_WHATSAPP:
  case SWITCHBOARD__V1__CHANNEL__CHANNEL_SMS:
  case SWITCHBOARD__V1__CHANNEL__CHANNEL_VOICE:
    return phone_normalise(id, out);
  case SWITCHBOARD__V1__CHANNEL__CHANNEL_UNKNOWN:
    return SB_EINVAL;
  default:
    memcpy(out, id, strlen(id) + 1);
    return 0;
  }
}

/* A string member, or NULL when absent or not a string. */
static const char *member(const cJSON *o, const char *name) {
  const cJSON *m = cJSON_GetObjectItemCaseSensitive(o, name);
  return cJSON_IsString(m) ? m->valuestring : NULL;
}

static int identity_take(const cJSON *item, size_t i, sb_identity_t *out, char *err, size_t errlen) {
  const char *ch = cJSON_IsObject(item) ? member(item, "channel") : NULL;
  const char *id = cJSON_IsObject(item) ? member(item, "id") : NULL;
  if (!ch || !id)
    return fail(err, errlen, SB_EINVAL, "identities[%zu] needs string \"channel\" and \"id\"", i);
  if (strlen(ch) > SB_IDENTITY_CHANNEL_MAX ||
      sb_channel_parse(ch) == SWITCHBOARD__V1__CHANNEL__CHANNEL_UNKNOWN)
    return fail(err, errlen, SB_EINVAL, "identities[%zu]: unknown channel", i);
  if (strlen(id) > SB_IDENTITY_ID_MAX)
    return fail(err, errlen, SB_ETOOBIG, "identities[%zu]: id over %d bytes", i, SB_IDENTITY_ID_MAX);
  if (sb_identity_normalise(ch, id, out->id, sizeof out->id))
    return fail(err, errlen, SB_EINVAL, "identities[%zu]: id is not a valid %s identity", i, ch);
  memcpy(out->channel, ch, strlen(ch) + 1);
  return 0;
}

static int link_take(const cJSON *root, sb_identity_link_t *out, char *err, size_t errlen) {
  const char *tenant = member(root, "tenant"), *customer = member(root, "customer");
  const cJSON *ids = cJSON_GetObjectItemCaseSensitive(root, "identities");
  if (!tenant || !tenant_ok(tenant))
    return fail(err, errlen, SB_EINVAL, "\"tenant\" must match [A-Za-z0-9_-]{1,64}");
  if (!customer || !id_ok(customer))
    return fail(err, errlen, SB_EINVAL, "\"customer\" must be 1..%d bytes without control characters",
                SB_IDENTITY_ID_MAX);
  if (!cJSON_IsArray(ids) || cJSON_GetArraySize(ids) < 1)
    return fail(err, errlen, SB_EINVAL, "\"identities\" must be a non-empty array");
  if (cJSON_GetArraySize(ids) > SB_IDENTITY_MAX)
    return fail(err, errlen, SB_ETOOBIG, "more than %d identities", SB_IDENTITY_MAX);
  memcpy(out->tenant, tenant, strlen(tenant) + 1);
  memcpy(out->customer, customer, strlen(customer) + 1);
  const cJSON *item;
  cJSON_ArrayForEach(item, ids) {
    int rc = identity_take(item, out->n, &out->ids[out->n], err, errlen);
    if (rc)
      return rc;
    out->n++;
  }
  return 0;
}

int sb_identity_parse(const char *body, size_t len, sb_identity_link_t *out, char *err,
                      size_t errlen) {
  if (err && errlen)
    err[0] = '\0';
  if (!body || !out)
    return fail(err, errlen, SB_EINVAL, "no body");
  memset(out, 0, sizeof *out);
  if (len > SB_IDENTITY_BODY_MAX)
    return fail(err, errlen, SB_ETOOBIG, "body over %d bytes", SB_IDENTITY_BODY_MAX);
  if (!sb_utf8_valid(body, len) || memchr(body, '\0', len))
    return fail(err, errlen, SB_EPARSE, "body is not valid UTF-8");
  int depth = json_depth(body, len);
  if (depth < 0)
    return fail(err, errlen, SB_EINVAL, "escaped NUL in a string");
  if (depth > SB_IDENTITY_DEPTH)
    return fail(err, errlen, SB_ETOOBIG, "JSON nested deeper than %d", SB_IDENTITY_DEPTH);
  /* cJSON refuses trailing bytes only when it sees the NUL after them */
  char *text = malloc(len + 1);
  if (!text)
    return fail(err, errlen, SB_ENOMEM, "out of memory");
  memcpy(text, body, len);
  text[len] = '\0';
  cJSON *root = cJSON_ParseWithLengthOpts(text, len + 1, NULL, 1);
  free(text);
  if (!root)
    return fail(err, errlen, SB_EPARSE, "invalid JSON");
  int rc = cJSON_IsObject(root) ? link_take(root, out, err, errlen)
                                : fail(err, errlen, SB_EINVAL, "body must be a JSON object");
  cJSON_Delete(root);
  if (rc)
    memset(out, 0, sizeof *out);
  return rc;
}
