/*
 * sb_port: loopback TCP ports for private stacks (sbctl up/bench, the test
 * harness, the private redis-server), picked outside the kernel's
 * ephemeral range (/proc/sys/net/ipv4/ip_local_port_range).
 *
 * A port found free with bind(port 0) comes from that range, and so does
 * the local port of every outgoing connection: between the check and the
 * service's own bind, a connection of the stack itself (to Redis, between
 * stages) can take it, and the service fails at start. Ports below the
 * range (or above it when there is no room below) are never handed out
 * that way, so only another program that binds them on purpose can race.
 */
#ifndef SB_PORT_H
#define SB_PORT_H

#define SB_PORT_SAFE_LOW 10000 /* ports below this are left to everyone else */
#define SB_PORT_ROOM_MIN 4096  /* the least room a safe range must have */

/* The range [*lo, *hi] ports are picked from: [SB_PORT_SAFE_LOW, ephemeral
 * start - 1], else [ephemeral end + 1, 65535], whichever has
 * SB_PORT_ROOM_MIN ports; else the whole of [1024, 65535]. An unreadable
 * range file counts as Linux's default (32768-60999). Read once per
 * process. */
void sb_port_range(int *lo, int *hi);

/* 1 when port can be bound on 127.0.0.1 now, else 0. */
int sb_port_free(int port);

/* A port of sb_port_range that was free a moment ago, or 0. Successive
 * calls in one process never return the same port twice in a row (they
 * walk the range from a random start). */
int sb_port_pick(void);

#endif
