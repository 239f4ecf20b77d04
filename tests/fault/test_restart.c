/*
 * Fault: each receiving stage is killed with SIGKILL while events flow,
 * then restarted. Every event ingest acknowledged must still be routed
 * exactly once (the senders' sweepers re-send what the dead stage had not
 * committed), with no conversation assigned twice.
 */
#include "sb_testutil.h"
#include "sb_teststack.h"

#include "sb_time.h"

#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <zmq.h>

#define PER_ROUND 3000
#define KILL_AFTER 1000

/* Pumps the publisher until at least n events were acknowledged. */
static void pump_until_acked(sb_teststack_t *st, uint64_t n) {
  sbctl_client_t *c = sb_teststack_client(st);
  sbctl_client_stats_t s;
  int64_t until = sb_now_ms() + 30000;
  do {
    sbctl_client_pump(c);
    zmq_pollitem_t it = {sbctl_client_socket(c), 0, ZMQ_POLLIN, 0};
    if (zmq_poll(&it, 1, 20) > 0)
      sbctl_client_on_readable(c);
    sbctl_client_stats(c, &s);
  } while (s.ok < n && sb_now_ms() < until);
}

static void kill_and_restart_loses_nothing(sb_teststack_t *st, const char *stage, int round) {
  char id[64], customer[32];
  sbctl_client_stats_t before;
  sbctl_client_stats(sb_teststack_client(st), &before);
  for (int i = 0; i < PER_ROUND; i++) {
    snprintf(id, sizeof id, "%s-%d-%d", stage, round, i);
    snprintf(customer, sizeof customer, "c-%d-%d", round, i % 700);
    sbctl_client_queue(sb_teststack_client(st),
                       sb_teststack_message(st, "acme-air", id, "whatsapp", customer,
                                            "Where is my bag? It did not arrive in Lisbon."));
  }
  pump_until_acked(st, before.ok + KILL_AFTER);
  int status = sb_teststack_kill(st, stage, SIGKILL);
  assert_true(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
  usleep(300000);
  assert_int_equal(sb_teststack_restart(st, stage), 0);
  assert_int_equal(sb_teststack_publish_all(st, 30000), 0);
}

static void a_killed_stage_loses_no_acknowledged_event(void **state) {
  (void)state;
  sb_teststack_t *st = sb_teststack_start(NULL, "everysec");
  assert_non_null(st);
  sbctl_client_queue(sb_teststack_client(st),
                     sb_teststack_agent_event(st, "acme-air", "login-1", "login", "agent-1", NULL, 50));
  assert_int_equal(sb_teststack_publish_all(st, 10000), 0);
  static const char *const stages[] = {"classify", "route", "sla-timer", "notify"};
  for (int r = 0; r < 4; r++)
    kill_and_restart_loses_nothing(st, stages[r], r);
  sbctl_client_stats_t cs;
  sbctl_client_stats(sb_teststack_client(st), &cs);
  /* minus the login; a write that outlived ingest's Redis deadline was
   * re-sent and answered "duplicate": accepted once all the same */
  long long messages = (long long)(cs.ok + cs.duplicate) - 1;
  assert_int_equal(messages, 4 * PER_ROUND);
  sbctl_stats_t s;
  /* leases expire after 5 s, then the sweepers re-send */
  int drained = sb_teststack_wait_drained(st, messages, 60000, &s);
  printf("restart: acknowledged %lld, routed %lld, lost %lld, assigned %lld, dead letters %lld\n",
         messages, s.routed_messages, messages - s.routed_messages, s.assigned, s.dead_letters);
  assert_int_equal(drained, 0);
  assert_int_equal(s.routed_messages, messages); /* none lost, none twice */
  assert_true(s.assigned <= 50);                  /* capacity held through restarts */
  sb_teststack_stop(&st);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(a_killed_stage_loses_no_acknowledged_event),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
