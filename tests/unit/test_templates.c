/* sb_templates: rendering with placeholders and literal braces, language
 * choice with fallback to the default language, and load errors that name
 * tenant, template and language (unknown placeholder, unclosed brace,
 * missing default language). */
#include "sb_testutil.h"

#include "sb_error.h"
#include "sb_templates.h"

#include <string.h>

static const char NOTIFY[] =
    "{\"templates\": {\"default_language\": \"en\","
    " \"ack\": {\"en\": \"Hi {customer_name}, we answer within {expected_response}. {{ref}}\","
    "           \"fr\": \"Bonjour {customer_name}, réponse sous {expected_response}.\","
    "           \"pt\": \"Olá {customer_name}\"},"
    " \"move_private\": {\"en\": \"Please continue here: {secure_link}\","
    "                    \"es\": \"Continúe aquí: {secure_link} ({conversation})\"}},"
    " \"webhooks\": []}";

static sb_templates_t *load(void) {
  sb_templates_t *t = NULL;
  char err[256] = "";
  assert_int_equal(sb_templates_parse("acme", NOTIFY, "de", &t, err, sizeof err), 0);
  return t;
}

static void placeholders_are_replaced_and_double_braces_are_literal(void **state) {
  (void)state;
  sb_templates_t *t = load();
  sb_template_vars_t v = {.customer_name = "Ana", .expected_response = "15 min"};
  char out[256];
  const char *lang = NULL;
  assert_int_equal(sb_templates_render(t, "ack", "en", &v, out, sizeof out, &lang), 0);
  assert_string_equal(out, "Hi Ana, we answer within 15 min. {ref}");
  assert_string_equal(lang, "en");
  v.customer_name = NULL; /* a value not known renders empty */
  assert_int_equal(sb_templates_render(t, "ack", "fr", &v, out, sizeof out, &lang), 0);
  assert_string_equal(out, "Bonjour , réponse sous 15 min.");
  sb_templates_destroy(&t);
  assert_null(t);
}

static void language_falls_back_to_primary_subtag_then_default(void **state) {
  (void)state;
  sb_templates_t *t = load();
  sb_template_vars_t v = {.customer_name = "Jo", .secure_link = "https://l/x",
                          .conversation = "c1"};
  char out[256];
  const char *lang = NULL;
  assert_int_equal(sb_templates_render(t, "ack", "pt-BR", &v, out, sizeof out, &lang), 0);
  assert_string_equal(out, "Olá Jo");
  assert_string_equal(lang, "pt");
  assert_int_equal(sb_templates_render(t, "move_private", "es", &v, out, sizeof out, &lang), 0);
  assert_string_equal(out, "Continúe aquí: https://l/x (c1)");
  const char *fallbacks[] = {"de", "und", "", NULL};
  for (size_t i = 0; i < 4; i++) {
    assert_int_equal(sb_templates_render(t, "move_private", fallbacks[i], &v, out, sizeof out, &lang), 0);
    assert_string_equal(out, "Please continue here: https://l/x");
    assert_string_equal(lang, "en");
  }
  assert_int_equal(sb_templates_render(t, "nope", "en", &v, out, sizeof out, NULL), SB_ENOTFOUND);
  assert_true(sb_templates_has(t, "ack"));
  assert_false(sb_templates_has(t, "nope"));
  char tiny[6];
  assert_int_equal(sb_templates_render(t, "ack", "pt", &v, tiny, sizeof tiny, NULL), SB_ETOOBIG);
  assert_int_equal(strlen(tiny), 5);
  sb_templates_destroy(&t);
}

static void load_errors_name_tenant_template_and_language(void **state) {
  (void)state;
  static const struct {
    const char *json, *deflang, *reason;
  } cases[] = {
      {"{\"templates\": {\"ack\": {\"en\": \"Hi {custmer_name}\"}}}", NULL,
       "tenant acme: notify.templates.ack.en: unknown placeholder {custmer_name}"},
      {"{\"templates\": {\"ack\": {\"en\": \"Hi\", \"fr\": \"Salut {customer_name\"}}}", NULL,
       "tenant acme: notify.templates.ack.fr: an unclosed '{'"},
      {"{\"templates\": {\"ack\": {\"en\": \"Hi }\"}}}", NULL,
       "tenant acme: notify.templates.ack.en: a lone '}' (write '}}' for a brace)"},
      {"{\"templates\": {\"ack\": {\"fr\": \"Salut\"}}}", NULL,
       "tenant acme: notify.templates.ack: no text in the default language \"en\""},
      {"{\"templates\": {\"ack\": {\"en\": \"Hi\"}}}", "ja",
       "tenant acme: notify.templates.ack: no text in the default language \"ja\""},
      {"{\"templates\": {\"default_language\": \"fr\", \"ack\": {\"en\": \"Hi\"}}}", "en",
       "tenant acme: notify.templates.ack: no text in the default language \"fr\""},
      {"{\"templates\": {\"ack\": {\"en\": \"\"}}}", NULL,
       "tenant acme: notify.templates.ack.en must be a non-empty string"},
      {"{\"templates\": {\"ack\": \"Hi\"}}", NULL,
       "tenant acme: notify.templates.ack must be an object of language -> text"},
      {"{\"templates\": {\"a b\": {\"en\": \"Hi\"}}}", NULL,
       "tenant acme: notify.templates: template name \"a b\" must be [A-Za-z0-9_-]{1,64}"},
      {"{\"templates\": []}", NULL, "tenant acme: notify.templates must be an object"},
      {"{\"templates\": ", NULL, "tenant acme: notify.templates: notify is not valid JSON"},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    sb_templates_t *t = NULL;
    char err[256] = "";
    assert_int_equal(sb_templates_parse("acme", cases[i].json, cases[i].deflang, &t, err, sizeof err),
                     SB_ECONFIG);
    assert_null(t);
    assert_string_equal(err, cases[i].reason);
  }
}

static void no_templates_section_loads_empty(void **state) {
  (void)state;
  sb_templates_t *t = NULL;
  char err[64], out[16];
  assert_int_equal(sb_templates_parse("acme", NULL, NULL, &t, err, sizeof err), 0);
  assert_int_equal(sb_templates_render(t, "ack", "en", NULL, out, sizeof out, NULL), SB_ENOTFOUND);
  sb_templates_destroy(&t);
  char why[64];
  assert_int_equal(sb_template_check("{{}} {conversation}", why, sizeof why), 0);
  assert_int_equal(sb_template_check("{", why, sizeof why), SB_EPARSE);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(placeholders_are_replaced_and_double_braces_are_literal),
      cmocka_unit_test(language_falls_back_to_primary_subtag_then_default),
      cmocka_unit_test(load_errors_name_tenant_template_and_language),
      cmocka_unit_test(no_templates_section_loads_empty),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
