/*
 * sbc_zsock: one ZeroMQ socket with a context of its own (so a library
 * object never shares state with the host's ZeroMQ use), CURVE client keys
 * when given, connected to the options' endpoint; and the clock.
 */
#ifndef SBC_ZSOCK_H
#define SBC_ZSOCK_H

#include "switchboard/client.h"

#include <stdint.h>

typedef struct {
  void *ctx, *sock;
} sbc__zsock_t;

/* 0, or SBC_EINVAL (no endpoint; CURVE keys given in part), SBC_ECURVE,
 * SBC_EZMQ, SBC_ENOMEM; on error nothing is left open. rcvhwm 0: default. */
int sbc__zsock_open(sbc__zsock_t *z, int type, const sbc_options_t *o);
void sbc__zsock_close(sbc__zsock_t *z);
/* Waits up to timeout_ms (-1: for ever) for the socket to be readable:
 * 1 readable, 0 not, SBC_EZMQ. */
int sbc__zsock_wait(sbc__zsock_t *z, int timeout_ms);
int sbc__zsock_fd(const sbc__zsock_t *z, int *fd);

int64_t sbc__now_ms(void);
int64_t sbc__now_us(void);  /* monotonic, for deadlines */
int64_t sbc__wall_us(void); /* unix time, for event stamps */

#endif
