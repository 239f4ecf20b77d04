/*
 * sb_testutil: small helpers shared by tests: where the source and build
 * trees are, a free TCP port on loopback, a service process spawned by this
 * one, atomic file replacement and reading a Prometheus counter.
 */
#ifndef SB_TESTUTIL_H
#define SB_TESTUTIL_H

#include <stddef.h>
#include <stdarg.h>
#include <sys/types.h>
#include <setjmp.h>
#include <cmocka.h>

/* Absolute path of the source tree and the build tree (set by CMake). */
const char *sb_test_source_dir(void);
const char *sb_test_binary_dir(void);

/* A TCP port on 127.0.0.1 that was free a moment ago, outside the kernel's
 * ephemeral ports (sb_port_pick); 0 on failure. */
int sb_test_free_port(void);

/* A socket listening on 127.0.0.1:port (SO_REUSEADDR), or -1: holds the
 * port until closed. */
int sb_test_listen(int port);

/* The kernel's ephemeral port range, read from
 * /proc/sys/net/ipv4/ip_local_port_range here (not through sb_port, which
 * the tests check); fails the test when unreadable. */
void sb_test_ephemeral_range(int *lo, int *hi);

/* One HTTP/1.1 request to 127.0.0.1:port with Connection: close; the
 * body of the answer (malloc'd, at most max - 1 bytes read in all), or NULL
 * when nothing listens. For the tests' own stub servers. */
char *sb_test_http_body(int port, const char *method, const char *path, const char *body,
                        size_t max);

/* The child of this process whose command name is comm (e.g. "sb-route"),
 * or -1; with env_name, its value in the child's environment is copied to
 * val (e.g. SB_TENANTS: the tenant file the stack wrote for it). */
pid_t sb_test_child_pid(const char *comm, const char *env_name, char *val, size_t cap);

/* Runs the default libuv loop for ms milliseconds (a timer stops it), then
 * once more without waiting so that handles closed meanwhile are freed. */
void sb_test_run_loop_for(int ms);

/* Replaces path with text through a rename, so that a reader never sees
 * half a file (fails the test on error). */
void sb_test_write_file(const char *path, const char *text);

/* The value of the sample "name{...label...}" in a /metrics body (the first
 * whose labels contain label), or 0 when absent. */
long long sb_test_metric(const char *body, const char *name, const char *label);

#endif
