/*
 * No clear PII at rest: card numbers and IBANs sent in through both event
 * doors (CloudEvents over HTTP, protobuf over ZeroMQ) appear nowhere in
 * Redis's append-only file or in any service's log once the bus has
 * processed them; their placeholders do (so the data went through,
 * redacted). Redis runs with appendfsync always so that the AOF
 * holds everything written.
 */
#include "sb_testutil.h"
#include "sb_teststack.h"

#include "sb_service.h"
#include "sbctl_stack.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#define CARD_SPACED "4111 1111 1111 1111"
#define CARD_DASHED "5555-5555-5555-4444"
#define IBAN "DE89 3704 0044 0532 0130 00"
#define OUT_MAX 4096

/* grep's exit status for a fixed string anywhere under dir (0: found). */
static int grep_dir(const char *dir, const char *what) {
  char cmd[1024];
  snprintf(cmd, sizeof cmd, "grep -raqF -- '%s' '%s'", what, dir);
  return WEXITSTATUS(system(cmd));
}

static void nothing_clear_in_the_aof_or_the_logs(void **state) {
  (void)state;
  sb_teststack_t *st = sb_teststack_start(NULL, "always");
  assert_non_null(st);
  char body[1024], out[OUT_MAX];
  snprintf(body, sizeof body,
           "{\"specversion\":\"1.0\",\"id\":\"pii-http\",\"source\":\"/web\",\"type\":\"com.switchboard.interaction\","
           "\"tenant\":\"acme-air\",\"data\":{\"channel\":\"webchat\",\"customer\":\"u9\",\"public\":true,"
           "\"text\":\"card " CARD_SPACED " and IBAN " IBAN "\"}}");
  assert_int_equal(sb_teststack_http(st, SB_PORT_INGEST_HTTP, "POST", "/v1/events", NULL, body, strlen(body),
                                     out, sizeof out), 202);
  sbctl_client_queue(sb_teststack_client(st),
                     sb_teststack_message(st, "shopco", "pii-zmq", "whatsapp", "+4915112345678",
                                          "Meine Karte " CARD_DASHED " wurde zweimal belastet"));
  assert_int_equal(sb_teststack_publish_all(st, 10000), 0);
  sbctl_stats_t s;
  assert_int_equal(sb_teststack_wait_drained(st, 2, 20000, &s), 0);
  const char *dir = sb_teststack_dir(st);
  assert_int_equal(grep_dir(dir, CARD_SPACED), 1);
  assert_int_equal(grep_dir(dir, "4111111111111111"), 1);
  assert_int_equal(grep_dir(dir, CARD_DASHED), 1);
  assert_int_equal(grep_dir(dir, IBAN), 1);
  assert_int_equal(grep_dir(dir, "DE89370400440532013000"), 1);
  assert_int_equal(grep_dir(dir, "[CARD]"), 0); /* the events are there, redacted */
  assert_int_equal(grep_dir(dir, "[IBAN]"), 0);
  sb_teststack_stop(&st);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(nothing_clear_in_the_aof_or_the_logs),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
