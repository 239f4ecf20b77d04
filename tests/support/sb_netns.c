/* sb_netns: see sb_netns.h. */
#define _GNU_SOURCE
#include "sb_netns.h"

#include "sb_time.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#define NETNS_DIR "/var/run/netns" /* where `ip netns` keeps its names */
#define NETNS_PREFIX "sbn-"
#define NETNS_NAME_MAX 64
#define NETNS_PATH_MAX 96
#define NETNS_CMD_MAX 512
#define NETNS_POLL_US 20000
#define NETNS_NFTW_FDS 16
#define NETNS_SUBNET_A 10
#define NETNS_SUBNET_B 231
#define NETNS_SUBNETS 250 /* third octet: <pid> % 250 */

struct sb_netns {
  int nhosts;
  char host[SB_NETNS_HOSTS_MAX][32];
  char name[SB_NETNS_HOSTS_MAX + 1][NETNS_NAME_MAX]; /* [0] is the hub */
  char path[SB_NETNS_HOSTS_MAX + 1][NETNS_PATH_MAX]; /* made at creation: the signal path formats nothing */
  int made[SB_NETNS_HOSTS_MAX + 1];
  char addr[SB_NETNS_HOSTS_MAX][16];
  pid_t proc[SB_NETNS_PROCS_MAX];
  int root_fd; /* this process's own namespace, to go back to */
};

/* The one topology the atexit hook and the signal handler clean up: they
 * take no argument, so this is the one global of the module. */
static sb_netns_t *live;

/* Async-signal-safe: kill, waitpid, umount2 and unlink only. */
static void cleanup_now(sb_netns_t *ns) {
  for (int i = 0; i < SB_NETNS_PROCS_MAX; i++)
    if (ns->proc[i] > 0) {
      kill(ns->proc[i], SIGKILL);
      waitpid(ns->proc[i], NULL, 0);
      ns->proc[i] = 0;
    }
  for (int i = 0; i <= SB_NETNS_HOSTS_MAX; i++)
    if (ns->made[i]) {
      umount2(ns->path[i], MNT_DETACH);
      unlink(ns->path[i]);
      ns->made[i] = 0;
    }
}

static void on_exit_hook(void) {
  if (live)
    cleanup_now(live);
}

static void on_fatal_signal(int sig) {
  if (live)
    cleanup_now(live);
  signal(sig, SIG_DFL);
  raise(sig);
}

static void install_hooks(void) {
  static int installed;
  if (installed)
    return;
  installed = 1;
  atexit(on_exit_hook);
  static const int sigs[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGABRT};
  for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++)
    signal(sigs[i], on_fatal_signal);
}

/* Runs one shell command quietly; prints it with its output on failure. */
static int run(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int run(const char *fmt, ...) {
  char cmd[NETNS_CMD_MAX], full[NETNS_CMD_MAX + 64];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(cmd, sizeof cmd, fmt, ap);
  va_end(ap);
  snprintf(full, sizeof full, "%s >" SB_NETNS_TMP_PREFIX "%d.out 2>&1", cmd, (int)getpid());
  int rc = system(full);
  if (rc != 0) {
    fprintf(stderr, "netns: '%s' failed:\n", cmd);
    snprintf(full, sizeof full, "cat " SB_NETNS_TMP_PREFIX "%d.out >&2", (int)getpid());
    if (system(full) != 0)
      fprintf(stderr, "netns: (no output)\n");
  }
  snprintf(full, sizeof full, SB_NETNS_TMP_PREFIX "%d.out", (int)getpid());
  unlink(full);
  return rc == 0 ? 0 : -1;
}

int sb_netns_supported(char *why, size_t cap) {
  if (geteuid() != 0) {
    snprintf(why, cap, "not root (euid %d): network namespaces need CAP_SYS_ADMIN", (int)geteuid());
    return 0;
  }
  if (system("ip -V >/dev/null 2>&1") != 0) {
    snprintf(why, cap, "iproute2's ip is not installed");
    return 0;
  }
  pid_t pid = fork();
  if (pid == 0)
    _exit(unshare(CLONE_NEWNET) == 0 ? 0 : errno);
  int st = 0;
  if (pid < 0 || waitpid(pid, &st, 0) != pid || !WIFEXITED(st) || WEXITSTATUS(st) != 0) {
    snprintf(why, cap, "unshare(CLONE_NEWNET) refused: %s",
             pid > 0 && WIFEXITED(st) ? strerror(WEXITSTATUS(st)) : "no child");
    return 0;
  }
  char probe[NETNS_NAME_MAX];
  snprintf(probe, sizeof probe, NETNS_PREFIX "%d-probe", (int)getpid());
  if (run("ip netns add %s", probe) != 0) {
    snprintf(why, cap, "`ip netns add` failed (see above)");
    return 0;
  }
  run("ip netns del %s", probe);
  return 1;
}

static void kill_members(const char *name) {
  char cmd[NETNS_CMD_MAX];
  snprintf(cmd, sizeof cmd, "ip netns pids %s 2>/dev/null", name);
  FILE *p = popen(cmd, "r");
  int pid;
  while (p && fscanf(p, "%d", &pid) == 1)
    if (pid > 1 && pid != getpid())
      kill(pid, SIGKILL);
  if (p)
    pclose(p);
}

/* 1 when the run of pid is over (or was an earlier process with our pid). */
static int run_is_over(int pid) {
  return pid == getpid() || (kill(pid, 0) != 0 && errno == ESRCH);
}

static int remove_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw) {
  (void)sb, (void)flag, (void)ftw;
  return remove(path);
}

/* Removes the files and folders of runs that are over. */
static void sweep_tmp(void) {
  const char *base = strrchr(SB_NETNS_TMP_PREFIX, '/') + 1;
  DIR *d = opendir("/tmp");
  for (struct dirent *e; d && (e = readdir(d));) {
    int pid = 0, len = 0;
    char fmt[64];
    snprintf(fmt, sizeof fmt, "%s%%d%%n", base);
    if (sscanf(e->d_name, fmt, &pid, &len) != 1 || pid <= 0 || (e->d_name[len] != '-' && e->d_name[len] != '.') ||
        !run_is_over(pid))
      continue;
    char path[sizeof "/tmp/" + sizeof e->d_name];
    snprintf(path, sizeof path, "/tmp/%s", e->d_name);
    /* no shell: a name in /tmp is anybody's to choose */
    if (nftw(path, remove_entry, NETNS_NFTW_FDS, FTW_DEPTH | FTW_PHYS) != 0)
      fprintf(stderr, "netns: cannot remove %s\n", path);
  }
  if (d)
    closedir(d);
}

int sb_netns_sweep(void) {
  DIR *d = opendir(NETNS_DIR);
  int n = 0;
  for (struct dirent *e; d && (e = readdir(d));) {
    int pid = 0, len = 0;
    if (sscanf(e->d_name, NETNS_PREFIX "%d-%n", &pid, &len) != 1 || len == 0 || pid <= 0 ||
        !run_is_over(pid))
      continue; /* not ours, or another run still going */
    char path[sizeof NETNS_DIR + sizeof e->d_name];
    snprintf(path, sizeof path, NETNS_DIR "/%s", e->d_name);
    kill_members(e->d_name);
    umount2(path, MNT_DETACH);
    n += unlink(path) == 0;
  }
  if (d)
    closedir(d);
  sweep_tmp();
  return n;
}

static int add_ns(sb_netns_t *ns, int i, const char *suffix) {
  snprintf(ns->name[i], sizeof ns->name[i], NETNS_PREFIX "%d-%s", (int)getpid(), suffix);
  snprintf(ns->path[i], sizeof ns->path[i], NETNS_DIR "/" NETNS_PREFIX "%d-%s", (int)getpid(), suffix);
  if (run("ip netns add %s", ns->name[i]) != 0)
    return -1;
  ns->made[i] = 1;
  return run("ip -n %s link set lo up", ns->name[i]);
}

/* Host i: its namespace, a veth pair (h<i> on the bridge, eth0 inside). */
static int add_host(sb_netns_t *ns, int i, const char *host) {
  snprintf(ns->host[i], sizeof ns->host[i], "%s", host);
  snprintf(ns->addr[i], sizeof ns->addr[i], "%d.%d.%d.%d", NETNS_SUBNET_A, NETNS_SUBNET_B,
           (int)getpid() % NETNS_SUBNETS, i + 2);
  const char *hub = ns->name[0], *me = ns->name[i + 1];
  if (add_ns(ns, i + 1, host) != 0 ||
      run("ip -n %s link add h%d type veth peer name eth0 netns %s", hub, i, me) != 0 ||
      run("ip -n %s link set h%d master br0 up", hub, i) != 0 ||
      run("ip -n %s addr add %s/24 dev eth0", me, ns->addr[i]) != 0 ||
      run("ip -n %s link set eth0 up", me) != 0)
    return -1;
  ns->nhosts = i + 1;
  return 0;
}

sb_netns_t *sb_netns_new(const char *const *hosts, size_t n) {
  if (live || n > SB_NETNS_HOSTS_MAX)
    return NULL;
  sb_netns_t *ns = calloc(1, sizeof *ns);
  if (!ns)
    return NULL;
  ns->root_fd = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
  live = ns;
  install_hooks();
  int rc = ns->root_fd < 0 || add_ns(ns, 0, "hub") ||
           run("ip -n %s link add br0 type bridge", ns->name[0]) ||
           run("ip -n %s link set br0 up", ns->name[0]);
  for (size_t i = 0; rc == 0 && i < n; i++)
    rc = add_host(ns, (int)i, hosts[i]);
  if (rc != 0)
    sb_netns_destroy(&ns);
  return ns;
}

static int host_index(const sb_netns_t *ns, const char *host) {
  for (int i = 0; i < ns->nhosts; i++)
    if (strcmp(ns->host[i], host) == 0)
      return i;
  return -1;
}

const char *sb_netns_name(const sb_netns_t *ns, const char *host) {
  int i = host_index(ns, host);
  return i < 0 ? NULL : ns->name[i + 1];
}

const char *sb_netns_addr(const sb_netns_t *ns, const char *host) {
  int i = host_index(ns, host);
  return i < 0 ? NULL : ns->addr[i];
}

int sb_netns_loopback(sb_netns_t *ns, const char *host, int up) {
  const char *name = sb_netns_name(ns, host);
  return name ? run("ip -n %s link set lo %s", name, up ? "up" : "down") : -1;
}

int sb_netns_enter(sb_netns_t *ns, const char *host) {
  int i = host_index(ns, host);
  int fd = i < 0 ? -1 : open(ns->path[i + 1], O_RDONLY | O_CLOEXEC);
  int rc = fd >= 0 ? setns(fd, CLONE_NEWNET) : -1;
  if (rc != 0)
    fprintf(stderr, "netns: cannot enter %s: %s\n", host, strerror(errno));
  if (fd >= 0)
    close(fd);
  return rc;
}

pid_t sb_netns_spawn(sb_netns_t *ns, const char *host, const char *log, char *const argv[]) {
  const char *name = sb_netns_name(ns, host);
  int slot = 0;
  while (slot < SB_NETNS_PROCS_MAX && ns->proc[slot] > 0)
    slot++;
  if (!name || slot == SB_NETNS_PROCS_MAX)
    return -1;
  size_t argc = 0;
  while (argv[argc])
    argc++;
  char **full = calloc(argc + 5, sizeof *full);
  if (!full)
    return -1;
  full[0] = "ip", full[1] = "netns", full[2] = "exec", full[3] = (char *)name;
  memcpy(full + 4, argv, argc * sizeof *full);
  pid_t pid = fork();
  if (pid == 0) {
    setpgid(0, 0);
    prctl(PR_SET_PDEATHSIG, SIGKILL); /* survives exec: dies with the test */
    int fd = open(log, O_WRONLY | O_CREAT | O_APPEND, 0644);
    if (fd >= 0) {
      dup2(fd, STDOUT_FILENO);
      dup2(fd, STDERR_FILENO);
      close(fd);
    }
    execvp("ip", full);
    fprintf(stderr, "netns: cannot run ip: %s\n", strerror(errno));
    _exit(127);
  }
  free(full);
  if (pid > 0)
    ns->proc[slot] = pid;
  return pid;
}

int sb_netns_wait(sb_netns_t *ns, pid_t pid, int timeout_ms) {
  int slot = 0;
  while (slot < SB_NETNS_PROCS_MAX && (pid <= 0 || ns->proc[slot] != pid))
    slot++;
  if (slot == SB_NETNS_PROCS_MAX)
    return -1;
  int64_t until = sb_now_ms() + timeout_ms;
  int st = -1;
  pid_t w;
  while ((w = waitpid(pid, &st, WNOHANG)) == 0 && sb_now_ms() < until)
    usleep(NETNS_POLL_US);
  if (w == 0) {
    kill(pid, SIGKILL);
    w = waitpid(pid, &st, 0);
  }
  ns->proc[slot] = 0;
  return w == pid ? st : -1;
}

int sb_netns_stop(sb_netns_t *ns, pid_t pid, int timeout_ms) {
  for (int i = 0; pid > 0 && i < SB_NETNS_PROCS_MAX; i++)
    if (ns->proc[i] == pid)
      kill(pid, SIGTERM);
  return sb_netns_wait(ns, pid, timeout_ms);
}

void sb_netns_destroy(sb_netns_t **nsp) {
  sb_netns_t *ns = *nsp;
  if (!ns)
    return;
  *nsp = NULL;
  if (ns->root_fd >= 0) {
    if (setns(ns->root_fd, CLONE_NEWNET) != 0) /* leave the client host, if entered */
      fprintf(stderr, "netns: cannot go back to the root namespace: %s\n", strerror(errno));
    close(ns->root_fd);
  }
  cleanup_now(ns);
  if (live == ns)
    live = NULL;
  free(ns);
}
