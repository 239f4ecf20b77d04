/*
 * sb_admit: what ingest checks before an event may enter the bus, and the
 * envelope it builds. Pure: no Redis, no sockets.
 *
 * Both doors lead here: CloudEvents JSON from HTTP (sb_admit_cloudevent)
 * and protobuf envelopes over ZeroMQ (sb_admit_envelope). An admitted
 * envelope has a known tenant, a body that fits its type, its internal key
 * (sb_event_key), its customer text with personal data already redacted
 * (sb_pii: nothing in clear is ever written), and the thread field that
 * ingest.lua uses to find its conversation.
 */
#ifndef SB_ADMIT_H
#define SB_ADMIT_H

#include "sb_cloudevent.h"
#include "sb_envelope.h"
#include "sb_tenants.h"

#define SB_ADMIT_THREAD_MAX 320
#define SB_ADMIT_TEXT_MAX (16 * 1024)
#define SB_ADMIT_ATTR_MAX 256
#define SB_ADMIT_REFS_MAX (2 * SB_ADMIT_THREAD_MAX)

typedef enum {
  SB_ADMIT_OK = 0,
  SB_ADMIT_INVALID = 1,        /* malformed: 400 / ACK_INVALID */
  SB_ADMIT_UNKNOWN_TENANT = 2, /* 404-ish: 422 / ACK_UNKNOWN_TENANT */
} sb_admit_status_t;

typedef struct {
  sb_admit_status_t status;
  char reason[160];
  char thread[SB_ADMIT_THREAD_MAX]; /* "" when the event opens no thread */
  /* e-mail threading (ingest.lua): "email:<Message-ID>" to remember for
   * later replies, and the '\n'-separated "email:<id>"s this message
   * answers (In-Reply-To; the webhook door adds the References root). ""
   * when none. */
  char message[SB_ADMIT_THREAD_MAX];
  char refs[SB_ADMIT_REFS_MAX];
  /* "<channel>:<customer>" of a customer's message: the identity whose
   * canonical customer id ingest.lua sets (Interaction.customer_id); ""
   * for agent events. */
  char ident[SB_ADMIT_THREAD_MAX];
} sb_admit_result_t;

/* Builds an envelope from a parsed CloudEvent. Returns the envelope (owned
 * by the caller; sb_envelope_free) or NULL with res->status/reason set. */
sb_envelope_t *sb_admit_cloudevent(const sb_cloudevent_t *ce, const sb_tenants_t *tenants,
                                   sb_admit_result_t *res);

/* Checks and completes an envelope received over ZeroMQ (in place: key,
 * ingested time, attempt 0, redacted text). 0, or -1 with res set. */
int sb_admit_envelope(sb_envelope_t *env, const sb_tenants_t *tenants, sb_admit_result_t *res);

#endif
