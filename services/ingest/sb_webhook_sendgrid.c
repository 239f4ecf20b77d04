/*
 * sb_webhook_sendgrid: SendGrid's Event Webhook (what became of the e-mails
 * notify sent through the Mail Send API) into sb_webhook items. See
 * sb_webhook.h for the contract.
 *
 * A delivery is a JSON array of events, each {"email", "timestamp" (Unix
 * s), "event", "sg_event_id", "sg_message_id", ...}. sg_message_id is the
 * X-Message-Id that Mail Send answered with, followed by ".filter..."
 * (SendGrid's own suffix; an id may itself hold dots): the part before
 * ".filter" (the whole value without one) is the item's platform message
 * id, the id notify kept for the message.
 *
 * Each event becomes exactly one item, in order: processed -> "sent",
 * delivered -> "delivered", open -> "read", bounce and dropped -> "failed"
 * (the recipient never got it), other events (deferred: SendGrid still
 * tries; click, spamreport, unsubscribe, group_*) are ignored items.
 * An element that is not an object, or a known event without a usable
 * sg_message_id, is a malformed item; the others are still read.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sb_error.h"
#include "sb_webhook.h"
#include "sb_webhook_internal.h"

static const char CH_EMAIL[] = "email";

#define MS_PER_SECOND 1000
#define FILTER_SUFFIX ".filter" /* what SendGrid appends to the X-Message-Id */

static const struct {
  const char *event, *status;
} STATES[] = {{"processed", "sent"}, {"delivered", "delivered"}, {"open", "read"},
              {"bounce", "failed"},  {"dropped", "failed"}};

static const char *status_of(const char *event) {
  for (size_t i = 0; event != NULL && i < sizeof STATES / sizeof STATES[0]; i++)
    if (strcmp(STATES[i].event, event) == 0) return STATES[i].status;
  return NULL;
}

static int sg_event(sb__wh_builder_t *b, const cJSON *e) {
  if (!cJSON_IsObject(e))
    return sb__wh_item_bad(b, SB_WH_STATUS, CH_EMAIL, "event is not an object");
  const char *status = status_of(sb__wh_str(e, "event"));
  if (status == NULL) return sb__wh_item_ignored(b, CH_EMAIL);
  sb_wh_item_t *it;
  int rc = sb__wh_item_new(b, SB_WH_STATUS, CH_EMAIL, &it);
  if (rc != 0) return rc;
  const char *sg = sb__wh_str(e, "sg_message_id");
  const char *filter = sg != NULL ? strstr(sg, FILTER_SUFFIX) : NULL;
  char id[SB_WEBHOOK_ID_MAX + 1];
  size_t n = filter != NULL ? (size_t)(filter - sg) : sg != NULL ? strlen(sg) : 0;
  if (n == 0 || n > SB_WEBHOOK_ID_MAX) {
    rc = sb__wh_item_fail(it, "missing or bad field \"sg_message_id\"");
  } else {
    memcpy(id, sg, n);
    id[n] = '\0';
    rc = sb__wh_set_id(it, &it->platform_message_id, "sg_message_id", id);
  }
  if (rc == 0) rc = sb__wh_set_status(it, "event", status);
  if (rc == 0) rc = sb__wh_set_opt(it, &it->customer, "email", sb__wh_str(e, "email"));
  int64_t ts = sb__wh_uint(e, "timestamp"); /* <= 2^53: ms fit in int64 */
  if (rc == 0 && ts > 0) it->time_ms = ts * MS_PER_SECOND;
  return sb__wh_item_done(it, rc);
}

static int sg_root(sb__wh_builder_t *b, const cJSON *root, char *err, size_t errlen) {
  if (!cJSON_IsArray(root)) {
    sb__wh_reason(err, errlen, "not a SendGrid event delivery: not a JSON array");
    return SB_EPARSE;
  }
  int rc = 0;
  for (const cJSON *e = root->child; rc == 0 && e != NULL; e = e->next) rc = sg_event(b, e);
  return rc;
}

int sb_webhook_email_events_parse(const char *body, size_t len, sb_wh_batch_t *out, char *err,
                                  size_t errlen) {
  return sb__wh_json_deliver(body, len, out, err, errlen, sg_root);
}
