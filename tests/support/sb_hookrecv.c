/* sb_hookrecv: see sb_hookrecv.h. A blocking HTTP/1.0-style client talks to
 * the receiver's control paths (the test thread is not a loop). */
#include "sb_hookrecv.h"
#include "sb_testutil.h"

#include <arpa/inet.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define HOOKRECV_START_TIMEOUT_MS 5000
#define HOOKRECV_REPLY_MAX (8u << 20)

struct sb_hookrecv {
  pid_t pid;
  int port;
};

static long long now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static char *request(int port, const char *method, const char *path, const char *body) {
  return sb_test_http_body(port, method, path, body, HOOKRECV_REPLY_MAX);
}

sb_hookrecv_t *sb_hookrecv_start(int port) {
  sb_hookrecv_t *r = calloc(1, sizeof *r);
  r->port = port ? port : sb_test_free_port();
  char script[1024], ports[16];
  snprintf(script, sizeof script, "%s/tests/support/hook_receiver.py", sb_test_source_dir());
  snprintf(ports, sizeof ports, "%d", r->port);
  r->pid = fork();
  if (r->pid == 0) {
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    execl("/usr/bin/python3", "python3", script, ports, (char *)NULL);
    _exit(127);
  }
  long long until = now_ms() + HOOKRECV_START_TIMEOUT_MS;
  while (now_ms() < until) {
    char *b = request(r->port, "GET", "/_received", NULL);
    if (b) {
      free(b);
      return r;
    }
    usleep(20000);
  }
  sb_hookrecv_stop(&r);
  return NULL;
}

void sb_hookrecv_stop(sb_hookrecv_t **rp) {
  sb_hookrecv_t *r = *rp;
  if (!r)
    return;
  *rp = NULL;
  if (r->pid > 0) {
    kill(r->pid, SIGKILL);
    waitpid(r->pid, NULL, 0);
  }
  free(r);
}

int sb_hookrecv_port(const sb_hookrecv_t *r) { return r->port; }

int sb_hookrecv_mode(sb_hookrecv_t *r, const char *path, const char *mode) {
  char body[256];
  snprintf(body, sizeof body, "{\"path\":\"%s\",\"mode\":\"%s\"}", path, mode);
  char *b = request(r->port, "POST", "/_mode", body);
  free(b);
  return b ? 0 : -1;
}

cJSON *sb_hookrecv_received(sb_hookrecv_t *r, const char *path) {
  char *b = request(r->port, "GET", "/_received", NULL);
  cJSON *all = b ? cJSON_Parse(b) : NULL;
  free(b);
  if (!all || !path)
    return all;
  cJSON *out = cJSON_CreateArray();
  for (cJSON *e = all->child; e; e = e->next) {
    const cJSON *p = cJSON_GetObjectItem(e, "path");
    if (cJSON_IsString(p) && strcmp(p->valuestring, path) == 0)
      cJSON_AddItemToArray(out, cJSON_Duplicate(e, 1));
  }
  cJSON_Delete(all);
  return out;
}

int sb_hookrecv_count(sb_hookrecv_t *r, const char *path, int status) {
  cJSON *a = sb_hookrecv_received(r, path);
  int n = 0;
  for (cJSON *e = a ? a->child : NULL; e; e = e->next)
    n += !status || cJSON_GetObjectItem(e, "status")->valueint == status;
  cJSON_Delete(a);
  return n;
}

int sb_hookrecv_wait(sb_hookrecv_t *r, const char *path, int status, int n, int timeout_ms) {
  long long until = now_ms() + timeout_ms;
  int got;
  while ((got = sb_hookrecv_count(r, path, status)) < n && now_ms() < until)
    usleep(20000);
  return got;
}
