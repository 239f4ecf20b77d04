/*
 * fuzz_cloudevent: libFuzzer target for the three sb_cloudevent parsers.
 *
 * The input is fed to sb_cloudevent_parse as a body (not NUL-terminated, so
 * ASan sees any overread); every event it accepts has its data parsed as
 * an interaction and as an agent event of its own type. The raw input is
 * also fed, as a NUL-terminated string, straight to both payload parsers so
 * they see arbitrary bytes too. The input is also read as a binary-mode
 * HTTP request for sb_cloudevent_http: "name: value" lines up to the first
 * empty line are headers, the rest is the body. Invariants of the header
 * contracts are checked with abort(): a crash, a leak or an abort is a
 * finding.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sb_cloudevent.h"
#include "sb_cloudevent_http.h"

enum { FUZZ_ERR_LEN = 256, FUZZ_MAX_HEADERS = 64 };

static void check(int ok) {
  if (!ok) abort();
}

static void payloads(const char *type, const char *json) {
  char err[FUZZ_ERR_LEN];
  sb_interaction_data_t ix;
  sb_agent_data_t ag;
  memset(&ix, 0, sizeof ix);
  int rc = sb_interaction_data_parse(json, &ix, err, sizeof err);
  check(rc == 0 ? ix.channel && ix.customer && ix.text : !ix.text && err[0]);
  sb_interaction_data_clear(&ix);
  memset(&ag, 0, sizeof ag);
  rc = sb_agent_data_parse(type, json, &ag, err, sizeof err);
  check(rc == 0 ? ag.action && ag.agent : !ag.agent && err[0]);
  sb_agent_data_clear(&ag);
  sb_voice_data_t vo;
  rc = sb_voice_data_parse(type, json, &vo, err, sizeof err);
  /* offered names its caller, answered its agent; abandoned may name
   * neither (a caller who hangs up while queued has no agent). */
  check(rc == 0 ? vo.kind && vo.call && vo.n_ivr <= SB_VOICE_IVR_MAX &&
                      (vo.kind == SB_VOICE_OFFERED    ? vo.caller != NULL
                       : vo.kind == SB_VOICE_ANSWERED ? vo.agent != NULL
                                                      : vo.kind == SB_VOICE_ABANDONED)
                : !vo.call && err[0]);
  sb_voice_data_clear(&vo);
}

static void events(const uint8_t *data, size_t size) {
  sb_cloudevent_t *ev = NULL;
  size_t n = 0;
  long index = 0;
  char err[FUZZ_ERR_LEN];
  int rc = sb_cloudevent_parse((const char *)data, size, NULL, &ev, &n, err,
                               sizeof err, &index);
  check(strlen(err) < sizeof err);
  if (rc != 0) {
    check(ev == NULL && n == 0 && err[0] != '\0' && index >= -1);
    return;
  }
  check(ev != NULL && n >= 1 && index == -1);
  for (size_t i = 0; i < n; i++) {
    check(ev[i].id && ev[i].source && ev[i].type && ev[i].tenant);
    if (ev[i].data) payloads(ev[i].type, ev[i].data);
  }
  sb_cloudevent_free(&ev, n);
  check(ev == NULL);
}

/* text (NUL-terminated, modified in place) as headers + body. */
static void binary_mode(char *text, size_t size) {
  sb_http_header_t h[FUZZ_MAX_HEADERS];
  size_t n = 0;
  char *p = text, *end = text + size;
  while (p < end && n < FUZZ_MAX_HEADERS) {
    char *nl = memchr(p, '\n', (size_t)(end - p));
    if (nl == NULL || nl == p) break; /* an empty line ends the headers */
    *nl = '\0';
    char *colon = strchr(p, ':');
    if (colon != NULL) {
      *colon = '\0';
      h[n++] = (sb_http_header_t){p, colon + 1};
    }
    p = nl + 1;
  }
  if (p < end && *p == '\n') p++;
  const char *body = p < end ? p : "";
  size_t body_len = p < end ? (size_t)(end - p) : 0;
  (void)sb_cloudevent_http_is_binary(h, n);
  sb_cloudevent_t *ev = NULL;
  int status = -1;
  char err[FUZZ_ERR_LEN];
  int rc = sb_cloudevent_http_binary(h, n, body, body_len, NULL, &ev, &status, err, sizeof err);
  check(strlen(err) < sizeof err);
  if (rc != 0) {
    check(ev == NULL && err[0] != '\0' && (status == 400 || status == 415 || status == 500));
    return;
  }
  check(ev != NULL && status == 0 && ev->id && ev->source && ev->type && ev->tenant);
  if (ev->data) payloads(ev->type, ev->data);
  sb_cloudevent_free(&ev, 1);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  /* exact-size copy: the parser must not read past size */
  char *body = malloc(size ? size : 1);
  if (body == NULL) return 0;
  memcpy(body, data, size);
  events((const uint8_t *)body, size);
  free(body);
  char *text = malloc(size + 1);
  if (text == NULL) return 0;
  memcpy(text, data, size);
  text[size] = '\0';
  payloads("com.switchboard.agent.reply", text);
  payloads("com.switchboard.agent.login", text);
  binary_mode(text, size);
  free(text);
  return 0;
}
