/*
 * sb-classify: understands each message and hands it to route. A thin main
 * over sb_stage (the durable hand-off) and sb_classify (the analysis): per
 * tenant, the rules from the tenant file's "classify" member, else --rules;
 * sentiment lexicons from --lexicons. Without rules or lexicons a message
 * still gets its language and privacy verdict (intents and sentiment then
 * stay empty / neutral).
 */
#include "sb_classify.h"
#include "sb_error.h"
#include "sb_lang.h"
#include "sb_log.h"
#include "sb_script.h"
#include "sb_stage.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const sb_option_t classify_options[] = {
    {"rules", SB_OPT_STR, "", "classification rules (JSON) for tenants without their own \"classify\""},
    {"lexicons", SB_OPT_STR, "", "folder of sentiment lexicons (<lang>.txt); empty: no sentiment"},
    {NULL, 0, NULL, NULL}};

typedef struct {
  const sb_tenant_t *tenant;
  sb_rules_t *rules;
  sb_classify_t *classify;
} tenant_classifier_t;

typedef struct {
  sb_sentiment_t *sentiment;
  tenant_classifier_t *tenants;
  size_t n;
} classify_ctx_t;

static tenant_classifier_t *classifier_of(classify_ctx_t *c, const sb_tenant_t *t) {
  for (size_t i = 0; i < c->n; i++)
    if (c->tenants[i].tenant == t)
      return &c->tenants[i];
  return NULL;
}

static int prepare(void *ctx, sb_stage_item_t *it, const char **why) {
  classify_ctx_t *c = ctx;
  sb_envelope_t *env = it->env;
  if (env->body_case != SWITCHBOARD__V1__ENVELOPE__BODY_INTERACTION || !env->interaction)
    return 0;
  const Switchboard__V1__Interaction *in = env->interaction;
  tenant_classifier_t *tc = classifier_of(c, it->tenant);
  sb_classify_input_t input = {.text = in->text, .len = strlen(in->text), .is_public = in->public_,
                               .customer = in->customer,
                               .followers = in->author ? in->author->followers : 0};
  sb_classify_verdict_t v;
  memset(&v, 0, sizeof v);
  int rc = tc ? sb_classify_message(tc->classify, &input, &v) : SB_ENOTFOUND;
  if (rc == 0)
    rc = sb_classify_envelope_apply_rules(env, &v, tc->rules);
  sb_classify_verdict_clear(&v);
  if (rc && rc != SB_EEXISTS) {
    *why = "classification failed";
    return rc;
  }
  return 0;
}

static sb_rules_t *rules_for(const sb_tenant_t *t, const char *default_path, char *err, size_t errlen) {
  if (t->section_json[SB_TENANT_CLASSIFY])
    return sb_rules_parse(t->section_json[SB_TENANT_CLASSIFY], strlen(t->section_json[SB_TENANT_CLASSIFY]), err, errlen);
  if (*default_path)
    return sb_rules_load(default_path, err, errlen);
  return sb_rules_parse("{}", 2, err, errlen);
}

static int load_sentiment(classify_ctx_t *c, const char *dir) {
  char err[256];
  c->sentiment = sb_sentiment_new();
  if (!c->sentiment)
    return SB_ENOMEM;
  if (*dir && sb_sentiment_load_dir(c->sentiment, dir, NULL, err, sizeof err)) {
    fprintf(stderr, "sb-classify: lexicons %s: %s\n", dir, err);
    return SB_ECONFIG;
  }
  return 0;
}

static int start(void *ctx, sb_service_t *s, sb_handoff_t *out) {
  classify_ctx_t *c = ctx;
  (void)out;
  /* CLD2 allocates and frees ~200 KiB per call: with glibc's default trim
   * threshold every call grows and trims the heap (about 40x slower). */
  if (sb_lang_tune_malloc() != 0)
    sb_log(SB_LOG_WARN, "malloc_not_tuned", "why", "allocator refused (sanitizer build?)", NULL);
  if (load_sentiment(c, sb_config_str(s->config, "lexicons")))
    return SB_ECONFIG;
  c->n = sb_tenants_count(s->tenants);
  c->tenants = calloc(c->n ? c->n : 1, sizeof *c->tenants);
  for (size_t i = 0; c->tenants && i < c->n; i++) {
    char err[256];
    tenant_classifier_t *tc = &c->tenants[i];
    tc->tenant = sb_tenants_at(s->tenants, i);
    tc->rules = rules_for(tc->tenant, sb_config_str(s->config, "rules"), err, sizeof err);
    tc->classify = tc->rules ? sb_classify_new(tc->rules, c->sentiment) : NULL;
    if (!tc->classify) {
      fprintf(stderr, "sb-classify: tenant %s: %s\n", tc->tenant->id, tc->rules ? "out of memory" : err);
      return SB_ECONFIG;
    }
  }
  return c->tenants ? 0 : SB_ENOMEM;
}

static void close_ctx(void *ctx) {
  classify_ctx_t *c = ctx;
  for (size_t i = 0; c->tenants && i < c->n; i++) {
    sb_classify_destroy(&c->tenants[i].classify);
    sb_rules_destroy(&c->tenants[i].rules);
  }
  free(c->tenants);
  c->tenants = NULL;
  sb_sentiment_destroy(&c->sentiment);
}

static const sb_stage_ops_t classify_ops = {
    .name = "classify",
    .lease_in = "classify",
    .stat = "classified",
    .script_name = "classify",
    .script_body = sb_script_handoff,
    .prepare = prepare,
};

int main(int argc, char **argv) {
  classify_ctx_t c = {0};
  const sb_stage_main_t m = {
      .service = "classify",
      .admin_port = SB_PORT_ADMIN_CLASSIFY,
      .listen_port = SB_PORT_CLASSIFY_IN,
      .next_lease = "route",
      .next_port = SB_PORT_ROUTE_IN,
      .options = classify_options,
      .ops = &classify_ops,
      .ctx = &c,
      .start = start,
      .close = close_ctx,
  };
  return sb_stage_main(&m, argc, argv);
}
