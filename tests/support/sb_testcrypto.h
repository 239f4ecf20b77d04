/*
 * sb_testcrypto: signatures and ciphertexts for tests, made by OpenSSL's
 * command line tool (`openssl`, through popen), never by the code under
 * test, so a check that passes agrees with an independent implementation.
 *
 * Every function fails the running cmocka test when the tool cannot be run
 * or says something unexpected.
 */
#ifndef SB_TESTCRYPTO_H
#define SB_TESTCRYPTO_H

#include <stddef.h>

#define SB_TEST_SHA1_HEX 41 /* 40 hex digits and a NUL */

/* Runs `openssl <args>` (shell words; the tool's output is read) with
 * in[0..len) on its standard input. Returns the output, malloc'd with a NUL
 * after it (*outlen bytes; outlen may be NULL). */
char *sb_test_openssl(const char *args, const void *in, size_t len, size_t *outlen);

/* WeChat's signature: hex SHA-1 of the n parts sorted in byte order and
 * concatenated, by `openssl dgst -sha1`. */
void sb_test_wechat_sign(char out[SB_TEST_SHA1_HEX], const char *const *parts, size_t n);

/* WeChat safe mode: the Encrypt text (base64, malloc'd) of msg for an
 * account with EncodingAESKey aes_key (43 characters) and app_id:
 * 16 fixed "random" bytes, the length (4 bytes big-endian), msg, app_id,
 * padded PKCS#7-style to 32 bytes, then `openssl enc -aes-256-cbc -nopad`
 * with key = `openssl base64 -d` of aes_key + "=" and IV = its first 16
 * bytes. */
char *sb_test_wechat_encrypt(const char *aes_key, const char *app_id, const char *msg,
                             size_t len);

#endif
