/* sb_testcrypto: see sb_testcrypto.h. */
#include "sb_testcrypto.h"
#include "sb_testutil.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

enum { CMD_MAX = 1024, KEY_HEX = 64, PAD_BLOCK = 32, RANDOM_LEN = 16, CHUNK = 4096 };

static char *read_all(FILE *f, size_t *outlen) {
  size_t n = 0, cap = CHUNK;
  char *buf = malloc(cap + 1);
  assert_non_null(buf);
  for (size_t got; (got = fread(buf + n, 1, cap - n, f)) > 0;) {
    n += got;
    if (n == cap) {
      buf = realloc(buf, (cap *= 2) + 1);
      assert_non_null(buf);
    }
  }
  buf[n] = '\0';
  if (outlen)
    *outlen = n;
  return buf;
}

char *sb_test_openssl(const char *args, const void *in, size_t len, size_t *outlen) {
  char path[] = "/tmp/sb_testcrypto_XXXXXX", cmd[CMD_MAX];
  int fd = mkstemp(path);
  assert_true(fd >= 0);
  assert_int_equal(write(fd, in, len), (ssize_t)len);
  close(fd);
  snprintf(cmd, sizeof cmd, "< %s openssl %s", path, args);
  FILE *p = popen(cmd, "r");
  assert_non_null(p);
  char *out = read_all(p, outlen);
  int status = pclose(p);
  unlink(path);
  if (status != 0)
    fail_msg("`%s` failed (%d)", cmd, status);
  return out;
}

static int by_bytes(const void *a, const void *b) {
  return strcmp(*(const char *const *)a, *(const char *const *)b);
}

void sb_test_wechat_sign(char out[SB_TEST_SHA1_HEX], const char *const *parts, size_t n) {
  const char *sorted[8];
  size_t total = 0;
  assert_true(n <= 8);
  memcpy(sorted, parts, n * sizeof *parts);
  qsort(sorted, n, sizeof *sorted, by_bytes);
  for (size_t i = 0; i < n; i++)
    total += strlen(sorted[i]);
  char *joined = calloc(total + 1, 1);
  assert_non_null(joined);
  for (size_t i = 0; i < n; i++)
    strcat(joined, sorted[i]);
  char *hex = sb_test_openssl("dgst -sha1 -r", joined, total, NULL);
  assert_true(strlen(hex) >= SB_TEST_SHA1_HEX - 1);
  memcpy(out, hex, SB_TEST_SHA1_HEX - 1);
  out[SB_TEST_SHA1_HEX - 1] = '\0';
  free(hex);
  free(joined);
}

/* The AES key as hex, decoded by openssl from the 43 characters + "=". */
static void key_hex(const char *aes_key, char hex[KEY_HEX + 1]) {
  char b64[64];
  size_t n = 0;
  snprintf(b64, sizeof b64, "%s=\n", aes_key);
  char *raw = sb_test_openssl("base64 -d", b64, strlen(b64), &n);
  assert_int_equal(n, KEY_HEX / 2);
  for (size_t i = 0; i < n; i++)
    snprintf(hex + 2 * i, 3, "%02x", (unsigned char)raw[i]);
  free(raw);
}

char *sb_test_wechat_encrypt(const char *aes_key, const char *app_id, const char *msg,
                             size_t len) {
  char hex[KEY_HEX + 1], args[CMD_MAX];
  size_t idlen = strlen(app_id), body = RANDOM_LEN + 4 + len + idlen;
  size_t pad = PAD_BLOCK - body % PAD_BLOCK; /* 1..32 */
  uint8_t *plain = malloc(body + pad);
  assert_non_null(plain);
  memcpy(plain, "\x8f\x02\x3b\xa7\x11\xc4\x5e\x90\x6d\x21\xfe\x07\x3a\x99\x50\xc2", RANDOM_LEN);
  plain[16] = (uint8_t)(len >> 24), plain[17] = (uint8_t)(len >> 16);
  plain[18] = (uint8_t)(len >> 8), plain[19] = (uint8_t)len;
  memcpy(plain + 20, msg, len);
  memcpy(plain + 20 + len, app_id, idlen);
  memset(plain + body, (int)pad, pad);
  key_hex(aes_key, hex);
  snprintf(args, sizeof args, "enc -aes-256-cbc -nopad -a -A -K %s -iv %.32s", hex, hex);
  char *b64 = sb_test_openssl(args, plain, body + pad, NULL);
  free(plain);
  b64[strcspn(b64, "\r\n")] = '\0';
  return b64;
}
