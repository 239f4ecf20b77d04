/*
 * sbctl_corpus: reads a corpus of CloudEvents (JSON Lines, one event per
 * line) into envelopes ready to publish over ZeroMQ, with the same checks
 * ingest applies (sb_cloudevent, sb_admit). A bad line is reported with its
 * number and skipped. Events are replayed as live traffic: their time is
 * cleared so that ingest stamps the time of receipt (SLA clocks start now).
 */
#ifndef SBCTL_CORPUS_H
#define SBCTL_CORPUS_H

#include "sbctl_client.h"
#include "sb_tenants.h"

/* Queues every good line on client. Returns the number queued, or -1 if
 * the file cannot be read; *bad counts lines skipped. */
long sbctl_corpus_queue(const char *path, const sb_tenants_t *tenants, sbctl_client_t *client,
                        long *bad);

#endif
