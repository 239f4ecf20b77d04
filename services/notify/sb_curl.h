/*
 * sb_curl: HTTP requests with libcurl's multi interface driven by the
 * process's libuv loop (curl_multi_socket_action with one uv_poll per
 * socket curl hands us and one uv_timer for curl's timeout: the
 * documented "multi_uv" pattern). No thread, no blocking call: many
 * requests run at once and a slow endpoint delays no other.
 *
 * Callback contract (STYLE.md practice 5): sb_curl_post either returns an
 * error and never calls back, or calls back exactly once, later, from the
 * loop (or from inside sb_curl_destroy, with SB_ECLOSED). The callback may
 * start new requests. Response bodies are kept up to SB_CURL_RESPONSE_MAX
 * bytes (platform APIs answer in their bodies: ok:false, errcode, tokens)
 * and lent to the callback; the rest is read and dropped.
 */
#ifndef SB_CURL_H
#define SB_CURL_H

#include <stddef.h>
#include <stdint.h>
#include <uv.h>

typedef struct sb_curl sb_curl_t;

typedef struct {
  int err;          /* 0: a response came (status holds it); SB_ETIMEOUT;
                       SB_EIO (refused, reset, DNS, TLS...); SB_ECLOSED */
  long status;      /* HTTP status, 0 without a response */
  const char *what; /* short text of a transport error ("" otherwise) */
  int64_t elapsed_us;
  const char *body; /* the response body, NUL-terminated, truncated at
                       SB_CURL_RESPONSE_MAX; "" without one; valid only
                       during the callback */
  size_t body_len;
  void *handle; /* sb_curl's own: for sb_curl_result_header */
} sb_curl_result_t;

/* The value of response header name (case-insensitive; the last one when
 * repeated), valid only during the callback; NULL when absent or without
 * a response. */
const char *sb_curl_result_header(const sb_curl_result_t *r, const char *name);

#define SB_CURL_RESPONSE_MAX 16384

typedef void (*sb_curl_done_fn)(const sb_curl_result_t *r, void *arg);

/* NULL on error (curl could not be initialised). */
sb_curl_t *sb_curl_new(uv_loop_t *loop);
/* Fails every pending request (SB_ECLOSED, synchronously) and releases
 * curl; the memory goes in the last uv_close callback (run the loop once
 * more). Clears *c. NULL-safe. */
void sb_curl_destroy(sb_curl_t **c);

/* POSTs body (copied) to url with the given header lines ("Name: value",
 * NULL-terminated list, copied) and a total timeout. Returns 0 (cb will be
 * called once) or SB_ENOMEM / SB_EINVAL / SB_ECLOSED. */
int sb_curl_post(sb_curl_t *c, const char *url, const char *const *headers, const char *body,
                 size_t len, int64_t timeout_ms, sb_curl_done_fn cb, void *arg);

/* The same as a GET (no body). */
int sb_curl_get(sb_curl_t *c, const char *url, const char *const *headers, int64_t timeout_ms,
                sb_curl_done_fn cb, void *arg);

/* Requests started and not yet called back. */
size_t sb_curl_pending(const sb_curl_t *c);

#endif
