/*
 * sb_testwebhook: running a platform webhook parser (sb_webhook_*_parse)
 * the way its unit tests do: over an exact-size copy of the body, so that
 * ASan sees any read past its end, checking the failure contract (no
 * items, a reason) whatever the test asserts next.
 */
#ifndef SB_TESTWEBHOOK_H
#define SB_TESTWEBHOOK_H

#include "sb_webhook.h"

#include <stddef.h>

#define SB_TEST_WH_ERR_LEN 256
#define SB_TEST_WH_FIXTURES "tests/fixtures/webhooks/"

typedef int (*sb_test_wh_parse_fn)(const char *body, size_t len, sb_wh_batch_t *out, char *err,
                                   size_t errlen);

typedef struct {
  int rc;
  sb_wh_batch_t b; /* the caller frees it (sb_wh_batch_free) */
  char err[SB_TEST_WH_ERR_LEN];
} sb_test_wh_result_t;

/* fn over a copy of len bytes of body. */
sb_test_wh_result_t sb_test_wh_parse(sb_test_wh_parse_fn fn, const char *body, size_t len);
/* fn over the fixture tests/fixtures/webhooks/<name>. */
sb_test_wh_result_t sb_test_wh_fixture(sb_test_wh_parse_fn fn, const char *name);

/* Twilio's X-Twilio-Signature for a form body posted to url: the base64
 * HMAC-SHA1 (key: the auth token; computed by the openssl tool) of the URL
 * followed by each decoded field's name and value, sorted by name, then
 * value (Twilio's documented scheme). Returns it malloc'd. */
char *sb_test_twilio_signature(const char *url, const char *token, const char *body, size_t len);

/* The value of oauth parameter name in an "OAuth k=\"v\", ..."
 * Authorization value, malloc'd (fails the test when it is missing). */
char *sb_test_oauth_param(const char *auth, const char *name);
/* The oauth_signature (percent-encoded, as the header carries it) that
 * RFC 5849 gives a POST to url with a JSON body (not signed) and auth's own
 * oauth_* parameters: the base string is built here and its HMAC-SHA1,
 * keyed "<consumer secret>&<token secret>" (both percent-encoded), is
 * computed by the openssl tool. malloc'd. */
char *sb_test_oauth1_signature(const char *auth, const char *url, const char *consumer_secret,
                               const char *token_secret);

#endif
