/*
 * publish_and_follow: a tiny integrator of libswitchboard-client.
 *
 * Follows the feed of one tenant, logs an agent in, publishes N customer
 * messages in one batch, waits for their acknowledgements, then follows
 * the feed until each message was assigned, printing one line per step:
 *
 *   ACK <id> <result> <reason>                 one per published event
 *   ASSIGNED <id> <conversation> <agent> <seq> one per assignment seen
 *   GAP <topic> <first> <last>                 feed numbers that never came
 *
 * Build (installed library):
 *   cc publish_and_follow.c $(pkg-config --cflags --libs switchboard-client)
 * Run against `sbctl up`:
 *   ./a.out --tenant acme-air --count 5
 * Exit status: 0 when every event was acknowledged and assigned, 1 when
 * not, 2 on bad usage.
 */
#include <switchboard/client.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define ID_MAX 64
#define COUNT_MAX 1000

typedef struct {
  const char *publish, *feed, *tenant, *agent, *server_key, *client_secret;
  int count, timeout_s;
} args_t;

typedef struct {
  int count, acked, assigned, logged_in;
  char login_id[ID_MAX];
  char ids[COUNT_MAX][ID_MAX];
  char seen[COUNT_MAX];
} run_t;

static int usage(void) {
  fprintf(stderr, "usage: publish_and_follow [--publish EP] [--feed EP] [--tenant T] [--count N]\n"
                  "       [--agent NAME] [--timeout S] [--server-key Z85 --client-secret Z85]\n");
  return 2;
}

static int parse(int argc, char **argv, args_t *a) {
  *a = (args_t){"tcp://127.0.0.1:5555", "tcp://127.0.0.1:5556", "acme-air", "example-agent",
                NULL, NULL, 5, 30};
  for (int i = 1; i + 1 < argc; i += 2) {
    const char *k = argv[i], *v = argv[i + 1];
    if (!strcmp(k, "--publish")) a->publish = v;
    else if (!strcmp(k, "--feed")) a->feed = v;
    else if (!strcmp(k, "--tenant")) a->tenant = v;
    else if (!strcmp(k, "--agent")) a->agent = v;
    else if (!strcmp(k, "--server-key")) a->server_key = v;
    else if (!strcmp(k, "--client-secret")) a->client_secret = v;
    else if (!strcmp(k, "--count")) a->count = atoi(v);
    else if (!strcmp(k, "--timeout")) a->timeout_s = atoi(v);
    else return -1;
  }
  return argc % 2 == 1 && a->count > 0 && a->count <= COUNT_MAX && a->timeout_s > 0 ? 0 : -1;
}

static void on_ack(void *arg, const char *id, int result, const char *reason) {
  run_t *r = arg;
  printf("ACK %s %s %s\n", id, result == SBC_OK ? "ok" : result == SBC_DUPLICATE ? "duplicate" : "error",
         result >= 0 ? "" : (*reason ? reason : sbc_strerror(result)));
  r->acked += result >= 0;
}

static void on_event(void *arg, const sbc_feed_event_t *ev) {
  run_t *r = arg;
  if (r->login_id[0] && strcmp(ev->event.id, r->login_id) == 0)
    r->logged_in = 1;
  if (strcmp(ev->kind, "assigned") != 0)
    return;
  for (int i = 0; i < r->count; i++)
    if (!r->seen[i] && strcmp(ev->event.id, r->ids[i]) == 0) {
      r->seen[i] = 1;
      r->assigned++;
      printf("ASSIGNED %s %s %s %llu\n", ev->event.id, ev->conversation, ev->agent,
             (unsigned long long)ev->seq);
    }
}

static void on_gap(void *arg, const char *topic, uint64_t first, uint64_t last) {
  (void)arg;
  printf("GAP %s %llu %llu\n", topic, (unsigned long long)first, (unsigned long long)last);
}

static void follow(sbc_subscriber_t *s, const int *done, int want, int ms) {
  for (int waited = 0; *done < want && waited < ms; waited += 100)
    sbc_subscriber_poll(s, 100);
}

/* Logs the agent in (capacity: every message), waits until the feed shows
 * the login was routed, and publishes the batch. */
static int publish_all(sbc_publisher_t *p, sbc_subscriber_t *s, const args_t *a, run_t *r) {
  char reason[256], customer[ID_MAX];
  const char *id = r->login_id;
  snprintf(r->login_id, ID_MAX, "login-%s-%ld", a->agent, (long)time(NULL));
  sbc_event_t login = {.tenant = a->tenant, .id = id, .kind = SBC_EVENT_AGENT,
                       .agent = {.action = SBC_AGENT_LOGIN, .agent = a->agent, .capacity = a->count}};
  int rc = sbc_publish_sync(p, &login, a->timeout_s * 1000, reason, sizeof reason);
  printf("LOGIN %s %s %s\n", a->agent, sbc_strerror(rc), reason);
  if (rc < 0)
    return rc;
  follow(s, &r->logged_in, 1, a->timeout_s * 1000);
  for (int i = 0; i < a->count; i++) {
    snprintf(r->ids[i], ID_MAX, "example-%ld-%d-%d", (long)time(NULL), (int)getpid(), i);
    snprintf(customer, sizeof customer, "@example-%d-%d", (int)getpid(), i);
    sbc_event_t ev = {.tenant = a->tenant, .id = r->ids[i], .kind = SBC_EVENT_INTERACTION,
                      .interaction = {.channel = SBC_CHANNEL_X, .customer = customer,
                                      .text = "Where is my refund? Order still not here"}};
    if ((rc = sbc_publish(p, &ev, on_ack, r)) != 0)
      return rc;
  }
  sbc_publisher_flush(p); /* one flush: requests of up to 100 events */
  return sbc_publisher_drain(p, a->timeout_s * 1000);
}

int main(int argc, char **argv) {
  args_t a;
  if (parse(argc, argv, &a) != 0)
    return usage();
  setvbuf(stdout, NULL, _IOLBF, 0);
  run_t *r = calloc(1, sizeof *r);
  if (!r)
    return 1;
  r->count = a.count;
  sbc_options_t po = {.endpoint = a.publish, .server_public = a.server_key,
                      .client_secret = a.client_secret};
  sbc_options_t so = po;
  so.endpoint = a.feed;
  sbc_publisher_t *p = NULL;
  sbc_subscriber_t *s = NULL;
  int rc = sbc_subscriber_open(&s, &so, on_event, on_gap, r);
  char prefix[128];
  snprintf(prefix, sizeof prefix, "%s.", a.tenant);
  if (!rc)
    rc = sbc_subscriber_subscribe(s, prefix);
  if (!rc)
    rc = sbc_publisher_open(&p, &po);
  if (!rc) {
    follow(s, &r->logged_in, 1, 300); /* lets the subscription reach the feed first */
    rc = publish_all(p, s, &a, r);
  }
  if (!rc)
    follow(s, &r->assigned, r->count, a.timeout_s * 1000);
  printf("DONE acked=%d assigned=%d of %d%s%s\n", r->acked, r->assigned, a.count, rc ? " error: " : "",
         rc ? sbc_strerror(rc) : "");
  int ok = !rc && r->acked == a.count && r->assigned == a.count;
  sbc_publisher_close(&p);
  sbc_subscriber_close(&s);
  free(r);
  return ok ? 0 : 1;
}
