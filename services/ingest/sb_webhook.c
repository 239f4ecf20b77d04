/*
 * sb_webhook: items and their validation, the JSON intake shared by the
 * Meta and X readers, and the two form-based readers (Twilio, e-mail). See
 * sb_webhook.h for the contract and sb_webhook_internal.h for the split.
 *
 * Invariants kept here for every reader:
 *   - an item string is stored only after it passed its check (UTF-8,
 *     length, control characters), so a returned item is either wholly
 *     valid or marked malformed with everything but its id freed;
 *   - cJSON only ever sees a body whose nesting depth the linear pre-scan
 *     has bounded, so its recursion (parse, delete) is bounded too; invalid
 *     UTF-8 inside strings is left for the per-item checks, so one bad text
 *     does not sink a whole delivery;
 *   - nothing here quotes a value in a reason: values carry personal data.
 */
#include "sb_webhook.h"
#include "sb_utf8.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h> /* strncasecmp */

#include "sb_envelope.h" /* sb_event_key: the stable hash of a mail */
#include "sb_error.h"
#include "sb_webhook_internal.h"

enum {
  ITEMS_INITIAL = 4,
  STATUS_MAX = 32, /* bytes of a status token */
  LABEL_MAX = 32,  /* bytes of a media label */
  BUF_INITIAL = 64,
  DECIMAL_DIGITS_MAX = 18,
  BOM_LEN = 3,
  ESCAPED_NUL_LEN = 6,   /* \u0000 */
  TWILIO_MEDIA_MAX = 10, /* Twilio sends at most 10 media per message */
  MEDIA_FIELD_MAX = 32   /* "MediaContentType9" */
};

#define JSON_INT_MAX 9007199254740992.0    /* 2^53: exact in a double */
#define EPOCH_SECONDS_BELOW 100000000000LL /* 1e11 s is year 5138, ms 1973 */
#define MS_PER_SECOND 1000

static const char WHATSAPP_PREFIX[] = "whatsapp:";
static const char NOMSGID_PREFIX[] = "nomsgid-";

void sb__wh_reason(char *err, size_t errlen, const char *fmt, ...) {
  if (err == NULL || errlen == 0) return;
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(err, errlen, fmt, ap);
  va_end(ap);
}

/* ----------------------------------------------------------------- batch */

static void item_strings_free(sb_wh_item_t *it, bool keep_id) {
  char **all[] = {&it->customer,    &it->text,        &it->reply_to,
                  &it->thread_hint, &it->author_name, &it->status,
                  &it->reply_token, &it->reply_chat, &it->subject,
                  &it->platform_message_id};
  size_t n = sizeof all / sizeof all[0] - (keep_id ? 1 : 0);
  for (size_t i = 0; i < n; i++) {
    free(*all[i]);
    *all[i] = NULL;
  }
}

void sb_wh_batch_free(sb_wh_batch_t *b) {
  if (b == NULL) return;
  for (size_t i = 0; i < b->n; i++) item_strings_free(&b->items[i], false);
  free(b->items);
  b->items = NULL;
  b->n = 0;
}

int sb__wh_begin(sb__wh_builder_t *b, sb_wh_batch_t *out, char *err,
                 size_t errlen) {
  sb__wh_reason(err, errlen, "%s", "");
  b->out = out;
  b->cap = 0;
  if (out == NULL) return SB_EINVAL;
  out->items = NULL;
  out->n = 0;
  return 0;
}

int sb__wh_end(sb__wh_builder_t *b, int rc, char *err, size_t errlen) {
  if (rc == 0) return 0;
  sb_wh_batch_free(b->out);
  if (rc == SB_ETOOBIG && err != NULL && errlen > 0 && err[0] == '\0')
    sb__wh_reason(err, errlen, "more than %d items in one delivery",
                  SB_WEBHOOK_MAX_ITEMS);
  if (err != NULL && errlen > 0 && err[0] == '\0')
    sb__wh_reason(err, errlen, "%s", sb_strerror(rc));
  return rc;
}

int sb__wh_item_new(sb__wh_builder_t *b, sb_wh_kind_t kind, const char *channel,
                    sb_wh_item_t **item) {
  sb_wh_batch_t *out = b->out;
  if (out->n >= SB_WEBHOOK_MAX_ITEMS) return SB_ETOOBIG;
  if (out->n == b->cap) {
    size_t cap = b->cap ? b->cap * 2 : ITEMS_INITIAL;
    sb_wh_item_t *grown = realloc(out->items, cap * sizeof *grown);
    if (grown == NULL) return SB_ENOMEM;
    out->items = grown;
    b->cap = cap;
  }
  sb_wh_item_t *it = &out->items[out->n++];
  memset(it, 0, sizeof *it);
  it->kind = kind;
  snprintf(it->channel, sizeof it->channel, "%s", channel);
  *item = it;
  return 0;
}

int sb__wh_item_ignored(sb__wh_builder_t *b, const char *channel) {
  sb_wh_item_t *it;
  return sb__wh_item_new(b, SB_WH_IGNORED, channel, &it);
}

int sb__wh_item_bad(sb__wh_builder_t *b, sb_wh_kind_t kind, const char *channel,
                    const char *reason) {
  sb_wh_item_t *it;
  int rc = sb__wh_item_new(b, kind, channel, &it);
  if (rc == 0) snprintf(it->error, sizeof it->error, "%s", reason);
  return rc;
}

int sb__wh_item_fail(sb_wh_item_t *it, const char *fmt, ...) {
  if (it->error[0] == '\0') {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(it->error, sizeof it->error, fmt, ap);
    va_end(ap);
  }
  item_strings_free(it, true);
  return SB_EINVAL;
}

int sb__wh_item_ignore(sb_wh_item_t *it) {
  item_strings_free(it, false);
  it->kind = SB_WH_IGNORED;
  it->is_public = 0, it->followers = 0, it->time_ms = 0;
  return 0;
}

int sb__wh_item_done(sb_wh_item_t *it, int rc) {
  if (rc == SB_ENOMEM) item_strings_free(it, false);
  return rc == SB_EINVAL ? 0 : rc;
}

/* ---------------------------------------------------------------- checks */


static int store_copy(char **slot, const char *value, size_t len) {
  char *copy = malloc(len + 1);
  if (copy == NULL) return SB_ENOMEM;
  memcpy(copy, value, len);
  copy[len] = '\0';
  free(*slot);
  *slot = copy;
  return 0;
}

int sb__wh_set_id(sb_wh_item_t *it, char **slot, const char *field,
                  const char *value) {
  if (value == NULL) return sb__wh_item_fail(it, "missing field \"%s\"", field);
  size_t len = strnlen(value, SB_WEBHOOK_ID_MAX + 1);
  if (len == 0) return sb__wh_item_fail(it, "field \"%s\" is empty", field);
  if (len > SB_WEBHOOK_ID_MAX)
    return sb__wh_item_fail(it, "field \"%s\" exceeds %d bytes", field,
                            SB_WEBHOOK_ID_MAX);
  if (!sb_utf8_valid(value, len))
    return sb__wh_item_fail(it, "field \"%s\" is not valid UTF-8", field);
  if (sb_utf8_has_control(value))
    return sb__wh_item_fail(it, "field \"%s\" contains a control character",
                            field);
  return store_copy(slot, value, len);
}

int sb__wh_set_opt(sb_wh_item_t *it, char **slot, const char *field,
                   const char *value) {
  if (value == NULL || value[0] == '\0') return 0;
  return sb__wh_set_id(it, slot, field, value);
}

int sb__wh_set_text_take(sb_wh_item_t *it, char *value) {
  if (value == NULL) return SB_ENOMEM;
  size_t len = strlen(value);
  int rc = 0;
  if (len > SB_WEBHOOK_TEXT_MAX)
    rc = sb__wh_item_fail(it, "text exceeds %d bytes", SB_WEBHOOK_TEXT_MAX);
  else if (!sb_utf8_valid(value, len))
    rc = sb__wh_item_fail(it, "text is not valid UTF-8");
  if (rc != 0) {
    free(value);
    return rc;
  }
  free(it->text);
  it->text = value;
  return 0;
}

int sb__wh_set_phone(sb_wh_item_t *it, char **slot, const char *field,
                     const char *value) {
  size_t n = value != NULL ? strlen(value) : 0;
  if (n == 0 || n >= SB_WEBHOOK_ID_MAX || strspn(value, "0123456789") != n)
    return sb__wh_set_id(it, slot, field, value);
  char plus[SB_WEBHOOK_ID_MAX + 1];
  snprintf(plus, sizeof plus, "+%s", value);
  return sb__wh_set_id(it, slot, field, plus);
}

int sb__wh_set_status(sb_wh_item_t *it, const char *field, const char *value) {
  size_t n = value != NULL ? strlen(value) : 0;
  if (value != NULL && (n == 0 || n > STATUS_MAX ||
                        strspn(value, "abcdefghijklmnopqrstuvwxyz_") != n))
    return sb__wh_item_fail(it, "field \"%s\" is not a status word", field);
  return sb__wh_set_id(it, &it->status, field, value);
}

/* ------------------------------------------------------------ text buffer */

static void buf_add(sb__wh_buf_t *b, const char *s, size_t n) {
  if (b->failed) return;
  if (b->len + n + 1 > b->cap) {
    size_t cap = b->cap ? b->cap : BUF_INITIAL;
    while (cap < b->len + n + 1) cap *= 2;
    char *grown = realloc(b->p, cap);
    if (grown == NULL) {
      free(b->p);
      *b = (sb__wh_buf_t){NULL, 0, 0, true};
      return;
    }
    b->p = grown, b->cap = cap;
  }
  memcpy(b->p + b->len, s, n);
  b->len += n;
  b->p[b->len] = '\0';
}

void sb__wh_buf_word(sb__wh_buf_t *b, const char *s) {
  if (s == NULL || s[0] == '\0') return;
  if (b->len > 0) buf_add(b, " ", 1);
  buf_add(b, s, strlen(s));
}

void sb__wh_buf_label(sb__wh_buf_t *b, const char *label) {
  char word[LABEL_MAX + 3];
  size_t n = label != NULL ? strlen(label) : 0;
  bool token = n > 0 && n <= LABEL_MAX &&
               strspn(label, "abcdefghijklmnopqrstuvwxyz0123456789_") == n;
  snprintf(word, sizeof word, "[%s]", token ? label : "attachment");
  sb__wh_buf_word(b, word);
}

char *sb__wh_labelled(const char *label, const char *word) {
  sb__wh_buf_t buf = {NULL, 0, 0, false};
  sb__wh_buf_label(&buf, label);
  sb__wh_buf_word(&buf, word);
  return sb__wh_buf_take(&buf);
}

char *sb__wh_buf_take(sb__wh_buf_t *b) {
  char *s = b->failed ? NULL : b->p != NULL ? b->p : strdup("");
  *b = (sb__wh_buf_t){NULL, 0, 0, false};
  return s;
}

/* ------------------------------------------------------------------ JSON */

/* Walks the copy once: strings (escapes skipped whole, \u0000 rewritten to
 * \ufffd in place), nesting depth outside strings, no raw NUL anywhere. */
static int json_prescan(char *s, size_t len, size_t *bad) {
  bool in_string = false;
  int depth = 0;
  for (size_t i = 0; i < len; i++) {
    char c = s[i];
    *bad = i;
    if (c == '\0') return SB_EPARSE;
    if (in_string && c == '\\') {
      if (len - i >= ESCAPED_NUL_LEN &&
          memcmp(s + i, "\\u0000", ESCAPED_NUL_LEN) == 0)
        memcpy(s + i, "\\ufffd", ESCAPED_NUL_LEN);
      i++; /* the escaped character (hex digits are plain bytes) */
    } else if (c == '"') {
      in_string = !in_string;
    } else if (!in_string && (c == '[' || c == '{')) {
      if (++depth > SB_WEBHOOK_MAX_DEPTH) return SB_ETOOBIG;
    } else if (!in_string && (c == ']' || c == '}') && depth > 0) {
      depth--;
    }
  }
  return 0;
}

int sb__wh_json_deliver(const char *body, size_t len, sb_wh_batch_t *out, char *err,
                        size_t errlen, sb__wh_root_fn root_fn) {
  sb__wh_builder_t b;
  cJSON *root = NULL;
  int rc = sb__wh_begin(&b, out, err, errlen);
  if (rc == 0 && body == NULL) rc = SB_EINVAL;
  if (rc == 0) rc = sb__wh_json_parse(body, len, &root, err, errlen);
  if (rc == 0) rc = root_fn(&b, root, err, errlen);
  cJSON_Delete(root);
  return sb__wh_end(&b, rc, err, errlen);
}

int sb__wh_json_parse(const char *body, size_t len, cJSON **root, char *err,
                      size_t errlen) {
  size_t skip = len >= BOM_LEN && memcmp(body, "\xEF\xBB\xBF", BOM_LEN) == 0
                    ? BOM_LEN
                    : 0;
  size_t bad = 0;
  *root = NULL;
  char *copy = malloc(len - skip + 1);
  if (copy == NULL) return SB_ENOMEM;
  memcpy(copy, body + skip, len - skip);
  copy[len - skip] = '\0';
  int rc = json_prescan(copy, len - skip, &bad);
  if (rc == SB_ETOOBIG)
    sb__wh_reason(err, errlen, "JSON nested deeper than %d levels at byte %zu",
                  SB_WEBHOOK_MAX_DEPTH, bad + skip);
  const char *end = copy;
  if (rc == 0) *root = cJSON_ParseWithOpts(copy, &end, 1);
  if (rc == SB_EPARSE || (rc == 0 && *root == NULL)) {
    sb__wh_reason(err, errlen, "invalid JSON at byte %zu",
                  (rc == 0 ? (size_t)(end - copy) : bad) + skip);
    rc = SB_EPARSE;
  }
  free(copy);
  return rc;
}

const cJSON *sb__wh_get(const cJSON *obj, const char *name) {
  if (!cJSON_IsObject(obj)) return NULL;
  const cJSON *m = cJSON_GetObjectItemCaseSensitive(obj, name);
  return cJSON_IsNull(m) ? NULL : m;
}

const char *sb__wh_str(const cJSON *obj, const char *name) {
  const cJSON *m = sb__wh_get(obj, name);
  return cJSON_IsString(m) ? m->valuestring : NULL;
}

const cJSON *sb__wh_array(const cJSON *obj, const char *name) {
  const cJSON *m = sb__wh_get(obj, name);
  return cJSON_IsArray(m) ? m : NULL;
}

const cJSON *sb__wh_object(const cJSON *obj, const char *name) {
  const cJSON *m = sb__wh_get(obj, name);
  return cJSON_IsObject(m) ? m : NULL;
}

bool sb__wh_true(const cJSON *obj, const char *name) {
  return cJSON_IsTrue(sb__wh_get(obj, name));
}

bool sb__wh_int(const cJSON *obj, const char *name, int64_t *out) {
  const cJSON *m = sb__wh_get(obj, name);
  if (!cJSON_IsNumber(m)) return false;
  double d = m->valuedouble;
  if (!(d >= -JSON_INT_MAX && d <= JSON_INT_MAX) || d != (double)(int64_t)d) return false;
  *out = (int64_t)d;
  return true;
}

int64_t sb__wh_uint(const cJSON *obj, const char *name) {
  int64_t v;
  return sb__wh_int(obj, name, &v) && v >= 0 ? v : -1;
}

int64_t sb__wh_decimal(const char *s) {
  size_t n = s != NULL ? strlen(s) : 0;
  if (n == 0 || n > DECIMAL_DIGITS_MAX || strspn(s, "0123456789") != n)
    return -1;
  int64_t v = 0;
  for (size_t i = 0; i < n; i++) v = v * 10 + (s[i] - '0');
  return v;
}

int64_t sb__wh_epoch_ms(int64_t t) {
  if (t <= 0) return 0;
  return t < EPOCH_SECONDS_BELOW ? t * MS_PER_SECOND : t;
}

/* ------------------------------------------------------------ form fields */

/* The value of form field name as a C string in *value (NULL if absent); a
 * value holding a NUL byte marks the item malformed. */
static int form_cstr(sb_wh_item_t *it, const sb_form_t *f, const char *name,
                     const char **value) {
  const sb_form_field_t *field = sb_form_find(f, name);
  *value = NULL;
  if (field == NULL) return 0;
  if (strlen(field->value) != field->value_len)
    return sb__wh_item_fail(it, "field \"%s\" holds a NUL byte", name);
  *value = field->value;
  return 0;
}

/* ---------------------------------------------------------------- Twilio */

static const char *strip_whatsapp(const char *v) {
  size_t n = sizeof WHATSAPP_PREFIX - 1;
  return v != NULL && strncmp(v, WHATSAPP_PREFIX, n) == 0 ? v + n : v;
}

static const char *twilio_channel(const sb_form_t *f) {
  const char *from = sb_form_get(f, "From"), *to = sb_form_get(f, "To");
  return (from != NULL && strip_whatsapp(from) != from) ||
                 (to != NULL && strip_whatsapp(to) != to)
             ? "whatsapp"
             : "sms";
}

/* "[image]" per MediaContentType<i> ("image/jpeg" -> image), then Body. */
static int twilio_text(sb_wh_item_t *it, const sb_form_t *f) {
  const char *num = NULL, *body = NULL, *type = NULL;
  sb__wh_buf_t buf = {NULL, 0, 0, false};
  int rc = form_cstr(it, f, "NumMedia", &num);
  if (rc == 0) rc = form_cstr(it, f, "Body", &body);
  int64_t media = num != NULL ? sb__wh_decimal(num) : 0;
  if (rc == 0 && (media < 0 || media > TWILIO_MEDIA_MAX))
    rc = sb__wh_item_fail(it, "field \"NumMedia\" must be 0..%d",
                          TWILIO_MEDIA_MAX);
  for (int64_t i = 0; rc == 0 && i < media; i++) {
    char name[MEDIA_FIELD_MAX], major[LABEL_MAX + 1] = "";
    snprintf(name, sizeof name, "MediaContentType%d", (int)i);
    rc = form_cstr(it, f, name, &type);
    if (type != NULL)
      snprintf(major, sizeof major, "%.*s", (int)strcspn(type, "/"), type);
    sb__wh_buf_label(&buf, strcmp(major, "application") == 0 ? "file" : major);
  }
  sb__wh_buf_word(&buf, body);
  char *text = sb__wh_buf_take(&buf);
  if (rc != 0) {
    free(text);
    return rc;
  }
  return sb__wh_set_text_take(it, text);
}

/* The message id (MessageSid, or SmsSid from older APIs) into the item. */
static int twilio_sid(sb_wh_item_t *it, const sb_form_t *f,
                      const char *sid_name) {
  const char *sid = NULL;
  int rc = form_cstr(it, f, sid_name, &sid);
  return rc == 0 ? sb__wh_set_id(it, &it->platform_message_id, sid_name, sid)
                 : rc;
}

static int twilio_message(sb__wh_builder_t *b, const sb_form_t *f,
                          const char *sid_name) {
  sb_wh_item_t *it;
  const char *from = NULL, *name = NULL, *replied = NULL;
  int rc = sb__wh_item_new(b, SB_WH_MESSAGE, twilio_channel(f), &it);
  if (rc != 0) return rc;
  rc = twilio_sid(it, f, sid_name);
  if (rc == 0) rc = form_cstr(it, f, "From", &from);
  if (rc == 0)
    rc = sb__wh_set_id(it, &it->customer, "From", strip_whatsapp(from));
  if (rc == 0) rc = form_cstr(it, f, "ProfileName", &name);
  if (rc == 0) rc = sb__wh_set_opt(it, &it->author_name, "ProfileName", name);
  if (rc == 0) rc = form_cstr(it, f, "OriginalRepliedMessageSid", &replied);
  if (rc == 0)
    rc =
        sb__wh_set_opt(it, &it->reply_to, "OriginalRepliedMessageSid", replied);
  if (rc == 0) rc = twilio_text(it, f);
  return sb__wh_item_done(it, rc);
}

/* A status callback: what happened to the message we sent to To. */
static int twilio_status(sb__wh_builder_t *b, const sb_form_t *f,
                         const char *sid_name) {
  sb_wh_item_t *it;
  const char *to = NULL, *status = NULL;
  int rc = sb__wh_item_new(b, SB_WH_STATUS, twilio_channel(f), &it);
  if (rc != 0) return rc;
  rc = twilio_sid(it, f, sid_name);
  if (rc == 0) rc = form_cstr(it, f, "MessageStatus", &status);
  if (rc == 0) rc = sb__wh_set_status(it, "MessageStatus", status);
  if (rc == 0) rc = form_cstr(it, f, "To", &to);
  if (rc == 0) rc = sb__wh_set_opt(it, &it->customer, "To", strip_whatsapp(to));
  return sb__wh_item_done(it, rc);
}

static int twilio_item(sb__wh_builder_t *b, const sb_form_t *f, char *err,
                       size_t errlen) {
  const char *sid_name = sb_form_find(f, "MessageSid") != NULL ? "MessageSid"
                         : sb_form_find(f, "SmsSid") != NULL   ? "SmsSid"
                                                               : NULL;
  if (sid_name == NULL) {
    sb__wh_reason(err, errlen, "not a Twilio messaging webhook: no MessageSid");
    return SB_EPARSE;
  }
  bool status = sb_form_find(f, "MessageStatus") != NULL &&
                sb_form_find(f, "Body") == NULL;
  return status ? twilio_status(b, f, sid_name)
                : twilio_message(b, f, sid_name);
}

int sb_webhook_twilio_parse(const sb_form_t *form, sb_wh_batch_t *out,
                            char *err, size_t errlen) {
  sb__wh_builder_t b;
  int rc = sb__wh_begin(&b, out, err, errlen);
  if (rc == 0 && form == NULL) rc = SB_EINVAL;
  if (rc == 0) rc = twilio_item(&b, form, err, errlen);
  return sb__wh_end(&b, rc, err, errlen);
}

/* ---------------------------------------------------------------- e-mail */

typedef struct {
  const char *p;
  size_t len;
} span_t;

static bool is_space(char c) {
  return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static span_t span_trim(span_t s) {
  while (s.len > 0 && is_space(s.p[0])) s.p++, s.len--;
  while (s.len > 0 && is_space(s.p[s.len - 1])) s.len--;
  return s;
}

/* End of the logical header line starting at line: continuation lines
 * (starting with SP or HT) belong to it. Points at its final LF or NUL. */
static const char *header_end(const char *line) {
  const char *eol = strchr(line, '\n');
  while (eol != NULL && (eol[1] == ' ' || eol[1] == '\t'))
    eol = strchr(eol + 1, '\n');
  return eol != NULL ? eol : line + strlen(line);
}

/* The value of the first header called name (case-insensitive) in a raw
 * header block; the block ends at its first empty line. */
static bool header_find(const char *block, const char *name, span_t *value) {
  size_t nlen = strlen(name);
  for (const char *line = block; line != NULL && *line != '\0';) {
    const char *end = header_end(line);
    if (line[0] == '\n' || (line[0] == '\r' && line[1] == '\n')) return false;
    if (strncasecmp(line, name, nlen) == 0 && line[nlen] == ':') {
      *value =
          span_trim((span_t){line + nlen + 1, (size_t)(end - line) - nlen - 1});
      return true;
    }
    line = *end != '\0' ? end + 1 : NULL;
  }
  return false;
}

/* The first "<id>" of a Message-ID style value, brackets removed; a value
 * without brackets gives its first word. Empty when there is none. */
static span_t first_msg_id(span_t v) {
  const char *lt = memchr(v.p, '<', v.len);
  if (lt != NULL) {
    const char *gt = memchr(lt, '>', v.len - (size_t)(lt - v.p));
    return gt != NULL ? (span_t){lt + 1, (size_t)(gt - lt - 1)}
                      : (span_t){v.p, 0};
  }
  size_t n = 0;
  while (n < v.len && !is_space(v.p[n])) n++;
  return (span_t){v.p, n};
}

/* Stores the first message id of header name, if any, in *slot. */
static int email_msg_id(sb_wh_item_t *it, const char *headers, const char *name,
                        char **slot) {
  span_t v, id;
  char copy[SB_WEBHOOK_ID_MAX + 1];
  if (headers == NULL || !header_find(headers, name, &v)) return 0;
  id = first_msg_id(v);
  if (id.len == 0) return 0;
  if (id.len > SB_WEBHOOK_ID_MAX)
    return sb__wh_item_fail(it, "header \"%s\" exceeds %d bytes", name,
                            SB_WEBHOOK_ID_MAX);
  memcpy(copy, id.p, id.len);
  copy[id.len] = '\0';
  return sb__wh_set_id(it, slot, name, copy);
}

/* RFC 3834: anything but "Auto-Submitted: no" is a machine's message. */
static bool email_auto_submitted(const char *headers) {
  span_t v;
  if (headers == NULL || !header_find(headers, "Auto-Submitted", &v))
    return false;
  size_t n = 0;
  while (n < v.len && v.p[n] != ';' && v.p[n] != '(' && !is_space(v.p[n])) n++;
  return !(n == 2 && strncasecmp(v.p, "no", 2) == 0);
}

/* The first '<' of s outside a quoted display name, or NULL. */
static const char *angle_open(const char *s) {
  bool quoted = false;
  for (; *s != '\0'; s++) {
    if (quoted && *s == '\\' && s[1] != '\0') {
      s++;
    } else if (*s == '"') {
      quoted = !quoted;
    } else if (!quoted && *s == '<') {
      return s;
    }
  }
  return NULL;
}

/* addr-spec sanity: one '@' between non-empty parts, no spaces, brackets
 * or separators; lowercased into out (cap > SB_WEBHOOK_ID_MAX). */
static bool address_copy(span_t a, char *out) {
  const char *at = memchr(a.p, '@', a.len);
  if (a.len == 0 || a.len > SB_WEBHOOK_ID_MAX || at == NULL || at == a.p ||
      at == a.p + a.len - 1 ||
      memchr(at + 1, '@', a.len - (size_t)(at + 1 - a.p)))
    return false;
  for (size_t i = 0; i < a.len; i++) {
    unsigned char c = (unsigned char)a.p[i];
    if (c <= ' ' || c == 0x7F || strchr("<>()[],;:\"\\", c) != NULL)
      return false;
    out[i] = (char)(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
  }
  out[a.len] = '\0';
  return true;
}

/* The display name before '<', unquoted; dropped when it is not clean
 * (too long, invalid UTF-8, control characters): the address is what
 * identifies the customer, the name is a courtesy. */
static int email_display_name(sb_wh_item_t *it, span_t d) {
  char name[SB_WEBHOOK_ID_MAX + 1];
  size_t n = 0, i = 0;
  d = span_trim(d);
  bool quoted = d.len >= 2 && d.p[0] == '"' && d.p[d.len - 1] == '"';
  if (quoted) d.p++, d.len -= 2;
  for (; i < d.len && n < SB_WEBHOOK_ID_MAX; i++, n++) {
    if (quoted && d.p[i] == '\\' && i + 1 < d.len) i++;
    name[n] = d.p[i];
  }
  name[n] = '\0';
  bool clean =
      n > 0 && i == d.len && sb_utf8_valid(name, n) && !sb_utf8_has_control(name);
  return clean ? sb__wh_set_id(it, &it->author_name, "from", name) : 0;
}

/* customer = the address inside From, author_name = its display name. */
static int email_from(sb_wh_item_t *it, const char *from) {
  char addr[SB_WEBHOOK_ID_MAX + 1];
  span_t a = {"", 0};
  if (from == NULL) return sb__wh_item_fail(it, "missing field \"from\"");
  const char *lt = angle_open(from);
  const char *gt = lt != NULL ? strchr(lt, '>') : NULL;
  if (gt != NULL) {
    a = (span_t){lt + 1, (size_t)(gt - lt - 1)};
  } else if (lt == NULL) {
    const char *s = from + strspn(from, " \t\r\n");
    a = (span_t){s, strcspn(s, " \t\r\n,(")};
  }
  if (!address_copy(span_trim(a), addr))
    return sb__wh_item_fail(it, "field \"from\" holds no e-mail address");
  int rc = sb__wh_set_id(it, &it->customer, "from", addr);
  if (rc == 0 && lt != NULL)
    rc = email_display_name(it, (span_t){from, (size_t)(lt - from)});
  return rc;
}

/* subject, a blank line, the body ("[html]" when only HTML came), cut at
 * SB_WEBHOOK_TEXT_MAX before a UTF-8 continuation byte. malloc'd. */
static char *email_text(const char *subject, const char *body,
                        const char *html) {
  if (body == NULL) body = html != NULL ? "[html]" : "";
  if (subject == NULL) subject = "";
  size_t sl = strlen(subject), bl = strlen(body);
  size_t gap = sl > 0 && bl > 0 ? 2 : 0, n = sl + gap + bl;
  char *t = malloc(n + 1);
  if (t == NULL) return NULL;
  memcpy(t, subject, sl);
  memcpy(t + sl, "\n\n", gap);
  memcpy(t + sl + gap, body, bl);
  if (n > SB_WEBHOOK_TEXT_MAX) {
    n = SB_WEBHOOK_TEXT_MAX;
    while (n > 0 && ((unsigned char)t[n] & 0xC0) == 0x80) n--;
  }
  t[n] = '\0';
  return t;
}

/* Message-ID, or a stable stand-in from the bytes a redelivery repeats. */
static int email_id(sb_wh_item_t *it, const char *headers, const char *text) {
  char key[SB_EVENT_KEY_LEN + 1], id[sizeof NOMSGID_PREFIX + SB_EVENT_KEY_LEN];
  int rc = email_msg_id(it, headers, "Message-ID", &it->platform_message_id);
  if (rc != 0 || it->platform_message_id != NULL) return rc;
  sb_event_key(headers != NULL ? headers : "", text != NULL ? text : "", key);
  snprintf(id, sizeof id, "%s%s", NOMSGID_PREFIX, key);
  return sb__wh_set_id(it, &it->platform_message_id, "Message-ID", id);
}

/* In-Reply-To -> reply_to; References root (else In-Reply-To) -> thread. */
static int email_threading(sb_wh_item_t *it, const char *headers) {
  int rc = email_msg_id(it, headers, "In-Reply-To", &it->reply_to);
  if (rc == 0) rc = email_msg_id(it, headers, "References", &it->thread_hint);
  if (rc == 0 && it->thread_hint == NULL && it->reply_to != NULL)
    rc = sb__wh_set_id(it, &it->thread_hint, "In-Reply-To", it->reply_to);
  return rc;
}

/* The Subject kept for an answer's "Re:": control characters (a folded
 * header's CR LF, tabs) as spaces, cut at SB_WEBHOOK_SUBJECT_MAX before a
 * UTF-8 continuation byte; invalid UTF-8 or only spaces: none. */
static int email_subject(sb_wh_item_t *it, const char *subject) {
  size_t n = subject != NULL ? strlen(subject) : 0;
  if (n > SB_WEBHOOK_SUBJECT_MAX) {
    n = SB_WEBHOOK_SUBJECT_MAX;
    while (n > 0 && ((unsigned char)subject[n] & 0xC0) == 0x80) n--;
  }
  if (n == 0 || !sb_utf8_valid(subject, n)) return 0;
  char *s = malloc(n + 1);
  if (s == NULL) return SB_ENOMEM;
  bool blank = true;
  for (size_t i = 0; i < n; i++) {
    unsigned char c = (unsigned char)subject[i];
    s[i] = c < 0x20 || c == 0x7f ? ' ' : (char)c;
    if (s[i] != ' ') blank = false;
  }
  s[n] = '\0';
  if (blank) {
    free(s);
    return 0;
  }
  free(it->subject);
  it->subject = s;
  return 0;
}

static int email_fields(sb_wh_item_t *it, const sb_form_t *f) {
  const char *headers = NULL, *from = NULL, *subject = NULL, *text = NULL,
             *html = NULL;
  int rc = form_cstr(it, f, "headers", &headers);
  if (rc == 0) rc = form_cstr(it, f, "from", &from);
  if (rc == 0) rc = form_cstr(it, f, "subject", &subject);
  if (rc == 0) rc = form_cstr(it, f, "text", &text);
  if (rc == 0) rc = form_cstr(it, f, "html", &html);
  if (rc == 0 && email_auto_submitted(headers)) return sb__wh_item_ignore(it);
  if (rc == 0) rc = email_id(it, headers, text);
  if (rc == 0) rc = email_from(it, from);
  if (rc == 0) rc = email_threading(it, headers);
  if (rc == 0) rc = email_subject(it, subject);
  if (rc == 0) rc = sb__wh_set_text_take(it, email_text(subject, text, html));
  return rc;
}

int sb_webhook_email_parse(const sb_form_t *form, sb_wh_batch_t *out, char *err,
                           size_t errlen) {
  sb__wh_builder_t b;
  sb_wh_item_t *it;
  int rc = sb__wh_begin(&b, out, err, errlen);
  if (rc == 0 && form == NULL) rc = SB_EINVAL;
  if (rc == 0 && sb_form_find(form, "from") == NULL &&
      sb_form_find(form, "headers") == NULL) {
    sb__wh_reason(err, errlen, "not an inbound e-mail: no from or headers");
    rc = SB_EPARSE;
  }
  if (rc == 0) rc = sb__wh_item_new(&b, SB_WH_MESSAGE, "email", &it);
  if (rc == 0) rc = sb__wh_item_done(it, email_fields(it, form));
  return sb__wh_end(&b, rc, err, errlen);
}
