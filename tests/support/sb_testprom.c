/*
 * sb_testprom: promtool, a prometheus server and a PromQL name scanner for
 * tests (see sb_testprom.h). The server is a child process with its own
 * configuration and TSDB in the caller's folder; it is always reaped.
 */
#include "sb_testprom.h"
#include "sb_testutil.h"

#include <cjson/cJSON.h>
#include <curl/curl.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define READY_WAIT_MS 20000 /* prometheus: start to /-/ready */
#define STOP_WAIT_MS 10000  /* SIGTERM to exit, then SIGKILL */
#define HTTP_TIMEOUT_S 10L
#define POLL_MS 100

struct sb_testprom {
  pid_t pid;
  int port;
};

static void sleep_ms(int ms) {
  struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
  nanosleep(&ts, NULL);
}

int sb_testprom_which(const char *prog, char *out, size_t cap) {
  const char *path = getenv("PATH");
  char dirs[4096];
  snprintf(dirs, sizeof dirs, "%s", path ? path : "/usr/bin:/bin");
  for (char *save = NULL, *d = strtok_r(dirs, ":", &save); d; d = strtok_r(NULL, ":", &save)) {
    if ((size_t)snprintf(out, cap, "%s/%s", d, prog) < cap && access(out, X_OK) == 0)
      return 0;
  }
  return -1;
}

/* ---- promtool check metrics -------------------------------------------------------- */

static int write_all(int fd, const char *s, size_t len) {
  while (len) {
    ssize_t w = write(fd, s, len);
    if (w < 0 && errno == EINTR)
      continue;
    if (w <= 0)
      return -1;
    s += w;
    len -= (size_t)w;
  }
  return 0;
}

/* Runs argv with stdin from in_fd and stdout+stderr to out_fd; exit status or -1. */
static int run(char *const argv[], int in_fd, int out_fd) {
  pid_t pid = fork();
  if (pid < 0)
    return -1;
  if (pid == 0) {
    dup2(in_fd, 0);
    dup2(out_fd, 1);
    dup2(out_fd, 2);
    execv(argv[0], argv);
    _exit(127);
  }
  int status;
  while (waitpid(pid, &status, 0) < 0)
    if (errno != EINTR)
      return -1;
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

int sb_testprom_check_metrics(const char *promtool, const char *body, char *out, size_t cap) {
  char in_path[] = "/tmp/sb_testprom_inXXXXXX", out_path[] = "/tmp/sb_testprom_outXXXXXX";
  int in_fd = mkstemp(in_path), out_fd = mkstemp(out_path), rc = -1;
  if (in_fd >= 0 && out_fd >= 0 && write_all(in_fd, body, strlen(body)) == 0 &&
      lseek(in_fd, 0, SEEK_SET) == 0) {
    char *argv[] = {(char *)promtool, "check", "metrics", NULL};
    rc = run(argv, in_fd, out_fd);
    ssize_t n = pread(out_fd, out, cap - 1, 0);
    out[n > 0 ? n : 0] = '\0';
  }
  if (in_fd >= 0)
    close(in_fd), unlink(in_path);
  if (out_fd >= 0)
    close(out_fd), unlink(out_path);
  return rc;
}

/* ---- the server ----------------------------------------------------------------------- */

static int write_config(const char *dir, const int *ports, size_t nports) {
  char path[512];
  snprintf(path, sizeof path, "%s/prometheus.yml", dir);
  FILE *f = fopen(path, "w");
  if (!f)
    return -1;
  fprintf(f, "global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\n"
             "scrape_configs:\n  - job_name: switchboard\n    metrics_path: /metrics\n"
             "    static_configs:\n      - targets:\n");
  for (size_t i = 0; i < nports; i++)
    fprintf(f, "          - 127.0.0.1:%d\n", ports[i]);
  return fclose(f) == 0 ? 0 : -1;
}

static pid_t spawn(const char *prometheus, const char *dir, int port) {
  char cfg[512], tsdb[512], listen[64], log[512];
  snprintf(cfg, sizeof cfg, "--config.file=%s/prometheus.yml", dir);
  snprintf(tsdb, sizeof tsdb, "--storage.tsdb.path=%s/tsdb", dir);
  snprintf(listen, sizeof listen, "--web.listen-address=127.0.0.1:%d", port);
  snprintf(log, sizeof log, "%s/prometheus.log", dir);
  int fd = open(log, O_WRONLY | O_CREAT | O_APPEND, 0644);
  if (fd < 0)
    return -1;
  pid_t pid = fork();
  if (pid == 0) {
    int null = open("/dev/null", O_RDONLY);
    dup2(null, 0);
    dup2(fd, 1);
    dup2(fd, 2);
    execl(prometheus, prometheus, cfg, tsdb, listen, "--log.level=warn", (char *)NULL);
    _exit(127);
  }
  close(fd);
  return pid;
}

static int is_ready(const sb_testprom_t *p) {
  char *body = sb_test_http_body(p->port, "GET", "/-/ready", NULL, 4096);
  int ok = body && strstr(body, "Ready") != NULL;
  free(body);
  return ok;
}

sb_testprom_t *sb_testprom_start(const char *prometheus, const char *dir, const int *ports,
                                 size_t nports) {
  sb_testprom_t *p = calloc(1, sizeof *p);
  if (!p || write_config(dir, ports, nports) || !(p->port = sb_test_free_port()) ||
      (p->pid = spawn(prometheus, dir, p->port)) <= 0) {
    free(p);
    return NULL;
  }
  curl_global_init(CURL_GLOBAL_DEFAULT);
  for (int waited = 0; waited < READY_WAIT_MS; waited += POLL_MS) {
    if (waitpid(p->pid, NULL, WNOHANG) == p->pid) { /* it exited: nothing to stop */
      p->pid = 0;
      break;
    }
    if (is_ready(p))
      return p;
    sleep_ms(POLL_MS);
  }
  sb_testprom_stop(&p);
  return NULL;
}

void sb_testprom_stop(sb_testprom_t **pp) {
  sb_testprom_t *p = *pp;
  if (!p)
    return;
  *pp = NULL;
  if (p->pid > 0) {
    kill(p->pid, SIGTERM);
    int waited = 0;
    while (waitpid(p->pid, NULL, WNOHANG) != p->pid) {
      if (waited >= STOP_WAIT_MS) {
        kill(p->pid, SIGKILL);
        waitpid(p->pid, NULL, 0);
        break;
      }
      sleep_ms(POLL_MS);
      waited += POLL_MS;
    }
  }
  curl_global_cleanup();
  free(p);
}

int sb_testprom_port(const sb_testprom_t *p) { return p->port; }

/* ---- HTTP API ------------------------------------------------------------------------- */

typedef struct {
  char *data;
  size_t len;
} buf_t;

static size_t on_data(char *ptr, size_t size, size_t n, void *arg) {
  buf_t *b = arg;
  size_t add = size * n;
  char *d = realloc(b->data, b->len + add + 1);
  if (!d)
    return 0;
  memcpy(d + b->len, ptr, add);
  b->data = d;
  b->len += add;
  d[b->len] = '\0';
  return add;
}

char *sb_testprom_get(const sb_testprom_t *p, const char *path) {
  char url[2048];
  snprintf(url, sizeof url, "http://127.0.0.1:%d%s", p->port, path);
  CURL *c = curl_easy_init();
  buf_t b = {0};
  long status = 0;
  if (!c)
    return NULL;
  curl_easy_setopt(c, CURLOPT_URL, url);
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_data);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, &b);
  curl_easy_setopt(c, CURLOPT_TIMEOUT, HTTP_TIMEOUT_S);
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  CURLcode rc = curl_easy_perform(c);
  curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
  curl_easy_cleanup(c);
  if (rc != CURLE_OK || status != 200) {
    free(b.data);
    return NULL;
  }
  return b.data;
}

/* The "data" member of a {"status":"success"} answer to path, or NULL;
 * *root is the document to delete. */
static const cJSON *api_data(const sb_testprom_t *p, const char *path, cJSON **root) {
  char *body = sb_testprom_get(p, path);
  *root = body ? cJSON_Parse(body) : NULL;
  free(body);
  const cJSON *status = cJSON_GetObjectItemCaseSensitive(*root, "status");
  if (!cJSON_IsString(status) || strcmp(status->valuestring, "success") != 0)
    return NULL;
  return cJSON_GetObjectItemCaseSensitive(*root, "data");
}

int sb_testprom_targets_up(const sb_testprom_t *p) {
  cJSON *root;
  const cJSON *data = api_data(p, "/api/v1/targets?state=active", &root);
  const cJSON *list = cJSON_GetObjectItemCaseSensitive(data, "activeTargets"), *t;
  int up = cJSON_IsArray(list) ? 0 : -1;
  cJSON_ArrayForEach(t, list) {
    const cJSON *h = cJSON_GetObjectItemCaseSensitive(t, "health");
    up += cJSON_IsString(h) && strcmp(h->valuestring, "up") == 0;
  }
  cJSON_Delete(root);
  return up;
}

/* [ <time>, "<value>" ] -> value */
static int sample_value(const cJSON *pair, double *value) {
  const cJSON *v = cJSON_GetArrayItem(pair, 1);
  if (!cJSON_IsString(v))
    return -1;
  *value = strtod(v->valuestring, NULL);
  return 0;
}

int sb_testprom_query(const sb_testprom_t *p, const char *q, double *value) {
  CURL *c = curl_easy_init();
  char *esc = c ? curl_easy_escape(c, q, 0) : NULL;
  char path[2048];
  snprintf(path, sizeof path, "/api/v1/query?query=%s", esc ? esc : "");
  curl_free(esc);
  if (c)
    curl_easy_cleanup(c);
  cJSON *root;
  const cJSON *data = api_data(p, path, &root);
  const cJSON *type = cJSON_GetObjectItemCaseSensitive(data, "resultType");
  const cJSON *result = cJSON_GetObjectItemCaseSensitive(data, "result");
  int n = -1;
  *value = 0;
  if (cJSON_IsString(type) && strcmp(type->valuestring, "vector") == 0 && cJSON_IsArray(result)) {
    n = cJSON_GetArraySize(result);
    if (n > 0 && sample_value(cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(result, 0), "value"),
                              value))
      n = -1;
  } else if (cJSON_IsString(type) && strcmp(type->valuestring, "scalar") == 0) {
    n = sample_value(result, value) ? -1 : 1;
  }
  cJSON_Delete(root);
  return n;
}

/* ---- PromQL metric names --------------------------------------------------------------- */

static int is_ident_start(char c) { return isalpha((unsigned char)c) || c == '_' || c == ':'; }
static int is_ident(char c) { return isalnum((unsigned char)c) || c == '_' || c == ':'; }

static int in_list(const char *w, size_t len, const char *const *list) {
  for (; *list; list++)
    if (strlen(*list) == len && strncmp(*list, w, len) == 0)
      return 1;
  return 0;
}

/* Words followed by a parenthesised list of label names. */
static const char *const LABEL_LISTS[] = {"by", "without", "on", "ignoring", "group_left", "group_right",
                                          NULL};
/* Operators, modifiers and aggregations (which may be followed by "by"). */
static const char *const KEYWORDS[] = {"bool",  "and",    "or",     "unless",  "offset", "atan2",
                                       "inf",   "nan",    "sum",    "avg",     "min",    "max",
                                       "count", "stddev", "stdvar", "topk",    "bottomk", "quantile",
                                       "count_values", "group", NULL};

/* s points at an opening quote; returns the character after the closing one, or NULL. */
static const char *skip_string(const char *s) {
  char q = *s++;
  for (; *s && *s != q; s++)
    if (*s == '\\' && q != '`' && s[1])
      s++;
  return *s ? s + 1 : NULL;
}

/* s points at open; returns the character after its matching close (strings
 * inside are skipped), or NULL. */
static const char *skip_group(const char *s, char open, char close) {
  int depth = 0;
  while (*s) {
    if (*s == '"' || *s == '\'' || *s == '`') {
      if (!(s = skip_string(s)))
        return NULL;
      continue;
    }
    depth += *s == open;
    depth -= *s == close;
    s++;
    if (depth == 0)
      return s;
  }
  return NULL;
}

static const char *skip_space(const char *s) {
  while (isspace((unsigned char)*s))
    s++;
  return s;
}

int sb_testprom_expr_names(const char *expr, char names[][128], int max) {
  int n = 0, depth = 0;
  const char *s = expr;
  while (s && *s) {
    char c = *s;
    if (c == '"' || c == '\'' || c == '`') {
      s = skip_string(s);
    } else if (c == '{') {
      s = skip_group(s, '{', '}');
    } else if (c == '[') {
      s = skip_group(s, '[', ']');
    } else if (c == '$') {
      s++;
      if (*s == '{')
        s = skip_group(s, '{', '}');
      else
        while (is_ident(*s))
          s++;
    } else if (isdigit((unsigned char)c) || (c == '.' && isdigit((unsigned char)s[1]))) {
      while (isalnum((unsigned char)*s) || *s == '.')
        s++;
    } else if (is_ident_start(c)) {
      const char *w = s;
      while (is_ident(*s))
        s++;
      size_t len = (size_t)(s - w);
      const char *next = skip_space(s);
      if (in_list(w, len, LABEL_LISTS)) {
        if (*next == '(')
          s = skip_group(next, '(', ')');
      } else if (!in_list(w, len, KEYWORDS) && *next != '(') {
        if (n < max)
          snprintf(names[n], sizeof names[n], "%.*s", (int)(len < 127 ? len : 127), w);
        n++;
      }
    } else {
      depth += c == '(';
      depth -= c == ')';
      if (depth < 0 || c == '}' || c == ']')
        return -1;
      s++;
    }
  }
  return s && depth == 0 ? n : -1;
}
