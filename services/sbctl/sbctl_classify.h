/*
 * sbctl_classify: `sbctl classify [--tenant-config FILE] [--lexicons DIR]
 * INPUT.jsonl` runs the classify analysers offline, the same code as the
 * service, so tenant administrators can test their rules before loading
 * them. `sbctl classify --eval FILE` scores a labelled set instead
 * (sbctl_eval.h) and prints accuracy, precision and recall per label.
 *
 * Input: JSON Lines ("-" reads stdin), one object a line:
 *   {"id", "text", "channel"?, "public"?, "customer"?, "followers"?,
 *    "repeat"?, "tenant"?, "time_ms"?, "gold"?}
 * "text" is required (read up to a "\u0000", which C strings cannot hold;
 * invalid UTF-8 is classified as is and replaced by U+FFFD in the output);
 * "public" defaults to false; "repeat" says the customer
 * wrote within 24 h; with "time_ms" (epoch milliseconds) every message also
 * feeds a spike detector keyed by tenant (default "default") and by "*",
 * each matched intent and each competitor (--spike-bucket-ms,
 * --spike-min-count; see sb_spike.h).
 *
 * Output: one JSON line per input line on stdout:
 *   {"id", "language": {"code", "confidence", "reliable"},
 *    "pii": [{"type", "start", "end"}],      code-point offsets into text
 *    "pii_truncated"?, "redacted", "truncated",
 *    "privacy": "move_private" | "ok",
 *    "sentiment": {"label", "score"},
 *    "intents": [{"name", "score"}],
 *    "priority": 0..100, "priority_parts": {"sentiment": ..., ...},
 *    "flags": {"competitor": [names], "legal": bool, "vip": bool},
 *    "suggestion": {"id", "score"} | null,
 *    "incidents"?: [{"tenant", "key", "kinds", "count", "negative", "mean",
 *                    "sd", "share_mean", "bucket_start_ms"}]}
 * A bad line (not JSON, no text) prints {"line", "error": {"code",
 * "message"}} on stderr and the run goes on. Exit status: 0; 1 if any line
 * was bad; 2 if the rules, lexicons or input cannot be read.
 */
#ifndef SBCTL_CLASSIFY_H
#define SBCTL_CLASSIFY_H

#include "sb_config.h"

extern const sb_option_t sbctl_classify_options[];

int sbctl_classify(const sb_config_t *c);

#endif
