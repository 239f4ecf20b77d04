/*
 * fuzz_http: feeds arbitrary bytes through sb_http_parser, the code path
 * every server connection uses, with small limits so that the limit checks
 * are reached too.
 *
 * Besides crashes and sanitizer reports it checks one property: parsing is
 * independent of how the stream is split into reads. The input is parsed
 * once whole and once in small pieces; both must yield the same requests
 * (digested field by field) and both must end failed or not failed, or we
 * abort. Which error a malformed request gets may differ (400 or 431):
 * http_parser hands over header bytes at the end of each read, so a size
 * limit can be crossed before a later invalid byte in small reads, after it
 * in one read. Either answer rejects the request.
 */
#include "sb_http.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define FUZZ_MAX_BODY 4096
#define FUZZ_MAX_HEADER_BYTES 2048
#define FUZZ_MAX_HEADERS 16
#define FUZZ_PIECE 3 /* bytes per read in the split pass */
#define FNV_OFFSET 1469598103934665603ull
#define FNV_PRIME 1099511628211ull

static uint64_t digest(uint64_t h, const char *s, size_t n) {
  for (size_t i = 0; i < n; i++)
    h = (h ^ (unsigned char)s[i]) * FNV_PRIME;
  return (h ^ 0xff) * FNV_PRIME; /* field separator */
}

static uint64_t digest_str(uint64_t h, const char *s) {
  return s ? digest(h, s, strlen(s)) : digest(h, "(null)", 6);
}

static uint64_t digest_request(uint64_t h, const sb_http_request_t *r, int keep_alive) {
  h = digest_str(h, r->method);
  h = digest_str(h, r->url);
  h = digest_str(h, r->path);
  h = digest_str(h, r->query);
  for (size_t i = 0; i < r->nheaders; i++) {
    h = digest_str(h, r->headers[i].name);
    h = digest_str(h, r->headers[i].value);
  }
  if (r->body[r->body_len] != '\0') /* the promised terminator */
    abort();
  h = digest(h, r->body, r->body_len);
  (void)sb_http_request_header(r, "content-type");
  return digest(h, keep_alive ? "k" : "c", 1);
}

/* Parses data in reads of at most piece bytes; returns a digest of every
 * request and of the final state. */
static uint64_t parse_all(const uint8_t *data, size_t size, size_t piece) {
  sb_http_limits_t l;
  sb_http_limits_default(&l);
  l.max_body = FUZZ_MAX_BODY;
  l.max_header_bytes = FUZZ_MAX_HEADER_BYTES;
  l.max_headers = FUZZ_MAX_HEADERS;
  sb_http_parser_t *p = sb_http_parser_new(&l);
  if (!p)
    abort();
  uint64_t h = FNV_OFFSET;
  size_t at = 0;
  int rc = SB_HTTP_PARSE_MORE;
  while (at < size && rc >= 0) {
    size_t used = 0, n = size - at < piece ? size - at : piece;
    rc = sb_http_parser_feed(p, (const char *)data + at, n, &used);
    if (used > n)
      abort();
    at += used;
    if (rc != SB_HTTP_PARSE_DONE)
      continue;
    int keep_alive = 0;
    sb_http_request_t *r = sb_http_parser_take(p, &keep_alive);
    if (!r)
      abort();
    h = digest_request(h, r, keep_alive);
    sb_http_request_destroy(&r);
    if (!keep_alive) /* the server closes here too */
      break;
  }
  int failed = sb_http_parser_error(p, NULL) != 0;
  if (failed != (rc < 0))
    abort();
  h = digest(h, failed ? "failed" : "ok", failed ? 6 : 2);
  sb_http_parser_destroy(&p);
  return h;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (parse_all(data, size, size ? size : 1) != parse_all(data, size, FUZZ_PIECE))
    abort();
  return 0;
}
