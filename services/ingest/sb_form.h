/*
 * sb_form: HTML form bodies as platforms post them to webhooks, pure (no I/O):
 * application/x-www-form-urlencoded (Twilio, query strings of verification
 * handshakes) and multipart/form-data (inbound e-mail parse services).
 *
 * The idea: both parsers turn untrusted bytes into one flat, ordered list of
 * (name, value) pairs that the caller owns, in one linear pass with every
 * size capped by a limit, and reject rather than guess at anything
 * malformed. Webhook interpreters (sb_webhook) and signature checks
 * (sb_signature, Twilio signs the decoded pairs) then read that list.
 *
 * Invariants of a parsed sb_form_t:
 *   - fields appear in body order; a repeated name is kept every time;
 *   - name is NUL-terminated and holds no NUL byte (a NUL in a name is an
 *     error); it may be "" (urlencoded "=v");
 *   - value is NUL-terminated and value_len is its exact length; a value may
 *     hold NUL bytes (urlencoded "%00", binary parts), so readers that want a
 *     C string check strlen(value) == value_len;
 *   - nothing is checked for UTF-8: forms carry bytes, interpreters decide;
 *   - on failure the form is left empty (fields NULL, n 0).
 *
 * Error contract: 0 on success, else
 *   SB_EPARSE  malformed body (invalid %-escape, truncated multipart, ...);
 *   SB_ETOOBIG a limit is exceeded (field count, name or value length, part
 *              header block);
 *   SB_EINVAL  the Content-Type is not multipart/form-data with a valid
 *              boundary, or an argument is NULL;
 *   SB_ENOMEM  allocation failed.
 * A one-line reason is written to err (errlen bytes, always NUL-terminated
 * when errlen > 0; err may be NULL). It names positions and limits, never
 * field values, which may carry personal data.
 */
#ifndef SB_FORM_H
#define SB_FORM_H

#include <stddef.h>

/* Defaults of sb_form_limits_default(). */
#define SB_FORM_MAX_FIELDS_DEFAULT 256
#define SB_FORM_MAX_NAME_DEFAULT 256
#define SB_FORM_MAX_VALUE_DEFAULT (1024u * 1024u)

/* Fixed multipart limits. */
#define SB_FORM_PART_HEADER_MAX (8u * 1024u) /* header block of one part */
#define SB_FORM_BOUNDARY_MAX 70              /* RFC 2046 section 5.1.1 */

typedef struct {
  char *name;       /* malloc'd, NUL-terminated, no NUL inside */
  char *value;      /* malloc'd, NUL-terminated; may hold NUL bytes */
  size_t value_len; /* bytes of value, without the terminator */
} sb_form_field_t;

/* A parsed form; the caller owns it (sb_form_free). Zero it before use. */
typedef struct {
  sb_form_field_t *fields;
  size_t n;
} sb_form_t;

typedef struct {
  size_t max_fields; /* pairs (urlencoded) or parts, skipped ones included */
  size_t max_name;   /* bytes of a decoded name */
  size_t max_value;  /* bytes of a decoded value */
} sb_form_limits_t;

/* Fills l with the SB_FORM_*_DEFAULT values. */
void sb_form_limits_default(sb_form_limits_t *l);

/*
 * Parses body[0..len) (need not be NUL-terminated) as
 * application/x-www-form-urlencoded, as the WHATWG URL standard describes
 * it: pairs split on '&' (empty pairs skipped), name and value split at the
 * first '=' (a pair without '=' has the value ""), '+' is a space, "%XX"
 * (either case) is the byte XX. A '%' not followed by two hex digits is an
 * error (SB_EPARSE), not passed through. Also parses a raw query string.
 * limits NULL means the defaults. *out is overwritten; on success it owns
 * n >= 0 fields.
 */
int sb_form_urlencoded_parse(const char *body, size_t len,
                             const sb_form_limits_t *limits, sb_form_t *out,
                             char *err, size_t errlen);

/*
 * Parses body[0..len) as multipart/form-data (RFC 7578, RFC 2046) with the
 * boundary of content_type (the whole Content-Type header value, e.g.
 * "multipart/form-data; boundary=\"xyz\""; media type and parameter names
 * case-insensitive, boundary 1..70 characters, quoted or not). Lines end in
 * CRLF. The preamble and epilogue are ignored; a body that ends before the
 * close delimiter ("--boundary--") is truncated: SB_EPARSE. Each part needs
 * a "Content-Disposition: form-data; name=..." header; a part with a
 * filename (or filename*) parameter is a file: it counts against max_fields
 * but is skipped, its bytes never copied. Other part headers are ignored;
 * folded (continued) header lines are not supported. Part contents are
 * copied as they are (no Content-Transfer-Encoding decoding).
 */
int sb_form_multipart_parse(const char *content_type, const char *body,
                            size_t len, const sb_form_limits_t *limits,
                            sb_form_t *out, char *err, size_t errlen);

/* The first field named name (exact, case-sensitive), or NULL. */
const sb_form_field_t *sb_form_find(const sb_form_t *f, const char *name);

/* The value of the first field named name, or NULL when absent. */
const char *sb_form_get(const sb_form_t *f, const char *name);

/* Frees every field and the array, and zeroes f. Safe on a zeroed form and
 * on NULL. */
void sb_form_free(sb_form_t *f);

#endif
