/*
 * sb_suggest: BM25 over the canned answers (see sb_suggest.h).
 *
 * The vocabulary is a termset of single folded words whose value is the
 * term id; each term has a postings list of (answer, term frequency). A
 * query looks up each distinct word of the message once, adds BM25 weights
 * into a per-answer scratch array, then filters by language and intent,
 * applies the intent bonus and the learned factor, and keeps the best.
 */
#include "sb_suggest.h"
#include "sb_error.h"
#include "sb_termset.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define QUERY_TERMS_MAX 512

typedef struct {
  uint32_t *doc;
  uint32_t *tf;
  size_t n, cap;
} postings_t;

typedef struct {
  uint64_t accepts, rejects;
  uint32_t length; /* words */
} answer_t;

struct sb_suggest {
  const sb_rules_t *rules;
  sb_termset_t *vocab;
  postings_t *terms;
  size_t n_terms, cap_terms;
  answer_t *answers;
  size_t n_answers;
  double avg_length;
  double *scratch; /* per answer */
};

static int add_posting(postings_t *p, uint32_t doc) {
  if (p->n && p->doc[p->n - 1] == doc) {
    p->tf[p->n - 1]++;
    return 0;
  }
  if (p->n == p->cap) {
    size_t cap = p->cap ? p->cap * 2 : 4;
    uint32_t *d = realloc(p->doc, cap * sizeof *d);
    if (d)
      p->doc = d;
    uint32_t *f = d ? realloc(p->tf, cap * sizeof *f) : NULL;
    if (!f)
      return SB_ENOMEM;
    p->tf = f, p->cap = cap;
  }
  p->doc[p->n] = doc, p->tf[p->n] = 1, p->n++;
  return 0;
}

/* Id of token i of t in the vocabulary, adding it if new; -1 on ENOMEM. */
static long term_id(sb_suggest_t *s, const sb_tokens_t *t, size_t i) {
  sb_term_hit_t h;
  if (sb_termset_match(s->vocab, t, i, &h, 1) && h.ntok == 1)
    return (long)h.value;
  if (s->n_terms == s->cap_terms) {
    size_t cap = s->cap_terms ? s->cap_terms * 2 : 64;
    postings_t *v = realloc(s->terms, cap * sizeof *v);
    if (!v)
      return -1;
    s->terms = v, s->cap_terms = cap;
  }
  const char *w = sb_token_norm(t, i);
  if (sb_termset_add(s->vocab, w, strlen(w), (uint32_t)s->n_terms, NULL))
    return -1;
  memset(&s->terms[s->n_terms], 0, sizeof s->terms[0]);
  return (long)s->n_terms++;
}

static int index_answer(sb_suggest_t *s, uint32_t doc, sb_tokens_t *t) {
  const sb_rule_answer_t *a = sb_rules_answer(s->rules, doc);
  int rc = sb_text_tokenize(a->text, strlen(a->text), t);
  for (size_t i = 0; i < t->n && !rc; i++) {
    long id = term_id(s, t, i);
    rc = id < 0 ? SB_ENOMEM : add_posting(&s->terms[id], doc);
  }
  s->answers[doc].length = (uint32_t)t->n;
  return rc;
}

sb_suggest_t *sb_suggest_new(const sb_rules_t *rules) {
  sb_suggest_t *s = calloc(1, sizeof *s);
  size_t n = sb_rules_answer_count(rules);
  if (!s)
    return NULL;
  s->rules = rules;
  s->n_answers = n;
  s->vocab = sb_termset_new();
  s->answers = calloc(n + 1, sizeof *s->answers);
  s->scratch = calloc(n + 1, sizeof *s->scratch);
  int rc = s->vocab && s->answers && s->scratch ? 0 : SB_ENOMEM;
  sb_tokens_t t;
  sb_tokens_init(&t);
  double total = 0;
  for (uint32_t d = 0; d < n && !rc; d++)
    rc = index_answer(s, d, &t), total += s->answers[d].length;
  sb_tokens_free(&t);
  s->avg_length = n ? total / (double)n : 0;
  if (rc)
    sb_suggest_destroy(&s);
  return s;
}

void sb_suggest_destroy(sb_suggest_t **sp) {
  if (!sp || !*sp)
    return;
  sb_suggest_t *s = *sp;
  for (size_t i = 0; i < s->n_terms; i++)
    free(s->terms[i].doc), free(s->terms[i].tf);
  free(s->terms);
  sb_termset_destroy(&s->vocab);
  free(s->answers);
  free(s->scratch);
  free(s);
  *sp = NULL;
}

/* -------------------------------------------------------------- ranking */

static int cmp_u32(const void *a, const void *b) {
  uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
  return x < y ? -1 : x > y;
}

/* Distinct vocabulary ids of the message's words into ids; their count. */
static size_t query_terms(const sb_suggest_t *s, const sb_tokens_t *t, uint32_t *ids) {
  size_t n = 0, u = 0;
  sb_term_hit_t h;
  for (size_t i = 0; i < t->n && n < QUERY_TERMS_MAX; i++)
    if (sb_termset_match(s->vocab, t, i, &h, 1) && h.ntok == 1)
      ids[n++] = h.value;
  qsort(ids, n, sizeof *ids, cmp_u32);
  for (size_t i = 0; i < n; i++)
    if (!u || ids[u - 1] != ids[i])
      ids[u++] = ids[i];
  return u;
}

static void bm25(sb_suggest_t *s, const sb_tokens_t *t) {
  uint32_t ids[QUERY_TERMS_MAX];
  size_t nq = query_terms(s, t, ids);
  double N = (double)s->n_answers;
  memset(s->scratch, 0, s->n_answers * sizeof *s->scratch);
  for (size_t q = 0; q < nq; q++) {
    const postings_t *p = &s->terms[ids[q]];
    double idf = log(1.0 + (N - (double)p->n + 0.5) / ((double)p->n + 0.5));
    for (size_t k = 0; k < p->n; k++) {
      double tf = p->tf[k], dl = s->answers[p->doc[k]].length;
      double norm = SB_SUGGEST_K1 * (1 - SB_SUGGEST_B + SB_SUGGEST_B * dl / (s->avg_length > 0 ? s->avg_length : 1));
      s->scratch[p->doc[k]] += idf * tf * (SB_SUGGEST_K1 + 1) / (tf + norm);
    }
  }
}

/* Score of the message for intent (0 if not matched); -1 if the answer's
 * intent was not matched at all (not a candidate). */
static double intent_score(const sb_intent_result_t *in, int intent) {
  if (intent < 0)
    return 0;
  for (size_t k = 0; in && k < in->n; k++)
    if (in->intents[k].index == intent)
      return in->intents[k].score;
  return -1;
}

static double learned(const answer_t *a) {
  return 2.0 * (double)(a->accepts + 1) / (double)(a->accepts + a->rejects + 2);
}

int sb_suggest_best(sb_suggest_t *s, const char *lang, const sb_tokens_t *t, const sb_intent_result_t *intents,
                    sb_suggestion_t *out) {
  if (!s || !lang || !t || !out)
    return SB_EINVAL;
  bm25(s, t);
  int best = -1;
  double best_score = 0;
  for (size_t d = 0; d < s->n_answers; d++) {
    const sb_rule_answer_t *a = sb_rules_answer(s->rules, d);
    double is = intent_score(intents, a->intent);
    if (is < 0 || (strcmp(a->lang, "*") && strcmp(a->lang, lang)))
      continue;
    double score = (s->scratch[d] + SB_SUGGEST_INTENT_BONUS * is) * learned(&s->answers[d]);
    if (score >= SB_SUGGEST_MIN_SCORE && score > best_score)
      best = (int)d, best_score = score;
  }
  if (best < 0)
    return 0;
  *out = (sb_suggestion_t){best, sb_rules_answer(s->rules, (size_t)best)->id, best_score, s->scratch[best]};
  return 1;
}

static long find_answer(const sb_suggest_t *s, const char *id) {
  for (size_t d = 0; id && d < s->n_answers; d++)
    if (!strcmp(sb_rules_answer(s->rules, d)->id, id))
      return (long)d;
  return -1;
}

int sb_suggest_feedback(sb_suggest_t *s, const char *id, int accepted) {
  long d = s ? find_answer(s, id) : -1;
  if (d < 0)
    return SB_ENOTFOUND;
  accepted ? s->answers[d].accepts++ : s->answers[d].rejects++;
  return 0;
}

int sb_suggest_counts(const sb_suggest_t *s, const char *id, uint64_t *accepts, uint64_t *rejects) {
  long d = s ? find_answer(s, id) : -1;
  if (d < 0)
    return SB_ENOTFOUND;
  *accepts = s->answers[d].accepts, *rejects = s->answers[d].rejects;
  return 0;
}

int sb_suggest_set_counts(sb_suggest_t *s, const char *id, uint64_t accepts, uint64_t rejects) {
  long d = s ? find_answer(s, id) : -1;
  if (d < 0)
    return SB_ENOTFOUND;
  s->answers[d].accepts = accepts, s->answers[d].rejects = rejects;
  return 0;
}

void sb_suggest_reset_counts(sb_suggest_t *s) {
  for (size_t d = 0; s && d < s->n_answers; d++)
    s->answers[d].accepts = s->answers[d].rejects = 0;
}

size_t sb_suggest_answer_count(const sb_suggest_t *s) { return s ? s->n_answers : 0; }

int sb_suggest_knows(const sb_suggest_t *s, const char *id) { return s && find_answer(s, id) >= 0; }
