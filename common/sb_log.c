/*
 * sb_log: one JSON line per log record (see sb_log.h). Lines are written with
 * a single write(2) so that lines of concurrent processes never interleave.
 */
#include "sb_log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#define SB_LOG_LINE_MAX 4096

static const char *log_service = "switchboard";
static sb_log_level_t log_min = SB_LOG_INFO;
static const char *const level_names[] = {"debug", "info", "warn", "error", "off"};

void sb_log_init(const char *service, sb_log_level_t min_level) {
  log_service = service;
  log_min = min_level;
}

int sb_log_level_parse(const char *name) {
  for (int i = 0; i <= SB_LOG_OFF; i++)
    if (strcmp(name, level_names[i]) == 0)
      return i;
  return -1;
}

/* Appends s JSON-escaped; stops (truncates) when the buffer is full. */
static size_t put_escaped(char *buf, size_t at, size_t cap, const char *s) {
  for (; *s && at + 7 < cap; s++) {
    unsigned char c = (unsigned char)*s;
    if (c == '"' || c == '\\') {
      buf[at++] = '\\';
      buf[at++] = (char)c;
    } else if (c < 0x20) {
      at += (size_t)snprintf(buf + at, cap - at, "\\u%04x", c);
    } else {
      buf[at++] = (char)c;
    }
  }
  return at;
}

static size_t put_field(char *buf, size_t at, size_t cap, const char *k, const char *v) {
  if (at + 8 >= cap)
    return at;
  buf[at++] = ',';
  buf[at++] = '"';
  at = put_escaped(buf, at, cap, k);
  if (at + 4 >= cap)
    return at;
  memcpy(buf + at, "\":\"", 3);
  at += 3;
  at = put_escaped(buf, at, cap, v ? v : "");
  if (at + 2 < cap)
    buf[at++] = '"';
  return at;
}

void sb_log(sb_log_level_t level, const char *event, ...) {
  if (level < log_min || level >= SB_LOG_OFF)
    return;
  char buf[SB_LOG_LINE_MAX];
  struct timeval tv;
  gettimeofday(&tv, NULL);
  struct tm tm;
  gmtime_r(&tv.tv_sec, &tm);
  size_t at = strftime(buf, sizeof buf, "{\"ts\":\"%Y-%m-%dT%H:%M:%S", &tm);
  at += (size_t)snprintf(buf + at, sizeof buf - at, ".%03dZ\"", (int)(tv.tv_usec / 1000));
  at = put_field(buf, at, sizeof buf, "level", level_names[level]);
  at = put_field(buf, at, sizeof buf, "service", log_service);
  at = put_field(buf, at, sizeof buf, "event", event);
  va_list ap;
  va_start(ap, event);
  for (;;) {
    const char *k = va_arg(ap, const char *);
    if (!k)
      break;
    at = put_field(buf, at, sizeof buf, k, va_arg(ap, const char *));
  }
  va_end(ap);
  if (at + 2 >= sizeof buf)
    at = sizeof buf - 3;
  buf[at++] = '}';
  buf[at++] = '\n';
  ssize_t w = write(STDERR_FILENO, buf, at);
  (void)w;
}
