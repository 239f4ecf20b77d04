/*
 * sb_door_zmq: see sb_door_zmq.h. A request lives until its last ack; the
 * reply goes back through the ROUTER to the identity it came from. If the
 * door is destroyed first, requests still waiting are answered into the
 * void (their socket is gone) and freed.
 *
 * With edge CURVE (--edge-curve-secret-key-file) the ROUTER is a CURVE
 * server in a context of its own (sb_zap_edge): a client whose key is not
 * allowed never completes its handshake, so nothing it sends is read. A key
 * bound to a tenant in the allow-list arrives as the message's User-Id, and
 * its events for any other tenant are refused (ACK_INVALID, nothing
 * written), as a tenant's API key is on HTTP.
 */
#include "sb_door_zmq.h"
#include "sb_admit.h"
#include "sb_error.h"
#include "sb_log.h"
#include "sb_time.h"
#include "sb_zap.h"
#include "sb_zsock.h"

#include <stdlib.h>
#include <string.h>

#define SB_DOOR_ZMQ_TAKE_MAX 256 /* requests read per loop turn */
#define SB_DOOR_ZMQ_EVENTS_MAX 10000

typedef Switchboard__V1__Ack ack_t;

struct sb_door_zmq {
  sb_service_t *svc;
  sb_intake_t *intake;
  sb_zsock_t *router;
  sb_zap_edge_t *edge; /* NULL: plaintext */
  size_t open_requests;
  int closing;
  sb_counter_t *malformed;
};

typedef struct {
  sb_door_zmq_t *door;
  zmq_msg_t identity;
  int delimiter; /* REQ peers put an empty frame before the body */
  uint64_t correlation;
  char tenant[SB_CURVE_TENANT_MAX + 1]; /* the client key's; "" = any */
  size_t n, remaining;
  ack_t *acks;
  ack_t **ackp;
} request_t;

static void set_ack(ack_t *a, Switchboard__V1__AckCode code, const char *msg) {
  a->code = code;
  a->message = strdup(msg ? msg : "");
}

static void reply(request_t *r) {
  sb_door_zmq_t *d = r->door;
  Switchboard__V1__PublishReply rep = SWITCHBOARD__V1__PUBLISH_REPLY__INIT;
  rep.correlation = r->correlation;
  rep.n_acks = r->n;
  rep.acks = r->ackp;
  size_t len = switchboard__v1__publish_reply__get_packed_size(&rep);
  uint8_t *buf = malloc(len ? len : 1);
  if (buf && d->router) {
    switchboard__v1__publish_reply__pack(&rep, buf);
    const void *parts[] = {zmq_msg_data(&r->identity), "", buf};
    size_t lens[] = {zmq_msg_size(&r->identity), 0, len};
    if (!r->delimiter) {
      parts[1] = buf;
      lens[1] = len;
    }
    sb_zsock_send(d->router, parts, lens, r->delimiter ? 3 : 2);
  }
  free(buf);
  for (size_t i = 0; i < r->n; i++) {
    free(r->acks[i].id);
    free(r->acks[i].message);
  }
  free(r->acks);
  free(r->ackp);
  zmq_msg_close(&r->identity);
  d->open_requests--;
  free(r);
  if (d->closing && d->open_requests == 0)
    free(d);
}

static void on_done(void *arg, size_t index, sb_intake_status_t st, const char *conv) {
  request_t *r = arg;
  static const Switchboard__V1__AckCode codes[] = {
      SWITCHBOARD__V1__ACK_CODE__ACK_OK, SWITCHBOARD__V1__ACK_CODE__ACK_DUPLICATE,
      SWITCHBOARD__V1__ACK_CODE__ACK_RETRY_LATER};
  set_ack(&r->acks[index], codes[st], st == SB_INTAKE_FAILED ? "not durable; retry" : conv);
  if (--r->remaining == 0)
    reply(r);
}

static request_t *request_new(sb_door_zmq_t *d, zmq_msg_t *identity, int delimiter, size_t n) {
  request_t *r = calloc(1, sizeof *r);
  if (!r)
    return NULL;
  r->door = d;
  zmq_msg_init(&r->identity);
  zmq_msg_move(&r->identity, identity);
  r->delimiter = delimiter;
  r->n = n;
  r->remaining = n + 1; /* held until every event was handed over */
  r->acks = calloc(n ? n : 1, sizeof *r->acks);
  r->ackp = calloc(n ? n : 1, sizeof *r->ackp);
  for (size_t i = 0; i < n; i++) {
    switchboard__v1__ack__init(&r->acks[i]);
    r->ackp[i] = &r->acks[i];
  }
  d->open_requests++;
  return r;
}

/* Admits and submits one envelope (taken); acks at once when refused. */
static void take_event(request_t *r, size_t i, sb_envelope_t *env, int room) {
  sb_door_zmq_t *d = r->door;
  r->acks[i].id = strdup(env->id ? env->id : "");
  sb_admit_result_t ar;
  if (r->tenant[0] && strcmp(env->tenant ? env->tenant : "", r->tenant) != 0) {
    sb_envelope_free(env);
    set_ack(&r->acks[i], SWITCHBOARD__V1__ACK_CODE__ACK_INVALID,
            "forbidden: this client key may not publish for that tenant");
  } else if (!room) {
    sb_envelope_free(env);
    set_ack(&r->acks[i], SWITCHBOARD__V1__ACK_CODE__ACK_RETRY_LATER, "overloaded or store unavailable; retry");
  } else if (sb_admit_envelope(env, d->svc->tenants, &ar)) {
    sb_envelope_free(env);
    set_ack(&r->acks[i],
            ar.status == SB_ADMIT_UNKNOWN_TENANT ? SWITCHBOARD__V1__ACK_CODE__ACK_UNKNOWN_TENANT
                                                 : SWITCHBOARD__V1__ACK_CODE__ACK_INVALID,
            ar.reason);
  } else if (sb_ratelimit_take(sb_intake_limiter(d->intake), sb_service_tenant(d->svc, env->tenant), 1,
                               sb_now_ms())) {
    sb_envelope_free(env);
    sb_intake_refused(d->intake, 1);
    set_ack(&r->acks[i], SWITCHBOARD__V1__ACK_CODE__ACK_RETRY_LATER, "tenant over its rate; retry later");
  } else if (sb_intake_submit(d->intake, env, &ar, on_done, r, i) == 0) {
    return; /* on_done answers it */
  } else {
    set_ack(&r->acks[i], SWITCHBOARD__V1__ACK_CODE__ACK_RETRY_LATER, "overloaded; retry");
  }
  r->remaining--;
}

static void handle(sb_door_zmq_t *d, zmq_msg_t *parts, size_t nparts) {
  int delimiter = nparts == 3 && zmq_msg_size(&parts[1]) == 0;
  zmq_msg_t *body = &parts[nparts - 1];
  Switchboard__V1__PublishRequest *req = NULL;
  if ((nparts == 2 || delimiter) && zmq_msg_size(body) <= SB_DOOR_ZMQ_REQUEST_MAX)
    req = switchboard__v1__publish_request__unpack(NULL, zmq_msg_size(body), zmq_msg_data(body));
  size_t n = req ? req->n_events : 0;
  if (n > SB_DOOR_ZMQ_EVENTS_MAX) {
    switchboard__v1__publish_request__free_unpacked(req, NULL);
    req = NULL, n = 0;
  }
  request_t *r = request_new(d, &parts[0], delimiter, req ? n : 1);
  if (!r) {
    switchboard__v1__publish_request__free_unpacked(req, NULL);
    return;
  }
  if (!req) {
    sb_counter_add(d->malformed, 1);
    r->acks[0].id = strdup("");
    set_ack(&r->acks[0], SWITCHBOARD__V1__ACK_CODE__ACK_INVALID,
            "malformed, truncated or oversized PublishRequest");
    reply(r);
    return;
  }
  r->correlation = req->correlation;
  const char *user = d->edge ? zmq_msg_gets(body, "User-Id") : NULL;
  snprintf(r->tenant, sizeof r->tenant, "%s", user ? user : "");
  int room = sb_intake_room(d->intake) >= n;
  if (!room)
    sb_intake_refused(d->intake, n);
  for (size_t i = 0; i < n; i++) {
    take_event(r, i, req->events[i], room);
    req->events[i] = NULL;
  }
  req->n_events = 0; /* the envelopes were handed over */
  switchboard__v1__publish_request__free_unpacked(req, NULL);
  if (--r->remaining == 0)
    reply(r);
}

static void on_readable(sb_zsock_t *z, void *arg) {
  sb_door_zmq_t *d = arg;
  zmq_msg_t parts[3];
  size_t n;
  for (int taken = 0; taken < SB_DOOR_ZMQ_TAKE_MAX; taken++) {
    int rc = sb_zsock_recv(z, parts, 3, &n);
    if (rc == SB_EAGAIN)
      break;
    if (rc || n < 2) { /* no identity and body: nobody to answer */
      sb_counter_add(d->malformed, 1);
      for (size_t i = 0; !rc && i < n; i++)
        zmq_msg_close(&parts[i]);
      continue;
    }
    handle(d, parts, n);
    for (size_t i = 0; i < n; i++)
      zmq_msg_close(&parts[i]);
  }
}

sb_door_zmq_t *sb_door_zmq_new(sb_service_t *s, sb_intake_t *intake, const char *endpoint) {
  sb_door_zmq_t *d = calloc(1, sizeof *d);
  if (!d)
    return NULL;
  d->svc = s;
  d->intake = intake;
  char err[256];
  if (sb_zap_edge_new(s->loop, s->config, s->metrics, "publish", &d->edge, err, sizeof err) != 0) {
    sb_log(SB_LOG_ERROR, "edge_curve_failed", "error", err, NULL);
    free(d);
    return NULL;
  }
  d->router = sb_zsock_new(s->loop, d->edge ? sb_zap_edge_context(d->edge) : s->zctx, ZMQ_ROUTER);
  if (d->router && d->edge)
    sb_zsock_set_curve(d->router, sb_zap_edge_curve(d->edge));
  if (!d->router || sb_zsock_bind(d->router, endpoint)) {
    sb_log(SB_LOG_ERROR, "bind_failed", "endpoint", endpoint, "error", zmq_strerror(zmq_errno()), NULL);
    sb_zsock_destroy(&d->router);
    sb_zap_edge_destroy(&d->edge);
    free(d);
    return NULL;
  }
  d->malformed = sb_metrics_counter(s->metrics, "sb_ingest_zmq_malformed_total",
                                    "ZeroMQ publish requests that could not be decoded", NULL);
  sb_zsock_on_readable(d->router, on_readable, d);
  return d;
}

void sb_door_zmq_stop(sb_door_zmq_t *d) { sb_zsock_pause(d->router); }

void sb_door_zmq_destroy(sb_door_zmq_t **dp) {
  sb_door_zmq_t *d = *dp;
  if (!d)
    return;
  *dp = NULL;
  sb_zsock_destroy(&d->router);
  sb_zap_edge_destroy(&d->edge); /* after its socket is closed */
  d->closing = 1;
  if (d->open_requests == 0)
    free(d);
}
