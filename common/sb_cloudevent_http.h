/*
 * sb_cloudevent_http: the CloudEvents HTTP protocol binding 1.0, binary
 * content mode, as it arrives at `POST /v1/events`: the attributes travel as
 * `ce-<name>` headers and the body is the event's data.
 *
 * The idea: this module only maps HTTP onto attributes (header names,
 * quoted-string unescaping, percent-decoding, Content-Type); every rule about
 * what a valid event is stays in sb_cloudevent (sb_cloudevent_from_attributes),
 * so an event is valid in binary mode exactly when it is valid in structured
 * mode. Pure: no I/O, so it is unit-tested and fuzzed alone.
 *
 * Mapping (binding sections 3.1.1-3.1.3):
 *   - every header `ce-<name>` (name case-insensitive, [a-z0-9]{1,64} after
 *     lowercasing) is the attribute <name>: ce-id, ce-source, ce-type,
 *     ce-specversion, ce-time, ce-subject, and the extensions ce-tenant and
 *     ce-traceparent; other extensions are checked and then ignored;
 *   - `traceparent` (W3C Trace Context) stands in for ce-traceparent when
 *     that is absent; an invalid one is ignored, as Trace Context asks of a
 *     receiver, while an invalid ce-traceparent is an error;
 *   - `Content-Type` is datacontenttype; a ce-datacontenttype header is an
 *     error (the binding forbids it), and so is ce-data;
 *   - values: optional whitespace trimmed, then double-quoted strings
 *     unescaped (RFC 7230 3.2.6), then one round of percent-decoding
 *     (upper- or lowercase hex; needless encoding accepted); the result must
 *     be UTF-8 with no NUL ("%C0%A0", an overlong space, is refused);
 *   - the body is the data; it must be application/json (parameters allowed;
 *     a charset must be utf-8). No body means no data.
 *
 * Refusals, each with a one-line reason safe to send back (it names headers
 * and attributes, never values): a repeated ce- header, a bad encoding, a
 * value over limits->max_string bytes after decoding, a ce- header that names
 * no attribute, and every refusal of sb_cloudevent_from_attributes (missing
 * required attribute, wrong specversion, bad time ...) -> HTTP 400; data of
 * another media type, or data without a Content-Type -> HTTP 415.
 */
#ifndef SB_CLOUDEVENT_HTTP_H
#define SB_CLOUDEVENT_HTTP_H

#include "sb_cloudevent.h"
#include "sb_http.h"

#include <stddef.h>

#define SB_CLOUDEVENT_HTTP_PREFIX "ce-"
#define SB_CLOUDEVENT_HTTP_NAME_MAX 64 /* bytes of an attribute name */

/*
 * 1 if a request with these headers is a binary-mode event, else 0.
 * Structured when Content-Type is a CloudEvents format
 * (application/cloudevents+json, application/cloudevents-batch+json),
 * whatever ce- headers say, as the binding says; binary when any ce-
 * header is present; otherwise structured (switchboard also takes a
 * structured event sent as application/json or with no Content-Type).
 */
int sb_cloudevent_http_is_binary(const sb_http_header_t *headers, size_t n);

/*
 * Maps a binary-mode request (headers[0..n), body[0..body_len)) to one event.
 * limits NULL means the defaults. On success returns 0 and *events is an
 * array of one event (free with sb_cloudevent_free(events, 1)); *status is
 * 0. On failure returns SB_EINVAL, SB_EPARSE, SB_ETOOBIG or SB_ENOMEM,
 * *events = NULL, *status is the HTTP status to answer (400, 415, or 500 for
 * SB_ENOMEM), and err (errlen bytes, NUL-terminated when errlen > 0; may be
 * NULL) holds the reason.
 */
int sb_cloudevent_http_binary(const sb_http_header_t *headers, size_t n,
                              const char *body, size_t body_len,
                              const sb_cloudevent_limits_t *limits,
                              sb_cloudevent_t **events, int *status, char *err,
                              size_t errlen);

/*
 * Decodes one header value as the binding says: trims SP/HT, unescapes
 * double-quoted strings, percent-decodes once. out receives the value,
 * NUL-terminated (outlen must be at least strlen(value) + 1: decoding never
 * grows a value). Returns the decoded length, or SB_EPARSE (an unterminated
 * quoted string, a '%' not followed by two hex digits, a NUL byte) or
 * SB_EINVAL (the decoded bytes are not UTF-8), with *why set to a short
 * reason (a static string).
 */
long sb_cloudevent_http_decode(const char *value, char *out, size_t outlen,
                               const char **why);

#endif
