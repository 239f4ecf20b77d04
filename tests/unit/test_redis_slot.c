/*
 * sb_redis_cluster_slot: the hash slot of a key must be the one Redis
 * computes, or every command of a cluster client lands on the wrong master
 * and comes back MOVED. Checked against the CRC16 check value, the
 * examples of the Redis Cluster specification, and a real cluster-enabled
 * redis-server's CLUSTER KEYSLOT on keys shaped like ours and on the hash
 * tag's corner cases. Also: cluster URLs the client must refuse.
 */
#include "sb_redis.h"
#include "sb_redis_cluster.h"
#include "sb_redisd.h"
#include "sb_testutil.h"

#include <hiredis/hiredis.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <uv.h>

#include <cmocka.h>

#define RANDOM_KEYS 500

static unsigned slot_of(const char *key) {
  return sb_redis_cluster_slot(key, strlen(key));
}

static void crc16_matches_the_known_vectors(void **state) {
  (void)state;
  assert_int_equal(slot_of("123456789"),
                   0x31C3 & 16383); /* CRC16/XMODEM check value */
  assert_int_equal(slot_of("foo"), 12182);
  assert_int_equal(slot_of("bar"), 5061);
  assert_int_equal(slot_of(""), 0);
}

static void hash_tag_rules_follow_the_cluster_spec(void **state) {
  (void)state;
  /* only the tag is hashed */
  assert_int_equal(slot_of("{user1000}.following"), slot_of("user1000"));
  assert_int_equal(slot_of("{user1000}.followers"),
                   slot_of("{user1000}.following"));
  /* the first '}' after the first '{' closes the tag */
  assert_int_equal(slot_of("foo{bar}{zap}"), slot_of("bar"));
  assert_int_equal(slot_of("foo{{bar}}zap"), slot_of("{bar"));
  /* an empty tag or an unclosed one: the whole key */
  assert_int_not_equal(slot_of("foo{}{bar}"), slot_of("bar"));
  assert_int_not_equal(slot_of("{a"), slot_of("a"));
  /* our keys: one tenant, one slot */
  assert_int_equal(slot_of("sb:{t:acme-air}:stats"),
                   slot_of("sb:{t:acme-air}:lease:route"));
  assert_int_equal(slot_of("sb:{t:acme-air}:stats"), slot_of("t:acme-air"));
  /* the length is honoured: bytes after it do not count */
  assert_int_equal(sb_redis_cluster_slot("{ab}cd", 3), slot_of("{ab"));
}

static unsigned keyslot(redisContext *c, const char *key, size_t len) {
  redisReply *r = redisCommand(c, "CLUSTER KEYSLOT %b", key, len);
  assert_non_null(r);
  assert_int_equal(r->type, REDIS_REPLY_INTEGER);
  unsigned s = (unsigned)r->integer;
  freeReplyObject(r);
  return s;
}

static void slots_equal_cluster_keyslot_of_a_real_server(void **state) {
  (void)state;
  char extra[128]; /* the bus port: port + 10000 may not exist */
  snprintf(extra, sizeof extra,
           "--cluster-enabled yes --cluster-config-file nodes.conf "
           "--cluster-port %d",
           sb_test_free_port());
  sb_redisd_opts_t o = {.extra_args = extra};
  sb_redisd_t *d = sb_redisd_start(&o);
  assert_non_null(d);
  redisContext *c = redisConnect("127.0.0.1", sb_redisd_port(d));
  assert_true(c && !c->err);
  static const char *const fixed[] = {"sb:{t:acme-air}:stats",
                                      "sb:{t:citytransit}:ev:x",
                                      "sb:{t:shopco}:lease:notify",
                                      "sb:{g}:stats",
                                      "{}",
                                      "{",
                                      "}",
                                      "}{",
                                      "a{b}c",
                                      "a{}b{c}",
                                      "{{x}}",
                                      "x{y",
                                      "{\xff\x00}"};
  for (size_t i = 0; i < sizeof fixed / sizeof fixed[0]; i++) {
    size_t len = i + 1 == sizeof fixed / sizeof fixed[0] ? 4 : strlen(fixed[i]);
    assert_int_equal(sb_redis_cluster_slot(fixed[i], len),
                     keyslot(c, fixed[i], len));
  }
  unsigned seed = 12345;
  char key[40];
  for (int i = 0; i < RANDOM_KEYS; i++) {
    size_t len = 1 + (seed = seed * 1103515245 + 12345) % (sizeof key - 1);
    for (size_t j = 0; j < len; j++) {
      seed = seed * 1103515245 + 12345;
      key[j] = (seed >> 16) % 7 == 0 ? "{}"[(seed >> 8) & 1]
                                     : (char)((seed >> 16) & 0xff);
    }
    assert_int_equal(sb_redis_cluster_slot(key, len), keyslot(c, key, len));
  }
  redisFree(c);
  sb_redisd_stop(&d);
}

static void bad_cluster_urls_are_refused(void **state) {
  (void)state;
  uv_loop_t loop;
  uv_loop_init(&loop);
  static const char *const bad[] = {"redis-cluster://",
                                    "redis-cluster://127.0.0.1",
                                    "redis-cluster://:6379",
                                    "redis-cluster://127.0.0.1:0",
                                    "redis-cluster://127.0.0.1:70000",
                                    "redis-cluster://127.0.0.1:1,",
                                    "redis-cluster://127.0.0.1:1/0",
                                    "redis-cluster://pw@127.0.0.1:1",
                                    "redis-cluster://[::1:6379",
                                    "redis-cluster://127.0.0.1:1,,127.0.0.1:2"};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
    assert_null(sb_redis_new(&loop, bad[i], NULL));
  sb_redis_t *r =
      sb_redis_new(&loop, "redis-cluster://:pw@127.0.0.1:1,[::1]:2", NULL);
  assert_non_null(r);
  assert_int_equal(sb_redis_is_connected(r), 0);
  sb_redis_destroy(&r);
  uv_run(&loop, UV_RUN_DEFAULT);
  assert_int_equal(uv_loop_close(&loop), 0);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(crc16_matches_the_known_vectors),
      cmocka_unit_test(hash_tag_rules_follow_the_cluster_spec),
      cmocka_unit_test(slots_equal_cluster_keyslot_of_a_real_server),
      cmocka_unit_test(bad_cluster_urls_are_refused),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
