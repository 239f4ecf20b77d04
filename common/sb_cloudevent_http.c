/*
 * sb_cloudevent_http: binary content mode of the CloudEvents HTTP binding;
 * see sb_cloudevent_http.h.
 *
 * Three steps, each refusing with a reason: collect the ce- headers as
 * (attribute name, decoded value) pairs, add traceparent and Content-Type,
 * then hand the pairs and the body to sb_cloudevent_from_attributes, which
 * applies the one table of attribute rules. Decoded strings live in one
 * list of malloc'd copies freed on every path.
 */
#define _POSIX_C_SOURCE 200809L /* strdup */
#include "sb_cloudevent_http.h"
#include "sb_error.h"
#include "sb_utf8.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

enum { STATUS_BAD = 400, STATUS_MEDIA = 415, STATUS_OOM = 500, REASON_MAX = 192 };

#define PREFIX_LEN (sizeof SB_CLOUDEVENT_HTTP_PREFIX - 1)
#define JSON_MEDIA "application/json"
#define CE_MEDIA_PREFIX "application/cloudevents"

/* The attributes gathered so far and where a refusal goes. */
typedef struct {
  char **names, **values; /* n of cap, each malloc'd */
  size_t n, cap;
  size_t max_value; /* bytes of a decoded value */
  char *err;
  size_t errlen;
  int status; /* HTTP status of the refusal */
} map_t;

static void refuse(map_t *m, int status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void refuse(map_t *m, int status, const char *fmt, ...) {
  m->status = status;
  if (m->err == NULL || m->errlen == 0) return;
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(m->err, m->errlen, fmt, ap);
  va_end(ap);
}

static bool is_ws(char c) { return c == ' ' || c == '\t'; }

static const char *skip_ws(const char *s) {
  while (is_ws(*s)) s++;
  return s;
}

static int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

/* ----------------------------------------------------------- one value */

/* RFC 7230 3.2.6: quoted-strings lose their quotes and backslashes. */
static long unquote(const char *v, size_t len, char *out, const char **why) {
  size_t k = 0;
  bool quoted = false;
  for (size_t i = 0; i < len; i++) {
    char c = v[i];
    if (c == '"') {
      quoted = !quoted;
      continue;
    }
    if (quoted && c == '\\') {
      if (++i == len) break; /* a backslash cannot end a quoted string */
      c = v[i];
    }
    out[k++] = c;
  }
  if (quoted) {
    *why = "unterminated quoted string";
    return SB_EPARSE;
  }
  return (long)k;
}

/* One round of percent-decoding of s[0..len), in place. */
static long percent_decode(char *s, size_t len, const char **why) {
  size_t j = 0;
  for (size_t i = 0; i < len; i++) {
    unsigned char c = (unsigned char)s[i];
    if (c == '%') {
      int hi = i + 2 < len ? hex_value(s[i + 1]) : -1;
      int lo = hi >= 0 ? hex_value(s[i + 2]) : -1;
      if (lo < 0) {
        *why = "bad percent-encoding ('%' must be followed by two hex digits)";
        return SB_EPARSE;
      }
      c = (unsigned char)(hi * 16 + lo);
      i += 2;
    }
    if (c == '\0') {
      *why = "a NUL byte is not allowed";
      return SB_EPARSE;
    }
    s[j++] = (char)c;
  }
  s[j] = '\0';
  return (long)j;
}

long sb_cloudevent_http_decode(const char *value, char *out, size_t outlen,
                               const char **why) {
  size_t len = strlen(value);
  while (len > 0 && is_ws(*value)) value++, len--;
  while (len > 0 && is_ws(value[len - 1])) len--;
  if (outlen < len + 1) {
    *why = "value too long";
    return SB_ETOOBIG;
  }
  long k = unquote(value, len, out, why);
  if (k >= 0) k = percent_decode(out, (size_t)k, why);
  if (k >= 0 && !sb_utf8_valid(out, (size_t)k)) {
    *why = "not UTF-8 after percent-decoding";
    return SB_EINVAL;
  }
  return k;
}

/* --------------------------------------------------------- the mapping */

static int map_add(map_t *m, const char *name, const char *value, size_t len) {
  if (m->n == m->cap) {
    size_t cap = m->cap ? m->cap * 2 : 8;
    char **names = realloc(m->names, cap * sizeof *names);
    if (names != NULL) m->names = names;
    char **values = names ? realloc(m->values, cap * sizeof *values) : NULL;
    if (values == NULL) return SB_ENOMEM;
    m->values = values;
    m->cap = cap;
  }
  char *n = strdup(name), *v = strndup(value, len);
  if (n == NULL || v == NULL) {
    free(n);
    free(v);
    return SB_ENOMEM;
  }
  m->names[m->n] = n;
  m->values[m->n++] = v;
  return 0;
}

static void map_clear(map_t *m) {
  for (size_t i = 0; i < m->n; i++) {
    free(m->names[i]);
    free(m->values[i]);
  }
  free(m->names);
  free(m->values);
}

static bool map_has(const map_t *m, const char *name) {
  for (size_t i = 0; i < m->n; i++)
    if (strcmp(m->names[i], name) == 0) return true;
  return false;
}

/* The attribute a "ce-" header names, lowercased into out; false if none. */
static bool attribute_name(const char *header, char out[SB_CLOUDEVENT_HTTP_NAME_MAX + 1]) {
  const char *s = header + PREFIX_LEN;
  size_t i = 0;
  for (; s[i] != '\0'; i++) {
    char c = s[i];
    if (c >= 'A' && c <= 'Z') c = (char)(c - 'A' + 'a');
    if (i == SB_CLOUDEVENT_HTTP_NAME_MAX || !((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')))
      return false;
    out[i] = c;
  }
  out[i] = '\0';
  return i > 0;
}

/* Decodes value and adds it as attribute name; refuses on a bad value. */
static int map_value(map_t *m, const char *name, const char *header, const char *value) {
  size_t cap = strlen(value) + 1;
  char *buf = malloc(cap);
  const char *why = NULL;
  long len = buf ? sb_cloudevent_http_decode(value, buf, cap, &why) : SB_ENOMEM;
  int rc = len < 0 ? (int)len : 0;
  if (rc == 0 && (size_t)len > m->max_value) {
    why = "value too long";
    rc = SB_ETOOBIG;
  }
  if (rc == 0)
    rc = map_add(m, name, buf, (size_t)len);
  if (rc == SB_ETOOBIG)
    refuse(m, STATUS_BAD, "header %s: value exceeds %zu bytes after decoding", header,
           m->max_value);
  else if (rc != 0 && rc != SB_ENOMEM)
    refuse(m, STATUS_BAD, "header %s: %s", header, why);
  free(buf);
  return rc;
}

/* One "ce-" header. */
static int map_ce_header(map_t *m, const sb_http_header_t *h) {
  char name[SB_CLOUDEVENT_HTTP_NAME_MAX + 1], header[sizeof name + PREFIX_LEN];
  if (!attribute_name(h->name, name)) {
    refuse(m, STATUS_BAD, "a ce- header must name an attribute: [a-z0-9]{1,%d} after \"ce-\"",
           SB_CLOUDEVENT_HTTP_NAME_MAX);
    return SB_EINVAL;
  }
  snprintf(header, sizeof header, SB_CLOUDEVENT_HTTP_PREFIX "%s", name);
  if (strcmp(name, "datacontenttype") == 0 || strcmp(name, "data") == 0) {
    bool is_data = strcmp(name, "data") == 0;
    refuse(m, STATUS_BAD, "header %s is not allowed in binary mode: %s", header,
           is_data ? "the body is the data" : "Content-Type is the datacontenttype");
    return SB_EINVAL;
  }
  if (map_has(m, name)) {
    refuse(m, STATUS_BAD, "duplicate header %s", header);
    return SB_EINVAL;
  }
  return map_value(m, name, header, h->value);
}

/* The one header named name, or NULL; -1 in *dup if it repeats. */
static const char *single_header(const sb_http_header_t *h, size_t n, const char *name,
                                 int *dup) {
  const char *v = NULL;
  *dup = 0;
  for (size_t i = 0; i < n; i++) {
    if (strcasecmp(h[i].name, name) != 0) continue;
    if (v != NULL) *dup = -1;
    v = h[i].value;
  }
  return v;
}

/* W3C traceparent stands in for a missing ce-traceparent when it is valid. */
static int map_traceparent(map_t *m, const sb_http_header_t *h, size_t n) {
  int dup;
  const char *v = single_header(h, n, "traceparent", &dup);
  if (map_has(m, "traceparent") || v == NULL || dup) return 0;
  v = skip_ws(v);
  size_t len = strlen(v);
  while (len > 0 && is_ws(v[len - 1])) len--;
  char *copy = strndup(v, len);
  if (copy == NULL) return SB_ENOMEM;
  int rc = sb_cloudevent_traceparent_valid(copy) ? map_add(m, "traceparent", copy, len) : 0;
  free(copy);
  return rc;
}

/* ";" parameters of a media type: any, but a charset must be utf-8. */
static bool params_ok(const char *p) {
  static const char charset[] = "charset";
  while (*(p = skip_ws(p)) == ';') {
    p = skip_ws(p + 1);
    size_t name = strcspn(p, "=;");
    const char *val = p[name] == '=' ? skip_ws(p + name + 1) : p + name;
    size_t vlen = strcspn(val, ";");
    while (vlen > 0 && is_ws(val[vlen - 1])) vlen--;
    if (vlen >= 2 && val[0] == '"' && val[vlen - 1] == '"') val++, vlen -= 2;
    bool is_charset = name == sizeof charset - 1 && strncasecmp(p, charset, name) == 0;
    if (is_charset && !(vlen == 5 && strncasecmp(val, "utf-8", 5) == 0)) return false;
    p = val + strcspn(val, ";");
  }
  return *p == '\0';
}

/* application/json with optional parameters. */
static bool is_json_media(const char *ct) {
  ct = skip_ws(ct);
  size_t n = sizeof JSON_MEDIA - 1;
  return strncasecmp(ct, JSON_MEDIA, n) == 0 && params_ok(ct + n);
}

/* Content-Type is datacontenttype; data must be JSON. */
static int map_content_type(map_t *m, const sb_http_header_t *h, size_t n, size_t body_len) {
  int dup;
  const char *ct = single_header(h, n, "Content-Type", &dup);
  if (dup) {
    refuse(m, STATUS_BAD, "duplicate header Content-Type");
    return SB_EINVAL;
  }
  if (ct == NULL && body_len == 0) return 0;
  if (ct == NULL || !is_json_media(ct)) {
    refuse(m, STATUS_MEDIA,
           "binary mode takes data as " JSON_MEDIA " (Content-Type %s); send JSON "
           "data, or a structured event as application/cloudevents+json",
           ct ? "is another media type" : "is missing");
    return SB_EINVAL;
  }
  ct = skip_ws(ct); /* an HTTP header, not a ce- one: taken as sent */
  size_t len = strlen(ct);
  while (len > 0 && is_ws(ct[len - 1])) len--;
  return map_add(m, "datacontenttype", ct, len);
}

static int map_headers(map_t *m, const sb_http_header_t *h, size_t n, size_t body_len) {
  int rc = 0;
  for (size_t i = 0; rc == 0 && i < n; i++)
    if (strncasecmp(h[i].name, SB_CLOUDEVENT_HTTP_PREFIX, PREFIX_LEN) == 0)
      rc = map_ce_header(m, &h[i]);
  if (rc == 0) rc = map_traceparent(m, h, n);
  if (rc == 0) rc = map_content_type(m, h, n, body_len);
  return rc;
}

int sb_cloudevent_http_is_binary(const sb_http_header_t *headers, size_t n) {
  for (size_t i = 0; i < n; i++)
    if (strcasecmp(headers[i].name, "Content-Type") == 0 &&
        strncasecmp(skip_ws(headers[i].value), CE_MEDIA_PREFIX, sizeof CE_MEDIA_PREFIX - 1) == 0)
      return 0;
  for (size_t i = 0; i < n; i++)
    if (strncasecmp(headers[i].name, SB_CLOUDEVENT_HTTP_PREFIX, PREFIX_LEN) == 0)
      return 1;
  return 0;
}

int sb_cloudevent_http_binary(const sb_http_header_t *headers, size_t n,
                              const char *body, size_t body_len,
                              const sb_cloudevent_limits_t *limits,
                              sb_cloudevent_t **events, int *status, char *err,
                              size_t errlen) {
  sb_cloudevent_limits_t dflt;
  if (limits == NULL) {
    sb_cloudevent_limits_default(&dflt);
    limits = &dflt;
  }
  map_t m = {.max_value = limits->max_string, .err = err, .errlen = errlen};
  *events = NULL;
  if (err != NULL && errlen > 0) err[0] = '\0';
  int rc = map_headers(&m, headers, n, body_len);
  if (rc == 0) {
    char why[REASON_MAX];
    rc = sb_cloudevent_from_attributes((const char *const *)m.names,
                                       (const char *const *)m.values, m.n,
                                       body_len ? body : NULL, body_len, limits, events,
                                       why, sizeof why);
    if (rc != 0 && rc != SB_ENOMEM)
      refuse(&m, STATUS_BAD, "binary mode: %s (attributes travel as ce-<name> headers)", why);
  }
  if (rc == SB_ENOMEM) refuse(&m, STATUS_OOM, "out of memory");
  map_clear(&m);
  *status = rc == 0 ? 0 : m.status;
  return rc;
}
