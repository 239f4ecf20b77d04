/*
 * sb_redisd: a private redis-server child (see sb_redisd.h).
 *
 * The idea: everything a private server needs lives in one mkdtemp directory
 * (redis.conf, redis.log, redis.stdio, the AOF), so stopping is "kill the
 * child, rm -rf the dir". The port is picked by binding port 0 on loopback
 * and closing the socket; another process can take it before redis binds it,
 * in which case redis exits at once and we retry on a fresh port.
 *
 * Readiness is "answers PING with PONG and INFO reports our child's pid":
 * PONG rules out a server still LOADING its AOF, the pid rules out a foreign
 * server that happens to sit on the port we picked.
 *
 * Invariants:
 *   - d->pid is the running child or 0; every child we fork is reaped by
 *     kill_and_reap() before d->pid goes back to 0.
 *   - The child sets PR_SET_PDEATHSIG before exec and checks its parent is
 *     still the one that forked it (the parent may die before prctl runs).
 *     It runs in its own process group, so a terminal's Ctrl-C reaches the
 *     parent only, which can then stop the services before their Redis.
 *   - Nothing is allocated between fork() and exec(): argv and paths are
 *     prepared in the parent (the parent may have other threads).
 */
#define _GNU_SOURCE
#include "sb_redisd.h"

#include "sb_error.h"
#include "sb_log.h"
#include "sb_port.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <hiredis/hiredis.h>
#include <limits.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define SB_REDISD_START_TIMEOUT_MS 5000 /* per attempt, until PING answers */
#define SB_REDISD_STOP_TIMEOUT_MS 5000  /* after a signal, before SIGKILL */
#define SB_REDISD_PORT_ATTEMPTS 5       /* ports tried when one is taken */
#define SB_REDISD_POLL_MS 20            /* pause between readiness probes */
#define SB_REDISD_PROBE_TIMEOUT_MS 200  /* connect/read timeout of one probe */
#define SB_REDISD_MAX_ARGS 32           /* extra_args words accepted */
#define SB_REDISD_EXEC_FAILED 127       /* child exit code when exec fails */
#define SB_REDISD_DIR_PREFIX "sb-redisd-"
#define SB_REDISD_NFTW_FDS 16
#define SB_REDISD_LOG_SCAN 65536 /* bytes of a log searched for a cause */
#define SB_REDISD_PORT_TAKEN "Address already in use"
#define SB_REDISD_DIR_MAX (PATH_MAX - 64) /* room for "/redis.conf" etc. */

struct sb_redisd {
  pid_t pid;
  int port;
  int appendonly;
  char appendfsync[16];
  char *extra_args;   /* owned copy or NULL */
  char *redis_server; /* owned copy */
  char *password;     /* from "--requirepass X" in extra_args, for probes */
  char *acl_file;     /* owned copy or NULL */
  char *probe_user;   /* owned copies or NULL: AUTH user password */
  char *probe_password;
  char dir[SB_REDISD_DIR_MAX];
  char conf[PATH_MAX];
  char stdio[PATH_MAX]; /* the child's stdout/stderr */
  char url[64];
};

/* argv for execvp, built in the parent; words point into buf. */
typedef struct {
  char *buf;
  char *argv[SB_REDISD_MAX_ARGS + 3];
} child_args_t;

static uint64_t now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static void sleep_ms(unsigned ms) {
  struct timespec ts = {ms / 1000u, (long)(ms % 1000u) * 1000000L};
  while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
  }
}

static void log_int(sb_log_level_t lvl, const char *event, const char *k, long v) {
  char buf[32];
  snprintf(buf, sizeof buf, "%ld", v);
  sb_log(lvl, event, k, buf, NULL);
}

/* redis.conf quotes paths with "..."; refuse paths that would need escapes. */
static int path_is_plain(const char *p) { return strpbrk(p, "\"\\\n\r") == NULL; }

static int write_conf(const sb_redisd_t *d) {
  FILE *f = fopen(d->conf, "w");
  if (!f)
    return SB_EIO;
  fprintf(f,
          "# written by sb_redisd; removed with this directory\n"
          "bind 127.0.0.1\nport %d\ndir \"%s\"\nsave \"\"\n"
          "appendonly %s\nappendfsync %s\nprotected-mode no\n"
          "daemonize no\nlogfile \"%s/redis.log\"\n",
          d->port, d->dir, d->appendonly ? "yes" : "no", d->appendfsync, d->dir);
  if (d->acl_file)
    fprintf(f, "aclfile \"%s\"\n", d->acl_file);
  int bad = ferror(f);
  if (fclose(f) != 0 || bad)
    return SB_EIO;
  return 0;
}

static int build_args(const sb_redisd_t *d, child_args_t *a) {
  memset(a, 0, sizeof *a);
  int n = 0;
  a->argv[n++] = d->redis_server;
  a->argv[n++] = (char *)d->conf;
  if (d->extra_args) {
    a->buf = strdup(d->extra_args);
    if (!a->buf)
      return SB_ENOMEM;
    char *save = NULL;
    for (char *w = strtok_r(a->buf, " \t", &save); w; w = strtok_r(NULL, " \t", &save)) {
      if (n >= SB_REDISD_MAX_ARGS + 2) {
        free(a->buf);
        return SB_EINVAL;
      }
      a->argv[n++] = w;
    }
  }
  a->argv[n] = NULL;
  return 0;
}

/* In the child, between fork and exec: only async-signal-safe calls. */
static void child_exec(const sb_redisd_t *d, const child_args_t *a, pid_t parent) {
  if (prctl(PR_SET_PDEATHSIG, SIGTERM) != 0 || getppid() != parent)
    _exit(1);
  setpgid(0, 0); /* Ctrl-C reaches the parent only; it stops us in order */
  /* Dispositions and the mask survive exec; give redis a clean slate. */
  const int sigs[] = {SIGPIPE, SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGCHLD};
  for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++)
    signal(sigs[i], SIG_DFL);
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, NULL);
  int in = open("/dev/null", O_RDONLY);
  int out = open(d->stdio, O_WRONLY | O_CREAT | O_APPEND, 0600);
  if (in < 0 || out < 0)
    _exit(1);
  dup2(in, STDIN_FILENO);
  dup2(out, STDOUT_FILENO);
  dup2(out, STDERR_FILENO);
  /* Do not let redis inherit our sockets (hiredis fds are not CLOEXEC). */
  if (close_range(3, ~0U, 0) != 0)
    for (int fd = 3; fd < 1024; fd++)
      close(fd);
  execvp(a->argv[0], a->argv);
  _exit(SB_REDISD_EXEC_FAILED);
}

static int spawn(sb_redisd_t *d) {
  child_args_t a;
  int rc = build_args(d, &a);
  if (rc != 0)
    return rc;
  pid_t parent = getpid();
  pid_t pid = fork();
  if (pid == 0)
    child_exec(d, &a, parent);
  free(a.buf);
  if (pid < 0) {
    sb_log(SB_LOG_ERROR, "redisd_fork_failed", "error", strerror(errno), NULL);
    return SB_EIO;
  }
  d->pid = pid;
  return 0;
}

/* Reaps the child if it exited; returns 1 and its status then, else 0. */
static int reap_nohang(sb_redisd_t *d, int *status) {
  pid_t w;
  do {
    w = waitpid(d->pid, status, WNOHANG);
  } while (w < 0 && errno == EINTR);
  if (w == 0)
    return 0;
  if (w < 0) /* ECHILD: SIGCHLD ignored, the kernel reaped it */
    *status = 0;
  d->pid = 0;
  return 1;
}

static void kill_and_reap(sb_redisd_t *d, int sig) {
  int status;
  if (d->pid == 0)
    return;
  kill(d->pid, sig);
  kill(d->pid, SIGCONT); /* a SIGSTOPped server cannot act on SIGTERM */
  uint64_t deadline = now_ms() + SB_REDISD_STOP_TIMEOUT_MS;
  while (!reap_nohang(d, &status)) {
    if (now_ms() >= deadline) {
      log_int(SB_LOG_WARN, "redisd_stop_timeout", "pid", (long)d->pid);
      kill(d->pid, SIGKILL);
      while (waitpid(d->pid, &status, 0) < 0 && errno == EINTR) {
      }
      d->pid = 0;
      return;
    }
    sleep_ms(SB_REDISD_POLL_MS / 4);
  }
}

/* Parses "process_id:NNN" out of an INFO server reply; -1 if absent. */
static long info_pid(const char *info) {
  const char *p = strstr(info, "process_id:");
  return p ? strtol(p + strlen("process_id:"), NULL, 10) : -1;
}

/* AUTH with the password given in extra_args, if any; 1 when usable. */
static int probe_auth(redisContext *c, const sb_redisd_t *d) {
  if (!d->password && !d->probe_user)
    return 1;
  redisReply *r = d->probe_user ? redisCommand(c, "AUTH %s %s", d->probe_user, d->probe_password)
                                : redisCommand(c, "AUTH %s", d->password);
  int ok = r && r->type == REDIS_REPLY_STATUS;
  freeReplyObject(r);
  return ok;
}

/* 1 when the server on d->port is our child and answers PONG. */
static int probe(const sb_redisd_t *d) {
  struct timeval tv = {0, SB_REDISD_PROBE_TIMEOUT_MS * 1000};
  redisContext *c = redisConnectWithTimeout("127.0.0.1", d->port, tv);
  if (!c)
    return 0;
  int ok = 0;
  if (!c->err && redisSetTimeout(c, tv) == REDIS_OK && probe_auth(c, d)) {
    redisReply *r = redisCommand(c, "PING");
    ok = r && r->type == REDIS_REPLY_STATUS && strcmp(r->str, "PONG") == 0;
    freeReplyObject(r);
    r = ok ? redisCommand(c, "INFO server") : NULL;
    ok = r && r->type == REDIS_REPLY_STRING && info_pid(r->str) == (long)d->pid;
    freeReplyObject(r);
  }
  redisFree(c);
  return ok;
}

/* Waits for the child to answer. 0 ready; SB_EIO the child exited (status in
 * *status); SB_ETIMEOUT it did not answer in time (it is then killed). */
static int wait_ready(sb_redisd_t *d, int *status) {
  uint64_t deadline = now_ms() + SB_REDISD_START_TIMEOUT_MS;
  for (;;) {
    if (reap_nohang(d, status))
      return SB_EIO;
    if (probe(d))
      return 0;
    if (now_ms() >= deadline) {
      kill_and_reap(d, SIGKILL);
      return SB_ETIMEOUT;
    }
    sleep_ms(SB_REDISD_POLL_MS);
  }
}

/* 1 when the first SB_REDISD_LOG_SCAN bytes of path contain needle. */
static int file_mentions(const char *path, const char *needle) {
  FILE *f = fopen(path, "r");
  if (!f)
    return 0;
  char *buf = malloc(SB_REDISD_LOG_SCAN + 1);
  size_t n = buf ? fread(buf, 1, SB_REDISD_LOG_SCAN, f) : 0;
  fclose(f);
  if (!buf)
    return 0;
  buf[n] = '\0';
  int found = memmem(buf, n, needle, strlen(needle)) != NULL;
  free(buf);
  return found;
}

static int port_was_taken(const sb_redisd_t *d) {
  char log[PATH_MAX];
  snprintf(log, sizeof log, "%s/redis.log", d->dir);
  return file_mentions(log, SB_REDISD_PORT_TAKEN) || file_mentions(d->stdio, SB_REDISD_PORT_TAKEN);
}

/* Spawns and waits once; logs why it failed. *fatal: no point retrying on
 * another port. */
static int run_once(sb_redisd_t *d, int *fatal) {
  int status = 0;
  *fatal = 1;
  int rc = spawn(d);
  if (rc != 0)
    return rc;
  rc = wait_ready(d, &status);
  if (rc == SB_ETIMEOUT) {
    sb_log(SB_LOG_ERROR, "redisd_start_timeout", "dir", d->dir, NULL);
  } else if (rc == SB_EIO && WIFEXITED(status) &&
             WEXITSTATUS(status) == SB_REDISD_EXEC_FAILED) {
    sb_log(SB_LOG_ERROR, "redisd_exec_failed", "redis_server", d->redis_server, NULL);
  } else if (rc == SB_EIO && port_was_taken(d)) {
    *fatal = 0;
    log_int(SB_LOG_WARN, "redisd_port_taken", "port", d->port);
  } else if (rc == SB_EIO) { /* e.g. a bad extra_args option */
    sb_log(SB_LOG_ERROR, "redisd_exited_early", "dir", d->dir, NULL);
  }
  return rc;
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw) {
  (void)st;
  (void)flag;
  (void)ftw;
  return remove(path) == 0 || errno == ENOENT ? 0 : -1;
}

static void remove_dir(const char *dir) {
  if (dir[0] && nftw(dir, rm_entry, SB_REDISD_NFTW_FDS, FTW_DEPTH | FTW_PHYS) != 0)
    sb_log(SB_LOG_WARN, "redisd_rmdir_failed", "dir", dir, "error", strerror(errno), NULL);
}

static void free_redisd(sb_redisd_t *d) {
  free(d->password);
  free(d->acl_file);
  free(d->probe_user);
  free(d->probe_password);
  free(d->extra_args);
  free(d->redis_server);
  free(d);
}

static int valid_fsync(const char *s) {
  return strcmp(s, "everysec") == 0 || strcmp(s, "always") == 0 || strcmp(s, "no") == 0;
}

/* The word after "--requirepass" in extra_args, copied; NULL if none. */
static char *find_password(const char *extra) {
  const char *opt = "--requirepass";
  const char *p = extra ? strstr(extra, opt) : NULL;
  if (!p || (p > extra && p[-1] != ' ' && p[-1] != '\t'))
    return NULL;
  p += strlen(opt);
  p += strspn(p, " \t");
  size_t n = strcspn(p, " \t");
  return n ? strndup(p, n) : NULL;
}

static sb_redisd_t *alloc_redisd(const sb_redisd_opts_t *o) {
  const char *fsync_mode = o && o->appendfsync ? o->appendfsync : "everysec";
  if (!valid_fsync(fsync_mode)) {
    sb_log(SB_LOG_ERROR, "redisd_bad_appendfsync", "value", fsync_mode, NULL);
    return NULL;
  }
  sb_redisd_t *d = calloc(1, sizeof *d);
  if (!d)
    return NULL;
  d->appendonly = o ? o->appendonly : 0;
  snprintf(d->appendfsync, sizeof d->appendfsync, "%s", fsync_mode);
  d->redis_server = strdup(o && o->redis_server ? o->redis_server : "redis-server");
  d->extra_args = o && o->extra_args ? strdup(o->extra_args) : NULL;
  d->password = find_password(d->extra_args);
  if (o && o->acl_file && path_is_plain(o->acl_file))
    d->acl_file = strdup(o->acl_file);
  if (o && o->probe_user) {
    d->probe_user = strdup(o->probe_user);
    d->probe_password = strdup(o->probe_password ? o->probe_password : "");
  }
  if ((o && o->acl_file && !d->acl_file) || (o && o->probe_user && (!d->probe_user || !d->probe_password))) {
    sb_log(SB_LOG_ERROR, "redisd_bad_acl_option", NULL);
    free_redisd(d);
    return NULL;
  }
  if (!d->redis_server || (o && o->extra_args && !d->extra_args)) {
    free_redisd(d);
    return NULL;
  }
  return d;
}

static int make_dir(sb_redisd_t *d) {
  const char *tmp = getenv("TMPDIR");
  if (!tmp || !tmp[0])
    tmp = "/tmp";
  int n = snprintf(d->dir, sizeof d->dir, "%s/" SB_REDISD_DIR_PREFIX "XXXXXX", tmp);
  if (n < 0 || (size_t)n >= sizeof d->dir || !path_is_plain(d->dir) || !mkdtemp(d->dir)) {
    sb_log(SB_LOG_ERROR, "redisd_mkdtemp_failed", "tmpdir", tmp, NULL);
    d->dir[0] = '\0';
    return SB_EIO;
  }
  snprintf(d->conf, sizeof d->conf, "%s/redis.conf", d->dir);
  snprintf(d->stdio, sizeof d->stdio, "%s/redis.stdio", d->dir);
  return 0;
}

sb_redisd_t *sb_redisd_start(const sb_redisd_opts_t *opts) {
  sb_redisd_t *d = alloc_redisd(opts);
  if (!d)
    return NULL;
  int rc = make_dir(d);
  for (int i = 0; rc == 0 && i < SB_REDISD_PORT_ATTEMPTS; i++) {
    int fatal = 1;
    d->port = sb_port_pick(); /* outside the ephemeral ports: see sb_port.h */
    rc = d->port > 0 ? write_conf(d) : SB_EIO;
    if (rc == 0)
      rc = run_once(d, &fatal);
    if (rc == 0) {
      snprintf(d->url, sizeof d->url, "redis://127.0.0.1:%d", d->port);
      return d;
    }
    if (fatal)
      break;
    rc = 0;
  }
  sb_log(SB_LOG_ERROR, "redisd_start_failed", "error", sb_err_name(rc ? rc : SB_EIO), NULL);
  remove_dir(d->dir);
  free_redisd(d);
  return NULL;
}

int sb_redisd_port(const sb_redisd_t *d) { return d->port; }
const char *sb_redisd_url(const sb_redisd_t *d) { return d->url; }
const char *sb_redisd_dir(const sb_redisd_t *d) { return d->dir; }
pid_t sb_redisd_pid(const sb_redisd_t *d) { return d->pid; }

/* Signals that pause or resume rather than end the server. */
static int is_job_control(int sig) {
  return sig == SIGSTOP || sig == SIGTSTP || sig == SIGCONT;
}

int sb_redisd_kill(sb_redisd_t *d, int sig) {
  if (!d || sig <= 0 || sig >= NSIG)
    return SB_EINVAL;
  if (d->pid == 0)
    return SB_ESTATE;
  if (is_job_control(sig))
    return kill(d->pid, sig) == 0 ? 0 : SB_EIO;
  kill_and_reap(d, sig);
  return 0;
}

int sb_redisd_restart(sb_redisd_t *d) {
  if (!d)
    return SB_EINVAL;
  if (d->pid != 0)
    return SB_ESTATE;
  int fatal;
  int rc = run_once(d, &fatal);
  if (rc != 0) {
    log_int(SB_LOG_ERROR, "redisd_restart_failed", "port", d->port);
    return SB_EIO;
  }
  return 0;
}

void sb_redisd_stop(sb_redisd_t **dp) {
  if (!dp || !*dp)
    return;
  sb_redisd_t *d = *dp;
  *dp = NULL;
  kill_and_reap(d, SIGTERM);
  remove_dir(d->dir);
  free_redisd(d);
}
