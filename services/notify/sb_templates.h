/*
 * sb_templates: a tenant's message templates for customers, per language,
 * read from its "notify" section and validated once at load:
 *
 *   "notify": {"templates": {
 *      "default_language": "en",
 *      "ack": {"en": "Hi {customer_name}, we answer within {expected_response}.",
 *              "fr": "Bonjour {customer_name}, réponse sous {expected_response}."},
 *      "move_private": {"en": "Please continue privately: {secure_link}"}}}
 *
 * A template name is [A-Za-z0-9_-]{1,64}; each maps language (ISO 639-1,
 * or any tag the classifier gives) to text. Placeholders are {name} with
 * name one of SB_TEMPLATE_VARS; "{{" and "}}" are literal braces. At load,
 * an unknown placeholder, an unclosed brace, or a template without the
 * default language is an error naming tenant, template and language, so a
 * typo never reaches a customer. default_language defaults to the tenant's
 * first language, else "en".
 *
 * Pure: no I/O. Rendering substitutes the values given (missing ones
 * become "").
 */
#ifndef SB_TEMPLATES_H
#define SB_TEMPLATES_H

#include <stddef.h>

#define SB_TEMPLATE_NAME_MAX 64
#define SB_TEMPLATE_LANG_MAX 16
#define SB_TEMPLATE_TEXT_MAX 2000 /* rendered text, bytes */
#define SB_TEMPLATES_MAX 32
#define SB_TEMPLATE_LANGS_MAX 32

/* The placeholders, in the order of sb_template_vars_t's fields. */
#define SB_TEMPLATE_VARS "customer_name", "expected_response", "secure_link", "conversation"

typedef struct {
  const char *customer_name;
  const char *expected_response; /* "15 min" */
  const char *secure_link;
  const char *conversation;
} sb_template_vars_t;

typedef struct sb_templates sb_templates_t;

/* Parses notify.templates of a tenant (notify_json may be NULL: none).
 * default_lang: the tenant's first language or NULL. 0 and an owned *out
 * (possibly empty), or SB_ECONFIG with a reason in err ("tenant acme:
 * notify.templates.ack.fr: unknown placeholder {custmer}"), or SB_ENOMEM. */
int sb_templates_parse(const char *tenant, const char *notify_json, const char *default_lang,
                       sb_templates_t **out, char *err, size_t errlen);
void sb_templates_destroy(sb_templates_t **t);

/* 1 if the template exists. */
int sb_templates_has(const sb_templates_t *t, const char *name);
/* Renders template name in lang (falling back to the default language when
 * lang is NULL, empty, "und" or not written) into out. 0, SB_ENOTFOUND (no
 * such template) or SB_ETOOBIG (out is too small; out holds a prefix).
 * *used_lang (may be NULL) tells which language was used. */
int sb_templates_render(const sb_templates_t *t, const char *name, const char *lang,
                        const sb_template_vars_t *v, char *out, size_t cap,
                        const char **used_lang);

/* Checks one template text; 0, or SB_EPARSE with the reason in why. */
int sb_template_check(const char *text, char *why, size_t whylen);

#endif
