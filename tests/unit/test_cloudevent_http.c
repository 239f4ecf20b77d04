/*
 * test_cloudevent_http: behaviours of sb_cloudevent_http, the binary content
 * mode of the CloudEvents HTTP binding (ce-* headers + JSON body).
 *
 * Each test names one behaviour. A refused request must give the right HTTP
 * status (400, or 415 for the media type), a reason naming the header or
 * attribute at fault, no event, and nothing left allocated (the sanitizer
 * build checks that). An accepted one must mean exactly what the same event
 * means in structured mode.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sb_cloudevent.h"
#include "sb_cloudevent_http.h"
#include "sb_error.h"
#include "sb_testutil.h"

enum { ERR_LEN = 256, MAX_HEADERS = 32 };

#define DATA "{\"channel\": \"app\", \"customer\": \"u1\", \"text\": \"hello\"}"
#define TRACE "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
#define TRACE2 "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"

static const sb_http_header_t base[] = {
    {"Host", "localhost"},
    {"ce-specversion", "1.0"},
    {"ce-id", "evt-1"},
    {"ce-source", "/app/ios"},
    {"ce-type", "com.switchboard.interaction"},
    {"ce-tenant", "acme-air"},
    {"ce-time", "2026-03-01T12:00:00Z"},
    {"Content-Type", "application/json"},
};
#define N_BASE (sizeof base / sizeof base[0])

typedef struct {
  sb_http_header_t h[MAX_HEADERS];
  size_t n;
} headers_t;

/* The base headers with header `name` (exact spelling) set to value (added
 * when absent) or removed when value is NULL. */
static headers_t with(const char *name, const char *value) {
  headers_t hs = {.n = 0};
  int found = 0;
  for (size_t i = 0; i < N_BASE; i++) {
    if (name && strcmp(base[i].name, name) == 0) {
      found = 1;
      if (value) hs.h[hs.n++] = (sb_http_header_t){name, value};
      continue;
    }
    hs.h[hs.n++] = base[i];
  }
  if (name && value && !found) hs.h[hs.n++] = (sb_http_header_t){name, value};
  return hs;
}

static headers_t plus(headers_t hs, const char *name, const char *value) {
  assert_true(hs.n < MAX_HEADERS);
  hs.h[hs.n++] = (sb_http_header_t){name, value};
  return hs;
}

typedef struct {
  int rc, status;
  sb_cloudevent_t *ev;
  char err[ERR_LEN];
} result_t;

static result_t map_body(const headers_t *hs, const char *body) {
  result_t r;
  memset(&r, 0, sizeof r);
  r.rc = sb_cloudevent_http_binary(hs->h, hs->n, body, body ? strlen(body) : 0, NULL, &r.ev,
                                   &r.status, r.err, sizeof r.err);
  if (r.rc == 0) {
    assert_non_null(r.ev);
    assert_int_equal(r.status, 0);
  } else {
    assert_null(r.ev);
    assert_true(strlen(r.err) > 0);
  }
  return r;
}

static result_t map(const headers_t *hs) { return map_body(hs, DATA); }

/* Must be refused with status and a reason containing needle. */
static void expect_refused(const headers_t *hs, const char *body, int status, const char *needle) {
  result_t r = map_body(hs, body);
  if (r.rc == 0 || r.status != status || strstr(r.err, needle) == NULL)
    fail_msg("rc %d status %d err \"%s\" (want %d, \"%s\")", r.rc, r.status, r.err, status,
             needle);
  sb_cloudevent_free(&r.ev, 1);
}

/* The decoded value of one ce-subject header, or fails. */
static void expect_subject(const char *raw, const char *decoded) {
  headers_t hs = with("ce-subject", raw);
  result_t r = map(&hs);
  if (r.rc != 0) fail_msg("ce-subject %s: %s", raw, r.err);
  assert_string_equal(r.ev->subject, decoded);
  sb_cloudevent_free(&r.ev, 1);
}

/* ---------------------------------------------------------- accepted */

static void every_header_maps_to_its_attribute(void **state) {
  headers_t hs = plus(plus(with("Content-Type", "application/json; charset=utf-8"),
                           "ce-subject", "conv-9"),
                      "ce-traceparent", TRACE);
  result_t r = map(&hs);
  assert_int_equal(r.rc, 0);
  sb_cloudevent_t *e = r.ev;
  assert_string_equal(e->specversion, "1.0");
  assert_string_equal(e->id, "evt-1");
  assert_string_equal(e->source, "/app/ios");
  assert_string_equal(e->type, "com.switchboard.interaction");
  assert_string_equal(e->tenant, "acme-air");
  assert_string_equal(e->time, "2026-03-01T12:00:00Z");
  assert_true(e->time_ms == INT64_C(1772366400000));
  assert_string_equal(e->subject, "conv-9");
  assert_string_equal(e->traceparent, TRACE);
  assert_string_equal(e->datacontenttype, "application/json; charset=utf-8");
  sb_cloudevent_free(&r.ev, 1);
  assert_null(r.ev);
}

static void the_event_equals_its_structured_twin(void **state) {
  const char *structured =
      "{\"specversion\":\"1.0\",\"id\":\"evt-1\",\"source\":\"/app/ios\","
      "\"type\":\"com.switchboard.interaction\",\"tenant\":\"acme-air\","
      "\"time\":\"2026-03-01T12:00:00Z\",\"datacontenttype\":\"application/json\",\"data\":" DATA
      "}";
  sb_cloudevent_t *twin = NULL;
  size_t n = 0;
  char err[ERR_LEN];
  assert_int_equal(sb_cloudevent_parse(structured, strlen(structured), NULL, &twin, &n, err,
                                       sizeof err, NULL),
                   0);
  headers_t hs = with(NULL, NULL);
  result_t r = map(&hs);
  assert_int_equal(r.rc, 0);
  assert_string_equal(r.ev->data, twin->data); /* both compact */
  assert_string_equal(r.ev->data, "{\"channel\":\"app\",\"customer\":\"u1\",\"text\":\"hello\"}");
  assert_string_equal(r.ev->id, twin->id);
  assert_true(r.ev->time_ms == twin->time_ms);
  assert_string_equal(r.ev->datacontenttype, twin->datacontenttype);
  sb_cloudevent_free(&r.ev, 1);
  sb_cloudevent_free(&twin, n);
}

static void header_names_are_case_insensitive(void **state) {
  headers_t hs = {.n = 0};
  hs = plus(hs, "CE-SpecVersion", "1.0");
  hs = plus(hs, "Ce-Id", "x-1");
  hs = plus(hs, "CE-SOURCE", "/s");
  hs = plus(hs, "ce-Type", "com.switchboard.interaction");
  hs = plus(hs, "Ce-Tenant", "acme-air");
  hs = plus(hs, "content-type", "Application/JSON");
  result_t r = map(&hs);
  assert_int_equal(r.rc, 0);
  assert_string_equal(r.ev->id, "x-1");
  assert_string_equal(r.ev->source, "/s");
  sb_cloudevent_free(&r.ev, 1);
}

static void unknown_extensions_are_ignored(void **state) {
  headers_t hs = plus(with(NULL, NULL), "ce-comexampleext", "anything%20at%20all");
  result_t r = map(&hs);
  assert_int_equal(r.rc, 0);
  sb_cloudevent_free(&r.ev, 1);
}

static void no_body_and_no_content_type_is_an_event_without_data(void **state) {
  headers_t hs = with("Content-Type", NULL);
  result_t r = map_body(&hs, NULL);
  assert_int_equal(r.rc, 0);
  assert_null(r.ev->data);
  assert_null(r.ev->datacontenttype);
  sb_cloudevent_free(&r.ev, 1);
}

static void mode_is_chosen_by_content_type_then_ce_headers(void **state) {
  headers_t hs = with(NULL, NULL);
  assert_int_equal(sb_cloudevent_http_is_binary(hs.h, hs.n), 1);
  hs = with("Content-Type", "application/cloudevents+json; charset=utf-8");
  assert_int_equal(sb_cloudevent_http_is_binary(hs.h, hs.n), 0); /* structured, whatever ce- says */
  hs = with("Content-Type", " Application/CloudEvents-Batch+JSON");
  assert_int_equal(sb_cloudevent_http_is_binary(hs.h, hs.n), 0);
  sb_http_header_t plain[] = {{"Host", "h"}, {"Content-Type", "application/json"}};
  assert_int_equal(sb_cloudevent_http_is_binary(plain, 2), 0);
  sb_http_header_t one[] = {{"Ce-Id", "x"}};
  assert_int_equal(sb_cloudevent_http_is_binary(one, 1), 1); /* then: missing specversion */
}

/* ------------------------------------------------------------ decoding */

static void percent_decoding_follows_the_binding(void **state) {
  expect_subject("Euro%20%E2%82%AC%20%F0%9F%98%80", "Euro \xe2\x82\xac \xf0\x9f\x98\x80");
  expect_subject("%e2%82%ac", "\xe2\x82\xac");       /* lowercase hex */
  expect_subject("%61%62c", "abc");                  /* needless encoding */
  expect_subject("100%25", "100%");                  /* one round only */
  expect_subject("%2541", "%41");
  expect_subject("  padded \t", "padded");           /* optional whitespace */
}

static void quoted_strings_are_unescaped_first(void **state) {
  expect_subject("\"a b \\\"c\\\"\"", "a b \"c\"");
  expect_subject("\"50%25\"", "50%"); /* then percent-decoded */
  headers_t hs = with("ce-subject", "\"open");
  expect_refused(&hs, DATA, 400, "header ce-subject: unterminated quoted string");
  hs = with("ce-subject", "\"trailing\\");
  expect_refused(&hs, DATA, 400, "unterminated quoted string");
}

static void bad_percent_encoding_is_400(void **state) {
  static const char *const bad[] = {"%", "%4", "abc%2", "%zz", "%G1", "a%%20"};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    headers_t hs = with("ce-id", bad[i]);
    expect_refused(&hs, DATA, 400, "header ce-id: bad percent-encoding");
  }
  headers_t hs = with("ce-source", "/a%00b");
  expect_refused(&hs, DATA, 400, "header ce-source: a NUL byte");
}

static void decoded_bytes_must_be_utf8(void **state) {
  static const char *const bad[] = {"%C0%A0", "%FF", "%E2%82", "%ED%A0%80", "%F4%90%80%80"};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    headers_t hs = with("ce-subject", bad[i]);
    expect_refused(&hs, DATA, 400, "header ce-subject: not UTF-8");
  }
}

/* ----------------------------------------------------------- refusals */

static void missing_required_headers_are_400(void **state) {
  static const char *const required[][2] = {{"ce-specversion", "\"specversion\""},
                                            {"ce-id", "\"id\""},
                                            {"ce-source", "\"source\""},
                                            {"ce-type", "\"type\""},
                                            {"ce-tenant", "\"tenant\""}};
  for (size_t i = 0; i < sizeof required / sizeof required[0]; i++) {
    headers_t hs = with(required[i][0], NULL);
    char want[64];
    snprintf(want, sizeof want, "missing required attribute %s", required[i][1]);
    expect_refused(&hs, DATA, 400, want);
  }
  headers_t hs = with("ce-id", "");
  expect_refused(&hs, DATA, 400, "attribute \"id\" must not be empty");
}

static void duplicate_headers_are_400(void **state) {
  headers_t hs = plus(with(NULL, NULL), "ce-id", "evt-2");
  expect_refused(&hs, DATA, 400, "duplicate header ce-id");
  hs = plus(with(NULL, NULL), "CE-TENANT", "other");
  expect_refused(&hs, DATA, 400, "duplicate header ce-tenant");
  hs = plus(with(NULL, NULL), "content-type", "application/json");
  expect_refused(&hs, DATA, 400, "duplicate header Content-Type");
}

static void oversized_headers_are_400(void **state) {
  char big[SB_CLOUDEVENT_MAX_STRING_DEFAULT + 2];
  memset(big, 'a', sizeof big - 1);
  big[sizeof big - 1] = '\0';
  headers_t hs = with("ce-source", big);
  expect_refused(&hs, DATA, 400, "header ce-source: value exceeds 256 bytes");
  hs = with("ce-comexampleext", big); /* also extensions, though ignored */
  expect_refused(&hs, DATA, 400, "header ce-comexampleext: value exceeds 256 bytes");
  /* the limit is on the decoded value: 256 bytes sent as %41 pass */
  char enc[3 * SB_CLOUDEVENT_MAX_STRING_DEFAULT + 1];
  for (size_t i = 0; i < SB_CLOUDEVENT_MAX_STRING_DEFAULT; i++) memcpy(enc + 3 * i, "%41", 3);
  enc[sizeof enc - 1] = '\0';
  hs = with("ce-source", enc);
  result_t r = map(&hs);
  assert_int_equal(r.rc, 0);
  assert_int_equal(strlen(r.ev->source), SB_CLOUDEVENT_MAX_STRING_DEFAULT);
  sb_cloudevent_free(&r.ev, 1);
}

static void ce_headers_must_name_attributes(void **state) {
  static const char *const bad[] = {"ce-", "ce-foo_bar", "ce-a.b", "ce-\xc3\xa9t\xc3\xa9",
                                    "ce-aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    headers_t hs = plus(with(NULL, NULL), bad[i], "x");
    expect_refused(&hs, DATA, 400, "a ce- header must name an attribute");
  }
  headers_t hs = plus(with(NULL, NULL), "ce-datacontenttype", "application/json");
  expect_refused(&hs, DATA, 400, "header ce-datacontenttype is not allowed");
  hs = plus(with(NULL, NULL), "ce-data", "{}");
  expect_refused(&hs, DATA, 400, "header ce-data is not allowed");
}

static void attribute_rules_are_the_structured_ones(void **state) {
  headers_t hs = with("ce-specversion", "0.3");
  expect_refused(&hs, DATA, 400, "attribute \"specversion\" must be \"1.0\"");
  hs = with("ce-tenant", "acme%20air");
  expect_refused(&hs, DATA, 400, "attribute \"tenant\" must match");
  hs = with("ce-time", "yesterday");
  expect_refused(&hs, DATA, 400, "attribute \"time\" must be an RFC 3339 date-time");
  hs = with("ce-id", "a%0Ab");
  expect_refused(&hs, DATA, 400, "attribute \"id\" contains a control character");
  hs = with("ce-traceparent", "00-xyz");
  expect_refused(&hs, DATA, 400, "attribute \"traceparent\" must be a W3C traceparent");
}

static void traceparent_header_stands_in_for_the_extension(void **state) {
  headers_t hs = plus(with(NULL, NULL), "traceparent", TRACE2);
  result_t r = map(&hs);
  assert_int_equal(r.rc, 0);
  assert_string_equal(r.ev->traceparent, TRACE2);
  sb_cloudevent_free(&r.ev, 1);
  hs = plus(plus(with(NULL, NULL), "traceparent", TRACE2), "ce-traceparent", TRACE);
  r = map(&hs);
  assert_int_equal(r.rc, 0);
  assert_string_equal(r.ev->traceparent, TRACE); /* ce-traceparent wins */
  sb_cloudevent_free(&r.ev, 1);
  hs = plus(with(NULL, NULL), "traceparent", "ff-garbage"); /* ignored, as Trace Context says */
  r = map(&hs);
  assert_int_equal(r.rc, 0);
  assert_null(r.ev->traceparent);
  sb_cloudevent_free(&r.ev, 1);
}

static void data_must_be_json_media_or_415(void **state) {
  static const char *const bad[] = {"text/plain", "application/xml", "application/jsonx",
                                    "application/json; charset=iso-8859-1",
                                    "application/json;charset=\"latin1\"",
                                    "application/cloudevents+json-ish"};
  for (size_t i = 0; i < 5; i++) {
    headers_t hs = with("Content-Type", bad[i]);
    expect_refused(&hs, DATA, 415, "binary mode takes data as application/json");
  }
  headers_t hs = with("Content-Type", NULL);
  expect_refused(&hs, DATA, 415, "Content-Type is missing");
  hs = with("Content-Type", "application/json;charset=\"UTF-8\"; foo=bar");
  result_t r = map(&hs);
  assert_int_equal(r.rc, 0);
  sb_cloudevent_free(&r.ev, 1);
  assert_int_equal(sb_cloudevent_http_is_binary(&(sb_http_header_t){"Content-Type", bad[5]}, 1), 0);
}

static void bad_data_is_400_with_its_offset(void **state) {
  headers_t hs = with(NULL, NULL);
  expect_refused(&hs, "{\"channel\": ", 400, "data: invalid JSON at byte");
  expect_refused(&hs, "{\"a\": \"\\u0000\"}", 400, "data: escaped NUL");
  char deep[2 * SB_CLOUDEVENT_MAX_DEPTH_DEFAULT + 1];
  memset(deep, '[', SB_CLOUDEVENT_MAX_DEPTH_DEFAULT);
  memset(deep + SB_CLOUDEVENT_MAX_DEPTH_DEFAULT, ']', SB_CLOUDEVENT_MAX_DEPTH_DEFAULT);
  deep[sizeof deep - 1] = '\0';
  expect_refused(&hs, deep, 400, "data: ");
  /* one level less than the limit: the event is the root, as in structured mode */
  deep[SB_CLOUDEVENT_MAX_DEPTH_DEFAULT - 1] = ' ';
  deep[SB_CLOUDEVENT_MAX_DEPTH_DEFAULT] = ' ';
  result_t r = map_body(&hs, deep);
  assert_int_equal(r.rc, 0);
  sb_cloudevent_free(&r.ev, 1);
}

static void error_buffer_is_always_terminated(void **state) {
  headers_t hs = plus(with(NULL, NULL), "ce-id", "dup");
  char err[8];
  memset(err, 'x', sizeof err);
  sb_cloudevent_t *ev = (sb_cloudevent_t *)1;
  int status = 0;
  assert_int_not_equal(sb_cloudevent_http_binary(hs.h, hs.n, DATA, strlen(DATA), NULL, &ev,
                                                 &status, err, sizeof err),
                       0);
  assert_null(ev);
  assert_int_equal(status, 400);
  assert_int_equal(strlen(err), sizeof err - 1);
  assert_int_not_equal(sb_cloudevent_http_binary(hs.h, hs.n, DATA, strlen(DATA), NULL, &ev,
                                                 &status, NULL, 0),
                       0);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(every_header_maps_to_its_attribute),
      cmocka_unit_test(the_event_equals_its_structured_twin),
      cmocka_unit_test(header_names_are_case_insensitive),
      cmocka_unit_test(unknown_extensions_are_ignored),
      cmocka_unit_test(no_body_and_no_content_type_is_an_event_without_data),
      cmocka_unit_test(mode_is_chosen_by_content_type_then_ce_headers),
      cmocka_unit_test(percent_decoding_follows_the_binding),
      cmocka_unit_test(quoted_strings_are_unescaped_first),
      cmocka_unit_test(bad_percent_encoding_is_400),
      cmocka_unit_test(decoded_bytes_must_be_utf8),
      cmocka_unit_test(missing_required_headers_are_400),
      cmocka_unit_test(duplicate_headers_are_400),
      cmocka_unit_test(oversized_headers_are_400),
      cmocka_unit_test(ce_headers_must_name_attributes),
      cmocka_unit_test(attribute_rules_are_the_structured_ones),
      cmocka_unit_test(traceparent_header_stands_in_for_the_extension),
      cmocka_unit_test(data_must_be_json_media_or_415),
      cmocka_unit_test(bad_data_is_400_with_its_offset),
      cmocka_unit_test(error_buffer_is_always_terminated),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
