/*
 * sb_channel_out: the outbound channel interface. notify sends a customer
 * a message on the customer's own platform (an agent's reply, an
 * acknowledgement, a move-to-private redirect) through one small ops table
 * per platform (sb_channel_wechat.c, sb_channel_telegram.c,
 * sb_channel_line.c, sb_channel_meta.c for WhatsApp and Messenger,
 * sb_channel_twilio.c for SMS, sb_channel_email.c for e-mail through
 * SendGrid's Mail Send API, sb_channel_x.c for X direct messages and
 * public replies). An adapter is pure: it builds the HTTP request (URL,
 * header lines, JSON body) from the account's credentials, the recipient's
 * address and the text, and classifies the platform's answer (status and
 * body) as sent, retry later (with the wait the platform asked for),
 * refresh the access token and try again, fall back to another form of
 * the same message (LINE: reply token refused -> push), or a permanent
 * failure with a reason. No I/O here: sb_channel_send does the sending.
 *
 * Outbound accounts are read from the tenant's "notify" section:
 *
 *   "notify": {"outbound": {"timeout_ms": 5000, "accounts": [
 *       {"platform": "telegram", "account": "bot-1", "token": "env:TG_TOKEN"},
 *       {"platform": "line", "account": "ch-1", "token": "env:LINE_CAT",
 *        "api_base": "https://api.line.me"},
 *       {"platform": "wechat", "account": "oa-1", "app_secret": "env:WX_SECRET",
 *        "app_id": "wx123"}]}}
 *
 * (platform, account) must name one of the tenant's accounts (sb_tenants),
 * whose id is the webhook path's {account}; a WeChat app_id and app_secret
 * default to that account's "app_id" and "secret" (the AppSecret). Meta
 * needs "token" (page or WhatsApp access token) and, for WhatsApp,
 * "sender" (the phone_number_id); Twilio needs "app_id" (the AccountSid),
 * "sender" (the From number) and the account's "secret" (the auth token,
 * also what signs its webhooks) unless "token" is given. E-mail (SendGrid)
 * needs "token" (the API key) and "sender" ("help@acme.example" or
 * "Acme Support <help@acme.example>"); "default_subject" is the subject of
 * an answer to a mail that had none (default "Re: your message"). X needs
 * "app_id" (the API key), "app_secret" (the API key secret; default: the
 * account's "secret", the same consumer secret its webhooks are signed
 * with), "token" and "token_secret" (the account's access token).
 * api_base defaults to the platform's real API.
 * Secrets are literals or "env:NAME" (unset: a load error). Unknown
 * members are errors naming tenant and field.
 */
#ifndef SB_CHANNEL_OUT_H
#define SB_CHANNEL_OUT_H

#include "sb_tenants.h"

#include <cjson/cJSON.h>
#include <stddef.h>
#include <stdint.h>

#define SB_OUT_URL_MAX 2048
#define SB_OUT_HEADERS_MAX 4
#define SB_OUT_HEADER_MAX 512
#define SB_OUT_REASON_MAX 256
#define SB_OUT_ACCOUNTS_MAX 64      /* outbound accounts per tenant */
#define SB_OUT_TIMEOUT_DEFAULT_MS 10000
#define SB_OUT_TIMEOUT_LIMIT_MS 120000
#define SB_OUT_TOKEN_MAX 1024
#define SB_OUT_SENT_ID_MAX 128 /* a platform's id of a message sent, with its NUL */
#define SB_OUT_EMAIL_SUBJECT_DEFAULT "Re: your message"
#define SB_OUT_EMAIL_SUBJECT_MAX 200 /* bytes of a configured default_subject */
/* LINE reply tokens are single-use and must be used soon after the webhook
 * (LINE documents about one minute); past this age we push instead. */
#define SB_LINE_REPLY_TOKEN_TTL_MS 50000

typedef enum {
  SB_OUT_SENT = 0,
  SB_OUT_RETRY = 1,    /* later (back-off, at least retry_after_ms) */
  SB_OUT_DEAD = 2,     /* permanent: the same request cannot succeed */
  SB_OUT_REFRESH = 3,  /* the access token is stale: fetch one, send again */
  SB_OUT_FALLBACK = 4  /* send again at once with no_reply set (LINE push) */
} sb_out_verdict_t;

/* Bounds on what a platform's answer may ask for (a number beyond them in
 * a body is clamped, never cast out of range). */
#define SB_OUT_RETRY_AFTER_MAX_S 86400
#define SB_OUT_TOKEN_LIFETIME_MAX_S (30 * 86400)

typedef struct {
  char platform[SB_ACCOUNT_PLATFORM_MAX];
  char account[SB_ACCOUNT_ID_MAX];
  char *api_base;   /* no trailing '/' */
  char *token;      /* Telegram bot token, LINE channel access token */
  char *app_id;     /* WeChat */
  char *app_secret; /* WeChat */
  char *sender;     /* WhatsApp phone_number_id, Twilio "From" number, e-mail From address */
  /* Twilio: the StatusCallback URL each message asks status callbacks at
   * (default: the account's signed webhook "url"), "" for none */
  char *status_callback;
  /* e-mail: the subject of an answer when the customer's had none */
  char *default_subject;
  char *token_secret; /* X: the access token secret (OAuth 1.0a) */
  int64_t timeout_ms;
} sb_out_account_t;

typedef struct {
  const char *to;          /* WeChat openid, Telegram chat id, LINE userId */
  const char *reply_token; /* LINE, or NULL */
  int64_t reply_token_ms;  /* when the reply token arrived */
  const char *text;        /* already redacted upstream; never logged */
  const char *channel;     /* "whatsapp", "messenger", "sms", ... (Meta picks its API) */
  const char *subject;     /* e-mail: the customer's Subject (redacted), or NULL / "" */
  const char *in_reply_to; /* the customer's message answered, or NULL / "": e-mail its
                              Message-ID (no angle brackets), X the post id */
  int is_public;           /* the customer wrote publicly (X: answer with a public reply) */
} sb_out_message_t;

typedef struct {
  char url[SB_OUT_URL_MAX];
  char headers[SB_OUT_HEADERS_MAX][SB_OUT_HEADER_MAX];
  size_t nheaders;
  char *body; /* owned (sb_out_request_clear) */
  int mode;   /* adapter's own: LINE 1 = reply, 0 = push */
} sb_out_request_t;

typedef struct {
  sb_out_verdict_t verdict;
  int64_t retry_after_ms; /* RETRY: the platform's own minimum wait, or 0 */
  char reason[SB_OUT_REASON_MAX];
  /* SENT: the platform's id of the message, when the platform sends
   * receipts that name it (WhatsApp, Twilio), else "": notify records it
   * so that ingest can tell a receipt's conversation */
  char sent_id[SB_OUT_SENT_ID_MAX];
} sb_out_result_t;

typedef struct {
  const char *platform;
  const char *default_base;
  /* Builds the request; access_token is the fetched token (WeChat) or NULL;
   * no_reply asks for the form that needs no reply token. 0, SB_EINVAL
   * (reason in why: no address, missing credential) or SB_ENOMEM. */
  int (*build)(const sb_out_account_t *a, const sb_out_message_t *m, const char *access_token,
               int64_t now_ms, int no_reply, sb_out_request_t *out, char *why, size_t whylen);
  /* The platform's answer to req (status 0: no response). */
  void (*classify)(const sb_out_request_t *req, long status, const char *body,
                   sb_out_result_t *out);
  /* Platforms with a fetched access token (else NULL): the token request's
   * URL, and its answer parsed (0 and the token and its lifetime in s, or
   * SB_EPARSE with a reason). */
  int (*token_url)(const sb_out_account_t *a, char *url, size_t cap);
  int (*token_parse)(long status, const char *body, char *token, size_t cap, int64_t *expires_s,
                     char *why, size_t whylen);
  /* The response header that names a message sent (SendGrid's
   * "X-Message-Id"), for platforms whose answer body does not: notify
   * keeps it as sent_id (sb_out_sent_id's checks). NULL: none. */
  const char *sent_id_header;
} sb_channel_ops_t;

extern const sb_channel_ops_t sb_channel_wechat;
extern const sb_channel_ops_t sb_channel_telegram;
extern const sb_channel_ops_t sb_channel_line;
extern const sb_channel_ops_t sb_channel_meta;
extern const sb_channel_ops_t sb_channel_twilio;
extern const sb_channel_ops_t sb_channel_email;
extern const sb_channel_ops_t sb_channel_x;

/* OAuth 1.0a (RFC 5849) HMAC-SHA1 signature, base64, of a request: method,
 * url without its query, params (the query and form parameters and every
 * oauth_* one but oauth_signature; a JSON body is not signed), keyed by
 * the consumer and token secrets. out needs SB_OUT_OAUTH1_SIG_LEN bytes.
 * 0, SB_ETOOBIG (more than 16 parameters, one over 1 KiB encoded) or
 * SB_ENOMEM. */
#define SB_OUT_OAUTH1_SIG_LEN 29
typedef struct {
  const char *name, *value;
} sb_out_param_t;
int sb_out_oauth1_sign(const char *method, const char *url, const sb_out_param_t *params, size_t n,
                       const char *consumer_secret, const char *token_secret, char *out, size_t cap);

/* E-mail: sender "help@acme.example" or "Acme Support <help@acme.example>"
 * split into display name ("" when none) and address; SB_EINVAL when it is
 * not one plain mailbox or does not fit. */
int sb_out_email_sender(const char *sender, char *name, size_t ncap, char *addr, size_t acap);

/* The adapter for a platform name ("telegram"), or NULL. */
const sb_channel_ops_t *sb_channel_find(const char *platform);

void sb_out_request_clear(sb_out_request_t *r);
/* Appends one "Name: value" header line; SB_ETOOBIG when full. */
int sb_out_request_header(sb_out_request_t *r, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Sets r's body to json printed (json is deleted) with the headers
 * "Content-Type: application/json" and "Authorization: Bearer <token>".
 * 0, SB_ENOMEM, or SB_EINVAL with "<platform>: <what> too long" in why. */
int sb_out_request_json_bearer(sb_out_request_t *r, cJSON *json, const char *token,
                               const char *platform, const char *what, char *why, size_t whylen);
/* The verdict of an HTTP status alone: 2xx sent; 408, 429, 5xx and no
 * response (0) retry; any other status dead. Fills out->reason. */
void sb_out_http_verdict(const char *platform, long status, sb_out_result_t *out);
/* Keeps id as out->sent_id when it is 1..SB_OUT_SENT_ID_MAX-1 bytes of
 * printable ASCII without space or '|' (else leaves it ""): what a platform
 * returns is not trusted to be a sane key. */
void sb_out_sent_id(sb_out_result_t *out, const char *id);
/* Percent-encodes s (RFC 3986 unreserved kept) into out; SB_ETOOBIG. */
int sb_out_urlencode(const char *s, char *out, size_t cap);

typedef struct {
  sb_out_account_t accounts[SB_OUT_ACCOUNTS_MAX];
  size_t naccounts;
} sb_out_config_t;

/* Parses the tenant's notify.outbound (notify_json may be NULL: none).
 * 0 and an owned *out, or SB_ECONFIG with a reason naming tenant and field
 * in err, or SB_ENOMEM. tenants: to check each account exists and belongs
 * to this tenant. */
int sb_out_config_parse(const sb_tenants_t *tenants, const char *tenant, const char *notify_json,
                        sb_out_config_t **out, char *err, size_t errlen);
void sb_out_config_destroy(sb_out_config_t **c);
/* The outbound account (platform, account), or NULL. */
const sb_out_account_t *sb_out_config_find(const sb_out_config_t *c, const char *platform,
                                           const char *account);

#endif
