/*
 * sb_webhook_meta: Meta Graph API webhook deliveries (WhatsApp Cloud API,
 * Messenger, Instagram, Facebook page feed) into sb_webhook items. See
 * sb_webhook.h for the contract.
 *
 * A delivery is {"object": ..., "entry": [...]}; the object names the
 * product and picks the entry reader from a table. Entries hold either
 * "changes" (WhatsApp messages and statuses, page feed, Instagram comments)
 * or "messaging" events (Messenger and Instagram direct messages), and each
 * message, status or event becomes exactly one item, in order (a delivery
 * receipt naming several message ids becomes one status item per id).
 *
 * Invariants: an unexpected shape inside one entry, change or event makes
 * that one item malformed and never stops the others; our own messages
 * (Messenger is_echo, a page or Instagram account commenting on its own
 * post) are SB_WH_STATUS "echo", never SB_WH_MESSAGE; an event without an
 * id of its own (Messenger reactions and old postbacks) gets one made of
 * the ids and timestamp it carries, so a redelivery repeats it exactly.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sb_error.h"
#include "sb_webhook.h"
#include "sb_webhook_internal.h"

enum { COORDS_MAX = 64 /* "(-90.000000, -180.000000)" */ };

static const char CH_WHATSAPP[] = "whatsapp";
static const char CH_FACEBOOK[] = "facebook";

static int strdup_text(sb_wh_item_t *it, const char *s) {
  return sb__wh_set_text_take(it, strdup(s != NULL ? s : ""));
}

static bool str_is(const char *s, const char *want) {
  return s != NULL && strcmp(s, want) == 0;
}

/* ------------------------------------------------------------- WhatsApp */

/* value.contacts[].profile.name of the contact whose wa_id is from. */
static const char *wa_profile_name(const cJSON *contacts, const char *from) {
  const cJSON *c;
  cJSON_ArrayForEach(c, contacts) {
    if (str_is(sb__wh_str(c, "wa_id"), from ? from : ""))
      return sb__wh_str(sb__wh_object(c, "profile"), "name");
  }
  return NULL;
}

static int wa_text(sb_wh_item_t *it, const cJSON *m, const char *type) {
  const char *body = sb__wh_str(sb__wh_object(m, "text"), "body");
  if (body == NULL) return sb__wh_item_fail(it, "missing field \"text.body\"");
  return strdup_text(it, body);
}

/* image, video, audio, document, sticker: "[type] caption". */
static int wa_media(sb_wh_item_t *it, const cJSON *m, const char *type) {
  const char *caption = sb__wh_str(sb__wh_object(m, type), "caption");
  return sb__wh_set_text_take(it, sb__wh_labelled(type, caption));
}

/* "[location] name address (lat, long)". */
static int wa_location(sb_wh_item_t *it, const cJSON *m, const char *type) {
  const cJSON *loc = sb__wh_object(m, "location");
  const cJSON *lat = sb__wh_get(loc, "latitude");
  const cJSON *lon = sb__wh_get(loc, "longitude");
  sb__wh_buf_t buf = {NULL, 0, 0, false};
  char coords[COORDS_MAX];
  sb__wh_buf_label(&buf, "location");
  sb__wh_buf_word(&buf, sb__wh_str(loc, "name"));
  sb__wh_buf_word(&buf, sb__wh_str(loc, "address"));
  if (cJSON_IsNumber(lat) && cJSON_IsNumber(lon)) {
    snprintf(coords, sizeof coords, "(%.6f, %.6f)", lat->valuedouble,
             lon->valuedouble);
    sb__wh_buf_word(&buf, coords);
  }
  return sb__wh_set_text_take(it, sb__wh_buf_take(&buf));
}

/* A reaction answers the message it names; an empty emoji removes one. */
static int wa_reaction(sb_wh_item_t *it, const cJSON *m, const char *type) {
  const cJSON *r = sb__wh_object(m, "reaction");
  const char *emoji = sb__wh_str(r, "emoji");
  if (emoji == NULL || emoji[0] == '\0') return sb__wh_item_ignore(it);
  int rc = sb__wh_set_text_take(it, sb__wh_labelled("reaction", emoji));
  if (rc == 0)
    rc = sb__wh_set_opt(it, &it->reply_to, "reaction.message_id",
                        sb__wh_str(r, "message_id"));
  return rc;
}

/* A tapped reply button or list row: the title the customer chose. */
static int wa_interactive(sb_wh_item_t *it, const cJSON *m, const char *type) {
  const cJSON *i = sb__wh_object(m, "interactive");
  const char *title = sb__wh_str(sb__wh_object(i, "button_reply"), "title");
  if (title == NULL)
    title = sb__wh_str(sb__wh_object(i, "list_reply"), "title");
  return title != NULL ? strdup_text(it, title)
                       : strdup_text(it, "[interactive]");
}

static int wa_button(sb_wh_item_t *it, const cJSON *m, const char *type) {
  return strdup_text(it, sb__wh_str(sb__wh_object(m, "button"), "text"));
}

/* Number changes and the like: nothing a customer wrote. */
static int wa_system(sb_wh_item_t *it, const cJSON *m, const char *type) {
  return sb__wh_item_ignore(it);
}

/* Any other type (contacts, order, unsupported, ...): "[type]". */
static int wa_other(sb_wh_item_t *it, const cJSON *m, const char *type) {
  return sb__wh_set_text_take(it, sb__wh_labelled(type, NULL));
}

typedef int (*wa_content_fn)(sb_wh_item_t *it, const cJSON *m,
                             const char *type);

static const struct {
  const char *type;
  wa_content_fn fn;
} WA_CONTENT[] = {
    {"text", wa_text},
    {"image", wa_media},
    {"video", wa_media},
    {"audio", wa_media},
    {"document", wa_media},
    {"sticker", wa_media},
    {"location", wa_location},
    {"reaction", wa_reaction},
    {"interactive", wa_interactive},
    {"button", wa_button},
    {"system", wa_system},
};

static int wa_content(sb_wh_item_t *it, const cJSON *m) {
  const char *type = sb__wh_str(m, "type");
  if (type == NULL) return sb__wh_item_fail(it, "missing field \"type\"");
  for (size_t i = 0; i < sizeof WA_CONTENT / sizeof WA_CONTENT[0]; i++)
    if (strcmp(type, WA_CONTENT[i].type) == 0)
      return WA_CONTENT[i].fn(it, m, type);
  return wa_other(it, m, type);
}

static int wa_message(sb__wh_builder_t *b, const cJSON *m,
                      const cJSON *contacts) {
  sb_wh_item_t *it;
  int rc = sb__wh_item_new(b, SB_WH_MESSAGE, CH_WHATSAPP, &it);
  if (rc != 0) return rc;
  if (!cJSON_IsObject(m))
    return sb__wh_item_done(it,
                            sb__wh_item_fail(it, "message is not an object"));
  const char *from = sb__wh_str(m, "from");
  it->time_ms = sb__wh_epoch_ms(sb__wh_decimal(sb__wh_str(m, "timestamp")));
  rc = sb__wh_set_id(it, &it->platform_message_id, "id", sb__wh_str(m, "id"));
  if (rc == 0) rc = sb__wh_set_phone(it, &it->customer, "from", from);
  if (rc == 0)
    rc = sb__wh_set_opt(it, &it->reply_to, "context.id",
                        sb__wh_str(sb__wh_object(m, "context"), "id"));
  if (rc == 0)
    rc = sb__wh_set_opt(it, &it->author_name, "profile.name",
                        wa_profile_name(contacts, from));
  if (rc == 0) rc = wa_content(it, m);
  return sb__wh_item_done(it, rc);
}

/* sent / delivered / read / failed for a message we sent. */
static int wa_status(sb__wh_builder_t *b, const cJSON *s) {
  sb_wh_item_t *it;
  int rc = sb__wh_item_new(b, SB_WH_STATUS, CH_WHATSAPP, &it);
  if (rc != 0) return rc;
  const char *recipient = sb__wh_str(s, "recipient_id");
  it->time_ms = sb__wh_epoch_ms(sb__wh_decimal(sb__wh_str(s, "timestamp")));
  rc = sb__wh_set_id(it, &it->platform_message_id, "id", sb__wh_str(s, "id"));
  if (rc == 0) rc = sb__wh_set_status(it, "status", sb__wh_str(s, "status"));
  if (rc == 0 && recipient != NULL)
    rc = sb__wh_set_phone(it, &it->customer, "recipient_id", recipient);
  return sb__wh_item_done(it, rc);
}

static int wa_change(sb__wh_builder_t *b, const cJSON *change) {
  const cJSON *value = sb__wh_object(change, "value"), *x;
  const cJSON *messages = sb__wh_array(value, "messages");
  const cJSON *statuses = sb__wh_array(value, "statuses");
  int rc = 0;
  if (!str_is(sb__wh_str(change, "field"), "messages"))
    return sb__wh_item_ignored(b, CH_WHATSAPP); /* templates, account... */
  if (messages == NULL && statuses == NULL)
    return sb__wh_item_ignored(b, CH_WHATSAPP); /* errors-only value */
  cJSON_ArrayForEach(x, messages) {
    rc = wa_message(b, x, sb__wh_array(value, "contacts"));
    if (rc != 0) return rc;
  }
  cJSON_ArrayForEach(x, statuses) {
    rc = wa_status(b, x);
    if (rc != 0) return rc;
  }
  return 0;
}

static int wa_entry(sb__wh_builder_t *b, const cJSON *entry) {
  const cJSON *changes = sb__wh_array(entry, "changes"), *c;
  if (changes == NULL)
    return sb__wh_item_bad(b, SB_WH_MESSAGE, CH_WHATSAPP,
                           "entry has no \"changes\" array");
  cJSON_ArrayForEach(c, changes) {
    int rc = wa_change(b, c);
    if (rc != 0) return rc;
  }
  return 0;
}

/* ---------------------------------------------- Messenger and Instagram */

/* The parties and time of one entry[].messaging[] event. */
typedef struct {
  const cJSON *ev;
  const char *channel;
  const char *sender, *recipient;
  int64_t time_ms;
} ms_event_t;

static int ms_item(sb__wh_builder_t *b, const ms_event_t *e, sb_wh_kind_t kind,
                   sb_wh_item_t **it) {
  int rc = sb__wh_item_new(b, kind, e->channel, it);
  if (rc == 0) (*it)->time_ms = e->time_ms;
  return rc;
}

/* A made-up id "<what>:<a>:<b>:<time>" for events that carry none. */
static int ms_synth_id(sb_wh_item_t *it, const char *what, const char *a,
                       const char *b, int64_t t) {
  char id[SB_WEBHOOK_ID_MAX + 1];
  if (a == NULL || b == NULL)
    return sb__wh_item_fail(it, "%s without ids", what);
  int n = snprintf(id, sizeof id, "%s:%s:%s:%lld", what, a, b, (long long)t);
  if (n < 0 || (size_t)n >= sizeof id)
    return sb__wh_item_fail(it, "%s id exceeds %d bytes", what,
                            SB_WEBHOOK_ID_MAX);
  return sb__wh_set_id(it, &it->platform_message_id, "mid", id);
}

/* "[image] [video] text": attachments first, then the text. */
static char *ms_text(const cJSON *msg) {
  sb__wh_buf_t buf = {NULL, 0, 0, false};
  const cJSON *a;
  cJSON_ArrayForEach(a, sb__wh_array(msg, "attachments")) {
    bool sticker =
        sb__wh_get(sb__wh_object(a, "payload"), "sticker_id") != NULL;
    sb__wh_buf_label(&buf, sticker ? "sticker" : sb__wh_str(a, "type"));
  }
  if (sb__wh_true(msg, "is_unsupported")) sb__wh_buf_label(&buf, "unsupported");
  sb__wh_buf_word(&buf, sb__wh_str(msg, "text"));
  return sb__wh_buf_take(&buf);
}

/* A customer's message, or our own echoed back, or a deletion notice. */
static int ms_message(sb__wh_builder_t *b, const ms_event_t *e) {
  const cJSON *msg = sb__wh_object(e->ev, "message");
  bool echo = sb__wh_true(msg, "is_echo");
  bool deleted = sb__wh_true(msg, "is_deleted");
  sb_wh_item_t *it;
  int rc = ms_item(b, e, echo || deleted ? SB_WH_STATUS : SB_WH_MESSAGE, &it);
  if (rc != 0) return rc;
  rc = sb__wh_set_id(it, &it->platform_message_id, "message.mid",
                     sb__wh_str(msg, "mid"));
  if (echo || deleted) {
    if (rc == 0)
      rc = sb__wh_set_status(it, "message", echo ? "echo" : "deleted");
    if (rc == 0)
      rc = sb__wh_set_opt(it, &it->customer, "recipient.id",
                          echo ? e->recipient : e->sender);
    return sb__wh_item_done(it, rc);
  }
  if (rc == 0) rc = sb__wh_set_id(it, &it->customer, "sender.id", e->sender);
  if (rc == 0)
    rc = sb__wh_set_opt(it, &it->reply_to, "reply_to.mid",
                        sb__wh_str(sb__wh_object(msg, "reply_to"), "mid"));
  if (rc == 0) rc = sb__wh_set_text_take(it, ms_text(msg));
  return sb__wh_item_done(it, rc);
}

/* One receipt status item for message id mid (NULL: a watermark). */
static int ms_receipt(sb__wh_builder_t *b, const ms_event_t *e,
                      const char *status, const cJSON *mid, int64_t mark) {
  sb_wh_item_t *it;
  int rc = ms_item(b, e, SB_WH_STATUS, &it);
  if (rc != 0) return rc;
  if (mark > 0) it->time_ms = sb__wh_epoch_ms(mark);
  if (mid != NULL && !cJSON_IsString(mid))
    rc = sb__wh_item_fail(it, "a message id is not a string");
  if (rc == 0 && mid != NULL)
    rc = sb__wh_set_id(it, &it->platform_message_id, "mid", mid->valuestring);
  if (rc == 0) rc = sb__wh_set_status(it, "status", status);
  if (rc == 0) rc = sb__wh_set_opt(it, &it->customer, "sender.id", e->sender);
  return sb__wh_item_done(it, rc);
}

static int ms_delivery(sb__wh_builder_t *b, const ms_event_t *e) {
  const cJSON *d = sb__wh_object(e->ev, "delivery"), *mid;
  const cJSON *mids = sb__wh_array(d, "mids");
  int64_t mark = sb__wh_uint(d, "watermark");
  if (cJSON_GetArraySize(mids) == 0)
    return ms_receipt(b, e, "delivered", NULL, mark);
  cJSON_ArrayForEach(mid, mids) {
    int rc = ms_receipt(b, e, "delivered", mid, mark);
    if (rc != 0) return rc;
  }
  return 0;
}

static int ms_read(sb__wh_builder_t *b, const ms_event_t *e) {
  const cJSON *r = sb__wh_object(e->ev, "read");
  const cJSON *mid = sb__wh_get(r, "mid");
  return ms_receipt(b, e, "read", mid, sb__wh_uint(r, "watermark"));
}

/* A reaction to one of the messages: "[reaction] <emoji>". */
static int ms_reaction(sb__wh_builder_t *b, const ms_event_t *e) {
  const cJSON *r = sb__wh_object(e->ev, "reaction");
  const char *mid = sb__wh_str(r, "mid"), *emoji = sb__wh_str(r, "emoji");
  sb_wh_item_t *it;
  if (str_is(sb__wh_str(r, "action"), "unreact"))
    return sb__wh_item_ignored(b, e->channel);
  int rc = ms_item(b, e, SB_WH_MESSAGE, &it);
  if (rc != 0) return rc;
  rc = ms_synth_id(it, "reaction", mid, e->sender, e->time_ms);
  if (rc == 0) rc = sb__wh_set_id(it, &it->customer, "sender.id", e->sender);
  if (rc == 0) rc = sb__wh_set_id(it, &it->reply_to, "reaction.mid", mid);
  if (rc == 0)
    rc = sb__wh_set_text_take(
        it, sb__wh_labelled("reaction",
                            emoji != NULL ? emoji : sb__wh_str(r, "reaction")));
  return sb__wh_item_done(it, rc);
}

/* A tapped button: its title, as if the customer had typed it. */
static int ms_postback(sb__wh_builder_t *b, const ms_event_t *e) {
  const cJSON *p = sb__wh_object(e->ev, "postback");
  const char *mid = sb__wh_str(p, "mid"), *title = sb__wh_str(p, "title");
  sb_wh_item_t *it;
  int rc = ms_item(b, e, SB_WH_MESSAGE, &it);
  if (rc != 0) return rc;
  rc = mid != NULL
           ? sb__wh_set_id(it, &it->platform_message_id, "postback.mid", mid)
           : ms_synth_id(it, "postback", e->sender, e->recipient, e->time_ms);
  if (rc == 0) rc = sb__wh_set_id(it, &it->customer, "sender.id", e->sender);
  if (rc == 0) rc = strdup_text(it, title != NULL ? title : "[postback]");
  return sb__wh_item_done(it, rc);
}

typedef int (*ms_event_fn)(sb__wh_builder_t *b, const ms_event_t *e);

static const struct {
  const char *key;
  ms_event_fn fn;
} MS_EVENTS[] = {
    {"message", ms_message},   {"delivery", ms_delivery}, {"read", ms_read},
    {"reaction", ms_reaction}, {"postback", ms_postback},
};

static int ms_event(sb__wh_builder_t *b, const cJSON *ev, const char *channel) {
  if (!cJSON_IsObject(ev))
    return sb__wh_item_bad(b, SB_WH_MESSAGE, channel,
                           "messaging event is not an object");
  ms_event_t e = {ev, channel, sb__wh_str(sb__wh_object(ev, "sender"), "id"),
                  sb__wh_str(sb__wh_object(ev, "recipient"), "id"),
                  sb__wh_epoch_ms(sb__wh_uint(ev, "timestamp"))};
  for (size_t i = 0; i < sizeof MS_EVENTS / sizeof MS_EVENTS[0]; i++)
    if (sb__wh_object(ev, MS_EVENTS[i].key) != NULL)
      return MS_EVENTS[i].fn(b, &e);
  return sb__wh_item_ignored(b, channel); /* optin, referral, ... */
}

/* --------------------------------------- public comments (page, Instagram) */

/* What a public comment or post change says, read from either product. */
typedef struct {
  const char *channel;
  const char *id, *author_id, *author_name, *text, *parent, *thread;
  const char *owner; /* the page or Instagram account the entry is for */
  int64_t time_ms;
} comment_t;

static int comment_item(sb__wh_builder_t *b, const comment_t *c) {
  bool echo = str_is(c->author_id, c->owner ? c->owner : "");
  sb_wh_item_t *it;
  int rc =
      sb__wh_item_new(b, echo ? SB_WH_STATUS : SB_WH_MESSAGE, c->channel, &it);
  if (rc != 0) return rc;
  it->is_public = !echo;
  it->time_ms = c->time_ms;
  rc = sb__wh_set_id(it, &it->platform_message_id, "id", c->id);
  if (echo && rc == 0) rc = sb__wh_set_status(it, "from", "echo");
  if (echo) return sb__wh_item_done(it, rc);
  if (rc == 0) rc = sb__wh_set_id(it, &it->customer, "from.id", c->author_id);
  if (rc == 0)
    rc = sb__wh_set_opt(it, &it->author_name, "from.name", c->author_name);
  if (rc == 0) rc = sb__wh_set_opt(it, &it->reply_to, "parent_id", c->parent);
  if (rc == 0) rc = sb__wh_set_opt(it, &it->thread_hint, "post_id", c->thread);
  if (rc == 0) rc = strdup_text(it, c->text);
  return sb__wh_item_done(it, rc);
}

/* Page feed: a new comment or visitor post ("item" comment/post/status). */
static int feed_change(sb__wh_builder_t *b, const cJSON *change,
                       const char *page) {
  const cJSON *v = sb__wh_object(change, "value");
  const char *item = sb__wh_str(v, "item"), *post = sb__wh_str(v, "post_id");
  bool comment = str_is(item, "comment");
  if (!str_is(sb__wh_str(change, "field"), "feed") ||
      !str_is(sb__wh_str(v, "verb"), "add") ||
      !(comment || str_is(item, "post") || str_is(item, "status")))
    return sb__wh_item_ignored(b, CH_FACEBOOK); /* likes, edits, ... */
  const char *parent = sb__wh_str(v, "parent_id");
  const cJSON *from = sb__wh_object(v, "from");
  comment_t c = {CH_FACEBOOK,
                 comment ? sb__wh_str(v, "comment_id") : post,
                 sb__wh_str(from, "id"),
                 sb__wh_str(from, "name"),
                 sb__wh_str(v, "message"),
                 comment && !str_is(parent, post ? post : "") ? parent : NULL,
                 post,
                 page,
                 sb__wh_epoch_ms(sb__wh_uint(v, "created_time"))};
  return comment_item(b, &c);
}

/* Instagram: a comment on one of the account's media. */
static int ig_change(sb__wh_builder_t *b, const cJSON *change,
                     const char *account, int64_t time_ms) {
  const cJSON *v = sb__wh_object(change, "value");
  const char *field = sb__wh_str(change, "field");
  if (!str_is(field, "comments") && !str_is(field, "live_comments"))
    return sb__wh_item_ignored(b, "instagram"); /* mentions, insights... */
  const cJSON *from = sb__wh_object(v, "from");
  comment_t c = {"instagram",
                 sb__wh_str(v, "id"),
                 sb__wh_str(from, "id"),
                 sb__wh_str(from, "username"),
                 sb__wh_str(v, "text"),
                 sb__wh_str(v, "parent_id"),
                 sb__wh_str(sb__wh_object(v, "media"), "id"),
                 account,
                 time_ms};
  return comment_item(b, &c);
}

/* messaging[] and changes[] of one page or Instagram entry. */
static int social_entry(sb__wh_builder_t *b, const cJSON *entry,
                        const char *dm_channel, bool instagram) {
  const cJSON *x;
  const char *owner = sb__wh_str(entry, "id");
  int64_t time_ms = sb__wh_epoch_ms(sb__wh_uint(entry, "time"));
  int rc = 0;
  cJSON_ArrayForEach(x, sb__wh_array(entry, "messaging")) {
    rc = ms_event(b, x, dm_channel);
    if (rc != 0) return rc;
  }
  cJSON_ArrayForEach(x, sb__wh_array(entry, "changes")) {
    rc = instagram ? ig_change(b, x, owner, time_ms) : feed_change(b, x, owner);
    if (rc != 0) return rc;
  }
  return 0;
}

static int page_entry(sb__wh_builder_t *b, const cJSON *entry) {
  return social_entry(b, entry, "messenger", false);
}

static int ig_entry(sb__wh_builder_t *b, const cJSON *entry) {
  return social_entry(b, entry, "instagram", true);
}

/* ------------------------------------------------------------- delivery */

typedef int (*entry_fn)(sb__wh_builder_t *b, const cJSON *entry);

static const struct {
  const char *object;
  entry_fn entry;
  const char *channel; /* of an entry too broken to read */
} META_OBJECTS[] = {
    {"whatsapp_business_account", wa_entry, "whatsapp"},
    {"page", page_entry, "messenger"},
    {"instagram", ig_entry, "instagram"},
};

static int meta_root(sb__wh_builder_t *b, const cJSON *root, char *err,
                     size_t errlen) {
  const char *object = sb__wh_str(root, "object");
  const cJSON *entries = sb__wh_array(root, "entry"), *e;
  size_t k = 0, nk = sizeof META_OBJECTS / sizeof META_OBJECTS[0];
  while (k < nk && !str_is(object, META_OBJECTS[k].object)) k++;
  if (k == nk || entries == NULL) {
    sb__wh_reason(err, errlen, "not a Meta delivery: %s",
                  k == nk ? "unknown \"object\"" : "no \"entry\" array");
    return SB_EPARSE;
  }
  cJSON_ArrayForEach(e, entries) {
    int rc = cJSON_IsObject(e)
                 ? META_OBJECTS[k].entry(b, e)
                 : sb__wh_item_bad(b, SB_WH_MESSAGE, META_OBJECTS[k].channel,
                                   "entry is not an object");
    if (rc != 0) return rc;
  }
  return 0;
}

int sb_webhook_meta_parse(const char *body, size_t len, sb_wh_batch_t *out,
                          char *err, size_t errlen) {
  return sb__wh_json_deliver(body, len, out, err, errlen, meta_root);
}
