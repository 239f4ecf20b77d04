/*
 * sb_intent: rules matching (see sb_intent.h).
 *
 * Per message: stem the tokens for each language to try, walk them through
 * that language's termset, then through the language-free one; count hits
 * per intent (one per token position), collect competitors and legal words;
 * run the regexes on a NUL-terminated copy of the text's head; rank. The
 * matcher owns per-intent counters so nothing is allocated per message.
 */
#include "sb_intent.h"
#include "sb_error.h"
#include "sb_stem.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define TERM_HITS_MAX 16

struct sb_intent {
  const sb_rules_t *rules;
  sb_stem_t **stems; /* one per sb_rules_term_lang */
  size_t n_stems;
  int *hits;       /* per intent */
  long *last_pos;  /* per intent: token position of its last keyword hit */
  sb_intent_hit_t *rank; /* per intent: scratch for ranking */
  char scan[SB_RULES_REGEX_SCAN + 1];
#ifdef SB_HAVE_HYPERSCAN
  hs_scratch_t *scratch;
#endif
};

sb_intent_t *sb_intent_new(const sb_rules_t *rules) {
  sb_intent_t *m = calloc(1, sizeof *m);
  size_t ni = sb_rules_intent_count(rules) + 1, nl = sb_rules_term_lang_count(rules);
  if (!m)
    return NULL;
  m->rules = rules;
  m->n_stems = nl;
  m->stems = calloc(nl + 1, sizeof *m->stems);
  m->hits = calloc(ni, sizeof *m->hits);
  m->last_pos = calloc(ni, sizeof *m->last_pos);
  m->rank = calloc(ni, sizeof *m->rank);
  if (!m->stems || !m->hits || !m->last_pos || !m->rank) {
    sb_intent_destroy(&m);
    return NULL;
  }
  for (size_t i = 0; i < nl; i++)
    m->stems[i] = sb_stem_new(sb_rules_term_lang(rules, i));
#ifdef SB_HAVE_HYPERSCAN
  const hs_database_t *db = sb_rules_hyperscan(rules);
  if (db && hs_alloc_scratch(db, &m->scratch) != HS_SUCCESS)
    sb_intent_destroy(&m);
#endif
  return m;
}

void sb_intent_destroy(sb_intent_t **mp) {
  if (!mp || !*mp)
    return;
  sb_intent_t *m = *mp;
  for (size_t i = 0; m->stems && i < m->n_stems; i++)
    sb_stem_destroy(&m->stems[i]);
  free(m->stems);
  free(m->hits);
  free(m->last_pos);
  free(m->rank);
#ifdef SB_HAVE_HYPERSCAN
  hs_free_scratch(m->scratch);
#endif
  free(m);
  *mp = NULL;
}

static void note_competitor(sb_intent_result_t *out, int idx) {
  for (size_t k = 0; k < out->n_competitors; k++)
    if (out->competitors[k] == idx)
      return;
  if (out->n_competitors < SB_INTENT_COMPETITORS_MAX)
    out->competitors[out->n_competitors++] = idx;
}

static void note_hit(sb_intent_t *m, sb_intent_result_t *out, const sb_term_hit_t *h, size_t i) {
  size_t idx = SB_RULES_TERM_INDEX(h->value);
  switch (SB_RULES_TERM_KIND(h->value)) {
  case SB_RULES_TERM_INTENT:
    if (idx < sb_rules_intent_count(m->rules) && m->last_pos[idx] != (long)i) {
      m->last_pos[idx] = (long)i;
      m->hits[idx] += h->ntok >= 2 ? SB_INTENT_PHRASE_HITS : 1;
    }
    break;
  case SB_RULES_TERM_COMPETITOR:
    note_competitor(out, (int)idx);
    break;
  case SB_RULES_TERM_LEGAL:
    out->legal++;
    break;
  }
}

static void scan_terms(sb_intent_t *m, const sb_termset_t *set, const sb_tokens_t *t, sb_intent_result_t *out) {
  sb_term_hit_t h[TERM_HITS_MAX];
  for (size_t i = 0; set && i < t->n; i++) {
    size_t n = sb_termset_match(set, t, i, h, TERM_HITS_MAX);
    for (size_t k = 0; k < n && k < TERM_HITS_MAX; k++)
      note_hit(m, out, &h[k], i);
  }
}

static int scan_language(sb_intent_t *m, size_t li, sb_tokens_t *t, sb_intent_result_t *out) {
  int rc = sb_stem_tokens(m->stems[li], t);
  if (!rc)
    scan_terms(m, sb_rules_terms(m->rules, sb_rules_term_lang(m->rules, li)), t, out);
  return rc;
}

static int scan_keywords(sb_intent_t *m, const char *lang, sb_tokens_t *t, sb_intent_result_t *out) {
  int any = !strcmp(lang, "und"), rc = 0;
  for (size_t li = 0; li < m->n_stems && !rc; li++)
    if (any || !strcmp(sb_rules_term_lang(m->rules, li), lang))
      rc = scan_language(m, li, t, out);
  sb_tokens_unstem(t);
  if (!rc)
    scan_terms(m, sb_rules_terms(m->rules, "*"), t, out);
  return rc;
}

/* Does regex x apply to a message in lang? */
static int regex_applies(const sb_rule_regex_t *x, const char *lang) {
  return !strcmp(lang, "und") || !strcmp(x->lang, "*") || !strcmp(x->lang, lang);
}

#ifdef SB_HAVE_HYPERSCAN
typedef struct {
  sb_intent_t *m;
  const char *lang;
} hs_ctx_t;

static int on_hs_match(unsigned id, unsigned long long from, unsigned long long to, unsigned flags, void *ctx) {
  hs_ctx_t *c = ctx;
  const sb_rule_regex_t *x = sb_rules_regex(c->m->rules, id);
  (void)from, (void)to, (void)flags;
  if (x && regex_applies(x, c->lang))
    c->m->hits[x->intent]++;
  return 0; /* keep scanning: other regexes may match */
}

/* One linear pass for every regex (SINGLEMATCH: each reports once). */
static void scan_regexes(sb_intent_t *m, const char *lang, const char *text, size_t len) {
  const hs_database_t *db = sb_rules_hyperscan(m->rules);
  hs_ctx_t c = {m, lang};
  if (db)
    hs_scan(db, text, (unsigned)sb_text_cut(text, len, SB_RULES_REGEX_SCAN), 0, m->scratch, on_hs_match, &c);
}
#else
static void scan_regexes(sb_intent_t *m, const char *lang, const char *text, size_t len) {
  size_t nr = sb_rules_regex_count(m->rules);
  if (!nr)
    return;
  size_t n = sb_text_cut(text, len, SB_RULES_REGEX_SCAN);
  memcpy(m->scan, text, n);
  m->scan[n] = '\0';
  for (size_t k = 0; k < nr; k++) {
    const sb_rule_regex_t *x = sb_rules_regex(m->rules, k);
    if (regex_applies(x, lang) && regexec(&x->re, m->scan, 0, NULL, 0) == 0)
      m->hits[x->intent]++;
  }
}
#endif

static int by_rank(const void *a, const void *b) {
  const sb_intent_hit_t *x = a, *y = b;
  if (x->secondary != y->secondary)
    return x->secondary - y->secondary;
  if (x->score != y->score)
    return x->score < y->score ? 1 : -1;
  if (x->weight != y->weight)
    return x->weight < y->weight ? 1 : -1;
  return x->index - y->index;
}

static void rank(sb_intent_t *m, sb_intent_result_t *out) {
  size_t n = 0;
  for (size_t i = 0; i < sb_rules_intent_count(m->rules); i++) {
    if (!m->hits[i])
      continue;
    const sb_rule_intent_t *ri = sb_rules_intent(m->rules, i);
    m->rank[n++] = (sb_intent_hit_t){(int)i, ri->name, 1.0 - ldexp(1.0, -m->hits[i]), m->hits[i], ri->weight,
                                     ri->secondary};
    out->account |= ri->account;
    if (ri->weight > out->top_weight)
      out->top_weight = ri->weight;
  }
  qsort(m->rank, n, sizeof *m->rank, by_rank);
  out->n = n < SB_INTENT_MAX ? n : SB_INTENT_MAX;
  memcpy(out->intents, m->rank, out->n * sizeof *out->intents);
}

int sb_intent_match(sb_intent_t *m, const char *lang, const char *text, size_t len, sb_tokens_t *t,
                    sb_intent_result_t *out) {
  if (out)
    memset(out, 0, sizeof *out);
  if (!m || !lang || !t || !out || (!text && len))
    return SB_EINVAL;
  size_t ni = sb_rules_intent_count(m->rules);
  memset(m->hits, 0, ni * sizeof *m->hits);
  for (size_t i = 0; i < ni; i++)
    m->last_pos[i] = -1;
  int rc = scan_keywords(m, lang, t, out);
  if (rc)
    return rc;
  scan_regexes(m, lang, text ? text : "", len);
  rank(m, out);
  return 0;
}
