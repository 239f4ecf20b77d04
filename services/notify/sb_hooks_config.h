/*
 * sb_hooks_config: a tenant's outbound webhooks, read from the "notify"
 * member of its entry in the tenant file and validated once at start:
 *
 *   "notify": {
 *     "webhooks": [{"id": "crm", "url": "https://crm.example/hook",
 *                   "secret": "env:ACME_CRM_SECRET",
 *                   "events": ["assigned", "sla.breach"],
 *                   "max_in_flight": 4, "timeout_ms": 5000}],
 *     "retry": {"base_ms": 1000, "max_ms": 600000, "give_up_after_s": 21600,
 *               "jitter": "full"},
 *     "breaker": {"failures": 5, "open_ms": 30000}}
 *
 * An endpoint id is [A-Za-z0-9_-]{1,64} (it is part of Redis keys) and unique
 * in its tenant; url is http:// or https://; secret is a literal or
 * "env:NAME" (read from the environment here, an unset variable is an
 * error); events are feed kinds (sb_envelope_kind) or "*" for all of them.
 * "retry" and "breaker" apply to every endpoint of the tenant. Unknown
 * members of a webhook, "retry" or "breaker" are errors (a typo must not
 * silently fall back to a default); other members of "notify" belong to
 * other notify features and are ignored here.
 *
 * Policy is pure here: parsing, event matching, and the retry / breaker
 * arithmetic live in sb_hooks_policy.h, with no I/O.
 */
#ifndef SB_HOOKS_CONFIG_H
#define SB_HOOKS_CONFIG_H

#include <stddef.h>
#include <stdint.h>

#define SB_HOOK_ID_MAX 64
#define SB_HOOKS_MAX 32        /* endpoints per tenant */
#define SB_HOOK_EVENTS_MAX 16  /* kinds listed per endpoint */
#define SB_HOOK_URL_MAX 2048

#define SB_HOOK_MAX_IN_FLIGHT_DEFAULT 4
#define SB_HOOK_MAX_IN_FLIGHT_LIMIT 256
#define SB_HOOK_TIMEOUT_DEFAULT_MS 5000
#define SB_HOOK_TIMEOUT_LIMIT_MS 300000
#define SB_HOOKS_RETRY_BASE_DEFAULT_MS 1000
#define SB_HOOKS_RETRY_MAX_DEFAULT_MS 600000   /* 10 min */
#define SB_HOOKS_GIVE_UP_DEFAULT_S 21600       /* 6 h */
#define SB_HOOKS_BREAKER_FAILURES_DEFAULT 5
#define SB_HOOKS_BREAKER_OPEN_DEFAULT_MS 30000

typedef enum {
  SB_HOOKS_JITTER_FULL = 0, /* delay uniform in [0, cap] (the default) */
  SB_HOOKS_JITTER_NONE = 1  /* delay = cap: deterministic, for tests */
} sb_hooks_jitter_t;

typedef struct {
  char id[SB_HOOK_ID_MAX + 1];
  char *url;
  char *secret;
  int all_events; /* "*" was listed */
  char *events[SB_HOOK_EVENTS_MAX];
  size_t nevents;
  int max_in_flight;
  int64_t timeout_ms;
} sb_hook_t;

typedef struct {
  int64_t base_ms;         /* cap of the first retry's delay */
  int64_t max_ms;          /* cap of any delay */
  int64_t give_up_after_s; /* from the first attempt; then a dead letter */
  sb_hooks_jitter_t jitter;
} sb_hooks_retry_t;

typedef struct {
  int failures;    /* consecutive failures that open the breaker */
  int64_t open_ms; /* how long it stays open before a half-open probe */
} sb_hooks_breaker_cfg_t;

typedef struct {
  sb_hook_t hooks[SB_HOOKS_MAX];
  size_t nhooks;
  sb_hooks_retry_t retry;
  sb_hooks_breaker_cfg_t breaker;
} sb_hooks_config_t;

/* Parses a tenant's "notify" object (JSON text, or NULL when the tenant has
 * none: no webhooks). On success *out is an owned config (possibly with no
 * hooks) and 0 is returned. On error: SB_ECONFIG with a one-line reason in
 * err naming the tenant and the field ("tenant acme: notify.webhooks[1].url
 * must start with http:// or https://"), or SB_ENOMEM; *out is NULL. */
int sb_hooks_config_parse(const char *tenant, const char *notify_json, sb_hooks_config_t **out,
                          char *err, size_t errlen);
/* Frees a config (secrets are wiped first) and clears *c. NULL-safe. */
void sb_hooks_config_destroy(sb_hooks_config_t **c);

/* 1 if the endpoint takes events of this feed kind ("assigned", ...). */
int sb_hook_wants(const sb_hook_t *h, const char *kind);
/* The endpoint with this id, or NULL. */
const sb_hook_t *sb_hooks_config_find(const sb_hooks_config_t *c, const char *id);

#endif
