/*
 * Fault: a stage that stalls, and a disk that fills.
 *
 *   - A stage stopped with SIGSTOP (a process that hangs, a VM paused, a
 *     peer behind a dead link) while events flow, then continued: the
 *     stages before it keep acknowledging (their leases wait in Redis); once
 *     it comes back every acknowledged event is routed exactly once.
 *   - Redis's AOF on a full disk (a 2 MiB tmpfs): ingest stops
 *     acknowledging (publishers are told to retry later, not lied to: no
 *     event is acknowledged that Redis could not write); when the disk has
 *     room again Redis and ingest recover by themselves, every event is
 *     acknowledged once and routed once, and every acknowledged event
 *     survives a kill -9 of Redis and a restart from the AOF.
 *     Mounting a tmpfs needs root and a mount namespace that allows it;
 *     elsewhere that case is skipped (and says so).
 */
#include "sb_testutil.h"
#include "sb_teststack.h"

#include "sb_time.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/wait.h>
#include <unistd.h>
#include <zmq.h>

#define STALL_EVENTS 2000
#define STALL_MS 3000
#define FULL_EVENTS 4000
#define TEXT_BYTES 1500

/* Pumps the publisher for ms milliseconds. */
static void pump_for(sb_teststack_t *st, int ms) {
  sbctl_client_t *c = sb_teststack_client(st);
  int64_t until = sb_now_ms() + ms;
  while (sb_now_ms() < until) {
    sbctl_client_pump(c);
    zmq_pollitem_t it = {sbctl_client_socket(c), 0, ZMQ_POLLIN, 0};
    if (zmq_poll(&it, 1, 20) > 0)
      sbctl_client_on_readable(c);
  }
}

static long long acknowledged(sb_teststack_t *st) {
  sbctl_client_stats_t s;
  sbctl_client_stats(sb_teststack_client(st), &s);
  /* a write that outlived ingest's Redis deadline is re-sent and answered
   * "duplicate": accepted once all the same */
  return (long long)(s.ok + s.duplicate);
}

static void queue_messages(sb_teststack_t *st, const char *prefix, int n, const char *text) {
  char id[96], customer[96];
  for (int i = 0; i < n; i++) {
    snprintf(id, sizeof id, "%s-%d", prefix, i);
    snprintf(customer, sizeof customer, "%s-c%d", prefix, i % 500);
    sbctl_client_queue(sb_teststack_client(st),
                       sb_teststack_message(st, "acme-air", id, "whatsapp", customer, text));
  }
}

static void a_stalled_stage_delays_but_loses_nothing(void **state) {
  (void)state;
  static const char *const stages[] = {"sb-classify", "sb-route", "sb-notify"};
  sb_teststack_t *st = sb_teststack_start(NULL, "everysec");
  assert_non_null(st);
  long long total = 0;
  for (int r = 0; r < 3; r++) {
    char prefix[32];
    snprintf(prefix, sizeof prefix, "stall-%d", r);
    pid_t pid = sb_test_child_pid(stages[r], NULL, NULL, 0);
    assert_true(pid > 0);
    queue_messages(st, prefix, STALL_EVENTS, "My flight was cancelled, can you rebook me?");
    pump_for(st, 100);
    assert_int_equal(kill(pid, SIGSTOP), 0);
    long long before = acknowledged(st);
    pump_for(st, STALL_MS);
    /* ingest keeps answering while a later stage hangs: the hand-off is
     * in Redis, the sender's lease waits */
    assert_true(acknowledged(st) > before || acknowledged(st) == total + STALL_EVENTS);
    assert_int_equal(kill(pid, SIGCONT), 0);
    assert_int_equal(sb_teststack_publish_all(st, 60000), 0);
    total += STALL_EVENTS;
    assert_int_equal(acknowledged(st), total);
    assert_int_equal(sb_test_child_pid(stages[r], NULL, NULL, 0), pid); /* the same process */
  }
  sbctl_stats_t s;
  int drained = sb_teststack_wait_drained(st, total, 90000, &s);
  printf("stall: acknowledged %lld, routed %lld, lost %lld, dead letters %lld\n", total,
         s.routed_messages, total - s.routed_messages, s.dead_letters);
  assert_int_equal(drained, 0);
  assert_int_equal(s.routed_messages, total); /* none lost, none twice */
  assert_int_equal(s.dead_letters, 0);
  sb_teststack_stop(&st);
}

/* ---- full disk ------------------------------------------------------------ */

static char mnt[] = "/tmp/sb-fulldisk-XXXXXX";

static int mount_small_tmpfs(void) {
  if (!mkdtemp(mnt))
    return -1;
  if (mount("tmpfs", mnt, "tmpfs", 0, "size=2m") != 0) {
    fprintf(stderr, "full disk: cannot mount a tmpfs (%s): case skipped\n", strerror(errno));
    rmdir(mnt);
    return -1;
  }
  return 0;
}

static void redis_refuses_on_a_full_disk_and_nothing_acknowledged_is_lost(void **state) {
  (void)state;
  if (getuid() != 0 || mount_small_tmpfs() != 0) {
    skip();
    return;
  }
  /* redis-server (its AOF, and the stack's logs) under the tmpfs */
  const char *old = getenv("TMPDIR");
  char *saved = old ? strdup(old) : NULL;
  setenv("TMPDIR", mnt, 1);
  sb_teststack_t *st = sb_teststack_start(NULL, "everysec");
  if (saved)
    setenv("TMPDIR", saved, 1);
  else
    unsetenv("TMPDIR");
  free(saved);
  assert_non_null(st);

  static char text[TEXT_BYTES + 1];
  for (int i = 0; i < TEXT_BYTES; i++)
    text[i] = "abcdefghij klmnopqrstuvwxyz"[i % 27];
  queue_messages(st, "full", FULL_EVENTS, text);
  /* about 2 MiB of events cannot all fit: the AOF write fails on the way */
  sbctl_client_stats_t s;
  int64_t until = sb_now_ms() + 60000;
  do {
    pump_for(st, 200);
    sbctl_client_stats(sb_teststack_client(st), &s);
  } while (s.retried == 0 && s.ok + s.duplicate < FULL_EVENTS && sb_now_ms() < until);
  printf("full disk: %llu acknowledged, %llu retry-later answers so far\n",
         (unsigned long long)(s.ok + s.duplicate), (unsigned long long)s.retried);
  assert_true(s.retried > 0);                        /* refused, not lied to */
  assert_true(s.ok + s.duplicate < FULL_EVENTS);    /* ... and not all taken */
  assert_int_equal(s.invalid + s.unknown_tenant, 0); /* a full disk is no client error */

  /* room again: Redis retries its AOF write, ingest its commits, the
   * client its retries; everything is acknowledged once */
  assert_int_equal(mount("tmpfs", mnt, "tmpfs", MS_REMOUNT, "size=256m"), 0);
  int published = sb_teststack_publish_all(st, 120000);
  sbctl_client_stats(sb_teststack_client(st), &s);
  printf("full disk: room again: sent %llu, acknowledged %llu, retry-later answers %llu, "
         "outstanding %zu\n", (unsigned long long)s.sent, (unsigned long long)(s.ok + s.duplicate),
         (unsigned long long)s.retried, sbctl_client_outstanding(sb_teststack_client(st)));
  assert_int_equal(published, 0);
  long long total = acknowledged(st);
  assert_int_equal(total, FULL_EVENTS);
  sbctl_stats_t v;
  int drained = sb_teststack_wait_drained(st, total, 120000, &v);
  printf("full disk: routed %lld, in flight %lld, dead letters %lld\n", v.routed_messages,
         sbctl_view_inflight(&v), v.dead_letters);
  assert_int_equal(drained, 0);
  assert_int_equal(v.routed_messages, total);

  /* and it is on disk: a crash of Redis now loses nothing acknowledged
   * (with everysec, at most the last second, which ended long ago) */
  sleep(2);
  sb_teststack_redis_kill(st, SIGKILL);
  assert_int_equal(sb_teststack_redis_restart(st), 0);
  assert_int_equal(sb_teststack_wait_drained(st, total, 60000, &v), 0);
  printf("full disk: acknowledged %lld, routed %lld after a Redis restart, lost %lld\n", total,
         v.routed_messages, total - v.routed_messages);
  assert_int_equal(v.routed_messages, total);
  sb_teststack_stop(&st);
  umount2(mnt, MNT_DETACH);
  rmdir(mnt);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(a_stalled_stage_delays_but_loses_nothing),
      cmocka_unit_test(redis_refuses_on_a_full_disk_and_nothing_acknowledged_is_lost),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
