/*
 * sb_testfixture: reading fixture files of the source tree in tests.
 *
 * A fixture is data a test depends on, so a missing or unreadable one fails
 * the running cmocka test instead of returning something a test could
 * mistake for input.
 */
#ifndef SB_TESTFIXTURE_H
#define SB_TESTFIXTURE_H

#include <stddef.h>

/* The bytes of <source dir>/<rel>, malloc'd with a NUL after them (not
 * counted in *len; len may be NULL). Fails the current test when the file
 * cannot be read. The caller frees. */
char *sb_test_fixture(const char *rel, size_t *len);

#endif
