/*
 * fuzz_client_feed: libswitchboard-client's readers of what the bus sends:
 * a feed message (topic + Envelope bytes, sbc__feed_decode) and the gap
 * tracker fed with the numbers it carries, plus a PublishRequest written
 * around the same bytes (sbc__wire_request) that protobuf-c must read back
 * as one event with exactly those bytes.
 *
 * Input: first byte = topic length n (mod 64), then n topic bytes, then the
 * envelope bytes (never NUL-terminated, so ASan sees any overread).
 * Checked: every string of a decoded event is non-NULL, kind points into
 * the topic, and the tracker's next due time is -1 or after its grace.
 */
#include "sbc_event.h"
#include "sbc_gap.h"
#include "sbc_wire.h"
#include "switchboard.pb-c.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define GRACE_MS 100
#define TOPIC_MAX 64

static void check_strings(const sbc_feed_event_t *f) {
  const char *all[] = {f->topic, f->kind, f->key, f->conversation, f->agent, f->queue, f->route_reason,
                       f->language, f->sentiment, f->sla_timer, f->event.tenant, f->event.id,
                       f->event.source, f->event.type, f->event.traceparent,
                       f->event.interaction.customer, f->event.interaction.text,
                       f->event.agent.agent, f->event.agent.conversation};
  for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
    if (!all[i])
      abort();
  if (f->kind < f->topic || f->kind > f->topic + strlen(f->topic))
    abort();
}

static void check_request(const uint8_t *body, size_t len) {
  sbc__wire_part_t part = {body, len};
  size_t n;
  uint8_t *req = sbc__wire_request(7, &part, 1, &n);
  if (!req)
    return;
  Switchboard__V1__PublishRequest *r = switchboard__v1__publish_request__unpack(NULL, n, req);
  /* the request decodes exactly when the envelope does */
  Switchboard__V1__Envelope *e = switchboard__v1__envelope__unpack(NULL, len, body);
  if (!r != !e || (r && (r->correlation != 7 || r->n_events != 1)))
    abort();
  if (r)
    switchboard__v1__publish_request__free_unpacked(r, NULL);
  if (e)
    switchboard__v1__envelope__free_unpacked(e, NULL);
  free(req);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size < 1)
    return 0;
  size_t n = data[0] % TOPIC_MAX;
  if (n > size - 1)
    n = size - 1;
  char topic[TOPIC_MAX + 1];
  memcpy(topic, data + 1, n);
  topic[n] = '\0';
  size_t len = size - 1 - n;
  uint8_t *body = malloc(len ? len : 1);
  if (!body)
    return 0;
  memcpy(body, data + 1 + n, len);
  sbc__gap_t *g = sbc__gap_new(GRACE_MS);
  sbc__feed_msg_t m;
  if (g && sbc__feed_decode(body, len, topic, &m) == 0) {
    check_strings(&m.ev);
    for (int64_t t = 0; t < 3; t++) /* the same number thrice, then beyond */
      sbc__gap_observe(g, topic, m.ev.seq + (uint64_t)t * (m.ev.seq % 5), t, NULL, NULL);
    int64_t due = sbc__gap_next_due(g);
    if (due != -1 && due < GRACE_MS)
      abort();
    sbc__gap_expire(g, INT64_MAX, NULL, NULL);
    if (sbc__gap_next_due(g) != -1)
      abort();
    sbc__feed_release(&m);
  }
  check_request(body, len);
  sbc__gap_free(&g);
  free(body);
  return 0;
}
