/* sb_time: see sb_time.h. gettimeofday is a vDSO call: cheap enough per event. */
#include "sb_time.h"

#include <stddef.h>
#include <sys/time.h>

int64_t sb_now_us(void) {
  struct timeval tv;
  gettimeofday(&tv, NULL);
  return (int64_t)tv.tv_sec * 1000000 + tv.tv_usec;
}

int64_t sb_now_ms(void) { return sb_now_us() / 1000; }
