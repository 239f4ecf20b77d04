/*
 * Graceful stop: SIGTERM to each stage while events flow. Each exits 0
 * within the drain timeout, and once restarted nothing acknowledged is
 * lost: what it had not committed is re-sent from its leases.
 */
#include "sb_testutil.h"
#include "sb_teststack.h"

#include <signal.h>
#include <stdio.h>
#include <sys/wait.h>
#include <unistd.h>
#include <zmq.h>

#define EVENTS 4000

static void sigterm_drains_exits_zero_and_loses_nothing(void **state) {
  (void)state;
  sb_teststack_t *st = sb_teststack_start(NULL, "everysec");
  assert_non_null(st);
  char id[32], customer[32];
  for (int i = 0; i < EVENTS; i++) {
    snprintf(id, sizeof id, "g-%d", i);
    snprintf(customer, sizeof customer, "c-%d", i % 900);
    sbctl_client_queue(sb_teststack_client(st),
                       sb_teststack_message(st, "shopco", id, "email", customer,
                                            "Bonjour, ma commande n'est jamais arrivée."));
  }
  static const char *const stages[] = {"classify", "route", "sla-timer", "notify"};
  for (int r = 0; r < 4; r++) {
    /* some traffic in flight, then the stop */
    sbctl_client_pump(sb_teststack_client(st));
    usleep(20000);
    int status = sb_teststack_kill(st, stages[r], SIGTERM);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
    assert_int_equal(sb_teststack_restart(st, stages[r]), 0);
  }
  assert_int_equal(sb_teststack_publish_all(st, 30000), 0);
  sbctl_client_stats_t cs;
  sbctl_client_stats(sb_teststack_client(st), &cs);
  assert_int_equal(cs.ok + cs.duplicate, EVENTS); /* a late write's re-send is a duplicate */
  sbctl_stats_t s;
  assert_int_equal(sb_teststack_wait_drained(st, EVENTS, 60000, &s), 0);
  assert_int_equal(s.routed_messages, EVENTS);
  printf("graceful stop: %d acknowledged, %lld routed, %lld lost\n", EVENTS, s.routed_messages,
         EVENTS - s.routed_messages);
  sb_teststack_stop(&st);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(sigterm_drains_exits_zero_and_loses_nothing),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
