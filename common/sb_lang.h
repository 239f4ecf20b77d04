/*
 * sb_lang: language of a short, noisy customer message (tweet, DM, chat).
 *
 * A C API over CLD2 (sb_lang.cc). Social text is first stripped of what
 * carries no language: URLs, @handles, the '#' of hashtags (the word stays),
 * emoji and symbols, digits, runs of repeated punctuation. The rest goes to
 * CLD2 with the tenant's languages as hints; when the tenant gives its
 * languages, the answer is the best of CLD2's top-3 candidates that the
 * tenant serves. CLD2 answers English when unsure, so an unreliable or
 * low-share answer becomes "und" (unknown), never a guess.
 *
 * Invariants: pure (no state, no I/O, thread-safe), never reads past len,
 * accepts any bytes (invalid UTF-8 is skipped, never passed to CLD2), never
 * lets a C++ exception out.
 */
#ifndef SB_LANG_H
#define SB_LANG_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Room for a code and its NUL: "en", "und", "haw". */
#define SB_LANG_CODE_MAX 8

typedef struct {
  char code[SB_LANG_CODE_MAX]; /* ISO 639-1 ("en", "nb", "zh"), or "und" */
  int percent;                 /* share of the text in that language, 0-100 */
  int reliable;                /* 1 if CLD2 called it reliable, else 0 */
  double score;                /* CLD2 normalised score (1.0 ~ typical) */
} sb_lang_result_t;

/* Identifies the language of text[0..len) (need not be NUL-terminated).
 * allowed: NULL, or a NULL-terminated list of ISO 639-1 codes the tenant
 * serves; then only those can be answered (anything else is "und").
 * Fewer than SB_LANG_MIN_LETTERS letters after stripping gives "und".
 * CLD2 codes are mapped: "zh-Hant" -> "zh", "no" -> "nb", "iw" -> "he",
 * "jw" -> "jv", regional suffixes dropped ("pt-BR" -> "pt").
 * Returns 0, or SB_EINVAL if text (with len > 0) or out is NULL; SB_ENOMEM
 * if memory runs out. On error *out is "und". */
int sb_lang_detect(const char *text, size_t len, const char *const *allowed,
                   sb_lang_result_t *out);

/* Letters needed after stripping noise for any answer but "und". */
#define SB_LANG_MIN_LETTERS 3

/* glibc heap trim threshold set by sb_lang_tune_malloc(), in bytes. */
#define SB_LANG_TRIM_THRESHOLD (1 << 20)

/* CLD2 allocates and frees about 200 KiB on every call. With glibc's default
 * 128 KiB trim threshold each call grows the heap, page-faults fresh memory
 * and trims it again: measured here 150 us per short message instead of 3 us
 * (50x). Call once from main() of a process that detects languages, before
 * threads start: it raises M_TRIM_THRESHOLD to SB_LANG_TRIM_THRESHOLD
 * (process-wide; the same as GLIBC_TUNABLES=glibc.malloc.trim_threshold).
 * Returns 0, or SB_EINVAL if the allocator refused (results are unchanged,
 * only slower). A no-op returning 0 without glibc. */
int sb_lang_tune_malloc(void);

#ifdef __cplusplus
}
#endif

#endif
