/*
 * sb_utf8: strict UTF-8 checks shared by every parser of text from outside
 * (CloudEvents, platform webhooks): well-formed sequences only (no
 * overlongs, no surrogates, nothing above U+10FFFF), and control
 * characters that never belong in an identifier.
 */
#ifndef SB_UTF8_H
#define SB_UTF8_H

#include <stdbool.h>
#include <stddef.h>

/* Length of the well-formed UTF-8 sequence at p (rem >= 1 bytes left), or
 * 0 if it is not one. */
size_t sb_utf8_seq(const unsigned char *p, size_t rem);
/* true if s[0..len) is well-formed UTF-8. */
bool sb_utf8_valid(const char *s, size_t len);
/* true if the NUL-terminated s holds a C0 control, DEL or a C1 control
 * (U+0080..U+009F, UTF-8 C2 80..C2 9F). */
bool sb_utf8_has_control(const char *s);

#endif
