/*
 * sb_webhook: platform webhook deliveries (Meta, X, Twilio, inbound e-mail,
 * WeChat, Telegram, LINE) turned into a flat list of items, pure (no I/O,
 * no credentials).
 *
 * The idea: a delivery is checked (sb_signature) over its raw bytes before
 * it reaches this module; here it is read once and every message, status
 * or ignorable event it holds becomes one sb_wh_item_t with the fields an
 * interaction envelope needs (channel, customer, text, public, platform
 * message id, reply_to, author) plus threading and delivery-state fields.
 * A platform re-sends the same bytes forever when answered 4xx, so only a
 * delivery that is wrong as a whole fails the parse; one bad item inside a
 * good delivery is returned with its error set, to be dead-lettered, and
 * the others are parsed normally.
 *
 * Invariants of a returned item (strings malloc'd, NUL-terminated, valid
 * UTF-8; pointers NULL when absent, never ""):
 *   - error[0] != '\0': the item is malformed; only kind (a best guess),
 *     channel and possibly platform_message_id are set, every other
 *     pointer is NULL. The reason names fields, never values.
 *   - SB_WH_MESSAGE: a new inbound customer message. platform_message_id
 *     and customer are non-empty (no control characters, at most
 *     SB_WEBHOOK_ID_MAX bytes); text is non-NULL (0..SB_WEBHOOK_TEXT_MAX
 *     bytes); media become "[image]", "[video]", ... before any caption;
 *     status is NULL.
 *   - SB_WH_STATUS: what happened to a message we sent (status is
 *     "sent", "delivered", "read", "failed", "deleted", "echo" for a copy of
 *     our own outbound message, ...); platform_message_id is the message
 *     concerned, or NULL when the platform reports a watermark (every
 *     message up to time_ms); customer is the other party when known.
 *     Never a new inbound message. text is NULL.
 *   - SB_WH_IGNORED: an event with nothing to route (typing, follows,
 *     removed reactions, template updates, ...), kept so it can be counted.
 *   - channel is one of the sb_cloudevent channel names: "whatsapp",
 *     "messenger", "instagram", "facebook", "x", "sms", "email", "wechat",
 *     "telegram", "line".
 *   - customer: WhatsApp and SMS numbers in E.164 with '+' ("+16505551234",
 *     whichever API delivered them, so one person has one identity), e-mail
 *     addresses in lowercase, platform user ids otherwise (WeChat OpenID,
 *     Telegram from.id, LINE userId).
 *   - time_ms: when the platform says it happened (unix ms), 0 if unknown.
 *   - redelivery: the platform marked the item as a re-send (LINE
 *     deliveryContext.isRedelivery); for counting only, de-duplication
 *     never depends on it.
 *
 * Error contract of the parse functions: 0 on success (out holds n >= 0
 * items, some perhaps with error set), else
 *   SB_EPARSE  the delivery is not JSON / XML / a form of the expected
 *              shape;
 *   SB_ETOOBIG JSON nested deeper than SB_WEBHOOK_MAX_DEPTH, or more than
 *              SB_WEBHOOK_MAX_ITEMS items, or XML over SB_WEBHOOK_XML_MAX
 *              bytes or nested deeper than SB_WEBHOOK_XML_DEPTH;
 *   SB_EINVAL  a NULL argument;
 *   SB_ENOMEM  allocation failed.
 * On failure out is empty (items NULL, n 0) and a one-line reason, safe to
 * return to the sender, is in err (errlen bytes, always NUL-terminated when
 * errlen > 0; err may be NULL).
 */
#ifndef SB_WEBHOOK_H
#define SB_WEBHOOK_H

#include <stddef.h>
#include <stdint.h>

#include "sb_form.h"

#define SB_WEBHOOK_MAX_ITEMS 1000       /* items from one delivery */
#define SB_WEBHOOK_TEXT_MAX (16 * 1024) /* bytes of an item's text */
#define SB_WEBHOOK_ID_MAX 256           /* bytes of ids, names, statuses */
#define SB_WEBHOOK_SUBJECT_MAX 256      /* bytes of an e-mail Subject kept for a reply */
#define SB_WEBHOOK_MAX_DEPTH 32         /* [ and { nesting of a JSON body */
#define SB_WEBHOOK_XML_MAX (64 * 1024)  /* bytes of a WeChat XML body */
#define SB_WEBHOOK_XML_DEPTH 8          /* element nesting of a WeChat body */
#define SB_WH_CHANNEL_LEN 16
#define SB_WH_ERROR_LEN 128

typedef enum {
  SB_WH_MESSAGE,
  SB_WH_STATUS, /* delivery/read receipt, echo: updates state, never a new
                   inbound message */
  SB_WH_IGNORED
} sb_wh_kind_t;

typedef struct {
  sb_wh_kind_t kind;
  char channel[SB_WH_CHANNEL_LEN];
  char *platform_message_id;
  char *customer; /* platform user id, e-mail address or phone number */
  char *text;
  int is_public;     /* tweets, page and Instagram comments */
  char *reply_to;    /* platform message id this one answers or reacts to */
  char *thread_hint; /* e-mail References root, post/media id of a comment */
  char *author_name;
  char *reply_token; /* LINE: the event's replyToken (single use, ~1 min) */
  char *reply_chat;  /* Telegram group chat, LINE group or room it was written in, else NULL */
  char *subject;     /* e-mail: the Subject, cleaned and cut (SB_WEBHOOK_SUBJECT_MAX), else NULL */
  int64_t followers; /* X author's followers_count, else 0 */
  int64_t time_ms;
  int redelivery;              /* the platform says it re-sends this item */
  char *status;                /* SB_WH_STATUS only */
  char error[SB_WH_ERROR_LEN]; /* non-empty: malformed, dead-letter it */
} sb_wh_item_t; /* a caller may take a string by setting the field to
                   NULL and free()ing it later */

/* Items in delivery order; the caller owns it (sb_wh_batch_free). */
typedef struct {
  sb_wh_item_t *items;
  size_t n;
} sb_wh_batch_t;

/*
 * Meta: body[0..len) (need not be NUL-terminated) as posted by the Graph
 * API webhooks, "object" one of
 *   "whatsapp_business_account": entry[].changes[] with field "messages":
 *     value.messages[] (text, image, video, audio, document, sticker,
 *     location, reaction, interactive, button, ...; context.id -> reply_to,
 *     value.contacts[].profile.name -> author_name) and value.statuses[];
 *   "page": entry[].messaging[] (Messenger: message, is_echo, delivery,
 *     read, reaction, postback) and entry[].changes[] with field "feed"
 *     (public page posts and comments, channel "facebook");
 *   "instagram": entry[].messaging[] as Messenger, and entry[].changes[]
 *     with field "comments" (public).
 * A leading UTF-8 byte order mark is ignored; an escaped NUL (\u0000) in a
 * string reads as U+FFFD.
 */
int sb_webhook_meta_parse(const char *body, size_t len, sb_wh_batch_t *out,
                          char *err, size_t errlen);

/*
 * X Account Activity API: body with "for_user_id" and
 *   tweet_create_events[] (public; text from extended_tweet.full_text when
 *     present, HTML entities &amp; &lt; &gt; decoded; user.followers_count;
 *     in_reply_to_status_id_str -> reply_to; our own tweets -> "echo",
 *     retweets -> ignored),
 *   direct_message_events[] (private; message_create.sender_id; our own
 *     sent DMs (sender == for_user_id) -> "echo"; author from users{}),
 *   direct_message_mark_read_events[] -> "read", tweet_delete_events[] ->
 *     "deleted", every other *_events[] element -> ignored.
 */
int sb_webhook_x_parse(const char *body, size_t len, sb_wh_batch_t *out,
                       char *err, size_t errlen);

/*
 * Twilio Messaging webhook (form already parsed with
 * sb_form_urlencoded_parse): one item. From, To, Body, MessageSid (or
 * SmsSid), NumMedia with MediaContentType<i>, ProfileName,
 * OriginalRepliedMessageSid. "whatsapp:" before From or To -> channel
 * whatsapp (prefix removed), else sms. MessageStatus without Body -> a
 * status callback (customer = To). A form with neither MessageSid nor
 * SmsSid is not a messaging webhook: SB_EPARSE.
 */
int sb_webhook_twilio_parse(const sb_form_t *form, sb_wh_batch_t *out,
                            char *err, size_t errlen);

/*
 * Inbound-parse e-mail (form already parsed with sb_form_multipart_parse):
 * one item from the fields from, subject, text and headers (the raw header
 * block). customer = the address inside From (lowercased), author_name its
 * display name; platform_message_id = Message-ID without its angle brackets
 * (when missing: "nomsgid-" and 32 hex digits of a hash of headers and
 * text, stable across redeliveries); reply_to = In-Reply-To;
 * thread_hint = the first id of References, else In-Reply-To;
 * subject = the Subject for an answer (control characters as spaces, cut
 * at SB_WEBHOOK_SUBJECT_MAX; none when empty or not UTF-8).
 * text = subject, a blank line, then the body, cut at SB_WEBHOOK_TEXT_MAX on
 * a character boundary (long quoted histories are common). A message with
 * "Auto-Submitted" other than "no" (RFC 3834: vacation replies, bounces)
 * is ignored. A form without "from" and "headers" is SB_EPARSE.
 */
int sb_webhook_email_parse(const sb_form_t *form, sb_wh_batch_t *out, char *err,
                           size_t errlen);

/*
 * SendGrid's Event Webhook (sb_webhook_sendgrid.c): body a JSON array of
 * events; processed, delivered, open, bounce and dropped become status
 * items (channel "email", "sent", "delivered", "read", "failed",
 * "failed") naming the Mail Send X-Message-Id (sg_message_id up to
 * ".filter"), time_ms from "timestamp"; other events are ignored items.
 * A body that is not a JSON array is SB_EPARSE.
 */
int sb_webhook_email_events_parse(const char *body, size_t len, sb_wh_batch_t *out, char *err,
                                  size_t errlen);

/*
 * WeChat Official Account: one message as XML (plaintext mode, or the
 * plaintext of safe mode after sb_signature_wechat_decrypt), read with
 * expat: UTF-8 only (a declared encoding other than UTF-8 is refused), any
 * DOCTYPE refused before its declarations are read (so no entity is ever
 * defined, expanded or fetched: no billion laughs, no external entities),
 * root element <xml>, its children read as fields (CDATA or text; a field
 * given twice fails the delivery). One item, channel "wechat", private,
 * customer = FromUserName (the OpenID), time_ms from CreateTime:
 *   MsgType text (Content), image, voice ("[voice] Recognition"), video,
 *     shortvideo, location ("[location] Label (X, Y)"), link ("[link] Title
 *     Description Url"), any other "[type]": a message, id = MsgId;
 *   MsgType event: Event CLICK (a menu button) is a message "[click]
 *     EventKey" with id "event:<FromUserName>:<CreateTime>" (events have no
 *     MsgId; WeChat repeats both on a retry); subscribe, unsubscribe and
 *     every other event are ignored.
 * A body without MsgType is SB_EPARSE.
 */
int sb_webhook_wechat_parse(const char *body, size_t len, sb_wh_batch_t *out,
                            char *err, size_t errlen);

/*
 * WeChat safe mode: the Encrypt field of the outer XML body (read with the
 * same rules as sb_webhook_wechat_parse), malloc'd into *encrypt for
 * sb_signature_wechat_check and sb_signature_wechat_decrypt. SB_EPARSE
 * when the body is not such XML or has no Encrypt; errors as above.
 */
int sb_webhook_wechat_encrypted(const char *body, size_t len, char **encrypt,
                                char *err, size_t errlen);

/*
 * Telegram Bot API: one Update object. update_id is the platform message
 * id of its one item (de-duplication: Telegram re-sends the same update
 * until answered 2xx). message and edited_message (text "[edited] ..."),
 * business_message: a message from from.id; chat.type "private" is
 * private, "group" and "supergroup" are public (a bot in a group sees
 * mentions, commands and replies to it); text, else "[photo]",
 * "[video]", "[voice]", "[document] name", "[sticker] emoji",
 * "[location] (lat, long)", "[contact]", ... followed by the caption;
 * reply_to_message.message_id -> reply_to; author = first and last name;
 * in a group or supergroup, chat.id -> reply_chat (answers go there).
 * callback_query (a tapped inline button): a message "[button] data" from
 * from.id, public like the chat of its message. channel_post,
 * edited_channel_post, my_chat_member, chat_member and every other kind:
 * ignored (no customer wrote them). No update_id: SB_EPARSE.
 */
int sb_webhook_telegram_parse(const char *body, size_t len, sb_wh_batch_t *out,
                              char *err, size_t errlen);

/*
 * LINE Messaging API: {"destination", "events": [...]}; an empty events
 * array (LINE's "verify" request) gives no items. Per event, id =
 * webhookEventId, customer = source.userId, public when source.type is
 * "group" or "room", time_ms = timestamp, redelivery =
 * deliveryContext.isRedelivery:
 *   message: text, image, video, audio, file ("[file] name"), location
 *     ("[location] title address (lat, long)"), sticker; quotedMessageId ->
 *     reply_to;
 *   postback: a message "[postback] data";
 *   replyToken -> reply_token (message and postback; notify answers with
 *   it while it is fresh); source.groupId / source.roomId -> reply_chat
 *   (later answers are pushed to the group or room);
 *   follow, unfollow, join, leave, unsend and every other type: ignored.
 * No events array: SB_EPARSE.
 */
int sb_webhook_line_parse(const char *body, size_t len, sb_wh_batch_t *out,
                          char *err, size_t errlen);

/* Frees every item's strings and the array, and zeroes b. Safe on a zeroed
 * batch and on NULL. */
void sb_wh_batch_free(sb_wh_batch_t *b);

#endif
