/*
 * fuzz_wechat_xml: libFuzzer target for the WeChat XML path: the reader
 * (sb_webhook_wechat_parse), the safe-mode Encrypt extraction
 * (sb_webhook_wechat_encrypted) and the decryption of whatever Encrypt it
 * yields (sb_signature_wechat_decrypt, which must refuse it: the fuzzer
 * cannot forge AES-CBC with a 32-byte PKCS#7 pad and our AppID).
 *
 * Each input is fed as an exact-size buffer so ASan sees any overread; the
 * item contract of sb_webhook.h is checked with abort(): a crash, a leak,
 * a hang (billion laughs) or an abort is a finding. Seeds:
 * tests/fuzz/corpus/wechat_xml/.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sb_error.h"
#include "sb_signature.h"
#include "sb_utf8.h"
#include "sb_webhook.h"

enum { FUZZ_ERR_LEN = 256 };

#define AES_KEY "jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2e"

static void check(int ok) {
  if (!ok) abort();
}

static void check_string(const char *s, size_t max) {
  if (s == NULL) return;
  size_t n = strlen(s);
  check(n > 0 && n <= max && sb_utf8_valid(s, n) && !sb_utf8_has_control(s));
}

static void check_batch(int rc, sb_wh_batch_t *b, const char *err) {
  check(strlen(err) < FUZZ_ERR_LEN);
  if (rc != 0) {
    check(b->items == NULL && b->n == 0 && err[0] != '\0');
    return;
  }
  check(b->n <= 1);
  for (size_t i = 0; i < b->n; i++) {
    const sb_wh_item_t *it = &b->items[i];
    check(strcmp(it->channel, "wechat") == 0 && !it->is_public);
    if (it->error[0] != '\0') {
      check(!it->text && !it->customer);
      continue;
    }
    check_string(it->platform_message_id, SB_WEBHOOK_ID_MAX);
    check_string(it->customer, SB_WEBHOOK_ID_MAX);
    if (it->kind == SB_WH_MESSAGE)
      check(it->platform_message_id && it->customer && it->text &&
            strlen(it->text) <= SB_WEBHOOK_TEXT_MAX &&
            sb_utf8_valid(it->text, strlen(it->text)));
  }
  sb_wh_batch_free(b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  char err[FUZZ_ERR_LEN], *encrypt = NULL, *xml = NULL;
  const char *why = NULL;
  size_t len = 0;
  sb_wh_batch_t b;
  char *body = malloc(size ? size : 1);
  if (body == NULL) return 0;
  memcpy(body, data, size);
  check_batch(sb_webhook_wechat_parse(body, size, &b, err, sizeof err), &b, err);
  int rc = sb_webhook_wechat_encrypted(body, size, &encrypt, err, sizeof err);
  check(rc == 0 ? encrypt != NULL && encrypt[0] != '\0' : encrypt == NULL);
  if (rc == 0) {
    rc = sb_signature_wechat_decrypt(AES_KEY, "wx5823bf96d3bd56c7", encrypt, &xml, &len, &why);
    check(rc == SB_EINVAL && xml == NULL && why != NULL);
  }
  free(encrypt);
  free(body);
  return 0;
}
