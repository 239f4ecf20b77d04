/* sbctl_tail: see sbctl_tail.h. */
#include "sbctl_tail.h"
#include "sb_curve.h"
#include "sb_envelope.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

static void print_envelope(const char *topic, size_t tlen, const sb_envelope_t *env) {
  cJSON *o = cJSON_CreateObject();
  char t[256];
  snprintf(t, sizeof t, "%.*s", (int)tlen, topic);
  cJSON_AddStringToObject(o, "topic", t);
  cJSON_AddStringToObject(o, "id", env->id);
  cJSON_AddStringToObject(o, "tenant", env->tenant);
  cJSON_AddStringToObject(o, "type", env->type);
  cJSON_AddStringToObject(o, "kind", sb_envelope_kind(env));
  cJSON_AddStringToObject(o, "conversation", env->conversation);
  if (env->classification) {
    cJSON_AddStringToObject(o, "language", env->classification->language);
    cJSON_AddBoolToObject(o, "move_private", env->classification->move_private);
    cJSON_AddStringToObject(o, "sentiment", env->classification->sentiment);
    cJSON_AddNumberToObject(o, "priority", env->classification->priority);
    cJSON *intents = cJSON_AddArrayToObject(o, "intents");
    for (size_t i = 0; i < env->classification->n_intents; i++)
      cJSON_AddItemToArray(intents, cJSON_CreateString(env->classification->intents[i]->name));
  }
  if (env->routing) {
    cJSON_AddStringToObject(o, "agent", env->routing->agent);
    cJSON_AddStringToObject(o, "reason", env->routing->reason);
    cJSON_AddNumberToObject(o, "pulled", (double)env->routing->n_pulled);
  }
  if (env->published_us)
    cJSON_AddNumberToObject(o, "published_us", (double)env->published_us);
  if (env->routing && env->routing->decided_us)
    cJSON_AddNumberToObject(o, "decided_us", (double)env->routing->decided_us);
  if (env->body_case == SWITCHBOARD__V1__ENVELOPE__BODY_SLA && env->sla) { /* a oneof: check the case */
    cJSON_AddNumberToObject(o, "sla_due_ms", (double)env->sla->due_ms);
    cJSON_AddNumberToObject(o, "sla_elapsed_ms", (double)env->sla->elapsed_ms);
  }
  char *s = cJSON_PrintUnformatted(o);
  printf("%s\n", s);
  fflush(stdout);
  free(s);
  cJSON_Delete(o);
}

int sbctl_tail(const char *feed, const char *topic, long long count, const sb_curve_t *curve,
               volatile sig_atomic_t *stop) {
  void *zctx = zmq_ctx_new();
  void *sub = zmq_socket(zctx, ZMQ_SUB);
  int linger = 0;
  zmq_setsockopt(sub, ZMQ_LINGER, &linger, sizeof linger);
  zmq_setsockopt(sub, ZMQ_SUBSCRIBE, topic, strlen(topic));
  if ((sb_curve_enabled(curve) && sb_curve_client(curve, sub) != 0) || zmq_connect(sub, feed) != 0) {
    fprintf(stderr, "sbctl tail: cannot connect to %s\n", feed);
    zmq_close(sub);
    zmq_ctx_term(zctx);
    return 1;
  }
  long long seen = 0;
  while (!*stop && (count == 0 || seen < count)) {
    zmq_pollitem_t it = {sub, 0, ZMQ_POLLIN, 0};
    if (zmq_poll(&it, 1, 200) <= 0)
      continue;
    zmq_msg_t tm, bm;
    zmq_msg_init(&tm);
    zmq_msg_init(&bm);
    if (zmq_msg_recv(&tm, sub, 0) >= 0 && zmq_msg_more(&tm) && zmq_msg_recv(&bm, sub, 0) >= 0) {
      sb_envelope_t *env = sb_envelope_unpack(zmq_msg_data(&bm), zmq_msg_size(&bm));
      if (env) {
        print_envelope(zmq_msg_data(&tm), zmq_msg_size(&tm), env);
        seen++;
      }
      sb_envelope_free(env);
    }
    zmq_msg_close(&tm);
    zmq_msg_close(&bm);
  }
  zmq_close(sub);
  zmq_ctx_term(zctx);
  return 0;
}
