/*
 * sb_sentiment: lexicon loading and scoring (see sb_sentiment.h).
 *
 * Each language's lexicon is a termset whose values index one array of
 * entries (kind and number). Scoring is one left-to-right walk keeping a
 * negation window, a pending intensifier and the sums before and after the
 * last contrast word; nothing is allocated while scoring.
 */
#include "sb_sentiment.h"
#include "sb_error.h"
#include "sb_termset.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define LEXICONS_MAX 32
#define VALENCE_MAX 4.0
#define BOOST_MIN (-0.9)
#define BOOST_MAX 2.0
#define LINE_MAX_LEN 512
#define HITS_MAX 4
#define PATH_LEN 4096

enum { E_VALENCE, E_NEG, E_INT, E_BUT };

typedef struct {
  unsigned char kind;
  float x;
} entry_t;

typedef struct {
  char lang[8];
  sb_termset_t *terms;
} lexicon_t;

struct sb_sentiment {
  lexicon_t lex[LEXICONS_MAX];
  size_t n;
  entry_t *e;
  size_t ne, cap;
};

sb_sentiment_t *sb_sentiment_new(void) { return calloc(1, sizeof(sb_sentiment_t)); }

void sb_sentiment_destroy(sb_sentiment_t **s) {
  if (!s || !*s)
    return;
  for (size_t i = 0; i < (*s)->n; i++)
    sb_termset_destroy(&(*s)->lex[i].terms);
  free((*s)->e);
  free(*s);
  *s = NULL;
}

static const sb_termset_t *terms_of(const sb_sentiment_t *s, const char *lang) {
  for (size_t i = 0; i < s->n; i++)
    if (!strcmp(s->lex[i].lang, lang))
      return s->lex[i].terms;
  return NULL;
}

int sb_sentiment_has(const sb_sentiment_t *s, const char *lang) {
  return s && lang && strcmp(lang, "*") && terms_of(s, lang) != NULL;
}

static sb_termset_t *lexicon_for(sb_sentiment_t *s, const char *lang) {
  sb_termset_t *t = (sb_termset_t *)terms_of(s, lang);
  if (t || s->n == LEXICONS_MAX || strlen(lang) >= sizeof s->lex[0].lang)
    return t;
  if (!(t = sb_termset_new()))
    return NULL;
  snprintf(s->lex[s->n].lang, sizeof s->lex[0].lang, "%s", lang);
  s->lex[s->n++].terms = t;
  return t;
}

/* Parses the part after the tab into e; 0 or SB_EPARSE. */
static int parse_value(const char *v, entry_t *e) {
  char *end;
  if (!strcmp(v, "NEG") || !strcmp(v, "BUT")) {
    e->kind = v[0] == 'N' ? E_NEG : E_BUT, e->x = 0;
    return 0;
  }
  int intens = !strncmp(v, "INT ", 4);
  errno = 0;
  double x = strtod(intens ? v + 4 : v, &end);
  if (errno || end == v || *end)
    return SB_EPARSE;
  if (intens ? (x < BOOST_MIN || x > BOOST_MAX) : (x < -VALENCE_MAX || x > VALENCE_MAX))
    return SB_EPARSE;
  e->kind = intens ? E_INT : E_VALENCE, e->x = (float)x;
  return 0;
}

static int push_entry(sb_sentiment_t *s, entry_t e) {
  if (s->ne == s->cap) {
    size_t cap = s->cap ? s->cap * 2 : 256;
    entry_t *v = realloc(s->e, cap * sizeof *v);
    if (!v)
      return SB_ENOMEM;
    s->e = v, s->cap = cap;
  }
  s->e[s->ne++] = e;
  return 0;
}

/* One non-comment line "phrase\tvalue". */
static int add_line(sb_sentiment_t *s, sb_termset_t *t, char *line) {
  char *tab = strchr(line, '\t');
  entry_t e;
  if (!tab)
    return SB_EPARSE;
  *tab = '\0';
  char *v = tab + 1;
  while (*v == ' ' || *v == '\t')
    v++;
  size_t vl = strlen(v);
  while (vl && (v[vl - 1] == ' ' || v[vl - 1] == '\r'))
    v[--vl] = '\0';
  if (parse_value(v, &e))
    return SB_EPARSE;
  int rc = sb_termset_add(t, line, strlen(line), (uint32_t)s->ne, NULL);
  if (rc)
    return rc == SB_EINVAL ? SB_EPARSE : rc;
  return push_entry(s, e);
}

static int blank_or_comment(const char *l) {
  while (*l == ' ' || *l == '\t' || *l == '\r')
    l++;
  return *l == '\0' || *l == '#';
}

int sb_sentiment_add_lexicon(sb_sentiment_t *s, const char *lang, const char *text, size_t len, char *err,
                             size_t errlen) {
  if (errlen)
    err[0] = '\0';
  if (!s || !lang || (!text && len))
    return SB_EINVAL;
  if (len > SB_SENTIMENT_LEXICON_MAX)
    return SB_ETOOBIG;
  sb_termset_t *t = lexicon_for(s, lang);
  if (!t)
    return SB_ENOMEM;
  char line[LINE_MAX_LEN];
  size_t pos = 0, lineno = 0;
  while (pos < len) {
    const char *nl = memchr(text + pos, '\n', len - pos);
    size_t n = (nl ? (size_t)(nl - text) : len) - pos;
    lineno++;
    int rc = n < sizeof line ? 0 : SB_EPARSE;
    if (!rc) {
      memcpy(line, text + pos, n), line[n] = '\0';
      rc = blank_or_comment(line) ? 0 : add_line(s, t, line);
    }
    if (rc) {
      if (errlen)
        snprintf(err, errlen, "line %zu: %s", lineno,
                 rc == SB_EPARSE ? "expected \"phrase<TAB>valence|NEG|BUT|INT x\"" : sb_strerror(rc));
      return rc;
    }
    pos += n + 1;
  }
  return 0;
}

static int load_file(sb_sentiment_t *s, const char *dir, const char *name, const char *lang, char *err,
                     size_t errlen) {
  char path[PATH_LEN], why[256];
  snprintf(path, sizeof path, "%s/%s.txt", dir, name);
  FILE *f = fopen(path, "rb");
  if (!f) {
    snprintf(err, errlen, "%s: cannot open", path);
    return SB_EIO;
  }
  char *buf = malloc(SB_SENTIMENT_LEXICON_MAX + 1);
  size_t n = buf ? fread(buf, 1, SB_SENTIMENT_LEXICON_MAX + 1, f) : 0;
  fclose(f);
  int rc = !buf ? SB_ENOMEM : sb_sentiment_add_lexicon(s, lang, buf, n, why, sizeof why);
  if (rc && errlen)
    snprintf(err, errlen, "%s: %s", path, rc == SB_EPARSE ? why : sb_strerror(rc));
  free(buf);
  return rc;
}

int sb_sentiment_load_dir(sb_sentiment_t *s, const char *dir, const char *const *langs, char *err,
                          size_t errlen) {
  static const char *const all[] = SB_SENTIMENT_LANGS;
  int rc = load_file(s, dir, "common", "*", err, errlen);
  for (const char *const *l = langs ? langs : all; *l && !rc; l++)
    rc = load_file(s, dir, *l, *l, err, errlen);
  return rc;
}

/* --------------------------------------------------------------- scoring */

typedef struct {
  double before, after; /* sums before / after the last contrast word */
  int but, hits;
  long neg_until, boost_until;
  double boost;
} walk_t;

static const entry_t *entry_at(const sb_sentiment_t *s, const sb_termset_t *lang, const sb_termset_t *common,
                               const sb_tokens_t *t, size_t i, size_t *span) {
  sb_term_hit_t h[HITS_MAX];
  size_t n = sb_termset_match(lang, t, i, h, HITS_MAX);
  if (!n)
    n = sb_termset_match(common, t, i, h, HITS_MAX);
  if (!n)
    return NULL;
  *span = h[0].ntok;
  return &s->e[h[0].value];
}

static double sign(double v) { return v < 0 ? -1 : 1; }

static void add_valence(walk_t *w, const sb_tokens_t *t, size_t i, double v) {
  if ((long)i <= w->boost_until)
    v *= 1 + (w->boost < BOOST_MIN ? BOOST_MIN : w->boost);
  if ((t->v[i].flags & SB_TOKEN_CAPS) && t->mixed_case)
    v += sign(v) * SB_SENTIMENT_CAPS_BOOST;
  if ((long)i <= w->neg_until)
    v *= SB_SENTIMENT_NEGATE;
  w->after += v;
  w->boost = 0, w->boost_until = -1;
  w->hits++;
}

static void apply(walk_t *w, const entry_t *e, const sb_tokens_t *t, size_t i, size_t span) {
  long last = (long)(i + span - 1);
  switch (e->kind) {
  case E_NEG:
    w->neg_until = last + SB_SENTIMENT_NEG_WINDOW;
    break;
  case E_INT:
    w->boost += e->x, w->boost_until = last + SB_SENTIMENT_BOOST_WINDOW;
    break;
  case E_BUT:
    w->before += w->after, w->after = 0, w->but = 1;
    break;
  default:
    add_valence(w, t, i, e->x);
  }
}

static double total(const walk_t *w, unsigned exclaims) {
  double sum = w->but ? SB_SENTIMENT_BEFORE_BUT * w->before + SB_SENTIMENT_AFTER_BUT * w->after : w->after;
  if (sum != 0)
    sum += sign(sum) * SB_SENTIMENT_EXCLAIM_BOOST *
           (exclaims < SB_SENTIMENT_EXCLAIM_MAX ? exclaims : SB_SENTIMENT_EXCLAIM_MAX);
  return sum;
}

/* Scores t with one language's lexicon (NULL: the common one only). */
static void score_with(const sb_sentiment_t *s, const sb_termset_t *own, const sb_tokens_t *t,
                       sb_sentiment_result_t *out) {
  const sb_termset_t *common = terms_of(s, "*");
  walk_t w = {.neg_until = -1, .boost_until = -1};
  for (size_t i = 0, span = 1; i < t->n; i += span) {
    if (t->v[i].flags & SB_TOKEN_BREAK)
      w.neg_until = -1, w.boost = 0, w.boost_until = -1;
    span = 1;
    const entry_t *e = entry_at(s, own, common, t, i, &span);
    if (e)
      apply(&w, e, t, i, span);
  }
  double sum = total(&w, t->exclaims);
  out->score = sum / sqrt(sum * sum + SB_SENTIMENT_ALPHA);
  out->hits = w.hits;
  out->label = out->score >= SB_SENTIMENT_POSITIVE_MIN    ? SB_SENTIMENT_POSITIVE
               : out->score <= -SB_SENTIMENT_NEGATIVE_MIN ? SB_SENTIMENT_NEGATIVE
                                                          : SB_SENTIMENT_NEUTRAL;
}

int sb_sentiment_score(const sb_sentiment_t *s, const char *lang, const sb_tokens_t *t,
                       sb_sentiment_result_t *out) {
  if (!s || !lang || !t || !out)
    return SB_EINVAL;
  if (strcmp(lang, SB_SENTIMENT_UNKNOWN)) {
    score_with(s, strcmp(lang, "*") ? terms_of(s, lang) : NULL, t, out);
    return 0;
  }
  score_with(s, NULL, t, out); /* unknown language: the lexicon that knows most words */
  for (size_t i = 0; i < s->n; i++) {
    sb_sentiment_result_t r;
    if (!strcmp(s->lex[i].lang, "*"))
      continue;
    score_with(s, s->lex[i].terms, t, &r);
    if (r.hits > out->hits)
      *out = r;
  }
  return 0;
}

const char *sb_sentiment_label_name(sb_sentiment_label_t l) {
  return l == SB_SENTIMENT_NEGATIVE ? "negative" : l == SB_SENTIMENT_POSITIVE ? "positive" : "neutral";
}
