/*
 * sb_testutil: small helpers shared by tests: where the source and build
 * trees are, and a free TCP port on loopback.
 */
#ifndef SB_TESTUTIL_H
#define SB_TESTUTIL_H

#include <stddef.h>
#include <stdarg.h>
#include <setjmp.h>
#include <cmocka.h>

/* Absolute path of the source tree and the build tree (set by CMake). */
const char *sb_test_source_dir(void);
const char *sb_test_binary_dir(void);

/* A TCP port on 127.0.0.1 that was free a moment ago; 0 on failure. */
int sb_test_free_port(void);

#endif
