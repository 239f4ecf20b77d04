/*
 * sb_curve: ZeroMQ CURVE keys of one process, and how a socket uses them.
 *
 * CURVE (RFC 26, CurveZMQ) encrypts and authenticates every ZeroMQ
 * connection. A process holds one long-term key pair (Z85 text, as
 * zmq_curve_keypair makes it): a socket that binds is a CURVE server with
 * that secret key; a socket that connects is a CURVE client that must know
 * the server's public key (--curve-server-key; when unset, the process's own
 * public key: the bus then shares one key pair, which is the simple
 * Kubernetes setup). Which clients may connect is decided by the ZAP handler
 * (sb_zap.h) from the allow-list in --curve-clients-file.
 *
 * Off by default: with no secret key every socket stays on the NULL
 * mechanism (loopback development). Keys are never logged.
 *
 * Key files hold one Z85 key (40 characters) on its first line that is not
 * blank or a '#' comment; the clients file holds one public key per such
 * line, optionally followed by blanks and a tenant id ("KEY acme-air"): that
 * client may then act for that tenant only (the ZAP handler hands the tenant
 * to libzmq as the connection's User-Id; the edge sockets enforce it).
 * Surrounding blanks are ignored; anything else is an error, so a typo
 * never silently lets nobody (or everybody) in.
 *
 * The edge (ingest's publish door, notify's feed) has a key set of its own,
 * from the same options prefixed "edge-" (sb_curve_edge_options): integrators
 * and agent desktops get the edge public key, never the bus's.
 */
#ifndef SB_CURVE_H
#define SB_CURVE_H

#include "sb_config.h"

#include <stddef.h>
#include <stdint.h>

#define SB_CURVE_Z85_LEN 40       /* a 32-byte key in Z85 */
#define SB_CURVE_CLIENTS_MAX 4096 /* keys in the allow-list */
#define SB_CURVE_FILE_MAX 262144  /* bytes read from a key or clients file */
#define SB_CURVE_ZAP_DOMAIN "switchboard"
#define SB_CURVE_TENANT_MAX 64 /* bytes of a tenant id bound to a client key */

/* curve-secret-key-file, curve-public-key-file, curve-server-key,
 * curve-clients-file; ended by {NULL}. */
extern const sb_option_t sb_curve_options[];
/* edge-curve-secret-key-file, edge-curve-public-key-file,
 * edge-curve-clients-file (ingest's publish door and notify's feed). The
 * macro is for a service whose option table is a single one (notify). */
#define SB_CURVE_EDGE_OPTIONS                                                 \
  {"edge-curve-secret-key-file", SB_OPT_STR, "",                              \
   "CURVE secret key file of the outside-facing socket (ingest's publish "    \
   "door, notify's feed); empty = that socket stays plaintext"},              \
      {"edge-curve-public-key-file", SB_OPT_STR, "",                          \
       "its public key file; checked against the secret key when set"},       \
      {"edge-curve-clients-file", SB_OPT_STR, "",                             \
       "integrators' and desktops' public keys, one a line, each optionally " \
       "followed by the one tenant it may act for; empty = any client with "  \
       "the edge public key"}
extern const sb_option_t sb_curve_edge_options[];

typedef struct sb_curve sb_curve_t;
/* Called by sb_curve_server for every socket made a CURVE server (sb_zap
 * watches it for failed handshakes). */
typedef void (*sb_curve_server_fn)(void *arg, void *sock);

/* 1 if this libzmq was built with CURVE (libsodium), else 0. */
int sb_curve_available(void);

/* An empty key set (CURVE off until a secret key is set). NULL on OOM. */
sb_curve_t *sb_curve_new(void);
void sb_curve_destroy(sb_curve_t **c);

/* Sets the key pair from a Z85 secret key; the public key is derived.
 * 0 or SB_EPARSE (not a Z85 key), SB_ECONFIG (no CURVE in libzmq). */
int sb_curve_set_secret(sb_curve_t *c, const char *z85);
/* The server public key a connecting socket uses. 0 or SB_EPARSE. The
 * configuration's curve-server-key may also name a file holding it. */
int sb_curve_set_server_key(sb_curve_t *c, const char *z85);
/* Parses an allow-list (see above) and adds every key. 0, SB_EPARSE (bad
 * line; nothing added), SB_ETOOBIG (more than SB_CURVE_CLIENTS_MAX keys). */
int sb_curve_allow_text(sb_curve_t *c, const char *text, size_t len);

/* 1 once a secret key is set. */
int sb_curve_enabled(const sb_curve_t *c);
/* Keys in the allow-list; 0 means any client holding the server key. */
size_t sb_curve_nclients(const sb_curve_t *c);
/* 1 if the 32-byte public key may connect (always 1 without a list). */
int sb_curve_allowed(const sb_curve_t *c, const uint8_t key[32]);
/* The tenant an allowed key is bound to, "" for any tenant (or no list). */
const char *sb_curve_client_tenant(const sb_curve_t *c, const uint8_t key[32]);
/* The process's public key, Z85 ("" when off). */
const char *sb_curve_public_z85(const sb_curve_t *c);

/* Makes sock a CURVE server (ZMQ_CURVE_SERVER, secret key, ZAP domain) and
 * tells the watcher. Call before zmq_bind. 0, or SB_EZMQ. */
int sb_curve_server(const sb_curve_t *c, void *sock);
/* Makes sock a CURVE client of the server key. Call before zmq_connect. */
int sb_curve_client(const sb_curve_t *c, void *sock);
void sb_curve_on_server(sb_curve_t *c, sb_curve_server_fn fn, void *arg);

/* Reads the first key of a key file into out (NUL-terminated). 0, SB_EIO,
 * SB_EPARSE. */
int sb_curve_read_key_file(const char *path, char out[SB_CURVE_Z85_LEN + 1]);
/* Builds the key set the options name. *out is NULL when CURVE is off (no
 * secret key file). Returns 0 or an error with a reason in err (no key text
 * in it). */
int sb_curve_from_config(const sb_config_t *cfg, sb_curve_t **out, char *err,
                         size_t errlen);
/* The same from the edge-curve-* options (NULL: the edge is plaintext). */
int sb_curve_edge_from_config(const sb_config_t *cfg, sb_curve_t **out,
                              char *err, size_t errlen);

#endif
