/*
 * sb_door_webhook: the platforms' webhooks on ingest's HTTP port.
 *
 *   GET  /webhooks/meta/{account}   Meta's hub.challenge handshake
 *   GET  /webhooks/x/{account}      X's CRC challenge (crc_token)
 *   GET  /webhooks/wechat/{account} WeChat's server verification (echostr)
 *   POST /webhooks/{meta,x,twilio,email,wechat,telegram,line}/{account}
 *
 * The account (sb_tenants: platform + id) names the tenant and the secret.
 * The signature is checked over the raw body before any parsing; a wrong
 * or missing one is 401, counted, and nothing is written. A validly signed
 * delivery is split into items (sb_webhook): messages are admitted like
 * any other event (sb_admit: redaction, key = the platform's message id
 * under source /<platform>/<account>, so a redelivery is a duplicate) and
 * written durably (sb_intake) before the platform gets its 200; a
 * malformed item is dead-lettered with its reason while the others go on
 * (a 4xx would make the platform re-send the same bytes for ever);
 * receipts and echoes are counted and never become inbound messages; a
 * receipt naming a message stores its latest delivery state (delivery.lua,
 * dlv:<channel>:<id>: a state only moves forward, sent < delivered < read
 * < failed < deleted) before the 200.
 * If a write is not durable the answer is 503, and the platform's retry
 * is safe.
 *
 * Each platform is one row of a table: how its deliveries are proved
 * authentic, read, answered and (for some) handshaken. WeChat's proof is
 * the SHA-1 of token, timestamp and nonce in the query (plus the Encrypt
 * field in safe mode, which an account with an aes_key requires; the
 * message is then decrypted and its AppID checked before it is read), and
 * a timestamp more than SB_WECHAT_TIMESTAMP_SKEW_S from our clock is
 * refused, so a captured signature cannot be replayed for long. Telegram's
 * is a secret token header, LINE's an HMAC of the body.
 */
#ifndef SB_DOOR_WEBHOOK_H
#define SB_DOOR_WEBHOOK_H

#include "sb_http.h"
#include "sb_intake.h"
#include "sb_service.h"

#define SB_WEBHOOK_PATH_PREFIX "/webhooks/"
#define SB_WECHAT_TIMESTAMP_SKEW_S 300 /* WeChat retries within 15 s */

typedef struct sb_door_webhook sb_door_webhook_t;

sb_door_webhook_t *sb_door_webhook_new(sb_service_t *s, sb_intake_t *intake);
void sb_door_webhook_destroy(sb_door_webhook_t **w);

/* Answers one request whose path starts with SB_WEBHOOK_PATH_PREFIX. */
void sb_door_webhook_handle(sb_door_webhook_t *w, const sb_http_request_t *req,
                            sb_http_response_t *res);

#endif
