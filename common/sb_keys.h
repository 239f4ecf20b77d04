/*
 * sb_keys: every Redis key switchboard writes, with its owner, type and
 * expiry. All keys of a tenant carry the hash tag {t:<tenant>} so that a
 * tenant's state lives in one Redis Cluster slot and every script touches
 * one slot. Scripts receive KEYS[1] = the tenant's stats key and derive the
 * other keys of the same tag from its prefix "sb:{t:<tenant>}:".
 *
 * key (prefix sb:{t:T}:)  type   owner (writer)          expiry
 * ev:<key>               string ingest; each stage       --event-ttl-s
 *                               overwrites with its
 *                               enriched envelope
 * lease:<stage>          zset   sender adds (member      none (members
 *                               <key>, score deadline    removed by the
 *                               ms); receiver removes    receiver)
 * threads                hash   ingest (route HDELs     none
 *                               on close) field
 *                               "<channel>:<customer>"
 *                               -> conversation id
 * conv:<conv>            hash   route                    --event-ttl-s
 * agent:<id>             hash   route                    none
 * agents:free            zset   route (agents with free  none
 *                               capacity, score = when
 *                               they became idle)
 * queue                  zset   route (waiting conv,     none
 *                               score = started ms)
 * timers                 zset   sla-timer (member        none
 *                               "<w|b>|<conv>|<target>",
 *                               score = due ms)
 * stats                  hash   every stage, its own     none
 *                               fields, once per batch
 * dlq                    list   any stage (JSON entry:   capped at
 *                               stage, reason, bytes)    --dlq-max
 *
 * Keys of no tenant carry the tag {g} and are named here and nowhere else:
 * sb:{g}:dlq (list: messages that name no known tenant) and sb:{g}:stats.
 */
#ifndef SB_KEYS_H
#define SB_KEYS_H

#include <stddef.h>

#define SB_KEY_GLOBAL_STATS "sb:{g}:stats" /* its prefix also names sb:{g}:dlq */
#define SB_KEY_MAX 256

/* Writes "sb:{t:<tenant>}:<suffix>" into out; returns its length. */
size_t sb_key_tenant(char *out, size_t cap, const char *tenant, const char *suffix);

#endif
