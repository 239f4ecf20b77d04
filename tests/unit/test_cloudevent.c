/*
 * test_cloudevent: behaviours of sb_cloudevent (CloudEvents 1.0 structured
 * JSON, single and batch) and of the interaction and agent payload parsers.
 *
 * Each test names one behaviour; bad input must fail with the right SB_E*
 * code, a reason naming the culprit, and the right event index, and must
 * never leave anything allocated (the sanitizer build checks that).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sb_cloudevent.h"
#include "sb_error.h"
#include "sb_testutil.h"

enum { ERR_LEN = 256, DEEP_NESTING = 100000, FAST_MS = 200 };

static const char *const base_names[] = {"specversion", "id",   "source",
                                         "type",        "tenant", "time",
                                         "data"};
static const char *const base_values[] = {
    "\"1.0\"",
    "\"evt-1\"",
    "\"/x/acct-airline\"",
    "\"com.switchboard.interaction\"",
    "\"acme-air\"",
    "\"2026-03-01T12:00:00Z\"",
    "{\"channel\":\"x\",\"customer\":\"u1\",\"text\":\"hello\"}"};
#define N_BASE (sizeof base_names / sizeof base_names[0])

/* The base event as JSON with attribute `name` set to the raw JSON `raw`
 * (added if not a base attribute) or omitted when raw is NULL. Caller frees. */
static char *event_with(const char *name, const char *raw) {
  size_t cap = 4096 + (raw ? strlen(raw) : 0);
  char *out = malloc(cap);
  size_t len = 0;
  int found = 0;
  assert_non_null(out);
  len += (size_t)snprintf(out + len, cap - len, "{");
  for (size_t i = 0; i < N_BASE; i++) {
    const char *v = base_values[i];
    if (name && strcmp(name, base_names[i]) == 0) found = 1, v = raw;
    if (v == NULL) continue;
    len += (size_t)snprintf(out + len, cap - len, "%s\"%s\":%s",
                            len > 1 ? "," : "", base_names[i], v);
  }
  if (name && !found && raw)
    len += (size_t)snprintf(out + len, cap - len, ",\"%s\":%s", name, raw);
  snprintf(out + len, cap - len, "}");
  return out;
}

typedef struct {
  int rc;
  sb_cloudevent_t *ev;
  size_t n;
  long index;
  char err[ERR_LEN];
} result_t;

static result_t parse_len(const char *body, size_t len,
                          const sb_cloudevent_limits_t *limits) {
  result_t r;
  memset(&r, 0, sizeof r);
  r.rc = sb_cloudevent_parse(body, len, limits, &r.ev, &r.n, r.err,
                             sizeof r.err, &r.index);
  if (r.rc != 0) {
    assert_null(r.ev);
    assert_int_equal(r.n, 0);
    assert_true(strlen(r.err) > 0);
  } else {
    assert_non_null(r.ev);
    assert_true(r.n >= 1);
    assert_int_equal(r.index, -1);
  }
  return r;
}

static result_t parse(const char *body) {
  return parse_len(body, strlen(body), NULL);
}

/* The base event with one attribute changed must fail with rc, index 0 and
 * a reason containing `needle`. */
static void expect_attr_fails(const char *name, const char *raw, int rc,
                              const char *needle) {
  char *body = event_with(name, raw);
  result_t r = parse(body);
  if (r.rc != rc || strstr(r.err, needle) == NULL)
    fail_msg("%s=%s: rc %d err \"%s\" (want %d, \"%s\")", name,
             raw ? raw : "(absent)", r.rc, r.err, rc, needle);
  assert_int_equal(r.index, 0);
  free(body);
}

static void expect_attr_ok(const char *name, const char *raw) {
  char *body = event_with(name, raw);
  result_t r = parse(body);
  if (r.rc != 0) fail_msg("%s=%s: rc %d err \"%s\"", name, raw, r.rc, r.err);
  sb_cloudevent_free(&r.ev, r.n);
  free(body);
}

static char *repeat(char c, size_t n) {
  char *s = malloc(n + 1);
  assert_non_null(s);
  memset(s, c, n);
  s[n] = '\0';
  return s;
}

/* "\"" + n copies of c + "\"" */
static char *quoted(char c, size_t n) {
  char *s = malloc(n + 3);
  assert_non_null(s);
  s[0] = '"';
  memset(s + 1, c, n);
  s[n + 1] = '"';
  s[n + 2] = '\0';
  return s;
}

static double now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/* ------------------------------------------------------------ valid input */

static void test_single_event_parses_all_attributes(void **state) {
  const char *body =
      "{\"specversion\":\"1.0\",\"id\":\"e-42\",\"source\":\"/whatsapp/+442071234567\","
      "\"type\":\"com.switchboard.interaction\",\"tenant\":\"acme-air\","
      "\"time\":\"2026-03-01T12:00:00.250Z\",\"subject\":\"conv-9\","
      "\"datacontenttype\":\"application/json\","
      "\"traceparent\":\"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01\","
      "\"data\":{\"channel\":\"whatsapp\",\"customer\":\"447700900123\",\"text\":\"hi\"}}";
  result_t r = parse(body);
  assert_int_equal(r.rc, 0);
  assert_int_equal(r.n, 1);
  sb_cloudevent_t *e = &r.ev[0];
  assert_string_equal(e->id, "e-42");
  assert_string_equal(e->source, "/whatsapp/+442071234567");
  assert_string_equal(e->type, "com.switchboard.interaction");
  assert_string_equal(e->specversion, "1.0");
  assert_string_equal(e->tenant, "acme-air");
  assert_string_equal(e->time, "2026-03-01T12:00:00.250Z");
  assert_true(e->time_ms == INT64_C(1772366400250));
  assert_string_equal(e->subject, "conv-9");
  assert_string_equal(e->datacontenttype, "application/json");
  assert_string_equal(e->traceparent,
                      "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01");
  assert_string_equal(e->data,
                      "{\"channel\":\"whatsapp\",\"customer\":\"447700900123\",\"text\":\"hi\"}");
  sb_cloudevent_free(&r.ev, r.n);
  assert_null(r.ev);
}

static void test_optional_attributes_absent_are_null(void **state) {
  char *body = event_with("time", NULL);
  char *body2 = NULL;
  result_t r = parse(body);
  assert_int_equal(r.rc, 0);
  assert_null(r.ev[0].time);
  assert_true(r.ev[0].time_ms == 0);
  assert_null(r.ev[0].traceparent);
  assert_null(r.ev[0].subject);
  assert_null(r.ev[0].datacontenttype);
  sb_cloudevent_free(&r.ev, r.n);
  body2 = event_with("subject", "null"); /* JSON null = absent */
  r = parse(body2);
  assert_int_equal(r.rc, 0);
  assert_null(r.ev[0].subject);
  sb_cloudevent_free(&r.ev, r.n);
  free(body);
  free(body2);
}

static void test_batch_parses_in_order(void **state) {
  char *one = event_with("id", "\"a\"");
  char *two = event_with("id", "\"b\"");
  char *three = event_with("id", "\"c\"");
  char body[8192];
  snprintf(body, sizeof body, " [ %s ,\n%s,%s ] ", one, two, three);
  result_t r = parse(body);
  assert_int_equal(r.rc, 0);
  assert_int_equal(r.n, 3);
  assert_string_equal(r.ev[0].id, "a");
  assert_string_equal(r.ev[1].id, "b");
  assert_string_equal(r.ev[2].id, "c");
  sb_cloudevent_free(&r.ev, r.n);
  free(one);
  free(two);
  free(three);
}

static void test_batch_of_exactly_the_limit_parses(void **state) {
  sb_cloudevent_limits_t l;
  sb_cloudevent_limits_default(&l);
  l.max_events = 3;
  char *one = event_with(NULL, NULL);
  char body[8192];
  snprintf(body, sizeof body, "[%s,%s,%s]", one, one, one);
  result_t r = parse_len(body, strlen(body), &l);
  assert_int_equal(r.rc, 0);
  assert_int_equal(r.n, 3);
  sb_cloudevent_free(&r.ev, r.n);
  free(one);
}

static void test_limits_default_values(void **state) {
  sb_cloudevent_limits_t l;
  sb_cloudevent_limits_default(&l);
  assert_int_equal(l.max_events, 1000);
  assert_int_equal(l.max_string, 256);
  assert_int_equal(l.max_data_bytes, 64 * 1024);
  assert_int_equal(l.max_depth, 32);
}

static void test_unknown_extensions_are_ignored(void **state) {
  expect_attr_ok("sblang", "\"fr\"");
  expect_attr_ok("attempt", "3");
  expect_attr_ok("flag", "true");
  expect_attr_ok("nested", "{\"a\":[1,2,{\"b\":null}]}");
}

static void test_body_need_not_be_nul_terminated(void **state) {
  char *body = event_with(NULL, NULL);
  size_t len = strlen(body);
  char *buf = malloc(len + 8);
  memcpy(buf, body, len);
  memcpy(buf + len, "garbage!", 8); /* no NUL anywhere */
  result_t r = parse_len(buf, len, NULL);
  assert_int_equal(r.rc, 0);
  sb_cloudevent_free(&r.ev, r.n);
  free(buf);
  free(body);
}

static void test_leading_bom_is_ignored(void **state) {
  char *body = event_with(NULL, NULL);
  char buf[4096];
  snprintf(buf, sizeof buf, "\xEF\xBB\xBF%s", body);
  result_t r = parse(buf);
  assert_int_equal(r.rc, 0);
  sb_cloudevent_free(&r.ev, r.n);
  free(body);
}

/* ---------------------------------------------------- required attributes */

static void test_each_missing_required_attribute_is_named(void **state) {
  static const char *const required[] = {"specversion", "id", "source", "type",
                                         "tenant"};
  for (size_t i = 0; i < sizeof required / sizeof required[0]; i++) {
    char needle[64];
    snprintf(needle, sizeof needle,
             "event 0: missing required attribute \"%s\"", required[i]);
    expect_attr_fails(required[i], NULL, SB_EINVAL, needle);
    expect_attr_fails(required[i], "null", SB_EINVAL, needle);
  }
}

static void test_missing_attribute_in_batch_reports_index(void **state) {
  char *good = event_with(NULL, NULL);
  char *bad = event_with("source", NULL);
  char body[16384];
  snprintf(body, sizeof body, "[%s,%s,%s,%s]", good, good, good, bad);
  result_t r = parse(body);
  assert_int_equal(r.rc, SB_EINVAL);
  assert_int_equal(r.index, 3);
  assert_string_equal(r.err, "event 3: missing required attribute \"source\"");
  free(good);
  free(bad);
}

static void test_empty_required_strings_fail(void **state) {
  expect_attr_fails("id", "\"\"", SB_EINVAL, "\"id\" must not be empty");
  expect_attr_fails("source", "\"\"", SB_EINVAL, "\"source\" must not be empty");
  expect_attr_fails("type", "\"\"", SB_EINVAL, "\"type\" must not be empty");
  expect_attr_fails("subject", "\"\"", SB_EINVAL, "\"subject\" must not be empty");
}

static void test_wrong_specversion_fails(void **state) {
  expect_attr_fails("specversion", "\"0.3\"", SB_EINVAL,
                    "\"specversion\" must be \"1.0\"");
  expect_attr_fails("specversion", "\"1.0 \"", SB_EINVAL, "specversion");
  expect_attr_fails("specversion", "1.0", SB_EINVAL,
                    "\"specversion\" must be a string");
}

static void test_wrong_attribute_types_fail(void **state) {
  expect_attr_fails("id", "42", SB_EINVAL, "\"id\" must be a string");
  expect_attr_fails("source", "true", SB_EINVAL, "\"source\" must be a string");
  expect_attr_fails("type", "{}", SB_EINVAL, "\"type\" must be a string");
  expect_attr_fails("tenant", "[\"acme\"]", SB_EINVAL, "\"tenant\" must be a string");
  expect_attr_fails("time", "1772366400", SB_EINVAL, "\"time\" must be a string");
  expect_attr_fails("traceparent", "1", SB_EINVAL, "\"traceparent\" must be a string");
  expect_attr_fails("subject", "[]", SB_EINVAL, "\"subject\" must be a string");
}

static void test_duplicate_attribute_fails(void **state) {
  char *body = event_with("id", "\"a\"");
  char buf[4096];
  snprintf(buf, sizeof buf, "{\"id\":\"b\",%s", body + 1);
  result_t r = parse(buf);
  assert_int_equal(r.rc, SB_EINVAL);
  assert_non_null(strstr(r.err, "duplicate attribute \"id\""));
  free(body);
}

static void test_data_base64_is_rejected_as_unsupported(void **state) {
  expect_attr_fails("data_base64", "\"aGVsbG8=\"", SB_EINVAL,
                    "\"data_base64\" is not supported");
}

/* ------------------------------------------------------------ bad bytes */

static void test_invalid_json_reports_byte_offset(void **state) {
  result_t r = parse("{\"id\": }");
  assert_int_equal(r.rc, SB_EPARSE);
  assert_int_equal(r.index, -1);
  assert_string_equal(r.err, "invalid JSON at byte 7");
  r = parse("{\"id\":\"a\" \"b\"}");
  assert_int_equal(r.rc, SB_EPARSE);
  assert_non_null(strstr(r.err, "invalid JSON at byte"));
}

static void test_lenient_json_forms_are_rejected(void **state) {
  static const char *const bodies[] = {
      "{\"a\":+1}",          "{\"a\":01}",        "{\"a\":1.}",
      "{\"a\":.5}",          "{\"a\":1e}",        "{\"a\":NaN}",
      "{\"a\":Infinity}",    "{'a':1}",           "{\"a\":1,}",
      "[1,]",                "{\"a\":\"x\ty\"}",  "{\x01\"a\":1}",
      "{\"a\":tru}",         "{\"a\":nul}",       "{\"a\":\"\\x41\"}",
      "{\"a\":\"\\u12g4\"}", "{\"a\":\"\\ud800\"}", "{\"a\":1}}",
      "{\"a\":1} {}",        "]",                 "{\"a\":-}",
      "{\"a\":1-2}",         "{\"a\":truex}",     "{\"a\":0x10}",
  };
  for (size_t i = 0; i < sizeof bodies / sizeof bodies[0]; i++) {
    result_t r = parse(bodies[i]);
    if (r.rc != SB_EPARSE) fail_msg("accepted or wrong rc %d: %s", r.rc, bodies[i]);
  }
}

static void test_empty_and_blank_bodies_fail(void **state) {
  result_t r = parse_len("", 0, NULL);
  assert_int_equal(r.rc, SB_EPARSE);
  assert_string_equal(r.err, "empty body");
  r = parse(" \r\n\t ");
  assert_int_equal(r.rc, SB_EPARSE);
}

static void test_every_truncation_fails_cleanly(void **state) {
  char *body = event_with(NULL, NULL);
  size_t len = strlen(body);
  for (size_t cut = 0; cut < len; cut++) {
    char *copy = malloc(cut + 1); /* exact size: ASan catches overreads */
    memcpy(copy, body, cut);
    result_t r = parse_len(copy, cut, NULL);
    if (r.rc != SB_EPARSE) fail_msg("truncated at %zu: rc %d", cut, r.rc);
    free(copy);
  }
  free(body);
}

static void test_nul_byte_in_body_fails(void **state) {
  const char body[] = "{\"id\":\"a\0b\"}";
  result_t r = parse_len(body, sizeof body - 1, NULL);
  assert_int_equal(r.rc, SB_EPARSE);
  assert_string_equal(r.err, "invalid JSON at byte 8");
}

static void test_escaped_nul_is_rejected(void **state) {
  char *body = event_with("id", "\"ab\\u0000cd\"");
  result_t r = parse(body);
  assert_int_equal(r.rc, SB_EPARSE);
  assert_non_null(strstr(r.err, "\\u0000"));
  free(body);
}

static void test_invalid_utf8_anywhere_fails(void **state) {
  static const char *const bad[] = {
      "\"\xC0\xAF\"",         /* overlong '/' */
      "\"\xED\xA0\x80\"",     /* UTF-16 surrogate */
      "\"\xF4\x90\x80\x80\"", /* above U+10FFFF */
      "\"\xE2\x82\"",         /* truncated sequence */
      "\"\x80\"",             /* lone continuation */
      "\"\xFF\"",
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    char data[128];
    snprintf(data, sizeof data, "{\"text\":%s}", bad[i]);
    char *body = event_with("data", data);
    result_t r = parse(body);
    assert_int_equal(r.rc, SB_EPARSE);
    assert_non_null(strstr(r.err, "invalid UTF-8 at byte"));
    free(body);
    body = event_with("x-ext", bad[i]);
    r = parse(body);
    assert_int_equal(r.rc, SB_EPARSE);
    free(body);
  }
  result_t r = parse("\xFF{}");
  assert_string_equal(r.err, "invalid UTF-8 at byte 0");
}

static void test_valid_multibyte_utf8_passes(void **state) {
  expect_attr_ok("subject", "\"caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80\"");
  expect_attr_ok("subject", "\"\\u00e9\\ud83d\\ude00\"");
}

static void test_deep_nesting_is_rejected_fast(void **state) {
  char *open = repeat('[', DEEP_NESTING);
  char *objs = malloc(DEEP_NESTING * 5 + 1);
  for (size_t i = 0; i < DEEP_NESTING; i++) memcpy(objs + i * 5, "{\"a\":", 5);
  objs[DEEP_NESTING * 5] = '\0';
  double t0 = now_ms();
  result_t r1 = parse(open);
  result_t r2 = parse(objs);
  double elapsed = now_ms() - t0;
  assert_int_equal(r1.rc, SB_ETOOBIG);
  assert_int_equal(r2.rc, SB_ETOOBIG);
  assert_string_equal(r1.err, "nesting deeper than 32 levels at byte 32");
  assert_int_equal(r1.index, -1);
  if (elapsed > FAST_MS) fail_msg("deep nesting took %.1f ms", elapsed);
  free(open);
  free(objs);
}

static void test_nesting_limit_is_exact(void **state) {
  /* the event object is level 1, so data may nest 31 more: 32 in all */
  char data[128], deeper[128];
  size_t k = 0;
  for (int i = 0; i < 31; i++) data[k++] = '[';
  for (int i = 0; i < 31; i++) data[k++] = ']';
  data[k] = '\0';
  expect_attr_ok("data", data);
  deeper[0] = '[';
  memcpy(deeper + 1, data, k);
  memcpy(deeper + 1 + k, "]", 2);
  char *body = event_with("data", deeper);
  result_t r = parse(body);
  assert_int_equal(r.rc, SB_ETOOBIG);
  assert_int_equal(r.index, -1); /* found by the byte scan, before events */
  assert_non_null(strstr(r.err, "nesting deeper than 32 levels"));
  free(body);
}

static void test_brackets_inside_strings_do_not_count(void **state) {
  char *s = quoted('[', 5000);
  expect_attr_ok("x-ext", s);
  free(s);
  expect_attr_ok("subject", "\"\\\"[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[\"");
}

/* ---------------------------------------------------------------- limits */

static void test_oversized_batch_fails(void **state) {
  char *one = event_with(NULL, NULL);
  size_t len = strlen(one), n = 1001;
  char *body = malloc(n * (len + 1) + 2);
  size_t k = 0;
  body[k++] = '[';
  for (size_t i = 0; i < n; i++) {
    if (i) body[k++] = ',';
    memcpy(body + k, one, len);
    k += len;
  }
  body[k++] = ']';
  result_t r = parse_len(body, k, NULL);
  assert_int_equal(r.rc, SB_ETOOBIG);
  assert_int_equal(r.index, -1);
  assert_string_equal(r.err, "batch of 1001 events exceeds limit 1000");
  free(body);
  free(one);
}

static void test_empty_batch_fails(void **state) {
  result_t r = parse("[ ]");
  assert_int_equal(r.rc, SB_EINVAL);
  assert_string_equal(r.err, "empty batch");
  assert_int_equal(r.index, -1);
}

static void test_non_object_batch_item_fails(void **state) {
  char *one = event_with(NULL, NULL);
  char body[4096];
  snprintf(body, sizeof body, "[%s,42]", one);
  result_t r = parse(body);
  assert_int_equal(r.rc, SB_EINVAL);
  assert_int_equal(r.index, 1);
  assert_string_equal(r.err, "event 1: must be a JSON object");
  r = parse("\"just a string\"");
  assert_int_equal(r.rc, SB_EINVAL);
  assert_int_equal(r.index, -1);
  free(one);
}

static void test_oversized_strings_fail(void **state) {
  static const char *const names[] = {"id", "source", "type", "subject"};
  char *ok = quoted('a', 256), *big = quoted('a', 257);
  for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
    expect_attr_ok(names[i], ok);
    expect_attr_fails(names[i], big, SB_ETOOBIG, "exceeds 256 bytes");
  }
  free(ok);
  free(big);
}

static void test_oversized_data_fails(void **state) {
  char *s = quoted('x', 64 * 1024 - 2); /* serialized: exactly 64 KiB */
  expect_attr_ok("data", s);
  free(s);
  s = quoted('x', 64 * 1024 - 1);
  expect_attr_fails("data", s, SB_ETOOBIG, "data exceeds 65536 bytes");
  free(s);
}

static void test_control_characters_fail(void **state) {
  expect_attr_fails("id", "\"a\\u0001b\"", SB_EINVAL, "\"id\" contains a control");
  expect_attr_fails("source", "\"/x/\\n\"", SB_EINVAL, "\"source\" contains a control");
  expect_attr_fails("type", "\"t\\u007f\"", SB_EINVAL, "\"type\" contains a control");
  expect_attr_fails("id", "\"a\\u0085\"", SB_EINVAL, "\"id\" contains a control");
  expect_attr_fails("id", "\"a\xC2\x9B\"", SB_EINVAL, "\"id\" contains a control");
}

static void test_bad_tenant_fails(void **state) {
  static const char *const bad[] = {"\"acme air\"", "\"acme/air\"", "\"\"",
                                    "\"caf\xC3\xA9\"", "\"a.b\""};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
    expect_attr_fails("tenant", bad[i], SB_EINVAL, "\"tenant\"");
  char *t64 = quoted('t', 64), *t65 = quoted('t', 65);
  expect_attr_ok("tenant", t64);
  expect_attr_fails("tenant", t65, SB_EINVAL, "must match [A-Za-z0-9_-]{1,64}");
  free(t64);
  free(t65);
  expect_attr_ok("tenant", "\"Shop_Co-2\"");
}

static void test_bad_traceparent_fails(void **state) {
  static const char *const bad[] = {
      "\"00-00000000000000000000000000000000-00f067aa0ba902b7-01\"",
      "\"00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01\"",
      "\"00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01\"",
      "\"01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01\"",
      "\"00-4bf92f3577b34da6a3ce929d0e0e473-00f067aa0ba902b7-01\"",
      "\"00_4bf92f3577b34da6a3ce929d0e0e4736_00f067aa0ba902b7_01\"",
      "\"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-x\"",
      "\"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-0g\"",
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
    expect_attr_fails("traceparent", bad[i], SB_EINVAL,
                      "\"traceparent\" must be a W3C traceparent");
  expect_attr_ok("traceparent",
                 "\"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00\"");
}

static void expect_time_ms(const char *t, int64_t ms) {
  char raw[64];
  snprintf(raw, sizeof raw, "\"%s\"", t);
  char *body = event_with("time", raw);
  result_t r = parse(body);
  if (r.rc != 0) fail_msg("%s: %s", t, r.err);
  if (r.ev[0].time_ms != ms)
    fail_msg("%s: %lld != %lld", t, (long long)r.ev[0].time_ms, (long long)ms);
  sb_cloudevent_free(&r.ev, r.n);
  free(body);
}

static void test_time_is_validated_and_converted(void **state) {
  expect_time_ms("1970-01-01T00:00:00Z", 0);
  expect_time_ms("2026-03-01T12:00:00Z", INT64_C(1772366400000));
  expect_time_ms("2026-03-01T13:30:00.5+01:30", INT64_C(1772366400500));
  expect_time_ms("2026-03-01t12:00:00.123456789z", INT64_C(1772366400123));
  expect_time_ms("2024-02-29T00:00:00-00:00", INT64_C(1709164800000));
  expect_time_ms("1969-12-31T23:59:59Z", -1000);
  static const char *const bad[] = {
      "\"2026-02-29T00:00:00Z\"", "\"2026-13-01T00:00:00Z\"",
      "\"2026-03-01T24:00:00Z\"", "\"2026-03-01T12:00:00\"",
      "\"2026-03-01 12:00:00Z\"", "\"2026-03-01T12:00:00.Z\"",
      "\"2026-03-01T12:00:00+0100\"", "\"2026-3-1T12:00:00Z\"",
      "\"2026-03-01T12:00:00Zjunk\"", "\"yesterday\"",
      "\"2026-03-01T12:60:00Z\"", "\"2026-03-01T12:00:00+24:00\""};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
    expect_attr_fails("time", bad[i], SB_EINVAL, "\"time\" must be an RFC 3339");
}

/* ----------------------------------------------------------------- data */

static void expect_data_round_trip(const char *raw, const char *want) {
  char *body = event_with("data", raw);
  result_t r = parse(body);
  assert_int_equal(r.rc, 0);
  if (want == NULL)
    assert_null(r.ev[0].data);
  else
    assert_string_equal(r.ev[0].data, want);
  sb_cloudevent_free(&r.ev, r.n);
  free(body);
}

static void test_data_round_trips_as_compact_json(void **state) {
  expect_data_round_trip(
      "{ \"text\" : \"caf\xC3\xA9 \\u00e9 \\\"q\\\"\\n\",\n \"n\": [1, 2.5, true, null, {}] }",
      "{\"text\":\"caf\xC3\xA9 \xC3\xA9 \\\"q\\\"\\n\",\"n\":[1,2.5,true,null,{}]}");
  expect_data_round_trip("\"plain\"", "\"plain\"");
  expect_data_round_trip("17", "17");
  expect_data_round_trip("null", NULL);
  expect_data_round_trip("[]", "[]");
}

static void test_data_absent_is_null(void **state) {
  char *body = event_with("data", NULL);
  result_t r = parse(body);
  assert_int_equal(r.rc, 0);
  assert_null(r.ev[0].data);
  sb_cloudevent_free(&r.ev, r.n);
  free(body);
}

static void test_error_buffer_is_always_terminated(void **state) {
  char err[8];
  sb_cloudevent_t *ev = (sb_cloudevent_t *)1;
  size_t n = 99;
  memset(err, 'x', sizeof err);
  int rc = sb_cloudevent_parse("{", 1, NULL, &ev, &n, err, sizeof err, NULL);
  assert_int_equal(rc, SB_EPARSE);
  assert_int_equal(strlen(err), sizeof err - 1);
  assert_null(ev);
  rc = sb_cloudevent_parse("{", 1, NULL, &ev, &n, NULL, 0, NULL);
  assert_int_equal(rc, SB_EPARSE);
  sb_cloudevent_free(NULL, 0);
  sb_cloudevent_free(&ev, 0);
}

/* ------------------------------------------------------------ interaction */

static int ix(const char *json, sb_interaction_data_t *d, char *err) {
  memset(d, 0, sizeof *d);
  return sb_interaction_data_parse(json, d, err, ERR_LEN);
}

static void test_interaction_full_payload_parses(void **state) {
  sb_interaction_data_t d;
  char err[ERR_LEN];
  int rc = ix("{\"channel\":\"x\",\"customer\":\"1234567\",\"text\":\"@acme where is my bag?\","
              "\"public\":true,\"platform_message_id\":\"tw-1\",\"reply_to\":\"tw-0\","
              "\"author\":{\"name\":\"Ana\",\"followers\":15234},\"extra\":1}",
              &d, err);
  assert_int_equal(rc, 0);
  assert_string_equal(d.channel, "x");
  assert_string_equal(d.customer, "1234567");
  assert_string_equal(d.text, "@acme where is my bag?");
  assert_int_equal(d.is_public, 1);
  assert_string_equal(d.platform_message_id, "tw-1");
  assert_string_equal(d.reply_to, "tw-0");
  assert_string_equal(d.author_name, "Ana");
  assert_true(d.followers == 15234);
  sb_interaction_data_clear(&d);
  assert_null(d.text);
}

static void test_interaction_minimal_payload_defaults(void **state) {
  sb_interaction_data_t d;
  char err[ERR_LEN];
  assert_int_equal(ix("{\"channel\":\"sms\",\"customer\":\"+447700900123\",\"text\":\"\"}",
                      &d, err), 0);
  assert_int_equal(d.is_public, 0);
  assert_null(d.platform_message_id);
  assert_null(d.reply_to);
  assert_null(d.author_name);
  assert_true(d.followers == 0);
  sb_interaction_data_clear(&d);
  sb_interaction_data_clear(&d); /* idempotent */
}

static void expect_ix_fails(const char *json, int want, const char *needle) {
  sb_interaction_data_t d;
  char err[ERR_LEN] = "";
  int rc = ix(json, &d, err);
  if (rc != want || strstr(err, needle) == NULL)
    fail_msg("%s: rc %d err \"%s\"", json, rc, err);
  assert_null(d.channel);
  assert_null(d.customer);
  assert_null(d.text);
}

static void test_interaction_invalid_payloads_fail(void **state) {
  expect_ix_fails("{\"customer\":\"u\",\"text\":\"t\"}", SB_EINVAL,
                  "missing required field \"channel\"");
  expect_ix_fails("{\"channel\":\"x\",\"text\":\"t\"}", SB_EINVAL,
                  "missing required field \"customer\"");
  expect_ix_fails("{\"channel\":\"x\",\"customer\":\"u\"}", SB_EINVAL,
                  "missing required field \"text\"");
  expect_ix_fails("{\"channel\":\"myspace\",\"customer\":\"u\",\"text\":\"t\"}",
                  SB_EINVAL, "\"channel\" must be one of");
  expect_ix_fails("{\"channel\":\"X\",\"customer\":\"u\",\"text\":\"t\"}", SB_EINVAL,
                  "\"channel\" must be one of");
  expect_ix_fails("{\"channel\":\"x\",\"customer\":\"\",\"text\":\"t\"}", SB_EINVAL,
                  "\"customer\" must not be empty");
  expect_ix_fails("{\"channel\":\"x\",\"customer\":7,\"text\":\"t\"}", SB_EINVAL,
                  "\"customer\" must be a string");
  expect_ix_fails("{\"channel\":\"x\",\"customer\":\"u\",\"text\":\"t\",\"public\":\"yes\"}",
                  SB_EINVAL, "\"public\" must be a boolean");
  expect_ix_fails("{\"channel\":\"x\",\"customer\":\"u\",\"text\":\"t\",\"author\":\"Ana\"}",
                  SB_EINVAL, "\"author\" must be an object");
  expect_ix_fails("{\"channel\":\"x\",\"customer\":\"u\",\"text\":\"t\",\"author\":{\"followers\":-1}}",
                  SB_EINVAL, "\"followers\" must be an integer");
  expect_ix_fails("{\"channel\":\"x\",\"customer\":\"u\",\"text\":\"t\",\"author\":{\"followers\":1.5}}",
                  SB_EINVAL, "\"followers\" must be an integer");
  expect_ix_fails("{\"channel\":\"x\",\"customer\":\"u\",\"text\":\"t\",\"author\":{\"name\":3}}",
                  SB_EINVAL, "\"name\" must be a string");
  expect_ix_fails("{\"channel\":\"x\",\"customer\":\"u\",\"text\":\"t\",\"text\":\"u\"}",
                  SB_EINVAL, "duplicate field \"text\"");
  expect_ix_fails("{\"channel\":\"x\",\"customer\":\"u\",\"text\":\"t\"", SB_EPARSE,
                  "invalid JSON at byte");
  expect_ix_fails("[1]", SB_EINVAL, "data must be a JSON object");
  expect_ix_fails("{\"channel\":\"x\",\"customer\":\"u\",\"text\":\"\xC3\"}", SB_EPARSE,
                  "invalid UTF-8");
  expect_ix_fails(NULL, SB_EINVAL, "missing data");
}

static void test_interaction_size_limits(void **state) {
  char *t = quoted('t', 16 * 1024), *t1 = quoted('t', 16 * 1024 + 1);
  char *c = quoted('c', 256), *c1 = quoted('c', 257);
  char *json = malloc(40 * 1024);
  sb_interaction_data_t d;
  char err[ERR_LEN];
  snprintf(json, 40 * 1024, "{\"channel\":\"email\",\"customer\":%s,\"text\":%s}", c, t);
  assert_int_equal(ix(json, &d, err), 0);
  sb_interaction_data_clear(&d);
  snprintf(json, 40 * 1024, "{\"channel\":\"email\",\"customer\":%s,\"text\":%s}", c, t1);
  expect_ix_fails(json, SB_ETOOBIG, "\"text\" exceeds 16384 bytes");
  snprintf(json, 40 * 1024, "{\"channel\":\"email\",\"customer\":%s,\"text\":\"t\"}", c1);
  expect_ix_fails(json, SB_ETOOBIG, "\"customer\" exceeds 256 bytes");
  free(t), free(t1), free(c), free(c1), free(json);
}

static void test_interaction_accepts_every_channel(void **state) {
  static const char *const channels[] = {"x", "facebook", "messenger", "instagram",
                                         "whatsapp", "wechat", "email", "webchat",
                                         "sms", "voice", "app"};
  for (size_t i = 0; i < sizeof channels / sizeof channels[0]; i++) {
    char json[256], err[ERR_LEN];
    sb_interaction_data_t d;
    snprintf(json, sizeof json, "{\"channel\":\"%s\",\"customer\":\"u\",\"text\":\"t\"}",
             channels[i]);
    assert_int_equal(ix(json, &d, err), 0);
    assert_string_equal(d.channel, channels[i]);
    sb_interaction_data_clear(&d);
  }
}

/* ------------------------------------------------------------------ agent */

static int ag(const char *action, const char *json, sb_agent_data_t *d, char *err) {
  char type[128];
  snprintf(type, sizeof type, "com.switchboard.agent.%s", action);
  memset(d, 0, sizeof *d);
  return sb_agent_data_parse(type, json, d, err, ERR_LEN);
}

static void test_agent_login_defaults_capacity(void **state) {
  sb_agent_data_t d;
  char err[ERR_LEN];
  assert_int_equal(ag("login", "{\"agent\":\"ana.silva@acme-air\"}", &d, err), 0);
  assert_string_equal(d.action, "login");
  assert_string_equal(d.agent, "ana.silva@acme-air");
  assert_int_equal(d.capacity, 3);
  assert_null(d.conversation);
  sb_agent_data_clear(&d);
  assert_int_equal(ag("login", "{\"agent\":\"a1\",\"capacity\":100}", &d, err), 0);
  assert_int_equal(d.capacity, 100);
  sb_agent_data_clear(&d);
}

static void test_agent_actions_parse(void **state) {
  sb_agent_data_t d;
  char err[ERR_LEN];
  assert_int_equal(ag("logout", "{\"agent\":\"a1\"}", &d, err), 0);
  assert_string_equal(d.action, "logout");
  assert_int_equal(d.capacity, 0);
  sb_agent_data_clear(&d);
  assert_int_equal(ag("accept", "{\"agent\":\"a1\",\"conversation\":\"c-9\",\"capacity\":7}",
                      &d, err), 0);
  assert_string_equal(d.conversation, "c-9");
  assert_int_equal(d.capacity, 0); /* ignored unless login */
  sb_agent_data_clear(&d);
  assert_int_equal(ag("reply", "{\"agent\":\"a1\",\"conversation\":\"c-9\",\"text\":\"On it!\"}",
                      &d, err), 0);
  assert_string_equal(d.text, "On it!");
  sb_agent_data_clear(&d);
  assert_int_equal(ag("close", "{\"agent\":\"a1\",\"conversation\":\"c-9\",\"text\":\"x\"}",
                      &d, err), 0);
  assert_null(d.text); /* ignored unless reply */
  sb_agent_data_clear(&d);
}

static void test_agent_status_and_transfer_parse(void **state) {
  sb_agent_data_t d;
  char err[ERR_LEN];
  assert_int_equal(ag("status", "{\"agent\":\"a1\",\"status\":\"away\",\"reason\":\"lunch\"}",
                      &d, err), 0);
  assert_string_equal(d.status, "away");
  assert_string_equal(d.reason, "lunch");
  sb_agent_data_clear(&d);
  assert_int_equal(ag("transfer", "{\"agent\":\"a1\",\"conversation\":\"c\",\"queue\":\"pci\"}",
                      &d, err), 0);
  assert_string_equal(d.target_queue, "pci");
  assert_null(d.target_agent);
  sb_agent_data_clear(&d);
  assert_int_equal(ag("transfer", "{\"agent\":\"a1\",\"conversation\":\"c\",\"to_agent\":\"b2\"}",
                      &d, err), 0);
  assert_string_equal(d.target_agent, "b2");
  sb_agent_data_clear(&d);
  /* fields of other actions are ignored */
  assert_int_equal(ag("close", "{\"agent\":\"a1\",\"conversation\":\"c\",\"status\":\"away\"}",
                      &d, err), 0);
  assert_null(d.status);
  sb_agent_data_clear(&d);
}

static void expect_ag_fails(const char *action, const char *json, int want,
                            const char *needle) {
  sb_agent_data_t d;
  char err[ERR_LEN] = "";
  int rc = ag(action, json, &d, err);
  if (rc != want || strstr(err, needle) == NULL)
    fail_msg("%s %s: rc %d err \"%s\"", action, json ? json : "(null)", rc, err);
  assert_null(d.agent);
  assert_null(d.action);
}

static void test_agent_invalid_payloads_fail(void **state) {
  expect_ag_fails("login", "{}", SB_EINVAL, "missing required field \"agent\"");
  expect_ag_fails("login", "{\"agent\":\"ana silva\"}", SB_EINVAL,
                  "must match [A-Za-z0-9_.@-]{1,128}");
  expect_ag_fails("login", "{\"agent\":\"\"}", SB_EINVAL, "\"agent\"");
  expect_ag_fails("login", "{\"agent\":\"a\",\"capacity\":0}", SB_EINVAL,
                  "\"capacity\" must be an integer from 1 to 100");
  expect_ag_fails("login", "{\"agent\":\"a\",\"capacity\":101}", SB_EINVAL, "capacity");
  expect_ag_fails("login", "{\"agent\":\"a\",\"capacity\":2.5}", SB_EINVAL, "capacity");
  expect_ag_fails("login", "{\"agent\":\"a\",\"capacity\":\"3\"}", SB_EINVAL, "capacity");
  expect_ag_fails("accept", "{\"agent\":\"a\"}", SB_EINVAL,
                  "missing required field \"conversation\"");
  expect_ag_fails("reply", "{\"agent\":\"a\"}", SB_EINVAL, "\"conversation\"");
  expect_ag_fails("close", "{\"agent\":\"a\",\"conversation\":5}", SB_EINVAL,
                  "\"conversation\" must be a string");
  expect_ag_fails("dance", "{\"agent\":\"a\"}", SB_EINVAL, "type must be");
  expect_ag_fails("status", "{\"agent\":\"a\"}", SB_EINVAL, "missing required field \"status\"");
  expect_ag_fails("status", "{\"agent\":\"a\",\"status\":\"asleep\"}", SB_EINVAL,
                  "must be available, busy or away");
  expect_ag_fails("transfer", "{\"agent\":\"a\",\"conversation\":\"c\"}", SB_EINVAL,
                  "exactly one of");
  expect_ag_fails("transfer",
                  "{\"agent\":\"a\",\"conversation\":\"c\",\"queue\":\"q\",\"to_agent\":\"b\"}",
                  SB_EINVAL, "exactly one of");
  expect_ag_fails("transfer", "{\"agent\":\"a\",\"queue\":\"q\"}", SB_EINVAL,
                  "missing required field \"conversation\"");
  expect_ag_fails("login", NULL, SB_EINVAL, "missing data");
  expect_ag_fails("login", "{\"agent\":", SB_EPARSE, "invalid JSON");
  char *long_id = malloc(200);
  snprintf(long_id, 200, "{\"agent\":\"%0129d\"}", 0);
  expect_ag_fails("login", long_id, SB_ETOOBIG, "exceeds 128 bytes");
  free(long_id);
  sb_agent_data_t d;
  char err[ERR_LEN];
  assert_int_equal(sb_agent_data_parse("com.switchboard.interaction", "{\"agent\":\"a\"}",
                                       &d, err, sizeof err), SB_EINVAL);
  assert_int_equal(sb_agent_data_parse(NULL, "{\"agent\":\"a\"}", &d, err, sizeof err),
                   SB_EINVAL);
}

static void test_voice_kinds_and_fields_parse(void **state) {
  (void)state;
  char err[256];
  sb_voice_data_t d;
  assert_int_equal(sb_voice_kind("com.switchboard.voice.offered"), SB_VOICE_OFFERED);
  assert_int_equal(sb_voice_kind("com.switchboard.voice.abandoned"), SB_VOICE_ABANDONED);
  assert_int_equal(sb_voice_kind("com.switchboard.voice."), 0);
  assert_int_equal(sb_voice_kind("com.switchboard.agent.reply"), 0);
  assert_int_equal(sb_voice_data_parse("com.switchboard.voice.offered",
                                       "{\"call\":\"a:b@c.d-1\",\"caller\":\"+1 (555) 010-0100\","
                                       "\"ivr\":[\"a\",\"b\",\"c\",\"d\",\"e\",\"f\",\"g\",\"h\"]}",
                                       &d, err, sizeof err),
                   0);
  assert_int_equal(d.n_ivr, SB_VOICE_IVR_MAX); /* exactly the maximum is fine */
  assert_string_equal(d.ivr[7], "h");
  assert_null(d.agent);
  sb_voice_data_clear(&d);
  assert_int_equal(sb_voice_data_parse("com.switchboard.voice.answered", "{\"call\":\"c\",\"agent\":\"ana\"}", &d,
                                       err, sizeof err),
                   0);
  assert_string_equal(d.agent, "ana");
  assert_null(d.caller);
  sb_voice_data_clear(&d);
  /* abandoned may name no agent (hung up while queued); answered must */
  assert_int_equal(sb_voice_data_parse("com.switchboard.voice.abandoned", "{\"call\":\"c\"}", &d, err, sizeof err),
                   0);
  assert_null(d.agent);
  sb_voice_data_clear(&d);
  assert_int_not_equal(sb_voice_data_parse("com.switchboard.voice.answered", "{\"call\":\"c\"}", &d, err, sizeof err),
                       0);
  assert_non_null(strstr(err, "\"agent\""));
}

static void test_voice_hostile_payloads_fail(void **state) {
  (void)state;
  char err[256], big[400];
  sb_voice_data_t d;
  memset(big, 'c', 200);
  snprintf(big + 200, sizeof big - 200, "\"}");
  char call_long[512];
  snprintf(call_long, sizeof call_long, "{\"agent\":\"ana\",\"call\":\"%s", big);
  static const char *const bad[] = {
      "{\"call\":\"c\",\"caller\":\"+1555\",\"ivr\":[1]}",
      "{\"call\":\"c\",\"caller\":\"+1555\",\"ivr\":{\"a\":1}}",
      "{\"call\":\"c\",\"caller\":\"+1555\",\"ivr\":[\"\"]}",
      "{\"call\":\"c\",\"caller\":\"12\"}",
      "{\"call\":\"c\",\"caller\":\"+1555\",\"text\":\"\\u0000\"}",
      "{\"call\":7,\"caller\":\"+1555\"}",
      "[]",
      "{\"call\":\"c\",\"caller\":\"+1555\",\"caller\":\"+1556\"}",
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    if (sb_voice_data_parse("com.switchboard.voice.offered", bad[i], &d, err, sizeof err) == 0)
      fail_msg("accepted %s", bad[i]);
    assert_true(err[0] != '\0');
    assert_null(d.call);
  }
  assert_int_not_equal(sb_voice_data_parse("com.switchboard.voice.abandoned", call_long, &d, err, sizeof err), 0);
  assert_non_null(strstr(err, "\"call\""));
  assert_int_not_equal(sb_voice_data_parse("com.switchboard.voice.abandoned", NULL, &d, err, sizeof err), 0);
  assert_int_not_equal(sb_voice_data_parse("com.switchboard.voice.x", "{}", &d, err, sizeof err), 0);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_single_event_parses_all_attributes),
      cmocka_unit_test(test_optional_attributes_absent_are_null),
      cmocka_unit_test(test_batch_parses_in_order),
      cmocka_unit_test(test_batch_of_exactly_the_limit_parses),
      cmocka_unit_test(test_limits_default_values),
      cmocka_unit_test(test_unknown_extensions_are_ignored),
      cmocka_unit_test(test_body_need_not_be_nul_terminated),
      cmocka_unit_test(test_leading_bom_is_ignored),
      cmocka_unit_test(test_each_missing_required_attribute_is_named),
      cmocka_unit_test(test_missing_attribute_in_batch_reports_index),
      cmocka_unit_test(test_empty_required_strings_fail),
      cmocka_unit_test(test_wrong_specversion_fails),
      cmocka_unit_test(test_wrong_attribute_types_fail),
      cmocka_unit_test(test_duplicate_attribute_fails),
      cmocka_unit_test(test_data_base64_is_rejected_as_unsupported),
      cmocka_unit_test(test_invalid_json_reports_byte_offset),
      cmocka_unit_test(test_lenient_json_forms_are_rejected),
      cmocka_unit_test(test_empty_and_blank_bodies_fail),
      cmocka_unit_test(test_every_truncation_fails_cleanly),
      cmocka_unit_test(test_nul_byte_in_body_fails),
      cmocka_unit_test(test_escaped_nul_is_rejected),
      cmocka_unit_test(test_invalid_utf8_anywhere_fails),
      cmocka_unit_test(test_valid_multibyte_utf8_passes),
      cmocka_unit_test(test_deep_nesting_is_rejected_fast),
      cmocka_unit_test(test_nesting_limit_is_exact),
      cmocka_unit_test(test_brackets_inside_strings_do_not_count),
      cmocka_unit_test(test_oversized_batch_fails),
      cmocka_unit_test(test_empty_batch_fails),
      cmocka_unit_test(test_non_object_batch_item_fails),
      cmocka_unit_test(test_oversized_strings_fail),
      cmocka_unit_test(test_oversized_data_fails),
      cmocka_unit_test(test_control_characters_fail),
      cmocka_unit_test(test_bad_tenant_fails),
      cmocka_unit_test(test_bad_traceparent_fails),
      cmocka_unit_test(test_time_is_validated_and_converted),
      cmocka_unit_test(test_data_round_trips_as_compact_json),
      cmocka_unit_test(test_data_absent_is_null),
      cmocka_unit_test(test_error_buffer_is_always_terminated),
      cmocka_unit_test(test_interaction_full_payload_parses),
      cmocka_unit_test(test_interaction_minimal_payload_defaults),
      cmocka_unit_test(test_interaction_invalid_payloads_fail),
      cmocka_unit_test(test_interaction_size_limits),
      cmocka_unit_test(test_interaction_accepts_every_channel),
      cmocka_unit_test(test_agent_login_defaults_capacity),
      cmocka_unit_test(test_agent_actions_parse),
      cmocka_unit_test(test_agent_status_and_transfer_parse),
      cmocka_unit_test(test_agent_invalid_payloads_fail),
      cmocka_unit_test(test_voice_kinds_and_fields_parse),
      cmocka_unit_test(test_voice_hostile_payloads_fail),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
