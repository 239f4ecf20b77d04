/*
 * sb_dlq: see sb_dlq.h. The bytes are redacted with sb_pii before they are
 * encoded: dead letters are at rest like everything else.
 */
#include "sb_dlq.h"
#include "sb_error.h"
#include "sb_keys.h"
#include "sb_log.h"
#include "sb_pii.h"
#include "sb_script.h"
#include "sb_time.h"

#include <cjson/cJSON.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SB_DLQ_BYTES_MAX (64u * 1024) /* longer originals are truncated */

struct sb_dlq {
  sb_service_t *svc;
  const char *stage;
  int script;
  sb_counter_t *failed;
};

sb_dlq_t *sb_dlq_new(sb_service_t *s, const char *stage) {
  sb_dlq_t *d = calloc(1, sizeof *d);
  if (!d)
    return NULL;
  d->svc = s;
  d->stage = stage;
  d->script = sb_script_add(s->redis, "dlq", sb_script_dlq);
  d->failed = sb_metrics_counter(s->metrics, "sb_dlq_write_failed_total",
                                 "dead letters that could not be written to Redis", NULL);
  return d;
}

void sb_dlq_destroy(sb_dlq_t **d) {
  free(*d);
  *d = NULL;
}

static void on_reply(const redisReply *reply, int err, void *arg) {
  sb_dlq_t *d = arg;
  if (err) {
    sb_counter_add(d->failed, 1);
    sb_log(SB_LOG_ERROR, "dlq_write_failed", "error", sb_strerror(err), NULL);
  }
  (void)reply;
}

static char *encode_entry(sb_dlq_t *d, const char *reason, const char *key, const void *bytes,
                          size_t len) {
  if (len > SB_DLQ_BYTES_MAX)
    len = SB_DLQ_BYTES_MAX;
  char *clean = NULL;
  size_t clean_len = 0;
  unsigned found = 0;
  if (sb_pii_redact(bytes, len, SB_PII_MASK_ALL, &clean, &clean_len, &found))
    return NULL;
  char *b64 = malloc(4 * ((clean_len + 2) / 3) + 1);
  if (b64)
    EVP_EncodeBlock((unsigned char *)b64, (const unsigned char *)clean, (int)clean_len);
  free(clean);
  cJSON *o = cJSON_CreateObject();
  cJSON_AddNumberToObject(o, "ts_ms", (double)sb_now_ms());
  cJSON_AddStringToObject(o, "stage", d->stage);
  cJSON_AddStringToObject(o, "reason", reason);
  cJSON_AddStringToObject(o, "key", key ? key : "");
  cJSON_AddStringToObject(o, "bytes_b64", b64 ? b64 : "");
  char *json = cJSON_PrintUnformatted(o);
  cJSON_Delete(o);
  free(b64);
  return json;
}

void sb_dlq_push(sb_dlq_t *d, const char *tenant, const char *reason, const char *lease,
                 const char *key, const void *bytes, size_t len) {
  char stats[SB_KEY_MAX], max[24];
  if (tenant)
    sb_key_tenant(stats, sizeof stats, tenant, "stats");
  else
    snprintf(stats, sizeof stats, "%s", SB_KEY_GLOBAL_STATS);
  snprintf(max, sizeof max, "%lld", sb_config_int(d->svc->config, "dlq-max"));
  char *entry = encode_entry(d, reason, key, bytes, len);
  const char *argv[] = {stats, entry ? entry : "{}", max, lease ? lease : "", key ? key : ""};
  size_t lens[5];
  for (int i = 0; i < 5; i++)
    lens[i] = strlen(argv[i]);
  sb_log(SB_LOG_WARN, "dead_letter", "stage", d->stage, "tenant", tenant ? tenant : "",
         "reason", reason, NULL);
  if (sb_redis_evalsha(d->svc->redis, d->script, 1, 5, argv, lens, on_reply, d) != 0) {
    sb_counter_add(d->failed, 1);
    sb_log(SB_LOG_ERROR, "dlq_write_failed", "error", "redis unavailable", NULL);
  }
  free(entry);
}
