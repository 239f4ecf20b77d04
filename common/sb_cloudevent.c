/*
 * sb_cloudevent: CloudEvents 1.0 structured JSON (single or batch) and the
 * switchboard payloads in their "data".
 *
 * Two layers:
 *   1. json_scan: one pass over the raw bytes, no recursion, no allocation.
 *      It enforces strict UTF-8 (RFC 3629: no overlongs, no surrogates,
 *      nothing above U+10FFFF), the lexical rules of RFC 8259 that cJSON is
 *      lenient about (raw control characters in strings, whitespace other than
 *      SP/HT/LF/CR, number syntax such as "+1" or "01", literals), rejects an
 *      escaped NUL (C strings cannot carry it), and counts [ and { outside
 *      strings against max_depth. Only input that passes reaches cJSON, so
 *      cJSON's recursive descent (and cJSON_Delete/Print) is bounded by
 *      max_depth frames.
 *   2. Validation tables: each known attribute or field is a row (name,
 *      offset into the output struct, flags, limit, checker). Values are
 *      copied out; the cJSON tree never leaves this file.
 *
 * Reasons name attributes and limits but never quote values: they are sent
 * back to clients and may be logged, and values may carry PII.
 */
#define _POSIX_C_SOURCE 200809L /* strdup */
#include "sb_cloudevent.h"
#include "sb_utf8.h"

#include <cjson/cJSON.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sb_envelope.h" /* sb_channel_parse: the channel names */
#include "sb_error.h"

enum {
  REASON_MAX = 192,      /* bytes of one inner reason before "event N: " */
  KNOWN_NAMES_MAX = 16,  /* attribute names checked for duplicates */
  TRACEPARENT_LEN = 55,  /* "00-" 32 "-" 16 "-" 2 */
  TRACE_ID_OFF = 3, TRACE_ID_LEN = 32,
  PARENT_ID_OFF = 36, PARENT_ID_LEN = 16,
  FLAGS_OFF = 53, FLAGS_LEN = 2,
  RFC3339_MIN_LEN = 20,  /* 2026-01-02T03:04:05Z */
  MS_DIGITS = 3
};

/* Largest integer a double holds exactly: the JSON integers we accept. */
#define JSON_INT_MAX 9007199254740991.0
#define MS_PER_SECOND 1000
#define SECONDS_PER_DAY 86400

/* ---------------------------------------------------------------- reasons */

static void reason_set(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void reason_set(char *err, size_t errlen, const char *fmt, ...) {
  if (err == NULL || errlen == 0) return;
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(err, errlen, fmt, ap);
  va_end(ap);
}

/* ---------------------------------------------------------- the byte scan */

typedef enum {
  SCAN_OK = 0,
  SCAN_SYNTAX,      /* not strict JSON */
  SCAN_UTF8,        /* not well-formed UTF-8 */
  SCAN_DEPTH,       /* nested deeper than max_depth */
  SCAN_NUL_ESCAPE,  /* \u0000 */
  SCAN_EMPTY        /* nothing but whitespace */
} scan_status_t;

typedef struct {
  const unsigned char *p;
  size_t len;
  size_t pos;     /* next byte; on failure, the offending byte */
  int depth;
  int max_depth;
  bool saw_token;
} json_scan_t;

static bool is_hex(unsigned char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') ||
         (c >= 'A' && c <= 'F');
}

static bool is_digit(unsigned char c) { return c >= '0' && c <= '9'; }

/* Records the offending byte of a syntax error. */
static scan_status_t scan_fail(json_scan_t *s, size_t at) {
  s->pos = at;
  return SCAN_SYNTAX;
}

static scan_status_t scan_escape(json_scan_t *s) {
  size_t at = s->pos + 1; /* the byte after the backslash */
  if (at >= s->len) return scan_fail(s, at);
  if (strchr("\"\\/bfnrt", s->p[at]) != NULL && s->p[at] != '\0') {
    s->pos = at + 1;
    return SCAN_OK;
  }
  if (s->p[at] != 'u') return scan_fail(s, at);
  bool all_zero = true;
  for (size_t i = 1; i <= 4; i++) {
    if (at + i >= s->len || !is_hex(s->p[at + i]))
      return scan_fail(s, at + i);
    all_zero = all_zero && s->p[at + i] == '0';
  }
  if (all_zero) return SCAN_NUL_ESCAPE; /* pos stays on the backslash */
  s->pos = at + 5;
  return SCAN_OK;
}

static scan_status_t scan_string(json_scan_t *s) {
  s->pos++; /* opening quote */
  while (s->pos < s->len) {
    unsigned char c = s->p[s->pos];
    if (c == '"') {
      s->pos++;
      return SCAN_OK;
    }
    scan_status_t st = SCAN_OK;
    if (c == '\\') {
      st = scan_escape(s);
    } else if (c < 0x20) {
      st = SCAN_SYNTAX;
    } else {
      size_t n = sb_utf8_seq(s->p + s->pos, s->len - s->pos);
      if (n == 0) st = SCAN_UTF8;
      s->pos += n;
    }
    if (st != SCAN_OK) return st;
  }
  return SCAN_SYNTAX; /* unterminated */
}

static size_t skip_digits(const json_scan_t *s, size_t i) {
  while (i < s->len && is_digit(s->p[i])) i++;
  return i;
}

/* -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)? not followed by [0-9+-.eE] */
static scan_status_t scan_number(json_scan_t *s) {
  size_t i = s->pos;
  if (s->p[i] == '-') i++;
  if (i >= s->len || !is_digit(s->p[i])) return scan_fail(s, i);
  i = s->p[i] == '0' ? i + 1 : skip_digits(s, i);
  if (i < s->len && s->p[i] == '.') {
    if (++i >= s->len || !is_digit(s->p[i])) return scan_fail(s, i);
    i = skip_digits(s, i);
  }
  if (i < s->len && (s->p[i] == 'e' || s->p[i] == 'E')) {
    i++;
    if (i < s->len && (s->p[i] == '+' || s->p[i] == '-')) i++;
    if (i >= s->len || !is_digit(s->p[i])) return scan_fail(s, i);
    i = skip_digits(s, i);
  }
  s->pos = i;
  if (i < s->len && strchr("0123456789+-.eE", s->p[i]) && s->p[i] != '\0')
    return SCAN_SYNTAX;
  return SCAN_OK;
}

static scan_status_t scan_literal(json_scan_t *s) {
  static const char *const literals[] = {"true", "false", "null"};
  for (size_t k = 0; k < sizeof literals / sizeof literals[0]; k++) {
    size_t n = strlen(literals[k]);
    if (s->len - s->pos >= n && memcmp(s->p + s->pos, literals[k], n) == 0) {
      s->pos += n;
      return SCAN_OK;
    }
  }
  return SCAN_SYNTAX;
}

static scan_status_t scan_open(json_scan_t *s) {
  if (++s->depth > s->max_depth) return SCAN_DEPTH;
  s->pos++;
  return SCAN_OK;
}

static scan_status_t scan_close(json_scan_t *s) {
  if (s->depth == 0) return SCAN_SYNTAX;
  s->depth--;
  s->pos++;
  return SCAN_OK;
}

/* One token (or one whitespace/punctuation byte) at s->pos. */
static scan_status_t scan_token(json_scan_t *s) {
  unsigned char c = s->p[s->pos];
  if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
    s->pos++;
    return SCAN_OK;
  }
  s->saw_token = true;
  if (c == '{' || c == '[') return scan_open(s);
  if (c == '}' || c == ']') return scan_close(s);
  if (c == ',' || c == ':') {
    s->pos++;
    return SCAN_OK;
  }
  if (c == '"') return scan_string(s);
  if (c == '-' || is_digit(c)) return scan_number(s);
  if (c == 't' || c == 'f' || c == 'n') return scan_literal(s);
  if (c >= 0x80 && sb_utf8_seq(s->p + s->pos, s->len - s->pos) == 0)
    return SCAN_UTF8;
  return SCAN_SYNTAX;
}

static bool has_bom(const unsigned char *p, size_t len) {
  return len >= 3 && p[0] == 0xEF && p[1] == 0xBB && p[2] == 0xBF;
}

static scan_status_t json_scan(json_scan_t *s) {
  if (has_bom(s->p, s->len)) s->pos = 3;
  while (s->pos < s->len) {
    scan_status_t st = scan_token(s);
    if (st != SCAN_OK) return st;
  }
  return s->saw_token ? SCAN_OK : SCAN_EMPTY;
}

static int scan_report(scan_status_t st, const json_scan_t *s, char *err,
                       size_t errlen) {
  switch (st) {
  case SCAN_UTF8:
    reason_set(err, errlen, "invalid UTF-8 at byte %zu", s->pos);
    return SB_EPARSE;
  case SCAN_DEPTH:
    reason_set(err, errlen, "nesting deeper than %d levels at byte %zu",
               s->max_depth, s->pos);
    return SB_ETOOBIG;
  case SCAN_NUL_ESCAPE:
    reason_set(err, errlen, "escaped NUL (\\u0000) at byte %zu is not supported",
               s->pos);
    return SB_EPARSE;
  case SCAN_EMPTY:
    reason_set(err, errlen, "empty body");
    return SB_EPARSE;
  default:
    reason_set(err, errlen, "invalid JSON at byte %zu", s->pos);
    return SB_EPARSE;
  }
}

/*
 * Scans text[0..len) and, if it passes, parses it with cJSON. On success
 * *root owns the tree (cJSON_Delete it). Errors follow the header contract.
 */
static int json_parse_checked(const char *text, size_t len, int max_depth,
                              cJSON **root, char *err, size_t errlen) {
  json_scan_t s = {(const unsigned char *)text, len, 0, 0, max_depth, false};
  scan_status_t st = json_scan(&s);
  *root = NULL;
  if (st != SCAN_OK) return scan_report(st, &s, err, errlen);
  if (len == SIZE_MAX) return SB_ETOOBIG;
  /* The scan rejected every NUL byte, so a terminated copy is exact. */
  char *copy = malloc(len + 1);
  if (copy == NULL) return SB_ENOMEM;
  memcpy(copy, text, len);
  copy[len] = '\0';
  const char *end = NULL;
  *root = cJSON_ParseWithOpts(copy, &end, 1);
  size_t at = end != NULL ? (size_t)(end - copy) : 0;
  free(copy);
  if (*root != NULL) return 0;
  reason_set(err, errlen, "invalid JSON at byte %zu", at);
  return SB_EPARSE;
}

/* ------------------------------------------------------- value checkers */


static bool is_tenant_char(unsigned char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || is_digit(c) ||
         c == '_' || c == '-';
}

static bool is_agent_char(unsigned char c) {
  return is_tenant_char(c) || c == '.' || c == '@';
}

static bool all_chars(const char *s, size_t max, bool (*pred)(unsigned char)) {
  size_t n = 0;
  for (; s[n] != '\0'; n++)
    if (n >= max || !pred((unsigned char)s[n])) return false;
  return n > 0;
}

static bool check_specversion(const char *s) {
  return strcmp(s, SB_CLOUDEVENT_SPECVERSION) == 0;
}

static bool check_tenant(const char *s) {
  return all_chars(s, SB_CLOUDEVENT_TENANT_MAX, is_tenant_char);
}

static bool check_agent(const char *s) {
  return all_chars(s, SB_AGENT_ID_MAX, is_agent_char);
}

static bool is_lower_hex(unsigned char c) {
  return is_digit(c) || (c >= 'a' && c <= 'f');
}

/* n lowercase hex digits at s, not all '0'. */
static bool hex_field(const char *s, size_t n, bool allow_zero) {
  bool nonzero = false;
  for (size_t i = 0; i < n; i++) {
    if (!is_lower_hex((unsigned char)s[i])) return false;
    nonzero = nonzero || s[i] != '0';
  }
  return nonzero || allow_zero;
}

/* W3C Trace Context, version 00. */
static bool check_traceparent(const char *s) {
  return strlen(s) == TRACEPARENT_LEN && s[0] == '0' && s[1] == '0' &&
         s[2] == '-' && s[TRACE_ID_OFF + TRACE_ID_LEN] == '-' &&
         s[PARENT_ID_OFF + PARENT_ID_LEN] == '-' &&
         hex_field(s + TRACE_ID_OFF, TRACE_ID_LEN, false) &&
         hex_field(s + PARENT_ID_OFF, PARENT_ID_LEN, false) &&
         hex_field(s + FLAGS_OFF, FLAGS_LEN, true);
}

/* One list of channel names: the proto enum's, in sb_envelope. */
static bool check_channel(const char *s) {
  return sb_channel_parse(s) != SWITCHBOARD__V1__CHANNEL__CHANNEL_UNKNOWN;
}

/* -------------------------------------------------------------- RFC 3339 */

/* n decimal digits at s into *v. */
static bool read_digits(const char *s, int n, int *v) {
  *v = 0;
  for (int i = 0; i < n; i++) {
    if (!is_digit((unsigned char)s[i])) return false;
    *v = *v * 10 + (s[i] - '0');
  }
  return true;
}

static bool is_leap(int y) {
  return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int days_in_month(int y, int m) {
  static const int days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return m == 2 && is_leap(y) ? 29 : days[m - 1];
}

/* Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant). */
static int64_t days_from_civil(int y, int m, int d) {
  int64_t yy = y - (m <= 2);
  int64_t era = (yy >= 0 ? yy : yy - 399) / 400;
  int64_t yoe = yy - era * 400;
  int64_t doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
  int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

typedef struct {
  int year, month, day, hour, minute, second, millis, offset_minutes;
} rfc3339_t;

/* "YYYY-MM-DDTHH:MM:SS" with separators and ranges checked. */
static bool rfc3339_date_time(const char *s, rfc3339_t *t) {
  if (!read_digits(s, 4, &t->year) || s[4] != '-' ||
      !read_digits(s + 5, 2, &t->month) || s[7] != '-' ||
      !read_digits(s + 8, 2, &t->day) || (s[10] != 'T' && s[10] != 't') ||
      !read_digits(s + 11, 2, &t->hour) || s[13] != ':' ||
      !read_digits(s + 14, 2, &t->minute) || s[16] != ':' ||
      !read_digits(s + 17, 2, &t->second))
    return false;
  return t->month >= 1 && t->month <= 12 && t->day >= 1 &&
         t->day <= days_in_month(t->year, t->month) && t->hour <= 23 &&
         t->minute <= 59 && t->second <= 60; /* 60: leap second */
}

/* Optional ".digits"; keeps the first three as milliseconds. */
static const char *rfc3339_fraction(const char *s, rfc3339_t *t) {
  t->millis = 0;
  if (*s != '.') return s;
  s++;
  if (!is_digit((unsigned char)*s)) return NULL;
  int kept = 0;
  for (; is_digit((unsigned char)*s); s++)
    if (kept < MS_DIGITS) t->millis = t->millis * 10 + (*s - '0'), kept++;
  for (; kept < MS_DIGITS; kept++) t->millis *= 10;
  return s;
}

/* "Z" or "+HH:MM"/"-HH:MM", then the end of the string. */
static bool rfc3339_offset(const char *s, rfc3339_t *t) {
  int h, m;
  t->offset_minutes = 0;
  if (*s == 'Z' || *s == 'z') return s[1] == '\0';
  if ((*s != '+' && *s != '-') || !read_digits(s + 1, 2, &h) || s[3] != ':' ||
      !read_digits(s + 4, 2, &m) || s[6] != '\0' || h > 23 || m > 59)
    return false;
  t->offset_minutes = (*s == '-' ? -1 : 1) * (h * 60 + m);
  return true;
}

/* Parses an RFC 3339 date-time into unix milliseconds. */
static bool rfc3339_parse(const char *s, int64_t *ms) {
  rfc3339_t t;
  if (strlen(s) < RFC3339_MIN_LEN || !rfc3339_date_time(s, &t)) return false;
  const char *rest = rfc3339_fraction(s + 19, &t);
  if (rest == NULL || !rfc3339_offset(rest, &t)) return false;
  int64_t secs = days_from_civil(t.year, t.month, t.day) * SECONDS_PER_DAY +
                 t.hour * 3600 + t.minute * 60 + t.second -
                 (int64_t)t.offset_minutes * 60;
  *ms = secs * MS_PER_SECOND + t.millis;
  return true;
}

static bool check_time(const char *s) {
  int64_t ms;
  return rfc3339_parse(s, &ms);
}

/* ------------------------------------------------------- member tables */

enum {
  F_REQUIRED = 1u << 0,  /* absent or null is an error */
  F_NONEMPTY = 1u << 1,  /* "" is an error */
  F_NOCTRL = 1u << 2     /* control characters are an error */
};

typedef struct {
  const char *name;
  size_t offset;          /* of the char * in the output struct */
  unsigned flags;
  size_t max;             /* bytes; 0 = the caller's default */
  bool (*check)(const char *value); /* NULL = any string */
  const char *check_reason; /* "must ..." when check fails */
} field_spec_t;

typedef struct {
  const char *noun;       /* "attribute" or "field" */
  char *why;
  size_t whylen;
} reason_t;

static const cJSON *member(const cJSON *obj, const char *name) {
  const cJSON *m = cJSON_GetObjectItemCaseSensitive(obj, name);
  return cJSON_IsNull(m) ? NULL : m;
}

static int string_check(const field_spec_t *f, const char *v, size_t max,
                        const reason_t *r) {
  size_t len = strlen(v);
  if (len == 0 && (f->flags & F_NONEMPTY)) {
    reason_set(r->why, r->whylen, "%s \"%s\" must not be empty", r->noun,
               f->name);
    return SB_EINVAL;
  }
  if (len > max) {
    reason_set(r->why, r->whylen, "%s \"%s\" exceeds %zu bytes", r->noun,
               f->name, max);
    return SB_ETOOBIG;
  }
  if ((f->flags & F_NOCTRL) && sb_utf8_has_control(v)) {
    reason_set(r->why, r->whylen, "%s \"%s\" contains a control character",
               r->noun, f->name);
    return SB_EINVAL;
  }
  if (f->check != NULL && !f->check(v)) {
    reason_set(r->why, r->whylen, "%s \"%s\" %s", r->noun, f->name,
               f->check_reason);
    return SB_EINVAL;
  }
  return 0;
}

/* Validates member f->name of obj and stores a copy (or NULL) in *out. */
static int take_string(const cJSON *obj, const field_spec_t *f,
                       size_t default_max, char **out, const reason_t *r) {
  const cJSON *m = member(obj, f->name);
  *out = NULL;
  if (m == NULL) {
    if (!(f->flags & F_REQUIRED)) return 0;
    reason_set(r->why, r->whylen, "missing required %s \"%s\"", r->noun,
               f->name);
    return SB_EINVAL;
  }
  if (!cJSON_IsString(m) || m->valuestring == NULL) {
    reason_set(r->why, r->whylen, "%s \"%s\" must be a string", r->noun,
               f->name);
    return SB_EINVAL;
  }
  int rc = string_check(f, m->valuestring, f->max ? f->max : default_max, r);
  if (rc != 0) return rc;
  *out = strdup(m->valuestring);
  return *out != NULL ? 0 : SB_ENOMEM;
}

/* Runs take_string for every row, storing into base + row.offset. */
static int take_strings(const cJSON *obj, const field_spec_t *fields,
                        size_t n, size_t default_max, void *base,
                        const reason_t *r) {
  for (size_t i = 0; i < n; i++) {
    char **slot = (char **)((char *)base + fields[i].offset);
    int rc = take_string(obj, &fields[i], default_max, slot, r);
    if (rc != 0) return rc;
  }
  return 0;
}

/* An integral JSON number in [min, max] into *out; default when absent. */
static int take_int(const cJSON *obj, const char *name, int64_t min,
                    int64_t max, int64_t dflt, int64_t *out,
                    const reason_t *r) {
  const cJSON *m = member(obj, name);
  *out = dflt;
  if (m == NULL) return 0;
  double d = m->valuedouble;
  if (!cJSON_IsNumber(m) || !(d >= (double)min && d <= (double)max) ||
      d != (double)(int64_t)d) {
    reason_set(r->why, r->whylen,
               "%s \"%s\" must be an integer from %lld to %lld", r->noun,
               name, (long long)min, (long long)max);
    return SB_EINVAL;
  }
  *out = (int64_t)d;
  return 0;
}

static int take_bool(const cJSON *obj, const char *name, int *out,
                     const reason_t *r) {
  const cJSON *m = member(obj, name);
  *out = 0;
  if (m == NULL) return 0;
  if (!cJSON_IsBool(m)) {
    reason_set(r->why, r->whylen, "%s \"%s\" must be a boolean", r->noun, name);
    return SB_EINVAL;
  }
  *out = cJSON_IsTrue(m) ? 1 : 0;
  return 0;
}

/*
 * A repeated known name is ambiguous (cJSON would silently take the first):
 * reject it. Linear in the member count times the few known names, so a
 * body with thousands of extension members stays cheap.
 */
static int check_duplicates(const cJSON *obj, const char *const *names,
                            size_t n, const reason_t *r) {
  unsigned seen[KNOWN_NAMES_MAX] = {0};
  for (const cJSON *c = obj->child; c != NULL; c = c->next) {
    for (size_t i = 0; i < n && i < KNOWN_NAMES_MAX; i++) {
      if (c->string == NULL || strcmp(c->string, names[i]) != 0) continue;
      if (++seen[i] > 1) {
        reason_set(r->why, r->whylen, "duplicate %s \"%s\"", r->noun, names[i]);
        return SB_EINVAL;
      }
    }
  }
  return 0;
}

/* Names of a field table plus extra names, for check_duplicates. */
static size_t known_names(const field_spec_t *f, size_t nf,
                          const char *const *extra, size_t ne,
                          const char **out) {
  size_t k = 0;
  for (size_t i = 0; i < nf && k < KNOWN_NAMES_MAX; i++) out[k++] = f[i].name;
  for (size_t i = 0; i < ne && k < KNOWN_NAMES_MAX; i++) out[k++] = extra[i];
  return k;
}

static int check_known_duplicates(const cJSON *obj, const field_spec_t *f,
                                  size_t nf, const char *const *extra,
                                  size_t ne, const reason_t *r) {
  const char *names[KNOWN_NAMES_MAX];
  size_t k = known_names(f, nf, extra, ne, names);
  return check_duplicates(obj, names, k, r);
}

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))
#define CE_FIELD(name, flags, check, why) \
  {#name, offsetof(sb_cloudevent_t, name), (flags), 0, (check), (why)}

/* Checked in this order; specversion first, as CloudEvents asks. */
static const field_spec_t ce_fields[] = {
    CE_FIELD(specversion, F_REQUIRED | F_NONEMPTY, check_specversion,
             "must be \"" SB_CLOUDEVENT_SPECVERSION "\""),
    CE_FIELD(id, F_REQUIRED | F_NONEMPTY | F_NOCTRL, NULL, NULL),
    CE_FIELD(source, F_REQUIRED | F_NONEMPTY | F_NOCTRL, NULL, NULL),
    CE_FIELD(type, F_REQUIRED | F_NONEMPTY | F_NOCTRL, NULL, NULL),
    CE_FIELD(tenant, F_REQUIRED | F_NONEMPTY | F_NOCTRL, check_tenant,
             "must match [A-Za-z0-9_-]{1,64}"),
    CE_FIELD(time, F_NONEMPTY, check_time, "must be an RFC 3339 date-time"),
    CE_FIELD(traceparent, F_NONEMPTY, check_traceparent,
             "must be a W3C traceparent 00-<32 hex>-<16 hex>-<2 hex>"),
    CE_FIELD(datacontenttype, F_NONEMPTY | F_NOCTRL, NULL, NULL),
    CE_FIELD(subject, F_NONEMPTY, NULL, NULL),
};

static const char *const ce_extra_names[] = {"data", "data_base64"};

/* ------------------------------------------------------------- events */

static void event_clear(sb_cloudevent_t *ev) {
  for (size_t i = 0; i < COUNT(ce_fields); i++)
    free(*(char **)((char *)ev + ce_fields[i].offset));
  free(ev->data);
  memset(ev, 0, sizeof *ev);
}

static int event_take_data(const cJSON *obj,
                           const sb_cloudevent_limits_t *limits,
                           sb_cloudevent_t *ev, const reason_t *r) {
  if (member(obj, "data_base64") != NULL) {
    reason_set(r->why, r->whylen,
               "\"data_base64\" is not supported; send JSON \"data\"");
    return SB_EINVAL;
  }
  const cJSON *data = member(obj, "data"); /* null data is absent data */
  if (data == NULL) return 0;
  ev->data = cJSON_PrintUnformatted(data);
  if (ev->data == NULL) return SB_ENOMEM;
  if (strlen(ev->data) > limits->max_data_bytes) {
    reason_set(r->why, r->whylen, "data exceeds %zu bytes",
               limits->max_data_bytes);
    return SB_ETOOBIG;
  }
  return 0;
}

/* Fills ev from one event object; on failure ev is cleared. */
static int event_from_json(const cJSON *obj,
                           const sb_cloudevent_limits_t *limits,
                           sb_cloudevent_t *ev, const reason_t *r) {
  memset(ev, 0, sizeof *ev);
  if (!cJSON_IsObject(obj)) {
    reason_set(r->why, r->whylen, "must be a JSON object");
    return SB_EINVAL;
  }
  int rc = check_known_duplicates(obj, ce_fields, COUNT(ce_fields),
                                  ce_extra_names, COUNT(ce_extra_names), r);
  if (rc == 0)
    rc = take_strings(obj, ce_fields, COUNT(ce_fields), limits->max_string,
                      ev, r);
  if (rc == 0) rc = event_take_data(obj, limits, ev, r);
  if (rc == 0 && ev->time != NULL) (void)rfc3339_parse(ev->time, &ev->time_ms);
  if (rc != 0) event_clear(ev);
  return rc;
}

void sb_cloudevent_limits_default(sb_cloudevent_limits_t *l) {
  l->max_events = SB_CLOUDEVENT_MAX_EVENTS_DEFAULT;
  l->max_string = SB_CLOUDEVENT_MAX_STRING_DEFAULT;
  l->max_data_bytes = SB_CLOUDEVENT_MAX_DATA_DEFAULT;
  l->max_depth = SB_CLOUDEVENT_MAX_DEPTH_DEFAULT;
}

void sb_cloudevent_free(sb_cloudevent_t **events, size_t n) {
  if (events == NULL || *events == NULL) return;
  for (size_t i = 0; i < n; i++) event_clear(&(*events)[i]);
  free(*events);
  *events = NULL;
}

/* Output of one parse: what sb_cloudevent_parse hands back. */
typedef struct {
  sb_cloudevent_t *events;
  size_t n;
  long bad_index;
} ce_batch_t;

/* The root array (or single object) as a list of 1..max_events items. */
static int batch_shape(const cJSON *root, const sb_cloudevent_limits_t *limits,
                       size_t *count, char *err, size_t errlen) {
  if (cJSON_IsObject(root)) {
    *count = 1;
    return 0;
  }
  if (!cJSON_IsArray(root)) {
    reason_set(err, errlen, "body must be a JSON object or an array of objects");
    return SB_EINVAL;
  }
  *count = (size_t)cJSON_GetArraySize(root);
  if (*count == 0) {
    reason_set(err, errlen, "empty batch");
    return SB_EINVAL;
  }
  if (*count > limits->max_events) {
    reason_set(err, errlen, "batch of %zu events exceeds limit %zu", *count,
               limits->max_events);
    return SB_ETOOBIG;
  }
  return 0;
}

static int batch_fill(const cJSON *root, const sb_cloudevent_limits_t *limits,
                      ce_batch_t *b, char *err, size_t errlen) {
  char why[REASON_MAX] = "";
  reason_t r = {"attribute", why, sizeof why};
  const cJSON *item = cJSON_IsArray(root) ? root->child : root;
  for (size_t i = 0; i < b->n; i++, item = item->next) {
    int rc = event_from_json(item, limits, &b->events[i], &r);
    if (rc == 0) continue;
    b->bad_index = (long)i;
    reason_set(err, errlen, "event %zu: %s", i,
               rc == SB_ENOMEM ? "out of memory" : why);
    sb_cloudevent_free(&b->events, i);
    return rc;
  }
  return 0;
}

static int batch_from_json(const cJSON *root,
                           const sb_cloudevent_limits_t *limits,
                           ce_batch_t *b, char *err, size_t errlen) {
  int rc = batch_shape(root, limits, &b->n, err, errlen);
  if (rc != 0) return rc;
  b->events = calloc(b->n, sizeof *b->events);
  if (b->events == NULL) return SB_ENOMEM;
  return batch_fill(root, limits, b, err, errlen);
}

int sb_cloudevent_parse(const char *body, size_t len,
                        const sb_cloudevent_limits_t *limits,
                        sb_cloudevent_t **events, size_t *n, char *err,
                        size_t errlen, long *err_index) {
  sb_cloudevent_limits_t dflt;
  ce_batch_t b = {NULL, 0, -1};
  cJSON *root = NULL;
  if (limits == NULL) {
    sb_cloudevent_limits_default(&dflt);
    limits = &dflt;
  }
  reason_set(err, errlen, "%s", "");
  int rc = body == NULL ? SB_EINVAL
                        : json_parse_checked(body, len, limits->max_depth,
                                             &root, err, errlen);
  if (rc == 0) rc = batch_from_json(root, limits, &b, err, errlen);
  cJSON_Delete(root);
  if (rc != 0) {
    if (err != NULL && errlen > 0 && err[0] == '\0')
      reason_set(err, errlen, "%s", sb_strerror(rc));
    b.events = NULL, b.n = 0;
  }
  *events = b.events;
  *n = b.n;
  if (err_index != NULL) *err_index = rc != 0 ? b.bad_index : -1;
  return rc;
}

/* ------------------------------------------- attributes apart from data */

/* The attributes as string members of a new object *obj (the caller
 * deletes it, also on failure). "data" and "data_base64" are not attributes;
 * a value that is not UTF-8 is refused (the caller promised UTF-8: this is
 * the backstop that keeps the invariants of sb_cloudevent_t). */
static int attributes_object(const char *const *names,
                             const char *const *values, size_t n,
                             cJSON **obj, const reason_t *r) {
  *obj = cJSON_CreateObject();
  if (*obj == NULL) return SB_ENOMEM;
  for (size_t i = 0; i < n; i++) {
    if (strcmp(names[i], "data") == 0 || strcmp(names[i], "data_base64") == 0 ||
        !sb_utf8_valid(values[i], strlen(values[i]))) {
      reason_set(r->why, r->whylen, "%s \"%s\" is not allowed here or not UTF-8",
                 r->noun, names[i]);
      return SB_EINVAL;
    }
    cJSON *v = cJSON_CreateString(values[i]);
    if (v == NULL) return SB_ENOMEM;
    cJSON_AddItemToObject(*obj, names[i], v); /* copies the name */
  }
  return 0;
}

/* data[0..len) checked as JSON and attached to obj as "data". The data is
 * one level below the event, as it is in a structured event. */
static int attributes_data(cJSON *obj, const char *data, size_t len,
                           const sb_cloudevent_limits_t *limits, char *err,
                           size_t errlen) {
  cJSON *root = NULL;
  char why[REASON_MAX] = "";
  int rc = json_parse_checked(data, len, limits->max_depth - 1, &root, why,
                              sizeof why);
  if (rc != 0) {
    reason_set(err, errlen, "data: %s", rc == SB_ENOMEM ? "out of memory" : why);
    return rc;
  }
  cJSON_AddItemToObject(obj, "data", root);
  return 0;
}

int sb_cloudevent_from_attributes(const char *const *names,
                                  const char *const *values, size_t n,
                                  const char *data, size_t data_len,
                                  const sb_cloudevent_limits_t *limits,
                                  sb_cloudevent_t **events, char *err,
                                  size_t errlen) {
  sb_cloudevent_limits_t dflt;
  cJSON *obj = NULL;
  char why[REASON_MAX] = "";
  reason_t r = {"attribute", why, sizeof why};
  if (limits == NULL) {
    sb_cloudevent_limits_default(&dflt);
    limits = &dflt;
  }
  reason_set(err, errlen, "%s", "");
  *events = calloc(1, sizeof **events);
  int rc = *events == NULL ? SB_ENOMEM
                           : attributes_object(names, values, n, &obj, &r);
  if (rc == 0 && data != NULL)
    rc = attributes_data(obj, data, data_len, limits, why, sizeof why);
  if (rc == 0) rc = event_from_json(obj, limits, *events, &r);
  cJSON_Delete(obj);
  if (rc != 0) {
    reason_set(err, errlen, "%s", rc == SB_ENOMEM ? "out of memory" : why);
    free(*events);
    *events = NULL;
  }
  return rc;
}

int sb_cloudevent_traceparent_valid(const char *s) {
  return s != NULL && check_traceparent(s);
}

/* -------------------------------------------------------- interaction */

#define IX_FIELD(name, member_, flags, max, check, why) \
  {name, offsetof(sb_interaction_data_t, member_), (flags), (max), (check), (why)}

static const field_spec_t interaction_fields[] = {
    IX_FIELD("channel", channel, F_REQUIRED | F_NONEMPTY, SB_INTERACTION_ID_MAX,
             check_channel,
             "must be one of x, facebook, messenger, instagram, whatsapp, "
             "wechat, telegram, line, email, webchat, sms, voice, app"),
    IX_FIELD("customer", customer, F_REQUIRED | F_NONEMPTY | F_NOCTRL,
             SB_INTERACTION_ID_MAX, NULL, NULL),
    IX_FIELD("text", text, F_REQUIRED, SB_INTERACTION_TEXT_MAX, NULL, NULL),
    IX_FIELD("platform_message_id", platform_message_id, F_NONEMPTY | F_NOCTRL,
             SB_INTERACTION_ID_MAX, NULL, NULL),
    IX_FIELD("reply_to", reply_to, F_NONEMPTY | F_NOCTRL, SB_INTERACTION_ID_MAX,
             NULL, NULL),
};

static const char *const interaction_extra_names[] = {"public", "author"};

static const field_spec_t author_name_field = IX_FIELD(
    "name", author_name, F_NOCTRL, SB_INTERACTION_ID_MAX, NULL, NULL);

static int interaction_author(const cJSON *obj, sb_interaction_data_t *d,
                              const reason_t *r) {
  const cJSON *author = member(obj, "author");
  if (author == NULL) return 0;
  if (!cJSON_IsObject(author)) {
    reason_set(r->why, r->whylen, "field \"author\" must be an object");
    return SB_EINVAL;
  }
  static const char *const author_names[] = {"name", "followers"};
  int rc = check_duplicates(author, author_names, COUNT(author_names), r);
  if (rc == 0)
    rc = take_string(author, &author_name_field, 0, &d->author_name, r);
  if (rc == 0)
    rc = take_int(author, "followers", 0, (int64_t)JSON_INT_MAX, 0,
                  &d->followers, r);
  return rc;
}

/* Parses data_json into a JSON object root; the shared prologue. */
static int data_object(const char *data_json, cJSON **root, char *err,
                       size_t errlen) {
  reason_set(err, errlen, "%s", "");
  *root = NULL;
  if (data_json == NULL) {
    reason_set(err, errlen, "missing data");
    return SB_EINVAL;
  }
  int rc = json_parse_checked(data_json, strlen(data_json),
                              SB_CLOUDEVENT_MAX_DEPTH_DEFAULT, root, err,
                              errlen);
  if (rc == 0 && !cJSON_IsObject(*root)) {
    reason_set(err, errlen, "data must be a JSON object");
    rc = SB_EINVAL;
  }
  return rc;
}

static int interaction_from_json(const cJSON *obj, sb_interaction_data_t *d,
                                 const reason_t *r) {
  int rc = check_known_duplicates(obj, interaction_fields,
                                  COUNT(interaction_fields),
                                  interaction_extra_names,
                                  COUNT(interaction_extra_names), r);
  if (rc == 0)
    rc = take_strings(obj, interaction_fields, COUNT(interaction_fields), 0, d,
                      r);
  if (rc == 0 && !sb_utf8_valid(d->text, strlen(d->text))) {
    reason_set(r->why, r->whylen, "field \"text\" is not valid UTF-8");
    rc = SB_EINVAL;
  }
  if (rc == 0) rc = take_bool(obj, "public", &d->is_public, r);
  if (rc == 0) rc = interaction_author(obj, d, r);
  return rc;
}

int sb_interaction_data_parse(const char *data_json, sb_interaction_data_t *out,
                              char *err, size_t errlen) {
  cJSON *root = NULL;
  reason_t r = {"field", err, errlen};
  memset(out, 0, sizeof *out);
  int rc = data_object(data_json, &root, err, errlen);
  if (rc == 0) rc = interaction_from_json(root, out, &r);
  cJSON_Delete(root);
  if (rc != 0) sb_interaction_data_clear(out);
  if (rc == SB_ENOMEM) reason_set(err, errlen, "out of memory");
  return rc;
}

void sb_interaction_data_clear(sb_interaction_data_t *d) {
  if (d == NULL) return;
  free(d->channel);
  free(d->customer);
  free(d->text);
  free(d->platform_message_id);
  free(d->reply_to);
  free(d->author_name);
  memset(d, 0, sizeof *d);
}

/* -------------------------------------------------------------- agent */

typedef struct {
  const char *name;
  bool needs_conversation;
  bool takes_capacity;
  bool takes_text;
  bool takes_status; /* status (required) and reason */
  bool takes_target; /* queue or to_agent (exactly one) */
  int suggestion;    /* 0 none, SUGGESTION_OPTIONAL (reply), SUGGESTION_FEEDBACK
                        (suggestion + accepted, both required) */
} agent_action_t;

enum { SUGGESTION_OPTIONAL = 1, SUGGESTION_FEEDBACK = 2 };

static const agent_action_t agent_actions[] = {
    {"login", false, true, false, false, false, 0},
    {"logout", false, false, false, false, false, 0},
    {"accept", true, false, false, false, false, 0},
    {"reply", true, false, true, false, false, SUGGESTION_OPTIONAL},
    {"close", true, false, false, false, false, 0},
    {"status", false, false, false, true, false, 0},
    {"transfer", true, false, false, false, true, 0},
    {"reject", true, false, false, false, false, 0},
    {"suggestion", true, false, false, false, false, SUGGESTION_FEEDBACK},
};

static const agent_action_t *agent_action_find(const char *type) {
  size_t plen = strlen(SB_CLOUDEVENT_TYPE_AGENT_PREFIX);
  if (type == NULL || strncmp(type, SB_CLOUDEVENT_TYPE_AGENT_PREFIX, plen) != 0)
    return NULL;
  for (size_t i = 0; i < COUNT(agent_actions); i++)
    if (strcmp(type + plen, agent_actions[i].name) == 0)
      return &agent_actions[i];
  return NULL;
}

#define AG_FIELD(name, member_, flags, max, check, why) \
  {name, offsetof(sb_agent_data_t, member_), (flags), (max), (check), (why)}

static const field_spec_t agent_field = AG_FIELD(
    "agent", agent, F_REQUIRED | F_NONEMPTY, SB_AGENT_ID_MAX, check_agent,
    "must match [A-Za-z0-9_.@-]{1,128}");
static const field_spec_t agent_conversation_optional = AG_FIELD(
    "conversation", conversation, F_NONEMPTY | F_NOCTRL,
    SB_AGENT_CONVERSATION_MAX, NULL, NULL);
static const field_spec_t agent_conversation_required = AG_FIELD(
    "conversation", conversation, F_REQUIRED | F_NONEMPTY | F_NOCTRL,
    SB_AGENT_CONVERSATION_MAX, NULL, NULL);
static const field_spec_t agent_text_field =
    AG_FIELD("text", text, 0, SB_AGENT_TEXT_MAX, NULL, NULL);

static const field_spec_t agent_reason_field =
    AG_FIELD("reason", reason, F_NOCTRL, SB_AGENT_REASON_MAX, NULL, NULL);
static const field_spec_t agent_queue_field =
    AG_FIELD("queue", target_queue, F_NONEMPTY, SB_AGENT_ID_MAX, check_agent,
             "must match [A-Za-z0-9_.@-]{1,128}");
static const field_spec_t agent_to_agent_field =
    AG_FIELD("to_agent", target_agent, F_NONEMPTY, SB_AGENT_ID_MAX, check_agent,
             "must match [A-Za-z0-9_.@-]{1,128}");

static bool is_answer_char(unsigned char c) {
  return is_tenant_char(c) || c == '.';
}

/* An answer id of the classify rules (sb_rules.h "answers"). */
static bool check_answer_id(const char *s) {
  return all_chars(s, SB_AGENT_SUGGESTION_MAX, is_answer_char);
}

static const field_spec_t agent_suggestion_optional =
    AG_FIELD("suggestion", suggestion, F_NONEMPTY, SB_AGENT_SUGGESTION_MAX, check_answer_id,
             "must be an answer id [A-Za-z0-9_.-]{1,64}");
static const field_spec_t agent_suggestion_required =
    AG_FIELD("suggestion", suggestion, F_REQUIRED | F_NONEMPTY, SB_AGENT_SUGGESTION_MAX,
             check_answer_id, "must be an answer id [A-Za-z0-9_.-]{1,64}");

static const char *const agent_names[] = {"agent",  "conversation", "capacity", "text",
                                          "status", "reason",       "queue",    "to_agent",
                                          "suggestion", "accepted"};

static bool agent_status_known(const char *s) {
  return sb_agent_status_known(s) || sb_conversation_status_known(s);
}

static const field_spec_t agent_status_field =
    AG_FIELD("status", status, F_REQUIRED | F_NONEMPTY, 16, agent_status_known,
             "must be available, busy or away, or (with a conversation) pending_customer, "
             "on_hold or open");

/* reply: an optional suggestion (the answer used: accepted); suggestion:
 * the answer and "accepted", both required. */
static int agent_suggestion_from_json(const cJSON *obj, const agent_action_t *act,
                                      sb_agent_data_t *d, const reason_t *r) {
  bool feedback = act->suggestion == SUGGESTION_FEEDBACK;
  int rc = take_string(obj, feedback ? &agent_suggestion_required : &agent_suggestion_optional, 0,
                       &d->suggestion, r);
  if (rc != 0 || !feedback) {
    d->accepted = d->suggestion != NULL;
    return rc;
  }
  if (member(obj, "accepted") == NULL) {
    reason_set(r->why, r->whylen, "missing required field \"accepted\"");
    return SB_EINVAL;
  }
  return take_bool(obj, "accepted", &d->accepted, r);
}

/* status: status and reason; transfer: exactly one of queue and to_agent. */
static int agent_extras_from_json(const cJSON *obj, const agent_action_t *act,
                                  sb_agent_data_t *d, const reason_t *r) {
  int rc = 0;
  if (act->takes_status) {
    rc = take_string(obj, &agent_status_field, 0, &d->status, r);
    if (rc == 0) rc = take_string(obj, &agent_reason_field, 0, &d->reason, r);
  }
  if (act->takes_target) {
    rc = take_string(obj, &agent_queue_field, 0, &d->target_queue, r);
    if (rc == 0) rc = take_string(obj, &agent_to_agent_field, 0, &d->target_agent, r);
    if (rc == 0 && (d->target_queue == NULL) == (d->target_agent == NULL)) {
      reason_set(r->why, r->whylen, "a transfer names exactly one of \"queue\" and \"to_agent\"");
      rc = SB_EINVAL;
    }
  }
  if (rc == 0 && act->suggestion) rc = agent_suggestion_from_json(obj, act, d, r);
  return rc;
}

static int agent_from_json(const cJSON *obj, const agent_action_t *act,
                           sb_agent_data_t *d, const reason_t *r) {
  const field_spec_t *conv = act->needs_conversation
                                 ? &agent_conversation_required
                                 : &agent_conversation_optional;
  int64_t capacity = 0;
  int rc = check_duplicates(obj, agent_names, COUNT(agent_names), r);
  if (rc == 0) rc = take_string(obj, &agent_field, 0, &d->agent, r);
  if (rc == 0) rc = take_string(obj, conv, 0, &d->conversation, r);
  if (rc == 0 && act->takes_capacity)
    rc = take_int(obj, "capacity", SB_AGENT_CAPACITY_MIN, SB_AGENT_CAPACITY_MAX,
                  SB_AGENT_CAPACITY_DEFAULT, &capacity, r);
  if (rc == 0 && act->takes_text)
    rc = take_string(obj, &agent_text_field, 0, &d->text, r);
  if (rc == 0) rc = agent_extras_from_json(obj, act, d, r);
  d->capacity = (int)capacity;
  if (rc == 0) d->action = strdup(act->name);
  if (rc == 0 && d->action == NULL) rc = SB_ENOMEM;
  return rc;
}

int sb_agent_data_parse(const char *type, const char *data_json,
                        sb_agent_data_t *out, char *err, size_t errlen) {
  cJSON *root = NULL;
  reason_t r = {"field", err, errlen};
  memset(out, 0, sizeof *out);
  const agent_action_t *act = agent_action_find(type);
  if (act == NULL) {
    reason_set(err, errlen,
               "type must be " SB_CLOUDEVENT_TYPE_AGENT_PREFIX
               "login, logout, accept, reply, close, status, transfer, reject or suggestion");
    return SB_EINVAL;
  }
  int rc = data_object(data_json, &root, err, errlen);
  if (rc == 0) rc = agent_from_json(root, act, out, &r);
  cJSON_Delete(root);
  if (rc != 0) sb_agent_data_clear(out);
  if (rc == SB_ENOMEM) reason_set(err, errlen, "out of memory");
  return rc;
}

void sb_agent_data_clear(sb_agent_data_t *d) {
  if (d == NULL) return;
  free(d->action);
  free(d->agent);
  free(d->conversation);
  free(d->text);
  free(d->status);
  free(d->reason);
  free(d->target_queue);
  free(d->target_agent);
  free(d->suggestion);
  memset(d, 0, sizeof *d);
}

/* -------------------------------------------------------------- voice */

static const char *const voice_kinds[] = {NULL, "offered", "answered", "abandoned"};

sb_voice_kind_t sb_voice_kind(const char *type) {
  size_t plen = strlen(SB_CLOUDEVENT_TYPE_VOICE_PREFIX);
  if (type == NULL || strncmp(type, SB_CLOUDEVENT_TYPE_VOICE_PREFIX, plen) != 0)
    return 0;
  for (size_t k = 1; k < COUNT(voice_kinds); k++)
    if (strcmp(type + plen, voice_kinds[k]) == 0) return (sb_voice_kind_t)k;
  return 0;
}

static bool is_call_char(unsigned char c) {
  return is_agent_char(c) || c == ':';
}

static bool check_call(const char *s) {
  return all_chars(s, SB_VOICE_CALL_MAX, is_call_char);
}

static bool is_number_char(unsigned char c) {
  return is_digit(c) || c == '+' || c == ' ' || c == '(' || c == ')' || c == '.' || c == '-';
}

static bool check_number(const char *s) {
  size_t digits = 0;
  for (const char *p = s; *p; p++) {
    if (!is_number_char((unsigned char)*p)) return false;
    if (*p == '+' && p != s) return false;
    digits += is_digit((unsigned char)*p);
  }
  return digits >= 3 && digits <= 15;
}

static bool is_ivr_char(unsigned char c) {
  return (c >= 'a' && c <= 'z') || is_digit(c) || c == '_' || c == '-';
}

#define VO_FIELD(name, member_, flags, max, check, why) \
  {name, offsetof(sb_voice_data_t, member_), (flags), (max), (check), (why)}

static const field_spec_t voice_call_field =
    VO_FIELD("call", call, F_REQUIRED | F_NONEMPTY, SB_VOICE_CALL_MAX, check_call,
             "must match [A-Za-z0-9_.:@-]{1,128}");
static const field_spec_t voice_caller_field =
    VO_FIELD("caller", caller, F_REQUIRED | F_NONEMPTY, SB_VOICE_NUMBER_MAX, check_number,
             "must be a phone number: an optional leading '+', 3 to 15 digits, separators \" ().-\"");
static const field_spec_t voice_line_field =
    VO_FIELD("line", line, F_NONEMPTY, SB_VOICE_NUMBER_MAX, check_number,
             "must be a phone number: an optional leading '+', 3 to 15 digits, separators \" ().-\"");
static const field_spec_t voice_text_field =
    VO_FIELD("text", text, 0, SB_INTERACTION_TEXT_MAX, NULL, NULL);
static const field_spec_t voice_agent_field =
    VO_FIELD("agent", agent, F_REQUIRED | F_NONEMPTY, SB_AGENT_ID_MAX, check_agent,
             "must match [A-Za-z0-9_.@-]{1,128}");
/* abandoned: a caller who hangs up while queued reached no agent */
static const field_spec_t voice_agent_opt_field =
    VO_FIELD("agent", agent, F_NONEMPTY, SB_AGENT_ID_MAX, check_agent,
             "must match [A-Za-z0-9_.@-]{1,128}");

static const char *const voice_names[] = {"call", "caller", "line", "text", "agent", "ivr"};

static int voice_ivr(const cJSON *obj, sb_voice_data_t *d, const reason_t *r) {
  const cJSON *a = member(obj, "ivr");
  if (a == NULL) return 0;
  if (!cJSON_IsArray(a)) {
    reason_set(r->why, r->whylen, "field \"ivr\" must be an array of strings");
    return SB_EINVAL;
  }
  if (cJSON_GetArraySize(a) > SB_VOICE_IVR_MAX) {
    reason_set(r->why, r->whylen, "field \"ivr\" has more than %d selections", SB_VOICE_IVR_MAX);
    return SB_ETOOBIG;
  }
  size_t i = 0;
  for (const cJSON *c = a->child; c != NULL; c = c->next, i++) {
    if (!cJSON_IsString(c) || c->valuestring == NULL ||
        !all_chars(c->valuestring, SB_VOICE_IVR_LEN_MAX, is_ivr_char)) {
      reason_set(r->why, r->whylen, "field \"ivr\"[%zu] must match [a-z0-9_-]{1,%d}", i,
                 SB_VOICE_IVR_LEN_MAX);
      return SB_EINVAL;
    }
    d->ivr[d->n_ivr] = strdup(c->valuestring);
    if (d->ivr[d->n_ivr] == NULL) return SB_ENOMEM;
    d->n_ivr++;
  }
  return 0;
}

static int voice_from_json(const cJSON *obj, sb_voice_data_t *d, const reason_t *r) {
  int rc = check_duplicates(obj, voice_names, COUNT(voice_names), r);
  if (rc == 0) rc = take_string(obj, &voice_call_field, 0, &d->call, r);
  if (d->kind != SB_VOICE_OFFERED) {
    const field_spec_t *agent =
        d->kind == SB_VOICE_ANSWERED ? &voice_agent_field : &voice_agent_opt_field;
    if (rc == 0) rc = take_string(obj, agent, 0, &d->agent, r);
    return rc;
  }
  if (rc == 0) rc = take_string(obj, &voice_caller_field, 0, &d->caller, r);
  if (rc == 0) rc = take_string(obj, &voice_line_field, 0, &d->line, r);
  if (rc == 0) rc = take_string(obj, &voice_text_field, 0, &d->text, r);
  if (rc == 0 && d->text && !sb_utf8_valid(d->text, strlen(d->text))) {
    reason_set(r->why, r->whylen, "field \"text\" is not valid UTF-8");
    rc = SB_EINVAL;
  }
  if (rc == 0) rc = voice_ivr(obj, d, r);
  return rc;
}

int sb_voice_data_parse(const char *type, const char *data_json, sb_voice_data_t *out,
                        char *err, size_t errlen) {
  cJSON *root = NULL;
  reason_t r = {"field", err, errlen};
  memset(out, 0, sizeof *out);
  out->kind = sb_voice_kind(type);
  if (out->kind == 0) {
    reason_set(err, errlen,
               "type must be " SB_CLOUDEVENT_TYPE_VOICE_PREFIX "offered, answered or abandoned");
    return SB_EINVAL;
  }
  int rc = data_object(data_json, &root, err, errlen);
  if (rc == 0) rc = voice_from_json(root, out, &r);
  cJSON_Delete(root);
  if (rc != 0) sb_voice_data_clear(out);
  if (rc == SB_ENOMEM) reason_set(err, errlen, "out of memory");
  return rc;
}

void sb_voice_data_clear(sb_voice_data_t *d) {
  if (d == NULL) return;
  free(d->call);
  free(d->caller);
  free(d->line);
  free(d->text);
  free(d->agent);
  for (size_t i = 0; i < d->n_ivr; i++) free(d->ivr[i]);
  memset(d, 0, sizeof *d);
}
