/*
 * sbctl's stack (sbctl up, sbctl bench, loadgen): a service that cannot
 * start is reported at once with the end of its log (the log's folder is
 * removed with the private Redis, so the message must carry it), not after
 * the 20 s readiness wait, even when what holds its port never answers.
 * (The retry at another offset, when sbctl picked the offset, is not
 * forced here: the offset is random.) A stack whose offset sbctl picks has
 * every port, its private Redis's included, outside the kernel's ephemeral
 * range, where its own outgoing connections could take one first.
 */
#include "sb_testutil.h"

#include "sb_service.h"
#include "sb_time.h"
#include "sbctl_stack.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* sbctl_stack_start with stderr captured into out (at most cap - 1 bytes). */
static sbctl_stack_t *start_captured(const sbctl_stack_opts_t *o, char *out, size_t cap) {
  char path[] = "/tmp/sb-stack-stderr-XXXXXX";
  int fd = mkstemp(path), saved = dup(2);
  fflush(stderr);
  dup2(fd, 2);
  sbctl_stack_t *s = sbctl_stack_start(o, NULL);
  fflush(stderr);
  dup2(saved, 2);
  close(saved);
  ssize_t n = pread(fd, out, cap - 1, 0);
  out[n > 0 ? n : 0] = '\0';
  close(fd);
  unlink(path);
  return s;
}

static void a_service_that_cannot_bind_is_reported_with_its_log(void **state) {
  (void)state;
  char tenants[1024], bindir[1024], err[16384];
  snprintf(tenants, sizeof tenants, "%s/corpus/tenants.json", sb_test_source_dir());
  snprintf(bindir, sizeof bindir, "%s", SB_BINARY_DIR);
  int offset = 0, fd = -1;
  for (int o = 41000; fd < 0 && o < 41500; o += 37) /* notify starts first */
    if ((fd = sb_test_listen(SB_PORT_ADMIN_NOTIFY + o)) >= 0)
      offset = o;
  assert_true(fd >= 0);
  sbctl_stack_opts_t o = {.tenants = tenants, .port_offset = offset, .bindir = bindir};
  int64_t t0 = sb_now_ms();
  sbctl_stack_t *s = start_captured(&o, err, sizeof err);
  int64_t took = sb_now_ms() - t0;
  assert_null(s);
  if (!strstr(err, "sb-notify exited at start"))
    fail_msg("stderr: %s", err);
  assert_non_null(strstr(err, "notify.log:"));
  assert_non_null(strstr(err, "cannot serve admin endpoint")); /* notify's own reason */
  assert_true(took < 15000); /* not the readiness timeout */

  close(fd);
}

static void a_picked_offset_keeps_every_port_out_of_the_ephemeral_range(void **state) {
  (void)state;
  char tenants[1024], bindir[1024];
  snprintf(tenants, sizeof tenants, "%s/corpus/tenants.json", sb_test_source_dir());
  snprintf(bindir, sizeof bindir, "%s", SB_BINARY_DIR);
  int elo = 0, ehi = 0;
  sb_test_ephemeral_range(&elo, &ehi);
  sbctl_stack_opts_t o = {.tenants = tenants, .port_offset = -1, .bindir = bindir};
  sbctl_stack_t *s = sbctl_stack_start(&o, NULL);
  assert_non_null(s);
  const int ports[] = {SB_PORT_INGEST_HTTP, SB_PORT_INGEST_ZMQ, SB_PORT_NOTIFY_PUB,
                       SB_PORT_CLASSIFY_IN, SB_PORT_ROUTE_IN, SB_PORT_SLA_IN,
                       SB_PORT_NOTIFY_IN, SB_PORT_ADMIN_INGEST, SB_PORT_ADMIN_CLASSIFY,
                       SB_PORT_ADMIN_ROUTE, SB_PORT_ADMIN_SLA, SB_PORT_ADMIN_NOTIFY};
  int off = sbctl_stack_offset(s);
  for (size_t i = 0; i < sizeof ports / sizeof ports[0]; i++) {
    int p = ports[i] + off;
    if (p >= elo && p <= ehi)
      fail_msg("port %d (offset %d) is in the ephemeral range %d-%d", p, off, elo, ehi);
  }
  const char *url = sbctl_stack_redis_url(s), *colon = strrchr(url, ':');
  assert_non_null(colon);
  int rp = atoi(colon + 1);
  if (rp >= elo && rp <= ehi)
    fail_msg("the private Redis's port %d (%s) is in the ephemeral range", rp, url);
  sbctl_stack_stop(&s);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(a_service_that_cannot_bind_is_reported_with_its_log),
      cmocka_unit_test(a_picked_offset_keeps_every_port_out_of_the_ephemeral_range),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
