/*
 * tenants_bench: what the tenant file costs at the sizes it allows. Every
 * stage looks a tenant up by id for each event (sb_tenants_find), ingest an
 * account by (platform, id) for each webhook request (sb_tenants_account),
 * and every service parses the whole file at start and on SIGHUP.
 *
 * A file of --tenants tenants "t<i>", each with --accounts accounts
 * "a<i>-<k>" (alternately meta and twilio), is generated in memory; then:
 * the parse's wall time (median of --rounds), and the mean time of
 * --lookups tenant lookups and of as many account lookups, spread over
 * every tenant and account (a fixed stride, so each run asks the same).
 *
 *   tenants_bench [--tenants N] [--accounts N] [--lookups N] [--rounds N]
 * Output: one JSON object on stdout.
 */
#include "sb_tenants.h"
#include "sb_time.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
  int tenants, accounts, lookups, rounds;
} opts_t;

static char *file_of(const opts_t *o, size_t *len) {
  size_t cap = (size_t)o->tenants * ((size_t)o->accounts * 64 + 64) + 64, n = 0;
  char *json = malloc(cap);
  if (!json)
    return NULL;
  n += (size_t)snprintf(json + n, cap - n, "{\"tenants\":[");
  for (int i = 0; i < o->tenants; i++) {
    n += (size_t)snprintf(json + n, cap - n, "%s{\"id\":\"t%d\",\"accounts\":[", i ? "," : "", i);
    for (int k = 0; k < o->accounts; k++)
      n += (size_t)snprintf(json + n, cap - n, "%s{\"platform\":\"%s\",\"id\":\"a%d-%d\",\"secret\":\"s\"}",
                            k ? "," : "", k % 2 ? "meta" : "twilio", i, k);
    n += (size_t)snprintf(json + n, cap - n, "]}");
  }
  n += (size_t)snprintf(json + n, cap - n, "]}");
  *len = n;
  return json;
}

static int cmp_i64(const void *a, const void *b) {
  int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
  return x < y ? -1 : x > y;
}

int main(int argc, char **argv) {
  opts_t o = {.tenants = 4096, .accounts = 16, .lookups = 1000000, .rounds = 3};
  for (int i = 1; i + 1 < argc; i += 2) {
    if (!strcmp(argv[i], "--tenants")) o.tenants = atoi(argv[i + 1]);
    else if (!strcmp(argv[i], "--accounts")) o.accounts = atoi(argv[i + 1]);
    else if (!strcmp(argv[i], "--lookups")) o.lookups = atoi(argv[i + 1]);
    else if (!strcmp(argv[i], "--rounds")) o.rounds = atoi(argv[i + 1]);
    else {
      fprintf(stderr, "usage: tenants_bench [--tenants N] [--accounts N] [--lookups N] [--rounds N]\n");
      return 2;
    }
  }
  if (o.tenants < 1 || o.accounts < 1 || o.lookups < 1 || o.rounds < 1 || o.rounds > 99) {
    fprintf(stderr, "tenants_bench: every option must be >= 1 (rounds <= 99)\n");
    return 2;
  }
  size_t len = 0;
  char *json = file_of(&o, &len), err[256];
  if (!json) {
    fprintf(stderr, "tenants_bench: out of memory\n");
    return 1;
  }
  int64_t parse_us[99];
  sb_tenants_t *t = NULL;
  for (int r = 0; r < o.rounds; r++) {
    sb_tenants_destroy(&t);
    int64_t t0 = sb_now_us();
    t = sb_tenants_parse(json, len, err, sizeof err);
    parse_us[r] = sb_now_us() - t0;
    if (!t) {
      fprintf(stderr, "tenants_bench: %s\n", err);
      return 1;
    }
  }
  qsort(parse_us, (size_t)o.rounds, sizeof *parse_us, cmp_i64);
  /* a stride coprime with the sizes visits every tenant and account */
  char id[64];
  size_t found = 0, total = (size_t)o.tenants * (size_t)o.accounts;
  int64_t t0 = sb_now_us();
  for (int i = 0; i < o.lookups; i++) {
    int n = snprintf(id, sizeof id, "t%d", (int)(((size_t)i * 7919) % (size_t)o.tenants));
    found += sb_tenants_find(t, id, (size_t)n) != NULL;
  }
  int64_t tenant_us = sb_now_us() - t0;
  t0 = sb_now_us();
  for (int i = 0; i < o.lookups; i++) {
    size_t a = ((size_t)i * 7919) % total;
    int k = (int)(a % (size_t)o.accounts);
    snprintf(id, sizeof id, "a%d-%d", (int)(a / (size_t)o.accounts), k);
    found += sb_tenants_account(t, k % 2 ? "meta" : "twilio", id) != NULL;
  }
  int64_t account_us = sb_now_us() - t0;
  printf("{\"tenants\": %d, \"accounts\": %zu, \"file_bytes\": %zu, \"parse_ms_median\": %.1f,"
         " \"tenant_lookup_ns\": %.1f, \"account_lookup_ns\": %.1f, \"found\": %zu, \"lookups\": %d}\n",
         o.tenants, total, len, (double)parse_us[o.rounds / 2] / 1000.0,
         (double)tenant_us * 1000.0 / o.lookups, (double)account_us * 1000.0 / o.lookups, found,
         2 * o.lookups);
  sb_tenants_destroy(&t);
  free(json);
  return found == 2 * (size_t)o.lookups ? 0 : 1;
}
