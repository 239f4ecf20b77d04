/* sb_testwebhook: see sb_testwebhook.h. */
#include "sb_testwebhook.h"
#include "sb_form.h"
#include "sb_testcrypto.h"
#include "sb_testfixture.h"
#include "sb_testutil.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

sb_test_wh_result_t sb_test_wh_parse(sb_test_wh_parse_fn fn, const char *body, size_t len) {
  sb_test_wh_result_t r;
  memset(&r, 0, sizeof r);
  char *copy = malloc(len ? len : 1);
  assert_non_null(copy);
  memcpy(copy, body, len);
  r.rc = fn(copy, len, &r.b, r.err, sizeof r.err);
  free(copy);
  if (r.rc != 0) {
    assert_null(r.b.items);
    assert_int_equal(r.b.n, 0);
    assert_true(strlen(r.err) > 0);
  }
  return r;
}

sb_test_wh_result_t sb_test_wh_fixture(sb_test_wh_parse_fn fn, const char *name) {
  char path[SB_TEST_WH_ERR_LEN];
  size_t len = 0;
  snprintf(path, sizeof path, SB_TEST_WH_FIXTURES "%s", name);
  char *body = sb_test_fixture(path, &len);
  sb_test_wh_result_t r = sb_test_wh_parse(fn, body, len);
  free(body);
  return r;
}

char *sb_test_twilio_signature(const char *url, const char *token, const char *body, size_t len) {
  sb_form_t f = {0};
  char err[SB_TEST_WH_ERR_LEN], args[256];
  assert_int_equal(sb_form_urlencoded_parse(body, len, NULL, &f, err, sizeof err), 0);
  for (size_t i = 1; i < f.n; i++) /* insertion sort by name, then value */
    for (size_t j = i; j > 0; j--) {
      int c = strcmp(f.fields[j - 1].name, f.fields[j].name);
      if (c < 0 || (c == 0 && strcmp(f.fields[j - 1].value, f.fields[j].value) <= 0))
        break;
      sb_form_field_t t = f.fields[j];
      f.fields[j] = f.fields[j - 1];
      f.fields[j - 1] = t;
    }
  size_t cap = strlen(url) + len * 3 + 1, n = strlen(url);
  char *data = malloc(cap);
  assert_non_null(data);
  memcpy(data, url, n + 1);
  for (size_t i = 0; i < f.n; i++)
    n += (size_t)snprintf(data + n, cap - n, "%s%s", f.fields[i].name, f.fields[i].value);
  sb_form_free(&f);
  snprintf(args, sizeof args, "dgst -sha1 -binary -hmac %s | openssl base64 -A", token);
  char *sig = sb_test_openssl(args, data, n, NULL);
  free(data);
  return sig;
}

char *sb_test_oauth_param(const char *auth, const char *name) {
  char key[64];
  snprintf(key, sizeof key, "%s=\"", name);
  const char *p = strstr(auth, key);
  assert_non_null(p);
  p += strlen(key);
  return strndup(p, strcspn(p, "\""));
}

/* RFC 3986 percent-encoding (unreserved kept), written here rather than
 * taken from the code under test; malloc'd. */
static char *pct(const char *s) {
  char *out = malloc(3 * strlen(s) + 1), *o = out;
  assert_non_null(out);
  for (; *s; s++) {
    unsigned char c = (unsigned char)*s;
    if (isalnum(c) || strchr("-._~", c))
      *o++ = (char)c;
    else
      o += sprintf(o, "%%%02X", c);
  }
  *o = '\0';
  return out;
}

char *sb_test_oauth1_signature(const char *auth, const char *url, const char *consumer_secret,
                               const char *token_secret) {
  /* the six oauth_* parameters, already in sorted order */
  static const char *const names[] = {"oauth_consumer_key", "oauth_nonce", "oauth_signature_method",
                                      "oauth_timestamp", "oauth_token", "oauth_version"};
  char pairs[2048] = "", base[8192], args[1024];
  size_t n = 0;
  for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
    char *v = sb_test_oauth_param(auth, names[i]), *ev = pct(v);
    n += (size_t)snprintf(pairs + n, sizeof pairs - n, "%s%s=%s", i ? "&" : "", names[i], ev);
    free(v);
    free(ev);
  }
  char *eu = pct(url), *ep = pct(pairs), *ec = pct(consumer_secret), *et = pct(token_secret);
  int len = snprintf(base, sizeof base, "POST&%s&%s", eu, ep);
  assert_true(len > 0 && (size_t)len < sizeof base);
  snprintf(args, sizeof args, "dgst -sha1 -hmac '%s&%s' -binary | openssl base64 -A", ec, et);
  char *sig = sb_test_openssl(args, base, (size_t)len, NULL), *out = pct(sig);
  free(eu);
  free(ep);
  free(ec);
  free(et);
  free(sig);
  return out;
}
