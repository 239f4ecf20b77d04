/*
 * sb_stem: libstemmer behind a small switch (see sb_stem.h). Snowball knows
 * Norwegian as "no"; our language ids say "nb", so that one is mapped.
 */
#include "sb_stem.h"
#include "sb_error.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* FNV-1a of s[0..n) from h (2166136261u to start). */
static uint32_t fnv1a(uint32_t h, const char *s, size_t n) {
  for (size_t i = 0; i < n; i++)
    h = (h ^ (unsigned char)s[i]) * 16777619u;
  return h;
}

#ifdef SB_HAVE_STEMMER
#include <libstemmer.h>

struct sb_stem {
  struct sb_stemmer *snowball;
  uint32_t lang_key; /* a hash of the language name: the stem cache's key */
};

int sb_stem_available(void) { return 1; }

sb_stem_t *sb_stem_new(const char *lang) {
  if (!lang || !*lang)
    return NULL;
  struct sb_stemmer *sn = sb_stemmer_new(strcmp(lang, "nb") ? lang : "no", "UTF_8");
  sb_stem_t *s = sn ? malloc(sizeof *s) : NULL;
  if (!s) {
    if (sn)
      sb_stemmer_delete(sn);
    return NULL;
  }
  s->snowball = sn;
  s->lang_key = fnv1a(2166136261u, lang, strlen(lang)) | 1; /* odd, so never 0 */
  return s;
}

void sb_stem_destroy(sb_stem_t **s) {
  if (!s || !*s)
    return;
  sb_stemmer_delete((*s)->snowball);
  free(*s);
  *s = NULL;
}

/* Stem of w by Snowball, or NULL; *len receives its length. */
static const char *snowball(sb_stem_t *s, const char *w, size_t n, size_t *len) {
  if (!s)
    return NULL;
  const sb_symbol *out = sb_stemmer_stem(s->snowball, (const sb_symbol *)w, (int)n);
  int l = out ? sb_stemmer_length(s->snowball) : -1;
  *len = l > 0 ? (size_t)l : 0;
  return l > 0 ? (const char *)out : NULL;
}
#else
struct sb_stem {
  uint32_t lang_key;
};

int sb_stem_available(void) { return 0; }
sb_stem_t *sb_stem_new(const char *lang) {
  (void)lang;
  return NULL;
}
void sb_stem_destroy(sb_stem_t **s) {
  if (s)
    *s = NULL;
}
static const char *snowball(sb_stem_t *s, const char *w, size_t n, size_t *len) {
  (void)s, (void)w, (void)n, (void)len;
  return NULL;
}
#endif

/* A stem is a function of (language, word) only, and customer text repeats
 * the same few thousand words, so each thread remembers recent stems in a
 * direct-mapped table (a collision overwrites). Per thread, not per
 * stemmer: every tenant's matcher of a language shares it, and the memory
 * does not grow with tenants (STEM_CACHE_SLOTS * 56 bytes, 224 KiB, a thread). Words
 * or stems longer than STEM_CACHE_WORD bytes are stemmed every time. */
#define STEM_CACHE_SLOTS 4096
#define STEM_CACHE_WORD 24

typedef struct {
  uint32_t lang; /* the stemmer's lang_key; 0: empty slot */
  uint8_t wlen, slen;
  char word[STEM_CACHE_WORD], stem[STEM_CACHE_WORD];
} stem_slot_t;

static _Thread_local stem_slot_t stem_cache[STEM_CACHE_SLOTS];

static stem_slot_t *stem_slot(uint32_t lang, const char *w, size_t n) {
  return &stem_cache[fnv1a(2166136261u ^ lang, w, n) % STEM_CACHE_SLOTS];
}

/* Snowball's stem of w (or NULL), through the thread's cache. */
static const char *stem_cached(sb_stem_t *s, const char *w, size_t n, size_t *len) {
  if (!s || n > STEM_CACHE_WORD)
    return snowball(s, w, n, len);
  stem_slot_t *e = stem_slot(s->lang_key, w, n);
  if (e->lang == s->lang_key && e->wlen == n && memcmp(e->word, w, n) == 0) {
    *len = e->slen;
    return e->stem;
  }
  const char *st = snowball(s, w, n, len);
  if (st && *len <= STEM_CACHE_WORD) {
    e->lang = s->lang_key, e->wlen = (uint8_t)n, e->slen = (uint8_t)*len;
    memcpy(e->word, w, n);
    memcpy(e->stem, st, *len);
  }
  return st;
}

size_t sb_stem_word(sb_stem_t *s, const char *w, size_t n, char *out, size_t cap) {
  size_t len = 0;
  const char *st = stem_cached(s, w, n, &len);
  if (!st)
    st = w, len = n;
  if (len > cap - 1)
    len = cap - 1;
  memcpy(out, st, len);
  out[len] = '\0';
  return len;
}

int sb_stem_tokens(sb_stem_t *s, sb_tokens_t *t) {
  if (!s) {
    sb_tokens_unstem(t);
    return 0;
  }
  char out[SB_TEXT_WORD_MAX + 1];
  for (size_t i = 0; i < t->n; i++) {
    if (t->v[i].flags & SB_TOKEN_EMOJI) {
      t->v[i].stem = t->v[i].norm, t->v[i].stem_len = t->v[i].norm_len;
      continue;
    }
    size_t n = sb_stem_word(s, sb_token_norm(t, i), t->v[i].norm_len, out, sizeof out);
    if (sb_token_set_stem(t, i, out, n))
      return SB_ENOMEM;
  }
  return 0;
}
