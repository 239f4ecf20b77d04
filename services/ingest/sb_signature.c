/*
 * sb_signature: HMAC checks of platform webhooks. See sb_signature.h.
 *
 * Every check has the same shape: refuse an empty secret, take the header
 * value apart (prefix, encoding) into the raw MAC bytes it claims, compute
 * our own MAC with OpenSSL, compare the two with CRYPTO_memcmp. Malformed
 * headers are rejected before any HMAC is computed, but a well-formed wrong
 * signature costs the same work as a right one. The encoders and decoders
 * are ours so that decoding is strict (one canonical text per byte string)
 * and needs no OpenSSL BIO chains.
 */
#include "sb_signature.h"

#include <limits.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/sha.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sb_error.h"
#include "sb_tenants.h" /* sb_tenants_ec_key */

enum {
  BASE64_GROUP = 4, /* characters per 3 bytes */
  BASE64_BYTES = 3,
  SEXTET_BITS = 6,
  DEFAULT_PORT_MAX = 4, /* ":443" */
  WECHAT_PARTS_MAX = 4,  /* token, timestamp, nonce, Encrypt */
  AES_KEY_LEN = 32,      /* AES-256 */
  AES_BLOCK = 16,
  WECHAT_PAD_BLOCK = 32, /* WeChat pads PKCS#7-style to 32 bytes */
  WECHAT_RANDOM_LEN = 16,
  WECHAT_LENGTH_LEN = 4
};

static const char HEX_DIGITS[] = "0123456789abcdef";
static const char BASE64_ALPHABET[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
static const char SHA256_PREFIX[] = "sha256=";
static const char CRC_JSON_FMT[] = "{\"response_token\":\"sha256=%s\"}";

static int reject(const char **why, const char *reason) {
  if (why != NULL) *why = reason;
  return SB_EINVAL;
}

/* ------------------------------------------------------------ primitives */

int sb_signature_hmac(const char *algo, const void *key, size_t klen,
                      const void *msg, size_t len, uint8_t *out,
                      size_t *outlen) {
  const EVP_MD *md = NULL;
  if (algo != NULL && strcmp(algo, "sha256") == 0) md = EVP_sha256();
  if (algo != NULL && strcmp(algo, "sha1") == 0) md = EVP_sha1();
  if (md == NULL || out == NULL || outlen == NULL || klen > INT_MAX ||
      (key == NULL && klen > 0) || (msg == NULL && len > 0))
    return SB_EINVAL;
  if (*outlen < (size_t)EVP_MD_get_size(md)) return SB_ETOOBIG;
  unsigned int n = 0;
  /* OpenSSL wants non-NULL pointers even for empty inputs */
  if (HMAC(md, key ? key : "", (int)klen, msg ? msg : (const void *)"", len,
           out, &n) == NULL)
    return SB_ENOMEM;
  *outlen = n;
  return 0;
}

int sb_signature_equal(const void *a, const void *b, size_t n) {
  return CRYPTO_memcmp(a, b, n) == 0;
}

int sb_signature_hex_encode(const void *in, size_t n, char *out, size_t cap) {
  const uint8_t *p = in;
  if (cap < SB_SIGNATURE_HEX_LEN(n) + 1) return SB_ETOOBIG;
  for (size_t i = 0; i < n; i++) {
    out[2 * i] = HEX_DIGITS[p[i] >> 4];
    out[2 * i + 1] = HEX_DIGITS[p[i] & 0xF];
  }
  out[SB_SIGNATURE_HEX_LEN(n)] = '\0';
  return 0;
}

static int hex_nibble(unsigned char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

int sb_signature_hex_decode(const char *text, size_t len, uint8_t *out,
                            size_t cap, size_t *outlen) {
  if (len % 2 != 0) return SB_EINVAL;
  if (cap < len / 2) return SB_ETOOBIG;
  for (size_t i = 0; i < len; i += 2) {
    int hi = hex_nibble((unsigned char)text[i]);
    int lo = hex_nibble((unsigned char)text[i + 1]);
    if (hi < 0 || lo < 0) return SB_EINVAL;
    out[i / 2] = (uint8_t)(hi << 4 | lo);
  }
  *outlen = len / 2;
  return 0;
}

int sb_signature_base64_encode(const void *in, size_t n, char *out,
                               size_t cap) {
  const uint8_t *p = in;
  size_t o = 0;
  if (cap < SB_SIGNATURE_BASE64_LEN(n) + 1) return SB_ETOOBIG;
  for (size_t i = 0; i < n; i += BASE64_BYTES) {
    size_t rem = n - i;
    uint32_t v = (uint32_t)p[i] << 16;
    if (rem > 1) v |= (uint32_t)p[i + 1] << 8;
    if (rem > 2) v |= p[i + 2];
    out[o++] = BASE64_ALPHABET[v >> 18 & 0x3F];
    out[o++] = BASE64_ALPHABET[v >> 12 & 0x3F];
    out[o++] = rem > 1 ? BASE64_ALPHABET[v >> 6 & 0x3F] : '=';
    out[o++] = rem > 2 ? BASE64_ALPHABET[v & 0x3F] : '=';
  }
  out[o] = '\0';
  return 0;
}

/* Sextet of each byte plus one (0: not in the alphabet); a table, because
 * a strchr per character was a fifth of WeChat safe mode's decrypt time. */
static uint8_t base64_table[256];
static pthread_once_t base64_once = PTHREAD_ONCE_INIT;

static void base64_table_fill(void) {
  for (int i = 0; BASE64_ALPHABET[i] != '\0'; i++)
    base64_table[(unsigned char)BASE64_ALPHABET[i]] = (uint8_t)(i + 1);
}

/* Callers run pthread_once(&base64_once, base64_table_fill) first. */
static int base64_value(char c) {
  return (int)base64_table[(unsigned char)c] - 1;
}

/* Decodes one group of four characters; pad = '=' count (0..2) allowed only
 * for the last group. Returns the number of bytes, or -1. */
static int base64_group(const char *g, bool last, uint8_t bytes[3]) {
  int pad = last ? (g[3] == '=') + (g[3] == '=' && g[2] == '=') : 0;
  uint32_t v = 0;
  for (int k = 0; k < BASE64_GROUP; k++) {
    int s = k < BASE64_GROUP - pad ? base64_value(g[k]) : 0;
    if (s < 0) return -1;
    v = v << SEXTET_BITS | (uint32_t)s;
  }
  /* canonical: the bits dropped by padding are zero */
  if ((pad == 1 && (v & 0xFF) != 0) || (pad == 2 && (v & 0xFFFF) != 0))
    return -1;
  bytes[0] = (uint8_t)(v >> 16), bytes[1] = (uint8_t)(v >> 8);
  bytes[2] = (uint8_t)v;
  return BASE64_BYTES - pad;
}

int sb_signature_base64_decode(const char *text, size_t len, uint8_t *out,
                               size_t cap, size_t *outlen) {
  size_t o = 0;
  uint8_t bytes[BASE64_BYTES];
  pthread_once(&base64_once, base64_table_fill);
  if (len % BASE64_GROUP != 0) return SB_EINVAL;
  for (size_t i = 0; i < len; i += BASE64_GROUP) {
    const unsigned char *g = (const unsigned char *)text + i;
    if (i + BASE64_GROUP < len && cap - o >= BASE64_BYTES) {
      /* the common case inline: a group before the last (no padding) */
      unsigned a = base64_table[g[0]], b = base64_table[g[1]];
      unsigned c = base64_table[g[2]], d = base64_table[g[3]];
      if (a == 0 || b == 0 || c == 0 || d == 0) return SB_EINVAL;
      uint32_t v = (a - 1) << 18 | (b - 1) << 12 | (c - 1) << 6 | (d - 1);
      out[o] = (uint8_t)(v >> 16), out[o + 1] = (uint8_t)(v >> 8), out[o + 2] = (uint8_t)v;
      o += BASE64_BYTES;
      continue;
    }
    int n = base64_group(text + i, i + BASE64_GROUP == len, bytes);
    if (n < 0) return SB_EINVAL;
    if (cap - o < (size_t)n) return SB_ETOOBIG;
    memcpy(out + o, bytes, (size_t)n);
    o += (size_t)n;
  }
  *outlen = o;
  return 0;
}

/* ----------------------------------------------------- header handling */

typedef int (*decode_fn)(const char *text, size_t len, uint8_t *out, size_t cap,
                         size_t *outlen);

/* The claimed MAC in header (after prefix, if any), decoded into mac, which
 * must come out exactly want bytes long. */
static int header_mac(const char *header, const char *prefix, decode_fn decode,
                      size_t want, uint8_t *mac, const char **why) {
  if (header == NULL) return reject(why, "missing signature header");
  while (*header == ' ' || *header == '\t') header++;
  size_t len = strnlen(header, SB_SIGNATURE_HEADER_MAX + 1);
  if (len > SB_SIGNATURE_HEADER_MAX)
    return reject(why, "signature header too long");
  while (len > 0 && (header[len - 1] == ' ' || header[len - 1] == '\t')) len--;
  if (len == 0) return reject(why, "missing signature header");
  size_t plen = prefix != NULL ? strlen(prefix) : 0;
  if (len < plen || (plen > 0 && memcmp(header, prefix, plen) != 0))
    return reject(why, "signature header must start with sha256=");
  size_t got = 0;
  if (decode(header + plen, len - plen, mac, SB_SIGNATURE_DIGEST_MAX, &got) !=
          0 ||
      got != want)
    return reject(why, "malformed signature");
  return 0;
}

static bool secret_set(const char *secret) {
  return secret != NULL && secret[0] != '\0';
}

/* HMAC of msg with secret compared to mac (want bytes). */
static int mac_matches(const char *algo, const char *secret, const void *msg,
                       size_t len, const uint8_t *mac, size_t want,
                       const char **why) {
  uint8_t ours[SB_SIGNATURE_DIGEST_MAX];
  size_t n = sizeof ours;
  int rc = sb_signature_hmac(algo, secret, strlen(secret), msg, len, ours, &n);
  if (rc != 0) return rc;
  if (n == want && sb_signature_equal(ours, mac, want)) return 0;
  return reject(why, "signature mismatch");
}

/* "<prefix><encoded HMAC-SHA256(secret, body)>" (prefix may be NULL) */
static int check_sha256(const char *secret, const char *header,
                        const char *prefix, const void *body, size_t len,
                        decode_fn decode, const char **why) {
  uint8_t mac[SB_SIGNATURE_DIGEST_MAX];
  if (!secret_set(secret))
    return reject(why, "no secret configured for this account");
  if (body == NULL && len > 0) return reject(why, "missing body");
  int rc =
      header_mac(header, prefix, decode, SB_SIGNATURE_SHA256_LEN, mac, why);
  if (rc != 0) return rc;
  return mac_matches("sha256", secret, body, len, mac, SB_SIGNATURE_SHA256_LEN,
                     why);
}

/* ------------------------------------------------------------------ Meta */

int sb_signature_meta_check(const char *app_secret, const char *header,
                            const void *body, size_t len, const char **why) {
  return check_sha256(app_secret, header, SHA256_PREFIX, body, len,
                      sb_signature_hex_decode, why);
}

static bool field_is(const sb_form_field_t *f, const char *want) {
  return f != NULL && f->value_len == strlen(want) &&
         memcmp(f->value, want, f->value_len) == 0;
}

/* An echoed challenge: 1..128 of [A-Za-z0-9_-], so it can carry no markup. */
static bool challenge_valid(const sb_form_field_t *f) {
  if (f == NULL || f->value_len == 0 ||
      f->value_len > SB_SIGNATURE_CHALLENGE_MAX)
    return false;
  for (size_t i = 0; i < f->value_len; i++) {
    unsigned char c = (unsigned char)f->value[i];
    bool ok = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
              (c >= 'A' && c <= 'Z') || c == '_' || c == '-';
    if (!ok) return false;
  }
  return true;
}

int sb_signature_meta_handshake(const sb_form_t *query,
                                const char *verify_token,
                                const char **challenge, const char **why) {
  if (challenge != NULL) *challenge = NULL;
  if (!secret_set(verify_token))
    return reject(why, "no verify token configured for this account");
  if (!field_is(sb_form_find(query, "hub.mode"), "subscribe"))
    return reject(why, "hub.mode must be subscribe");
  const sb_form_field_t *token = sb_form_find(query, "hub.verify_token");
  size_t want = strlen(verify_token);
  if (token == NULL || token->value_len != want ||
      !sb_signature_equal(token->value, verify_token, want))
    return reject(why, "hub.verify_token does not match");
  const sb_form_field_t *ch = sb_form_find(query, "hub.challenge");
  if (!challenge_valid(ch))
    return reject(why, "hub.challenge must be 1..128 of [A-Za-z0-9_-]");
  if (challenge != NULL) *challenge = ch->value;
  return 0;
}

/* --------------------------------------------------------------------- X */

int sb_signature_x_check(const char *consumer_secret, const char *header,
                         const void *body, size_t len, const char **why) {
  return check_sha256(consumer_secret, header, SHA256_PREFIX, body, len,
                      sb_signature_base64_decode, why);
}

int sb_signature_x_crc(const char *consumer_secret, const char *crc_token,
                       char *out_json, size_t cap) {
  uint8_t mac[SB_SIGNATURE_SHA256_LEN];
  char b64[SB_SIGNATURE_BASE64_LEN(SB_SIGNATURE_SHA256_LEN) + 1];
  size_t n = sizeof mac;
  if (!secret_set(consumer_secret) || crc_token == NULL ||
      crc_token[0] == '\0' ||
      strnlen(crc_token, SB_SIGNATURE_X_CRC_TOKEN_MAX + 1) >
          SB_SIGNATURE_X_CRC_TOKEN_MAX ||
      out_json == NULL)
    return SB_EINVAL;
  int rc = sb_signature_hmac("sha256", consumer_secret, strlen(consumer_secret),
                             crc_token, strlen(crc_token), mac, &n);
  if (rc == 0) rc = sb_signature_base64_encode(mac, n, b64, sizeof b64);
  if (rc != 0) return rc;
  int w = snprintf(out_json, cap, CRC_JSON_FMT, b64);
  return w >= 0 && (size_t)w < cap ? 0 : SB_ETOOBIG;
}

/* ---------------------------------------------------------------- Twilio */

static int pair_cmp(const void *a, const void *b) {
  const sb_form_field_t *x = *(const sb_form_field_t *const *)a;
  const sb_form_field_t *y = *(const sb_form_field_t *const *)b;
  int c = strcmp(x->name, y->name);
  if (c != 0) return c;
  size_t n = x->value_len < y->value_len ? x->value_len : y->value_len;
  c = memcmp(x->value, y->value, n);
  if (c != 0) return c;
  return (x->value_len > y->value_len) - (x->value_len < y->value_len);
}

/* The sorted, de-duplicated pairs of form, appended to prefix_len bytes of
 * room: a malloc'd buffer whose first prefix_len bytes the caller fills. */
static char *twilio_data(const sb_form_t *form, size_t prefix_len,
                         size_t *len) {
  size_t n = form != NULL ? form->n : 0, total = prefix_len;
  const sb_form_field_t **sorted = calloc(n ? n : 1, sizeof *sorted);
  if (sorted == NULL) return NULL;
  for (size_t i = 0; i < n; i++) {
    sorted[i] = &form->fields[i];
    total += strlen(sorted[i]->name) + sorted[i]->value_len;
  }
  qsort(sorted, n, sizeof *sorted, pair_cmp);
  char *data = malloc(total ? total : 1);
  size_t at = prefix_len;
  for (size_t i = 0; data != NULL && i < n; i++) {
    if (i > 0 && pair_cmp(&sorted[i - 1], &sorted[i]) == 0) continue;
    size_t nl = strlen(sorted[i]->name);
    memcpy(data + at, sorted[i]->name, nl);
    memcpy(data + at + nl, sorted[i]->value, sorted[i]->value_len);
    at += nl + sorted[i]->value_len;
  }
  free(sorted);
  *len = at;
  return data;
}

/* Where the authority of an http(s) URL ends, its port (":digits", or an
 * empty span) and the scheme's default port. false when there is no such
 * authority or it carries user info. */
typedef struct {
  size_t port_at, port_len;
  const char *default_port;
} url_port_t;

static const struct {
  const char *scheme, *default_port;
} URL_SCHEMES[] = {{"https://", ":443"}, {"http://", ":80"}};

static bool url_port(const char *url, url_port_t *u) {
  size_t skip = 0;
  for (size_t i = 0; i < sizeof URL_SCHEMES / sizeof URL_SCHEMES[0]; i++) {
    size_t n = strlen(URL_SCHEMES[i].scheme);
    if (strncmp(url, URL_SCHEMES[i].scheme, n) != 0) continue;
    skip = n, u->default_port = URL_SCHEMES[i].default_port;
  }
  if (skip == 0) return false;
  size_t end = skip + strcspn(url + skip, "/?#");
  if (memchr(url + skip, '@', end - skip) != NULL) return false;
  size_t digits = end;
  while (digits > skip && url[digits - 1] >= '0' && url[digits - 1] <= '9')
    digits--;
  /* ":digits" after a non-empty host; for "[v6]:port" after the bracket */
  bool has_port = digits < end && digits > skip + 1 && url[digits - 1] == ':' &&
                  (url[skip] != '[' || url[digits - 2] == ']');
  size_t colon = digits;
  u->port_at = has_port ? colon - 1 : end;
  u->port_len = has_port ? end - colon + 1 : 0;
  return true;
}

/* The other spelling of url: without its port, or with the default port.
 * malloc'd, or NULL when there is none (or no memory). */
static char *twilio_alt_url(const char *url) {
  url_port_t u;
  if (!url_port(url, &u)) return NULL;
  size_t len = strlen(url);
  const char *ins = u.port_len ? "" : u.default_port;
  char *alt = malloc(len + DEFAULT_PORT_MAX + 1);
  if (alt == NULL) return NULL;
  memcpy(alt, url, u.port_at);
  strcpy(alt + u.port_at, ins);
  strcpy(alt + u.port_at + strlen(ins), url + u.port_at + u.port_len);
  return alt;
}

/* HMAC-SHA1 over url + pairs compared to mac: 0 on a match. */
static int twilio_try(const char *token, const char *url, const sb_form_t *form,
                      const uint8_t *mac, const char **why) {
  size_t ulen = strlen(url), len = 0;
  char *data = twilio_data(form, ulen, &len);
  if (data == NULL) return SB_ENOMEM;
  memcpy(data, url, ulen);
  int rc =
      mac_matches("sha1", token, data, len, mac, SB_SIGNATURE_SHA1_LEN, why);
  free(data);
  return rc;
}

int sb_signature_twilio_check(const char *auth_token, const char *url,
                              const sb_form_t *form, const char *header,
                              const char **why) {
  uint8_t mac[SB_SIGNATURE_DIGEST_MAX];
  if (!secret_set(auth_token))
    return reject(why, "no auth token configured for this account");
  if (url == NULL || url[0] == '\0') return reject(why, "missing request URL");
  if (strnlen(url, SB_SIGNATURE_URL_MAX + 1) > SB_SIGNATURE_URL_MAX)
    return reject(why, "request URL too long");
  int rc = header_mac(header, NULL, sb_signature_base64_decode,
                      SB_SIGNATURE_SHA1_LEN, mac, why);
  if (rc != 0) return rc;
  rc = twilio_try(auth_token, url, form, mac, why);
  if (rc != SB_EINVAL) return rc;
  char *alt = twilio_alt_url(url);
  if (alt == NULL) return rc;
  rc = twilio_try(auth_token, alt, form, mac, why);
  free(alt);
  return rc;
}

/* ---------------------------------------------------------------- WeChat */

static int str_cmp(const void *a, const void *b) {
  return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static bool part_ok(const char *s) {
  return s != NULL && s[0] != '\0' &&
         strnlen(s, SB_SIGNATURE_WECHAT_PART_MAX + 1) <=
             SB_SIGNATURE_WECHAT_PART_MAX;
}

/* SHA-1 of the n parts sorted in byte order, concatenated. */
static int wechat_digest(const char **parts, size_t n, uint8_t *out) {
  qsort(parts, n, sizeof *parts, str_cmp);
  EVP_MD_CTX *ctx = EVP_MD_CTX_new();
  int ok = ctx != NULL && EVP_DigestInit_ex(ctx, EVP_sha1(), NULL) == 1;
  for (size_t i = 0; ok && i < n; i++)
    ok = EVP_DigestUpdate(ctx, parts[i], strlen(parts[i])) == 1;
  ok = ok && EVP_DigestFinal_ex(ctx, out, NULL) == 1;
  EVP_MD_CTX_free(ctx);
  return ok ? 0 : SB_ENOMEM;
}

int sb_signature_wechat_check(const char *token, const char *timestamp,
                              const char *nonce, const char *encrypt,
                              const char *signature, const char **why) {
  uint8_t claimed[SB_SIGNATURE_DIGEST_MAX], ours[SB_SIGNATURE_SHA1_LEN];
  size_t got = 0;
  if (!secret_set(token))
    return reject(why, "no token configured for this account");
  if (!part_ok(timestamp) || !part_ok(nonce))
    return reject(why, "timestamp and nonce must be 1..256 bytes");
  if (signature == NULL || signature[0] == '\0')
    return reject(why, "missing signature");
  size_t slen = strnlen(signature, SB_SIGNATURE_HEADER_MAX + 1);
  if (sb_signature_hex_decode(signature, slen, claimed, sizeof claimed,
                              &got) != 0 ||
      got != SB_SIGNATURE_SHA1_LEN)
    return reject(why, "malformed signature");
  const char *parts[WECHAT_PARTS_MAX] = {token, timestamp, nonce, encrypt};
  int rc = wechat_digest(parts, encrypt != NULL ? 4 : 3, ours);
  if (rc != 0) return rc;
  if (!sb_signature_equal(ours, claimed, SB_SIGNATURE_SHA1_LEN))
    return reject(why, "signature mismatch");
  return 0;
}

int sb_signature_wechat_handshake(const sb_form_t *query, const char *token,
                                  const char **echostr, const char **why) {
  if (echostr != NULL) *echostr = NULL;
  const sb_form_field_t *echo = sb_form_find(query, "echostr");
  int rc = sb_signature_wechat_check(
      token, sb_form_get(query, "timestamp"), sb_form_get(query, "nonce"),
      NULL, sb_form_get(query, "signature"), why);
  if (rc != 0) return rc;
  if (!challenge_valid(echo))
    return reject(why, "echostr must be 1..128 of [A-Za-z0-9_-]");
  if (echostr != NULL) *echostr = echo->value;
  return 0;
}

/* key = base64(aes_key + "="). WeChat's own libraries decode leniently, so
 * the two bits the last character carries beyond the 32 bytes are
 * cleared before the strict decoder sees them. */
static int wechat_key(const char *aes_key, uint8_t key[AES_KEY_LEN]) {
  char text[SB_SIGNATURE_WECHAT_KEY_LEN + 2];
  size_t n = 0;
  if (aes_key == NULL ||
      strnlen(aes_key, SB_SIGNATURE_WECHAT_KEY_LEN + 1) !=
          SB_SIGNATURE_WECHAT_KEY_LEN)
    return SB_EINVAL;
  memcpy(text, aes_key, SB_SIGNATURE_WECHAT_KEY_LEN);
  pthread_once(&base64_once, base64_table_fill);
  int last = base64_value(text[SB_SIGNATURE_WECHAT_KEY_LEN - 1]);
  if (last < 0) return SB_EINVAL;
  text[SB_SIGNATURE_WECHAT_KEY_LEN - 1] = BASE64_ALPHABET[last & ~3];
  text[SB_SIGNATURE_WECHAT_KEY_LEN] = '=';
  text[SB_SIGNATURE_WECHAT_KEY_LEN + 1] = '\0';
  int rc = sb_signature_base64_decode(text, SB_SIGNATURE_WECHAT_KEY_LEN + 1,
                                      key, AES_KEY_LEN, &n);
  return rc == 0 && n == AES_KEY_LEN ? 0 : SB_EINVAL;
}

/* The cipher fetched once: OpenSSL 3 otherwise looks it up (under a lock)
 * in every EVP_DecryptInit_ex. NULL if the provider has none. */
static EVP_CIPHER *aes_256_cbc;
static pthread_once_t aes_once = PTHREAD_ONCE_INIT;

static void aes_fetch(void) {
  aes_256_cbc = EVP_CIPHER_fetch(NULL, "AES-256-CBC", NULL);
}

/* AES-256-CBC without OpenSSL's padding (WeChat's is to 32 bytes). */
static int aes_cbc_decrypt(const uint8_t key[AES_KEY_LEN], const uint8_t *in,
                           size_t len, uint8_t *out) {
  pthread_once(&aes_once, aes_fetch);
  EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
  int n = 0, fin = 0;
  int ok = ctx != NULL && aes_256_cbc != NULL && len <= INT_MAX &&
           EVP_DecryptInit_ex(ctx, aes_256_cbc, NULL, key, key) == 1 &&
           EVP_CIPHER_CTX_set_padding(ctx, 0) == 1 &&
           EVP_DecryptUpdate(ctx, out, &n, in, (int)len) == 1 &&
           EVP_DecryptFinal_ex(ctx, out + n, &fin) == 1 &&
           (size_t)(n + fin) == len;
  EVP_CIPHER_CTX_free(ctx);
  return ok ? 0 : SB_ENOMEM;
}

/* Length of the message inside plain[0..len) (padding checked and
 * removed), with the AppID after it compared to app_id. */
static int wechat_unwrap(const uint8_t *plain, size_t len, const char *app_id,
                         size_t *msg_len, const char **why) {
  size_t pad = plain[len - 1];
  if (pad == 0 || pad > WECHAT_PAD_BLOCK || pad > len)
    return reject(why, "bad padding");
  for (size_t i = len - pad; i < len; i++)
    if (plain[i] != pad) return reject(why, "bad padding");
  len -= pad;
  size_t head = WECHAT_RANDOM_LEN + WECHAT_LENGTH_LEN;
  if (len < head) return reject(why, "decrypted message too short");
  const uint8_t *p = plain + WECHAT_RANDOM_LEN;
  size_t n = (size_t)p[0] << 24 | (size_t)p[1] << 16 | (size_t)p[2] << 8 | p[3];
  if (n > len - head) return reject(why, "bad message length");
  size_t id_len = len - head - n, want = strlen(app_id);
  if (id_len != want || !sb_signature_equal(plain + head + n, app_id, want))
    return reject(why, "AppID does not match");
  *msg_len = n;
  return 0;
}

int sb_signature_wechat_decrypt(const char *aes_key, const char *app_id,
                                const char *encrypt, char **xml, size_t *len,
                                const char **why) {
  uint8_t key[AES_KEY_LEN];
  size_t clen = 0, mlen = 0;
  if (xml == NULL || len == NULL) return SB_EINVAL;
  *xml = NULL, *len = 0;
  if (!secret_set(app_id)) return reject(why, "no app_id configured");
  if (wechat_key(aes_key, key) != 0)
    return reject(why, "aes_key is not 43 base64 characters");
  size_t tlen = encrypt != NULL ? strlen(encrypt) : 0;
  size_t cap = tlen / BASE64_GROUP * BASE64_BYTES + 1;
  uint8_t *cipher = malloc(cap), *plain = malloc(cap);
  int rc = cipher == NULL || plain == NULL ? SB_ENOMEM : 0;
  if (rc == 0 && (tlen == 0 || sb_signature_base64_decode(encrypt, tlen, cipher,
                                                          cap, &clen) != 0))
    rc = reject(why, "Encrypt is not base64");
  if (rc == 0 && (clen % AES_BLOCK != 0 || clen < WECHAT_PAD_BLOCK))
    rc = reject(why, "ciphertext is not whole AES blocks");
  if (rc == 0) rc = aes_cbc_decrypt(key, cipher, clen, plain);
  if (rc == 0) rc = wechat_unwrap(plain, clen, app_id, &mlen, why);
  if (rc == 0 && (*xml = malloc(mlen + 1)) == NULL) rc = SB_ENOMEM;
  if (rc == 0) {
    memcpy(*xml, plain + WECHAT_RANDOM_LEN + WECHAT_LENGTH_LEN, mlen);
    (*xml)[mlen] = '\0';
    *len = mlen;
  }
  OPENSSL_cleanse(key, sizeof key);
  if (plain != NULL) OPENSSL_cleanse(plain, clen);
  free(cipher);
  free(plain);
  return rc;
}

/* -------------------------------------------------------------- Telegram */

int sb_signature_telegram_check(const char *secret_token, const char *header,
                                const char **why) {
  uint8_t ours[SB_SIGNATURE_SHA256_LEN], theirs[SB_SIGNATURE_SHA256_LEN];
  if (!secret_set(secret_token))
    return reject(why, "no secret_token configured for this account");
  if (header == NULL || header[0] == '\0')
    return reject(why, "missing secret token header");
  size_t n = strnlen(header, SB_SIGNATURE_TELEGRAM_TOKEN_MAX + 1);
  if (n > SB_SIGNATURE_TELEGRAM_TOKEN_MAX)
    return reject(why, "secret token header too long");
  if (SHA256((const unsigned char *)secret_token, strlen(secret_token),
             ours) == NULL ||
      SHA256((const unsigned char *)header, n, theirs) == NULL)
    return SB_ENOMEM;
  if (!sb_signature_equal(ours, theirs, sizeof ours))
    return reject(why, "secret token mismatch");
  return 0;
}

/* -------------------------------------------------------------- SendGrid */

#define SENDGRID_SIG_MAX 256 /* bytes of a DER ECDSA signature (P-256: ~72) */
#define SENDGRID_TS_DIGITS 12

int sb_signature_sendgrid_check(const char *public_key, const char *signature,
                                const char *timestamp, int64_t now_s, const void *body,
                                size_t len, const char **why) {
  uint8_t sig[SENDGRID_SIG_MAX];
  size_t siglen = 0;
  if (!secret_set(public_key))
    return reject(why, "no event_key (SendGrid verification key) configured for this account");
  if (signature == NULL || signature[0] == '\0' || timestamp == NULL)
    return reject(why, "missing signature or timestamp header");
  size_t tn = strnlen(timestamp, SENDGRID_TS_DIGITS + 1);
  if (tn == 0 || tn > SENDGRID_TS_DIGITS || strspn(timestamp, "0123456789") != tn)
    return reject(why, "bad timestamp header");
  int64_t ts = strtoll(timestamp, NULL, 10);
  if (ts < now_s - SB_SIGNATURE_SENDGRID_SKEW_S || ts > now_s + SB_SIGNATURE_SENDGRID_SKEW_S)
    return reject(why, "timestamp outside the replay window");
  size_t sn = strnlen(signature, SB_SIGNATURE_HEADER_MAX + 1);
  if (sn > SB_SIGNATURE_HEADER_MAX ||
      sb_signature_base64_decode(signature, sn, sig, sizeof sig, &siglen) != 0)
    return reject(why, "signature header is not base64");
  EVP_PKEY *pk = sb_tenants_ec_key(public_key);
  if (pk == NULL) return reject(why, "event_key is not a base64 EC public key");
  EVP_MD_CTX *md = EVP_MD_CTX_new();
  int ok = md != NULL && EVP_DigestVerifyInit(md, NULL, EVP_sha256(), NULL, pk) == 1 &&
           EVP_DigestVerifyUpdate(md, timestamp, tn) == 1 &&
           EVP_DigestVerifyUpdate(md, body, len) == 1;
  int rc = ok ? EVP_DigestVerifyFinal(md, sig, siglen) : -1;
  EVP_MD_CTX_free(md);
  EVP_PKEY_free(pk);
  if (rc != 1) ERR_clear_error(); /* a bad signature leaves OpenSSL's queue clean */
  if (!ok) return SB_ENOMEM;
  return rc == 1 ? 0 : reject(why, "signature mismatch");
}

/* ------------------------------------------------------------------ LINE */

int sb_signature_line_check(const char *channel_secret, const char *header,
                            const void *body, size_t len, const char **why) {
  return check_sha256(channel_secret, header, NULL, body, len,
                      sb_signature_base64_decode, why);
}
