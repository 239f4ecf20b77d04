/* sbc_zsock: see sbc_zsock.h. */
#include "sbc_zsock.h"

#include <errno.h>
#include <string.h>
#include <time.h>
#include <zmq.h>

#define SBC_Z85_LEN 40

static int z85_ok(const char *k) { return k && strlen(k) == SBC_Z85_LEN; }

/* Client side of CURVE: the server's public key and our key pair. */
static int set_curve(void *sock, const sbc_options_t *o) {
  if (!o->server_public && !o->client_secret && !o->client_public)
    return 0;
  if (!o->server_public || !o->client_secret)
    return SBC_EINVAL;
  char pub[SBC_Z85_LEN + 1];
  if (!z85_ok(o->server_public) || !z85_ok(o->client_secret) ||
      zmq_curve_public(pub, o->client_secret) != 0)
    return SBC_ECURVE;
  if (o->client_public && strcmp(o->client_public, pub) != 0)
    return SBC_ECURVE; /* not the public key of that secret key */
  if (zmq_setsockopt(sock, ZMQ_CURVE_SERVERKEY, o->server_public, SBC_Z85_LEN) ||
      zmq_setsockopt(sock, ZMQ_CURVE_PUBLICKEY, pub, SBC_Z85_LEN) ||
      zmq_setsockopt(sock, ZMQ_CURVE_SECRETKEY, o->client_secret, SBC_Z85_LEN))
    return SBC_ECURVE; /* libzmq without CURVE (EINVAL / ENOTSUP) */
  return 0;
}

int sbc__zsock_open(sbc__zsock_t *z, int type, const sbc_options_t *o) {
  memset(z, 0, sizeof *z);
  if (!o || !o->endpoint || !*o->endpoint)
    return SBC_EINVAL;
  z->ctx = zmq_ctx_new();
  z->sock = z->ctx ? zmq_socket(z->ctx, type) : NULL;
  if (!z->sock) {
    sbc__zsock_close(z);
    return SBC_EZMQ;
  }
  int linger = 0, rc = 0;
  zmq_setsockopt(z->sock, ZMQ_LINGER, &linger, sizeof linger);
  if (o->rcvhwm > 0 && zmq_setsockopt(z->sock, ZMQ_RCVHWM, &o->rcvhwm, sizeof o->rcvhwm))
    rc = SBC_EINVAL;
  if (!rc)
    rc = set_curve(z->sock, o);
  if (!rc && zmq_connect(z->sock, o->endpoint) != 0)
    rc = SBC_EZMQ;
  if (rc)
    sbc__zsock_close(z);
  return rc;
}

void sbc__zsock_close(sbc__zsock_t *z) {
  if (z->sock)
    zmq_close(z->sock);
  if (z->ctx)
    zmq_ctx_term(z->ctx);
  z->sock = z->ctx = NULL;
}

int sbc__zsock_wait(sbc__zsock_t *z, int timeout_ms) {
  zmq_pollitem_t it = {z->sock, 0, ZMQ_POLLIN, 0};
  int rc = zmq_poll(&it, 1, timeout_ms);
  if (rc < 0)
    return errno == EINTR ? 0 : SBC_EZMQ;
  return rc > 0;
}

int sbc__zsock_fd(const sbc__zsock_t *z, int *fd) {
  size_t len = sizeof *fd;
  return zmq_getsockopt(z->sock, ZMQ_FD, fd, &len) ? SBC_EZMQ : 0;
}

int64_t sbc__now_ms(void) { return sbc__now_us() / 1000; }

int64_t sbc__now_us(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

int64_t sbc__wall_us(void) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}
