/*
 * sb_cloudevent: CloudEvents 1.0 in structured JSON mode, as they arrive at
 * `POST /v1/events` (one object, or a batch: a JSON array, media type
 * "application/cloudevents-batch+json"), plus the two switchboard payloads
 * carried in their "data": customer interactions and agent actions.
 *
 * The idea: untrusted bytes are checked in one linear, non-recursive scan
 * (strict UTF-8, strict JSON lexical rules, nesting depth) before cJSON ever
 * sees them, so cJSON's recursion is bounded by a small depth limit. Then each
 * event is validated attribute by attribute from a table, and copied out into
 * plain malloc'd C strings; the cJSON tree never escapes this module.
 *
 * Invariants on success:
 *   - every string in an sb_cloudevent_t is NUL-terminated valid UTF-8 with no
 *     embedded NUL (an escaped "\u0000" anywhere in the body is rejected);
 *   - id, source, type, specversion and tenant are non-NULL and non-empty;
 *     id/source/type/tenant hold no control characters (C0, DEL or C1);
 *   - specversion is "1.0"; tenant matches [A-Za-z0-9_-]{1,64};
 *   - optional attributes are NULL when absent (JSON null counts as absent,
 *     as the CloudEvents JSON format says), never "";
 *   - unknown extension attributes are ignored.
 * On failure nothing is allocated for the caller.
 *
 * Error contract (all parsers here): 0 on success, else
 *   SB_EPARSE  the bytes are not strict JSON or not valid UTF-8
 *              ("invalid JSON at byte 17": a 0-based offset into the input);
 *   SB_ETOOBIG a limit is exceeded (batch size, string length, data size,
 *              nesting depth);
 *   SB_EINVAL  valid JSON that is not a valid event or payload;
 *   SB_ENOMEM  allocation failed.
 * A one-line human reason, safe to return to the client, is written to err
 * (errlen bytes, always NUL-terminated when errlen > 0; err may be NULL). The
 * reason never quotes attribute values or customer text, only names.
 */
#ifndef SB_CLOUDEVENT_H
#define SB_CLOUDEVENT_H

#include <stddef.h>
#include <stdint.h>

/* Defaults for sb_cloudevent_limits_t. */
#define SB_CLOUDEVENT_MAX_EVENTS_DEFAULT 1000
#define SB_CLOUDEVENT_MAX_STRING_DEFAULT 256
#define SB_CLOUDEVENT_MAX_DATA_DEFAULT (64 * 1024)
#define SB_CLOUDEVENT_MAX_DEPTH_DEFAULT 32

#define SB_CLOUDEVENT_SPECVERSION "1.0"
#define SB_CLOUDEVENT_TENANT_MAX 64
#define SB_CLOUDEVENT_TYPE_INTERACTION "com.switchboard.interaction"
#define SB_CLOUDEVENT_TYPE_AGENT_PREFIX "com.switchboard.agent."

/* Limits of the switchboard payloads (bytes). */
#define SB_INTERACTION_ID_MAX 256      /* customer, message ids, author name */
#define SB_INTERACTION_TEXT_MAX (16 * 1024)
#define SB_AGENT_ID_MAX 128
#define SB_AGENT_CONVERSATION_MAX 256
#define SB_AGENT_TEXT_MAX (16 * 1024)
#define SB_AGENT_REASON_MAX 256
#define SB_AGENT_SUGGESTION_MAX 64 /* an answer id (classify rules "answers") */
#define SB_AGENT_CAPACITY_MIN 1
#define SB_AGENT_CAPACITY_MAX 100
#define SB_AGENT_CAPACITY_DEFAULT 3

typedef struct {
  char *id, *source, *type, *specversion; /* required, non-empty */
  char *time;             /* RFC 3339 (syntax and ranges checked) or NULL */
  int64_t time_ms;        /* time in unix ms, or 0 when time is absent */
  char *tenant;           /* extension "tenant", required by switchboard */
  char *traceparent;      /* "00-<32 hex>-<16 hex>-<2 hex>", lowercase, ids
                             not all zero; or NULL */
  char *datacontenttype, *subject; /* optional, NULL when absent */
  char *data;             /* "data" re-serialized compactly, or NULL */
} sb_cloudevent_t;      /* every string malloc'd; a caller may take one by
                           setting the field to NULL and free()ing it later */

typedef struct {
  size_t max_events;     /* events per batch */
  size_t max_string;     /* bytes of any string attribute */
  size_t max_data_bytes; /* bytes of the re-serialized "data" */
  int max_depth;         /* [ and { nesting of the whole body, root = 1:
                            a batch spends one level more than one event */
} sb_cloudevent_limits_t;

/* Fills l with the SB_CLOUDEVENT_*_DEFAULT values. */
void sb_cloudevent_limits_default(sb_cloudevent_limits_t *l);

/*
 * Parses body[0..len) (need not be NUL-terminated; a NUL byte inside is
 * invalid JSON). limits NULL means the defaults. A body whose root is an
 * object is one event; an array is a batch of 1..max_events objects. A
 * leading UTF-8 byte order mark is ignored.
 * On success returns 0, *events is a malloc'd array of *n >= 1 events owned
 * by the caller (free with sb_cloudevent_free). On failure returns SB_E*,
 * sets *events = NULL, *n = 0, writes the reason (e.g. "event 3: missing
 * required attribute \"source\"") and *err_index = the 0-based index of the
 * offending event (0 for a single event), or -1 when the body as a whole is
 * at fault. err_index may be NULL. The first bad event wins.
 * "data_base64" is rejected as unsupported (SB_EINVAL).
 */
int sb_cloudevent_parse(const char *body, size_t len,
                        const sb_cloudevent_limits_t *limits,
                        sb_cloudevent_t **events, size_t *n, char *err,
                        size_t errlen, long *err_index);

/*
 * One event whose attributes arrived apart from its data, as in the binary
 * content mode of a protocol binding (see sb_cloudevent_http). names[i] and
 * values[i] (i < n) are attribute names and their decoded values, each a
 * NUL-terminated UTF-8 string; "data" and "data_base64" are not attribute
 * names. data[0..data_len) is the event's data as JSON text (need not be
 * NUL-terminated), or data == NULL when the event has none.
 * The event is validated by exactly the rules of sb_cloudevent_parse (the
 * same table: required attributes, specversion, tenant, time, traceparent,
 * lengths, control characters, a repeated name is "duplicate attribute";
 * the data by the same strict scan, one nesting level below the event, and
 * max_data_bytes), so an event means the same in either mode. limits NULL
 * means the defaults; max_events does not apply.
 * On success returns 0 and *events is an array of one event (free with
 * sb_cloudevent_free(events, 1)). On failure returns SB_E* as
 * sb_cloudevent_parse does, *events = NULL, and err holds the reason with
 * no "event N:" prefix (e.g. "missing required attribute \"source\"" or
 * "data: invalid JSON at byte 3").
 */
int sb_cloudevent_from_attributes(const char *const *names,
                                  const char *const *values, size_t n,
                                  const char *data, size_t data_len,
                                  const sb_cloudevent_limits_t *limits,
                                  sb_cloudevent_t **events, char *err,
                                  size_t errlen);

/* 1 if s is a traceparent an event may carry (the rule of the
 * "traceparent" attribute above), else 0; s may be NULL. */
int sb_cloudevent_traceparent_valid(const char *s);

/* Frees the array from sb_cloudevent_parse and its strings; sets *events to
 * NULL. Safe on NULL or *events == NULL. */
void sb_cloudevent_free(sb_cloudevent_t **events, size_t n);

/* Payload of type "com.switchboard.interaction". */
typedef struct {
  char *channel;  /* one of: x facebook messenger instagram whatsapp wechat
                     telegram line email webchat sms voice app */
  char *customer; /* platform user id, 1..256 bytes, no control chars */
  char *text;     /* 0..16 KiB of UTF-8 */
  int is_public;  /* "public": bool, default false */
  char *platform_message_id; /* optional, NULL when absent */
  char *reply_to;            /* optional platform message id replied to */
  char *author_name;         /* optional "author"."name" */
  int64_t followers;         /* optional "author"."followers", >= 0, else 0 */
} sb_interaction_data_t;

/*
 * Parses data_json (NUL-terminated; typically ev->data) into out, which is
 * overwritten (clear it first if it holds an earlier result). Same
 * scan, depth limit (SB_CLOUDEVENT_MAX_DEPTH_DEFAULT) and error contract as
 * sb_cloudevent_parse. On failure out is left cleared. Unknown members are
 * ignored; JSON null counts as absent.
 */
int sb_interaction_data_parse(const char *data_json, sb_interaction_data_t *out,
                              char *err, size_t errlen);
/* Frees the strings of d and zeroes it; safe on a zeroed struct. */
void sb_interaction_data_clear(sb_interaction_data_t *d);

/* Payload of type "com.switchboard.agent.<action>". */
typedef struct {
  char *action;       /* login, logout, accept, reply, close, status, transfer, reject,
                         suggestion */
  char *agent;        /* [A-Za-z0-9_.@-]{1,128} */
  char *conversation; /* required for accept/reply/close; optional otherwise */
  int capacity;       /* login: 1..100, default 3; 0 for other actions */
  char *text;         /* reply only (optional, <= 16 KiB); NULL otherwise */
  char *status;       /* status only: "available", "busy" or "away" */
  char *reason;       /* status only, optional (<= 256 bytes) */
  char *target_queue; /* transfer: exactly one of target_queue ("queue") */
  char *target_agent; /* and target_agent ("to_agent") */
  char *suggestion;   /* reply (optional) and suggestion (required): an
                         answer id, [A-Za-z0-9_.-]{1,64}; NULL otherwise */
  int accepted;       /* suggestion: "accepted" (required bool); reply
                         with a suggestion: 1 */
} sb_agent_data_t;

/*
 * Parses an agent event: the action comes from the suffix of type (which
 * must start with SB_CLOUDEVENT_TYPE_AGENT_PREFIX), the rest from data_json
 * (NUL-terminated; NULL means the event had no data: SB_EINVAL). Fields that
 * do not apply to the action (capacity unless login, text unless reply) are
 * ignored. Same error contract and out handling as sb_interaction_data_parse.
 */
int sb_agent_data_parse(const char *type, const char *data_json,
                        sb_agent_data_t *out, char *err, size_t errlen);
/* Frees the strings of d and zeroes it; safe on a zeroed struct. */
void sb_agent_data_clear(sb_agent_data_t *d);

/*
 * Voice / ACD events, type SB_CLOUDEVENT_TYPE_VOICE_PREFIX + kind:
 *   offered   {call, caller, ivr: ["billing", "fr"], line, text}: a call
 *             entered the queue (an Interaction on channel voice);
 *   answered  {call, agent}: an agent picked it up (the first response);
 *   abandoned {call, agent}: the caller hung up before the end (closes the
 *             conversation, reason "abandoned"); agent (optional): the
 *             agent the call was presented to, absent when the caller hung
 *             up while still queued (route closes the call whatever its
 *             state: queued, offered or assigned).
 * call: 1..SB_VOICE_CALL_MAX of [A-Za-z0-9_.:@-]; caller: E.164-ish ('+'
 * optional, separators " -.()" dropped later by sb_identity_normalise),
 * 1..SB_VOICE_NUMBER_MAX bytes of [0-9+ ().-]; line (the DNIS, optional)
 * the same; ivr (optional): at most SB_VOICE_IVR_MAX selections, each
 * 1..SB_VOICE_IVR_LEN_MAX of [a-z0-9_-]; text (optional): a transcript or
 * note, like an interaction's text; agent as in agent events.
 */
#define SB_CLOUDEVENT_TYPE_VOICE_PREFIX "com.switchboard.voice."
#define SB_VOICE_CALL_MAX 128
#define SB_VOICE_NUMBER_MAX 32
#define SB_VOICE_IVR_MAX 8
#define SB_VOICE_IVR_LEN_MAX 32

typedef enum {
  SB_VOICE_OFFERED = 1,
  SB_VOICE_ANSWERED = 2,
  SB_VOICE_ABANDONED = 3,
} sb_voice_kind_t;

typedef struct {
  sb_voice_kind_t kind;
  char *call;
  char *caller, *line, *text; /* offered; NULL otherwise (line, text optional) */
  char *agent;                /* answered; abandoned (optional: NULL) */
  size_t n_ivr;
  char *ivr[SB_VOICE_IVR_MAX];
} sb_voice_data_t;

/* The kind of a voice type, or 0 when type is not one. */
sb_voice_kind_t sb_voice_kind(const char *type);

/* Parses a voice event's data (same error contract and out handling as
 * sb_agent_data_parse; a type that is not a voice kind is SB_EINVAL). */
int sb_voice_data_parse(const char *type, const char *data_json, sb_voice_data_t *out,
                        char *err, size_t errlen);
/* Frees the strings of d and zeroes it; safe on a zeroed struct. */
void sb_voice_data_clear(sb_voice_data_t *d);

#endif
