/*
 * fuzz_pii: libFuzzer target for sb_pii_scan and sb_pii_redact.
 *
 * The input is scanned and redacted as is (not NUL-terminated, so ASan sees
 * any overread). Invariants of the header contract are checked with abort():
 * spans sorted, disjoint, inside the input and of a known type; the redacted
 * text is exactly the input with each span replaced by its placeholder; the
 * first byte chooses a mask to exercise partial redaction; and a fully
 * redacted text, scanned again, holds no card and no IBAN.
 *
 * Not checked: that phones and e-mails are a fixed point too. A phone is
 * rejected when a digit follows it ("+44 20 7946 0958 1..."), and that digit
 * may start an e-mail that redaction turns into "[EMAIL]"; a second pass then
 * finds the phone. Cards and IBANs look right only for a word character,
 * and no finding starts with one right after a digit or letter.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sb_error.h"
#include "sb_pii.h"

enum { FUZZ_MAX_SPANS = 4096 };

static void check(int ok) {
  if (!ok)
    abort();
}

static void check_spans(const sb_pii_span_t *sp, size_t n, size_t len) {
  size_t prev_end = 0;
  for (size_t k = 0; k < n; k++) {
    check((unsigned)sp[k].type < SB_PII__COUNT);
    check(sp[k].start >= prev_end && sp[k].start < sp[k].end);
    check(sp[k].end <= len);
    prev_end = sp[k].end;
  }
}

/* The redaction of text by mask, rebuilt from the spans. */
static void check_redaction(const char *text, size_t len, unsigned mask,
                            const sb_pii_span_t *sp, size_t n) {
  char *out = NULL;
  size_t out_len = 0, at = 0, pos = 0;
  unsigned found = 0, want_found = 0;
  check(sb_pii_redact(text, len, mask, &out, &out_len, &found) == 0);
  check(out != NULL && out[out_len] == '\0');
  for (size_t k = 0; k < n; k++) {
    want_found |= SB_PII_MASK(sp[k].type);
    if (!(mask & SB_PII_MASK(sp[k].type)))
      continue;
    const char *ph = sb_pii_placeholder(sp[k].type);
    size_t keep = sp[k].start - pos, phl = strlen(ph);
    check(at + keep + phl <= out_len);
    check(memcmp(out + at, text + pos, keep) == 0);
    check(memcmp(out + at + keep, ph, phl) == 0);
    at += keep + phl;
    pos = sp[k].end;
  }
  check(out_len - at == len - pos);
  check(memcmp(out + at, text + pos, len - pos) == 0);
  check(found == want_found);
  /* the same from the spans, without scanning again (classify's way) */
  char *again = NULL;
  size_t again_len = 0;
  unsigned again_found = 0;
  check(sb_pii_redact_spans(text, len, sp, n, mask, &again, &again_len, &again_found) == 0);
  check(again_len == out_len && memcmp(again, out, out_len + 1) == 0 && again_found == found);
  free(again);
  free(out);
}

/* Fully redacted text has no card or IBAN left. */
static void check_no_card_left(const char *text, size_t len) {
  char *once = NULL, *twice = NULL;
  size_t once_len = 0;
  unsigned found = 0;
  check(sb_pii_redact(text, len, SB_PII_MASK_ALL, &once, &once_len, NULL) == 0);
  check(sb_pii_redact(once, once_len, SB_PII_MASK_ALL, &twice, NULL, &found) ==
        0);
  check((found & (SB_PII_MASK(SB_PII_CARD) | SB_PII_MASK(SB_PII_IBAN))) == 0);
  free(once);
  free(twice);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  sb_pii_span_t *spans = malloc(FUZZ_MAX_SPANS * sizeof *spans);
  const char *text = (const char *)data;
  size_t n = 0;
  check(spans != NULL);
  int rc = sb_pii_scan(text, size, spans, FUZZ_MAX_SPANS, &n);
  check(rc == 0 || (rc == SB_ETOOBIG && n == FUZZ_MAX_SPANS));
  check(n <= FUZZ_MAX_SPANS);
  check_spans(spans, n, size);
  if (rc == 0) {
    unsigned mask = size > 0 ? (data[0] & SB_PII_MASK_ALL) : SB_PII_MASK_ALL;
    check_redaction(text, size, mask, spans, n);
    check_redaction(text, size, SB_PII_MASK_ALL, spans, n);
  }
  check_no_card_left(text, size);
  free(spans);
  return 0;
}
