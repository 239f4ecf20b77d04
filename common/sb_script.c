/* sb_script: see sb_script.h. */
#include "sb_script.h"
#include "sb_error.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

char *sb_script_join(const char *first, const char *second) {
  size_t a = strlen(first), b = strlen(second);
  char *src = malloc(a + b + 2);
  if (!src)
    return NULL;
  memcpy(src, first, a);
  src[a] = '\n';
  memcpy(src + a + 1, second, b + 1);
  return src;
}

/* head (one line of Lua defining SB_SCRIPT) + prelude + body */
static char *compose(const char *head, const char *body) {
  char *named = sb_script_join(head, sb_script_prelude);
  char *src = named ? sb_script_join(named, body) : NULL;
  free(named);
  return src;
}

char *sb_script_source(const char *body) { return compose("local SB_SCRIPT = nil", body); }

int sb_script_name_ok(const char *name) {
  if (!*name)
    return 0;
  for (const char *c = name; *c; c++)
    if (!((*c >= 'a' && *c <= 'z') || (*c >= '0' && *c <= '9') || *c == '_'))
      return 0;
  return 1;
}

char *sb_script_source_named(const char *name, const char *body) {
  if (!sb_script_name_ok(name))
    return NULL;
  static const char fmt[] = "local SB_SCRIPT = '%s'";
  size_t n = sizeof fmt + strlen(name);
  char *head = malloc(n);
  if (!head)
    return NULL;
  snprintf(head, n, fmt, name);
  char *src = compose(head, body);
  free(head);
  return src;
}

int sb_script_add(sb_redis_t *r, const char *name, const char *body) {
  if (!sb_script_name_ok(name))
    return SB_EINVAL;
  char *src = sb_script_source_named(name, body);
  if (!src)
    return SB_ENOMEM;
  int id = sb_redis_script_add(r, name, src);
  free(src);
  return id;
}
