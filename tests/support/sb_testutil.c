/* sb_testutil: see sb_testutil.h. */
#include "sb_testutil.h"
#include "sb_port.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <uv.h>

const char *sb_test_source_dir(void) { return SB_SOURCE_DIR; }
const char *sb_test_binary_dir(void) { return SB_BINARY_DIR; }

int sb_test_free_port(void) { return sb_port_pick(); }

int sb_test_listen(int port) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0)
    return -1;
  struct sockaddr_in a;
  memset(&a, 0, sizeof a);
  a.sin_family = AF_INET;
  a.sin_port = htons((uint16_t)port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  int one = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (bind(fd, (struct sockaddr *)&a, sizeof a) || listen(fd, 1)) {
    close(fd);
    return -1;
  }
  return fd;
}

void sb_test_ephemeral_range(int *lo, int *hi) {
  FILE *f = fopen("/proc/sys/net/ipv4/ip_local_port_range", "r");
  assert_non_null(f);
  assert_int_equal(fscanf(f, "%d %d", lo, hi), 2);
  fclose(f);
}

/* The value of env_name in /proc/<pid>/environ, into val. */
static int child_env(pid_t pid, const char *env_name, char *val, size_t cap) {
  char path[64], buf[8192];
  snprintf(path, sizeof path, "/proc/%d/environ", (int)pid);
  FILE *f = fopen(path, "r");
  size_t n = f ? fread(buf, 1, sizeof buf - 1, f) : 0, len = strlen(env_name);
  if (f)
    fclose(f);
  buf[n] = '\0';
  for (size_t at = 0; at < n; at += strlen(buf + at) + 1)
    if (strncmp(buf + at, env_name, len) == 0 && buf[at + len] == '=') {
      snprintf(val, cap, "%s", buf + at + len + 1);
      return 0;
    }
  return -1;
}

pid_t sb_test_child_pid(const char *comm, const char *env_name, char *val, size_t cap) {
  DIR *d = opendir("/proc");
  struct dirent *de;
  pid_t found = -1;
  while (d && found < 0 && (de = readdir(d)) != NULL) {
    pid_t pid = (pid_t)atoi(de->d_name);
    char path[64], name[64] = "";
    int ppid = 0;
    if (pid <= 0)
      continue;
    snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
    FILE *f = fopen(path, "r");
    if (!f)
      continue;
    int ok = fscanf(f, "%*d (%63[^)]) %*c %d", name, &ppid) == 2 && ppid == getpid() &&
             strcmp(name, comm) == 0;
    fclose(f);
    if (ok && (!env_name || child_env(pid, env_name, val, cap) == 0))
      found = pid;
  }
  if (d)
    closedir(d);
  return found;
}

void sb_test_write_file(const char *path, const char *text) {
  char tmp[1024];
  snprintf(tmp, sizeof tmp, "%s.new", path);
  FILE *f = fopen(tmp, "w");
  assert_non_null(f);
  assert_true(fputs(text, f) >= 0);
  assert_int_equal(fclose(f), 0);
  assert_int_equal(rename(tmp, path), 0);
}

long long sb_test_metric(const char *body, const char *name, const char *label) {
  size_t n = strlen(name);
  for (const char *at = strstr(body, name); at; at = strstr(at + 1, name)) {
    if ((at != body && at[-1] != '\n') || at[n] != '{')
      continue;
    const char *close = strchr(at, '}'), *l = strstr(at, label);
    if (close && l && l < close)
      return atoll(close + 2);
  }
  return 0;
}

char *sb_test_http_body(int port, const char *method, const char *path, const char *body,
                        size_t max) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof a) != 0) {
    if (fd >= 0)
      close(fd);
    return NULL;
  }
  size_t len = body ? strlen(body) : 0;
  char head[256];
  int hl = snprintf(head, sizeof head,
                    "%s %s HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n"
                    "Content-Length: %zu\r\n\r\n",
                    method, path, len);
  int ok = write(fd, head, (size_t)hl) == hl && (!len || write(fd, body, len) == (ssize_t)len);
  char *buf = malloc(max);
  size_t got = 0;
  ssize_t r;
  while (ok && got < max - 1 && (r = read(fd, buf + got, max - 1 - got)) > 0)
    got += (size_t)r;
  close(fd);
  buf[got] = '\0';
  const char *b = strstr(buf, "\r\n\r\n");
  char *out = strdup(b ? b + 4 : "");
  free(buf);
  return out;
}

static void on_loop_timer(uv_timer_t *t) { uv_stop(t->loop); }

void sb_test_run_loop_for(int ms) {
  uv_timer_t t;
  uv_timer_init(uv_default_loop(), &t);
  uv_timer_start(&t, on_loop_timer, (uint64_t)ms, 0);
  uv_run(uv_default_loop(), UV_RUN_DEFAULT);
  uv_close((uv_handle_t *)&t, NULL);
  uv_run(uv_default_loop(), UV_RUN_NOWAIT);
}
