/*
 * sb_classify: see sb_classify.h. The language and privacy verdict of the
 * service (sb_classify_text, sb_classify_envelope) and the full pipeline
 * (sb_classify_message): redact, cut, detect the language, tokenise once,
 * then sentiment, intents, flags, priority and suggestion over the tokens.
 */
#include "sb_classify.h"
#include "sb_error.h"
#include "sb_lang.h"
#include "sb_time.h"

#include <stdlib.h>
#include <string.h>

int sb_classify_text(const char *text, size_t len, const char *const *languages, int is_public,
                     size_t pii_found, sb_classify_result_t *out) {
  sb_lang_result_t lang;
  memset(out, 0, sizeof *out);
  int rc = sb_lang_detect(text, len, languages, &lang);
  if (rc)
    return rc;
  memcpy(out->language, lang.code, sizeof out->language);
  out->language[sizeof out->language - 1] = '\0';
  out->percent = lang.percent;
  out->reliable = lang.reliable;
  out->move_private = is_public && pii_found > 0;
  return 0;
}

/* The envelope's classification, created if missing. NULL if not an
 * interaction or out of memory (*rc says which). */
static Switchboard__V1__Classification *classification_of(sb_envelope_t *env, int *rc) {
  *rc = 0;
  if (env->body_case != SWITCHBOARD__V1__ENVELOPE__BODY_INTERACTION || !env->interaction)
    return NULL;
  if (!env->classification) {
    /* freed by free_unpacked together with the rest of the envelope */
    env->classification = malloc(sizeof *env->classification);
    if (!env->classification) {
      *rc = SB_ENOMEM;
      return NULL;
    }
    switchboard__v1__classification__init(env->classification);
  }
  return env->classification;
}

static int set_classification(Switchboard__V1__Classification *c, const sb_classify_result_t *r) {
  char *lang = strdup(r->language);
  if (!lang)
    return SB_ENOMEM;
  if (c->language != protobuf_c_empty_string)
    free(c->language);
  c->language = lang;
  c->language_percent = r->percent;
  c->reliable = r->reliable;
  c->move_private = r->move_private;
  c->classified_us = sb_now_us();
  return 0;
}

int sb_classify_envelope(sb_envelope_t *env, const sb_tenant_t *tenant) {
  int rc;
  Switchboard__V1__Classification *c = classification_of(env, &rc);
  if (!c)
    return rc;
  Switchboard__V1__Interaction *in = env->interaction;
  sb_classify_result_t r;
  const char *text = in->text ? in->text : "";
  rc = sb_classify_text(text, strlen(text), tenant ? tenant->languages : NULL, in->public_, c->n_pii, &r);
  return rc ? rc : set_classification(c, &r);
}

static char *replace_str(char *old, const char *s) {
  if (old != protobuf_c_empty_string)
    free(old);
  return strdup(s ? s : "");
}

/* Intents, competitors, flags and the suggestion into the classification. */
static int set_verdict(Switchboard__V1__Classification *c, const sb_classify_verdict_t *v,
                       const sb_rules_t *rules) {
  c->sentiment_score = v->sentiment.score;
  c->sentiment = replace_str(c->sentiment, sb_sentiment_label_name(v->sentiment.label));
  c->priority = v->priority.score;
  c->legal_threat = v->intent.legal != 0;
  c->vip = v->vip;
  c->suggested_reply = replace_str(c->suggested_reply, v->has_suggestion ? v->suggestion.id : "");
  c->suggested_score = v->has_suggestion ? v->suggestion.score : 0;
  c->intents = calloc(v->intent.n ? v->intent.n : 1, sizeof *c->intents);
  c->competitors = calloc(v->intent.n_competitors ? v->intent.n_competitors : 1, sizeof *c->competitors);
  if (!c->sentiment || !c->suggested_reply || !c->intents || !c->competitors)
    return SB_ENOMEM;
  for (size_t i = 0; i < v->intent.n; i++) {
    Switchboard__V1__IntentMatch *m = malloc(sizeof *m);
    if (!m)
      return SB_ENOMEM;
    switchboard__v1__intent_match__init(m);
    m->name = strdup(v->intent.intents[i].name);
    m->score = v->intent.intents[i].score;
    c->intents[c->n_intents++] = m;
  }
  for (size_t i = 0; rules && i < v->intent.n_competitors; i++)
    c->competitors[c->n_competitors++] = strdup(sb_rules_competitor(rules, (size_t)v->intent.competitors[i]));
  return 0;
}

int sb_classify_envelope_apply(sb_envelope_t *env, const sb_classify_verdict_t *v) {
  return sb_classify_envelope_apply_rules(env, v, NULL);
}

int sb_classify_envelope_apply_rules(sb_envelope_t *env, const sb_classify_verdict_t *v,
                                     const sb_rules_t *rules) {
  int rc;
  Switchboard__V1__Classification *c = classification_of(env, &rc);
  if (!c)
    return rc ? rc : SB_EINVAL;
  if (c->classified_us)
    return SB_EEXISTS; /* classified already: a re-sent envelope keeps its verdict */
  sb_classify_result_t r = v->lang;
  r.move_private = v->move_private || (env->interaction->public_ && c->n_pii > 0);
  rc = set_classification(c, &r);
  return rc ? rc : set_verdict(c, v, rules);
}

/* ------------------------------------------------------- full verdict */

struct sb_classify {
  const sb_rules_t *rules;
  const sb_sentiment_t *sentiment;
  sb_intent_t *intent;
  sb_suggest_t *suggest;
  sb_tokens_t tokens; /* reused across messages */
};

sb_classify_t *sb_classify_new(const sb_rules_t *rules, const sb_sentiment_t *sentiment) {
  sb_classify_t *c = rules ? calloc(1, sizeof *c) : NULL;
  if (!c)
    return NULL;
  c->rules = rules, c->sentiment = sentiment;
  sb_tokens_init(&c->tokens);
  c->intent = sb_intent_new(rules);
  c->suggest = sb_suggest_new(rules);
  if (!c->intent || !c->suggest)
    sb_classify_destroy(&c);
  return c;
}

void sb_classify_destroy(sb_classify_t **cp) {
  if (!cp || !*cp)
    return;
  sb_intent_destroy(&(*cp)->intent);
  sb_suggest_destroy(&(*cp)->suggest);
  sb_tokens_free(&(*cp)->tokens);
  free(*cp);
  *cp = NULL;
}

sb_suggest_t *sb_classify_suggest(sb_classify_t *c) { return c ? c->suggest : NULL; }

void sb_classify_verdict_clear(sb_classify_verdict_t *v) {
  if (!v)
    return;
  free(v->redacted);
  memset(v, 0, sizeof *v);
}

void sb_classify_pii_codepoints(const char *text, size_t len, const sb_classify_verdict_t *v, size_t *cp) {
  size_t at = 0, count = 0; /* bytes [0, at) hold `count` code points */
  for (size_t k = 0; k < v->n_pii; k++) {
    size_t s = v->pii[k].start < len ? v->pii[k].start : len, e = v->pii[k].end < len ? v->pii[k].end : len;
    count += sb_text_codepoints(text + at, s - at);
    cp[2 * k] = count;
    count += sb_text_codepoints(text + s, e - s);
    cp[2 * k + 1] = count;
    at = e;
  }
}

/* Spans (up to SB_CLASSIFY_PII_MAX) and the redaction of the whole text. */
/* One scan: the spans found redact the text, unless there were more than
 * the verdict holds (then redaction scans again, to hide them all). */
static int find_pii(const sb_classify_input_t *in, const char *text, sb_classify_verdict_t *v) {
  int rc = sb_pii_scan(text, in->len, v->pii, SB_CLASSIFY_PII_MAX, &v->n_pii);
  if (rc == SB_ETOOBIG) {
    v->pii_truncated = 1;
    return sb_pii_redact(text, in->len, SB_PII_MASK_ALL, &v->redacted, &v->redacted_len, &v->pii_mask);
  }
  if (rc)
    return rc;
  return sb_pii_redact_spans(text, in->len, v->pii, v->n_pii, SB_PII_MASK_ALL, &v->redacted, &v->redacted_len,
                             &v->pii_mask);
}

static void score_priority(const sb_classify_t *c, const sb_classify_input_t *in, sb_classify_verdict_t *v) {
  sb_priority_input_t p = {.sentiment = v->sentiment.score,
                           .is_public = in->is_public,
                           .followers = in->followers,
                           .vip = v->vip,
                           .intent_weight = v->intent.top_weight,
                           .repeat_contact = in->repeat_contact,
                           .legal = v->intent.legal > 0};
  sb_priority_score(sb_rules_priority(c->rules), &p, &v->priority);
}

/* Everything after redaction, over the first `cut` bytes of it. */
static int analyse(sb_classify_t *c, const sb_classify_input_t *in, size_t cut, sb_classify_verdict_t *v) {
  const char *lang = v->lang.language;
  int rc = sb_text_tokenize(v->redacted, cut, &c->tokens);
  if (!rc && c->sentiment)
    rc = sb_sentiment_score(c->sentiment, lang, &c->tokens, &v->sentiment);
  if (!rc)
    rc = sb_intent_match(c->intent, lang, v->redacted, cut, &c->tokens, &v->intent);
  if (rc)
    return rc;
  v->vip = sb_rules_is_vip(c->rules, in->customer);
  v->move_private = in->is_public && (v->n_pii > 0 || v->intent.account);
  v->lang.move_private = v->move_private;
  score_priority(c, in, v);
  rc = sb_suggest_best(c->suggest, lang, &c->tokens, &v->intent, &v->suggestion);
  v->has_suggestion = rc == 1;
  return rc < 0 ? rc : 0;
}

int sb_classify_message(sb_classify_t *c, const sb_classify_input_t *in, sb_classify_verdict_t *out) {
  if (out)
    memset(out, 0, sizeof *out);
  if (!c || !in || !out || (!in->text && in->len))
    return SB_EINVAL;
  int rc = find_pii(in, in->text ? in->text : "", out);
  if (rc)
    return rc;
  size_t cut = sb_text_cut(out->redacted, out->redacted_len, SB_CLASSIFY_TEXT_MAX);
  out->truncated = cut < out->redacted_len;
  rc = sb_classify_text(out->redacted, cut, sb_rules_languages(c->rules), in->is_public, out->n_pii, &out->lang);
  return rc ? rc : analyse(c, in, cut, out);
}
