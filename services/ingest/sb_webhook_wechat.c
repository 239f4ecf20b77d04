/*
 * sb_webhook_wechat: WeChat Official Account messages (XML) into sb_webhook
 * items. See sb_webhook.h for the contract.
 *
 * A WeChat body is one flat element, <xml>, whose children are the fields
 * of one message (<MsgType><![CDATA[text]]></MsgType>, ...). expat reads it
 * in one pass into a fixed table of the fields we know; everything else is
 * skipped. The message type then picks the reader from a table, as the
 * JSON platforms do.
 *
 * Invariants (the XML is hostile until proven otherwise; in plaintext mode
 * WeChat's signature does not even cover it):
 *   - no DTD is ever read: a DOCTYPE stops the parser at its first byte,
 *     before any entity declaration, so no entity can be defined, expanded
 *     (billion laughs) or fetched (external entities); parameter entity
 *     parsing stays off and a reference to an undeclared entity is an
 *     expat error;
 *   - input is UTF-8 only: the parser is created for UTF-8 (a UTF-16 byte
 *     order mark or invalid bytes are errors) and a declaration naming
 *     another encoding is refused;
 *   - the body is bounded (SB_WEBHOOK_XML_MAX bytes, SB_WEBHOOK_XML_DEPTH
 *     levels) before and while expat reads it; a field's value is
 *     therefore bounded by the body;
 *   - reasons name fields and expat's own error text, never values.
 */
#include <expat.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h> /* strcasecmp: WeChat spells events in either case */
#include <sys/random.h>

#include "sb_error.h"
#include "sb_webhook.h"
#include "sb_webhook_internal.h"

static const char CH_WECHAT[] = "wechat";
static const char ROOT[] = "xml";

enum { COORDS_MAX = 64, EVENT_ID_MAX = SB_WEBHOOK_ID_MAX + 32 };

/* The fields we read; the names are WeChat's. */
typedef enum {
  F_FROM,
  F_CREATE_TIME,
  F_MSG_TYPE,
  F_CONTENT,
  F_MSG_ID,
  F_RECOGNITION,
  F_LOCATION_X,
  F_LOCATION_Y,
  F_LABEL,
  F_TITLE,
  F_DESCRIPTION,
  F_URL,
  F_EVENT,
  F_EVENT_KEY,
  F_ENCRYPT,
  F_COUNT
} wx_field_t;

static const char *const FIELD_NAMES[F_COUNT] = {
    [F_FROM] = "FromUserName",     [F_CREATE_TIME] = "CreateTime",
    [F_MSG_TYPE] = "MsgType",      [F_CONTENT] = "Content",
    [F_MSG_ID] = "MsgId",          [F_RECOGNITION] = "Recognition",
    [F_LOCATION_X] = "Location_X", [F_LOCATION_Y] = "Location_Y",
    [F_LABEL] = "Label",           [F_TITLE] = "Title",
    [F_DESCRIPTION] = "Description", [F_URL] = "Url",
    [F_EVENT] = "Event",           [F_EVENT_KEY] = "EventKey",
    [F_ENCRYPT] = "Encrypt",
};

/* One body being read. */
typedef struct {
  XML_Parser p;
  int depth;
  int field;                /* the field being read (depth 2), or -1 */
  char *value[F_COUNT];     /* malloc'd, NUL-terminated; NULL when absent */
  size_t len[F_COUNT];
  const char *refused;      /* why a handler stopped the parser */
  int rc;                   /* SB_EPARSE, SB_ETOOBIG or SB_ENOMEM with it */
} wx_doc_t;

/* --------------------------------------------------------------- reading */

static void refuse(wx_doc_t *d, int rc, const char *reason) {
  if (d->refused != NULL) return;
  d->refused = reason;
  d->rc = rc;
  XML_StopParser(d->p, XML_FALSE);
}

static int field_of(const XML_Char *name) {
  for (int i = 0; i < F_COUNT; i++)
    if (strcmp(name, FIELD_NAMES[i]) == 0) return i;
  return -1;
}

static void XMLCALL on_start(void *arg, const XML_Char *name,
                             const XML_Char **atts) {
  wx_doc_t *d = arg;
  (void)atts;
  if (++d->depth > SB_WEBHOOK_XML_DEPTH) {
    refuse(d, SB_ETOOBIG, "XML nested too deeply");
  } else if (d->depth == 1 && strcmp(name, ROOT) != 0) {
    refuse(d, SB_EPARSE, "the root element must be <xml>");
  } else if (d->depth == 2 && (d->field = field_of(name)) >= 0) {
    if (d->value[d->field] != NULL) {
      refuse(d, SB_EPARSE, "a field appears twice");
    } else if ((d->value[d->field] = calloc(1, 1)) == NULL) {
      refuse(d, SB_ENOMEM, "out of memory");
    }
  }
}

static void XMLCALL on_end(void *arg, const XML_Char *name) {
  wx_doc_t *d = arg;
  (void)name;
  if (d->depth == 2) d->field = -1;
  d->depth--;
}

/* Text and CDATA directly inside a known field. */
static void XMLCALL on_text(void *arg, const XML_Char *s, int n) {
  wx_doc_t *d = arg;
  if (d->depth != 2 || d->field < 0 || n <= 0) return;
  size_t old = d->len[d->field];
  char *grown = realloc(d->value[d->field], old + (size_t)n + 1);
  if (grown == NULL) {
    refuse(d, SB_ENOMEM, "out of memory");
    return;
  }
  memcpy(grown + old, s, (size_t)n);
  grown[old + (size_t)n] = '\0';
  d->value[d->field] = grown;
  d->len[d->field] = old + (size_t)n;
}

static void XMLCALL on_doctype(void *arg, const XML_Char *name,
                               const XML_Char *sysid, const XML_Char *pubid,
                               int has_internal_subset) {
  (void)name, (void)sysid, (void)pubid, (void)has_internal_subset;
  refuse(arg, SB_EPARSE, "a DOCTYPE is not allowed");
}

/* Unreachable without a DOCTYPE; kept so that no future handler change
 * can let a declaration through. */
static void XMLCALL on_entity(void *arg, const XML_Char *name, int is_param,
                              const XML_Char *value, int value_len,
                              const XML_Char *base, const XML_Char *sysid,
                              const XML_Char *pubid, const XML_Char *notation) {
  (void)name, (void)is_param, (void)value, (void)value_len, (void)base;
  (void)sysid, (void)pubid, (void)notation;
  refuse(arg, SB_EPARSE, "entity declarations are not allowed");
}

static void XMLCALL on_decl(void *arg, const XML_Char *version,
                            const XML_Char *encoding, int standalone) {
  (void)version, (void)standalone;
  if (encoding != NULL && strcasecmp(encoding, "UTF-8") != 0)
    refuse(arg, SB_EPARSE, "the XML encoding must be UTF-8");
}

/* Expat salts its hash tables against collision floods; left alone it asks
 * the kernel (getrandom) for a new salt in every XML_ParserCreate, a system
 * call that cost about as much as parsing a whole message. One random salt
 * per process, drawn once, keeps the protection without the call. */
static unsigned long hash_salt;
static pthread_once_t hash_salt_once = PTHREAD_ONCE_INIT;

static void hash_salt_draw(void) {
  unsigned long s = 0;
  while (getrandom(&s, sizeof s, 0) != (ssize_t)sizeof s) {
  }
  hash_salt = s ? s : 1; /* expat reads 0 as "not set" */
}

/* Each thread keeps one parser and resets it for the next body: creating
 * and freeing an expat parser per body cost more than parsing a message,
 * and safe mode parses two documents per delivery. XML_ParserReset clears
 * every handler and all document state (so nothing of a hostile body
 * survives); doc_read sets them again. */
static _Thread_local XML_Parser cached_parser;

static XML_Parser parser_take(void) {
  XML_Parser p = cached_parser;
  cached_parser = NULL;
  if (p != NULL && XML_ParserReset(p, "UTF-8") == XML_TRUE) return p;
  if (p != NULL) XML_ParserFree(p);
  return XML_ParserCreate("UTF-8");
}

static void parser_give_back(XML_Parser p) {
  if (cached_parser == NULL) cached_parser = p;
  else XML_ParserFree(p);
}

static void doc_free(wx_doc_t *d) {
  for (int i = 0; i < F_COUNT; i++) free(d->value[i]);
  if (d->p != NULL) parser_give_back(d->p);
  memset(d, 0, sizeof *d);
}

/* Reads body into d (doc_free it in every case). */
static int doc_read(wx_doc_t *d, const char *body, size_t len, char *err,
                    size_t errlen) {
  memset(d, 0, sizeof *d);
  d->field = -1;
  if (len > SB_WEBHOOK_XML_MAX) {
    sb__wh_reason(err, errlen, "XML body over %d bytes", SB_WEBHOOK_XML_MAX);
    return SB_ETOOBIG;
  }
  d->p = parser_take();
  if (d->p == NULL) return SB_ENOMEM;
  pthread_once(&hash_salt_once, hash_salt_draw);
  XML_SetHashSalt(d->p, hash_salt);
  XML_SetUserData(d->p, d);
  XML_SetElementHandler(d->p, on_start, on_end);
  XML_SetCharacterDataHandler(d->p, on_text);
  XML_SetStartDoctypeDeclHandler(d->p, on_doctype);
  XML_SetEntityDeclHandler(d->p, on_entity);
  XML_SetXmlDeclHandler(d->p, on_decl);
  XML_SetParamEntityParsing(d->p, XML_PARAM_ENTITY_PARSING_NEVER);
  if (XML_Parse(d->p, body, (int)len, XML_TRUE) == XML_STATUS_OK) return 0;
  if (d->refused != NULL) {
    sb__wh_reason(err, errlen, "%s", d->refused);
    return d->rc;
  }
  enum XML_Error e = XML_GetErrorCode(d->p);
  if (e == XML_ERROR_NO_MEMORY) return SB_ENOMEM;
  sb__wh_reason(err, errlen, "invalid XML at line %lu column %lu: %s",
                (unsigned long)XML_GetCurrentLineNumber(d->p),
                (unsigned long)XML_GetCurrentColumnNumber(d->p),
                XML_ErrorString(e));
  return SB_EPARSE;
}

static const char *field(const wx_doc_t *d, wx_field_t f) {
  return d->value[f];
}

/* --------------------------------------------------------------- content */

/* "[label] ..." from words, any of them NULL or "". */
static int labelled_text(sb_wh_item_t *it, const char *label,
                         const char *const *words, size_t n) {
  sb__wh_buf_t buf = {NULL, 0, 0, false};
  sb__wh_buf_label(&buf, label);
  for (size_t i = 0; i < n; i++) sb__wh_buf_word(&buf, words[i]);
  return sb__wh_set_text_take(it, sb__wh_buf_take(&buf));
}

static int wx_text(sb_wh_item_t *it, const wx_doc_t *d, const char *type) {
  const char *content = field(d, F_CONTENT);
  if (content == NULL) return sb__wh_item_fail(it, "missing field \"Content\"");
  return sb__wh_set_text_take(it, strdup(content));
}

static int wx_voice(sb_wh_item_t *it, const wx_doc_t *d, const char *type) {
  const char *words[] = {field(d, F_RECOGNITION)};
  return labelled_text(it, "voice", words, 1);
}

/* "[location] Label (X, Y)": WeChat sends the coordinates as text. */
static int wx_location(sb_wh_item_t *it, const wx_doc_t *d, const char *type) {
  char coords[COORDS_MAX] = "";
  const char *x = field(d, F_LOCATION_X), *y = field(d, F_LOCATION_Y);
  if (x != NULL && y != NULL) {
    int n = snprintf(coords, sizeof coords, "(%s, %s)", x, y);
    if (n < 0 || (size_t)n >= sizeof coords) coords[0] = '\0'; /* not a place */
  }
  const char *words[] = {field(d, F_LABEL), coords};
  return labelled_text(it, "location", words, 2);
}

static int wx_link(sb_wh_item_t *it, const wx_doc_t *d, const char *type) {
  const char *words[] = {field(d, F_TITLE), field(d, F_DESCRIPTION),
                         field(d, F_URL)};
  return labelled_text(it, "link", words, 3);
}

/* image, video, shortvideo and types we do not know: "[type]". */
static int wx_media(sb_wh_item_t *it, const wx_doc_t *d, const char *type) {
  return labelled_text(it, strcmp(type, "shortvideo") == 0 ? "video" : type,
                       NULL, 0);
}

typedef int (*wx_content_fn)(sb_wh_item_t *it, const wx_doc_t *d,
                             const char *type);

static const struct {
  const char *type;
  wx_content_fn fn;
} WX_CONTENT[] = {
    {"text", wx_text},   {"voice", wx_voice}, {"location", wx_location},
    {"link", wx_link},   {"image", wx_media}, {"video", wx_media},
    {"shortvideo", wx_media},
};

static wx_content_fn content_reader(const char *type) {
  for (size_t i = 0; i < sizeof WX_CONTENT / sizeof WX_CONTENT[0]; i++)
    if (strcmp(type, WX_CONTENT[i].type) == 0) return WX_CONTENT[i].fn;
  return wx_media;
}

/* ------------------------------------------------------------------ items */

static int wx_sender(sb_wh_item_t *it, const wx_doc_t *d) {
  int64_t t = sb__wh_decimal(field(d, F_CREATE_TIME));
  it->time_ms = sb__wh_epoch_ms(t);
  return sb__wh_set_id(it, &it->customer, "FromUserName", field(d, F_FROM));
}

static int wx_message(sb__wh_builder_t *b, const wx_doc_t *d,
                      const char *type) {
  sb_wh_item_t *it;
  int rc = sb__wh_item_new(b, SB_WH_MESSAGE, CH_WECHAT, &it);
  if (rc != 0) return rc;
  rc = sb__wh_set_id(it, &it->platform_message_id, "MsgId",
                     field(d, F_MSG_ID));
  if (rc == 0) rc = wx_sender(it, d);
  if (rc == 0) rc = content_reader(type)(it, d, type);
  return sb__wh_item_done(it, rc);
}

/* A menu click: the one event a customer means as a message. Events carry
 * no MsgId; sender and CreateTime identify one (WeChat's own advice). */
static int wx_click(sb__wh_builder_t *b, const wx_doc_t *d) {
  sb_wh_item_t *it;
  char id[EVENT_ID_MAX];
  const char *from = field(d, F_FROM), *when = field(d, F_CREATE_TIME);
  int rc = sb__wh_item_new(b, SB_WH_MESSAGE, CH_WECHAT, &it);
  if (rc != 0) return rc;
  if (from == NULL || sb__wh_decimal(when) < 0)
    return sb__wh_item_done(
        it, sb__wh_item_fail(it, "event needs FromUserName and CreateTime"));
  snprintf(id, sizeof id, "event:%s:%s", from, when);
  rc = sb__wh_set_id(it, &it->platform_message_id, "FromUserName", id);
  if (rc == 0) rc = wx_sender(it, d);
  const char *words[] = {field(d, F_EVENT_KEY)};
  if (rc == 0) rc = labelled_text(it, "click", words, 1);
  return sb__wh_item_done(it, rc);
}

static int wx_item(sb__wh_builder_t *b, const wx_doc_t *d, char *err,
                   size_t errlen) {
  const char *type = field(d, F_MSG_TYPE);
  if (type == NULL || type[0] == '\0') {
    sb__wh_reason(err, errlen, "not a WeChat message: no MsgType");
    return SB_EPARSE;
  }
  if (strcmp(type, "event") != 0) return wx_message(b, d, type);
  const char *event = field(d, F_EVENT);
  if (event != NULL && strcasecmp(event, "CLICK") == 0) return wx_click(b, d);
  return sb__wh_item_ignored(b, CH_WECHAT); /* subscribe, unsubscribe, ... */
}

int sb_webhook_wechat_parse(const char *body, size_t len, sb_wh_batch_t *out,
                            char *err, size_t errlen) {
  sb__wh_builder_t b;
  wx_doc_t d;
  int rc = sb__wh_begin(&b, out, err, errlen);
  if (rc == 0 && body == NULL) rc = SB_EINVAL;
  if (rc == 0) {
    rc = doc_read(&d, body, len, err, errlen);
    if (rc == 0) rc = wx_item(&b, &d, err, errlen);
    doc_free(&d);
  }
  return sb__wh_end(&b, rc, err, errlen);
}

int sb_webhook_wechat_encrypted(const char *body, size_t len, char **encrypt,
                                char *err, size_t errlen) {
  wx_doc_t d;
  sb__wh_reason(err, errlen, "%s", "");
  if (encrypt == NULL || body == NULL) return SB_EINVAL;
  *encrypt = NULL;
  int rc = doc_read(&d, body, len, err, errlen);
  if (rc == 0 && (d.value[F_ENCRYPT] == NULL || d.len[F_ENCRYPT] == 0)) {
    sb__wh_reason(err, errlen, "safe-mode body without an Encrypt field");
    rc = SB_EPARSE;
  }
  if (rc == 0) {
    *encrypt = d.value[F_ENCRYPT];
    d.value[F_ENCRYPT] = NULL;
  }
  doc_free(&d);
  if (rc != 0 && err != NULL && errlen > 0 && err[0] == '\0')
    sb__wh_reason(err, errlen, "%s", sb_strerror(rc));
  return rc;
}
