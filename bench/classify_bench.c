/*
 * classify_bench: messages/s on one core for classify's whole verdict
 * (sb_classify_message: PII, language, sentiment, intents, priority,
 * suggested reply: the function the service and `sbctl classify` run), on
 * the bundled corpus, with the tenant's rules as shipped and with the same
 * rules plus --extra-keywords keyword rules, side by side in one run.
 *
 *   build/classify_bench [--corpus corpus/sample.jsonl] [--rules corpus/rules/default.json]
 *                        [--lexicons corpus/lexicons] [--extra-keywords 1000] [--seconds 5]
 *                        [--rounds 3]
 *
 * The extra keywords are words of the corpus itself (so they match at the
 * rate real vocabulary does), 20 per extra intent, language "*". Each
 * configuration runs --rounds times, alternating, each round for --seconds
 * over the corpus again and again; one JSON line per round, then a summary
 * line with the medians and the ratio extra/shipped. Single-threaded: the
 * rate is per core. Paths are relative to the working directory (run it
 * from the repository's root).
 */
#include "sb_bench.h"
#include "sb_classify.h"
#include "sb_rules.h"
#include "sb_sentiment.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define TEXTS_MAX 100000
#define WORDS_PER_INTENT 20
#define ROUNDS_MAX 15

typedef struct {
  char **text;
  size_t *len, n;
} corpus_t;

static const char *arg(int argc, char **argv, const char *name, const char *def) {
  for (int i = 1; i + 1 < argc; i++)
    if (!strcmp(argv[i], name))
      return argv[i + 1];
  return def;
}

static char *slurp(const char *path, size_t *len) {
  FILE *f = fopen(path, "rb");
  if (!f)
    return NULL;
  fseek(f, 0, SEEK_END);
  long n = ftell(f);
  fseek(f, 0, SEEK_SET);
  char *b = n >= 0 ? malloc((size_t)n + 1) : NULL;
  if (b && fread(b, 1, (size_t)n, f) != (size_t)n) {
    free(b);
    b = NULL;
  }
  fclose(f);
  if (b)
    b[n] = '\0', *len = (size_t)n;
  return b;
}

/* data.text of every JSON line of path. */
static int load_corpus(const char *path, corpus_t *c) {
  size_t len = 0;
  char *all = slurp(path, &len);
  if (!all)
    return -1;
  c->text = calloc(TEXTS_MAX, sizeof *c->text);
  c->len = calloc(TEXTS_MAX, sizeof *c->len);
  for (char *line = strtok(all, "\n"); line && c->n < TEXTS_MAX; line = strtok(NULL, "\n")) {
    cJSON *j = cJSON_Parse(line);
    const cJSON *t = cJSON_GetObjectItem(cJSON_GetObjectItem(j, "data"), "text");
    if (cJSON_IsString(t)) {
      c->text[c->n] = strdup(t->valuestring);
      c->len[c->n] = strlen(t->valuestring);
      c->n++;
    }
    cJSON_Delete(j);
  }
  free(all);
  return c->n ? 0 : -1;
}

/* Lower-case ASCII words of 5..20 letters from the corpus, each once, in
 * order of first appearance. */
static size_t corpus_words(const corpus_t *c, char **out, size_t want) {
  size_t n = 0;
  for (size_t i = 0; i < c->n && n < want; i++) {
    const char *p = c->text[i];
    while (*p && n < want) {
      while (*p && !((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z')))
        p++;
      char w[24];
      size_t k = 0;
      while ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z')) {
        if (k < sizeof w - 1)
          w[k++] = (char)(*p | 0x20);
        p++;
      }
      w[k] = '\0';
      if (k < 5 || k > 20)
        continue;
      int seen = 0;
      for (size_t j = 0; j < n && !seen; j++)
        seen = !strcmp(out[j], w);
      if (!seen)
        out[n++] = strdup(w);
    }
  }
  return n;
}

/* The shipped rules with extra keyword intents appended. */
static char *with_extra(const char *rules_json, const corpus_t *c, int extra, size_t *got) {
  cJSON *r = cJSON_Parse(rules_json);
  cJSON *intents = cJSON_GetObjectItem(r, "intents");
  char **words = calloc((size_t)extra + 1, sizeof *words);
  size_t n = corpus_words(c, words, (size_t)extra);
  for (size_t i = 0; i < n; i += WORDS_PER_INTENT) {
    cJSON *in = cJSON_CreateObject(), *kw = cJSON_CreateObject(), *list = cJSON_CreateArray();
    char name[32];
    snprintf(name, sizeof name, "bench_%zu", i / WORDS_PER_INTENT);
    cJSON_AddStringToObject(in, "name", name);
    for (size_t k = i; k < n && k < i + WORDS_PER_INTENT; k++)
      cJSON_AddItemToArray(list, cJSON_CreateString(words[k]));
    cJSON_AddItemToObject(kw, "*", list);
    cJSON_AddItemToObject(in, "keywords", kw);
    cJSON_AddItemToArray(intents, in);
  }
  for (size_t i = 0; i < n; i++)
    free(words[i]);
  free(words);
  *got = n;
  char *out = cJSON_PrintUnformatted(r);
  cJSON_Delete(r);
  return out;
}

static int64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static int cmp_u64(const void *a, const void *b) {
  uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
  return x < y ? -1 : x > y;
}

typedef struct {
  double per_s, p50_us, p99_us;
  uint64_t messages, intents_hit;
} round_t;

/* One round: the corpus again and again for seconds s. */
static round_t run_round(sb_classify_t *cl, const corpus_t *c, double s) {
  size_t cap = 1 << 22, n = 0;
  uint64_t *lat = malloc(cap * sizeof *lat);
  round_t r = {0};
  int64_t start = now_ns() / 1000, until = start + (int64_t)(s * 1e6), now = start;
  for (size_t i = 0; now < until; i = (i + 1) % c->n) {
    sb_classify_input_t in = {.text = c->text[i], .len = c->len[i]};
    sb_classify_verdict_t v;
    int64_t t0 = now_ns();
    if (sb_classify_message(cl, &in, &v) == 0) {
      r.intents_hit += v.intent.n > 0;
      sb_classify_verdict_clear(&v);
    }
    int64_t t1 = now_ns();
    if (n < cap)
      lat[n++] = (uint64_t)(t1 - t0);
    r.messages++;
    now = t1 / 1000;
  }
  r.per_s = (double)r.messages / ((double)(now - start) / 1e6);
  qsort(lat, n, sizeof *lat, cmp_u64);
  r.p50_us = lat[n / 2] / 1000.0;
  r.p99_us = lat[n * 99 / 100] / 1000.0;
  free(lat);
  return r;
}

int main(int argc, char **argv) {
  const char *corpus_path = arg(argc, argv, "--corpus", "corpus/sample.jsonl");
  const char *rules_path = arg(argc, argv, "--rules", "corpus/rules/default.json");
  const char *lex = arg(argc, argv, "--lexicons", "corpus/lexicons");
  int extra = atoi(arg(argc, argv, "--extra-keywords", "1000"));
  double seconds = atof(arg(argc, argv, "--seconds", "5"));
  int rounds = atoi(arg(argc, argv, "--rounds", "3"));
  if (extra < 0 || extra > 100000 || seconds <= 0 || rounds < 1 || rounds > ROUNDS_MAX) {
    fprintf(stderr, "classify_bench: --extra-keywords 0..100000, --seconds > 0, --rounds 1..%d\n", ROUNDS_MAX);
    return 2;
  }
  corpus_t c = {0};
  size_t rules_len = 0;
  char *rules_json = slurp(rules_path, &rules_len), err[256];
  if (load_corpus(corpus_path, &c) || !rules_json) {
    fprintf(stderr, "classify_bench: cannot read %s or %s (run from the repository's root)\n", corpus_path,
            rules_path);
    return 1;
  }
  sb_sentiment_t *sent = sb_sentiment_new();
  if (!sent || sb_sentiment_load_dir(sent, lex, NULL, err, sizeof err)) {
    fprintf(stderr, "classify_bench: lexicons %s: %s\n", lex, err);
    return 1;
  }
  size_t added = 0;
  char *big_json = with_extra(rules_json, &c, extra, &added);
  const char *names[2] = {"shipped", "extra"};
  sb_rules_t *rules[2] = {sb_rules_parse(rules_json, rules_len, err, sizeof err), NULL};
  if (rules[0])
    rules[1] = sb_rules_parse(big_json, strlen(big_json), err, sizeof err);
  if (!rules[0] || !rules[1]) {
    fprintf(stderr, "classify_bench: rules: %s\n", err);
    return 1;
  }
  sb_classify_t *cl[2] = {sb_classify_new(rules[0], sent), sb_classify_new(rules[1], sent)};
#ifdef SB_HAVE_HYPERSCAN
  const char *matcher = "hyperscan";
#else
  const char *matcher = "termset";
#endif
  double rate[2][ROUNDS_MAX], p99[2][ROUNDS_MAX];
  for (int r = 0; r < rounds; r++)
    for (int k = 0; k < 2; k++) {
      round_t x = run_round(cl[k], &c, seconds);
      rate[k][r] = x.per_s, p99[k][r] = x.p99_us;
      printf("{\"tool\":\"classify_bench\",\"rules\":\"%s\",\"round\":%d,\"messages\":%llu,\"per_s\":%.0f,"
             "\"p50_us\":%.1f,\"p99_us\":%.1f,\"with_intent\":%.3f}\n",
             names[k], r, (unsigned long long)x.messages, x.per_s, x.p50_us, x.p99_us,
             x.messages ? (double)x.intents_hit / (double)x.messages : 0);
      fflush(stdout);
    }
  double m0 = sb_bench_median(rate[0], rounds), m1 = sb_bench_median(rate[1], rounds);
  printf("{\"tool\":\"classify_bench\",\"summary\":true,\"corpus_messages\":%zu,\"extra_keywords\":%zu,"
         "\"matcher\":\"%s\",\"median_per_s_shipped\":%.0f,\"median_per_s_extra\":%.0f,\"ratio_extra_shipped\":%.3f,"
         "\"median_p99_us_shipped\":%.1f,\"median_p99_us_extra\":%.1f}\n",
         c.n, added, matcher, m0, m1, m0 > 0 ? m1 / m0 : 0, sb_bench_median(p99[0], rounds),
         sb_bench_median(p99[1], rounds));
  for (int k = 0; k < 2; k++) {
    sb_classify_destroy(&cl[k]);
    sb_rules_destroy(&rules[k]);
  }
  sb_sentiment_destroy(&sent);
  for (size_t i = 0; i < c.n; i++)
    free(c.text[i]);
  free(c.text);
  free(c.len);
  free(rules_json);
  free(big_json);
  return 0;
}
