/* sb_classify: see sb_classify.h. */
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

int sb_classify_envelope(sb_envelope_t *env, const sb_tenant_t *tenant) {
  if (env->body_case != SWITCHBOARD__V1__ENVELOPE__BODY_INTERACTION || !env->interaction)
    return 0;
  Switchboard__V1__Interaction *in = env->interaction;
  if (!env->classification) {
    /* freed by free_unpacked together with the rest of the envelope */
    env->classification = malloc(sizeof *env->classification);
    if (!env->classification)
      return SB_ENOMEM;
    switchboard__v1__classification__init(env->classification);
  }
  Switchboard__V1__Classification *c = env->classification;
  sb_classify_result_t r;
  const char *text = in->text ? in->text : "";
  int rc = sb_classify_text(text, strlen(text), tenant ? tenant->languages : NULL, in->public_,
                            c->n_pii, &r);
  if (rc)
    return rc;
  char *lang = strdup(r.language);
  if (!lang)
    return SB_ENOMEM;
  if (c->language != protobuf_c_empty_string)
    free(c->language);
  c->language = lang;
  c->language_percent = r.percent;
  c->reliable = r.reliable;
  c->move_private = r.move_private;
  c->classified_us = sb_now_us();
  return 0;
}
