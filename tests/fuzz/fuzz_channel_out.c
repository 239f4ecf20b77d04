/* Fuzz target: what the platforms answer an outbound send (and WeChat's
 * token fetch) is read by each adapter's classify / token_parse: any body
 * and status must give one verdict with a reason, never a crash, and a
 * token only when the body really held one. The first byte picks the
 * adapter (its high bit the request's mode), the next two the HTTP status. */
#include "sb_channel_out.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static const char *const platforms[] = {"wechat", "telegram", "line", "meta", "twilio", "email", "x"};
  if (size < 3)
    return 0;
  const sb_channel_ops_t *ops = sb_channel_find(platforms[(data[0] & 0x7f) % 7]);
  long status = (long)((data[1] << 8 | data[2]) % 600);
  char *body = malloc(size - 3 + 1);
  if (!ops || !body)
    abort();
  memcpy(body, data + 3, size - 3);
  body[size - 3] = '\0';
  sb_out_request_t req;
  memset(&req, 0, sizeof req);
  req.mode = data[0] & 0x80 ? 1 : 0;
  sb_out_result_t r;
  memset(&r, 0, sizeof r);
  ops->classify(&req, status, body, &r);
  if (r.retry_after_ms < 0 || memchr(r.reason, '\0', sizeof r.reason) == NULL)
    abort();
  if (ops->token_parse) {
    char token[512] = "", why[256] = "";
    int64_t expires = 0;
    int rc = ops->token_parse(status, body, token, sizeof token, &expires, why, sizeof why);
    if (rc == 0 && (!token[0] || expires < 0))
      abort();
    if (rc != 0 && !why[0])
      abort(); /* a refusal says why */
  }
  free(body);
  return 0;
}
