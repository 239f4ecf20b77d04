/*
 * sb_signature: proof that a webhook delivery comes from the platform, pure
 * (no I/O): HMAC, constant-time comparison, hex and base64, and one check
 * per platform, plus the platforms' verification handshakes.
 *
 * The idea: a platform signs the exact bytes it sends with a secret we share
 * with it; we recompute the HMAC over the same bytes and compare in constant
 * time, before anything else reads the body. A check therefore takes the
 * raw body (or, for Twilio, the URL and the decoded form pairs, which is
 * what Twilio signs) and the header value as received, and says yes or no.
 *
 * WeChat signs differently (a SHA-1 of sorted parts, the token never
 * leaving either side) and, in safe mode, encrypts the message; its
 * decryption lives here too because the AppID inside the plaintext is what
 * proves the message is for this account.
 *
 * Invariants:
 *   - no check ever passes with an empty secret (a missing credential is a
 *     misconfiguration, not a licence to accept anything);
 *   - the expected and received MACs are compared as bytes with
 *     CRYPTO_memcmp, after decoding, so the comparison time does not depend
 *     on where they differ;
 *   - reasons are static strings that name the problem, never the secret or
 *     the expected signature, and are safe to return in a 401 body.
 *
 * Error contract: 0 on success (the signature is valid), else a negative
 * SB_E* code; the checks return SB_EINVAL for every rejection, with *why
 * set to a static reason (why may be NULL).
 */
#ifndef SB_SIGNATURE_H
#define SB_SIGNATURE_H

#include <stddef.h>
#include <stdint.h>

#include "sb_form.h"

#define SB_SIGNATURE_SHA256_LEN 32
#define SB_SIGNATURE_SHA1_LEN 20
#define SB_SIGNATURE_DIGEST_MAX SB_SIGNATURE_SHA256_LEN

/* Characters of the encodings of n bytes, without the NUL. */
#define SB_SIGNATURE_HEX_LEN(n) (2 * (n))
#define SB_SIGNATURE_BASE64_LEN(n) (4 * (((n) + 2) / 3))

/* Header names as the platforms document them (match case-insensitively). */
#define SB_SIGNATURE_META_HEADER "X-Hub-Signature-256"
#define SB_SIGNATURE_X_HEADER "x-twitter-webhooks-signature"
#define SB_SIGNATURE_TWILIO_HEADER "X-Twilio-Signature"
#define SB_SIGNATURE_TELEGRAM_HEADER "X-Telegram-Bot-Api-Secret-Token"
#define SB_SIGNATURE_LINE_HEADER "x-line-signature"

#define SB_SIGNATURE_HEADER_MAX 256       /* bytes of a signature header */
#define SB_SIGNATURE_X_CRC_TOKEN_MAX 1024 /* bytes of an X crc_token */
#define SB_SIGNATURE_X_CRC_JSON_MAX 96    /* room for the CRC response */
#define SB_SIGNATURE_URL_MAX 4096         /* bytes of a Twilio webhook URL */
#define SB_SIGNATURE_CHALLENGE_MAX 128    /* bytes of a Meta hub.challenge */
#define SB_SIGNATURE_WECHAT_PART_MAX 256  /* bytes of a WeChat timestamp, nonce */
#define SB_SIGNATURE_WECHAT_KEY_LEN 43    /* characters of an EncodingAESKey */
#define SB_SIGNATURE_TELEGRAM_TOKEN_MAX 256 /* bytes of a Telegram secret_token */

/*
 * HMAC of msg[0..len) with key[0..klen) using algo "sha256" or "sha1".
 * *outlen is the capacity of out on entry and the digest length on return
 * (32 or 20). Returns 0, SB_EINVAL (unknown algo, NULL arguments, key over
 * INT_MAX bytes), SB_ETOOBIG (out too small) or SB_ENOMEM (OpenSSL failed).
 * An empty key is a valid HMAC key here; the platform checks refuse it.
 */
int sb_signature_hmac(const char *algo, const void *key, size_t klen,
                      const void *msg, size_t len, uint8_t *out,
                      size_t *outlen);

/* 1 when a[0..n) equals b[0..n), else 0, in time that depends only on n. */
int sb_signature_equal(const void *a, const void *b, size_t n);

/* Lowercase hex of in[0..n) plus a NUL into out (cap bytes).
 * 0, or SB_ETOOBIG when cap < SB_SIGNATURE_HEX_LEN(n) + 1. */
int sb_signature_hex_encode(const void *in, size_t n, char *out, size_t cap);

/* Decodes hex text[0..len) (either case) into out (cap bytes); *outlen gets
 * len / 2. SB_EINVAL for an odd length or a non-hex character, SB_ETOOBIG
 * when cap is too small. */
int sb_signature_hex_decode(const char *text, size_t len, uint8_t *out,
                            size_t cap, size_t *outlen);

/* Standard base64 (RFC 4648, '+' '/', '=' padding) of in[0..n) plus a NUL.
 * 0, or SB_ETOOBIG when cap < SB_SIGNATURE_BASE64_LEN(n) + 1. */
int sb_signature_base64_encode(const void *in, size_t n, char *out, size_t cap);

/* Decodes canonical padded standard base64 text[0..len): length a multiple
 * of 4, '=' only as the last one or two characters, no whitespace, unused
 * bits zero. SB_EINVAL when it is not, SB_ETOOBIG when cap is too small. */
int sb_signature_base64_decode(const char *text, size_t len, uint8_t *out,
                               size_t cap, size_t *outlen);

/*
 * Meta (WhatsApp, Messenger, Instagram, Facebook pages):
 * "X-Hub-Signature-256: sha256=<hex HMAC-SHA256(app_secret, body)>".
 * header is the value as received (NULL when the header is missing);
 * surrounding spaces are ignored, hex may be either case.
 */
int sb_signature_meta_check(const char *app_secret, const char *header,
                            const void *body, size_t len, const char **why);

/*
 * Meta's GET verification handshake: query is the parsed query string; it
 * must hold hub.mode=subscribe and hub.verify_token equal to verify_token
 * (non-empty). On success *challenge points at the hub.challenge value
 * inside query (valid while query lives), which the caller answers with
 * 200 as text/plain. The challenge must be 1..128 of [A-Za-z0-9_-] (Meta
 * sends digits), so echoing it can never inject markup.
 */
int sb_signature_meta_handshake(const sb_form_t *query,
                                const char *verify_token,
                                const char **challenge, const char **why);

/*
 * X Account Activity:
 * "x-twitter-webhooks-signature: sha256=<base64 HMAC-SHA256(consumer_secret,
 * body)>".
 */
int sb_signature_x_check(const char *consumer_secret, const char *header,
                         const void *body, size_t len, const char **why);

/*
 * The X CRC challenge answer: writes
 *   {"response_token":"sha256=<base64 HMAC-SHA256(secret, crc_token)>"}
 * plus a NUL into out_json (cap bytes; SB_SIGNATURE_X_CRC_JSON_MAX is
 * enough). crc_token is the decoded value of the crc_token query parameter,
 * 1..SB_SIGNATURE_X_CRC_TOKEN_MAX bytes; it is never echoed. Returns 0,
 * SB_EINVAL (empty secret, empty or oversized token) or SB_ETOOBIG (cap).
 */
int sb_signature_x_crc(const char *consumer_secret, const char *crc_token,
                       char *out_json, size_t cap);

/*
 * Twilio: "X-Twilio-Signature: <base64 HMAC-SHA1(auth_token, data)>" where
 * data is the full URL Twilio requested (scheme, host, path, query) followed
 * by each POST parameter's name and value with no delimiters, sorted by name
 * and then by value (byte order, as Twilio's own validators do; a repeated
 * identical pair counts once). url must be the public URL as configured in
 * Twilio, not the one behind a proxy. Like Twilio's validators, a URL with a
 * port is also tried without it, and one without a port also with the
 * scheme's default port (443, 80). form is the parsed urlencoded body.
 */
int sb_signature_twilio_check(const char *auth_token, const char *url,
                              const sb_form_t *form, const char *header,
                              const char **why);

/*
 * WeChat Official Account: signature = lowercase hex SHA-1 of token,
 * timestamp and nonce (and, for a safe-mode msg_signature, the Encrypt
 * field of the body: pass it as encrypt, else NULL) sorted in byte order
 * and concatenated without separators. timestamp and nonce are the query
 * parameters as decoded, 1..SB_SIGNATURE_WECHAT_PART_MAX bytes each;
 * signature is the claimed hex (either case). The check says nothing about
 * the body in plaintext mode: WeChat signs only these parts.
 */
int sb_signature_wechat_check(const char *token, const char *timestamp,
                              const char *nonce, const char *encrypt,
                              const char *signature, const char **why);

/*
 * WeChat's GET server verification: query holds signature, timestamp,
 * nonce and echostr; on success *echostr points at the echostr value inside
 * query, which the caller answers with 200 as text/plain. echostr must be
 * 1..128 of [A-Za-z0-9_-] (WeChat sends digits).
 */
int sb_signature_wechat_handshake(const sb_form_t *query, const char *token,
                                  const char **echostr, const char **why);

/*
 * WeChat safe mode ("encrypt_type=aes"): decrypts the Encrypt field (NUL-
 * terminated base64) with the account's EncodingAESKey (43 base64
 * characters; key = base64 decode of aes_key + "=", IV = the key's first 16
 * bytes, AES-256-CBC, PKCS#7 padding to 32 bytes). The plaintext is 16
 * random bytes, the message length (4 bytes, big-endian), the message and
 * the AppID, which must equal app_id. Check msg_signature first
 * (sb_signature_wechat_check): CBC alone authenticates nothing.
 * On success *xml is the message (malloc'd, NUL-terminated, *len bytes
 * without the NUL; the caller frees). SB_EINVAL with *why for every
 * rejection (key, base64, length, padding, AppID), SB_ENOMEM.
 */
int sb_signature_wechat_decrypt(const char *aes_key, const char *app_id,
                                const char *encrypt, char **xml, size_t *len,
                                const char **why);

/*
 * Telegram Bot API: "X-Telegram-Bot-Api-Secret-Token: <secret_token>" as
 * given to setWebhook (1..256 of [A-Za-z0-9_-]). Both sides are hashed
 * (SHA-256) and the digests compared, so the time depends on neither the
 * position of a difference nor the secret's length.
 */
int sb_signature_telegram_check(const char *secret_token, const char *header,
                                const char **why);

/*
 * SendGrid Signed Event Webhook: "X-Twilio-Email-Event-Webhook-Signature:
 * <base64 DER ECDSA signature>" over the timestamp header's value followed
 * by the raw body, SHA-256, with the account's verification key (base64 of
 * the DER SubjectPublicKeyInfo of a P-256 key, as SendGrid shows it).
 * "X-Twilio-Email-Event-Webhook-Timestamp: <Unix s>" must be within
 * SB_SIGNATURE_SENDGRID_SKEW_S of now_s: SendGrid retries a failed post
 * for up to a day, and SendGrid does not document a window; a replay
 * within it changes nothing (delivery states only move forward).
 */
#define SB_SIGNATURE_SENDGRID_HEADER "X-Twilio-Email-Event-Webhook-Signature"
#define SB_SIGNATURE_SENDGRID_TIMESTAMP "X-Twilio-Email-Event-Webhook-Timestamp"
#define SB_SIGNATURE_SENDGRID_SKEW_S (86400 + 3600)
int sb_signature_sendgrid_check(const char *public_key, const char *signature,
                                const char *timestamp, int64_t now_s, const void *body,
                                size_t len, const char **why);

/*
 * LINE Messaging API:
 * "x-line-signature: <base64 HMAC-SHA256(channel_secret, body)>".
 */
int sb_signature_line_check(const char *channel_secret, const char *header,
                            const void *body, size_t len, const char **why);

#endif
