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
 *                               or "customer:<canonical>"
 *                               (linked) -> conversation
 *                               id
 * ident:<channel>:<id>   string ingest (identity.lua,    none (replaced
 *                               POST /v1/identities):   by a later link)
 *                               canonical customer of a
 *                               normalised identity
 * mid:email:<msgid>      string ingest (ingest.lua):     --event-ttl-s
 *                               conversation of an
 *                               e-mail Message-ID, for
 *                               In-Reply-To/References
 * dlv:<channel>:<msgid>  hash   ingest (delivery.lua,   --event-ttl-s
 *                               platform receipts):
 *                               {status, rank, time_ms}
 *                               of an outbound message
 * sent:<channel>:<msgid> string notify (hooks_done.lua): 7 days
 *                               "<purpose>|<conv>" of a
 *                               message it sent, named
 *                               by the platform's
 *                               receipts (delivery.lua
 *                               reads it)
 * conv:<conv>            hash   route                    --event-ttl-s
 * agent:<id>             hash   route {cap, free units,  none
 *                               status, spec, last_ms,
 *                               convs}
 * q:<q>:agents           zset   route (queue q's         none
 *                               available agents with
 *                               free units, score = the
 *                               strategy's rank key)
 * q:<q>:wait             zset   route (waiting conv,     none
 *                               score = priority, then
 *                               started ms)
 * q:<q>:rr               string route (round_robin turn) none
 * q:<q>:fair:<window>    hash   route (agent ->          2 windows
 *                               assignments this window)
 * last:<channel:cust>    string route ("agent|closed ms") 90 days
 * rc:<channel:cust>      string classify (classify.lua): repeat_window_s
 *                               "<contacts>|<last conv>" from the latest
 *                               conversation's start
 * gone                   zset   route (logged-out agent  none (members
 *                               holding conversations,   removed on
 *                               score = grace end ms)    login/expiry)
 * offers                 zset   route (offered conv,     none (members
 *                               score = offer deadline   removed on
 *                               ms; route_tick.lua)      accept/expiry)
 * timers                 zset   sla-timer (member        none
 *                               "<w|b>|<conv>|<target>",
 *                               score = due ms)
 * timers:open            hash   sla-timer (field         none (field
 *                               "<conv>|<target>" ->     removed by the
 *                               "<started ms>,<target    reply/close that
 *                               ms>,<calendar>" while    stops the target)
 *                               the target is open)
 * stats                  hash   every stage, its own     none
 *                               fields, once per batch
 * dlq                    list   any stage (JSON entry:   capped at
 *                               stage, reason, bytes)    --dlq-max
 * hooks:due:<hook>       zset   notify (member event     none (members
 *                               key, score = due ms, or  removed when
 *                               lease end while claimed) delivered/dead)
 * hooks:d:<hook>:<key>   hash   notify (body, attempts,  give_up_after_s
 *                               first_ms, claim token,   + 1 day; deleted
 *                               last_error)              when done
 * hooks:dlq              list   notify (webhook dead     capped at
 *                               letters, JSON: hook,     --dlq-max
 *                               key, reason, body);
 *                               sbctl dlq --webhooks
 * feed:seq               hash   notify (kind -> last     none
 *                               feed_seq given on topic
 *                               "<T>.<kind>")
 * feed:<kind>            stream notify (entry id         capped at
 *                               "<seq>-0", fields key,   --feed-history
 *                               env = bytes published)   entries
 * sl:open                hash   sla-timer (field conv -> none (field
 *                               "<breach due ms>|        removed by the
 *                               <started ms>|<channel>|  first reply or
 *                               <queue>" while its first the close)
 *                               response is pending)
 * sl:fr                  zset   sla-timer (first         trimmed to
 *                               responses: member "<ms>| --service-level-
 *                               <met 0/1>|<channel>|     window-s by the
 *                               <conv>|<queue>", score   service-level
 *                               = reply time ms)         read
 * sl:claim:<period>      string sla-timer (the replica   2 periods
 *                               that publishes period n)
 * sug:<conv>            set    classify (classify.lua:  --event-ttl-s
 *                               answers suggested on the after the latest
 *                               conversation); route     suggestion
 *                               reads it
 * sugfb                  hash   route (route.lua: "a:<   none (one field
 *                               answer>"/"r:<answer>" -> per answer and
 *                               accepts/rejects of a     verdict)
 *                               suggested answer);
 *                               classify reads it back
 *                               (sb_feedback.h)
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
