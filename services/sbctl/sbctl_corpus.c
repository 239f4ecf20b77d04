/* sbctl_corpus: see sbctl_corpus.h. */
#include "sbctl_corpus.h"
#include "sb_admit.h"
#include "sb_cloudevent.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

long sbctl_corpus_queue(const char *path, const sb_tenants_t *tenants, sbctl_client_t *client,
                        long *bad) {
  FILE *f = fopen(path, "r");
  if (!f)
    return -1;
  char *line = NULL;
  size_t cap = 0;
  ssize_t len;
  long n = 0, lineno = 0;
  *bad = 0;
  while ((len = getline(&line, &cap, f)) >= 0) {
    lineno++;
    if (len <= 1)
      continue;
    sb_cloudevent_t *ev = NULL;
    size_t nev = 0;
    char err[256];
    sb_admit_result_t ar;
    if (sb_cloudevent_parse(line, (size_t)len, NULL, &ev, &nev, err, sizeof err, NULL)) {
      fprintf(stderr, "sbctl: %s:%ld: %s\n", path, lineno, err);
      (*bad)++;
      continue;
    }
    for (size_t i = 0; i < nev; i++) {
      sb_envelope_t *env = sb_admit_cloudevent(&ev[i], tenants, &ar);
      if (env) {
        env->time_ms = 0; /* replayed as live traffic: ingest stamps receipt time */
        sbctl_client_queue(client, env);
        n++;
      } else {
        fprintf(stderr, "sbctl: %s:%ld: %s\n", path, lineno, ar.reason);
        (*bad)++;
      }
    }
    sb_cloudevent_free(&ev, nev);
  }
  free(line);
  fclose(f);
  return n;
}
