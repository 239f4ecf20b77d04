/*
 * prelude.lua's protobuf writers against protobuf-c: every script appends
 * what it decided to stored envelopes with pb_uint / pb_bytes, so their
 * bytes must be exactly what protobuf-c writes and reads. Each value is
 * encoded by the script in a real redis-server and by protobuf-c
 * (Envelope.time_ms, field 5; Envelope.id, field 1), then compared, and the
 * script's bytes are read back by protobuf-c. Values cover every varint
 * length from 1 to 8 bytes at both edges, the largest exact Lua number and
 * one past 8 bytes.
 */
#include "sb_testutil.h"

#include "sb_envelope.h"
#include "sb_redisd.h"
#include "sb_script.h"
#include "sbctl_view.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static sb_redisd_t *redisd;
static redisContext *rc;

static int setup(void **state) {
  (void)state;
  redisd = sb_redisd_start(NULL);
  rc = redisd ? sbctl_view_connect(sb_redisd_url(redisd)) : NULL;
  return rc ? 0 : -1;
}

static int teardown(void **state) {
  (void)state;
  redisFree(rc);
  sb_redisd_stop(&redisd);
  return 0;
}

/* The script's reply to body (run after prelude.lua) with ARGV[1] = arg. */
static redisReply *eval(const char *body, const char *arg) {
  char *src = sb_script_source(body);
  const char *argv[] = {"EVAL", src, "1", "sb:{t:acme}:stats", arg};
  redisReply *r = redisCommandArgv(rc, 5, argv, NULL);
  free(src);
  assert_non_null(r);
  if (r->type != REDIS_REPLY_STRING)
    fail_msg("script: %s", r->str ? r->str : "not a string");
  return r;
}

static void pb_uint_matches_protobuf_c_at_every_length(void **state) {
  (void)state;
  long long values[40];
  size_t n = 0;
  values[n++] = 1;
  for (int bits = 7; bits <= 53; bits += 7) { /* each length's edges */
    values[n++] = (1LL << bits) - 1;
    values[n++] = 1LL << bits;
    values[n++] = (1LL << bits) + 12345;
  }
  values[n++] = (1LL << 53) - 1;   /* the largest exact Lua number */
  values[n++] = 1700000000123LL;   /* a time in ms: 6 bytes */
  values[n++] = 1764000000123456LL; /* a time in us: 8 bytes */
  values[n++] = 1LL << 60;          /* past 8 bytes (exact: a power of two) */
  for (size_t i = 0; i < n; i++) {
    char arg[32];
    snprintf(arg, sizeof arg, "%lld", values[i]);
    redisReply *r = eval("return pb_uint(5, tonumber(ARGV[1]))", arg);
    sb_envelope_t env = SWITCHBOARD__V1__ENVELOPE__INIT;
    env.time_ms = values[i];
    size_t len = 0;
    uint8_t *want = sb_envelope_pack(&env, &len);
    if (r->len != len || memcmp(r->str, want, len) != 0)
      fail_msg("pb_uint(5, %s): %zu bytes, protobuf-c %zu", arg, r->len, len);
    sb_envelope_t *back = sb_envelope_unpack(r->str, r->len);
    assert_non_null(back);
    assert_int_equal(back->time_ms, values[i]);
    sb_envelope_free(back);
    free(want);
    freeReplyObject(r);
  }
  /* zero is the default: nothing written, as protobuf-c writes nothing */
  redisReply *r = eval("return pb_uint(5, tonumber(ARGV[1]))", "0");
  assert_int_equal(r->len, 0);
  freeReplyObject(r);
}

static void pb_bytes_lengths_match_protobuf_c(void **state) {
  (void)state;
  const size_t lens[] = {1, 127, 128, 16383, 16384, 70000};
  for (size_t i = 0; i < sizeof lens / sizeof lens[0]; i++) {
    char *s = malloc(lens[i] + 1);
    memset(s, 'a' + (int)i, lens[i]);
    s[lens[i]] = '\0';
    redisReply *r = eval("return pb_bytes(1, ARGV[1])", s);
    sb_envelope_t env = SWITCHBOARD__V1__ENVELOPE__INIT;
    env.id = s;
    size_t len = 0;
    uint8_t *want = sb_envelope_pack(&env, &len);
    if (r->len != len || memcmp(r->str, want, len) != 0)
      fail_msg("pb_bytes of %zu bytes: %zu bytes, protobuf-c %zu", lens[i], r->len, len);
    free(want);
    freeReplyObject(r);
    free(s);
  }
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(pb_uint_matches_protobuf_c_at_every_length),
      cmocka_unit_test(pb_bytes_lengths_match_protobuf_c),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
