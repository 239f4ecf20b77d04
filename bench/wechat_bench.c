/*
 * wechat_bench: what WeChat's safe mode costs ingest over plaintext mode,
 * in process (no HTTP, no Redis), on the same message.
 *
 *   plaintext: signature check (SHA-1 of token, timestamp, nonce) + XML parse
 *   safe mode: XML parse of the envelope for <Encrypt> + msg_signature check
 *              + base64 + AES-256-CBC decrypt + AppID check + XML parse
 *
 * These are exactly the calls sb_door_webhook.c makes for each path. The two
 * paths run in alternating rounds so that a noisy machine slows both alike;
 * the report is the median of the rounds' ns per delivery and of the
 * rounds' safe/plain ratios. The HTTP-level figure (wrk, persistence on)
 * is bench/webhooks.py's wechat_safe_cost_ratio_median.
 *
 *   wechat_bench [--rounds N] [--iterations N]
 * Output: one JSON object on stdout.
 */
#include "sb_bench.h"
#include "sb_signature.h"
#include "sb_time.h"
#include "sb_webhook.h"

#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TOKEN "bench-wx-token"
#define APPID "wx5823bf96d3bd56c7"
#define AES_KEY "jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2e"
#define TIMESTAMP "1764000000"
#define NONCE "1372623149"
#define ROUNDS_MAX 101
#define XML_MAX 2048
#define SIG_HEX 41

static const char message[] =
    "<xml><ToUserName><![CDATA[gh_3d8c5b6f9a21]]></ToUserName>"
    "<FromUserName><![CDATA[oLVPpjqs9BhvzwPj5A-vTYAX3GLc]]></FromUserName>"
    "<CreateTime>1764000000</CreateTime><MsgType><![CDATA[text]]></MsgType>"
    "<Content><![CDATA[Hi, my flight was cancelled. Can you rebook me on the next one?]]>"
    "</Content><MsgId>7100000000000000001</MsgId></xml>";

/* SHA-1 hex of the parts sorted bytewise and concatenated (WeChat's rule). */
static void wechat_sign(char out[SIG_HEX], const char **parts, int n) {
  for (int i = 1; i < n; i++)
    for (int j = i; j > 0 && strcmp(parts[j - 1], parts[j]) > 0; j--) {
      const char *t = parts[j];
      parts[j] = parts[j - 1], parts[j - 1] = t;
    }
  EVP_MD_CTX *md = EVP_MD_CTX_new();
  unsigned char d[20];
  EVP_DigestInit_ex(md, EVP_sha1(), NULL);
  for (int i = 0; i < n; i++)
    EVP_DigestUpdate(md, parts[i], strlen(parts[i]));
  EVP_DigestFinal_ex(md, d, NULL);
  EVP_MD_CTX_free(md);
  for (int i = 0; i < 20; i++)
    snprintf(out + 2 * i, 3, "%02x", d[i]);
}

/* Safe mode's Encrypt field for msg: base64(AES-256-CBC(random16, length,
 * msg, AppID, PKCS#7 to 32)), key = base64 decode of AES_KEY + "=". */
static char *wechat_encrypt(const char *msg) {
  unsigned char key[33], plain[XML_MAX], cipher[XML_MAX + 32];
  char kb64[45];
  snprintf(kb64, sizeof kb64, "%s=", AES_KEY);
  if (EVP_DecodeBlock(key, (const unsigned char *)kb64, 44) < 32)
    return NULL;
  size_t len = strlen(msg), idlen = strlen(APPID), body = 20 + len + idlen;
  size_t pad = 32 - body % 32;
  if (body + pad > sizeof plain)
    return NULL;
  memcpy(plain, "0123456789abcdef", 16);
  plain[16] = (unsigned char)(len >> 24), plain[17] = (unsigned char)(len >> 16);
  plain[18] = (unsigned char)(len >> 8), plain[19] = (unsigned char)len;
  memcpy(plain + 20, msg, len);
  memcpy(plain + 20 + len, APPID, idlen);
  memset(plain + body, (int)pad, pad);
  EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
  int n = 0, m = 0;
  EVP_EncryptInit_ex(c, EVP_aes_256_cbc(), NULL, key, key);
  EVP_CIPHER_CTX_set_padding(c, 0);
  EVP_EncryptUpdate(c, cipher, &n, plain, (int)(body + pad));
  EVP_EncryptFinal_ex(c, cipher + n, &m);
  EVP_CIPHER_CTX_free(c);
  char *b64 = malloc(4 * ((size_t)(n + m) + 2) / 3 + 4);
  if (b64)
    EVP_EncodeBlock((unsigned char *)b64, cipher, n + m);
  return b64;
}

static int plain_path(const char *body, size_t len, const char *sig) {
  const char *why = NULL;
  char err[256];
  sb_wh_batch_t b;
  if (sb_signature_wechat_check(TOKEN, TIMESTAMP, NONCE, NULL, sig, &why))
    return -1;
  int rc = sb_webhook_wechat_parse(body, len, &b, err, sizeof err);
  if (rc == 0)
    sb_wh_batch_free(&b);
  return rc;
}

static int safe_path(const char *body, size_t len, const char *msig) {
  const char *why = NULL;
  char err[256], *encrypt = NULL, *xml = NULL;
  size_t xlen = 0;
  sb_wh_batch_t b;
  int rc = sb_webhook_wechat_encrypted(body, len, &encrypt, err, sizeof err);
  if (rc == 0)
    rc = sb_signature_wechat_check(TOKEN, TIMESTAMP, NONCE, encrypt, msig, &why);
  if (rc == 0)
    rc = sb_signature_wechat_decrypt(AES_KEY, APPID, encrypt, &xml, &xlen, &why);
  if (rc == 0) {
    rc = sb_webhook_wechat_parse(xml, xlen, &b, err, sizeof err);
    if (rc == 0)
      sb_wh_batch_free(&b);
  }
  free(xml);
  free(encrypt);
  return rc;
}

int main(int argc, char **argv) {
  int rounds = 9, iterations = 20000;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (strcmp(argv[i], "--rounds") == 0)
      rounds = atoi(argv[i + 1]);
    else if (strcmp(argv[i], "--iterations") == 0)
      iterations = atoi(argv[i + 1]);
    else {
      fprintf(stderr, "usage: wechat_bench [--rounds N] [--iterations N]\n");
      return 2;
    }
  }
  if (rounds < 1 || rounds > ROUNDS_MAX || iterations < 1) {
    fprintf(stderr, "wechat_bench: --rounds 1..%d, --iterations >= 1\n", ROUNDS_MAX);
    return 2;
  }
  char sig[SIG_HEX], msig[SIG_HEX], safe[XML_MAX * 2];
  const char *p3[] = {TOKEN, TIMESTAMP, NONCE};
  wechat_sign(sig, p3, 3);
  char *enc = wechat_encrypt(message);
  if (!enc)
    return 1;
  const char *p4[] = {TOKEN, TIMESTAMP, NONCE, enc};
  wechat_sign(msig, p4, 4);
  int n = snprintf(safe, sizeof safe,
                   "<xml><ToUserName><![CDATA[gh_3d8c5b6f9a21]]></ToUserName>"
                   "<Encrypt><![CDATA[%s]]></Encrypt></xml>",
                   enc);
  free(enc);
  size_t plen = strlen(message), slen = (size_t)n;
  /* both paths must succeed, or the timing means nothing */
  if (plain_path(message, plen, sig) || safe_path(safe, slen, msig)) {
    fprintf(stderr, "wechat_bench: a path rejected its own message\n");
    return 1;
  }
  double plain_ns[ROUNDS_MAX], safe_ns[ROUNDS_MAX], ratio[ROUNDS_MAX];
  for (int r = 0; r < rounds; r++) {
    int64_t t0 = sb_now_us();
    for (int i = 0; i < iterations; i++)
      plain_path(message, plen, sig);
    int64_t t1 = sb_now_us();
    for (int i = 0; i < iterations; i++)
      safe_path(safe, slen, msig);
    int64_t t2 = sb_now_us();
    plain_ns[r] = (double)(t1 - t0) * 1000.0 / iterations;
    safe_ns[r] = (double)(t2 - t1) * 1000.0 / iterations;
    ratio[r] = safe_ns[r] / plain_ns[r];
  }
  double pm = sb_bench_median(plain_ns, rounds), sm = sb_bench_median(safe_ns, rounds);
  double rm = sb_bench_median(ratio, rounds);
  printf("{\"rounds\": %d, \"iterations\": %d, \"plain_ns_per_delivery\": %.0f, "
         "\"safe_ns_per_delivery\": %.0f, \"safe_over_plain_median\": %.2f}\n",
         rounds, iterations, pm, sm, rm);
  return 0;
}
