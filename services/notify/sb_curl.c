/*
 * sb_curl: see sb_curl.h.
 *
 * curl tells us which sockets to watch (on_socket) and when to call it back
 * with no socket (on_timer); we answer with curl_multi_socket_action from
 * the uv_poll / uv_timer callbacks, then collect finished transfers. Done
 * requests are first moved off curl's list, then called back, so a callback
 * that starts a new request never runs inside a curl call. Poll handles
 * and the timer are embedded in objects freed in their close callbacks; the
 * sb_curl_t itself goes when the last one closed (practice 6).
 */
#include "sb_curl.h"
#include "sb_error.h"
#include "sb_time.h"

#include <curl/curl.h>
#include <stdlib.h>
#include <string.h>

#define SB_CURL_CONNECT_TIMEOUT_MAX_MS 10000
#define SB_CURL_USER_AGENT "switchboard-notify/1"

typedef struct req {
  struct req *prev, *next;
  CURL *easy;
  struct curl_slist *headers;
  char *body;
  sb_curl_done_fn cb;
  void *arg;
  int64_t started_us;
  CURLcode result;
  long status;
  char errbuf[CURL_ERROR_SIZE];
  char *resp; /* response body, up to SB_CURL_RESPONSE_MAX */
  size_t resp_len;
} req_t;

typedef struct sock {
  uv_poll_t poll;
  sb_curl_t *c;
  curl_socket_t fd;
  struct sock *prev, *next; /* open sockets, to close any curl leaves behind */
} sock_t;

struct sb_curl {
  uv_loop_t *loop;
  CURLM *multi;
  uv_timer_t timer;
  req_t *reqs; /* pending, doubly linked */
  sock_t *socks;
  size_t pending;
  size_t open_handles; /* timer + poll handles not yet closed */
  int destroyed;
};

static void maybe_free(sb_curl_t *c) {
  if (c->destroyed && c->open_handles == 0) {
    free(c);
    curl_global_cleanup();
  }
}

static void on_timer_closed(uv_handle_t *h) {
  sb_curl_t *c = h->data;
  c->open_handles--;
  maybe_free(c);
}

static void on_sock_closed(uv_handle_t *h) {
  sock_t *k = h->data;
  sb_curl_t *c = k->c;
  free(k);
  c->open_handles--;
  maybe_free(c);
}

/* Stops watching a socket; its memory goes in the close callback. */
static void sock_close(sb_curl_t *c, sock_t *k) {
  if (k->prev)
    k->prev->next = k->next;
  else
    c->socks = k->next;
  if (k->next)
    k->next->prev = k->prev;
  uv_poll_stop(&k->poll);
  uv_close((uv_handle_t *)&k->poll, on_sock_closed);
}

static void unlink_req(sb_curl_t *c, req_t *r) {
  if (r->prev)
    r->prev->next = r->next;
  else
    c->reqs = r->next;
  if (r->next)
    r->next->prev = r->prev;
  r->prev = r->next = NULL;
  c->pending--;
}

static void req_free(req_t *r) {
  if (r->easy)
    curl_easy_cleanup(r->easy);
  curl_slist_free_all(r->headers);
  free(r->body);
  free(r->resp);
  free(r);
}

const char *sb_curl_result_header(const sb_curl_result_t *r, const char *name) {
  struct curl_header *h = NULL;
  if (r->err || !r->handle)
    return NULL;
  /* amount -1: the last request of the transfer (no redirects here) */
  if (curl_easy_header(r->handle, name, 0, CURLH_HEADER, -1, &h) != CURLHE_OK || !h)
    return NULL;
  return h->value;
}

static void req_finish(req_t *r, int err) {
  sb_curl_result_t res = {.err = err, .status = err ? 0 : r->status, .what = "",
                          .elapsed_us = sb_now_us() - r->started_us,
                          .body = r->resp ? r->resp : "", .body_len = r->resp_len,
                          .handle = err ? NULL : r->easy};
  if (err && err != SB_ECLOSED)
    res.what = r->errbuf[0] ? r->errbuf : curl_easy_strerror(r->result);
  r->cb(&res, r->arg);
  req_free(r);
}

/* Takes every finished transfer off curl, then calls each back. */
static void collect_done(sb_curl_t *c) {
  req_t *done = NULL;
  CURLMsg *m;
  int left;
  while ((m = curl_multi_info_read(c->multi, &left))) {
    if (m->msg != CURLMSG_DONE)
      continue;
    req_t *r = NULL;
    curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, (char **)&r);
    r->result = m->data.result;
    curl_easy_getinfo(r->easy, CURLINFO_RESPONSE_CODE, &r->status);
    curl_multi_remove_handle(c->multi, r->easy);
    unlink_req(c, r);
    r->next = done;
    done = r;
  }
  while (done) {
    req_t *r = done;
    done = r->next;
    int err = 0;
    if (r->result == CURLE_OPERATION_TIMEDOUT)
      err = SB_ETIMEOUT;
    else if (r->result != CURLE_OK)
      err = SB_EIO;
    req_finish(r, err);
  }
}

static void on_poll(uv_poll_t *p, int status, int events) {
  sock_t *k = p->data;
  sb_curl_t *c = k->c;
  int flags = 0, running = 0;
  if (status < 0)
    flags = CURL_CSELECT_ERR;
  if (events & UV_READABLE)
    flags |= CURL_CSELECT_IN;
  if (events & UV_WRITABLE)
    flags |= CURL_CSELECT_OUT;
  curl_multi_socket_action(c->multi, k->fd, flags, &running);
  collect_done(c);
}

static void on_timeout(uv_timer_t *t) {
  sb_curl_t *c = t->data;
  int running = 0;
  curl_multi_socket_action(c->multi, CURL_SOCKET_TIMEOUT, 0, &running);
  collect_done(c);
}

static int on_socket(CURL *e, curl_socket_t s, int what, void *userp, void *socketp) {
  sb_curl_t *c = userp;
  sock_t *k = socketp;
  (void)e;
  if (what == CURL_POLL_REMOVE) {
    if (k) {
      if (!c->destroyed)
        curl_multi_assign(c->multi, s, NULL);
      sock_close(c, k);
    }
    return 0;
  }
  if (!k && c->destroyed)
    return 0;
  if (!k) {
    k = calloc(1, sizeof *k);
    if (!k || uv_poll_init_socket(c->loop, &k->poll, s) != 0) {
      free(k);
      return -1;
    }
    k->c = c;
    k->fd = s;
    k->poll.data = k;
    k->next = c->socks;
    if (c->socks)
      c->socks->prev = k;
    c->socks = k;
    c->open_handles++;
    curl_multi_assign(c->multi, s, k);
  }
  int ev = 0;
  if (what & CURL_POLL_IN)
    ev |= UV_READABLE;
  if (what & CURL_POLL_OUT)
    ev |= UV_WRITABLE;
  uv_poll_start(&k->poll, ev, on_poll);
  return 0;
}

static int on_timer(CURLM *m, long timeout_ms, void *userp) {
  sb_curl_t *c = userp;
  (void)m;
  if (c->destroyed)
    return 0;
  if (timeout_ms < 0)
    uv_timer_stop(&c->timer);
  else
    uv_timer_start(&c->timer, on_timeout, (uint64_t)timeout_ms, 0);
  return 0;
}

sb_curl_t *sb_curl_new(uv_loop_t *loop) {
  if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
    return NULL;
  sb_curl_t *c = calloc(1, sizeof *c);
  if (!c || !(c->multi = curl_multi_init())) {
    free(c);
    curl_global_cleanup();
    return NULL;
  }
  c->loop = loop;
  uv_timer_init(loop, &c->timer);
  c->timer.data = c;
  c->open_handles = 1;
  curl_multi_setopt(c->multi, CURLMOPT_SOCKETFUNCTION, on_socket);
  curl_multi_setopt(c->multi, CURLMOPT_SOCKETDATA, c);
  curl_multi_setopt(c->multi, CURLMOPT_TIMERFUNCTION, on_timer);
  curl_multi_setopt(c->multi, CURLMOPT_TIMERDATA, c);
  return c;
}

void sb_curl_destroy(sb_curl_t **cp) {
  sb_curl_t *c = *cp;
  if (!c)
    return;
  *cp = NULL;
  c->destroyed = 1; /* callbacks below cannot start new requests */
  while (c->reqs) {
    req_t *r = c->reqs;
    curl_multi_remove_handle(c->multi, r->easy);
    unlink_req(c, r);
    req_finish(r, SB_ECLOSED);
  }
  curl_multi_cleanup(c->multi); /* may still report sockets to remove */
  while (c->socks)
    sock_close(c, c->socks);
  uv_close((uv_handle_t *)&c->timer, on_timer_closed);
}

static int set_options(req_t *r, const char *url, int64_t timeout_ms, size_t len) {
  CURL *e = r->easy;
  int64_t connect_ms = timeout_ms < SB_CURL_CONNECT_TIMEOUT_MAX_MS ? timeout_ms
                                                                   : SB_CURL_CONNECT_TIMEOUT_MAX_MS;
  CURLcode rc = curl_easy_setopt(e, CURLOPT_URL, url);
  if (rc == CURLE_OK)
    rc = curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(e, CURLOPT_PRIVATE, r);
  curl_easy_setopt(e, CURLOPT_ERRORBUFFER, r->errbuf);
  curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(e, CURLOPT_POST, 1L);
  curl_easy_setopt(e, CURLOPT_POSTFIELDS, r->body);
  curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
  curl_easy_setopt(e, CURLOPT_HTTPHEADER, r->headers);
  curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, (long)timeout_ms);
  curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, (long)connect_ms);
  curl_easy_setopt(e, CURLOPT_USERAGENT, SB_CURL_USER_AGENT);
  curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L);
  return rc == CURLE_OK ? 0 : SB_EINVAL;
}

/* Keeps the first SB_CURL_RESPONSE_MAX bytes of the response body. */
static size_t keep(char *p, size_t size, size_t n, void *arg) {
  req_t *r = arg;
  size_t len = size * n, room = SB_CURL_RESPONSE_MAX - r->resp_len;
  if (!r->resp && !(r->resp = malloc(SB_CURL_RESPONSE_MAX + 1)))
    return len; /* dropped: the status still counts */
  size_t take = len < room ? len : room;
  memcpy(r->resp + r->resp_len, p, take);
  r->resp_len += take;
  r->resp[r->resp_len] = '\0';
  return len;
}

static int start(sb_curl_t *c, const char *url, const char *const *headers, const char *body,
                 size_t len, int64_t timeout_ms, sb_curl_done_fn cb, void *arg) {
  if (!c || c->destroyed)
    return SB_ECLOSED;
  req_t *r = calloc(1, sizeof *r);
  if (!r || !(r->easy = curl_easy_init()) || !(r->body = malloc(len + 1))) {
    if (r)
      req_free(r);
    return SB_ENOMEM;
  }
  if (len)
    memcpy(r->body, body, len);
  r->body[len] = '\0';
  for (size_t i = 0; headers && headers[i]; i++) {
    struct curl_slist *l = curl_slist_append(r->headers, headers[i]);
    if (!l) {
      req_free(r);
      return SB_ENOMEM;
    }
    r->headers = l;
  }
  curl_easy_setopt(r->easy, CURLOPT_WRITEFUNCTION, keep);
  curl_easy_setopt(r->easy, CURLOPT_WRITEDATA, r);
  if (set_options(r, url, timeout_ms, len) || (!body && curl_easy_setopt(r->easy, CURLOPT_HTTPGET, 1L)) ||
      curl_multi_add_handle(c->multi, r->easy) != CURLM_OK) {
    req_free(r);
    return SB_EINVAL;
  }
  r->cb = cb;
  r->arg = arg;
  r->started_us = sb_now_us();
  r->next = c->reqs;
  if (c->reqs)
    c->reqs->prev = r;
  c->reqs = r;
  c->pending++;
  return 0;
}

int sb_curl_post(sb_curl_t *c, const char *url, const char *const *headers, const char *body,
                 size_t len, int64_t timeout_ms, sb_curl_done_fn cb, void *arg) {
  return body ? start(c, url, headers, body, len, timeout_ms, cb, arg) : SB_EINVAL;
}

int sb_curl_get(sb_curl_t *c, const char *url, const char *const *headers, int64_t timeout_ms,
                sb_curl_done_fn cb, void *arg) {
  return start(c, url, headers, NULL, 0, timeout_ms, cb, arg);
}

size_t sb_curl_pending(const sb_curl_t *c) { return c ? c->pending : 0; }
