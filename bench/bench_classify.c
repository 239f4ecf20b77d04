/*
 * bench_classify: single-core throughput of the classify stage's text
 * checks, sb_pii_redact and sb_lang_detect, on ~100-byte social messages.
 *
 * Not built by CMake (bench/ is not globbed); build and run by hand:
 *   cc -O2 -Icommon bench/bench_classify.c common/sb_pii.c common/sb_error.c \
 *      -c && c++ -O2 -Icommon bench_classify.o sb_pii.o sb_error.o \
 *      common/sb_lang.cc -lcld2 -o /tmp/bench_classify && /tmp/bench_classify
 * Prints one line per function: messages/s and MB/s over ROUNDS passes of
 * the sample set (a tenth for the slow untuned case). The samples mix
 * languages, noise and (one in four) PII.
 */
#include "sb_lang.h"
#include "sb_pii.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

enum { ROUNDS = 20000 };

static const char *const SAMPLES[] = {
    "@AcmeAir my flight was cancelled and nobody answers the phone!!! 😡😡 "
    "https://t.co/abc123",
    "@AcmeSupport Bonjour, ma commande n°45678 n'est toujours pas arrivée 😢 "
    "vous pouvez vérifier ? #colis",
    "Hallo @AcmeDE, meine Bestellung ist seit 10 Tagen unterwegs, wann kommt "
    "sie endlich an??? 🙄",
    "@Acme_ES hola, llevo 3 días esperando una respuesta sobre mi reembolso "
    "😤 #atencionalcliente",
    "my card 4111 1111 1111 1111 was charged twice, call me on +44 20 7946 "
    "0958 please",
    "@AcmeNL mijn pakket is nog steeds niet bezorgd, kunnen jullie even "
    "kijken? 🙏 https://acme.nl/t",
    "Ciao @AcmeIT, il mio ordine è in ritardo di una settimana, potete "
    "aiutarmi??? 😞",
    "Refund to IBAN DE89 3704 0044 0532 0130 00 please, mail me at "
    "jan.muster@example.de",
};
#define SAMPLE_COUNT (sizeof SAMPLES / sizeof SAMPLES[0])

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static size_t total_bytes(void) {
  size_t n = 0;
  for (size_t k = 0; k < SAMPLE_COUNT; k++)
    n += strlen(SAMPLES[k]);
  return n;
}

static void report(const char *what, double secs, size_t msgs, size_t bytes) {
  printf("%-28s %10.0f msg/s %8.1f MB/s (%zu msgs, avg %zu B, %.2f s)\n", what,
         (double)msgs / secs, (double)bytes / secs / 1e6, msgs, bytes / msgs,
         secs);
}

static void bench_redact(void) {
  unsigned sink = 0;
  double t0 = now_s();
  for (int r = 0; r < ROUNDS; r++) {
    for (size_t k = 0; k < SAMPLE_COUNT; k++) {
      char *out = NULL;
      unsigned found = 0;
      if (sb_pii_redact(SAMPLES[k], strlen(SAMPLES[k]), SB_PII_MASK_ALL, &out,
                        NULL, &found) != 0)
        abort();
      sink += found + (unsigned char)out[0];
      free(out);
    }
  }
  report("sb_pii_redact", now_s() - t0, ROUNDS * SAMPLE_COUNT,
         ROUNDS * total_bytes());
  if (sink == 1)
    puts("");
}

static void bench_lang(const char *what, int rounds) {
  unsigned sink = 0;
  double t0 = now_s();
  for (int r = 0; r < rounds; r++) {
    for (size_t k = 0; k < SAMPLE_COUNT; k++) {
      sb_lang_result_t res;
      if (sb_lang_detect(SAMPLES[k], strlen(SAMPLES[k]), NULL, &res) != 0)
        abort();
      sink += (unsigned char)res.code[0];
    }
  }
  report(what, now_s() - t0, (size_t)rounds * SAMPLE_COUNT,
         (size_t)rounds * total_bytes());
  if (sink == 1)
    puts("");
}

int main(void) {
  bench_redact();
  /* Default glibc malloc first: CLD2's per-call heap growth dominates. */
  bench_lang("sb_lang_detect (malloc default)", ROUNDS / 10);
  if (sb_lang_tune_malloc() != 0)
    return 1;
  bench_lang("sb_lang_detect (tuned malloc)", ROUNDS);
  return 0;
}
