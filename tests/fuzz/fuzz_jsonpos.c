/* Fuzz target: the JSON position index of `sbctl tenant` (sbctl_jsonpos)
 * must index any bytes without crashing or reading past them; every value
 * it records lies inside the text at the line and column that counting the
 * text itself gives, in text order; a path lookup answers the first value
 * recorded under that path, and the longest-prefix lookup a prefix.
 *
 * sb_sbctl is not among the fuzz targets' libraries (CMakeLists.txt), so
 * the module's one source file is compiled in here. */
#include "../../services/sbctl/sbctl_jsonpos.c"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  /* an exact-size copy, so that reading past the end is caught */
  char *text = malloc(size ? size : 1);
  if (!text)
    return 0;
  memcpy(text, data, size);
  sbctl_jsonpos_t *p = sbctl_jsonpos_new(text, size);
  if (!p) {
    free(text);
    return 0;
  }
  size_t last = 0;
  for (size_t i = 0; i < sbctl_jsonpos_count(p); i++) {
    sbctl_jsonpos_loc_t loc, want, first;
    const char *path = sbctl_jsonpos_path(p, i, &loc);
    want = sbctl_jsonpos_locate(text, size, loc.offset);
    if (!path || loc.offset >= size || loc.offset < last || want.line != loc.line || want.col != loc.col)
      abort();
    last = loc.offset;
    if (strlen(path) > SBCTL_JSONPOS_PATH_MAX || sbctl_jsonpos_find(p, path, &first) != 0 ||
        first.offset > loc.offset)
      abort();
    size_t m = SIZE_MAX;
    if (sbctl_jsonpos_find_prefix(p, path, &m, &first) != 0 || m != strlen(path))
      abort();
  }
  sbctl_jsonpos_loc_t loc;
  size_t m = 0;
  if (size > 0 && sbctl_jsonpos_count(p) > 0 &&
      (sbctl_jsonpos_find_prefix(p, "tenants[0].route.queues[1].strategy", &m, &loc) != 0 || m > 35))
    abort();
  sbctl_jsonpos_destroy(&p);
  free(text);
  return 0;
}
