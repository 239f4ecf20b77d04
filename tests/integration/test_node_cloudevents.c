/*
 * The HTTP edge with a CloudEvents SDK: tests/clients/node/post_events.mjs
 * (the npm `cloudevents` package, a test tool pinned by package-lock.json)
 * posts one structured-mode and one binary-mode event to POST /v1/events of
 * a real stack: 202 for both, then 200 "duplicate" for each re-send. This
 * test checks that exactly two events were stored.
 *
 * SKIPs (77) when node/npm are missing or npm cannot install (no network):
 * tests/clients/node/run.sh decides, before the stack is started.
 */
#include "sb_testutil.h"
#include "sb_teststack.h"

#include "sb_service.h"

#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>

#define TENANT "node"
#define TENANTS "{\"tenants\":[{\"id\":\"" TENANT "\"}]}"

enum { CMD_MAX = 2048, EXIT_SKIP = 77 };

static sb_teststack_t *st;

static int setup(void **state) {
  (void)state;
  st = sb_teststack_start(TENANTS, NULL);
  return st ? 0 : -1;
}

static int teardown(void **state) {
  (void)state;
  sb_teststack_stop(&st);
  return 0;
}

/* Runs run.sh with args; its exit status, or -1. */
static int run(const char *args) {
  char cmd[CMD_MAX];
  snprintf(cmd, sizeof cmd, "bash %s/tests/clients/node/run.sh %s", sb_test_source_dir(), args);
  fflush(stdout);
  int status = system(cmd);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static void the_sdk_posts_structured_and_binary_events(void **state) {
  (void)state;
  char args[256];
  snprintf(args, sizeof args, "http://127.0.0.1:%d " TENANT,
           SB_PORT_INGEST_HTTP + sb_teststack_offset(st));
  assert_int_equal(run(args), 0); /* 202, 202, then 200 duplicate twice */
  sbctl_stats_t s = {0};
  assert_int_equal(sbctl_view_read(sb_teststack_redis(st), TENANT, &s), 0);
  assert_int_equal(s.ingested, 2);
}

int main(void) {
  int rc = run("--install");
  if (rc != 0)
    return rc == EXIT_SKIP ? EXIT_SKIP : 1;
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(the_sdk_posts_structured_and_binary_events),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
