/*
 * libswitchboard-client as integrators get it: `cmake --install` of the
 * switchboard-client component into a temporary prefix, then
 * client/examples/publish_and_follow.c compiled with nothing but
 * `pkg-config --cflags --libs switchboard-client` (and once statically,
 * through Requires.private) by tests/clients/c/build_example.sh, and run
 * with LD_LIBRARY_PATH against a real stack: it exits 0 after printing an
 * ack for each event and an assignment for each, and the stack stored
 * exactly those events. The static build runs too (bad usage: exit 2).
 * The installed library is ABI version 1 (1.0.0 added the suggestion
 * fields to sbc_event_t): soname libswitchboard-client.so.1, no .so.0, and
 * the pkg-config file says 1.0.0.
 *
 * Under the sanitizer build the example is compiled with the same
 * sanitizers (clang), since the installed library is instrumented.
 */
#include "sb_testutil.h"
#include "sb_teststack.h"

#include "sb_service.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define TENANT "inst"
#define TENANTS "{\"tenants\":[{\"id\":\"" TENANT "\"}]}"
#define COUNT 7
#define EXIT_SKIP 77
#define SBC_SONAME "libswitchboard-client.so.1"
#define SBC_PC_VERSION "Version: 1.0.0\n"
enum { LINE_MAX_BYTES = 1024, CMD_MAX = 4096 };

#if defined(__SANITIZE_ADDRESS__)
#define SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SANITIZED 1
#endif
#endif
#ifndef SANITIZED
#define SANITIZED 0
#endif

static char workdir[256], libdir[LINE_MAX_BYTES];

/* Runs the install-and-build script; 0, or its exit status. */
static int build_example(void) {
  char cmd[CMD_MAX], line[LINE_MAX_BYTES];
  snprintf(cmd, sizeof cmd, "%s bash %s/tests/clients/c/build_example.sh %s %s/prefix %s/example 2>&1",
           SANITIZED ? "CC=clang CFLAGS='-fsanitize=address,undefined -fno-omit-frame-pointer'" : "",
           sb_test_source_dir(), sb_test_binary_dir(), workdir, workdir);
  FILE *p = popen(cmd, "r");
  assert_non_null(p);
  while (fgets(line, sizeof line, p)) {
    fputs(line, stdout);
    line[strcspn(line, "\n")] = '\0';
    if (strncmp(line, "LIBDIR ", 7) == 0)
      snprintf(libdir, sizeof libdir, "%s", line + 7);
  }
  int st = pclose(p);
  return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static void installed_example_publishes_and_sees_its_assignments(void **state) {
  (void)state;
  sb_teststack_t *st = sb_teststack_start(TENANTS, NULL);
  assert_non_null(st);
  int off = sb_teststack_offset(st);
  char cmd[CMD_MAX], line[LINE_MAX_BYTES];
  snprintf(cmd, sizeof cmd,
           "LD_LIBRARY_PATH=%s %s/example --publish tcp://127.0.0.1:%d --feed tcp://127.0.0.1:%d "
           "--tenant " TENANT " --count %d --agent inst-agent --timeout 60 2>&1",
           libdir, workdir, SB_PORT_INGEST_ZMQ + off, SB_PORT_NOTIFY_PUB + off, COUNT);
  FILE *p = popen(cmd, "r");
  assert_non_null(p);
  int acks = 0, assigned = 0, login = 0;
  while (fgets(line, sizeof line, p)) {
    fputs(line, stdout);
    acks += strncmp(line, "ACK example-", 12) == 0 && strstr(line, " ok ") != NULL;
    assigned += strncmp(line, "ASSIGNED example-", 17) == 0 && strstr(line, " inst-agent ") != NULL;
    login += strncmp(line, "LOGIN inst-agent ok", 19) == 0;
  }
  int status = pclose(p);
  assert_true(WIFEXITED(status));
  assert_int_equal(WEXITSTATUS(status), 0);
  assert_int_equal(login, 1);
  assert_int_equal(acks, COUNT);
  assert_int_equal(assigned, COUNT);
  sbctl_stats_t s = {0};
  assert_int_equal(sbctl_view_read(sb_teststack_redis(st), TENANT, &s), 0);
  assert_int_equal(s.ingested, COUNT + 1); /* the login and the messages, once each */
  sb_teststack_stop(&st);
  /* the static build links and runs (bad usage: 2) */
  snprintf(cmd, sizeof cmd, "%s/example-static --count 0 > /dev/null 2>&1", workdir);
  status = system(cmd);
  assert_true(WIFEXITED(status));
  assert_int_equal(WEXITSTATUS(status), 2);
}

static int exists(const char *dir, const char *name) {
  char path[LINE_MAX_BYTES + 64];
  snprintf(path, sizeof path, "%s/%s", dir, name);
  return access(path, F_OK) == 0;
}

static void installed_library_is_abi_version_1(void **state) {
  (void)state;
  assert_true(exists(libdir, SBC_SONAME));
  assert_false(exists(libdir, "libswitchboard-client.so.0"));
  char cmd[CMD_MAX], line[LINE_MAX_BYTES];
  /* the soname recorded in the library itself */
  snprintf(cmd, sizeof cmd, "readelf -d %s/" SBC_SONAME " 2>&1 | grep SONAME", libdir);
  FILE *p = popen(cmd, "r");
  assert_non_null(p);
  int soname = 0, pc = 0;
  while (fgets(line, sizeof line, p))
    soname += strstr(line, "[" SBC_SONAME "]") != NULL;
  pclose(p);
  assert_int_equal(soname, 1);
  snprintf(cmd, sizeof cmd, "%s/pkgconfig/switchboard-client.pc", libdir);
  p = fopen(cmd, "r");
  assert_non_null(p);
  while (fgets(line, sizeof line, p))
    pc += strcmp(line, SBC_PC_VERSION) == 0;
  fclose(p);
  assert_int_equal(pc, 1);
}

int main(void) {
  snprintf(workdir, sizeof workdir, "/tmp/sb-client-install-XXXXXX");
  if (!mkdtemp(workdir))
    return 1;
  int rc = build_example();
  if (rc == EXIT_SKIP || rc != 0 || !libdir[0]) {
    printf("%s: install or build of the example failed (%d)\n", rc == EXIT_SKIP ? "SKIP" : "FAIL", rc);
    return rc == EXIT_SKIP ? EXIT_SKIP : 1;
  }
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(installed_library_is_abi_version_1),
      cmocka_unit_test(installed_example_publishes_and_sees_its_assignments),
  };
  rc = cmocka_run_group_tests(tests, NULL, NULL);
  char cmd[CMD_MAX];
  snprintf(cmd, sizeof cmd, "rm -rf %s", workdir);
  if (system(cmd) != 0)
    printf("could not remove %s\n", workdir);
  return rc;
}
