/* Fuzz target: a tenant's notify.templates (sb_templates_parse) must be
 * refused with a reason or load; a loaded set renders any template in any
 * language without overflowing the output, and every text it accepted
 * passes sb_template_check. */
#include "sb_templates.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  char *json = malloc(size + 1);
  if (!json)
    return 0;
  memcpy(json, data, size);
  json[size] = '\0';
  sb_templates_t *t = NULL;
  char err[256] = "";
  int rc = sb_templates_parse("fuzz", json, "en", &t, err, sizeof err);
  if (rc != 0) {
    if (!err[0])
      abort(); /* a rejection always says why */
    free(json);
    return 0;
  }
  static const char *const names[] = {"ack", "move_private", "x"};
  static const char *const langs[] = {NULL, "en", "fr", "pt-BR", "und", ""};
  sb_template_vars_t v = {.customer_name = "Ana", .expected_response = "15 min",
                          .secure_link = "https://x.example/p?s=1", .conversation = "c1"};
  for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
    for (size_t j = 0; j < sizeof langs / sizeof langs[0]; j++) {
      char out[64];
      out[sizeof out - 1] = 'Z';
      sb_templates_render(t, names[i], langs[j], &v, out, sizeof out - 1, NULL);
      if (out[sizeof out - 1] != 'Z')
        abort(); /* wrote past cap */
    }
  sb_templates_destroy(&t);
  char why[128];
  sb_template_check(json, why, sizeof why);
  free(json);
  return 0;
}
