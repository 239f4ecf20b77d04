/*
 * A client in another language works byte for byte: examples/python/
 * publish_and_subscribe.py, run with Debian's /usr/bin/python3 (python3-zmq,
 * python3-protobuf, code from `protoc --python_out` in <build>/python),
 * publishes over ZeroMQ to a real stack, gets ACK_OK and then ACK_DUPLICATE
 * for the same event, and finds its event on the notify feed, where
 * re-encoding the decoded Envelope gives the received bytes back. This test
 * then decodes those bytes once more with protobuf-c (sb_envelope_unpack)
 * and checks that the event was stored exactly once.
 *
 * SKIPs (77) when the generated module or the Python packages are missing
 * (see deps/debian-packages.txt).
 */
#include "sb_testutil.h"
#include "sb_teststack.h"

#include "sb_envelope.h"
#include "sb_service.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define PYTHON "/usr/bin/python3"
#define TENANT "py"
#define TENANTS "{\"tenants\":[{\"id\":\"" TENANT "\"}]}"
#define TEXT "Hello from Python: my order has not arrived"

enum { LINE_MAX_BYTES = 1 << 16, CMD_MAX = 2048, PATH_BYTES = 1024, EXIT_SKIP = 77 };

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

/* What the script printed. */
typedef struct {
  int acks_ok, acks_dup, exit_status;
  char topic[256];
  char *hex; /* malloc'd */
} run_t;

static void run_script(run_t *r) {
  char cmd[CMD_MAX];
  int off = sb_teststack_offset(st);
  snprintf(cmd, sizeof cmd,
           PYTHON " %s/examples/python/publish_and_subscribe.py --publish tcp://127.0.0.1:%d "
                  "--feed tcp://127.0.0.1:%d --tenant " TENANT " --proto-dir %s/python --timeout 30 2>&1",
           sb_test_source_dir(), SB_PORT_INGEST_ZMQ + off, SB_PORT_NOTIFY_PUB + off,
           sb_test_binary_dir());
  FILE *p = popen(cmd, "r");
  assert_non_null(p);
  char *line = malloc(LINE_MAX_BYTES);
  assert_non_null(line);
  memset(r, 0, sizeof *r);
  while (fgets(line, LINE_MAX_BYTES, p)) {
    fputs(line, stdout);
    line[strcspn(line, "\n")] = '\0';
    r->acks_ok += strncmp(line, "ACK py-", 7) == 0 && strstr(line, " ACK_OK") != NULL;
    r->acks_dup += strncmp(line, "ACK py-", 7) == 0 && strstr(line, " ACK_DUPLICATE") != NULL;
    char *sp = strncmp(line, "FEED ", 5) == 0 ? strchr(line + 5, ' ') : NULL;
    if (sp) {
      snprintf(r->topic, sizeof r->topic, "%.*s", (int)(sp - line - 5), line + 5);
      free(r->hex);
      r->hex = strdup(sp + 1);
    }
  }
  free(line);
  int status = pclose(p);
  r->exit_status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static uint8_t *from_hex(const char *hex, size_t *len) {
  size_t n = strlen(hex) / 2;
  uint8_t *out = malloc(n ? n : 1);
  assert_non_null(out);
  for (size_t i = 0; i < n; i++) {
    unsigned v;
    assert_int_equal(sscanf(hex + 2 * i, "%2x", &v), 1);
    out[i] = (uint8_t)v;
  }
  *len = n;
  return out;
}

static void python_publishes_and_reads_its_event_back(void **state) {
  (void)state;
  run_t r;
  run_script(&r);
  assert_int_equal(r.exit_status, 0);
  assert_int_equal(r.acks_ok, 1);
  assert_int_equal(r.acks_dup, 1);
  assert_non_null(r.hex);
  assert_true(strncmp(r.topic, TENANT ".", strlen(TENANT ".")) == 0);
  size_t len;
  uint8_t *bytes = from_hex(r.hex, &len);
  sb_envelope_t *env = sb_envelope_unpack(bytes, len); /* the C side reads Python's bytes */
  assert_non_null(env);
  assert_true(strncmp(env->id, "py-", 3) == 0);
  assert_string_equal(env->tenant, TENANT);
  assert_string_equal(env->source, "/examples/python");
  assert_int_equal(env->body_case, SWITCHBOARD__V1__ENVELOPE__BODY_INTERACTION);
  assert_int_equal(env->interaction->channel, SWITCHBOARD__V1__CHANNEL__CHANNEL_APP);
  assert_string_equal(env->interaction->text, TEXT);
  assert_int_equal(strlen(env->key), SB_EVENT_KEY_LEN);
  char key[SB_EVENT_KEY_LEN + 1];
  sb_event_key(env->source, env->id, key);
  assert_string_equal(env->key, key);
  sb_envelope_free(env);
  free(bytes);
  free(r.hex);
  sbctl_stats_t s = {0};
  assert_int_equal(sbctl_view_read(sb_teststack_redis(st), TENANT, &s), 0);
  assert_int_equal(s.ingested, 1); /* stored once, the re-send was a duplicate */
}

/* 0 when Python and the generated module are there; else prints why. */
static int prerequisites(void) {
  char path[PATH_BYTES];
  snprintf(path, sizeof path, "%s/python/switchboard_pb2.py", sb_test_binary_dir());
  if (access(path, R_OK) != 0) {
    printf("SKIP: %s missing (protobuf-compiler was not found when CMake configured)\n", path);
    return -1;
  }
  if (access(PYTHON, X_OK) != 0 ||
      system(PYTHON " -c 'import zmq, google.protobuf' > /dev/null 2>&1") != 0) {
    printf("SKIP: " PYTHON " lacks zmq or google.protobuf (apt-get install python3-zmq "
           "python3-protobuf)\n");
    return -1;
  }
  return 0;
}

int main(void) {
  if (prerequisites() != 0)
    return EXIT_SKIP;
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(python_publishes_and_reads_its_event_back),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
