/* Fuzz target: the roster parser of `sbctl simulate` (sbctl_roster) must
 * take any bytes without crashing or reading past them; it accepts a
 * roster whole or rejects it with a "line L:C: ..." reason; an accepted
 * roster keeps its limits (groups, agents, shifts inside a day, fitted
 * time models that sample finite, non-negative values).
 *
 * sb_sbctl is not among the fuzz targets' libraries (CMakeLists.txt), so
 * the module's source files are compiled in here. */
#include "../../services/sbctl/sbctl_jsonpos.c"
#include "../../services/sbctl/sbctl_roster.c"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static void check(const sbctl_roster_t *r) {
  if (r->n_groups < 1 || r->n_groups > SBCTL_ROSTER_GROUPS_MAX ||
      r->agents > SBCTL_ROSTER_AGENTS_MAX)
    abort();
  uint64_t seed = 1;
  for (size_t g = 0; g < r->n_groups; g++) {
    const sbctl_roster_group_t *grp = &r->groups[g];
    if (!grp->skills_json || grp->capacity < 1 ||
        !sbctl_roster_handle(grp, "x"))
      abort();
    for (size_t k = 0; k < grp->n_shifts; k++)
      if (grp->shifts[k].start_min < 0 || grp->shifts[k].end_min > 1440 ||
          grp->shifts[k].start_min >= grp->shifts[k].end_min ||
          grp->shifts[k].wday > 6)
        abort();
    double x = sbctl_dist_sample(sbctl_roster_handle(grp, "email"), &seed);
    if (!(x >= 0) || isinf(x))
      abort();
  }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  char *text = malloc(size ? size : 1); /* exact size: overreads are caught */
  if (!text)
    return 0;
  memcpy(text, data, size);
  char err[256];
  err[0] = '\0';
  sbctl_roster_t *r = sbctl_roster_parse(text, size, err, sizeof err);
  if (r)
    check(r);
  else if (strncmp(err, "line ", 5) != 0 && strcmp(err, "out of memory") != 0)
    abort();
  sbctl_roster_destroy(&r);
  free(text);
  return 0;
}
