/*
 * sb_webhook_telegram: Telegram Bot API Update objects into sb_webhook
 * items. See sb_webhook.h for the contract.
 *
 * A delivery is one Update: {"update_id": n, "<kind>": {...}} with exactly
 * one kind. The kind picks the reader from a table; kinds without a reader
 * (channel posts, membership changes, polls, ...) become one ignored item
 * so they can be counted.
 *
 * Invariants: update_id is the item's platform message id, because it is
 * what Telegram repeats when it re-sends an update (a message id is only
 * unique within its chat, and an edit shares it with the original); a
 * customer is always a person (from.id), never a chat, so the same person
 * is one identity in a private chat and in a group; service messages
 * (members joining, pinned messages, ...) and messages of other bots carry
 * no customer words and are ignored.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sb_error.h"
#include "sb_webhook.h"
#include "sb_webhook_internal.h"

static const char CH_TELEGRAM[] = "telegram";

enum { DECIMAL_MAX = 24, COORDS_MAX = 64 };

static void decimal(int64_t v, char out[DECIMAL_MAX]) {
  snprintf(out, DECIMAL_MAX, "%" PRId64, v);
}

static bool str_is(const char *s, const char *want) {
  return s != NULL && strcmp(s, want) == 0;
}

/* group and supergroup chats are public; private chats are not. */
static int chat_public(const cJSON *chat) {
  const char *type = sb__wh_str(chat, "type");
  return str_is(type, "group") || str_is(type, "supergroup") ||
         str_is(type, "channel");
}

/* A group's or supergroup's chat.id (negative) as reply_chat: answers to a
 * message written there go back there, not to a private chat the customer
 * may never have opened with the bot. A private chat adds nothing; a group
 * without a usable id neither (answers then go to from.id, as before: the
 * message itself is fine). */
static int tg_chat(sb_wh_item_t *it, const cJSON *chat) {
  const char *type = sb__wh_str(chat, "type");
  if (!str_is(type, "group") && !str_is(type, "supergroup"))
    return 0;
  int64_t id;
  if (!sb__wh_int(chat, "id", &id) || id == 0)
    return 0;
  char out[DECIMAL_MAX];
  decimal(id, out);
  return sb__wh_set_id(it, &it->reply_chat, "chat.id", out);
}

/* customer = from.id, author = "first last" (else username). */
static int tg_from(sb_wh_item_t *it, const cJSON *from) {
  char id[DECIMAL_MAX];
  int64_t uid = sb__wh_uint(from, "id");
  if (uid < 0) return sb__wh_item_fail(it, "missing field \"from.id\"");
  decimal(uid, id);
  int rc = sb__wh_set_id(it, &it->customer, "from.id", id);
  sb__wh_buf_t name = {NULL, 0, 0, false};
  sb__wh_buf_word(&name, sb__wh_str(from, "first_name"));
  sb__wh_buf_word(&name, sb__wh_str(from, "last_name"));
  if (name.len == 0) sb__wh_buf_word(&name, sb__wh_str(from, "username"));
  char *author = sb__wh_buf_take(&name);
  if (author == NULL) return SB_ENOMEM;
  if (rc == 0) rc = sb__wh_set_opt(it, &it->author_name, "from", author);
  free(author);
  return rc;
}

/* ---------------------------------------------------------------- content */

/* What a media member adds after its label: a file name, an emoji, a
 * place. NULL when nothing. */
typedef const char *(*tg_detail_fn)(const cJSON *m, char *buf, size_t cap);

static const char *detail_file(const cJSON *m, char *buf, size_t cap) {
  return sb__wh_str(m, "file_name");
}

static const char *detail_emoji(const cJSON *m, char *buf, size_t cap) {
  return sb__wh_str(m, "emoji");
}

static const char *detail_coords(const cJSON *m, char *buf, size_t cap) {
  const cJSON *lat = sb__wh_get(m, "latitude"), *lon = sb__wh_get(m, "longitude");
  if (!cJSON_IsNumber(lat) || !cJSON_IsNumber(lon)) return NULL;
  snprintf(buf, cap, "(%.6f, %.6f)", lat->valuedouble, lon->valuedouble);
  return buf;
}

static const char *detail_title(const cJSON *m, char *buf, size_t cap) {
  return sb__wh_str(m, "title");
}

static const struct {
  const char *key, *label;
  tg_detail_fn detail; /* NULL: the label alone */
} TG_MEDIA[] = {
    {"photo", "photo", NULL},          {"video", "video", NULL},
    {"video_note", "video", NULL},     {"animation", "animation", NULL},
    {"voice", "voice", NULL},          {"audio", "audio", detail_title},
    {"document", "document", detail_file}, {"sticker", "sticker", detail_emoji},
    {"venue", "location", detail_title}, {"location", "location", detail_coords},
    {"contact", "contact", NULL},      {"poll", "poll", NULL},
    {"dice", "dice", detail_emoji},
};

/* "[edited] " when edited, then text, or "[label] detail caption" for the
 * first media member. false in *words when the message has neither (a
 * service message). */
static char *tg_text(const cJSON *msg, bool edited, bool *words) {
  sb__wh_buf_t buf = {NULL, 0, 0, false};
  char detail[COORDS_MAX];
  const char *text = sb__wh_str(msg, "text");
  *words = text != NULL;
  if (edited) sb__wh_buf_label(&buf, "edited");
  for (size_t i = 0; text == NULL && i < sizeof TG_MEDIA / sizeof TG_MEDIA[0];
       i++) {
    const cJSON *m = sb__wh_get(msg, TG_MEDIA[i].key);
    if (m == NULL) continue;
    *words = true;
    sb__wh_buf_label(&buf, TG_MEDIA[i].label);
    if (TG_MEDIA[i].detail != NULL)
      sb__wh_buf_word(&buf, TG_MEDIA[i].detail(m, detail, sizeof detail));
    text = sb__wh_str(msg, "caption");
    break;
  }
  sb__wh_buf_word(&buf, text);
  return sb__wh_buf_take(&buf);
}

/* ------------------------------------------------------------------ kinds */

typedef struct {
  sb__wh_builder_t *b;
  const char *id; /* update_id */
  bool edited;
} tg_update_t;

static int tg_item(const tg_update_t *u, sb_wh_item_t **it) {
  int rc = sb__wh_item_new(u->b, SB_WH_MESSAGE, CH_TELEGRAM, it);
  if (rc == 0) rc = sb__wh_set_id(*it, &(*it)->platform_message_id, "update_id", u->id);
  return rc;
}

/* message, edited_message, business_message, edited_business_message. */
static int tg_message(const tg_update_t *u, const cJSON *msg) {
  const cJSON *from = sb__wh_object(msg, "from");
  const cJSON *reply = sb__wh_object(msg, "reply_to_message");
  char reply_id[DECIMAL_MAX];
  bool words = false;
  if (sb__wh_true(from, "is_bot")) return sb__wh_item_ignored(u->b, CH_TELEGRAM);
  char *text = tg_text(msg, u->edited, &words);
  if (text != NULL && !words) {
    free(text);
    return sb__wh_item_ignored(u->b, CH_TELEGRAM); /* a service message */
  }
  sb_wh_item_t *it;
  int rc = tg_item(u, &it);
  if (rc != 0) {
    free(text);
    return rc;
  }
  it->is_public = chat_public(sb__wh_object(msg, "chat"));
  it->time_ms = sb__wh_epoch_ms(sb__wh_uint(msg, "date"));
  rc = tg_from(it, from);
  if (rc == 0) rc = tg_chat(it, sb__wh_object(msg, "chat"));
  if (rc == 0 && sb__wh_uint(reply, "message_id") >= 0) {
    decimal(sb__wh_uint(reply, "message_id"), reply_id);
    rc = sb__wh_set_id(it, &it->reply_to, "reply_to_message.message_id",
                       reply_id);
  }
  if (rc == 0) return sb__wh_item_done(it, sb__wh_set_text_take(it, text));
  free(text);
  return sb__wh_item_done(it, rc);
}

/* A tapped inline button: "[button] data" from the person who tapped. */
static int tg_callback(const tg_update_t *u, const cJSON *cq) {
  sb_wh_item_t *it;
  int rc = tg_item(u, &it);
  if (rc != 0) return rc;
  const cJSON *msg = sb__wh_object(cq, "message");
  it->is_public = chat_public(sb__wh_object(msg, "chat"));
  rc = tg_from(it, sb__wh_object(cq, "from"));
  if (rc == 0) rc = tg_chat(it, sb__wh_object(msg, "chat"));
  if (rc == 0)
    rc = sb__wh_set_text_take(
        it, sb__wh_labelled("button", sb__wh_str(cq, "data")));
  return sb__wh_item_done(it, rc);
}

typedef int (*tg_kind_fn)(const tg_update_t *u, const cJSON *obj);

static const struct {
  const char *key;
  tg_kind_fn fn;
  bool edited;
} TG_KINDS[] = {
    {"message", tg_message, false},
    {"edited_message", tg_message, true},
    {"business_message", tg_message, false},
    {"edited_business_message", tg_message, true},
    {"callback_query", tg_callback, false},
};

static int tg_root(sb__wh_builder_t *b, const cJSON *root, char *err,
                   size_t errlen) {
  char id[DECIMAL_MAX];
  int64_t update = sb__wh_uint(root, "update_id");
  if (update < 0) {
    sb__wh_reason(err, errlen, "not a Telegram Update: no \"update_id\"");
    return SB_EPARSE;
  }
  decimal(update, id);
  for (size_t i = 0; i < sizeof TG_KINDS / sizeof TG_KINDS[0]; i++) {
    const cJSON *obj = sb__wh_get(root, TG_KINDS[i].key);
    if (obj == NULL) continue;
    tg_update_t u = {b, id, TG_KINDS[i].edited};
    if (!cJSON_IsObject(obj))
      return sb__wh_item_bad(b, SB_WH_MESSAGE, CH_TELEGRAM,
                             "update member is not an object");
    return TG_KINDS[i].fn(&u, obj);
  }
  /* channel_post, my_chat_member, chat_member, poll, ... */
  return sb__wh_item_ignored(b, CH_TELEGRAM);
}

int sb_webhook_telegram_parse(const char *body, size_t len, sb_wh_batch_t *out,
                              char *err, size_t errlen) {
  return sb__wh_json_deliver(body, len, out, err, errlen, tg_root);
}
