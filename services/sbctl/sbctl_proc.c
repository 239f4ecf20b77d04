/* sbctl_proc: see sbctl_proc.h. */
#include "sbctl_proc.h"
#include "sb_service.h"
#include "sb_time.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#define SBCTL_PATH_MAX 4096
#define SBCTL_READY_POLL_US 20000
#define SBCTL_READYZ_TIMEOUT_MS 1000 /* one /readyz request */

const sbctl_service_t sbctl_services[SBCTL_NSERVICES] = {
    {"notify", SB_PORT_ADMIN_NOTIFY}, {"sla-timer", SB_PORT_ADMIN_SLA}, {"route", SB_PORT_ADMIN_ROUTE},
    {"classify", SB_PORT_ADMIN_CLASSIFY}, {"ingest", SB_PORT_ADMIN_INGEST},
};

pid_t sbctl_proc_spawn(const sbctl_proc_env_t *e, const char *name) {
  char bin[SBCTL_PATH_MAX + 64], log[SBCTL_PATH_MAX + 64], off[16];
  snprintf(bin, sizeof bin, "%s/sb-%s", e->bindir, name);
  snprintf(log, sizeof log, "%s/%s.log", e->logdir, name);
  snprintf(off, sizeof off, "%d", e->port_offset);
  pid_t pid = fork();
  if (pid != 0)
    return pid;
  /* its own process group: a terminal's Ctrl-C reaches only the parent,
   * which then stops the services gracefully, once */
  setpgid(0, 0);
  prctl(PR_SET_PDEATHSIG, SIGTERM);
  int fd = open(log, O_WRONLY | O_CREAT | O_APPEND, 0644);
  if (fd >= 0) {
    dup2(fd, STDERR_FILENO);
    dup2(fd, STDOUT_FILENO);
    close(fd);
  }
  setenv("SB_REDIS_URL", e->redis_url, 1);
  setenv("SB_TENANTS", e->tenants, 1);
  setenv("SB_PORT_OFFSET", off, 1);
  /* classify: the bundled rules and lexicons, unless the caller chose */
  setenv("SB_RULES", SB_SOURCE_DIR "/corpus/rules/default.json", 0);
  setenv("SB_LEXICONS", SB_SOURCE_DIR "/corpus/lexicons", 0);
  execl(bin, bin, (char *)NULL);
  fprintf(stderr, "cannot run %s: %s\n", bin, strerror(errno));
  _exit(127);
}

int sbctl_proc_readyz(int port) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  int status = -1;
  char buf[256];
  const char req[] = "GET /readyz HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n";
  /* bounded: whatever holds the port (another program, a hung service)
   * may never answer, and the readiness wait must still end */
  struct timeval tv = {.tv_sec = SBCTL_READYZ_TIMEOUT_MS / 1000,
                       .tv_usec = (SBCTL_READYZ_TIMEOUT_MS % 1000) * 1000};
  if (fd >= 0) {
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  }
  if (fd >= 0 && connect(fd, (struct sockaddr *)&a, sizeof a) == 0 &&
      write(fd, req, sizeof req - 1) == (ssize_t)(sizeof req - 1)) {
    ssize_t n = read(fd, buf, sizeof buf - 1);
    if (n > 12) {
      buf[n] = '\0';
      sscanf(buf, "HTTP/1.%*d %d", &status);
    }
  }
  if (fd >= 0)
    close(fd);
  return status;
}

int sbctl_proc_wait_ready(pid_t pid, int port, int timeout_ms) {
  int64_t until = sb_now_ms() + timeout_ms;
  while (sbctl_proc_readyz(port) != 200) {
    int st;
    if (waitpid(pid, &st, WNOHANG) == pid || sb_now_ms() > until)
      return -1;
    usleep(SBCTL_READY_POLL_US);
  }
  return 0;
}

void sbctl_proc_stop(pid_t *pids, int n, int timeout_ms) {
  for (int i = 0; i < n; i++)
    if (pids[i] > 0)
      kill(pids[i], SIGTERM);
  int64_t until = sb_now_ms() + timeout_ms;
  for (int i = 0; i < n; i++) {
    while (pids[i] > 0) {
      int st;
      pid_t w = waitpid(pids[i], &st, WNOHANG);
      if (w == pids[i] || (w < 0 && errno == ECHILD)) {
        pids[i] = 0;
      } else if (sb_now_ms() > until) {
        kill(pids[i], SIGKILL);
        waitpid(pids[i], &st, 0);
        pids[i] = 0;
      } else {
        usleep(SBCTL_READY_POLL_US);
      }
    }
  }
}
