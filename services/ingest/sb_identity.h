/*
 * sb_identity: the body of POST /v1/identities, pure (no I/O).
 *
 * The idea: one person writes on several channels (WeChat, e-mail, SMS);
 * an integrator or an agent desktop says which channel identities belong
 * to one canonical customer, and ingest then threads that person's
 * messages by the canonical customer (ingest.lua, key ident:<channel>:<id>
 * in sb_keys.h). Identities are normalised exactly as the platform
 * webhooks write the customer (sb_webhook.h), or a link would never match
 * a message: e-mail addresses lowercased, WhatsApp / SMS / voice numbers in
 * E.164 with '+', other platform ids verbatim.
 *
 *   {"tenant": "acme-air", "customer": "c-1001",
 *    "identities": [{"channel": "wechat", "id": "oABC"},
 *                   {"channel": "email", "id": "Ana@Example.com"}]}
 *
 * Untrusted bytes are checked before cJSON sees them: size, strict UTF-8,
 * nesting depth (so cJSON's recursion is bounded) and no escaped NUL.
 *
 * Error contract: 0 on success, else SB_EPARSE (not JSON / not UTF-8),
 * SB_ETOOBIG (body, nesting, identity count or a string over its limit),
 * SB_EINVAL (valid JSON that is not a link request), SB_ENOMEM. A one-line
 * reason naming fields, never values, is written to err (always
 * NUL-terminated when errlen > 0).
 */
#ifndef SB_IDENTITY_H
#define SB_IDENTITY_H

#include <stddef.h>

#define SB_IDENTITY_BODY_MAX (16 * 1024) /* bytes of one request body */
#define SB_IDENTITY_MAX 32               /* identities in one request */
#define SB_IDENTITY_ID_MAX 256           /* bytes of an id or a customer */
#define SB_IDENTITY_DEPTH 3              /* object > identities > identity */
#define SB_IDENTITY_TENANT_MAX 64
#define SB_IDENTITY_CHANNEL_MAX 16
#define SB_IDENTITY_PHONE_DIGITS_MAX 15 /* E.164 */

typedef struct {
  char channel[SB_IDENTITY_CHANNEL_MAX + 1]; /* an sb_channel_parse name */
  char id[SB_IDENTITY_ID_MAX + 1];           /* normalised */
} sb_identity_t;

typedef struct {
  char tenant[SB_IDENTITY_TENANT_MAX + 1];
  char customer[SB_IDENTITY_ID_MAX + 1];
  size_t n; /* 1..SB_IDENTITY_MAX */
  sb_identity_t ids[SB_IDENTITY_MAX];
} sb_identity_link_t;

/* Parses body[0..len) into *out (overwritten). See the error contract. */
int sb_identity_parse(const char *body, size_t len, sb_identity_link_t *out, char *err,
                      size_t errlen);

/* Normalises one identity of a channel into out (cap bytes, cap >
 * SB_IDENTITY_ID_MAX): 0, or SB_EINVAL when it is not a valid identity of
 * that channel (an e-mail without one '@', a phone that is not E.164, an id
 * with control characters, empty or over SB_IDENTITY_ID_MAX bytes). */
int sb_identity_normalise(const char *channel, const char *id, char *out, size_t cap);

#endif
