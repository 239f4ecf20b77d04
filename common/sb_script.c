/* sb_script: see sb_script.h. */
#include "sb_script.h"
#include "sb_error.h"

#include <stdlib.h>
#include <string.h>

char *sb_script_source(const char *body) {
  size_t a = strlen(sb_script_prelude), b = strlen(body);
  char *src = malloc(a + b + 2);
  if (!src)
    return NULL;
  memcpy(src, sb_script_prelude, a);
  src[a] = '\n';
  memcpy(src + a + 1, body, b + 1);
  return src;
}

int sb_script_add(sb_redis_t *r, const char *name, const char *body) {
  char *src = sb_script_source(body);
  if (!src)
    return SB_ENOMEM;
  int id = sb_redis_script_add(r, name, src);
  free(src);
  return id;
}
