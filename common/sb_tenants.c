/*
 * sb_tenants: tenant configuration (see sb_tenants.h), read once. Every
 * stage looks a tenant up by id for each event, and ingest an account by
 * (platform, id) for each webhook request: both go through an
 * open-addressing index (FNV-1a, linear probing, at most half full), so a
 * deployment at the limits (4,096 tenants, 65,536 accounts) pays one probe
 * or two, not a scan of thousands of strings per event (and loading a file
 * full of accounts is not quadratic). Language codes are interned in one
 * buffer.
 */
#include "sb_tenants.h"
#include "sb_error.h"

#include <cjson/cJSON.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/x509.h> /* d2i_PUBKEY */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SB_TENANTS_MAX 4096
#define SB_TENANTS_FILE_MAX (4u << 20)
#define SB_LANG_CODE_MAX 8
#define SB_ACCOUNTS_MAX 65536
#define SB_SECRET_ENV_PREFIX "env:"

static const char *const platforms[] = {"meta", "x", "twilio", "email", "wechat", "telegram", "line"};

/* An index slot: the key's hash and the item's position + 1 (0: empty). */
typedef struct {
  uint32_t hash, pos1;
} slot_t;

typedef struct {
  slot_t *slots;
  size_t cap; /* a power of two, at least twice the entries */
} index_t;

struct sb_tenants {
  sb_tenant_t *items;
  size_t n;
  char (*langs)[SB_LANG_CODE_MAX]; /* storage for language codes */
  sb_account_t *accounts;
  size_t naccounts, accounts_cap;
  index_t by_id;      /* tenants by id */
  index_t by_account; /* accounts by platform '/' id */
};

static uint32_t fnv1a(uint32_t h, const char *s, size_t len) {
  for (size_t i = 0; i < len; i++)
    h = (h ^ (unsigned char)s[i]) * 16777619u;
  return h;
}

#define FNV_BASIS 2166136261u

static uint32_t account_hash(const char *platform, const char *id) {
  return fnv1a(fnv1a(fnv1a(FNV_BASIS, platform, strlen(platform)), "/", 1), id, strlen(id));
}

/* Adds position pos under hash (n: entries after this one). 0 or SB_ENOMEM. */
static int index_put(index_t *x, size_t n, uint32_t hash, size_t pos) {
  if (2 * n > x->cap) {
    size_t cap = x->cap ? 2 * x->cap : 16;
    slot_t *s = calloc(cap, sizeof *s);
    if (!s)
      return SB_ENOMEM;
    for (size_t i = 0; i < x->cap; i++) {
      if (!x->slots[i].pos1)
        continue;
      size_t j = x->slots[i].hash & (cap - 1);
      while (s[j].pos1)
        j = (j + 1) & (cap - 1);
      s[j] = x->slots[i];
    }
    free(x->slots);
    x->slots = s;
    x->cap = cap;
  }
  size_t j = hash & (x->cap - 1);
  while (x->slots[j].pos1)
    j = (j + 1) & (x->cap - 1);
  x->slots[j] = (slot_t){hash, (uint32_t)pos + 1};
  return 0;
}

int sb_tenant_id_valid(const char *id, size_t len) {
  if (len == 0 || len > SB_TENANT_ID_MAX)
    return 0;
  for (size_t i = 0; i < len; i++) {
    char ch = id[i];
    if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
          ch == '-' || ch == '_'))
      return 0;
  }
  return 1;
}

/* Sections each service reads for itself, kept as JSON text (the order of
 * sb_tenant_section_t). */
static const char *const section_names[SB_TENANT_SECTION_N] = {"classify", "route", "sla", "notify"};

static void tenant_free(sb_tenant_t *t) {
  for (int k = 0; k < SB_TENANT_SECTION_N; k++) {
    free(t->section_json[k]);
    t->section_json[k] = NULL;
  }
}

static int parse_sla(const cJSON *sla, sb_tenant_t *t, char *err, size_t errlen) {
  t->first_response_ms = SB_SLA_FIRST_RESPONSE_DEFAULT_MS;
  t->warn_percent = SB_SLA_WARN_PERCENT_DEFAULT;
  if (!sla)
    return 0;
  const cJSON *fr = cJSON_GetObjectItemCaseSensitive(sla, "first_response_ms");
  const cJSON *wp = cJSON_GetObjectItemCaseSensitive(sla, "warn_percent");
  if (fr) {
    if (!cJSON_IsNumber(fr) || fr->valuedouble < 1 || fr->valuedouble > 30.0 * 86400000) {
      snprintf(err, errlen, "tenant %s: sla.first_response_ms must be 1..2592000000", t->id);
      return SB_ECONFIG;
    }
    t->first_response_ms = (int64_t)fr->valuedouble;
  }
  if (wp) {
    if (!cJSON_IsNumber(wp) || wp->valueint < 1 || wp->valueint > 100) {
      snprintf(err, errlen, "tenant %s: sla.warn_percent must be 1..100", t->id);
      return SB_ECONFIG;
    }
    t->warn_percent = wp->valueint;
  }
  return 0;
}

static int parse_langs(sb_tenants_t *ts, size_t *nl, const cJSON *langs, sb_tenant_t *t,
                       char *err, size_t errlen) {
  size_t k = 0;
  const cJSON *l;
  cJSON_ArrayForEach(l, langs) {
    if (!cJSON_IsString(l) || strlen(l->valuestring) >= SB_LANG_CODE_MAX ||
        k == SB_TENANT_LANG_MAX) {
      snprintf(err, errlen, "tenant %s: languages must be at most %d short codes", t->id,
               SB_TENANT_LANG_MAX);
      return SB_ECONFIG;
    }
    strcpy(ts->langs[*nl], l->valuestring);
    t->languages[k++] = ts->langs[(*nl)++];
  }
  t->languages[k] = NULL;
  return 0;
}

/* A secret as written, or from the environment for "env:NAME". */
static int secret_value(const cJSON *v, char **out, const char *what, const sb_tenant_t *t,
                        char *err, size_t errlen) {
  *out = NULL;
  if (!v)
    return 0;
  const char *s = cJSON_IsString(v) ? v->valuestring : NULL;
  if (s && strncmp(s, SB_SECRET_ENV_PREFIX, strlen(SB_SECRET_ENV_PREFIX)) == 0) {
    const char *name = s + strlen(SB_SECRET_ENV_PREFIX);
    s = getenv(name);
    if (!s) {
      snprintf(err, errlen, "tenant %s: %s names environment variable %s, which is not set", t->id,
               what, name);
      return SB_ECONFIG;
    }
  }
  if (!s || !*s) {
    snprintf(err, errlen, "tenant %s: %s must be a non-empty string", t->id, what);
    return SB_ECONFIG;
  }
  *out = strdup(s);
  return *out ? 0 : SB_ENOMEM;
}

static int platform_known(const char *p) {
  for (size_t i = 0; i < sizeof platforms / sizeof platforms[0]; i++)
    if (strcmp(p, platforms[i]) == 0)
      return 1;
  return 0;
}

static sb_account_t *account_add(sb_tenants_t *ts) {
  if (ts->naccounts == ts->accounts_cap) {
    size_t cap = ts->accounts_cap ? 2 * ts->accounts_cap : 8;
    sb_account_t *a = cap <= SB_ACCOUNTS_MAX ? realloc(ts->accounts, cap * sizeof *a) : NULL;
    if (!a)
      return NULL;
    ts->accounts = a;
    ts->accounts_cap = cap;
  }
  sb_account_t *a = &ts->accounts[ts->naccounts++];
  memset(a, 0, sizeof *a);
  return a;
}

EVP_PKEY *sb_tenants_ec_key(const char *key) {
  size_t n = key ? strnlen(key, SB_EVENT_KEY_TEXT_MAX + 1) : 0;
  if (n == 0 || n > SB_EVENT_KEY_TEXT_MAX || n % 4 != 0)
    return NULL;
  unsigned char der[SB_EVENT_KEY_TEXT_MAX / 4 * 3 + 1];
  int len = EVP_DecodeBlock(der, (const unsigned char *)key, (int)n);
  if (len > 0) /* EVP_DecodeBlock counts the padding as zero bytes */
    len -= (key[n - 1] == '=') + (key[n - 2] == '=');
  const unsigned char *p = der;
  EVP_PKEY *pk = len > 0 ? d2i_PUBKEY(NULL, &p, len) : NULL;
  if (pk && (EVP_PKEY_base_id(pk) != EVP_PKEY_EC || p != der + len)) {
    EVP_PKEY_free(pk);
    pk = NULL;
  }
  ERR_clear_error();
  return pk;
}

static int ec_public_key(const char *key) {
  EVP_PKEY *pk = sb_tenants_ec_key(key);
  EVP_PKEY_free(pk);
  return pk != NULL;
}

static int parse_account(sb_tenants_t *ts, const cJSON *o, const sb_tenant_t *t, char *err,
                         size_t errlen) {
  const cJSON *p = cJSON_GetObjectItemCaseSensitive(o, "platform");
  const cJSON *id = cJSON_GetObjectItemCaseSensitive(o, "id");
  if (!cJSON_IsString(p) || !platform_known(p->valuestring) || !cJSON_IsString(id) ||
      !*id->valuestring || strlen(id->valuestring) >= SB_ACCOUNT_ID_MAX ||
      strchr(id->valuestring, '/')) {
    snprintf(err, errlen, "tenant %s: an account needs \"platform\" (meta, x, twilio, email) "
             "and an \"id\" of 1..%d characters without '/'", t->id, SB_ACCOUNT_ID_MAX - 1);
    return SB_ECONFIG;
  }
  if (sb_tenants_account(ts, p->valuestring, id->valuestring)) {
    snprintf(err, errlen, "tenant %s: account %s/%s is listed twice", t->id, p->valuestring,
             id->valuestring);
    return SB_ECONFIG;
  }
  sb_account_t *a = account_add(ts);
  if (!a || index_put(&ts->by_account, ts->naccounts, account_hash(p->valuestring, id->valuestring),
                      ts->naccounts - 1))
    return SB_ENOMEM;
  snprintf(a->platform, sizeof a->platform, "%s", p->valuestring);
  snprintf(a->id, sizeof a->id, "%s", id->valuestring);
  a->tenant = t;
  if (secret_value(cJSON_GetObjectItemCaseSensitive(o, "secret"), &a->secret, "secret", t, err, errlen) ||
      secret_value(cJSON_GetObjectItemCaseSensitive(o, "verify_token"), &a->verify_token,
                   "verify_token", t, err, errlen) ||
      secret_value(cJSON_GetObjectItemCaseSensitive(o, "url"), &a->url, "url", t, err, errlen) ||
      secret_value(cJSON_GetObjectItemCaseSensitive(o, "app_id"), &a->app_id, "app_id", t, err,
                   errlen) ||
      secret_value(cJSON_GetObjectItemCaseSensitive(o, "aes_key"), &a->aes_key, "aes_key", t, err,
                   errlen) ||
      secret_value(cJSON_GetObjectItemCaseSensitive(o, "event_key"), &a->event_key, "event_key", t,
                   err, errlen))
    return SB_ECONFIG;
  if (a->event_key && (strcmp(a->platform, "email") != 0 || !ec_public_key(a->event_key))) {
    snprintf(err, errlen, "tenant %s: account %s/%s: \"event_key\" must be an email account's "
             "SendGrid verification key (base64 of a DER EC public key)", t->id, a->platform, a->id);
    return SB_ECONFIG;
  }
  if (!a->secret) {
    snprintf(err, errlen, "tenant %s: account %s/%s needs a \"secret\" to check signatures", t->id,
             a->platform, a->id);
    return SB_ECONFIG;
  }
  return 0;
}

static int parse_accounts(sb_tenants_t *ts, const cJSON *list, const sb_tenant_t *t, char *err,
                          size_t errlen) {
  if (list && !cJSON_IsArray(list)) {
    snprintf(err, errlen, "tenant %s: \"accounts\" must be an array", t->id);
    return SB_ECONFIG;
  }
  const cJSON *o;
  cJSON_ArrayForEach(o, list) {
    int rc = parse_account(ts, o, t, err, errlen);
    if (rc)
      return rc;
  }
  return 0;
}

#define SB_API_KEY_PREFIX "sha256:"

static int hexval(char c) {
  return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

/* "sha256:<64 hex>" into out; 0 or -1. */
static int parse_key_hash(const char *s, unsigned char out[SB_API_KEY_HASH_LEN]) {
  size_t plen = strlen(SB_API_KEY_PREFIX);
  if (strncmp(s, SB_API_KEY_PREFIX, plen) != 0 || strlen(s) != plen + 2 * SB_API_KEY_HASH_LEN)
    return -1;
  for (size_t i = 0; i < SB_API_KEY_HASH_LEN; i++) {
    int hi = hexval(s[plen + 2 * i]), lo = hexval(s[plen + 2 * i + 1]);
    if (hi < 0 || lo < 0)
      return -1;
    out[i] = (unsigned char)(hi * 16 + lo);
  }
  return 0;
}

static int parse_api_keys(const cJSON *list, sb_tenant_t *t, char *err, size_t errlen) {
  const cJSON *k;
  if (list && !cJSON_IsArray(list)) {
    snprintf(err, errlen, "tenant %s: \"api_keys\" must be an array", t->id);
    return SB_ECONFIG;
  }
  cJSON_ArrayForEach(k, list) {
    if (t->n_api_keys == SB_TENANT_API_KEYS_MAX || !cJSON_IsString(k) ||
        parse_key_hash(k->valuestring, t->api_keys[t->n_api_keys])) {
      snprintf(err, errlen, "tenant %s: api_keys are at most %d strings \"sha256:<64 hex digits>\" "
               "(the hash of the key, never the key)", t->id, SB_TENANT_API_KEYS_MAX);
      return SB_ECONFIG;
    }
    t->n_api_keys++;
  }
  return 0;
}

#define SB_RATE_MAX 10000000 /* events per second, and burst */

static int parse_rate(const cJSON *rate, sb_tenant_t *t, char *err, size_t errlen) {
  if (!rate)
    return 0;
  const cJSON *eps = cJSON_GetObjectItemCaseSensitive(rate, "events_per_s");
  const cJSON *burst = cJSON_GetObjectItemCaseSensitive(rate, "burst");
  if (!cJSON_IsObject(rate) || !cJSON_IsNumber(eps) || eps->valuedouble < 1 ||
      eps->valuedouble > SB_RATE_MAX || (burst && (!cJSON_IsNumber(burst) || burst->valuedouble < 1 ||
                                                  burst->valuedouble > SB_RATE_MAX))) {
    snprintf(err, errlen, "tenant %s: \"rate\" is {\"events_per_s\": 1..%d, \"burst\": 1..%d}", t->id,
             SB_RATE_MAX, SB_RATE_MAX);
    return SB_ECONFIG;
  }
  t->rate_per_s = (int64_t)eps->valuedouble;
  t->rate_burst = burst ? (int64_t)burst->valuedouble : t->rate_per_s;
  return 0;
}

int sb_tenant_key_ok(const sb_tenant_t *t, const char *key) {
  if (t->n_api_keys == 0)
    return 1;
  if (!key || !*key)
    return 0;
  unsigned char h[EVP_MAX_MD_SIZE];
  unsigned int hlen = 0;
  if (!EVP_Digest(key, strlen(key), h, &hlen, EVP_sha256(), NULL) || hlen != SB_API_KEY_HASH_LEN)
    return 0;
  int ok = 0;
  for (size_t i = 0; i < t->n_api_keys; i++) /* no early exit: time does not tell which */
    ok |= CRYPTO_memcmp(h, t->api_keys[i], SB_API_KEY_HASH_LEN) == 0;
  return ok;
}

static int parse_tenant(sb_tenants_t *ts, size_t *nl, const cJSON *o, sb_tenant_t *t,
                        char *err, size_t errlen) {
  const cJSON *id = cJSON_GetObjectItemCaseSensitive(o, "id");
  if (!cJSON_IsString(id) || !sb_tenant_id_valid(id->valuestring, strlen(id->valuestring))) {
    snprintf(err, errlen, "tenant %zu: \"id\" must match [A-Za-z0-9_-]{1,64}", ts->n);
    return SB_ECONFIG;
  }
  if (sb_tenants_find(ts, id->valuestring, strlen(id->valuestring))) {
    snprintf(err, errlen, "tenant %s is listed twice", id->valuestring);
    return SB_ECONFIG;
  }
  strcpy(t->id, id->valuestring);
  /* t is ts->items[ts->n]: indexed before its accounts (they name it) */
  if (index_put(&ts->by_id, ts->n + 1, fnv1a(FNV_BASIS, t->id, strlen(t->id)), ts->n))
    return SB_ENOMEM;
  if (parse_sla(cJSON_GetObjectItemCaseSensitive(o, "sla"), t, err, errlen))
    return SB_ECONFIG;
  for (int k = 0; k < SB_TENANT_SECTION_N; k++) {
    const cJSON *sec = cJSON_GetObjectItemCaseSensitive(o, section_names[k]);
    if (sec && !cJSON_IsObject(sec)) {
      snprintf(err, errlen, "tenant %s: \"%s\" must be an object", t->id, section_names[k]);
      return SB_ECONFIG;
    }
    if (sec && !(t->section_json[k] = cJSON_PrintUnformatted(sec)))
      return SB_ENOMEM;
  }
  if (parse_accounts(ts, cJSON_GetObjectItemCaseSensitive(o, "accounts"), t, err, errlen) ||
      parse_api_keys(cJSON_GetObjectItemCaseSensitive(o, "api_keys"), t, err, errlen) ||
      parse_rate(cJSON_GetObjectItemCaseSensitive(o, "rate"), t, err, errlen))
    return SB_ECONFIG;
  return parse_langs(ts, nl, cJSON_GetObjectItemCaseSensitive(o, "languages"), t, err, errlen);
}

sb_tenants_t *sb_tenants_parse(const char *json, size_t len, char *err, size_t errlen) {
  cJSON *root = cJSON_ParseWithLength(json, len);
  const cJSON *list = root ? cJSON_GetObjectItemCaseSensitive(root, "tenants") : NULL;
  if (!cJSON_IsArray(list)) {
    snprintf(err, errlen, root ? "missing \"tenants\" array" : "invalid JSON");
    cJSON_Delete(root);
    return NULL;
  }
  size_t n = (size_t)cJSON_GetArraySize(list);
  sb_tenants_t *ts = calloc(1, sizeof *ts);
  if (n > SB_TENANTS_MAX || !ts) {
    snprintf(err, errlen, "at most %d tenants", SB_TENANTS_MAX);
    cJSON_Delete(root);
    free(ts);
    return NULL;
  }
  ts->items = calloc(n ? n : 1, sizeof *ts->items);
  ts->langs = calloc((n ? n : 1) * SB_TENANT_LANG_MAX, sizeof *ts->langs);
  size_t nl = 0;
  const cJSON *o;
  int rc = ts->items && ts->langs ? 0 : SB_ENOMEM;
  cJSON_ArrayForEach(o, list) {
    if (rc || (rc = parse_tenant(ts, &nl, o, &ts->items[ts->n], err, errlen)))
      break;
    ts->n++;
  }
  cJSON_Delete(root);
  if (rc && ts->items && ts->n < n)
    tenant_free(&ts->items[ts->n]); /* the tenant that failed half-way */
  if (rc) {
    if (rc == SB_ENOMEM)
      snprintf(err, errlen, "out of memory");
    sb_tenants_destroy(&ts);
  }
  return ts;
}

sb_tenants_t *sb_tenants_load(const char *path, char *err, size_t errlen) {
  FILE *f = fopen(path, "rb");
  if (!f) {
    snprintf(err, errlen, "cannot open tenant configuration %s", path);
    return NULL;
  }
  char *buf = malloc(SB_TENANTS_FILE_MAX);
  size_t len = buf ? fread(buf, 1, SB_TENANTS_FILE_MAX, f) : 0;
  int too_big = buf && len == SB_TENANTS_FILE_MAX;
  fclose(f);
  sb_tenants_t *ts = NULL;
  if (!buf)
    snprintf(err, errlen, "out of memory");
  else if (too_big)
    snprintf(err, errlen, "%s: larger than %u bytes", path, SB_TENANTS_FILE_MAX);
  else
    ts = sb_tenants_parse(buf, len, err, errlen);
  free(buf);
  return ts;
}

void sb_tenants_destroy(sb_tenants_t **tp) {
  sb_tenants_t *t = *tp;
  if (!t)
    return;
  for (size_t i = 0; i < t->n; i++)
    tenant_free(&t->items[i]);
  for (size_t i = 0; i < t->naccounts; i++) {
    free(t->accounts[i].secret);
    free(t->accounts[i].verify_token);
    free(t->accounts[i].url);
    free(t->accounts[i].app_id);
    free(t->accounts[i].aes_key);
    free(t->accounts[i].event_key);
  }
  free(t->accounts);
  free(t->items);
  free(t->langs);
  free(t->by_id.slots);
  free(t->by_account.slots);
  free(t);
  *tp = NULL;
}

const sb_tenant_t *sb_tenants_find(const sb_tenants_t *t, const char *id, size_t len) {
  if (!t->by_id.cap || len > SB_TENANT_ID_MAX)
    return NULL;
  uint32_t h = fnv1a(FNV_BASIS, id, len);
  for (size_t j = h & (t->by_id.cap - 1); t->by_id.slots[j].pos1; j = (j + 1) & (t->by_id.cap - 1)) {
    const sb_tenant_t *x = &t->items[t->by_id.slots[j].pos1 - 1];
    if (t->by_id.slots[j].hash == h && strlen(x->id) == len && memcmp(x->id, id, len) == 0)
      return x;
  }
  return NULL;
}

size_t sb_tenants_count(const sb_tenants_t *t) { return t->n; }

const sb_tenant_t *sb_tenants_at(const sb_tenants_t *t, size_t i) {
  return i < t->n ? &t->items[i] : NULL;
}

size_t sb_tenants_index(const sb_tenants_t *t, const sb_tenant_t *x) {
  if (!t || !x || !t->n)
    return SIZE_MAX;
  /* integer arithmetic: x may belong to another array (wraps when below) */
  size_t i = ((uintptr_t)x - (uintptr_t)t->items) / sizeof *x;
  return i < t->n && &t->items[i] == x ? i : SIZE_MAX;
}

const sb_account_t *sb_tenants_account(const sb_tenants_t *t, const char *platform, const char *id) {
  const index_t *x = &t->by_account;
  if (!x->cap)
    return NULL;
  uint32_t h = account_hash(platform, id);
  for (size_t j = h & (x->cap - 1); x->slots[j].pos1; j = (j + 1) & (x->cap - 1)) {
    const sb_account_t *a = &t->accounts[x->slots[j].pos1 - 1];
    if (x->slots[j].hash == h && strcmp(a->platform, platform) == 0 && strcmp(a->id, id) == 0)
      return a;
  }
  return NULL;
}
