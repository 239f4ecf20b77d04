/*
 * sb_door_identity: POST /v1/identities on ingest's HTTP port.
 *
 * An integrator or agent desktop links channel identities to one
 * canonical customer (body: sb_identity.h). Protected like /v1/events: a
 * tenant with api_keys needs "Authorization: Bearer <key>" of its own
 * (401 without, 403 with another tenant's). The links are written by
 * identity.lua in the tenant's slot (ident:<channel>:<id>, sb_keys.h);
 * from then on ingest.lua threads the customer's messages on every linked
 * channel into one open conversation.
 *
 * Answers: 200 {"tenant","customer","linked":n,"conversation":"<id>"|""}
 * once Redis confirmed the write; 400 invalid_identity (malformed, over a
 * limit, hostile: the reason names the field), 401/403, 422
 * unknown_tenant, 503 unavailable (Retry-After; the request is idempotent
 * and safe to repeat).
 */
#ifndef SB_DOOR_IDENTITY_H
#define SB_DOOR_IDENTITY_H

#include "sb_http.h"
#include "sb_service.h"

#define SB_IDENTITY_PATH "/v1/identities"

typedef struct sb_door_identity sb_door_identity_t;

/* Registers identity.lua with the service's Redis client. NULL on OOM. */
sb_door_identity_t *sb_door_identity_new(sb_service_t *s);
/* Requests in flight keep no pointer to the door: safe at any time. */
void sb_door_identity_destroy(sb_door_identity_t **d);

/* Answers one POST /v1/identities (now or once Redis replied). */
void sb_door_identity_post(sb_door_identity_t *d, const sb_http_request_t *req,
                           sb_http_response_t *res);

#endif
