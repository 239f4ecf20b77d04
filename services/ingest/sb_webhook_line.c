/*
 * sb_webhook_line: LINE Messaging API webhook deliveries into sb_webhook
 * items. See sb_webhook.h for the contract.
 *
 * A delivery is {"destination": bot user id, "events": [...]}; each event
 * becomes exactly one item, in order, its type picking the reader from a
 * table (follows, joins, unsends, beacons, ... are ignored items). LINE's
 * "verify" button posts an empty events array: no items, and the door's
 * 200 is the whole answer.
 *
 * Invariants: webhookEventId is the item's platform message id, because it
 * is what LINE keeps when it redelivers an event (deliveryContext
 * .isRedelivery true); the flag itself is copied for counting and never
 * decides anything; a customer is the person (source.userId), in a group
 * or room as in a one-to-one chat, so one person has one identity; the
 * group's or room's id is the item's reply_chat, so that answers pushed
 * later go back where the customer wrote (LINE's push "to" takes a user,
 * group or room id).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sb_error.h"
#include "sb_webhook.h"
#include "sb_webhook_internal.h"

static const char CH_LINE[] = "line";

enum { COORDS_MAX = 64 };

static bool str_is(const char *s, const char *want) {
  return s != NULL && strcmp(s, want) == 0;
}

/* ---------------------------------------------------------------- content */

static int ln_text(sb_wh_item_t *it, const cJSON *m, const char *type) {
  const char *text = sb__wh_str(m, "text");
  if (text == NULL) return sb__wh_item_fail(it, "missing field \"message.text\"");
  return sb__wh_set_text_take(it, strdup(text));
}

/* image, video, audio and types we do not know: "[type]". */
static int ln_media(sb_wh_item_t *it, const cJSON *m, const char *type) {
  return sb__wh_set_text_take(it, sb__wh_labelled(type, NULL));
}

static int ln_file(sb_wh_item_t *it, const cJSON *m, const char *type) {
  return sb__wh_set_text_take(it,
                              sb__wh_labelled("file", sb__wh_str(m, "fileName")));
}

static int ln_sticker(sb_wh_item_t *it, const cJSON *m, const char *type) {
  return sb__wh_set_text_take(it, sb__wh_labelled("sticker", NULL));
}

/* "[location] title address (lat, long)". */
static int ln_location(sb_wh_item_t *it, const cJSON *m, const char *type) {
  const cJSON *lat = sb__wh_get(m, "latitude"), *lon = sb__wh_get(m, "longitude");
  sb__wh_buf_t buf = {NULL, 0, 0, false};
  char coords[COORDS_MAX];
  sb__wh_buf_label(&buf, "location");
  sb__wh_buf_word(&buf, sb__wh_str(m, "title"));
  sb__wh_buf_word(&buf, sb__wh_str(m, "address"));
  if (cJSON_IsNumber(lat) && cJSON_IsNumber(lon)) {
    snprintf(coords, sizeof coords, "(%.6f, %.6f)", lat->valuedouble,
             lon->valuedouble);
    sb__wh_buf_word(&buf, coords);
  }
  return sb__wh_set_text_take(it, sb__wh_buf_take(&buf));
}

typedef int (*ln_content_fn)(sb_wh_item_t *it, const cJSON *m,
                             const char *type);

static const struct {
  const char *type;
  ln_content_fn fn;
} LN_CONTENT[] = {
    {"text", ln_text},       {"file", ln_file},
    {"sticker", ln_sticker}, {"location", ln_location},
};

static int ln_content(sb_wh_item_t *it, const cJSON *m) {
  const char *type = sb__wh_str(m, "type");
  if (type == NULL) return sb__wh_item_fail(it, "missing field \"message.type\"");
  for (size_t i = 0; i < sizeof LN_CONTENT / sizeof LN_CONTENT[0]; i++)
    if (strcmp(type, LN_CONTENT[i].type) == 0) return LN_CONTENT[i].fn(it, m, type);
  return ln_media(it, m, type);
}

/* ----------------------------------------------------------------- events */

/* id, customer, public flag, time and redelivery flag of any event. */
static int ln_item(sb__wh_builder_t *b, const cJSON *ev, sb_wh_item_t **out) {
  const cJSON *src = sb__wh_object(ev, "source");
  const char *type = sb__wh_str(src, "type");
  sb_wh_item_t *it;
  int rc = sb__wh_item_new(b, SB_WH_MESSAGE, CH_LINE, &it);
  if (rc != 0) return rc;
  *out = it;
  it->is_public = str_is(type, "group") || str_is(type, "room");
  it->time_ms = sb__wh_epoch_ms(sb__wh_uint(ev, "timestamp"));
  it->redelivery =
      sb__wh_true(sb__wh_object(ev, "deliveryContext"), "isRedelivery");
  rc = sb__wh_set_id(it, &it->platform_message_id, "webhookEventId",
                     sb__wh_str(ev, "webhookEventId"));
  if (rc == 0)
    rc = sb__wh_set_id(it, &it->customer, "source.userId",
                       sb__wh_str(src, "userId"));
  if (rc == 0)
    rc = sb__wh_set_opt(it, &it->reply_token, "replyToken",
                        sb__wh_str(ev, "replyToken"));
  /* a group or room without its id keeps answering the user, as before */
  if (rc == 0 && str_is(type, "group"))
    rc = sb__wh_set_opt(it, &it->reply_chat, "source.groupId",
                        sb__wh_str(src, "groupId"));
  else if (rc == 0 && str_is(type, "room"))
    rc = sb__wh_set_opt(it, &it->reply_chat, "source.roomId",
                        sb__wh_str(src, "roomId"));
  return rc;
}

static int ln_message(sb__wh_builder_t *b, const cJSON *ev) {
  const cJSON *m = sb__wh_object(ev, "message");
  sb_wh_item_t *it = NULL;
  int rc = ln_item(b, ev, &it);
  if (it == NULL) return rc;
  if (rc == 0 && m == NULL)
    rc = sb__wh_item_fail(it, "missing field \"message\"");
  if (rc == 0) rc = ln_content(it, m);
  if (rc == 0)
    rc = sb__wh_set_opt(it, &it->reply_to, "message.quotedMessageId",
                        sb__wh_str(m, "quotedMessageId"));
  return sb__wh_item_done(it, rc);
}

/* A tapped postback action: "[postback] data". */
static int ln_postback(sb__wh_builder_t *b, const cJSON *ev) {
  const cJSON *p = sb__wh_object(ev, "postback");
  sb_wh_item_t *it = NULL;
  int rc = ln_item(b, ev, &it);
  if (it == NULL) return rc;
  if (rc == 0)
    rc = sb__wh_set_text_take(it,
                              sb__wh_labelled("postback", sb__wh_str(p, "data")));
  return sb__wh_item_done(it, rc);
}

typedef int (*ln_event_fn)(sb__wh_builder_t *b, const cJSON *ev);

static const struct {
  const char *type;
  ln_event_fn fn;
} LN_EVENTS[] = {
    {"message", ln_message},
    {"postback", ln_postback},
};

static int ln_event(sb__wh_builder_t *b, const cJSON *ev) {
  if (!cJSON_IsObject(ev))
    return sb__wh_item_bad(b, SB_WH_MESSAGE, CH_LINE, "event is not an object");
  const char *type = sb__wh_str(ev, "type");
  for (size_t i = 0; type != NULL && i < sizeof LN_EVENTS / sizeof LN_EVENTS[0];
       i++)
    if (strcmp(type, LN_EVENTS[i].type) == 0) return LN_EVENTS[i].fn(b, ev);
  /* follow, unfollow, join, leave, unsend, beacon, ... */
  return sb__wh_item_ignored(b, CH_LINE);
}

static int ln_root(sb__wh_builder_t *b, const cJSON *root, char *err,
                   size_t errlen) {
  const cJSON *events = sb__wh_array(root, "events"), *ev;
  if (events == NULL) {
    sb__wh_reason(err, errlen, "not a LINE webhook: no \"events\" array");
    return SB_EPARSE;
  }
  cJSON_ArrayForEach(ev, events) {
    int rc = ln_event(b, ev);
    if (rc != 0) return rc;
  }
  return 0;
}

int sb_webhook_line_parse(const char *body, size_t len, sb_wh_batch_t *out,
                          char *err, size_t errlen) {
  return sb__wh_json_deliver(body, len, out, err, errlen, ln_root);
}
