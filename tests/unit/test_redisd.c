/*
 * test_redisd: the private redis-server harness. Each test starts a real
 * redis-server and checks what it leaves behind: no process, no directory;
 * and that an AOF with appendfsync always survives kill -9 + restart.
 */
#define _GNU_SOURCE
#include "sb_error.h"
#include "sb_redisd.h"
#include "sb_testutil.h"

#include <errno.h>
#include <ftw.h>
#include <hiredis/hiredis.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define DEATH_WAIT_MS 5000

static redisContext *connect_to(const sb_redisd_t *d) {
  struct timeval tv = {1, 0};
  redisContext *c = redisConnectWithTimeout("127.0.0.1", sb_redisd_port(d), tv);
  assert_non_null(c);
  assert_int_equal(c->err, 0);
  return c;
}

/* Runs one command and returns its reply as a string ("" for nil). */
static void command_str(const sb_redisd_t *d, char *out, size_t cap, const char *fmt, ...) {
  redisContext *c = connect_to(d);
  va_list ap;
  va_start(ap, fmt);
  redisReply *r = redisvCommand(c, fmt, ap);
  va_end(ap);
  assert_non_null(r);
  if (r->type == REDIS_REPLY_ARRAY && r->elements == 2)
    snprintf(out, cap, "%s", r->element[1]->str);
  else
    snprintf(out, cap, "%s", r->str ? r->str : "");
  freeReplyObject(r);
  redisFree(c);
}

/* A pid counts as gone when it does not exist or is a zombie nobody reaps
 * (PID 1 of a container may not reap orphans). */
static int process_gone(pid_t pid) {
  char path[64], buf[256];
  if (kill(pid, 0) != 0 && errno == ESRCH)
    return 1;
  snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
  FILE *f = fopen(path, "r");
  if (!f)
    return 1;
  size_t n = fread(buf, 1, sizeof buf - 1, f);
  fclose(f);
  buf[n] = '\0';
  const char *p = strrchr(buf, ')');
  return p && p[1] == ' ' && p[2] == 'Z';
}

static int path_exists(const char *p) {
  struct stat st;
  return stat(p, &st) == 0;
}

static void test_start_stop_leaves_no_process_and_no_dir(void **state) {
  (void)state;
  sb_redisd_t *d = sb_redisd_start(NULL);
  assert_non_null(d);
  pid_t pid = sb_redisd_pid(d);
  char dir[4096], url[64];
  snprintf(dir, sizeof dir, "%s", sb_redisd_dir(d));
  snprintf(url, sizeof url, "redis://127.0.0.1:%d", sb_redisd_port(d));
  assert_true(pid > 0);
  assert_string_equal(sb_redisd_url(d), url);
  assert_true(path_exists(dir));
  char buf[64];
  command_str(d, buf, sizeof buf, "PING");
  assert_string_equal(buf, "PONG");
  sb_redisd_stop(&d);
  assert_null(d);
  assert_true(process_gone(pid));
  assert_false(path_exists(dir));
  sb_redisd_stop(&d); /* NULL is a no-op */
}

static void test_config_written_and_extra_args_applied(void **state) {
  (void)state;
  sb_redisd_opts_t o = {.extra_args = "--maxmemory 12345678  --enable-debug-command local"};
  sb_redisd_t *d = sb_redisd_start(&o);
  assert_non_null(d);
  char buf[256];
  command_str(d, buf, sizeof buf, "CONFIG GET maxmemory");
  assert_string_equal(buf, "12345678");
  command_str(d, buf, sizeof buf, "CONFIG GET appendonly");
  assert_string_equal(buf, "no");
  command_str(d, buf, sizeof buf, "CONFIG GET save");
  assert_string_equal(buf, "");
  command_str(d, buf, sizeof buf, "CONFIG GET bind");
  assert_string_equal(buf, "127.0.0.1");
  command_str(d, buf, sizeof buf, "CONFIG GET dir");
  assert_string_equal(buf, sb_redisd_dir(d));
  command_str(d, buf, sizeof buf, "DEBUG SLEEP 0");
  assert_string_equal(buf, "OK");
  sb_redisd_stop(&d);
}

static void test_aof_persists_across_kill9_and_restart(void **state) {
  (void)state;
  sb_redisd_opts_t o = {.appendonly = 1, .appendfsync = "always"};
  sb_redisd_t *d = sb_redisd_start(&o);
  assert_non_null(d);
  int port = sb_redisd_port(d);
  char buf[64];
  command_str(d, buf, sizeof buf, "CONFIG GET appendfsync");
  assert_string_equal(buf, "always");
  command_str(d, buf, sizeof buf, "SET %s %s", "durable", "yes");
  assert_string_equal(buf, "OK");
  pid_t old = sb_redisd_pid(d);
  assert_int_equal(sb_redisd_kill(d, SIGKILL), 0);
  assert_int_equal(sb_redisd_pid(d), 0);
  assert_true(process_gone(old));
  assert_int_equal(sb_redisd_kill(d, SIGKILL), SB_ESTATE);
  assert_int_equal(sb_redisd_restart(d), 0);
  assert_int_equal(sb_redisd_port(d), port);
  assert_true(sb_redisd_pid(d) > 0 && sb_redisd_pid(d) != old);
  assert_int_equal(sb_redisd_restart(d), SB_ESTATE);
  command_str(d, buf, sizeof buf, "GET %s", "durable");
  assert_string_equal(buf, "yes");
  sb_redisd_stop(&d);
}

static void test_sigterm_kill_then_restart_without_aof_is_empty(void **state) {
  (void)state;
  sb_redisd_t *d = sb_redisd_start(NULL);
  assert_non_null(d);
  char buf[64];
  command_str(d, buf, sizeof buf, "SET %s %s", "volatile", "x");
  assert_int_equal(sb_redisd_kill(d, SIGTERM), 0);
  assert_int_equal(sb_redisd_restart(d), 0);
  command_str(d, buf, sizeof buf, "GET %s", "volatile");
  assert_string_equal(buf, "");
  assert_int_equal(sb_redisd_kill(d, 0), SB_EINVAL);
  sb_redisd_stop(&d);
}

/* SIGSTOP freezes the server without ending it; SIGCONT thaws it. */
static void test_sigstop_freezes_and_sigcont_thaws(void **state) {
  (void)state;
  sb_redisd_t *d = sb_redisd_start(NULL);
  assert_non_null(d);
  pid_t pid = sb_redisd_pid(d);
  redisContext *c = connect_to(d);
  struct timeval tv = {0, 200 * 1000};
  assert_int_equal(redisSetTimeout(c, tv), REDIS_OK);
  assert_int_equal(sb_redisd_kill(d, SIGSTOP), 0);
  assert_int_equal(sb_redisd_pid(d), pid);
  redisReply *r = redisCommand(c, "PING");
  assert_null(r); /* timed out: frozen */
  redisFree(c);
  assert_int_equal(sb_redisd_kill(d, SIGCONT), 0);
  char buf[64];
  command_str(d, buf, sizeof buf, "PING");
  assert_string_equal(buf, "PONG");
  assert_int_equal(sb_redisd_kill(d, SIGSTOP), 0);
  sb_redisd_stop(&d); /* a frozen server still stops promptly */
  assert_true(process_gone(pid));
}

static int rm_entry(const char *p, const struct stat *st, int f, struct FTW *w) {
  (void)st, (void)f, (void)w;
  return remove(p);
}

static int dir_is_empty(const char *dir) {
  char cmd[4200];
  snprintf(cmd, sizeof cmd, "test -z \"$(ls -A '%s')\"", dir);
  return system(cmd) == 0;
}

static void test_bad_options_fail_cleanly_under_tmpdir(void **state) {
  (void)state;
  char tmp[] = "/tmp/sb-test-tmpdir-XXXXXX";
  assert_non_null(mkdtemp(tmp));
  const char *saved = getenv("TMPDIR");
  char *saved_copy = saved ? strdup(saved) : NULL;
  setenv("TMPDIR", tmp, 1);

  sb_redisd_opts_t bad_fsync = {.appendonly = 1, .appendfsync = "sometimes"};
  assert_null(sb_redisd_start(&bad_fsync));
  sb_redisd_opts_t bad_bin = {.redis_server = "/nonexistent/redis-server"};
  assert_null(sb_redisd_start(&bad_bin));
  sb_redisd_opts_t bad_arg = {.extra_args = "--no-such-option 1"};
  assert_null(sb_redisd_start(&bad_arg));
  assert_true(dir_is_empty(tmp));

  sb_redisd_t *d = sb_redisd_start(NULL); /* the dir honours $TMPDIR */
  assert_non_null(d);
  assert_memory_equal(sb_redisd_dir(d), tmp, strlen(tmp));
  sb_redisd_stop(&d);
  assert_true(dir_is_empty(tmp));

  if (saved_copy)
    setenv("TMPDIR", saved_copy, 1);
  else
    unsetenv("TMPDIR");
  free(saved_copy);
  nftw(tmp, rm_entry, 8, FTW_DEPTH | FTW_PHYS);
}

/* Reaps pid (an orphan reparented to us as subreaper) within the bound. */
static int reap_within(pid_t pid, int ms) {
  for (int i = 0; i < ms / 10; i++) {
    if (waitpid(pid, NULL, WNOHANG) == pid)
      return 1;
    usleep(10 * 1000);
  }
  return 0;
}

/* A parent that dies without sb_redisd_stop() (crash, Ctrl-C) takes its
 * redis-server with it. We become a subreaper so that the orphaned server is
 * reparented to us and reaped here (PID 1 of a sandbox may never reap it). */
static void test_child_dies_with_parent(void **state) {
  (void)state;
  assert_int_equal(prctl(PR_SET_CHILD_SUBREAPER, 1), 0);
  int fds[2];
  assert_int_equal(pipe(fds), 0);
  pid_t mid = fork();
  assert_true(mid >= 0);
  if (mid == 0) {
    close(fds[0]);
    sb_redisd_t *d = sb_redisd_start(NULL);
    char msg[4200];
    int n = snprintf(msg, sizeof msg, "%d %s\n", d ? (int)sb_redisd_pid(d) : 0,
                     d ? sb_redisd_dir(d) : "-");
    if (write(fds[1], msg, (size_t)n) != n)
      _exit(2);
    pause();
    _exit(0);
  }
  close(fds[1]);
  char msg[4200] = {0}, dir[4200] = {0};
  ssize_t n = read(fds[0], msg, sizeof msg - 1);
  close(fds[0]);
  assert_true(n > 0);
  int pid = 0;
  assert_int_equal(sscanf(msg, "%d %4199s", &pid, dir), 2);
  assert_true(pid > 0);
  assert_false(process_gone(pid));
  kill(mid, SIGKILL);
  waitpid(mid, NULL, 0);
  assert_true(reap_within(pid, DEATH_WAIT_MS));
  prctl(PR_SET_CHILD_SUBREAPER, 0);
  nftw(dir, rm_entry, 8, FTW_DEPTH | FTW_PHYS); /* nobody else will */
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_start_stop_leaves_no_process_and_no_dir),
      cmocka_unit_test(test_config_written_and_extra_args_applied),
      cmocka_unit_test(test_aof_persists_across_kill9_and_restart),
      cmocka_unit_test(test_sigterm_kill_then_restart_without_aof_is_empty),
      cmocka_unit_test(test_sigstop_freezes_and_sigcont_thaws),
      cmocka_unit_test(test_bad_options_fail_cleanly_under_tmpdir),
      cmocka_unit_test(test_child_dies_with_parent),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
