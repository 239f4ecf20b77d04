/*
 * sb_door_http: ingest's HTTP front door.
 *
 *   POST /v1/events         CloudEvents 1.0: structured JSON (one event or
 *                           a batch), or binary mode (ce-* headers, JSON
 *                           body as data; sb_cloudevent_http): one event
 *   POST /v1/agent-events   the same, for com.switchboard.agent.* events
 *   /webhooks/...           the platforms' webhooks (sb_door_webhook)
 *
 * A request is checked whole before anything is written: one malformed
 * event rejects the request (400 naming the event; 415 for binary-mode
 * data that is not application/json); an unknown tenant is 422. Then
 * every event is written durably (sb_intake) and only then answered: 202
 * with each event's conversation, 200 when all were duplicates, 503 +
 * Retry-After when a write failed (retrying is safe: duplicates are
 * recognised). Over capacity or with Redis away: 429 or 503 with
 * Retry-After, nothing written. Errors are
 * {"error": {"code": "...", "message": "..."}}.
 */
#ifndef SB_DOOR_HTTP_H
#define SB_DOOR_HTTP_H

#include "sb_intake.h"
#include "sb_service.h"

typedef struct sb_door_http sb_door_http_t;

sb_door_http_t *sb_door_http_new(sb_service_t *s, sb_intake_t *intake, const char *host, int port);
void sb_door_http_destroy(sb_door_http_t **d);
int sb_door_http_port(const sb_door_http_t *d);

#endif
