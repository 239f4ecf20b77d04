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
#include "sb_tenants.h"

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
     "Z85 public key (or a file holding it) of the servers this process "
     "connects to (sbctl: the edge public key); empty = own public key"},
    {"curve-clients-file", SB_OPT_STR, "",
     "allow-list of client public keys (Z85, one a line); empty = any client "
     "with the server key"},
    {NULL, 0, NULL, NULL},
};

const sb_option_t sb_curve_edge_options[] = {
    SB_CURVE_EDGE_OPTIONS,
    {NULL, 0, NULL, NULL},
};

struct sb_curve {
  char secret[SB_CURVE_Z85_LEN + 1];
  char public_key[SB_CURVE_Z85_LEN + 1];
  char server_key[SB_CURVE_Z85_LEN + 1];
  uint8_t (*clients)[32];
  char (*tenants)[SB_CURVE_TENANT_MAX + 1]; /* per client; "" = any */
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
  free(c->tenants);
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

/* 1 if line opens with a Z85 key: '#' is a Z85 digit, so a key line may
 * start with it; a comment is a '#' line that does not hold a key first. */
static int starts_with_key(const char *line, size_t len) {
  size_t k = 0;
  uint8_t raw[32];
  while (k < len && line[k] != ' ' && line[k] != '\t')
    k++;
  return decode(line, k, raw);
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
    if (b < e && (text[b] != '#' || starts_with_key(text + b, e - b))) {
      *start = text + b;
      return e - b;
    }
  }
  return 0;
}

/* Splits an allow-list line into its key and its optional tenant (after
 * blanks). 1 if both are well formed; the key's bytes into raw. */
static int client_line(const char *line, size_t ll, uint8_t raw[32],
                       const char **tenant, size_t *tlen) {
  size_t k = 0;
  while (k < ll && line[k] != ' ' && line[k] != '\t')
    k++;
  size_t t = k;
  while (t < ll && (line[t] == ' ' || line[t] == '\t'))
    t++;
  *tenant = line + t;
  *tlen = ll - t;
  if (*tlen > SB_CURVE_TENANT_MAX ||
      (*tlen && !sb_tenant_id_valid(*tenant, *tlen)))
    return 0;
  return decode(line, k, raw);
}

/* Makes room for n more clients. 0 or SB_ENOMEM. */
static int grow(sb_curve_t *c, size_t n) {
  uint8_t(*keys)[32] = realloc(c->clients, (c->nclients + n) * sizeof *keys);
  if (!keys)
    return SB_ENOMEM;
  c->clients = keys;
  char(*tenants)[SB_CURVE_TENANT_MAX + 1] =
      realloc(c->tenants, (c->nclients + n) * sizeof *tenants);
  if (!tenants)
    return SB_ENOMEM;
  c->tenants = tenants;
  return 0;
}

int sb_curve_allow_text(sb_curve_t *c, const char *text, size_t len) {
  size_t pos = 0, n = 0, ll, tlen;
  const char *line, *tenant;
  uint8_t raw[32];
  while ((ll = next_line(text, len, &pos, &line)) > 0) {
    if (!client_line(line, ll, raw, &tenant, &tlen))
      return SB_EPARSE;
    n++;
  }
  if (c->nclients + n > SB_CURVE_CLIENTS_MAX)
    return SB_ETOOBIG;
  if (n == 0)
    return 0;
  if (grow(c, n) != 0)
    return SB_ENOMEM;
  pos = 0;
  while ((ll = next_line(text, len, &pos, &line)) > 0) {
    client_line(line, ll, c->clients[c->nclients], &tenant, &tlen);
    memcpy(c->tenants[c->nclients], tenant, tlen);
    c->tenants[c->nclients++][tlen] = '\0';
  }
  return 0;
}

int sb_curve_enabled(const sb_curve_t *c) { return c && c->secret[0] != '\0'; }
size_t sb_curve_nclients(const sb_curve_t *c) { return c->nclients; }
const char *sb_curve_public_z85(const sb_curve_t *c) { return c->public_key; }

/* The index of key in the allow-list, or -1. */
static long find_client(const sb_curve_t *c, const uint8_t key[32]) {
  for (size_t i = 0; i < c->nclients; i++)
    if (memcmp(c->clients[i], key, 32) == 0)
      return (long)i;
  return -1;
}

int sb_curve_allowed(const sb_curve_t *c, const uint8_t key[32]) {
  return c->nclients == 0 || find_client(c, key) >= 0;
}

const char *sb_curve_client_tenant(const sb_curve_t *c, const uint8_t key[32]) {
  long i = find_client(c, key);
  return i < 0 ? "" : c->tenants[i];
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

/* The value of option name with the prefix ("" or "edge-"). */
static const char *opt(const sb_config_t *cfg, const char *prefix,
                       const char *name) {
  char full[96];
  snprintf(full, sizeof full, "%s%s", prefix, name);
  return sb_config_str(cfg, full);
}

/* --curve-server-key: a Z85 key, or the path of a file holding one. */
static int load_server_key(sb_curve_t *c, const char *value) {
  char key[SB_CURVE_Z85_LEN + 1];
  if (sb_curve_set_server_key(c, value) == 0)
    return 0;
  int rc = sb_curve_read_key_file(value, key);
  return rc ? rc : sb_curve_set_server_key(c, key);
}

static int load_keys(const sb_config_t *cfg, const char *prefix, sb_curve_t *c,
                     char *err, size_t errlen) {
  const char *path = opt(cfg, prefix, "curve-secret-key-file");
  char key[SB_CURVE_Z85_LEN + 1];
  int rc = sb_curve_read_key_file(path, key);
  if (!rc)
    rc = sb_curve_set_secret(c, key);
  memset(key, 0, sizeof key);
  if (rc) {
    snprintf(err, errlen, "--%scurve-secret-key-file %s: %s", prefix, path,
             sb_strerror(rc));
    return SB_ECONFIG;
  }
  path = opt(cfg, prefix, "curve-public-key-file");
  if (path && *path) {
    if ((rc = sb_curve_read_key_file(path, key)) != 0 ||
        strcmp(key, c->public_key) != 0) {
      snprintf(err, errlen, "--%scurve-public-key-file %s: %s", prefix, path,
               rc ? sb_strerror(rc) : "does not match the secret key");
      return SB_ECONFIG;
    }
  }
  if (*prefix) /* the edge only serves: it connects to no server */
    return 0;
  const char *server = sb_config_str(cfg, "curve-server-key");
  if (server && *server && (rc = load_server_key(c, server)) != 0) {
    snprintf(err, errlen,
             "--curve-server-key: neither a 40-character Z85 key nor a "
             "readable key file (%s)",
             sb_strerror(rc));
    return SB_ECONFIG;
  }
  return 0;
}

static int load_clients(const sb_config_t *cfg, const char *prefix,
                        sb_curve_t *c, char *err, size_t errlen) {
  const char *path = opt(cfg, prefix, "curve-clients-file");
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
    snprintf(err, errlen, "--%scurve-clients-file %s: %s", prefix, path,
             sb_strerror(rc));
    return SB_ECONFIG;
  }
  return 0;
}

static int from_config(const sb_config_t *cfg, const char *prefix,
                       sb_curve_t **out, char *err, size_t errlen) {
  *out = NULL;
  const char *path = opt(cfg, prefix, "curve-secret-key-file");
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
  int rc = load_keys(cfg, prefix, c, err, errlen);
  if (!rc)
    rc = load_clients(cfg, prefix, c, err, errlen);
  if (rc) {
    sb_curve_destroy(&c);
    return rc;
  }
  *out = c;
  return 0;
}

int sb_curve_from_config(const sb_config_t *cfg, sb_curve_t **out, char *err,
                         size_t errlen) {
  return from_config(cfg, "", out, err, errlen);
}

int sb_curve_edge_from_config(const sb_config_t *cfg, sb_curve_t **out,
                              char *err, size_t errlen) {
  return from_config(cfg, "edge-", out, err, errlen);
}
