/* sb_script: see sb_script.h. */
#include "sb_script.h"
#include "sb_error.h"

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

char *sb_script_source(const char *body) { return sb_script_join(sb_script_prelude, body); }

int sb_script_add(sb_redis_t *r, const char *name, const char *body) {
  char *src = sb_script_source(body);
  if (!src)
    return SB_ENOMEM;
  int id = sb_redis_script_add(r, name, src);
  free(src);
  return id;
}
