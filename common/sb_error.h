/*
 * sb_error: the one error table of switchboard.
 *
 * Every function that can fail returns 0 on success or a negative SB_E* code.
 * The codes come from one X-macro list so that the enum, the names and the
 * messages can never drift apart. Log at the edge (main, request handler),
 * not at every level.
 */
#ifndef SB_ERROR_H
#define SB_ERROR_H

#define SB_ERRNO_MAP(X)                                                      \
  X(NOMEM, -1, "out of memory")                                              \
  X(INVAL, -2, "invalid argument")                                           \
  X(PARSE, -3, "malformed input")                                            \
  X(TOOBIG, -4, "input too large")                                           \
  X(IO, -5, "i/o error")                                                     \
  X(REDIS, -6, "redis error")                                                \
  X(TIMEOUT, -7, "operation timed out")                                      \
  X(NOTFOUND, -8, "not found")                                               \
  X(EXISTS, -9, "already exists")                                            \
  X(AGAIN, -10, "resource temporarily unavailable")                          \
  X(CLOSED, -11, "connection closed")                                        \
  X(ZMQ, -12, "zeromq error")                                                \
  X(TENANT, -13, "unknown tenant")                                           \
  X(CONFIG, -14, "invalid configuration")                                    \
  X(STATE, -15, "operation not valid in the current state")                  \
  X(PROTO, -16, "malformed protobuf message")

typedef enum {
  SB_OK = 0,
#define SB__ERR_ENUM(name, code, msg) SB_E##name = (code),
  SB_ERRNO_MAP(SB__ERR_ENUM)
#undef SB__ERR_ENUM
} sb_err_t;

/* Human text for an error code; never NULL ("unknown error" for others). */
const char *sb_strerror(int err);
/* Short stable name, e.g. "SB_ETIMEOUT"; usable as a metric label. */
const char *sb_err_name(int err);

#endif
