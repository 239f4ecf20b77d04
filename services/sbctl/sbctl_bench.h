/*
 * sbctl_bench: the foundation benchmark, on this machine, in one run.
 *
 * 1. Throughput: a fresh stack (private redis-server, AOF everysec),
 *    agents with room for every conversation, then --events messages
 *    published as fast as the publisher's window allows; events/s from the
 *    first send until every event is routed and no hand-off is open (end to
 *    end through all five stages). Redis commands per event from INFO
 *    commandstats (commands inside scripts included).
 * 2. Latency: --latency-events more at half the measured rate, open loop
 *    (each event stamped with its intended send time, so a stall counts
 *    against us); publish-to-assigned p50/p99 from the feed.
 * 3. Peak RSS of each service (VmHWM).
 * Prints one JSON object.
 */
#ifndef SBCTL_BENCH_H
#define SBCTL_BENCH_H

#include "sb_config.h"

extern const sb_option_t sbctl_bench_options[];

int sbctl_bench(const sb_config_t *c);

#endif
