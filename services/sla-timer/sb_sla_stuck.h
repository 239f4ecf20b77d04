/*
 * sb_sla_stuck: supervisor alerts for stuck queues.
 *
 * Every --stuck-check-ms, for each tenant whose sla section has "stuck"
 * (sb_sla_stuck_t) and whose supervisors' calendar is open, sla_stuck.lua
 * reads the head of each listed queue's waiting line: a queue whose next
 * conversation has waited "after_ms" or more raises one Incident (kind
 * "queue_stuck", feed topic "<tenant>.incident", webhook event
 * "incident") for as long as it stays stuck, whichever replica checks
 * (the incident's key in Redis is the de-duplication). The incident is
 * stored with its notify lease before it is sent, like every hand-off.
 *
 * Metrics: sb_queue_waiting and sb_queue_head_wait_seconds {tenant, queue}
 * (gauges from the last check), sb_queue_stuck_incidents_total (raised by
 * this replica), sb_queue_stuck_check_failed_total (checks Redis did not
 * answer).
 */
#ifndef SB_SLA_STUCK_H
#define SB_SLA_STUCK_H

#include "sb_handoff.h"
#include "sb_service.h"
#include "sb_sla.h"

extern const char sb_script_sla_stuck[];

#define SB_SLA_STUCK_CHECK_MS "10000" /* --stuck-check-ms default; 0 = off */

typedef struct sb_sla_stuck sb_sla_stuck_t;

/* Starts the periodic check (out: notify's hand-off; policies: every
 * tenant's; both borrowed and outliving it). NULL on OOM. */
sb_sla_stuck_t *sb_sla_stuck_new(sb_service_t *s, sb_handoff_t *out, const sb_sla_t *policies);
/* No further check starts. */
void sb_sla_stuck_stop(sb_sla_stuck_t *k);
/* 1 when no Redis reply is awaited. */
int sb_sla_stuck_idle(const sb_sla_stuck_t *k);
/* Frees it once its timer is closed and its replies are in; clears *k. */
void sb_sla_stuck_destroy(sb_sla_stuck_t **k);

#endif
