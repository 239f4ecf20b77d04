/* sb_testwebhook: see sb_testwebhook.h. */
#include "sb_testwebhook.h"
#include "sb_form.h"
#include "sb_testcrypto.h"
#include "sb_testfixture.h"
#include "sb_testutil.h"

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
