/* sbctl_stack: see sbctl_stack.h. */
#include "sbctl_stack.h"
#include "sb_port.h"
#include "sb_redisd.h"
#include "sb_service.h"
#include "sb_time.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define STACK_READY_MS 20000
#define STACK_STOP_MS 15000
#define STACK_OFFSET_TRIES 100
#define STACK_START_TRIES 3 /* offsets tried when a service exits at start */
#define STACK_LOG_TAIL 1500 /* bytes of a failed service's log shown */

struct sbctl_stack {
  sb_redisd_t *redisd;
  char redis_url[256];
  char logdir[1024];
  char tenants[1024];
  char bindir[1024];
  int offset;
  pid_t pids[SBCTL_NSERVICES];
};

/* An offset at which every default port of the stack is free, every one
 * in sb_port_range (outside the kernel's ephemeral ports: see sb_port.h),
 * or -1. */
static int pick_offset(void) {
  static const int bases[] = {SB_PORT_INGEST_HTTP, SB_PORT_INGEST_ZMQ, SB_PORT_NOTIFY_PUB,
                              SB_PORT_CLASSIFY_IN, SB_PORT_ROUTE_IN, SB_PORT_SLA_IN,
                              SB_PORT_NOTIFY_IN, SB_PORT_ADMIN_INGEST, SB_PORT_ADMIN_CLASSIFY,
                              SB_PORT_ADMIN_ROUTE, SB_PORT_ADMIN_SLA, SB_PORT_ADMIN_NOTIFY};
  int lo, hi, bmin = bases[0], bmax = bases[0];
  for (size_t i = 1; i < sizeof bases / sizeof bases[0]; i++) {
    bmin = bases[i] < bmin ? bases[i] : bmin;
    bmax = bases[i] > bmax ? bases[i] : bmax;
  }
  sb_port_range(&lo, &hi);
  int omin = lo - bmin > 1 ? lo - bmin : 1, omax = hi - bmax;
  if (omax < omin)
    return -1;
  srand((unsigned)(getpid() ^ sb_now_us()));
  for (int tries = 0; tries < STACK_OFFSET_TRIES; tries++) {
    int off = omin + rand() % (omax - omin + 1);
    int ok = 1;
    for (size_t i = 0; ok && i < sizeof bases / sizeof bases[0]; i++)
      ok = sb_port_free(bases[i] + off);
    if (ok)
      return off;
  }
  return -1;
}

static int index_of(const char *service) {
  for (int i = 0; i < SBCTL_NSERVICES; i++)
    if (strcmp(sbctl_services[i].name, service) == 0)
      return i;
  return -1;
}

/* The end of a service's log on stderr: the log lives in the private
 * Redis's folder, which is removed when the stack stops. */
static void log_tail(const sbctl_stack_t *s, int i) {
  char path[1200], buf[STACK_LOG_TAIL + 1];
  snprintf(path, sizeof path, "%s/%s.log", s->logdir, sbctl_services[i].name);
  FILE *f = fopen(path, "rb");
  if (!f)
    return;
  if (fseek(f, 0, SEEK_END) == 0 && ftell(f) > STACK_LOG_TAIL)
    fseek(f, -STACK_LOG_TAIL, SEEK_END);
  else
    fseek(f, 0, SEEK_SET);
  size_t n = fread(buf, 1, STACK_LOG_TAIL, f);
  fclose(f);
  buf[n] = '\0';
  fprintf(stderr, "%s%s", buf, n && buf[n - 1] != '\n' ? "\n" : "");
}

/* 0 ready; 1 the service exited at start (a port taken since the offset
 * was picked is the usual cause); -1 it did not get ready in time. */
static int start_service(sbctl_stack_t *s, int i) {
  sbctl_proc_env_t e = {s->bindir, s->logdir, s->redis_url, s->tenants, s->offset};
  s->pids[i] = sbctl_proc_spawn(&e, sbctl_services[i].name);
  if (s->pids[i] >= 0 &&
      !sbctl_proc_wait_ready(s->pids[i], sbctl_services[i].admin_port + s->offset, STACK_READY_MS))
    return 0;
  int exited = s->pids[i] < 0 || kill(s->pids[i], 0) != 0; /* reaped by the wait */
  if (exited)
    s->pids[i] = 0;
  fprintf(stderr, "sbctl: sb-%s %s (port offset %d); the end of its log, %s/%s.log:\n",
          sbctl_services[i].name, exited ? "exited at start" : "did not get ready", s->offset,
          s->logdir, sbctl_services[i].name);
  log_tail(s, i);
  return exited ? 1 : -1;
}

static int start_redis(sbctl_stack_t *s, const sbctl_stack_opts_t *o) {
  if (o->redis_url && *o->redis_url) {
    snprintf(s->redis_url, sizeof s->redis_url, "%s", o->redis_url);
    return 0;
  }
  sb_redisd_opts_t ro = {.appendonly = o->appendfsync != NULL, .appendfsync = o->appendfsync};
  s->redisd = sb_redisd_start(&ro);
  if (!s->redisd) {
    fprintf(stderr, "sbctl: cannot start redis-server (is it installed? make deps)\n");
    return -1;
  }
  snprintf(s->redis_url, sizeof s->redis_url, "%s", sb_redisd_url(s->redisd));
  return 0;
}

sbctl_stack_t *sbctl_stack_start(const sbctl_stack_opts_t *o, volatile sig_atomic_t *interrupted) {
  sbctl_stack_t *s = calloc(1, sizeof *s);
  if (!s)
    return NULL;
  snprintf(s->tenants, sizeof s->tenants, "%s", o->tenants);
  snprintf(s->bindir, sizeof s->bindir, "%s", o->bindir);
  s->offset = o->port_offset >= 0 ? o->port_offset : pick_offset();
  if (s->offset < 0 || start_redis(s, o)) {
    sbctl_stack_stop(&s);
    return NULL;
  }
  snprintf(s->logdir, sizeof s->logdir, "%s",
           o->logdir && *o->logdir ? o->logdir : s->redisd ? sb_redisd_dir(s->redisd) : "/tmp");
  mkdir(s->logdir, 0755);
  for (int attempt = 1;; attempt++) {
    int rc = 0;
    for (int i = 0; rc == 0 && i < SBCTL_NSERVICES; i++)
      rc = interrupted && *interrupted ? -1 : start_service(s, i);
    if (rc == 0)
      return s;
    /* ports picked here may be taken by another program before a service
     * binds them: start again elsewhere (with the same Redis) */
    sbctl_stack_stop_services(s);
    if (rc < 0 || o->port_offset >= 0 || attempt == STACK_START_TRIES ||
        (s->offset = pick_offset()) < 0)
      break;
    fprintf(stderr, "sbctl: starting the services again at port offset %d\n", s->offset);
  }
  sbctl_stack_stop(&s);
  return NULL;
}

void sbctl_stack_stop_services(sbctl_stack_t *s) {
  sbctl_proc_stop(s->pids, SBCTL_NSERVICES, STACK_STOP_MS);
}

void sbctl_stack_stop(sbctl_stack_t **sp) {
  sbctl_stack_t *s = *sp;
  if (!s)
    return;
  *sp = NULL;
  sbctl_stack_stop_services(s);
  sb_redisd_stop(&s->redisd);
  free(s);
}

int sbctl_stack_offset(const sbctl_stack_t *s) { return s->offset; }
const char *sbctl_stack_redis_url(const sbctl_stack_t *s) { return s->redis_url; }
const char *sbctl_stack_logdir(const sbctl_stack_t *s) { return s->logdir; }
int sbctl_stack_private_redis(const sbctl_stack_t *s) { return s->redisd != NULL; }
pid_t sbctl_stack_pid(const sbctl_stack_t *s, int i) { return s->pids[i]; }

int sbctl_stack_check(sbctl_stack_t *s) {
  for (int i = 0; i < SBCTL_NSERVICES; i++) {
    int st;
    if (s->pids[i] > 0 && waitpid(s->pids[i], &st, WNOHANG) == s->pids[i]) {
      s->pids[i] = 0;
      return i;
    }
  }
  return -1;
}

int sbctl_stack_kill(sbctl_stack_t *s, const char *service, int sig) {
  int i = index_of(service);
  if (i < 0 || s->pids[i] <= 0)
    return -1;
  kill(s->pids[i], sig);
  int st = -1;
  int64_t until = sb_now_ms() + STACK_STOP_MS;
  while (waitpid(s->pids[i], &st, WNOHANG) == 0 && sb_now_ms() < until)
    usleep(10000);
  sbctl_proc_stop(&s->pids[i], 1, STACK_STOP_MS); /* if it would not go: SIGKILL */
  return st;
}

int sbctl_stack_restart(sbctl_stack_t *s, const char *service) {
  int i = index_of(service);
  return i < 0 ? -1 : start_service(s, i);
}

int sbctl_stack_redis_kill(sbctl_stack_t *s, int sig) {
  return s->redisd ? sb_redisd_kill(s->redisd, sig) : -1;
}

int sbctl_stack_redis_restart(sbctl_stack_t *s) {
  return s->redisd ? sb_redisd_restart(s->redisd) : -1;
}
