/*
 * sb_bench: what the micro-benchmarks share (header only: each bench .c file
 * is its own program).
 */
#ifndef SB_BENCH_H
#define SB_BENCH_H

#include <stdlib.h>

static inline int sb_bench_cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

/* The median of v[0..n) (n >= 1); sorts v. */
static inline double sb_bench_median(double *v, int n) {
  qsort(v, (size_t)n, sizeof *v, sb_bench_cmp_double);
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

#endif
