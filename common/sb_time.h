/* sb_time: the wall clock, in the units switchboard stores (epoch us / ms). */
#ifndef SB_TIME_H
#define SB_TIME_H

#include <stdint.h>

int64_t sb_now_us(void);
int64_t sb_now_ms(void);

#endif
