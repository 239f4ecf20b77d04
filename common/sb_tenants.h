/*
 * sb_tenants: the tenant configuration file (JSON), loaded once at start.
 *
 *   {"tenants": [{"id": "acme-air",
 *                 "languages": ["en", "fr"],
 *                 "sla": {"first_response_ms": 60000, "warn_percent": 80},
 *                 "accounts": [{"platform": "meta", "id": "page-1",
 *                               "secret": "env:ACME_META_SECRET",
 *                               "verify_token": "..."}],
 *                 "api_keys": ["sha256:<64 hex digits>"],
 *                 "rate": {"events_per_s": 500, "burst": 2000},
 *                 "classify": { ...rules, see services/classify... },
 *                 "route": {...}, "sla": {...}, "notify": {...}}]}
 *
 * A tenant id is [A-Za-z0-9_-]{1,64}: it becomes the Redis hash tag {t:<id>}.
 * Events for a tenant that is not in this file are rejected (unknown tenant).
 * Accounts are the tenant's platform accounts (a contact centre serves many
 * clients, each with many social accounts): webhooks arrive on
 * /webhooks/<platform>/<id>, and (platform, id) names exactly one account.
 * A secret written "env:NAME" is read from the environment at load, so
 * secrets can come from a Kubernetes Secret rather than the file.
 */
#ifndef SB_TENANTS_H
#define SB_TENANTS_H

#include <stddef.h>
#include <stdint.h>

#define SB_TENANT_ID_MAX 64
#define SB_TENANT_LANG_MAX 24
#define SB_SLA_FIRST_RESPONSE_DEFAULT_MS 900000 /* 15 min, like e-mail */
#define SB_SLA_WARN_PERCENT_DEFAULT 80
#define SB_ACCOUNT_PLATFORM_MAX 16
#define SB_ACCOUNT_ID_MAX 128
#define SB_TENANT_API_KEYS_MAX 16
#define SB_API_KEY_HASH_LEN 32 /* SHA-256 */

typedef enum {
  SB_TENANT_CLASSIFY, /* "classify": rules, see services/classify/sb_rules.h */
  SB_TENANT_ROUTE,    /* "route": queues, agents' skills, strategies */
  SB_TENANT_SLA,      /* "sla": policies beyond first_response_ms/warn_percent */
  SB_TENANT_NOTIFY,   /* "notify": webhook targets, templates */
  SB_TENANT_SECTION_N
} sb_tenant_section_t;

typedef struct {
  char id[SB_TENANT_ID_MAX + 1];
  const char *languages[SB_TENANT_LANG_MAX + 1]; /* NULL-terminated */
  int64_t first_response_ms;
  int warn_percent;
  /* the members each service reads for itself, as JSON text, or NULL:
   * section_json[SB_TENANT_CLASSIFY] is the "classify" object, ... */
  char *section_json[SB_TENANT_SECTION_N];
  /* integrator API keys, stored as SHA-256 only ("sha256:<hex>" in the
   * file); none: the tenant's events need no key */
  unsigned char api_keys[SB_TENANT_API_KEYS_MAX][SB_API_KEY_HASH_LEN];
  size_t n_api_keys;
  int64_t rate_per_s; /* "rate": {"events_per_s"}; 0: not limited */
  int64_t rate_burst; /* "rate": {"burst"}; default: one second's worth */
} sb_tenant_t;

typedef struct {
  char platform[SB_ACCOUNT_PLATFORM_MAX]; /* "meta", "x", "twilio", "email", "wechat",
                                             "telegram", "line" */
  char id[SB_ACCOUNT_ID_MAX];
  const sb_tenant_t *tenant;
  char *secret;       /* app secret / consumer secret / auth token, or NULL */
  char *verify_token; /* Meta's GET handshake token, or NULL */
  char *url;          /* the public URL the platform signs (Twilio), or NULL */
  char *app_id;       /* WeChat AppID, checked inside safe-mode payloads, or NULL */
  char *aes_key;      /* WeChat EncodingAESKey (43 base64 characters), or NULL */
  char *event_key;    /* e-mail: SendGrid's Signed Event Webhook verification key
                         (base64 DER public key), or NULL */
} sb_account_t;

typedef struct sb_tenants sb_tenants_t;

/* An account's event_key (base64 of a DER SubjectPublicKeyInfo of an EC
 * key, as SendGrid shows its verification key) as an OpenSSL key (the
 * caller frees it with EVP_PKEY_free), or NULL when it is not one. The
 * loader refuses an event_key this cannot read. */
#define SB_EVENT_KEY_TEXT_MAX 1024
struct evp_pkey_st;
struct evp_pkey_st *sb_tenants_ec_key(const char *key);

/* Parses a configuration from text. NULL on error with a reason in err. */
sb_tenants_t *sb_tenants_parse(const char *json, size_t len, char *err, size_t errlen);
/* Reads and parses a file. NULL on error with a reason in err. */
sb_tenants_t *sb_tenants_load(const char *path, char *err, size_t errlen);
void sb_tenants_destroy(sb_tenants_t **t);

/* The tenant with this id, or NULL. len is the id's length. */
const sb_tenant_t *sb_tenants_find(const sb_tenants_t *t, const char *id, size_t len);
size_t sb_tenants_count(const sb_tenants_t *t);
const sb_tenant_t *sb_tenants_at(const sb_tenants_t *t, size_t i);
/* The position of x in t (sb_tenants_at(t, i) == x), in O(1): what a
 * stage's per-tenant arrays, built in the tenants' order, are indexed
 * by. SIZE_MAX when x is not one of t's tenants (NULL, another set). */
size_t sb_tenants_index(const sb_tenants_t *t, const sb_tenant_t *x);

/* 1 if the tenant takes events without a key, or key (the secret as the
 * integrator sends it) hashes to one of its keys; compares in constant
 * time. */
int sb_tenant_key_ok(const sb_tenant_t *t, const char *key);

/* The account for (platform, id), or NULL. */
const sb_account_t *sb_tenants_account(const sb_tenants_t *t, const char *platform, const char *id);

/* 1 if id is a syntactically valid tenant id. */
int sb_tenant_id_valid(const char *id, size_t len);

#endif
