/*
 * sb_http: an HTTP/1.1 server on a libuv loop, built on http-parser 2.9.
 *
 * The server reads, parses incrementally and hands each complete request to
 * one handler. The handler answers exactly once through the response object,
 * at once or later from any loop callback (the bus answers after Redis
 * commits). Requests on one connection are answered in order: request N+1 is
 * not dispatched before N is answered, and unread pipelined bytes are capped.
 *
 * The server answers on its own, with a JSON error body and then closing the
 * connection: 400 bad_request (malformed), 413 body_too_large (Content-Length
 * over the limit, or a chunked body growing past it), 431 headers_too_large
 * (request line plus headers over max_header_bytes, or more than max_headers
 * headers), 408 request_timeout (headers or body not complete within their
 * deadline: each is a total deadline from the first byte, so a client
 * trickling bytes cannot extend it). Over max_connections a new connection is
 * accepted and closed at once. "Expect: 100-continue" is answered with
 * "100 Continue" once the headers pass the limits (a too-large body gets the
 * 413 instead). Trailers of a chunked body are dropped. HTTP/1.0 requests,
 * "Connection: close" and Upgrade requests get their answer and then the
 * connection closes; a peer's EOF closes the connection (half-closed
 * clients are not supported). After a final answer the write side is shut
 * down and input is drained for a short while before closing, so the client
 * reads the answer rather than a reset. http_parser also caps a request head
 * at 80 KiB (its build-time limit), whatever max_header_bytes says.
 *
 * Request parsing is a pure object (sb_http_parser_t, no I/O) that the
 * server uses for every connection, so it can be tested and fuzzed alone.
 */
#ifndef SB_HTTP_H
#define SB_HTTP_H

#include <stddef.h>
#include <stdint.h>
#include <uv.h>

/* Defaults of sb_http_limits_default(). */
#define SB_HTTP_DEFAULT_MAX_BODY (1024u * 1024u)
#define SB_HTTP_DEFAULT_MAX_HEADER_BYTES (16u * 1024u)
#define SB_HTTP_DEFAULT_MAX_HEADERS 64u
#define SB_HTTP_DEFAULT_HEADER_TIMEOUT_MS 10000u
#define SB_HTTP_DEFAULT_BODY_TIMEOUT_MS 10000u
#define SB_HTTP_DEFAULT_IDLE_TIMEOUT_MS 60000u
#define SB_HTTP_DEFAULT_MAX_CONNECTIONS 1024u

typedef struct {
  const char *name;
  const char *value;
} sb_http_header_t;

/* One request. Strings are NUL-terminated; all of it stays valid until the
 * request's response is given (sb_http_respond*), even if the client left. */
typedef struct {
  const char *method; /* "GET", "POST", ... */
  const char *path;   /* raw (not percent-decoded) path without the query */
  const char *query;  /* raw query string without '?', or NULL */
  const char *url;    /* raw request-target as received */
  const sb_http_header_t *headers;
  size_t nheaders; /* names as received */
  const char *body; /* raw bytes, NUL-terminated (not counted in body_len) */
  size_t body_len;
} sb_http_request_t;

typedef struct sb_http_response sb_http_response_t; /* one pending answer */
typedef struct sb_http_server sb_http_server_t;
typedef struct sb_http_parser sb_http_parser_t;

/* Called once per request; the handler must end up calling sb_http_respond
 * or sb_http_respond_error exactly once for res, now or later. */
typedef void (*sb_http_handler_fn)(const sb_http_request_t *req, sb_http_response_t *res,
                                   void *arg);

/* 0 in a timeout field means no timeout. */
typedef struct {
  size_t max_body;         /* bytes of body after de-chunking */
  size_t max_header_bytes; /* request line + header names and values */
  size_t max_headers;
  uint64_t header_timeout_ms; /* from a request's first byte (or accept) */
  uint64_t body_timeout_ms;   /* from the end of the headers */
  uint64_t idle_timeout_ms;   /* between keep-alive requests */
  size_t max_connections;
} sb_http_limits_t;

/* Counters since the server started; connections is the number open now. */
typedef struct {
  uint64_t requests; /* dispatched to the handler */
  uint64_t bad_request, too_large, header_too_large, timeouts, connections_refused;
  uint64_t connections;
} sb_http_stats_t;

/* Fills l with the SB_HTTP_DEFAULT_* values. */
void sb_http_limits_default(sb_http_limits_t *l);

/* ---- server ------------------------------------------------------------ */

/* A server on loop (borrowed; must outlive the server's last close). limits
 * are copied; NULL means defaults. Returns NULL on OOM. */
sb_http_server_t *sb_http_server_new(uv_loop_t *loop, const sb_http_limits_t *limits,
                                     sb_http_handler_fn fn, void *arg);
/* Binds host (IPv4 or IPv6 literal) and port (0 = ephemeral) and listens.
 * Returns 0, SB_EINVAL (bad address), SB_ESTATE (already listening) or
 * SB_EIO (bind/listen failed, e.g. port in use). */
int sb_http_server_listen(sb_http_server_t *s, const char *host, int port);
/* The bound port, or 0 if not listening. */
int sb_http_server_port(const sb_http_server_t *s);
void sb_http_server_stats(const sb_http_server_t *s, sb_http_stats_t *out);
/* Stops listening and closes every connection; clears *s. Memory is freed
 * from the last close callback, so the loop must run afterwards. Responses
 * still pending become no-ops, but must still be given (to free them). Safe
 * to call from inside the handler. */
void sb_http_server_destroy(sb_http_server_t **s);

/* Value of the first header named name (case-insensitive), or NULL. */
const char *sb_http_request_header(const sb_http_request_t *r, const char *name);

/*
 * Answers the request of res and frees res (and the request). content_type
 * may be NULL (no Content-Type). extra_headers: NULL or complete
 * CRLF-terminated header lines, e.g. "Retry-After: 1\r\n" (not checked).
 * No body is sent for HEAD requests and for 1xx/204/304 statuses. If the
 * client went away or the server was destroyed, only frees.
 */
void sb_http_respond(sb_http_response_t *res, int status, const char *content_type,
                     const char *body, size_t len, const char *extra_headers);
/* Answers with application/json {"error":{"code":code,"message":message}},
 * both JSON-escaped. Same contract as sb_http_respond. */
void sb_http_respond_error(sb_http_response_t *res, int status, const char *code,
                           const char *message, const char *extra_headers);

/* ---- request parser (pure: no I/O, used by the server and fuzzers) ------ */

/* sb_http_parser_feed() results besides negative errors. */
#define SB_HTTP_PARSE_MORE 0 /* all input consumed, request incomplete */
#define SB_HTTP_PARSE_DONE 1 /* a request is complete: take it */

/* A parser for a stream of requests under limits (copied; NULL = defaults).
 * Returns NULL on OOM. */
sb_http_parser_t *sb_http_parser_new(const sb_http_limits_t *limits);
void sb_http_parser_destroy(sb_http_parser_t **p);
/*
 * Parses buf, stopping right after the end of one request. *consumed is set
 * to the bytes used; the rest belongs to the next request. Returns
 * SB_HTTP_PARSE_MORE, SB_HTTP_PARSE_DONE (call sb_http_parser_take before
 * feeding again; feeding first returns SB_ESTATE), or an error: SB_EPARSE
 * (400), SB_ETOOBIG (413 or 431), SB_ENOMEM (500); sb_http_parser_error()
 * tells which. After an error the parser stays failed.
 */
int sb_http_parser_feed(sb_http_parser_t *p, const char *buf, size_t len, size_t *consumed);
/* After SB_HTTP_PARSE_DONE: hands over the request (the caller frees it with
 * sb_http_request_destroy) and readies the parser for the next one.
 * *keep_alive (if not NULL) is 1 if the connection may carry another request.
 * Returns NULL on OOM or if no request is complete. */
sb_http_request_t *sb_http_parser_take(sb_http_parser_t *p, int *keep_alive);
/* After an error: the HTTP status (400, 413, 431, 500) and the JSON error
 * code ("bad_request", ...) to answer with; 0 and NULL if no error. */
int sb_http_parser_error(const sb_http_parser_t *p, const char **code);
/* Frees a request from sb_http_parser_take and clears *r. */
void sb_http_request_destroy(sb_http_request_t **r);

#endif
