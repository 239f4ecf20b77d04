/*
 * fuzz_classify: libFuzzer target over every classify analyser at once:
 * sb_classify_message (PII, redaction, language, tokens, sentiment,
 * intents, flags, priority, suggestion) and the service's spike tracker
 * (sb_incident, over sb_spike) fed from it, tuned to open incidents often.
 *
 * The first input byte chooses the options (public, repeat contact, VIP
 * customer); the rest is the message, never NUL-terminated, so ASan sees
 * any overread. Checked: every documented range (spans sorted inside the
 * input, code points monotone, scores and priority in range, redaction
 * NUL-terminated, the move_private rule, the truncation flag, incident
 * ids "<kind>:<key>:<bucket start>" with the message's own first), and that no
 * input stalls (libFuzzer's -timeout catches that).
 *
 * The rules and lexicon are small inline copies exercising every feature
 * (phrases, prefixes, regexes, competitors, legal words, negation,
 * intensifiers, contrast), since fuzz targets do not read the source tree.
 */
#include "sb_classify.h"
#include "sb_error.h"
#include "sb_incident.h"

#include <stdio.h>

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static const char RULES[] =
    "{\"languages\": [\"en\", \"fr\", \"de\"],"
    " \"intents\": ["
    "  {\"name\": \"refund\", \"weight\": 60, \"account\": true,"
    "   \"keywords\": {\"en\": [\"refund*\", \"money back\"], \"fr\": [\"rembours*\"], \"*\": [\"chargeback\"]},"
    "   \"regex\": {\"en\": [\"(want|need) (my|our) money back\", \"(a|aa)*b\"]}},"
    "  {\"name\": \"delay\", \"keywords\": {\"en\": [\"delay*\", \"late\"], \"de\": [\"verspat*\"]}},"
    "  {\"name\": \"complaint\", \"secondary\": true, \"keywords\": {\"en\": [\"rude\", \"worst service\"]}}],"
    " \"competitors\": [{\"name\": \"FlyNow\", \"aliases\": [\"fly now\"]}],"
    " \"vip\": [\"vip\"],"
    " \"legal\": {\"en\": [\"lawyer*\", \"legal action\"]},"
    " \"answers\": [{\"id\": \"r\", \"intent\": \"refund\", \"language\": \"en\", \"text\": \"Your refund is on its way.\"},"
    "              {\"id\": \"g\", \"language\": \"*\", \"text\": \"Opening hours are 6 to 22.\"}]}";

static const char LEXICON[] = "good\t2\nbad\t-2\nworst\t-3.5\nnot\tNEG\nvery\tINT 0.3\nbut\tBUT\n"
                              "thanks in advance\t0\ndisappoint*\t-2.5\n";
static const char COMMON[] = "\xf0\x9f\x98\xa1\t-3\n\xe2\x9d\xa4\t2.5\n";

typedef struct {
  sb_rules_t *rules;
  sb_sentiment_t *sentiment;
  sb_classify_t *c;
  sb_incident_t *spike;
} world_t;

static void check(int ok) {
  if (!ok)
    abort();
}

static world_t *world(void) {
  static world_t w;
  char err[256];
  if (w.c)
    return &w;
  w.rules = sb_rules_parse(RULES, strlen(RULES), err, sizeof err);
  w.sentiment = sb_sentiment_new();
  check(w.rules && w.sentiment);
  check(sb_sentiment_add_lexicon(w.sentiment, "en", LEXICON, strlen(LEXICON), err, sizeof err) == 0);
  check(sb_sentiment_add_lexicon(w.sentiment, "*", COMMON, strlen(COMMON), err, sizeof err) == 0);
  w.c = sb_classify_new(w.rules, w.sentiment);
  sb_spike_opts_t o;
  sb_spike_opts_default(&o);
  o.warmup_buckets = 1, o.min_count = 2, o.k = 1;
  w.spike = sb_incident_new(&o);
  check(w.c && w.spike);
  return &w;
}

static void check_pii(const char *text, size_t len, const sb_classify_verdict_t *v) {
  size_t cp[2 * SB_CLASSIFY_PII_MAX], prev_end = 0, prev_cp = 0;
  check(v->n_pii <= SB_CLASSIFY_PII_MAX);
  sb_classify_pii_codepoints(text, len, v, cp);
  for (size_t k = 0; k < v->n_pii; k++) {
    check(v->pii[k].start >= prev_end && v->pii[k].start < v->pii[k].end && v->pii[k].end <= len);
    check(cp[2 * k] >= prev_cp && cp[2 * k] < cp[2 * k + 1]);
    prev_end = v->pii[k].end, prev_cp = cp[2 * k + 1];
  }
  check(prev_cp <= sb_text_codepoints(text, len));
  check(v->redacted && v->redacted[v->redacted_len] == '\0');
  check(v->n_pii == 0 || v->pii_mask != 0);
}

static void check_analysis(const sb_classify_verdict_t *v, const sb_classify_input_t *in) {
  check(v->sentiment.score >= -1 && v->sentiment.score <= 1);
  check(v->intent.n <= SB_INTENT_MAX);
  for (size_t k = 0; k < v->intent.n; k++)
    check(v->intent.intents[k].score > 0 && v->intent.intents[k].score <= 1);
  check(v->priority.score >= 0 && v->priority.score <= 100);
  check(v->move_private == (in->is_public && (v->n_pii > 0 || v->intent.account)));
  check(!v->has_suggestion || v->suggestion.score >= SB_SUGGEST_MIN_SCORE);
  check(v->truncated == (v->redacted_len > SB_CLASSIFY_TEXT_MAX));
}

static void check_incidents(sb_incident_t *t, const char *intent, int64_t now_ms, int negative) {
  sb_incident_hits_t h;
  check(sb_incident_observe(t, intent, negative, now_ms, &h) == 0);
  check(h.n <= SB_INCIDENT_PER_MESSAGE);
  for (size_t k = 0; k < h.n; k++) {
    const sb_incident_ref_t *r = &h.refs[k];
    char want[SB_INCIDENT_ID_MAX];
    snprintf(want, sizeof want, "%s:%s:%lld", sb_incident_kind_name(r->kind), r->key, (long long)r->started_ms);
    check(!strcmp(r->id, want) && r->started_ms % 60000 == 0);
    check(r->member || r->opened);
    check(k == 0 || !r->member || h.refs[0].member); /* own first */
    check(r->kind == SB_INCIDENT_VOLUME || !r->member || negative);
  }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  world_t *w = world();
  unsigned flags = size ? data[0] : 0;
  const char *text = size ? (const char *)data + 1 : "";
  size_t len = size ? size - 1 : 0;
  char *copy = malloc(len ? len : 1); /* exactly len bytes: no NUL after */
  memcpy(copy, text, len);
  sb_classify_input_t in = {.text = copy, .len = len, .is_public = flags & 1, .repeat_contact = (flags >> 1) & 1,
                            .customer = (flags & 4) ? "vip" : NULL, .followers = (int64_t)(flags >> 3) * 1000};
  sb_classify_verdict_t v;
  check(sb_classify_message(w->c, &in, &v) == 0);
  check_pii(copy, len, &v);
  check_analysis(&v, &in);
  check_incidents(w->spike, v.intent.n ? v.intent.intents[0].name : NULL, (int64_t)(flags & 0xF0) * 60000,
                  v.sentiment.label < 0);
  sb_classify_verdict_clear(&v);
  free(copy);
  return 0;
}
