/*
 * test_form: behaviours of sb_form (application/x-www-form-urlencoded and
 * multipart/form-data).
 *
 * Every failure must come with the right SB_E* code and an empty form; every
 * success must give the exact decoded bytes, in body order. Bodies are
 * copied into exact-size buffers so the sanitizer build catches any read
 * past the end.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sb_error.h"
#include "sb_form.h"
#include "sb_testfixture.h"
#include "sb_testutil.h"

enum { ERR_LEN = 256, BIG = 4096 };

#define MP_TYPE "multipart/form-data; boundary=xYzZY"

typedef struct {
  int rc;
  sb_form_t form;
  char err[ERR_LEN];
} result_t;

/* Runs a parser on an exact-size copy and checks the failure contract. */
static result_t check(result_t r) {
  if (r.rc != 0) {
    assert_null(r.form.fields);
    assert_int_equal(r.form.n, 0);
    assert_true(strlen(r.err) > 0);
  }
  return r;
}

static result_t url_len(const char *body, size_t len,
                        const sb_form_limits_t *limits) {
  result_t r;
  memset(&r, 0, sizeof r);
  char *copy = malloc(len ? len : 1);
  assert_non_null(copy);
  memcpy(copy, body, len);
  r.rc =
      sb_form_urlencoded_parse(copy, len, limits, &r.form, r.err, sizeof r.err);
  free(copy);
  return check(r);
}

static result_t url(const char *body) {
  return url_len(body, strlen(body), NULL);
}

static result_t mp_len(const char *ct, const char *body, size_t len,
                       const sb_form_limits_t *limits) {
  result_t r;
  memset(&r, 0, sizeof r);
  char *copy = malloc(len ? len : 1);
  assert_non_null(copy);
  memcpy(copy, body, len);
  r.rc = sb_form_multipart_parse(ct, copy, len, limits, &r.form, r.err,
                                 sizeof r.err);
  free(copy);
  return check(r);
}

static result_t mp(const char *ct, const char *body) {
  return mp_len(ct, body, strlen(body), NULL);
}

static void assert_field(const sb_form_t *f, size_t i, const char *name,
                         const char *value) {
  assert_true(i < f->n);
  assert_string_equal(f->fields[i].name, name);
  assert_int_equal(f->fields[i].value_len, strlen(value));
  assert_memory_equal(f->fields[i].value, value, strlen(value) + 1);
}

/* ------------------------------------------------------------ urlencoded */

static void test_url_pairs_decode_in_order(void **state) {
  result_t r = url("Body=Hello+world%21&From=%2B14155550100&To=%2b1&x=%C3%A9");
  assert_int_equal(r.rc, 0);
  assert_int_equal(r.form.n, 4);
  assert_field(&r.form, 0, "Body", "Hello world!");
  assert_field(&r.form, 1, "From", "+14155550100");
  assert_field(&r.form, 2, "To", "+1");
  assert_field(&r.form, 3, "x", "\xC3\xA9");
  sb_form_free(&r.form);
}

static void test_url_repeated_names_are_all_kept(void **state) {
  result_t r = url("a=1&b=2&a=3");
  assert_int_equal(r.rc, 0);
  assert_int_equal(r.form.n, 3);
  assert_field(&r.form, 0, "a", "1");
  assert_field(&r.form, 2, "a", "3");
  assert_string_equal(sb_form_get(&r.form, "a"), "1");
  assert_ptr_equal(sb_form_find(&r.form, "b"), &r.form.fields[1]);
  assert_null(sb_form_get(&r.form, "A"));
  sb_form_free(&r.form);
}

static void test_url_edge_pairs(void **state) {
  result_t r = url("&&flag&=v&k=a=b&e=&");
  assert_int_equal(r.rc, 0);
  assert_int_equal(r.form.n, 4);
  assert_field(&r.form, 0, "flag", "");
  assert_field(&r.form, 1, "", "v");
  assert_field(&r.form, 2, "k", "a=b");
  assert_field(&r.form, 3, "e", "");
  sb_form_free(&r.form);
}

static void test_url_empty_body_is_an_empty_form(void **state) {
  result_t r = url("");
  assert_int_equal(r.rc, 0);
  assert_int_equal(r.form.n, 0);
  sb_form_free(&r.form);
}

static void test_url_invalid_escapes_fail_with_offset(void **state) {
  static const struct {
    const char *body;
    const char *reason;
  } cases[] = {
      {"a=%", "field 0: invalid percent-escape at byte 2"},
      {"a=%4", "field 0: invalid percent-escape at byte 2"},
      {"ok=1&b=x%zz", "field 1: invalid percent-escape at byte 8"},
      {"%G1=1", "field 0: invalid percent-escape at byte 0"},
      {"a=%%41", "field 0: invalid percent-escape at byte 2"},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    result_t r = url(cases[i].body);
    assert_int_equal(r.rc, SB_EPARSE);
    assert_string_equal(r.err, cases[i].reason);
  }
}

static void test_url_nul_in_value_is_kept_in_name_rejected(void **state) {
  result_t r = url("v=a%00b");
  assert_int_equal(r.rc, 0);
  assert_int_equal(r.form.fields[0].value_len, 3);
  assert_memory_equal(r.form.fields[0].value, "a\0b", 4);
  sb_form_free(&r.form);
  r = url("n%00x=1");
  assert_int_equal(r.rc, SB_EPARSE);
  assert_string_equal(r.err, "field 0: NUL byte in name");
}

static void test_url_limits_are_exact(void **state) {
  sb_form_limits_t l = {2, 3, 4};
  result_t r = url_len("abc=1234&d=", 11, &l);
  assert_int_equal(r.rc, 0);
  sb_form_free(&r.form);
  r = url_len("abc=1234&d=&e=", 14, &l);
  assert_int_equal(r.rc, SB_ETOOBIG);
  assert_string_equal(r.err, "more than 2 fields");
  r = url_len("abcd=1", 6, &l);
  assert_int_equal(r.rc, SB_ETOOBIG);
  assert_string_equal(r.err, "field 0: name exceeds 3 bytes");
  r = url_len("a=12345", 7, &l);
  assert_int_equal(r.rc, SB_ETOOBIG);
  assert_string_equal(r.err, "field 0: value exceeds 4 bytes");
  /* the limit applies to decoded bytes: %41 is one byte */
  r = url_len("a=%41%41%41%41", 14, &l);
  assert_int_equal(r.rc, 0);
  sb_form_free(&r.form);
}

static void test_url_default_limit_on_field_count(void **state) {
  char *body = malloc(SB_FORM_MAX_FIELDS_DEFAULT * 4 + 8);
  size_t len = 0;
  for (int i = 0; i <= SB_FORM_MAX_FIELDS_DEFAULT; i++)
    len += (size_t)sprintf(body + len, "%sa=1", i ? "&" : "");
  result_t r = url_len(body, len, NULL);
  assert_int_equal(r.rc, SB_ETOOBIG);
  free(body);
}

static void test_free_is_safe_twice_and_on_null(void **state) {
  result_t r = url("a=1");
  sb_form_free(&r.form);
  assert_null(r.form.fields);
  assert_int_equal(r.form.n, 0);
  sb_form_free(&r.form);
  sb_form_free(NULL);
  assert_null(sb_form_find(NULL, "a"));
}

static void test_null_arguments_are_invalid(void **state) {
  sb_form_t f;
  assert_int_equal(sb_form_urlencoded_parse("a=1", 3, NULL, NULL, NULL, 0),
                   SB_EINVAL);
  assert_int_equal(sb_form_urlencoded_parse(NULL, 3, NULL, &f, NULL, 0),
                   SB_EINVAL);
  assert_int_equal(sb_form_multipart_parse(NULL, "", 0, NULL, &f, NULL, 0),
                   SB_EINVAL);
}

/* ------------------------------------------------------------- multipart */

static const char SIMPLE[] = "--xYzZY\r\n"
                             "Content-Disposition: form-data; name=\"from\"\r\n"
                             "\r\n"
                             "Jane <jane@example.com>\r\n"
                             "--xYzZY\r\n"
                             "content-disposition: FORM-DATA; name=subject\r\n"
                             "Content-Type: text/plain; charset=utf-8\r\n"
                             "\r\n"
                             "two\r\nlines\r\n"
                             "--xYzZY--\r\n";

static void test_multipart_parts_in_order(void **state) {
  result_t r = mp(MP_TYPE, SIMPLE);
  assert_int_equal(r.rc, 0);
  assert_int_equal(r.form.n, 2);
  assert_field(&r.form, 0, "from", "Jane <jane@example.com>");
  assert_field(&r.form, 1, "subject", "two\r\nlines");
  sb_form_free(&r.form);
}

static void test_multipart_email_fixture_skips_attachment(void **state) {
  size_t len = 0;
  char *body =
      sb_test_fixture("tests/fixtures/webhooks/email_inbound.multipart", &len);
  char *ct = sb_test_fixture(
      "tests/fixtures/webhooks/email_inbound.content-type", NULL);
  result_t r = mp_len(ct, body, len, NULL);
  assert_int_equal(r.rc, 0);
  assert_int_equal(r.form.n, 14); /* 15 parts, the file skipped */
  assert_string_equal(r.form.fields[0].name, "headers");
  assert_string_equal(r.form.fields[13].name, "SPF");
  assert_null(sb_form_find(&r.form, "attachment1"));
  assert_string_equal(sb_form_get(&r.form, "subject"),
                      "Re: Your case 4711 - rebooking");
  assert_non_null(strstr(sb_form_get(&r.form, "headers"),
                         "Message-ID: <CAOv4aW3xjQ+7b1@mail.example.com>\r\n"));
  sb_form_free(&r.form);
  free(body);
  free(ct);
}

static void test_multipart_content_type_variants(void **state) {
  static const char *const ok[] = {
      "multipart/form-data; boundary=xYzZY",
      "Multipart/Form-Data;BOUNDARY=\"xYzZY\"",
      "multipart/form-data; charset=utf-8; boundary=xYzZY",
      "  multipart/form-data ; boundary = xYzZY ",
  };
  for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
    result_t r = mp(ok[i], SIMPLE);
    assert_int_equal(r.rc, 0);
    sb_form_free(&r.form);
  }
}

static void test_multipart_bad_content_types_are_invalid(void **state) {
  char long_boundary[128];
  snprintf(long_boundary, sizeof long_boundary,
           "multipart/form-data; boundary=%071d", 0);
  static const char *const bad[] = {
      "application/x-www-form-urlencoded",
      "multipart/mixed; boundary=xYzZY",
      "multipart/form-data",
      "multipart/form-data; boundary=",
      "multipart/form-data; boundary=\"\"",
      "multipart/form-data; boundary=\"xYz",
      "multipart/form-data; boundary=a; boundary=b",
      "multipart/form-data; boundary=\"a{b}\"",
      "multipart/form-data; boundary=\"ends in space \"",
      "multipart/form-data; boundary",
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
    assert_int_equal(mp(bad[i], SIMPLE).rc, SB_EINVAL);
  assert_int_equal(mp(long_boundary, SIMPLE).rc, SB_EINVAL);
}

static void test_multipart_boundary_of_70_chars_works(void **state) {
  char b[SB_FORM_BOUNDARY_MAX + 1], ct[128], body[512];
  memset(b, 'q', SB_FORM_BOUNDARY_MAX);
  b[SB_FORM_BOUNDARY_MAX] = '\0';
  snprintf(ct, sizeof ct, "multipart/form-data; boundary=%s", b);
  snprintf(body, sizeof body,
           "--%s\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nv\r\n"
           "--%s--",
           b, b);
  result_t r = mp(ct, body);
  assert_int_equal(r.rc, 0);
  assert_field(&r.form, 0, "a", "v");
  sb_form_free(&r.form);
}

static void test_multipart_preamble_epilogue_and_padding(void **state) {
  result_t r = mp(MP_TYPE, "This is a preamble.\r\n"
                           "--xYzZY  \t\r\n"
                           "Content-Disposition: form-data; name=\"a\"\r\n\r\n"
                           "1\r\n"
                           "--xYzZY--\r\nthe epilogue --xYzZY\r\nignored");
  assert_int_equal(r.rc, 0);
  assert_int_equal(r.form.n, 1);
  assert_field(&r.form, 0, "a", "1");
  sb_form_free(&r.form);
}

static void test_multipart_every_truncation_fails(void **state) {
  size_t len = strlen(SIMPLE);
  size_t end = len - strlen("\r\n"); /* up to the close delimiter's "--" */
  for (size_t cut = 0; cut < end; cut++) {
    result_t r = mp_len(MP_TYPE, SIMPLE, cut, NULL);
    assert_int_equal(r.rc, SB_EPARSE);
  }
}

static void test_multipart_malformed_parts_fail(void **state) {
  static const char *const bad[] = {
      /* no Content-Disposition */
      "--xYzZY\r\nContent-Type: text/plain\r\n\r\nv\r\n--xYzZY--",
      /* no name */
      "--xYzZY\r\nContent-Disposition: form-data\r\n\r\nv\r\n--xYzZY--",
      /* not form-data */
      "--xYzZY\r\nContent-Disposition: attachment; "
      "name=a\r\n\r\nv\r\n--xYzZY--",
      /* two names, two dispositions */
      "--xYzZY\r\nContent-Disposition: form-data; name=a; name=b\r\n\r\nv\r\n"
      "--xYzZY--",
      "--xYzZY\r\nContent-Disposition: form-data; name=a\r\n"
      "Content-Disposition: form-data; name=b\r\n\r\nv\r\n--xYzZY--",
      /* unterminated quoted name */
      "--xYzZY\r\nContent-Disposition: form-data; name=\"a\r\n\r\nv\r\n"
      "--xYzZY--",
      /* no blank line after the headers */
      "--xYzZY\r\nContent-Disposition: form-data; name=a\r\n--xYzZY--",
      /* no boundary at all, or bare LF line ends */
      "just text",
      "--xYzZY\nContent-Disposition: form-data; name=a\n\nv\n--xYzZY--\n",
      /* boundary followed by junk */
      "--xYzZYjunk\r\nContent-Disposition: form-data; name=a\r\n\r\nv\r\n"
      "--xYzZY--",
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    result_t r = mp(MP_TYPE, bad[i]);
    assert_int_equal(r.rc, SB_EPARSE);
  }
}

static void test_multipart_file_parts_are_skipped(void **state) {
  result_t r =
      mp(MP_TYPE, "--xYzZY\r\nContent-Disposition: form-data; name=\"f\"; "
                  "filename=\"a.pdf\"\r\n\r\n%PDF\r\n"
                  "--xYzZY\r\nContent-Disposition: form-data; name=g; "
                  "filename*=UTF-8''%C3%A9.txt\r\n\r\nx\r\n"
                  "--xYzZY\r\nContent-Disposition: form-data; name=\"h\"\r\n"
                  "\r\nkept\r\n--xYzZY--");
  assert_int_equal(r.rc, 0);
  assert_int_equal(r.form.n, 1);
  assert_field(&r.form, 0, "h", "kept");
  sb_form_free(&r.form);
}

static void test_multipart_quoted_name_escapes_and_binary_value(void **state) {
  static const char body[] =
      "--xYzZY\r\nContent-Disposition: form-data; name=\"a\\\"b\"\r\n\r\n"
      "x\0y\r\n--xYzZY\r\nContent-Disposition: form-data; name=\"e\"\r\n\r\n"
      "\r\n--xYzZY--";
  result_t r = mp_len(MP_TYPE, body, sizeof body - 1, NULL);
  assert_int_equal(r.rc, 0);
  assert_int_equal(r.form.n, 2);
  assert_string_equal(r.form.fields[0].name, "a\"b");
  assert_int_equal(r.form.fields[0].value_len, 3);
  assert_memory_equal(r.form.fields[0].value, "x\0y", 4);
  assert_field(&r.form, 1, "e", "");
  sb_form_free(&r.form);
}

static void test_multipart_limits(void **state) {
  sb_form_limits_t l = {1, 3, 4};
  result_t r = mp_len(MP_TYPE, SIMPLE, strlen(SIMPLE), &l);
  assert_int_equal(r.rc, SB_ETOOBIG); /* name "from" > 3 */
  l = (sb_form_limits_t){1, 16, 1024};
  r = mp_len(MP_TYPE, SIMPLE, strlen(SIMPLE), &l);
  assert_int_equal(r.rc, SB_ETOOBIG);
  assert_string_equal(r.err, "more than 1 fields");
  l = (sb_form_limits_t){8, 16, 4};
  r = mp_len(MP_TYPE, SIMPLE, strlen(SIMPLE), &l);
  assert_int_equal(r.rc, SB_ETOOBIG);
  assert_string_equal(r.err, "field 0: value exceeds 4 bytes");
}

static void test_multipart_oversized_part_headers_fail(void **state) {
  size_t cap = SB_FORM_PART_HEADER_MAX + 512;
  char *body = malloc(cap);
  size_t len = (size_t)snprintf(body, cap,
                                "--xYzZY\r\nContent-Disposition: form-data; "
                                "name=a\r\nX-Pad: ");
  memset(body + len, 'p', SB_FORM_PART_HEADER_MAX);
  len += SB_FORM_PART_HEADER_MAX;
  len += (size_t)snprintf(body + len, cap - len, "\r\n\r\nv\r\n--xYzZY--");
  result_t r = mp_len(MP_TYPE, body, len, NULL);
  assert_int_equal(r.rc, SB_ETOOBIG);
  free(body);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_url_pairs_decode_in_order),
      cmocka_unit_test(test_url_repeated_names_are_all_kept),
      cmocka_unit_test(test_url_edge_pairs),
      cmocka_unit_test(test_url_empty_body_is_an_empty_form),
      cmocka_unit_test(test_url_invalid_escapes_fail_with_offset),
      cmocka_unit_test(test_url_nul_in_value_is_kept_in_name_rejected),
      cmocka_unit_test(test_url_limits_are_exact),
      cmocka_unit_test(test_url_default_limit_on_field_count),
      cmocka_unit_test(test_free_is_safe_twice_and_on_null),
      cmocka_unit_test(test_null_arguments_are_invalid),
      cmocka_unit_test(test_multipart_parts_in_order),
      cmocka_unit_test(test_multipart_email_fixture_skips_attachment),
      cmocka_unit_test(test_multipart_content_type_variants),
      cmocka_unit_test(test_multipart_bad_content_types_are_invalid),
      cmocka_unit_test(test_multipart_boundary_of_70_chars_works),
      cmocka_unit_test(test_multipart_preamble_epilogue_and_padding),
      cmocka_unit_test(test_multipart_every_truncation_fails),
      cmocka_unit_test(test_multipart_malformed_parts_fail),
      cmocka_unit_test(test_multipart_file_parts_are_skipped),
      cmocka_unit_test(test_multipart_quoted_name_escapes_and_binary_value),
      cmocka_unit_test(test_multipart_limits),
      cmocka_unit_test(test_multipart_oversized_part_headers_fail),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
