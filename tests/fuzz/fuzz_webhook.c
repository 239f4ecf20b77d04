/*
 * fuzz_webhook: libFuzzer target for the webhook intake: sb_webhook (Meta,
 * X, Telegram, LINE, Twilio, e-mail), sb_form (urlencoded, multipart) and
 * the header parsing of sb_signature. (WeChat's XML has its own target,
 * fuzz_wechat_xml.)
 *
 * Every input is fed, as an exact-size buffer (so ASan sees any overread),
 * to the four JSON readers, to the urlencoded parser and to the multipart
 * parser (with a fixed boundary, and with the input's first line as the
 * Content-Type when it has one); every form that parses goes on to the
 * Twilio and e-mail readers and the Twilio signature check. The input as a
 * C string is also tried as a signature header. The header contracts are
 * checked with abort(): a crash, a leak or an abort is a finding.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sb_error.h"
#include "sb_form.h"
#include "sb_signature.h"
#include "sb_webhook.h"
#include "sb_utf8.h" /* sb_utf8_valid, to check the output */

enum { FUZZ_ERR_LEN = 256, CT_LINE_MAX = 256 };

static const char FIXED_CT[] = "multipart/form-data; boundary=xYzZY";

/* tests/fixtures/webhooks/sendgrid_event_key.pub, and a signature by it
 * over another text (test_signature's SG_SIG) */
#define FUZZ_SG_KEY "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEU3B0Zl+3ntlQr/ZOyc3vyr6ADKe6NS/1HpC8sxqCtKdm" \
                    "qSr0t2FEeo37ZSaNQNJWEvcqr7TxFkj7D/T+3z2rYQ=="
#define FUZZ_SG_SIG "MEUCIGw0a9jMkIGoDzX9GJn52owLS1JXl4sdE0OpKKdhuVz0AiEA1GHm/Kil8mlr8iObpjoReal9q/5cfnHy" \
                    "ecnsEJBzyVo="

static void check(int ok) {
  if (!ok) abort();
}

static void check_string(const char *s, size_t max) {
  if (s == NULL) return;
  size_t n = strlen(s);
  check(n > 0 && n <= max && sb_utf8_valid(s, n));
}

static void check_item(const sb_wh_item_t *it) {
  check(strlen(it->channel) > 0 && strlen(it->error) < sizeof it->error);
  if (it->error[0] != '\0') {
    check(!it->text && !it->customer && !it->status && !it->reply_to &&
          !it->thread_hint && !it->author_name && !it->subject);
    check_string(it->platform_message_id, SB_WEBHOOK_ID_MAX);
    return;
  }
  const char *const ids[] = {
      it->platform_message_id, it->customer,    it->reply_to,
      it->thread_hint,         it->author_name, it->status};
  for (size_t i = 0; i < sizeof ids / sizeof ids[0]; i++)
    check_string(ids[i], SB_WEBHOOK_ID_MAX);
  check_string(it->subject, SB_WEBHOOK_SUBJECT_MAX);
  for (const char *c = it->subject; c && *c; c++) /* one line for a reply's Subject */
    check((unsigned char)*c >= 0x20 && *c != 0x7f);
  if (it->text != NULL)
    check(strlen(it->text) <= SB_WEBHOOK_TEXT_MAX &&
          sb_utf8_valid(it->text, strlen(it->text)));
  if (it->kind == SB_WH_MESSAGE)
    check(it->platform_message_id && it->customer && it->text && !it->status);
  if (it->kind == SB_WH_STATUS) check(it->status && !it->text);
  check(it->followers >= 0 && it->time_ms >= 0);
}

static void check_batch(int rc, sb_wh_batch_t *b, const char *err) {
  check(strlen(err) < FUZZ_ERR_LEN);
  if (rc != 0) {
    check(b->items == NULL && b->n == 0 && err[0] != '\0');
    return;
  }
  check(b->n <= SB_WEBHOOK_MAX_ITEMS && (b->n == 0 || b->items != NULL));
  for (size_t i = 0; i < b->n; i++) check_item(&b->items[i]);
  sb_wh_batch_free(b);
  check(b->items == NULL && b->n == 0);
}

static void json_readers(const char *body, size_t len) {
  char err[FUZZ_ERR_LEN];
  sb_wh_batch_t b;
  check_batch(sb_webhook_meta_parse(body, len, &b, err, sizeof err), &b, err);
  check_batch(sb_webhook_x_parse(body, len, &b, err, sizeof err), &b, err);
  check_batch(sb_webhook_telegram_parse(body, len, &b, err, sizeof err), &b, err);
  check_batch(sb_webhook_line_parse(body, len, &b, err, sizeof err), &b, err);
  check_batch(sb_webhook_email_events_parse(body, len, &b, err, sizeof err), &b, err);
}

static void check_form(int rc, const sb_form_t *f, const char *err) {
  if (rc != 0) {
    check(f->fields == NULL && f->n == 0 && err[0] != '\0');
    return;
  }
  for (size_t i = 0; i < f->n; i++)
    check(f->fields[i].value[f->fields[i].value_len] == '\0' &&
          strlen(f->fields[i].name) <= SB_FORM_MAX_NAME_DEFAULT);
}

/* A form that parsed, through everything that reads forms. */
static void form_readers(sb_form_t *f) {
  char err[FUZZ_ERR_LEN];
  const char *why = NULL, *challenge = NULL;
  sb_wh_batch_t b;
  check_batch(sb_webhook_twilio_parse(f, &b, err, sizeof err), &b, err);
  check_batch(sb_webhook_email_parse(f, &b, err, sizeof err), &b, err);
  int rc = sb_signature_twilio_check("token", "https://h.example:8443/t?a=1", f,
                                     sb_form_get(f, "sig"), &why);
  check(rc == SB_EINVAL && why != NULL);
  rc = sb_signature_meta_handshake(f, "verify", &challenge, &why);
  check(rc == 0 ? challenge != NULL : challenge == NULL);
  sb_form_free(f);
}

static void forms(const char *body, size_t len) {
  char err[FUZZ_ERR_LEN];
  sb_form_t f;
  int rc = sb_form_urlencoded_parse(body, len, NULL, &f, err, sizeof err);
  check_form(rc, &f, err);
  if (rc == 0) form_readers(&f);
  rc = sb_form_multipart_parse(FIXED_CT, body, len, NULL, &f, err, sizeof err);
  check_form(rc, &f, err);
  if (rc == 0) form_readers(&f);
  /* first line as the Content-Type, the rest as the body */
  const char *nl = memchr(body, '\n', len < CT_LINE_MAX ? len : CT_LINE_MAX);
  if (nl == NULL) return;
  char ct[CT_LINE_MAX + 1];
  memcpy(ct, body, (size_t)(nl - body));
  ct[nl - body] = '\0';
  size_t rest = len - (size_t)(nl + 1 - body);
  rc = sb_form_multipart_parse(ct, nl + 1, rest, NULL, &f, err, sizeof err);
  check_form(rc, &f, err);
  if (rc == 0) form_readers(&f);
}

/* The input as a signature header: never valid, never a crash. */
static void headers(const char *text, const uint8_t *data, size_t size) {
  const char *why = NULL;
  uint8_t out[SB_SIGNATURE_DIGEST_MAX];
  size_t n;
  check(sb_signature_meta_check("s", text, data, size, &why) == SB_EINVAL);
  check(sb_signature_x_check("s", text, data, size, &why) == SB_EINVAL);
  check(sb_signature_line_check("s", text, data, size, &why) == SB_EINVAL);
  /* a real key, the input as signature and as timestamp */
  check(sb_signature_sendgrid_check(FUZZ_SG_KEY, text, "1764064800", 1764064800, data, size, &why) ==
        SB_EINVAL);
  check(sb_signature_sendgrid_check(FUZZ_SG_KEY, FUZZ_SG_SIG, text, 1764064800, data, size, &why) ==
        SB_EINVAL);
  check(sb_signature_telegram_check("s", text, &why) ==
        (strcmp(text, "s") == 0 ? 0 : SB_EINVAL));
  check(sb_signature_wechat_check("t", "1", "2", NULL, text, &why) == SB_EINVAL ||
        strlen(text) == 40);
  (void)sb_signature_base64_decode(text, strlen(text), out, sizeof out, &n);
  (void)sb_signature_hex_decode(text, strlen(text), out, sizeof out, &n);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  char *body = malloc(size ? size : 1);
  if (body == NULL) return 0;
  memcpy(body, data, size);
  json_readers(body, size);
  forms(body, size);
  free(body);
  char *text = malloc(size + 1);
  if (text == NULL) return 0;
  memcpy(text, data, size);
  text[size] = '\0';
  headers(text, data, size);
  free(text);
  return 0;
}
