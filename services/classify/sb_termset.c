/*
 * sb_termset: hashed phrase dictionary (see sb_termset.h).
 *
 * Entries live in one array and their words, NUL-separated, in one pool;
 * a chained hash table keyed by the first word points into the array.
 * Single-word prefix entries ("rembours*") are keyed by the prefix itself,
 * and a 64-bit mask records which prefix lengths exist, so a token probes
 * only lengths that can match. Multi-word entries never start with a
 * prefix (only the last word may be one), so a lookup is one hash of the
 * token's stem plus one per prefix length in use.
 */
#include "sb_termset.h"
#include "sb_error.h"

#include <stdlib.h>
#include <string.h>

#define FNV_OFFSET 2166136261u
#define FNV_PRIME 16777619u
#define INITIAL_HEADS 64
#define INITIAL_ENTRIES 32
#define INITIAL_POOL 512
#define NO_ENTRY (-1)

typedef struct {
  uint32_t words; /* offset in pool: nwords NUL-terminated words */
  uint32_t value;
  uint32_t hash;  /* of the first word (the prefix for a prefix entry) */
  int32_t next;   /* next entry in the chain, or NO_ENTRY */
  uint8_t nwords;
  uint8_t prefix;       /* the last word is a prefix */
  uint8_t first_prefix; /* single-word prefix entry */
} entry_t;

struct sb_termset {
  entry_t *e;
  size_t n, cap;
  char *pool;
  size_t used, pool_cap;
  int32_t *heads;
  size_t nheads; /* power of two */
  /* 8 * nheads bits: bit (hash mod 8 * nheads) is set when an entry's
   * first word (or prefix) has that hash. Most tokens start no entry, and
   * this answers them from a table 4 times smaller than heads, with fewer
   * false leads (it stays in cache). */
  uint64_t *seen;
  uint64_t prefix_lens; /* bit L-1 set: a prefix entry of L bytes exists */
};

static uint32_t fnv_step(uint32_t h, unsigned char c) { return (h ^ c) * FNV_PRIME; }

static uint32_t fnv(const char *s, size_t n) {
  uint32_t h = FNV_OFFSET;
  for (size_t i = 0; i < n; i++)
    h = fnv_step(h, (unsigned char)s[i]);
  return h;
}

sb_termset_t *sb_termset_new(void) {
  sb_termset_t *s = calloc(1, sizeof *s);
  if (!s)
    return NULL;
  s->heads = malloc(INITIAL_HEADS * sizeof *s->heads);
  if (!s->heads) {
    free(s);
    return NULL;
  }
  s->seen = calloc(INITIAL_HEADS / 8, sizeof *s->seen);
  if (!s->seen) {
    free(s->heads);
    free(s);
    return NULL;
  }
  s->nheads = INITIAL_HEADS;
  memset(s->heads, 0xFF, INITIAL_HEADS * sizeof *s->heads); /* NO_ENTRY */
  return s;
}

void sb_termset_destroy(sb_termset_t **s) {
  if (!s || !*s)
    return;
  free((*s)->e);
  free((*s)->pool);
  free((*s)->heads);
  free((*s)->seen);
  free(*s);
  *s = NULL;
}

size_t sb_termset_count(const sb_termset_t *s) { return s ? s->n : 0; }

/* The seen bit of hash h in a table for nheads heads. */
static size_t seen_bit(uint32_t h, size_t nheads) { return h & (nheads * 8 - 1); }

static void mark_seen(uint64_t *seen, uint32_t h, size_t nheads) {
  size_t b = seen_bit(h, nheads);
  seen[b / 64] |= 1ull << (b % 64);
}

static int rehash(sb_termset_t *s) {
  size_t nh = s->nheads * 2;
  int32_t *h = malloc(nh * sizeof *h);
  uint64_t *seen = calloc(nh / 8, sizeof *seen);
  if (!h || !seen) {
    free(h);
    free(seen);
    return SB_ENOMEM;
  }
  memset(h, 0xFF, nh * sizeof *h);
  for (size_t i = 0; i < s->n; i++) { /* re-chain in insertion order */
    s->e[i].next = NO_ENTRY;
    int32_t *at = &h[s->e[i].hash & (nh - 1)];
    while (*at != NO_ENTRY)
      at = &s->e[*at].next;
    *at = (int32_t)i;
    mark_seen(seen, s->e[i].hash, nh);
  }
  free(s->heads);
  free(s->seen);
  s->heads = h, s->nheads = nh, s->seen = seen;
  return 0;
}

static int reserve(sb_termset_t *s, size_t pool_bytes) {
  if (s->n == s->cap) {
    size_t cap = s->cap ? s->cap * 2 : INITIAL_ENTRIES;
    entry_t *e = realloc(s->e, cap * sizeof *e);
    if (!e)
      return SB_ENOMEM;
    s->e = e, s->cap = cap;
  }
  if (s->used + pool_bytes > s->pool_cap) {
    size_t cap = s->pool_cap ? s->pool_cap * 2 : INITIAL_POOL;
    while (cap < s->used + pool_bytes)
      cap *= 2;
    char *p = realloc(s->pool, cap);
    if (!p)
      return SB_ENOMEM;
    s->pool = p, s->pool_cap = cap;
  }
  return s->n >= s->nheads ? rehash(s) : 0;
}

/* Splits off a trailing '*': returns the phrase length without it, sets
 * *prefix; -1 if a '*' appears anywhere else. */
static long strip_star(const char *p, size_t len, int *prefix) {
  while (len && (p[len - 1] == ' ' || p[len - 1] == '\t'))
    len--;
  *prefix = len && p[len - 1] == '*';
  if (*prefix)
    len--;
  return memchr(p, '*', len) ? -1 : (long)len;
}

/* The word of entry k: stem, or the folded word for a final prefix. */
static const char *entry_word(const sb_tokens_t *t, size_t k, int prefix) {
  return prefix && k == t->n - 1 ? sb_token_norm(t, k) : sb_token_stem(t, k);
}

static int append_entry(sb_termset_t *s, const sb_tokens_t *t, int prefix, uint32_t value) {
  size_t bytes = 0;
  for (size_t k = 0; k < t->n; k++)
    bytes += strlen(entry_word(t, k, prefix)) + 1;
  int rc = reserve(s, bytes);
  if (rc)
    return rc;
  entry_t *e = &s->e[s->n];
  e->words = (uint32_t)s->used;
  for (size_t k = 0; k < t->n; k++) {
    const char *w = entry_word(t, k, prefix);
    memcpy(s->pool + s->used, w, strlen(w) + 1);
    s->used += strlen(w) + 1;
  }
  const char *first = s->pool + e->words;
  e->value = value, e->nwords = (uint8_t)t->n, e->prefix = (uint8_t)prefix;
  e->first_prefix = (uint8_t)(prefix && t->n == 1);
  e->hash = fnv(first, strlen(first));
  e->next = NO_ENTRY;
  int32_t *at = &s->heads[e->hash & (s->nheads - 1)];
  while (*at != NO_ENTRY)
    at = &s->e[*at].next;
  *at = (int32_t)s->n++;
  mark_seen(s->seen, e->hash, s->nheads);
  if (e->first_prefix)
    s->prefix_lens |= 1ull << (strlen(first) - 1);
  return 0;
}

int sb_termset_add(sb_termset_t *s, const char *phrase, size_t len, uint32_t value, sb_stem_t *stem) {
  int prefix;
  if (!s || !phrase || len > SB_TERMSET_PHRASE_MAX)
    return SB_EINVAL;
  long plen = strip_star(phrase, len, &prefix);
  if (plen < 0)
    return SB_EINVAL;
  sb_tokens_t t;
  sb_tokens_init(&t);
  int rc = sb_text_tokenize(phrase, (size_t)plen, &t);
  if (!rc && (t.n == 0 || t.n > SB_TERMSET_WORDS))
    rc = SB_EINVAL;
  if (!rc && prefix && (plen == 0 || phrase[plen - 1] == ' '))
    rc = SB_EINVAL; /* "word *" or a lone "*" */
  if (!rc)
    rc = sb_stem_tokens(stem, &t);
  if (!rc)
    rc = append_entry(s, &t, prefix, value);
  sb_tokens_free(&t);
  return rc;
}

/* Does entry e match the tokens from i? (its first word already did) */
static int rest_matches(const sb_termset_t *s, const entry_t *e, const sb_tokens_t *t, size_t i) {
  if (i + e->nwords > t->n)
    return 0;
  const char *w = s->pool + e->words;
  for (size_t k = 0; k < e->nwords; k++, w += strlen(w) + 1) {
    const sb_token_t *tk = &t->v[i + k];
    if (k > 0 && (tk->flags & SB_TOKEN_BREAK))
      return 0;
    int last_prefix = e->prefix && k + 1 == e->nwords;
    if (last_prefix ? strncmp(sb_token_norm(t, i + k), w, strlen(w)) != 0
                    : strcmp(sb_token_stem(t, i + k), w) != 0)
      return 0;
  }
  return 1;
}

/* Inserts a hit keeping the longest first (stable); counts it always. */
static void record(sb_term_hit_t *hits, size_t max, size_t *n, uint32_t value, uint32_t ntok) {
  size_t at = *n < max ? *n : max;
  while (at > 0 && hits[at - 1].ntok < ntok)
    at--;
  if (at < max) {
    size_t last = *n < max ? *n : max - 1;
    memmove(&hits[at + 1], &hits[at], (last - at) * sizeof *hits);
    hits[at].value = value, hits[at].ntok = ntok;
  }
  (*n)++;
}

static void scan_chain(const sb_termset_t *s, uint32_t h, int want_prefix, size_t plen, const sb_tokens_t *t,
                       size_t i, sb_term_hit_t *hits, size_t max, size_t *n) {
  size_t b = seen_bit(h, s->nheads);
  if (!(s->seen[b / 64] >> (b % 64) & 1))
    return;
  for (int32_t k = s->heads[h & (s->nheads - 1)]; k != NO_ENTRY; k = s->e[k].next) {
    const entry_t *e = &s->e[k];
    if (e->hash != h || e->first_prefix != want_prefix)
      continue;
    if (want_prefix && strlen(s->pool + e->words) != plen)
      continue;
    if (rest_matches(s, e, t, i))
      record(hits, max, n, e->value, e->nwords);
  }
}

size_t sb_termset_match(const sb_termset_t *s, const sb_tokens_t *t, size_t i, sb_term_hit_t *hits,
                        size_t max) {
  size_t n = 0;
  if (!s || s->n == 0 || i >= t->n)
    return 0;
  const char *stem = sb_token_stem(t, i);
  scan_chain(s, fnv(stem, strlen(stem)), 0, 0, t, i, hits, max, &n);
  if (!s->prefix_lens)
    return n;
  const char *norm = sb_token_norm(t, i);
  uint32_t h = FNV_OFFSET;
  for (size_t l = 1; norm[l - 1] && l <= SB_TEXT_WORD_MAX; l++) {
    h = fnv_step(h, (unsigned char)norm[l - 1]);
    if (s->prefix_lens & (1ull << (l - 1)))
      scan_chain(s, h, 1, l, t, i, hits, max, &n);
  }
  return n;
}
