/*
 * sb_webhook_internal: what the platform readers of sb_webhook share (not a
 * public interface; include only from sb_webhook*.c and their tests).
 *
 * The module is one noun split over three files to stay readable:
 * sb_webhook.c (items, JSON intake, Twilio, e-mail), sb_webhook_meta.c,
 * sb_webhook_x.c, sb_webhook_wechat.c (XML), sb_webhook_telegram.c and
 * sb_webhook_line.c. Readers fill items through the setters below, which
 * validate every string (UTF-8, length, control characters) as it is
 * stored. A setter that finds bad input marks the item malformed and
 * returns SB_EINVAL; sb__wh_item_done then turns that into success for the
 * delivery, so only SB_ENOMEM and SB_ETOOBIG stop a parse.
 */
#ifndef SB_WEBHOOK_INTERNAL_H
#define SB_WEBHOOK_INTERNAL_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sb_utf8.h"
#include "sb_webhook.h"

/* A delivery being turned into items. */
typedef struct {
  sb_wh_batch_t *out;
  size_t cap;
} sb__wh_builder_t;

/* A delivery-level reason into err (errlen bytes; err may be NULL). */
void sb__wh_reason(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Starts a parse: checks out, empties it and err. 0 or SB_EINVAL. */
int sb__wh_begin(sb__wh_builder_t *b, sb_wh_batch_t *out, char *err,
                 size_t errlen);
/* Ends a parse with rc: on failure empties the batch and makes sure err
 * holds a reason. Returns rc. */
int sb__wh_end(sb__wh_builder_t *b, int rc, char *err, size_t errlen);

/* Appends a zeroed item; *item is valid until the next append. 0, or
 * SB_ETOOBIG past SB_WEBHOOK_MAX_ITEMS, or SB_ENOMEM. */
int sb__wh_item_new(sb__wh_builder_t *b, sb_wh_kind_t kind, const char *channel,
                    sb_wh_item_t **item);
/* Appends an SB_WH_IGNORED item (nothing else set). */
int sb__wh_item_ignored(sb__wh_builder_t *b, const char *channel);
/* Appends an item that is malformed from the start, with reason. */
int sb__wh_item_bad(sb__wh_builder_t *b, sb_wh_kind_t kind, const char *channel,
                    const char *reason);
/* Marks it malformed: sets error, frees everything but the message id.
 * Returns SB_EINVAL. */
int sb__wh_item_fail(sb_wh_item_t *it, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Turns it into an SB_WH_IGNORED item with no strings. Returns 0. */
int sb__wh_item_ignore(sb_wh_item_t *it);
/* The end of filling one item: SB_EINVAL (item marked) becomes 0. */
int sb__wh_item_done(sb_wh_item_t *it, int rc);

/* Stores a copy of an id-like value (1..SB_WEBHOOK_ID_MAX bytes of UTF-8
 * without control characters) in *slot. NULL value: "missing field". */
int sb__wh_set_id(sb_wh_item_t *it, char **slot, const char *field,
                  const char *value);
/* As sb__wh_set_id, but a NULL or "" value leaves *slot NULL. */
int sb__wh_set_opt(sb_wh_item_t *it, char **slot, const char *field,
                   const char *value);
/* Stores text (0..SB_WEBHOOK_TEXT_MAX bytes of UTF-8); takes ownership of
 * value (a malloc'd string, freed on failure; NULL means no memory). */
int sb__wh_set_text_take(sb_wh_item_t *it, char *value);
/* Stores "+" value when value is all digits (E.164 without '+'), else as
 * sb__wh_set_id. */
int sb__wh_set_phone(sb_wh_item_t *it, char **slot, const char *field,
                     const char *value);
/* status must be a lowercase token [a-z_]{1,32}. */
int sb__wh_set_status(sb_wh_item_t *it, const char *field, const char *value);

/* "[label] word" (see sb__wh_buf_label), malloc'd; NULL on no memory. */
char *sb__wh_labelled(const char *label, const char *word);

/* A growing string for composed texts ("[image] caption"). */
typedef struct {
  char *p;
  size_t len, cap;
  bool failed; /* an allocation failed; p is NULL */
} sb__wh_buf_t;

/* Appends s, preceded by one space unless the buffer is empty; NULL and ""
 * append nothing. */
void sb__wh_buf_word(sb__wh_buf_t *b, const char *s);
/* Appends "[label]" when label is a token [a-z0-9_]{1,32}, else
 * "[attachment]". */
void sb__wh_buf_label(sb__wh_buf_t *b, const char *label);
/* The composed string (malloc'd, "" when empty) or NULL after a failed
 * allocation; the buffer is emptied. */
char *sb__wh_buf_take(sb__wh_buf_t *b);

/* Parses a JSON body after a linear pre-scan (no raw NUL, nesting within
 * SB_WEBHOOK_MAX_DEPTH, escaped NULs read as U+FFFD, a leading BOM
 * skipped). *root owned by the caller. SB_EPARSE/SB_ETOOBIG/SB_ENOMEM with
 * a reason. */
int sb__wh_json_parse(const char *body, size_t len, cJSON **root, char *err,
                      size_t errlen);
/* The whole of a JSON platform parser: begin the batch, parse the body
 * (sb__wh_json_parse), hand the root to root_fn, end the batch. */
typedef int (*sb__wh_root_fn)(sb__wh_builder_t *b, const cJSON *root, char *err, size_t errlen);
int sb__wh_json_deliver(const char *body, size_t len, sb_wh_batch_t *out, char *err,
                        size_t errlen, sb__wh_root_fn root_fn);
/* Member of an object (NULL when obj is not an object, the member is
 * missing or JSON null). */
const cJSON *sb__wh_get(const cJSON *obj, const char *name);
/* A string member's value, else NULL. */
const char *sb__wh_str(const cJSON *obj, const char *name);
/* An array or object member, else NULL. */
const cJSON *sb__wh_array(const cJSON *obj, const char *name);
const cJSON *sb__wh_object(const cJSON *obj, const char *name);
/* A boolean member: true only when it is JSON true. */
bool sb__wh_true(const cJSON *obj, const char *name);
/* An integral number member in [0, 2^53], else -1. */
int64_t sb__wh_uint(const cJSON *obj, const char *name);
/* An integer member (negative too, |v| <= 2^53) into *out; false when
 * absent or not an integer. */
bool sb__wh_int(const cJSON *obj, const char *name, int64_t *out);
/* A decimal string of at most 18 digits, else -1. */
int64_t sb__wh_decimal(const char *s);
/* A unix time in seconds or milliseconds (told apart by magnitude) in ms;
 * 0 for negative input. */
int64_t sb__wh_epoch_ms(int64_t t);

#endif
