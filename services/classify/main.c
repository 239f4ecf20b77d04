/*
 * sb-classify: understands each message (language, privacy verdict) and
 * hands it to route. A thin main over sb_stage (the durable hand-off) and
 * sb_classify (the analysis).
 */
#include "sb_classify.h"
#include "sb_error.h"
#include "sb_lang.h"
#include "sb_log.h"
#include "sb_script.h"
#include "sb_stage.h"

static int prepare(void *ctx, sb_stage_item_t *it, const char **why) {
  (void)ctx;
  if (sb_classify_envelope(it->env, it->tenant)) {
    *why = "classification failed";
    return SB_EINVAL;
  }
  return 0;
}

/* CLD2 allocates and frees ~200 KiB per call: with glibc's default trim
 * threshold every call grows and trims the heap (about 40x slower). */
static int start(void *ctx, sb_service_t *s, sb_handoff_t *out) {
  (void)ctx;
  (void)s;
  (void)out;
  if (sb_lang_tune_malloc() != 0)
    sb_log(SB_LOG_WARN, "malloc_not_tuned", "why", "allocator refused (sanitizer build?)", NULL);
  return 0;
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
  const sb_stage_main_t m = {
      .service = "classify",
      .admin_port = SB_PORT_ADMIN_CLASSIFY,
      .listen_port = SB_PORT_CLASSIFY_IN,
      .next_lease = "route",
      .next_port = SB_PORT_ROUTE_IN,
      .ops = &classify_ops,
      .start = start,
  };
  return sb_stage_main(&m, argc, argv);
}
