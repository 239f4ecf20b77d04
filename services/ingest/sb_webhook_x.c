/*
 * sb_webhook_x: X (Twitter) Account Activity API deliveries into
 * sb_webhook items. See sb_webhook.h for the contract.
 *
 * A delivery is one JSON object for one subscribed account
 * ("for_user_id") with one or more "<kind>_events" arrays. The members are
 * read in body order and each array element is handed to the reader its
 * kind names in a table; kinds without a reader (favorites, follows,
 * typing indicators, ...) become ignored items so they can be counted.
 *
 * Invariants: whatever the subscribed account itself did (its own tweets
 * and the DMs it sent) is an SB_WH_STATUS "echo", never a customer
 * message; retweets carry no words of the customer and are ignored; tweet
 * text is the full text (extended_tweet when present) with the three HTML
 * entities X escapes in tweets decoded, so it reads as the customer wrote
 * it.
 */
#include <stdlib.h>
#include <string.h>

#include "sb_error.h"
#include "sb_webhook.h"
#include "sb_webhook_internal.h"

static const char CH_X[] = "x";
static const char EVENTS_SUFFIX[] = "_events";

/* One delivery: the builder, the whole body (for its "users" map) and the
 * subscribed account. */
typedef struct {
  sb__wh_builder_t *b;
  const cJSON *root;
  const char *me;
} x_delivery_t;

static bool str_is(const char *s, const char *want) {
  return s != NULL && want != NULL && strcmp(s, want) == 0;
}

/* ----------------------------------------------------------------- tweets */

static const struct {
  const char *entity;
  char c;
} X_ENTITIES[] = {{"&amp;", '&'}, {"&lt;", '<'}, {"&gt;", '>'}};

/* A copy of s with &amp; &lt; &gt; decoded; NULL on no memory. */
static char *entities_decode(const char *s) {
  char *out = malloc(strlen(s) + 1), *o = out;
  if (out == NULL) return NULL;
  while (*s != '\0') {
    size_t k = 0, nk = sizeof X_ENTITIES / sizeof X_ENTITIES[0];
    while (k < nk &&
           strncmp(s, X_ENTITIES[k].entity, strlen(X_ENTITIES[k].entity)) != 0)
      k++;
    if (k < nk) {
      *o++ = X_ENTITIES[k].c;
      s += strlen(X_ENTITIES[k].entity);
    } else {
      *o++ = *s++;
    }
  }
  *o = '\0';
  return out;
}

/* extended_tweet.full_text, else full_text, else text. */
static int tweet_text(sb_wh_item_t *it, const cJSON *t) {
  const char *text =
      sb__wh_str(sb__wh_object(t, "extended_tweet"), "full_text");
  if (text == NULL) text = sb__wh_str(t, "full_text");
  if (text == NULL) text = sb__wh_str(t, "text");
  if (text == NULL) return sb__wh_item_fail(it, "missing field \"text\"");
  return sb__wh_set_text_take(it, entities_decode(text));
}

/* The author, their audience and what the tweet answers. */
static int tweet_author(sb_wh_item_t *it, const cJSON *t) {
  const cJSON *user = sb__wh_object(t, "user");
  const char *name = sb__wh_str(user, "name");
  if (name == NULL || name[0] == '\0') name = sb__wh_str(user, "screen_name");
  int64_t followers = sb__wh_uint(user, "followers_count");
  it->followers = followers > 0 ? followers : 0;
  int rc = sb__wh_set_id(it, &it->customer, "user.id_str",
                         sb__wh_str(user, "id_str"));
  if (rc == 0) rc = sb__wh_set_opt(it, &it->author_name, "user.name", name);
  if (rc == 0)
    rc = sb__wh_set_opt(it, &it->reply_to, "in_reply_to_status_id_str",
                        sb__wh_str(t, "in_reply_to_status_id_str"));
  return rc;
}

/* A public mention or reply: a message, or our own tweet: an echo. */
static int x_tweet(x_delivery_t *d, const cJSON *t) {
  const char *author = sb__wh_str(sb__wh_object(t, "user"), "id_str");
  bool echo = str_is(author, d->me);
  sb_wh_item_t *it;
  if (sb__wh_get(t, "retweeted_status") != NULL)
    return sb__wh_item_ignored(d->b, CH_X);
  int rc =
      sb__wh_item_new(d->b, echo ? SB_WH_STATUS : SB_WH_MESSAGE, CH_X, &it);
  if (rc != 0) return rc;
  it->time_ms = sb__wh_epoch_ms(sb__wh_decimal(sb__wh_str(t, "timestamp_ms")));
  rc = sb__wh_set_id(it, &it->platform_message_id, "id_str",
                     sb__wh_str(t, "id_str"));
  if (echo) {
    if (rc == 0) rc = sb__wh_set_status(it, "user", "echo");
    if (rc == 0)
      rc = sb__wh_set_opt(it, &it->customer, "in_reply_to_user_id_str",
                          sb__wh_str(t, "in_reply_to_user_id_str"));
    return sb__wh_item_done(it, rc);
  }
  it->is_public = 1;
  if (rc == 0) rc = tweet_author(it, t);
  if (rc == 0) rc = tweet_text(it, t);
  return sb__wh_item_done(it, rc);
}

/* tweet_delete_events[]: {"status": {"id", "user_id"}, "timestamp_ms"}. */
static int x_tweet_delete(x_delivery_t *d, const cJSON *ev) {
  const cJSON *st = sb__wh_object(ev, "status");
  sb_wh_item_t *it;
  int rc = sb__wh_item_new(d->b, SB_WH_STATUS, CH_X, &it);
  if (rc != 0) return rc;
  it->time_ms = sb__wh_epoch_ms(sb__wh_decimal(sb__wh_str(ev, "timestamp_ms")));
  rc = sb__wh_set_id(it, &it->platform_message_id, "status.id",
                     sb__wh_str(st, "id"));
  if (rc == 0) rc = sb__wh_set_status(it, "status", "deleted");
  if (rc == 0)
    rc = sb__wh_set_opt(it, &it->customer, "status.user_id",
                        sb__wh_str(st, "user_id"));
  return sb__wh_item_done(it, rc);
}

/* -------------------------------------------------------- direct messages */

/* Name and followers of the sender from the delivery's "users" map. */
static int dm_author(x_delivery_t *d, sb_wh_item_t *it, const char *sender) {
  const cJSON *user = sb__wh_object(sb__wh_object(d->root, "users"), sender);
  const char *name = sb__wh_str(user, "name");
  if (name == NULL || name[0] == '\0') name = sb__wh_str(user, "screen_name");
  int64_t followers = sb__wh_uint(user, "followers_count");
  it->followers = followers > 0 ? followers : 0;
  return sb__wh_set_opt(it, &it->author_name, "users.name", name);
}

/* "[photo] text" when the DM carries media, else its text. */
static int dm_text(sb_wh_item_t *it, const cJSON *data) {
  const cJSON *media =
      sb__wh_object(sb__wh_object(data, "attachment"), "media");
  const char *text = sb__wh_str(data, "text");
  if (media == NULL && text == NULL)
    return sb__wh_item_fail(it, "missing field \"message_data.text\"");
  if (media == NULL) return sb__wh_set_text_take(it, strdup(text));
  return sb__wh_set_text_take(it,
                              sb__wh_labelled(sb__wh_str(media, "type"), text));
}

/* direct_message_events[] of type message_create. */
static int x_dm(x_delivery_t *d, const cJSON *ev) {
  const cJSON *mc = sb__wh_object(ev, "message_create");
  const char *sender = sb__wh_str(mc, "sender_id");
  const char *recipient =
      sb__wh_str(sb__wh_object(mc, "target"), "recipient_id");
  bool echo = str_is(sender, d->me);
  sb_wh_item_t *it;
  if (!str_is(sb__wh_str(ev, "type"), "message_create"))
    return sb__wh_item_ignored(d->b, CH_X);
  int rc =
      sb__wh_item_new(d->b, echo ? SB_WH_STATUS : SB_WH_MESSAGE, CH_X, &it);
  if (rc != 0) return rc;
  it->time_ms =
      sb__wh_epoch_ms(sb__wh_decimal(sb__wh_str(ev, "created_timestamp")));
  rc = sb__wh_set_id(it, &it->platform_message_id, "id", sb__wh_str(ev, "id"));
  if (echo) {
    if (rc == 0) rc = sb__wh_set_status(it, "sender_id", "echo");
    if (rc == 0)
      rc = sb__wh_set_opt(it, &it->customer, "target.recipient_id", recipient);
    return sb__wh_item_done(it, rc);
  }
  if (rc == 0) rc = sb__wh_set_id(it, &it->customer, "sender_id", sender);
  if (rc == 0) rc = dm_author(d, it, sender);
  if (rc == 0) rc = dm_text(it, sb__wh_object(mc, "message_data"));
  return sb__wh_item_done(it, rc);
}

/* direct_message_mark_read_events[]: the customer read up to an event. */
static int x_dm_read(x_delivery_t *d, const cJSON *ev) {
  const char *sender = sb__wh_str(ev, "sender_id");
  sb_wh_item_t *it;
  if (str_is(sender, d->me))
    return sb__wh_item_ignored(d->b, CH_X); /* we read theirs */
  int rc = sb__wh_item_new(d->b, SB_WH_STATUS, CH_X, &it);
  if (rc != 0) return rc;
  it->time_ms =
      sb__wh_epoch_ms(sb__wh_decimal(sb__wh_str(ev, "created_timestamp")));
  rc = sb__wh_set_opt(it, &it->platform_message_id, "last_read_event_id",
                      sb__wh_str(ev, "last_read_event_id"));
  if (rc == 0) rc = sb__wh_set_status(it, "sender_id", "read");
  if (rc == 0) rc = sb__wh_set_id(it, &it->customer, "sender_id", sender);
  return sb__wh_item_done(it, rc);
}

/* --------------------------------------------------------------- delivery */

typedef int (*x_event_fn)(x_delivery_t *d, const cJSON *ev);

static const struct {
  const char *key;
  x_event_fn fn;
} X_EVENTS[] = {
    {"tweet_create_events", x_tweet},
    {"tweet_delete_events", x_tweet_delete},
    {"direct_message_events", x_dm},
    {"direct_message_mark_read_events", x_dm_read},
};

static x_event_fn x_reader(const char *key) {
  for (size_t i = 0; i < sizeof X_EVENTS / sizeof X_EVENTS[0]; i++)
    if (strcmp(key, X_EVENTS[i].key) == 0) return X_EVENTS[i].fn;
  return NULL;
}

static bool is_events_key(const char *key) {
  size_t n = key != NULL ? strlen(key) : 0, s = sizeof EVENTS_SUFFIX - 1;
  return n > s && strcmp(key + n - s, EVENTS_SUFFIX) == 0;
}

/* Every element of one "<kind>_events" member. */
static int x_events(x_delivery_t *d, const cJSON *member) {
  x_event_fn fn = x_reader(member->string);
  const cJSON *ev;
  if (!cJSON_IsArray(member))
    return sb__wh_item_bad(d->b, SB_WH_IGNORED, CH_X,
                           "an *_events member is not an array");
  cJSON_ArrayForEach(ev, member) {
    int rc = !cJSON_IsObject(ev) ? sb__wh_item_bad(d->b, SB_WH_IGNORED, CH_X,
                                                   "event is not an object")
             : fn != NULL        ? fn(d, ev)
                                 : sb__wh_item_ignored(d->b, CH_X);
    if (rc != 0) return rc;
  }
  return 0;
}

static int x_root(sb__wh_builder_t *b, const cJSON *root, char *err,
                  size_t errlen) {
  x_delivery_t d = {b, root, sb__wh_str(root, "for_user_id")};
  const cJSON *m;
  if (d.me == NULL || d.me[0] == '\0') {
    sb__wh_reason(err, errlen,
                  "not an Account Activity delivery: no \"for_user_id\"");
    return SB_EPARSE;
  }
  cJSON_ArrayForEach(m, root) {
    if (!is_events_key(m->string)) continue;
    int rc = x_events(&d, m);
    if (rc != 0) return rc;
  }
  return 0;
}

int sb_webhook_x_parse(const char *body, size_t len, sb_wh_batch_t *out,
                          char *err, size_t errlen) {
  return sb__wh_json_deliver(body, len, out, err, errlen, x_root);
}
