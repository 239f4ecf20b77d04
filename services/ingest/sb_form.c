/*
 * sb_form: urlencoded and multipart/form-data bodies into an ordered list of
 * (name, value) pairs. See sb_form.h for the contract.
 *
 * Both parsers are single forward passes: urlencoded walks '&'-separated
 * pairs and decodes each into a fresh buffer no longer than its raw bytes;
 * multipart finds each "CRLF--boundary" with memmem (linear) and never looks
 * back. A field is appended only when complete and within the limits; on
 * any failure everything appended so far is freed, so the caller sees
 * either a whole form or an empty one.
 */
#define _GNU_SOURCE /* memmem */
#include "sb_form.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h> /* strncasecmp */

#include "sb_error.h"

enum {
  FIELDS_INITIAL = 8, /* first allocation of the field array */
  CRLF_LEN = 2,
  DASHES_LEN = 2, /* the "--" before a boundary */
  DELIM_MAX = CRLF_LEN + DASHES_LEN + SB_FORM_BOUNDARY_MAX
};

static const char MULTIPART_TYPE[] = "multipart/form-data";
static const char DISPOSITION[] = "content-disposition";
static const char BOUNDARY_CHARS[] = /* RFC 2046 bchars */
    "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
    "'()+_,-./:=? ";

static void reason_set(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void reason_set(char *err, size_t errlen, const char *fmt, ...) {
  if (err == NULL || errlen == 0) return;
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(err, errlen, fmt, ap);
  va_end(ap);
}

/* ------------------------------------------------------------ the list */

void sb_form_limits_default(sb_form_limits_t *l) {
  l->max_fields = SB_FORM_MAX_FIELDS_DEFAULT;
  l->max_name = SB_FORM_MAX_NAME_DEFAULT;
  l->max_value = SB_FORM_MAX_VALUE_DEFAULT;
}

void sb_form_free(sb_form_t *f) {
  if (f == NULL) return;
  for (size_t i = 0; i < f->n; i++) {
    free(f->fields[i].name);
    free(f->fields[i].value);
  }
  free(f->fields);
  f->fields = NULL;
  f->n = 0;
}

const sb_form_field_t *sb_form_find(const sb_form_t *f, const char *name) {
  if (f == NULL || name == NULL) return NULL;
  for (size_t i = 0; i < f->n; i++)
    if (strcmp(f->fields[i].name, name) == 0) return &f->fields[i];
  return NULL;
}

const char *sb_form_get(const sb_form_t *f, const char *name) {
  const sb_form_field_t *field = sb_form_find(f, name);
  return field != NULL ? field->value : NULL;
}

/* A parse in progress: the form being filled, its capacity and limits. */
typedef struct {
  sb_form_t *form;
  size_t cap;
  const sb_form_limits_t *limits;
  char *err;
  size_t errlen;
} builder_t;

/* Appends (name, value), taking ownership of both (freed on failure). */
static int builder_take(builder_t *b, char *name, char *value,
                        size_t value_len) {
  sb_form_t *f = b->form;
  if (f->n == b->cap) {
    size_t cap = b->cap ? b->cap * 2 : FIELDS_INITIAL;
    sb_form_field_t *grown = realloc(f->fields, cap * sizeof *grown);
    if (grown == NULL) {
      free(name);
      free(value);
      return SB_ENOMEM;
    }
    f->fields = grown;
    b->cap = cap;
  }
  f->fields[f->n++] = (sb_form_field_t){name, value, value_len};
  return 0;
}

/* The limit on the number of fields (or parts), checked before each one. */
static int builder_room(builder_t *b, size_t seen) {
  if (seen < b->limits->max_fields) return 0;
  reason_set(b->err, b->errlen, "more than %zu fields", b->limits->max_fields);
  return SB_ETOOBIG;
}

static int builder_check_sizes(builder_t *b, size_t index, size_t name_len,
                               size_t value_len) {
  if (name_len > b->limits->max_name) {
    reason_set(b->err, b->errlen, "field %zu: name exceeds %zu bytes", index,
               b->limits->max_name);
    return SB_ETOOBIG;
  }
  if (value_len > b->limits->max_value) {
    reason_set(b->err, b->errlen, "field %zu: value exceeds %zu bytes", index,
               b->limits->max_value);
    return SB_ETOOBIG;
  }
  return 0;
}

/* Shared prologue of both parsers. */
static int builder_start(builder_t *b, sb_form_t *out,
                         const sb_form_limits_t *limits, sb_form_limits_t *dflt,
                         char *err, size_t errlen) {
  if (limits == NULL) {
    sb_form_limits_default(dflt);
    limits = dflt;
  }
  *b = (builder_t){out, 0, limits, err, errlen};
  reason_set(err, errlen, "%s", "");
  if (out == NULL) return SB_EINVAL;
  out->fields = NULL;
  out->n = 0;
  return 0;
}

/* Shared epilogue: on failure empties the form and ensures a reason. */
static int builder_finish(builder_t *b, int rc) {
  if (rc == 0) return 0;
  sb_form_free(b->form);
  if (b->err != NULL && b->errlen > 0 && b->err[0] == '\0')
    reason_set(b->err, b->errlen, "%s", sb_strerror(rc));
  return rc;
}

/* ------------------------------------------------------------ urlencoded */

static int hex_value(unsigned char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

/*
 * Decodes s[0..len) ('+' and %XX) into a malloc'd, NUL-terminated *out.
 * On a bad escape returns SB_EPARSE with *bad = its offset within s.
 */
static int url_decode(const char *s, size_t len, char **out, size_t *out_len,
                      size_t *bad) {
  char *d = malloc(len + 1);
  size_t n = 0;
  if (d == NULL) return SB_ENOMEM;
  for (size_t i = 0; i < len; i++) {
    unsigned char c = (unsigned char)s[i];
    if (c == '%') {
      int hi = i + 2 < len ? hex_value((unsigned char)s[i + 1]) : -1;
      int lo = hi >= 0 ? hex_value((unsigned char)s[i + 2]) : -1;
      if (lo < 0) {
        free(d);
        *bad = i;
        return SB_EPARSE;
      }
      c = (unsigned char)(hi * 16 + lo);
      i += 2;
    } else if (c == '+') {
      c = ' ';
    }
    d[n++] = (char)c;
  }
  d[n] = '\0';
  *out = d;
  *out_len = n;
  return 0;
}

/* One "name=value" pair at body[start..end), the index-th field. */
static int url_pair(builder_t *b, const char *body, size_t start, size_t end,
                    size_t index) {
  const char *pair = body + start;
  size_t len = end - start;
  const char *eq = memchr(pair, '=', len);
  size_t name_raw = eq != NULL ? (size_t)(eq - pair) : len;
  size_t value_at = eq != NULL ? name_raw + 1 : len;
  char *name = NULL, *value = NULL;
  size_t name_len = 0, value_len = 0, bad = 0;
  int rc = url_decode(pair, name_raw, &name, &name_len, &bad);
  if (rc == 0) {
    rc = url_decode(pair + value_at, len - value_at, &value, &value_len, &bad);
    if (rc == SB_EPARSE) bad += value_at;
  }
  if (rc == SB_EPARSE)
    reason_set(b->err, b->errlen,
               "field %zu: invalid percent-escape at byte %zu", index,
               start + bad);
  if (rc == 0 && strlen(name) != name_len) {
    reason_set(b->err, b->errlen, "field %zu: NUL byte in name", index);
    rc = SB_EPARSE;
  }
  if (rc == 0) rc = builder_check_sizes(b, index, name_len, value_len);
  if (rc != 0) {
    free(name);
    free(value);
    return rc;
  }
  return builder_take(b, name, value, value_len);
}

static int url_pairs(builder_t *b, const char *body, size_t len) {
  size_t start = 0;
  while (start <= len) {
    const char *amp = memchr(body + start, '&', len - start);
    size_t end = amp != NULL ? (size_t)(amp - body) : len;
    if (end > start) {
      int rc = builder_room(b, b->form->n);
      if (rc == 0) rc = url_pair(b, body, start, end, b->form->n);
      if (rc != 0) return rc;
    }
    start = end + 1;
  }
  return 0;
}

int sb_form_urlencoded_parse(const char *body, size_t len,
                             const sb_form_limits_t *limits, sb_form_t *out,
                             char *err, size_t errlen) {
  builder_t b;
  sb_form_limits_t dflt;
  int rc = builder_start(&b, out, limits, &dflt, err, errlen);
  if (rc != 0) return rc;
  if (body == NULL && len > 0) rc = SB_EINVAL;
  if (rc == 0 && len > 0) rc = url_pairs(&b, body, len);
  return builder_finish(&b, rc);
}

/* ------------------------------------------------------------- multipart */

/* A span of bytes: a header value, a parameter, a part. */
typedef struct {
  const char *p;
  size_t len;
} span_t;

static bool is_ows(char c) { return c == ' ' || c == '\t'; }

static span_t span_trim(span_t s) {
  while (s.len > 0 && is_ows(s.p[0])) s.p++, s.len--;
  while (s.len > 0 && is_ows(s.p[s.len - 1])) s.len--;
  return s;
}

/* Bytes at the start of s that are not in set (a bounded strcspn: spans
 * inside a body are not NUL-terminated). */
static size_t span_cspn(span_t s, const char *set) {
  size_t n = 0;
  while (n < s.len && s.p[n] != '\0' && strchr(set, s.p[n]) == NULL) n++;
  return n;
}

static bool span_ieq(span_t s, const char *word) {
  return strlen(word) == s.len && strncasecmp(s.p, word, s.len) == 0;
}

/* One "; name=value" parameter of a header value; value is raw (quotes and
 * backslashes still in place when quoted). */
typedef struct {
  span_t name, value;
  bool quoted;
} param_t;

/* A quoted-string at s (s->p[0] == '"'): the span between its quotes;
 * advances s past the closing quote. */
static bool quoted_span(span_t *s, span_t *out) {
  size_t i = 1;
  while (i < s->len && s->p[i] != '"') i += s->p[i] == '\\' ? 2 : 1;
  if (i >= s->len) return false; /* unterminated */
  *out = (span_t){s->p + 1, i - 1};
  s->p += i + 1, s->len -= i + 1;
  return true;
}

/* Next parameter of *rest ("; a=b; c=\"d\""). 1 = got one, 0 = no more,
 * -1 = malformed. */
static int param_next(span_t *rest, param_t *out) {
  *rest = span_trim(*rest);
  if (rest->len == 0) return 0;
  if (rest->p[0] != ';') return -1;
  rest->p++, rest->len--;
  *rest = span_trim(*rest);
  const char *eq = memchr(rest->p, '=', rest->len);
  if (eq == NULL || eq == rest->p) return -1;
  out->name = span_trim((span_t){rest->p, (size_t)(eq - rest->p)});
  rest->len -= (size_t)(eq + 1 - rest->p), rest->p = eq + 1;
  *rest = span_trim(*rest);
  out->quoted = rest->len > 0 && rest->p[0] == '"';
  if (out->quoted) return quoted_span(rest, &out->value) ? 1 : -1;
  size_t n = span_cspn(*rest, "; \t\"");
  if (n == 0) return -1;
  out->value = (span_t){rest->p, n};
  rest->p += n, rest->len -= n;
  return 1;
}

/* Copies the value of a parameter without its quoting into out, which has
 * room for prm->value.len + 1 bytes (unquoting never lengthens it). */
static void param_value_copy(const param_t *prm, char *out) {
  size_t n = 0;
  for (size_t i = 0; i < prm->value.len; i++) {
    if (prm->quoted && prm->value.p[i] == '\\' && i + 1 < prm->value.len) i++;
    out[n++] = prm->value.p[i];
  }
  out[n] = '\0';
}

/* The value of a parameter without its quoting, malloc'd, or NULL. */
static char *param_value_dup(const param_t *prm) {
  char *d = malloc(prm->value.len + 1);
  if (d != NULL) param_value_copy(prm, d);
  return d;
}

/* Checks an RFC 2046 boundary: 1..70 bchars, not ending in a space. */
static bool boundary_valid(const char *s) {
  size_t n = strlen(s);
  return n >= 1 && n <= SB_FORM_BOUNDARY_MAX && s[n - 1] != ' ' &&
         strspn(s, BOUNDARY_CHARS) == n;
}

/* Media type of content_type, then its "boundary" parameter into out. */
static int ct_boundary(const char *content_type, char *out, builder_t *b) {
  span_t rest = {content_type, strlen(content_type)};
  size_t type_len = span_cspn(rest, ";");
  param_t prm;
  int got, found = 0;
  if (!span_ieq(span_trim((span_t){content_type, type_len}), MULTIPART_TYPE)) {
    reason_set(b->err, b->errlen, "content type is not %s", MULTIPART_TYPE);
    return SB_EINVAL;
  }
  rest.p += type_len, rest.len -= type_len;
  out[0] = '\0';
  while ((got = param_next(&rest, &prm)) == 1) {
    if (!span_ieq(prm.name, "boundary")) continue;
    if (found++ > 0 || prm.value.len > SB_FORM_BOUNDARY_MAX) break;
    param_value_copy(&prm, out);
  }
  if (got == 0 && found == 1 && boundary_valid(out)) return 0;
  reason_set(b->err, b->errlen, "content type has no valid boundary");
  return SB_EINVAL;
}

/* What a part's headers say about it. */
typedef struct {
  char *name; /* malloc'd, or NULL */
  bool is_file;
  bool has_disposition;
} part_info_t;

/* "form-data; name=...; filename=..." */
static int disposition_parse(span_t value, part_info_t *info) {
  size_t type_len = span_cspn(value, ";");
  if (!span_ieq(span_trim((span_t){value.p, type_len}), "form-data"))
    return SB_EPARSE;
  span_t rest = {value.p + type_len, value.len - type_len};
  param_t prm;
  int got;
  while ((got = param_next(&rest, &prm)) == 1) {
    if (span_ieq(prm.name, "filename") || span_ieq(prm.name, "filename*"))
      info->is_file = true;
    if (!span_ieq(prm.name, "name")) continue;
    if (info->name != NULL) return SB_EPARSE; /* two names */
    if (memchr(prm.value.p, '\0', prm.value.len) != NULL) return SB_EPARSE;
    info->name = param_value_dup(&prm);
    if (info->name == NULL) return SB_ENOMEM;
  }
  return got == 0 ? 0 : SB_EPARSE;
}

/* One header line of a part; only Content-Disposition matters. */
static int part_header_line(span_t line, part_info_t *info) {
  if (line.len == 0 || is_ows(line.p[0])) return 0; /* folded: ignored */
  const char *colon = memchr(line.p, ':', line.len);
  if (colon == NULL) return SB_EPARSE;
  span_t name = span_trim((span_t){line.p, (size_t)(colon - line.p)});
  if (!span_ieq(name, DISPOSITION)) return 0;
  if (info->has_disposition) return SB_EPARSE;
  info->has_disposition = true;
  return disposition_parse(
      (span_t){colon + 1, line.len - (size_t)(colon + 1 - line.p)}, info);
}

static int part_headers(span_t block, part_info_t *info) {
  while (block.len > 0) {
    const char *eol = memmem(block.p, block.len, "\r\n", CRLF_LEN);
    size_t n = eol != NULL ? (size_t)(eol - block.p) : block.len;
    int rc = part_header_line((span_t){block.p, n}, info);
    if (rc != 0) return rc;
    n += eol != NULL ? CRLF_LEN : 0;
    block.p += n, block.len -= n;
  }
  return info->has_disposition && info->name != NULL ? 0 : SB_EPARSE;
}

/* Splits a part into its header block and its content. */
static int part_split(builder_t *b, span_t part, size_t index, span_t *headers,
                      span_t *content) {
  if (part.len >= CRLF_LEN && memcmp(part.p, "\r\n", CRLF_LEN) == 0) {
    *headers = (span_t){part.p, 0};
    *content = (span_t){part.p + CRLF_LEN, part.len - CRLF_LEN};
    return 0;
  }
  size_t scan = part.len < SB_FORM_PART_HEADER_MAX + 2 * CRLF_LEN
                    ? part.len
                    : SB_FORM_PART_HEADER_MAX + 2 * CRLF_LEN;
  const char *end = memmem(part.p, scan, "\r\n\r\n", 2 * CRLF_LEN);
  if (end == NULL || (size_t)(end - part.p) > SB_FORM_PART_HEADER_MAX) {
    bool big = scan < part.len || end != NULL;
    reason_set(b->err, b->errlen,
               big ? "part %zu: headers exceed %u bytes"
                   : "part %zu: no blank line after headers",
               index, SB_FORM_PART_HEADER_MAX);
    return big ? SB_ETOOBIG : SB_EPARSE;
  }
  *headers = (span_t){part.p, (size_t)(end - part.p)};
  const char *body = end + 2 * CRLF_LEN;
  *content = (span_t){body, part.len - (size_t)(body - part.p)};
  return 0;
}

/* Copies content into a field named info->name (taken). */
static int part_take(builder_t *b, part_info_t *info, span_t content,
                     size_t index) {
  char *name = info->name, *value = NULL;
  info->name = NULL;
  int rc = builder_check_sizes(b, index, strlen(name), content.len);
  if (rc == 0 && (value = malloc(content.len + 1)) == NULL) rc = SB_ENOMEM;
  if (rc != 0) {
    free(name);
    return rc;
  }
  memcpy(value, content.p, content.len);
  value[content.len] = '\0';
  return builder_take(b, name, value, content.len);
}

static int part_parse(builder_t *b, span_t part, size_t index) {
  span_t headers, content;
  part_info_t info = {NULL, false, false};
  int rc = part_split(b, part, index, &headers, &content);
  if (rc != 0) return rc;
  rc = part_headers(headers, &info);
  if (rc == SB_EPARSE)
    reason_set(b->err, b->errlen,
               "part %zu: needs one Content-Disposition: form-data with a name",
               index);
  if (rc == 0 && !info.is_file) return part_take(b, &info, content, index);
  free(info.name);
  return rc;
}

/* A multipart walk: the body and the delimiter "CRLF--boundary". */
typedef struct {
  const char *body;
  size_t len;
  char delim[DELIM_MAX + 1];
  size_t dlen;
} walk_t;

/* Offset just past the first delimiter (which may open the body without
 * its CRLF), or len + 1 when there is none. */
static size_t walk_first(const walk_t *w) {
  size_t bare = w->dlen - CRLF_LEN;
  if (w->len == 0) return 1; /* no delimiter in nothing */
  if (w->len >= bare && memcmp(w->body, w->delim + CRLF_LEN, bare) == 0)
    return bare;
  const char *d = memmem(w->body, w->len, w->delim, w->dlen);
  return d != NULL ? (size_t)(d - w->body) + w->dlen : w->len + 1;
}

/* After a delimiter at *pos: "--" ends the body (returns 1); else padding
 * and CRLF lead to a part (returns 0, *pos at the part); -1 malformed. */
static int walk_after_delim(const walk_t *w, size_t *pos) {
  size_t p = *pos;
  if (w->len - p >= DASHES_LEN && memcmp(w->body + p, "--", DASHES_LEN) == 0)
    return 1;
  while (p < w->len && is_ows(w->body[p])) p++;
  if (w->len - p < CRLF_LEN || memcmp(w->body + p, "\r\n", CRLF_LEN) != 0)
    return -1;
  *pos = p + CRLF_LEN;
  return 0;
}

static int walk_parts(builder_t *b, walk_t *w) {
  size_t pos = walk_first(w);
  if (pos > w->len) {
    reason_set(b->err, b->errlen, "no multipart boundary in body");
    return SB_EPARSE;
  }
  for (size_t index = 0;; index++) {
    int after = walk_after_delim(w, &pos);
    if (after == 1) return 0;
    if (after < 0) {
      reason_set(b->err, b->errlen, "malformed delimiter line at byte %zu",
                 pos);
      return SB_EPARSE;
    }
    const char *next = memmem(w->body + pos, w->len - pos, w->delim, w->dlen);
    if (next == NULL) {
      reason_set(b->err, b->errlen, "truncated multipart body at byte %zu",
                 pos);
      return SB_EPARSE;
    }
    int rc = builder_room(b, index);
    if (rc == 0)
      rc = part_parse(
          b, (span_t){w->body + pos, (size_t)(next - w->body) - pos}, index);
    if (rc != 0) return rc;
    pos = (size_t)(next - w->body) + w->dlen;
  }
}

int sb_form_multipart_parse(const char *content_type, const char *body,
                            size_t len, const sb_form_limits_t *limits,
                            sb_form_t *out, char *err, size_t errlen) {
  builder_t b;
  sb_form_limits_t dflt;
  walk_t w = {body, len, "", 0};
  char boundary[SB_FORM_BOUNDARY_MAX + 1];
  int rc = builder_start(&b, out, limits, &dflt, err, errlen);
  if (rc != 0) return rc;
  if (content_type == NULL || (body == NULL && len > 0)) rc = SB_EINVAL;
  if (rc == 0) rc = ct_boundary(content_type, boundary, &b);
  if (rc == 0) {
    w.dlen = (size_t)snprintf(w.delim, sizeof w.delim, "\r\n--%s", boundary);
    rc = walk_parts(&b, &w);
  }
  return builder_finish(&b, rc);
}
