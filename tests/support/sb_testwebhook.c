/* sb_testwebhook: see sb_testwebhook.h. */
#include "sb_testwebhook.h"
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
