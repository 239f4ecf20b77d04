/*
 * sbctl_jsonpos: a one-pass JSON walker that records the path and place of
 * every value (see sbctl_jsonpos.h). Recursive descent with a depth cap;
 * the line/column cursor only moves forward (values are recorded in text
 * order), so the whole walk is linear even on a one-line file.
 *
 * Invariant: every recorded path is NUL-terminated in one pool; entries
 * hold offsets into it, so the pool may move while it grows.
 */
#include "sbctl_jsonpos.h"

#include "sb_error.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
  size_t path_off; /* into pool */
  size_t path_len;
  sbctl_jsonpos_loc_t loc;
} entry_t;

struct sbctl_jsonpos {
  entry_t *e;
  size_t n, cap;
  char *pool;
  size_t pool_len, pool_cap;
  int complete;
};

typedef struct {
  const char *s;
  size_t len, pos;
  sbctl_jsonpos_loc_t cur; /* the place of cur.offset */
  char path[SBCTL_JSONPOS_PATH_MAX + 1];
  size_t plen;
  int over; /* > 0: inside a value whose path did not fit; record nothing */
  int oom;
  sbctl_jsonpos_t *ix;
} walk_t;

/* --- the index ---------------------------------------------------------- */

static int grow(void **buf, size_t *cap, size_t need, size_t size) {
  if (need <= *cap)
    return 0;
  size_t c = *cap ? *cap : 64;
  while (c < need)
    c *= 2;
  void *b = realloc(*buf, c * size);
  if (!b)
    return SB_ENOMEM;
  *buf = b;
  *cap = c;
  return 0;
}

static void advance(walk_t *w, size_t offset) {
  for (; w->cur.offset < offset; w->cur.offset++) {
    unsigned char c = (unsigned char)w->s[w->cur.offset];
    if (c == '\n') {
      w->cur.line++;
      w->cur.col = 1;
    } else if ((c & 0xC0) != 0x80) {
      w->cur.col++;
    }
  }
}

static void record(walk_t *w, size_t offset) {
  sbctl_jsonpos_t *ix = w->ix;
  if (w->over || w->oom)
    return;
  if (grow((void **)&ix->e, &ix->cap, ix->n + 1, sizeof *ix->e) ||
      grow((void **)&ix->pool, &ix->pool_cap, ix->pool_len + w->plen + 1, 1)) {
    w->oom = 1;
    return;
  }
  advance(w, offset);
  entry_t *e = &ix->e[ix->n++];
  e->path_off = ix->pool_len;
  e->path_len = w->plen;
  e->loc = w->cur;
  memcpy(ix->pool + ix->pool_len, w->path, w->plen);
  ix->pool[ix->pool_len + w->plen] = '\0';
  ix->pool_len += w->plen + 1;
}

/* Appends a segment to the path; returns the length to restore. */
static size_t push(walk_t *w, const char *sep, const char *seg, size_t seglen) {
  size_t old = w->plen, slen = strlen(sep);
  if (w->over || seg == NULL || old + slen + seglen > SBCTL_JSONPOS_PATH_MAX) {
    w->over++;
    return old;
  }
  memcpy(w->path + old, sep, slen);
  memcpy(w->path + old + slen, seg, seglen);
  w->plen = old + slen + seglen;
  w->path[w->plen] = '\0';
  return old;
}

static void pop(walk_t *w, size_t old) {
  if (w->over) {
    w->over--;
    return;
  }
  w->plen = old;
  w->path[old] = '\0';
}

/* --- the scanner -------------------------------------------------------- */

static void skip_ws(walk_t *w) {
  while (w->pos < w->len && (unsigned char)w->s[w->pos] <= ' ')
    w->pos++;
}

static int hex4(walk_t *w, unsigned *out) {
  if (w->len - w->pos < 4)
    return -1;
  unsigned v = 0;
  for (int i = 0; i < 4; i++) {
    char c = w->s[w->pos++];
    v <<= 4;
    if (c >= '0' && c <= '9')
      v |= (unsigned)(c - '0');
    else if (c >= 'a' && c <= 'f')
      v |= (unsigned)(c - 'a' + 10);
    else if (c >= 'A' && c <= 'F')
      v |= (unsigned)(c - 'A' + 10);
    else
      return -1;
  }
  *out = v;
  return 0;
}

static size_t utf8_put(unsigned cp, char *o) {
  if (cp < 0x80) {
    o[0] = (char)cp;
    return 1;
  }
  if (cp < 0x800) {
    o[0] = (char)(0xC0 | (cp >> 6));
    o[1] = (char)(0x80 | (cp & 0x3F));
    return 2;
  }
  if (cp < 0x10000) {
    o[0] = (char)(0xE0 | (cp >> 12));
    o[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
    o[2] = (char)(0x80 | (cp & 0x3F));
    return 3;
  }
  o[0] = (char)(0xF0 | (cp >> 18));
  o[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
  o[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
  o[3] = (char)(0x80 | (cp & 0x3F));
  return 4;
}

/* A \u escape (after the 'u'), a surrogate pair taken whole. */
static int unicode_escape(walk_t *w, unsigned *cp) {
  if (hex4(w, cp))
    return -1;
  if (*cp >= 0xD800 && *cp <= 0xDBFF && w->len - w->pos >= 6 && w->s[w->pos] == '\\' &&
      w->s[w->pos + 1] == 'u') {
    size_t back = w->pos;
    unsigned lo;
    w->pos += 2;
    if (hex4(w, &lo) == 0 && lo >= 0xDC00 && lo <= 0xDFFF)
      *cp = 0x10000 + ((*cp - 0xD800) << 10) + (lo - 0xDC00);
    else
      w->pos = back;
  }
  return 0;
}

/* One escape (after the backslash) decoded into buf; *n bytes. 0, 1 for
 * an escaped NUL (nothing decoded), -1 if malformed. */
static int escape(walk_t *w, char *buf, size_t *n) {
  static const char from[] = "\"\\/bfnrt", to[] = "\"\\/\b\f\n\r\t";
  if (w->pos >= w->len)
    return -1;
  char c = w->s[w->pos++];
  const char *k = c ? strchr(from, c) : NULL;
  if (k) {
    buf[0] = to[k - from];
    *n = 1;
    return 0;
  }
  unsigned cp;
  if (c != 'u' || unicode_escape(w, &cp))
    return -1;
  if (cp == 0)
    return 1; /* a NUL cannot be in a C path: the caller records nothing */
  *n = utf8_put(cp, buf);
  return 0;
}

/* A string at w->pos (its opening quote). With out, its decoded text (NUL-
 * terminated; *outlen, or SIZE_MAX when it did not fit in cap - 1 or held
 * a NUL, raw or escaped, which no C path can carry). */
static int string(walk_t *w, char *out, size_t cap, size_t *outlen) {
  size_t n = 0;
  int fits = 1;
  w->pos++;
  while (w->pos < w->len && w->s[w->pos] != '"') {
    char buf[4];
    size_t k = 1;
    if (w->s[w->pos] == '\\') {
      w->pos++;
      int rc = escape(w, buf, &k);
      if (rc < 0)
        return -1;
      fits &= rc == 0;
    } else {
      buf[0] = w->s[w->pos++];
      fits &= buf[0] != '\0';
    }
    if (out && fits && n + k < cap)
      memcpy(out + n, buf, k), n += k;
    else
      fits = 0;
  }
  if (w->pos >= w->len)
    return -1;
  w->pos++;
  if (out) {
    out[fits ? n : 0] = '\0';
    *outlen = fits ? n : SIZE_MAX;
  }
  return 0;
}

static int value(walk_t *w, int depth);

static int object(walk_t *w, int depth) {
  char key[SBCTL_JSONPOS_PATH_MAX + 1];
  w->pos++;
  skip_ws(w);
  if (w->pos < w->len && w->s[w->pos] == '}') {
    w->pos++;
    return 0;
  }
  for (;;) {
    skip_ws(w);
    if (w->pos >= w->len || w->s[w->pos] != '"')
      return -1;
    size_t at = w->pos, klen;
    if (string(w, key, sizeof key, &klen))
      return -1;
    size_t old = push(w, w->plen ? "." : "", klen == SIZE_MAX ? NULL : key, klen);
    record(w, at);
    skip_ws(w);
    int rc = w->pos < w->len && w->s[w->pos] == ':' ? (w->pos++, value(w, depth + 1)) : -1;
    pop(w, old);
    skip_ws(w);
    if (rc || w->pos >= w->len)
      return -1;
    char c = w->s[w->pos++];
    if (c == '}')
      return 0;
    if (c != ',')
      return -1;
  }
}

static int array(walk_t *w, int depth) {
  w->pos++;
  skip_ws(w);
  if (w->pos < w->len && w->s[w->pos] == ']') {
    w->pos++;
    return 0;
  }
  for (size_t i = 0;; i++) {
    char seg[32];
    int n = snprintf(seg, sizeof seg, "[%zu]", i);
    size_t old = push(w, "", seg, (size_t)n);
    skip_ws(w);
    if (w->pos < w->len) /* else the value is missing: nothing to record */
      record(w, w->pos);
    int rc = value(w, depth + 1);
    pop(w, old);
    skip_ws(w);
    if (rc || w->pos >= w->len)
      return -1;
    char c = w->s[w->pos++];
    if (c == ']')
      return 0;
    if (c != ',')
      return -1;
  }
}

static int value(walk_t *w, int depth) {
  skip_ws(w);
  if (w->pos >= w->len || depth > SBCTL_JSONPOS_DEPTH_MAX)
    return -1;
  switch (w->s[w->pos]) {
  case '{':
    return object(w, depth);
  case '[':
    return array(w, depth);
  case '"':
    return string(w, NULL, 0, NULL);
  default: { /* number, true, false, null: read up to a delimiter */
    size_t start = w->pos;
    while (w->pos < w->len && (unsigned char)w->s[w->pos] > ' ' && !strchr(",]}:[{\"", w->s[w->pos]))
      w->pos++;
    return w->pos > start ? 0 : -1;
  }
  }
}

/* --- public ------------------------------------------------------------- */

sbctl_jsonpos_t *sbctl_jsonpos_new(const char *text, size_t len) {
  sbctl_jsonpos_t *ix = calloc(1, sizeof *ix);
  if (!ix)
    return NULL;
  walk_t w = {.s = text, .len = len, .cur = {0, 1, 1}, .ix = ix};
  if (len >= 3 && memcmp(text, "\xEF\xBB\xBF", 3) == 0)
    w.pos = 3; /* a UTF-8 byte order mark, as cJSON skips it */
  skip_ws(&w);
  if (w.pos < len)
    record(&w, w.pos);
  int rc = value(&w, 0);
  skip_ws(&w);
  ix->complete = rc == 0 && w.pos == len;
  if (w.oom)
    sbctl_jsonpos_destroy(&ix);
  return ix;
}

void sbctl_jsonpos_destroy(sbctl_jsonpos_t **p) {
  if (!*p)
    return;
  free((*p)->e);
  free((*p)->pool);
  free(*p);
  *p = NULL;
}

int sbctl_jsonpos_complete(const sbctl_jsonpos_t *p) { return p->complete; }

size_t sbctl_jsonpos_count(const sbctl_jsonpos_t *p) { return p->n; }

const char *sbctl_jsonpos_path(const sbctl_jsonpos_t *p, size_t i, sbctl_jsonpos_loc_t *loc) {
  if (i >= p->n)
    return NULL;
  if (loc)
    *loc = p->e[i].loc;
  return p->pool + p->e[i].path_off;
}

/* The first entry whose path is path[0..n). */
static const entry_t *find_n(const sbctl_jsonpos_t *p, const char *path, size_t n) {
  for (size_t i = 0; i < p->n; i++)
    if (p->e[i].path_len == n && memcmp(p->pool + p->e[i].path_off, path, n) == 0)
      return &p->e[i];
  return NULL;
}

int sbctl_jsonpos_find(const sbctl_jsonpos_t *p, const char *path, sbctl_jsonpos_loc_t *loc) {
  const entry_t *e = find_n(p, path, strlen(path));
  if (!e)
    return SB_ENOTFOUND;
  if (loc)
    *loc = e->loc;
  return 0;
}

int sbctl_jsonpos_find_prefix(const sbctl_jsonpos_t *p, const char *path, size_t *matched,
                              sbctl_jsonpos_loc_t *loc) {
  size_t len = strlen(path);
  for (size_t k = len + 1; k-- > 0;) {
    if (k < len && k > 0 && !strchr(".[:", path[k]))
      continue;
    const entry_t *e = find_n(p, path, k);
    if (e) {
      if (matched)
        *matched = k;
      if (loc)
        *loc = e->loc;
      return 0;
    }
  }
  return SB_ENOTFOUND;
}

int sbctl_jsonpos_find_key(const sbctl_jsonpos_t *p, const char *under, const char *name,
                           sbctl_jsonpos_loc_t *loc) {
  size_t ulen = strlen(under), nlen = strlen(name);
  for (size_t i = 0; i < p->n; i++) {
    const char *s = p->pool + p->e[i].path_off;
    size_t n = p->e[i].path_len;
    if (n <= ulen || strncmp(s, under, ulen) || (ulen && s[ulen] != '.' && s[ulen] != '['))
      continue;
    if (n < nlen || memcmp(s + n - nlen, name, nlen))
      continue;
    if (n == nlen ? ulen == 0 : s[n - nlen - 1] == '.') {
      if (loc)
        *loc = p->e[i].loc;
      return 0;
    }
  }
  return SB_ENOTFOUND;
}

sbctl_jsonpos_loc_t sbctl_jsonpos_locate(const char *text, size_t len, size_t offset) {
  walk_t w = {.s = text, .len = len, .cur = {0, 1, 1}};
  advance(&w, offset < len ? offset : len);
  return w.cur;
}
