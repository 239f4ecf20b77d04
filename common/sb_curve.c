/*
 * sb_curve: key files, the allow-list and the CURVE socket options (see
 * sb_curve.h). Z85 is decoded only by libzmq's zmq_z85_decode; this file
 * only splits lines and checks their length.
 *
 * Invariant: secret[0] != 0 exactly when CURVE is on; server_key is always
 * set when it is (defaults to the own public key).
 */
#include "sb_curve.h"
#include "sb_error.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

const sb_option_t sb_curve_options[] = {
    {"curve-secret-key-file", SB_OPT_STR, "",
     "ZeroMQ CURVE secret key (Z85, zmq_curve_keypair) file; empty = CURVE "
     "off"},
    {"curve-public-key-file", SB_OPT_STR, "",
     "CURVE public key file; checked against the secret key when set"},
    {"curve-server-key", SB_OPT_STR, "",
     "Z85 public key of the servers this process connects to; empty = own "
     "public key"},
    {"curve-clients-file", SB_OPT_STR, "",
     "allow-list of client public keys (Z85, one a line); empty = any client "
     "with the server key"},
    {NULL, 0, NULL, NULL},
};

struct sb_curve {
  char secret[SB_CURVE_Z85_LEN + 1];
  char public_key[SB_CURVE_Z85_LEN + 1];
  char server_key[SB_CURVE_Z85_LEN + 1];
  uint8_t (*clients)[32];
  size_t nclients;
  sb_curve_server_fn on_server;
  void *on_server_arg;
};

int sb_curve_available(void) { return zmq_has("curve") ? 1 : 0; }

sb_curve_t *sb_curve_new(void) { return calloc(1, sizeof(sb_curve_t)); }

void sb_curve_destroy(sb_curve_t **cp) {
  sb_curve_t *c = *cp;
  if (!c)
    return;
  *cp = NULL;
  free(c->clients);
  memset(c, 0, sizeof *c); /* no key left in freed memory */
  free(c);
}

/* 1 if z85 is a 40-character Z85 key; its 32 bytes into raw. */
static int decode(const char *z85, size_t len, uint8_t raw[32]) {
  char buf[SB_CURVE_Z85_LEN + 1];
  if (len != SB_CURVE_Z85_LEN)
    return 0;
  memcpy(buf, z85, len);
  buf[len] = '\0';
  return zmq_z85_decode(raw, buf) != NULL;
}

int sb_curve_set_secret(sb_curve_t *c, const char *z85) {
  uint8_t raw[32];
  if (!z85 || !decode(z85, strlen(z85), raw))
    return SB_EPARSE;
  if (!sb_curve_available())
    return SB_ECONFIG;
  char pub[SB_CURVE_Z85_LEN + 1];
  if (zmq_curve_public(pub, z85) != 0)
    return SB_EPARSE;
  memcpy(c->secret, z85, sizeof c->secret);
  memcpy(c->public_key, pub, sizeof c->public_key);
  if (!c->server_key[0])
    memcpy(c->server_key, pub, sizeof c->server_key);
  return 0;
}

int sb_curve_set_server_key(sb_curve_t *c, const char *z85) {
  uint8_t raw[32];
  if (!z85 || !decode(z85, strlen(z85), raw))
    return SB_EPARSE;
  memcpy(c->server_key, z85, sizeof c->server_key);
  return 0;
}

/* The next line of text[*pos..len) that is not blank or a comment, trimmed.
 * Returns its length (0 at the end) and its start in *start. */
static size_t next_line(const char *text, size_t len, size_t *pos,
                        const char **start) {
  while (*pos < len) {
    size_t b = *pos, e = b;
    while (e < len && text[e] != '\n')
      e++;
    *pos = e < len ? e + 1 : e;
    while (b < e && (text[b] == ' ' || text[b] == '\t' || text[b] == '\r'))
      b++;
    while (e > b &&
           (text[e - 1] == ' ' || text[e - 1] == '\t' || text[e - 1] == '\r'))
      e--;
    if (b < e && text[b] != '#') {
      *start = text + b;
      return e - b;
    }
  }
  return 0;
}

int sb_curve_allow_text(sb_curve_t *c, const char *text, size_t len) {
  size_t pos = 0, n = 0, cap = c->nclients;
  const char *line;
  size_t ll;
  uint8_t raw[32];
  while ((ll = next_line(text, len, &pos, &line)) > 0) {
    if (!decode(line, ll, raw))
      return SB_EPARSE;
    n++;
  }
  if (c->nclients + n > SB_CURVE_CLIENTS_MAX)
    return SB_ETOOBIG;
  if (n == 0)
    return 0;
  uint8_t(*grown)[32] = realloc(c->clients, (cap + n) * sizeof *grown);
  if (!grown)
    return SB_ENOMEM;
  c->clients = grown;
  pos = 0;
  while ((ll = next_line(text, len, &pos, &line)) > 0)
    decode(line, ll, c->clients[c->nclients++]);
  return 0;
}

int sb_curve_enabled(const sb_curve_t *c) { return c && c->secret[0] != '\0'; }
size_t sb_curve_nclients(const sb_curve_t *c) { return c->nclients; }
const char *sb_curve_public_z85(const sb_curve_t *c) { return c->public_key; }

int sb_curve_allowed(const sb_curve_t *c, const uint8_t key[32]) {
  if (c->nclients == 0)
    return 1;
  for (size_t i = 0; i < c->nclients; i++)
    if (memcmp(c->clients[i], key, 32) == 0)
      return 1;
  return 0;
}

static int setopt(void *sock, int opt, const void *v, size_t len) {
  return zmq_setsockopt(sock, opt, v, len) == 0 ? 0 : SB_EZMQ;
}

int sb_curve_server(const sb_curve_t *c, void *sock) {
  int one = 1;
  int rc = setopt(sock, ZMQ_CURVE_SERVER, &one, sizeof one);
  if (!rc)
    rc = setopt(sock, ZMQ_CURVE_SECRETKEY, c->secret, SB_CURVE_Z85_LEN + 1);
  if (!rc)
    rc = setopt(sock, ZMQ_ZAP_DOMAIN, SB_CURVE_ZAP_DOMAIN,
                strlen(SB_CURVE_ZAP_DOMAIN));
  if (!rc && c->on_server)
    c->on_server(c->on_server_arg, sock);
  return rc;
}

int sb_curve_client(const sb_curve_t *c, void *sock) {
  int rc =
      setopt(sock, ZMQ_CURVE_SERVERKEY, c->server_key, SB_CURVE_Z85_LEN + 1);
  if (!rc)
    rc = setopt(sock, ZMQ_CURVE_PUBLICKEY, c->public_key, SB_CURVE_Z85_LEN + 1);
  if (!rc)
    rc = setopt(sock, ZMQ_CURVE_SECRETKEY, c->secret, SB_CURVE_Z85_LEN + 1);
  return rc;
}

void sb_curve_on_server(sb_curve_t *c, sb_curve_server_fn fn, void *arg) {
  c->on_server = fn;
  c->on_server_arg = arg;
}

/* Reads a whole (small) file; the caller frees *out. */
static int read_file(const char *path, char **out, size_t *len) {
  FILE *f = fopen(path, "rb");
  if (!f)
    return SB_EIO;
  char *buf = malloc(SB_CURVE_FILE_MAX + 1);
  size_t n = buf ? fread(buf, 1, SB_CURVE_FILE_MAX + 1, f) : 0;
  int err = ferror(f);
  fclose(f);
  if (!buf)
    return SB_ENOMEM;
  if (err || n > SB_CURVE_FILE_MAX) {
    free(buf);
    return err ? SB_EIO : SB_ETOOBIG;
  }
  *out = buf;
  *len = n;
  return 0;
}

int sb_curve_read_key_file(const char *path, char out[SB_CURVE_Z85_LEN + 1]) {
  char *text;
  size_t len, pos = 0;
  int rc = read_file(path, &text, &len);
  if (rc)
    return rc;
  const char *line = NULL;
  size_t ll = next_line(text, len, &pos, &line);
  uint8_t raw[32];
  rc = decode(line, ll, raw) ? 0 : SB_EPARSE;
  if (!rc) {
    memcpy(out, line, SB_CURVE_Z85_LEN);
    out[SB_CURVE_Z85_LEN] = '\0';
  }
  memset(text, 0, len);
  free(text);
  return rc;
}

static int load_keys(const sb_config_t *cfg, sb_curve_t *c, char *err,
                     size_t errlen) {
  const char *path = sb_config_str(cfg, "curve-secret-key-file");
  char key[SB_CURVE_Z85_LEN + 1];
  int rc = sb_curve_read_key_file(path, key);
  if (!rc)
    rc = sb_curve_set_secret(c, key);
  memset(key, 0, sizeof key);
  if (rc) {
    snprintf(err, errlen, "--curve-secret-key-file %s: %s", path,
             sb_strerror(rc));
    return SB_ECONFIG;
  }
  path = sb_config_str(cfg, "curve-public-key-file");
  if (path && *path) {
    if ((rc = sb_curve_read_key_file(path, key)) != 0 ||
        strcmp(key, c->public_key) != 0) {
      snprintf(err, errlen, "--curve-public-key-file %s: %s", path,
               rc ? sb_strerror(rc) : "does not match the secret key");
      return SB_ECONFIG;
    }
  }
  const char *server = sb_config_str(cfg, "curve-server-key");
  if (server && *server && sb_curve_set_server_key(c, server) != 0) {
    snprintf(err, errlen, "--curve-server-key: not a 40-character Z85 key");
    return SB_ECONFIG;
  }
  return 0;
}

static int load_clients(const sb_config_t *cfg, sb_curve_t *c, char *err,
                        size_t errlen) {
  const char *path = sb_config_str(cfg, "curve-clients-file");
  if (!path || !*path)
    return 0;
  char *text;
  size_t len;
  int rc = read_file(path, &text, &len);
  if (!rc) {
    rc = sb_curve_allow_text(c, text, len);
    free(text);
  }
  if (rc) {
    snprintf(err, errlen, "--curve-clients-file %s: %s", path, sb_strerror(rc));
    return SB_ECONFIG;
  }
  return 0;
}

int sb_curve_from_config(const sb_config_t *cfg, sb_curve_t **out, char *err,
                         size_t errlen) {
  *out = NULL;
  const char *path = sb_config_str(cfg, "curve-secret-key-file");
  if (!path || !*path)
    return 0;
  if (!sb_curve_available()) {
    snprintf(err, errlen,
             "CURVE keys given but this libzmq has no CURVE support");
    return SB_ECONFIG;
  }
  sb_curve_t *c = sb_curve_new();
  if (!c)
    return SB_ENOMEM;
  int rc = load_keys(cfg, c, err, errlen);
  if (!rc)
    rc = load_clients(cfg, c, err, errlen);
  if (rc) {
    sb_curve_destroy(&c);
    return rc;
  }
  *out = c;
  return 0;
}
