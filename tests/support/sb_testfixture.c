/* sb_testfixture: see sb_testfixture.h. */
#include "sb_testfixture.h"

#include <stdio.h>
#include <stdlib.h>

#include "sb_testutil.h"

enum { FIXTURE_PATH_MAX = 4096 };

/* Reads all of f into a NUL-terminated buffer, or NULL. */
static char *read_all(FILE *f, size_t *len) {
  if (fseek(f, 0, SEEK_END) != 0) return NULL;
  long size = ftell(f);
  if (size < 0 || fseek(f, 0, SEEK_SET) != 0) return NULL;
  char *buf = malloc((size_t)size + 1);
  if (buf == NULL) return NULL;
  if (fread(buf, 1, (size_t)size, f) != (size_t)size) {
    free(buf);
    return NULL;
  }
  buf[size] = '\0';
  *len = (size_t)size;
  return buf;
}

char *sb_test_fixture(const char *rel, size_t *len) {
  char path[FIXTURE_PATH_MAX];
  size_t n = 0;
  snprintf(path, sizeof path, "%s/%s", sb_test_source_dir(), rel);
  FILE *f = fopen(path, "rb");
  char *buf = f != NULL ? read_all(f, &n) : NULL;
  if (f != NULL) fclose(f);
  if (buf == NULL) fail_msg("cannot read fixture %s", path);
  if (len != NULL) *len = n;
  return buf;
}
