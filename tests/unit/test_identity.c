/* sb_identity: the body of POST /v1/identities, normalised like webhooks. */
#include "sb_testutil.h"

#include "sb_envelope.h"
#include "sb_error.h"
#include "sb_identity.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int parse(const char *body, sb_identity_link_t *l, char *err) {
  return sb_identity_parse(body, strlen(body), l, err, 160);
}

static void a_link_is_parsed_and_normalised_like_webhooks(void **state) {
  (void)state;
  sb_identity_link_t l;
  char err[160];
  assert_int_equal(parse("{\"tenant\":\"air\",\"customer\":\"c-1\",\"identities\":["
                         "{\"channel\":\"wechat\",\"id\":\"oABC\"},"
                         "{\"channel\":\"email\",\"id\":\"Ana@Example.COM\"},"
                         "{\"channel\":\"whatsapp\",\"id\":\"+1 (650) 555-1234\"},"
                         "{\"channel\":\"sms\",\"id\":\"447700900123\"}]}",
                         &l, err),
                   0);
  assert_string_equal(l.tenant, "air");
  assert_string_equal(l.customer, "c-1");
  assert_int_equal(l.n, 4);
  assert_string_equal(l.ids[0].channel, "wechat");
  assert_string_equal(l.ids[0].id, "oABC");
  assert_string_equal(l.ids[1].id, "ana@example.com");
  assert_string_equal(l.ids[2].id, "+16505551234");
  assert_string_equal(l.ids[3].id, "+447700900123");
}

/* Each body is refused with its error code and a reason naming a field. */
static void malformed_bodies_are_refused_with_a_reason(void **state) {
  (void)state;
  static const struct {
    const char *body;
    int rc;
    const char *reason;
  } cases[] = {
      {"", SB_EPARSE, "invalid JSON"},
      {"{\"tenant\":", SB_EPARSE, "invalid JSON"},
      {"{} trailing", SB_EPARSE, "invalid JSON"},
      {"[1]", SB_EINVAL, "object"},
      {"{\"customer\":\"c\",\"identities\":[{\"channel\":\"sms\",\"id\":\"+123\"}]}", SB_EINVAL, "tenant"},
      {"{\"tenant\":\"a b\",\"customer\":\"c\",\"identities\":[]}", SB_EINVAL, "tenant"},
      {"{\"tenant\":\"a\",\"customer\":\"\",\"identities\":[]}", SB_EINVAL, "customer"},
      {"{\"tenant\":\"a\",\"customer\":\"c\\u0001\",\"identities\":[]}", SB_EINVAL, "customer"},
      {"{\"tenant\":\"a\",\"customer\":\"c\",\"identities\":[]}", SB_EINVAL, "identities"},
      {"{\"tenant\":\"a\",\"customer\":\"c\",\"identities\":{}}", SB_EINVAL, "identities"},
      {"{\"tenant\":\"a\",\"customer\":\"c\",\"identities\":[1]}", SB_EINVAL, "identities[0]"},
      {"{\"tenant\":\"a\",\"customer\":\"c\",\"identities\":[{\"channel\":\"fax\",\"id\":\"1\"}]}",
       SB_EINVAL, "unknown channel"},
      {"{\"tenant\":\"a\",\"customer\":\"c\",\"identities\":[{\"channel\":\"email\",\"id\":\"nobody\"}]}",
       SB_EINVAL, "identities[0]"},
      {"{\"tenant\":\"a\",\"customer\":\"c\",\"identities\":[{\"channel\":\"email\",\"id\":\"a@b@c\"}]}",
       SB_EINVAL, "identities[0]"},
      {"{\"tenant\":\"a\",\"customer\":\"c\",\"identities\":[{\"channel\":\"sms\",\"id\":\"+0123\"}]}",
       SB_EINVAL, "identities[0]"},
      {"{\"tenant\":\"a\",\"customer\":\"c\",\"identities\":[{\"channel\":\"sms\",\"id\":\"1234567890123456\"}]}",
       SB_EINVAL, "identities[0]"},
      {"{\"tenant\":\"a\",\"customer\":\"c\",\"identities\":[{\"channel\":\"sms\",\"id\":\"call me\"}]}",
       SB_EINVAL, "identities[0]"},
      {"{\"tenant\":\"a\",\"customer\":\"c\",\"identities\":[{\"channel\":\"wechat\",\"id\":\"o\\u0000B\"}]}",
       SB_EINVAL, "NUL"},
      {"{\"tenant\":\"a\",\"customer\":\"c\",\"identities\":[{\"channel\":\"wechat\",\"id\":[[1]]}]}",
       SB_ETOOBIG, "nested"},
      {"{\"tenant\":\"a\",\"customer\":\"c\",\"identities\":[{\"channel\":\"wechat\",\"id\":\"\\n\"}]}",
       SB_EINVAL, "identities[0]"},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    sb_identity_link_t l;
    char err[160] = "";
    int rc = parse(cases[i].body, &l, err);
    if (rc != cases[i].rc || !strstr(err, cases[i].reason))
      fail_msg("case %zu: rc %d reason \"%s\"", i, rc, err);
    assert_int_equal(l.n, 0);
  }
}

static void hostile_bytes_and_sizes_are_refused(void **state) {
  (void)state;
  sb_identity_link_t l;
  char err[160];
  /* invalid UTF-8 and an embedded NUL */
  assert_int_equal(sb_identity_parse("{\"tenant\":\"\xff\"}", 14, &l, err, sizeof err), SB_EPARSE);
  assert_int_equal(sb_identity_parse("{\"a\":1}\0{}", 10, &l, err, sizeof err), SB_EPARSE);
  /* deep nesting never reaches cJSON */
  char deep[4096];
  memset(deep, '[', sizeof deep);
  assert_int_equal(sb_identity_parse(deep, sizeof deep, &l, err, sizeof err), SB_ETOOBIG);
  assert_non_null(strstr(err, "nested"));
  /* an oversized body, too many identities, an oversized id */
  char *big = malloc(SB_IDENTITY_BODY_MAX + 2);
  memset(big, ' ', SB_IDENTITY_BODY_MAX + 1);
  assert_int_equal(sb_identity_parse(big, SB_IDENTITY_BODY_MAX + 1, &l, err, sizeof err), SB_ETOOBIG);
  size_t n = (size_t)snprintf(big, SB_IDENTITY_BODY_MAX, "{\"tenant\":\"a\",\"customer\":\"c\",\"identities\":[");
  for (int i = 0; i <= SB_IDENTITY_MAX; i++)
    n += (size_t)snprintf(big + n, SB_IDENTITY_BODY_MAX - n, "%s{\"channel\":\"x\",\"id\":\"u%d\"}",
                          i ? "," : "", i);
  n += (size_t)snprintf(big + n, SB_IDENTITY_BODY_MAX - n, "]}");
  assert_int_equal(sb_identity_parse(big, n, &l, err, sizeof err), SB_ETOOBIG);
  assert_non_null(strstr(err, "identities"));
  n = (size_t)snprintf(big, SB_IDENTITY_BODY_MAX,
                       "{\"tenant\":\"a\",\"customer\":\"c\",\"identities\":[{\"channel\":\"x\",\"id\":\"");
  memset(big + n, 'u', SB_IDENTITY_ID_MAX + 1);
  n += SB_IDENTITY_ID_MAX + 1;
  n += (size_t)snprintf(big + n, 8, "\"}]}");
  assert_int_equal(sb_identity_parse(big, n, &l, err, sizeof err), SB_ETOOBIG);
  free(big);
}

static void normalise_matches_what_the_webhooks_write(void **state) {
  (void)state;
  char out[SB_IDENTITY_ID_MAX + 1];
  assert_int_equal(sb_identity_normalise("email", "Jordan.Brinks@Example.COM", out, sizeof out), 0);
  assert_string_equal(out, "jordan.brinks@example.com");
  assert_int_equal(sb_identity_normalise("whatsapp", "16505551234", out, sizeof out), 0);
  assert_string_equal(out, "+16505551234");
  assert_int_equal(sb_identity_normalise("telegram", "123456", out, sizeof out), 0);
  assert_string_equal(out, "123456");
  assert_int_equal(sb_identity_normalise("nope", "1", out, sizeof out), SB_EINVAL);
  assert_int_equal(sb_identity_normalise("email", "a@b", out, 8), SB_EINVAL); /* cap too small */
}

/* The id every unlinked customer gets (ingest, C) must be the one
 * identity.lua and ingest.lua derive in Lua (redis.sha1hex): a vector
 * computed apart, `printf 'acme-air\nwhatsapp:+15551234567' | sha1sum`
 * = 99725ae3a527bc87d6bc9ab6663a421bc0ae86d9. */
static void the_derived_customer_id_is_sha1_of_tenant_and_identity(void **state) {
  (void)state;
  char cid[SB_CUSTOMER_ID_LEN + 1];
  assert_int_equal(sb_customer_id_derived("acme-air", "whatsapp:+15551234567", cid), 0);
  assert_string_equal(cid, "cus_99725ae3a527bc87");
  char other[SB_CUSTOMER_ID_LEN + 1];
  assert_int_equal(sb_customer_id_derived("acme-air", "whatsapp:+15551234568", other), 0);
  assert_string_not_equal(other, cid);
  assert_int_equal(sb_customer_id_derived("shopco", "whatsapp:+15551234567", other), 0);
  assert_string_not_equal(other, cid); /* one identity, two tenants: two customers */
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(a_link_is_parsed_and_normalised_like_webhooks),
      cmocka_unit_test(malformed_bodies_are_refused_with_a_reason),
      cmocka_unit_test(hostile_bytes_and_sizes_are_refused),
      cmocka_unit_test(normalise_matches_what_the_webhooks_write),
      cmocka_unit_test(the_derived_customer_id_is_sha1_of_tenant_and_identity),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
