/*
 * libswitchboard-client: publish events to switchboard and follow its feed.
 *
 * Two objects, both single-threaded and driven by the caller (no hidden
 * threads; use one object from one thread at a time, or lock around it):
 *
 *   sbc_publisher_t   a ZeroMQ DEALER on ingest's publish endpoint (default
 *                     tcp://HOST:5555). Every event gets exactly one answer:
 *                     acknowledged once durable (SBC_OK), already accepted
 *                     earlier (SBC_DUPLICATE), refused with a reason
 *                     (SBC_EREJECTED, SBC_EUNKNOWN_TENANT), or given up
 *                     (SBC_ETIMEOUT, SBC_ERETRIES). "Retry later" answers
 *                     (back-pressure, store not durable) and requests left
 *                     unanswered are sent again with exponential back-off.
 *   sbc_subscriber_t  a ZeroMQ SUB on notify's PUB feed (default
 *                     tcp://HOST:5556), filtered by topic prefix
 *                     ("<tenant>." or "<tenant>.assigned"). Every feed event
 *                     carries its number on its topic (1, 2, 3, ...); a
 *                     number skipped is reported as a gap (first..last), which
 *                     the integrator may re-read from the bus's Redis:
 *                     XRANGE sb:{t:<tenant>}:feed:<kind> <first> <last>.
 *
 * Errors: every function that can fail returns 0 (or a count) on success and
 * a negative SBC_E* code on failure; sbc_strerror() names it. A function
 * that takes a callback either returns an error and never calls it, or
 * calls it exactly once, later, from sbc_publisher_poll() /
 * sbc_subscriber_poll() (or a function that polls: sbc_publish_sync,
 * sbc_publisher_drain). Strings handed to callbacks are borrowed: valid
 * only during the call; copy what you keep.
 *
 * Ownership: *_open() gives the caller an object it frees with *_close(&p),
 * which also clears the pointer. Input structs and their strings are only
 * read during the call (the library copies what it needs).
 *
 * Link: pkg-config --cflags --libs switchboard-client (libzmq and
 * libprotobuf-c come along for static linking).
 */
#ifndef SWITCHBOARD_CLIENT_H
#define SWITCHBOARD_CLIENT_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(__GNUC__)
#define SBC_API __attribute__((visibility("default")))
#else
#define SBC_API
#endif

/* 1.0.0: sbc_agent_event_t and sbc_feed_event_t grew (suggestion
 * feedback), which changes the size of sbc_event_t: soname .so.1. */
#define SBC_VERSION_MAJOR 1
#define SBC_VERSION_MINOR 0
#define SBC_VERSION_PATCH 0

/* ---- result codes ---------------------------------------------------------
 * SBC_OK and SBC_DUPLICATE mean the event is durable in the bus; every
 * negative code means it is not (or the call failed). */
#define SBC_RESULT_MAP(X)                                                           \
  X(OK, 0, "ok")                                                                    \
  X(DUPLICATE, 1, "duplicate: the bus had accepted this event id before")           \
  X(EREJECTED, -1, "rejected by the bus (see the reason)")                          \
  X(EUNKNOWN_TENANT, -2, "rejected: the tenant is not configured in the bus")       \
  X(ETIMEOUT, -3, "no acknowledgement before the deadline")                         \
  X(ERETRIES, -4, "still not durable after every retry")                            \
  X(EINVAL, -5, "invalid argument")                                                 \
  X(ENOMEM, -6, "out of memory")                                                    \
  X(EZMQ, -7, "ZeroMQ error (bad endpoint or socket failure)")                      \
  X(ECURVE, -8, "bad CURVE key (40 Z85 characters) or libzmq without CURVE")        \
  X(EFULL, -9, "the publisher's queue is full; poll and try again")                 \
  X(ECLOSED, -10, "the publisher was closed before the event was answered")         \
  X(EPROTO, -11, "malformed message from the bus")                                  \
  X(ESUGGESTION, -12,                                                               \
    "invalid suggestion: an answer id is 1..64 characters of [A-Za-z0-9_.-]")

typedef enum {
#define SBC_RESULT_ENUM(name, code, text) SBC_##name = code,
  SBC_RESULT_MAP(SBC_RESULT_ENUM)
#undef SBC_RESULT_ENUM
} sbc_result_t;

/* A static text for any result code (unknown codes included). */
SBC_API const char *sbc_strerror(int code);
/* "1.0.0" */
SBC_API const char *sbc_version(void);

/* ---- events ------------------------------------------------------------- */

/* Same numbers as switchboard.v1.Channel. */
typedef enum {
  SBC_CHANNEL_UNKNOWN = 0, SBC_CHANNEL_X = 1, SBC_CHANNEL_FACEBOOK = 2,
  SBC_CHANNEL_MESSENGER = 3, SBC_CHANNEL_INSTAGRAM = 4, SBC_CHANNEL_WHATSAPP = 5,
  SBC_CHANNEL_WECHAT = 6, SBC_CHANNEL_EMAIL = 7, SBC_CHANNEL_WEBCHAT = 8,
  SBC_CHANNEL_SMS = 9, SBC_CHANNEL_VOICE = 10, SBC_CHANNEL_APP = 11,
  SBC_CHANNEL_TELEGRAM = 12, SBC_CHANNEL_LINE = 13
} sbc_channel_t;
/* "x", "email", ... for a channel; "unknown" for anything else. */
SBC_API const char *sbc_channel_name(sbc_channel_t c);
/* The channel named name (as above), or SBC_CHANNEL_UNKNOWN. */
SBC_API sbc_channel_t sbc_channel_parse(const char *name);

/* Same numbers as switchboard.v1.AgentAction. SBC_AGENT_SUGGESTION: the
 * agent's verdict on an answer the bus suggested (suggestion, accepted). */
typedef enum {
  SBC_AGENT_UNKNOWN = 0, SBC_AGENT_LOGIN = 1, SBC_AGENT_LOGOUT = 2, SBC_AGENT_ACCEPT = 3,
  SBC_AGENT_REPLY = 4, SBC_AGENT_CLOSE = 5, SBC_AGENT_STATUS = 6, SBC_AGENT_TRANSFER = 7,
  SBC_AGENT_REJECT = 8, SBC_AGENT_SUGGESTION = 9
} sbc_agent_action_t;

/* Longest answer id the bus takes in sbc_agent_event_t.suggestion. */
#define SBC_AGENT_SUGGESTION_MAX 64

typedef enum {
  SBC_EVENT_OTHER = 0,       /* on the feed: SLA events, service level, ... */
  SBC_EVENT_INTERACTION = 1, /* a customer's message */
  SBC_EVENT_AGENT = 2        /* an agent's action */
} sbc_event_kind_t;

/* A customer's message. customer: the customer's account (user id) on the
 * channel, which with the channel threads the conversation;
 * platform_message_id / reply_to: the platform's message and the one it
 * answers (e-mail threads by them). */
typedef struct {
  sbc_channel_t channel;
  const char *customer;
  const char *text; /* redacted by the bus before it is stored */
  int is_public;    /* posted where everybody can read it */
  const char *platform_message_id, *reply_to;
  const char *author_name;
  int64_t author_followers;
} sbc_interaction_t;

/* An agent's action; conversation is needed by accept, reply, close and
 * suggestion.
 * Suggested answers (sbc_feed_event_t.suggested_reply): a reply may name the
 * answer it used in suggestion (counted as accepted; accepted is ignored);
 * SBC_AGENT_SUGGESTION must name the answer judged, with accepted 1 (used)
 * or 0 (turned down). An answer id is 1..SBC_AGENT_SUGGESTION_MAX of
 * [A-Za-z0-9_.-], checked before sending (SBC_ESUGGESTION); other actions
 * send no suggestion. The bus counts the feedback only from the
 * conversation's owner, for an answer it suggested there; what became of it
 * comes back on the feed (sbc_feed_event_t.suggestion_result). */
typedef struct {
  sbc_agent_action_t action;
  const char *agent, *conversation;
  int capacity; /* login: conversations at once */
  const char *text, *status, *reason, *target_queue, *target_agent;
  const char *suggestion; /* reply: the answer used; suggestion: the answer judged */
  int accepted;           /* suggestion: 1 used, 0 turned down */
} sbc_agent_event_t;

/* One event (CloudEvents attributes + switchboard's). Unset strings (NULL)
 * are sent empty. Required: tenant, id (unique per source: the bus
 * de-duplicates by source and id), kind and its part. */
typedef struct {
  const char *tenant, *id;
  const char *source;      /* NULL: "/libswitchboard-client" */
  const char *type;        /* NULL: from kind (com.switchboard.interaction,
                              com.switchboard.agent.<action>) */
  int64_t time_ms;         /* unix ms; 0: now */
  const char *traceparent; /* W3C trace context, optional */
  sbc_event_kind_t kind;
  sbc_interaction_t interaction;
  sbc_agent_event_t agent;
} sbc_event_t;

/* ---- connection ---------------------------------------------------------- */

/* Where to connect and how. Zero fields take the defaults in brackets. */
typedef struct {
  const char *endpoint; /* "tcp://host:5555" (publisher) or ":5556" (feed) */
  /* CURVE (all three or none): the bus's edge public key and this client's
   * key pair, Z85 text (zmq_curve_keypair). client_public may be NULL: it is
   * derived from the secret key. */
  const char *server_public, *client_public, *client_secret;
  /* publisher */
  int ack_timeout_ms;    /* [30000] per event, from publish to its answer */
  int resend_after_ms;   /* [5000] a request unanswered this long is sent again */
  int max_retries;       /* [8] sends after the first, then SBC_ERETRIES;
                            -1: never resend */
  int retry_base_ms;     /* [50] first back-off; doubles per retry ... */
  int retry_max_ms;      /* [2000] ... up to this cap (with jitter: 1/2..1 of it) */
  size_t batch_max;      /* [100] events per request */
  size_t window;         /* [64] requests in flight */
  size_t queue_max;      /* [100000] events queued or in flight, then SBC_EFULL */
  /* subscriber */
  int gap_grace_ms;      /* [200] how long a missing number may arrive late
                            (several notify replicas can swap two numbers) */
  int rcvhwm;            /* [0: libzmq's 1000] messages buffered before drops */
} sbc_options_t;

/* ---- publisher ---------------------------------------------------------- */

typedef struct sbc_publisher sbc_publisher_t;

/* The answer to one event: result (SBC_OK, SBC_DUPLICATE or a negative
 * code), event_id, and the bus's reason ("" when none). Called exactly once
 * per event that sbc_publish accepted, from the polling functions. */
typedef void (*sbc_ack_cb)(void *arg, const char *event_id, int result, const char *reason);

/* Connects (ZeroMQ connects in the background: the first send waits for
 * it). 0 and *out, or SBC_EINVAL, SBC_ECURVE, SBC_EZMQ, SBC_ENOMEM. */
SBC_API int sbc_publisher_open(sbc_publisher_t **out, const sbc_options_t *opts);
/* Closes the socket; events still unanswered get SBC_ECLOSED through their
 * callbacks first. Clears *p; NULL or *p NULL is a no-op. */
SBC_API void sbc_publisher_close(sbc_publisher_t **p);

/* Encodes and queues one event; it is sent on the next flush or poll (many
 * queued events go out in requests of batch_max). cb may be NULL. 0, or
 * SBC_EINVAL (missing tenant/id/kind), SBC_ESUGGESTION (a malformed answer
 * id), SBC_EFULL, SBC_ENOMEM, SBC_ECLOSED (from a callback run by
 * sbc_publisher_close): then cb is never called. */
SBC_API int sbc_publish(sbc_publisher_t *p, const sbc_event_t *ev, sbc_ack_cb cb, void *arg);
/* Sends what is queued, as far as the window allows. 0 or SBC_EZMQ. */
SBC_API int sbc_publisher_flush(sbc_publisher_t *p);
/* Flushes, waits up to timeout_ms (0: do not wait, -1: for ever) for
 * replies, handles every reply waiting, sends due retries and expires
 * deadlines, calling callbacks. The wait ends early at the next retry or
 * deadline. Returns how many events were answered (>= 0) or SBC_EZMQ.
 * Callbacks may call sbc_publish, never poll/drain/sync/close. */
SBC_API int sbc_publisher_poll(sbc_publisher_t *p, int timeout_ms);
/* Polls until every event is answered or timeout_ms passed: 0 or
 * SBC_ETIMEOUT. */
SBC_API int sbc_publisher_drain(sbc_publisher_t *p, int timeout_ms);
/* Publishes one event and waits for its answer (other queued events make
 * progress meanwhile, and their callbacks may run). Returns SBC_OK,
 * SBC_DUPLICATE or a negative code; the bus's reason (or, for an event
 * refused before sending, the library's) is copied to reason
 * (reason_cap bytes, may be NULL/0). timeout_ms <= 0: ack_timeout_ms. */
SBC_API int sbc_publish_sync(sbc_publisher_t *p, const sbc_event_t *ev, int timeout_ms,
                             char *reason, size_t reason_cap);
/* Events queued, waiting to be retried or in flight. */
SBC_API size_t sbc_publisher_pending(const sbc_publisher_t *p);
/* For the caller's own loop: a file descriptor that becomes readable when
 * replies may be waiting (ZeroMQ's ZMQ_FD: edge-triggered, so call
 * sbc_publisher_poll(p, 0) on every wake-up and after sbc_publish), and the
 * ms until the next retry or deadline is due (-1: none). */
SBC_API int sbc_publisher_fd(const sbc_publisher_t *p, int *fd);
SBC_API int sbc_publisher_next_timeout(const sbc_publisher_t *p);

/* Counters since open (rejected: every final negative answer other than a
 * timeout; retried: sends again, after "retry later" or no reply). */
typedef struct {
  uint64_t published, sent, ok, duplicate, rejected, retried, timed_out, requests;
} sbc_publisher_stats_t;
SBC_API void sbc_publisher_stats(const sbc_publisher_t *p, sbc_publisher_stats_t *out);

/* ---- subscriber ---------------------------------------------------------- */

/* One event as the feed published it. Strings are never NULL ("" when
 * unset) and borrowed for the callback's duration. */
typedef struct {
  const char *topic;  /* "<tenant>.<kind>" */
  const char *kind;   /* "assigned", "queued", "routed", "agent", "rejected",
                         "diverted", "sla.warning", "sla.breach", "sla.met",
                         "sla", "service_level", "event" */
  uint64_t seq;       /* number on its topic (0: not numbered) */
  sbc_event_t event;  /* as published (interaction text as redacted) */
  const char *key;    /* the bus's event key */
  const char *conversation;
  /* routing (kind assigned, queued, routed, agent, rejected, diverted) */
  int route_outcome;  /* switchboard.v1.RouteOutcome: 1 assigned, 2 queued, ... */
  const char *agent, *queue, *route_reason;
  /* classification (when classify ran); suggested_reply: the tenant's
   * answer id classify proposes for this message ("" when none) */
  const char *language, *sentiment;
  int priority;
  const char *suggested_reply;
  /* agent events that named a suggestion: what the bus made of it,
   * "accepted" or "rejected" (counted), "unknown_suggestion" (not an
   * answer of the tenant), "not_suggested" (never suggested on that
   * conversation); "" otherwise (another agent's conversation: see
   * route_reason, "not_owner") */
  const char *suggestion_result;
  /* SLA (kind sla.*) */
  int sla_kind;       /* switchboard.v1.SlaKind: 2 warning, 3 breach, 4 met */
  const char *sla_timer;
  int64_t sla_due_ms;
  /* the Envelope's protobuf bytes, for anything not above */
  const uint8_t *raw;
  size_t raw_len;
} sbc_feed_event_t;

typedef void (*sbc_feed_cb)(void *arg, const sbc_feed_event_t *ev);
/* Numbers first..last (inclusive) on topic never arrived (within
 * gap_grace_ms of a later number). */
typedef void (*sbc_gap_cb)(void *arg, const char *topic, uint64_t first, uint64_t last);

typedef struct sbc_subscriber sbc_subscriber_t;

/* Connects to the feed. on_event is required, on_gap optional; arg is
 * passed to both. Nothing arrives before sbc_subscriber_subscribe. 0 and
 * *out, or SBC_EINVAL, SBC_ECURVE, SBC_EZMQ, SBC_ENOMEM. */
SBC_API int sbc_subscriber_open(sbc_subscriber_t **out, const sbc_options_t *opts,
                                sbc_feed_cb on_event, sbc_gap_cb on_gap, void *arg);
/* Clears *s; NULL or *s NULL is a no-op. Pending gaps are not reported. */
SBC_API void sbc_subscriber_close(sbc_subscriber_t **s);
/* Adds / removes a topic prefix ("" = everything). 0 or SBC_EINVAL/EZMQ. */
SBC_API int sbc_subscriber_subscribe(sbc_subscriber_t *s, const char *prefix);
SBC_API int sbc_subscriber_unsubscribe(sbc_subscriber_t *s, const char *prefix);
/* Resumes a topic: the next number expected there is next_seq (a desktop
 * that restarts passes its last processed number + 1, so whatever went by
 * while it was away is reported as a gap). Without it the first number
 * seen on a topic is taken as the start. 0, SBC_EINVAL or SBC_ENOMEM. */
SBC_API int sbc_subscriber_expect(sbc_subscriber_t *s, const char *topic, uint64_t next_seq);
/* Waits up to timeout_ms (0: no wait, -1: for ever) for feed messages,
 * handles every one waiting (on_event), and reports gaps whose grace ran
 * out (on_gap). Returns the events handled (>= 0) or SBC_EZMQ. Messages
 * that do not decode are skipped and counted (sbc_subscriber_stats). */
SBC_API int sbc_subscriber_poll(sbc_subscriber_t *s, int timeout_ms);
/* As sbc_publisher_fd / _next_timeout (-1: no gap waiting for its grace). */
SBC_API int sbc_subscriber_fd(const sbc_subscriber_t *s, int *fd);
SBC_API int sbc_subscriber_next_timeout(const sbc_subscriber_t *s);

typedef struct {
  uint64_t received, malformed, gaps, missed; /* missed: numbers in gaps */
} sbc_subscriber_stats_t;
SBC_API void sbc_subscriber_stats(const sbc_subscriber_t *s, sbc_subscriber_stats_t *out);

#ifdef __cplusplus
}
#endif

#endif
