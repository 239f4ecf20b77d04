/*
 * test_redis: the async client against a real redis-server (sb_redisd) on a
 * private port: round trips, pipelining, scripts and NOSCRIPT recovery,
 * deadlines, reconnection, and the callback contract under destroy.
 *
 * Callbacks never assert (a longjmp out of uv_run would leave the loop in a
 * bad state); they record what they saw and the test asserts afterwards.
 */
#define _GNU_SOURCE
#include "sb_error.h"
#include "sb_redis.h"
#include "sb_redisd.h"
#include "sb_testutil.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#define WAIT_MS 5000       /* bound on any wait for the loop */
#define PIPELINE_N 10000   /* INCRs issued in one loop turn */
#define ONE_WRITE_N 200    /* commands that must leave in one write(2) */
#define DESTROY_N 100      /* commands pending at destroy */
#define SHORT_DEADLINE 200 /* ms, for the timeout test */

/* ---------------------------------------------------------- write counter */

/* Counts write(2) calls that carry INCR commands: hiredis calls write()
 * through the PLT, so this definition in the executable interposes it. */
static int incr_writes;

ssize_t write(int fd, const void *buf, size_t n) {
  static const char incr[] = "*2\r\n$4\r\nINCR\r\n";
  if (n >= sizeof incr - 1 && memcmp(buf, incr, sizeof incr - 1) == 0)
    incr_writes++;
  return syscall(SYS_write, fd, buf, n);
}

/* --------------------------------------------------------------- fixture */

typedef struct {
  uv_loop_t loop;
  sb_redisd_t *d;
  sb_redis_t *r;
  int transitions[16]; /* state callback history */
  int ntransitions;
} fx_t;

typedef struct {
  int calls;
  int err;
  int type;
  long long integer;
  char str[256];
  size_t elements;
} rec_t;

static void rec_cb(const redisReply *reply, int err, void *arg) {
  rec_t *x = arg;
  x->calls++;
  x->err = err;
  x->type = reply ? reply->type : -1;
  x->str[0] = '\0';
  if (reply && reply->str)
    snprintf(x->str, sizeof x->str, "%s", reply->str);
  x->integer = reply ? reply->integer : 0;
  x->elements = reply ? reply->elements : 0;
}

static void on_state(int connected, void *arg) {
  fx_t *f = arg;
  if (f->ntransitions < 16)
    f->transitions[f->ntransitions++] = connected;
}

static int pred_connected(void *arg) { return sb_redis_is_connected(((fx_t *)arg)->r); }
static int pred_disconnected(void *arg) { return !sb_redis_is_connected(((fx_t *)arg)->r); }
static int pred_called(void *arg) { return ((rec_t *)arg)->calls > 0; }
static int pred_never(void *arg) { return 0; }

static void on_guard(uv_timer_t *t) { *(int *)t->data = 1; }

/* Runs the loop until pred(arg) or ms elapse; returns pred(arg). */
static int run_until(uv_loop_t *loop, int (*pred)(void *), void *arg, uint64_t ms) {
  uv_timer_t guard;
  int expired = 0;
  uv_timer_init(loop, &guard);
  guard.data = &expired;
  uv_timer_start(&guard, on_guard, ms, 0);
  while (!pred(arg) && !expired)
    uv_run(loop, UV_RUN_ONCE);
  uv_close((uv_handle_t *)&guard, NULL);
  uv_run(loop, UV_RUN_NOWAIT);
  return pred(arg);
}

static int send_cmd(sb_redis_t *r, rec_t *x, int argc, const char **argv) {
  return sb_redis_command_argv(r, argc, argv, NULL, rec_cb, x);
}

/* Sends argv and waits for the reply. */
static rec_t call(fx_t *f, int argc, const char **argv) {
  rec_t x = {0};
  assert_int_equal(send_cmd(f->r, &x, argc, argv), 0);
  assert_true(run_until(&f->loop, pred_called, &x, WAIT_MS));
  assert_int_equal(x.calls, 1);
  return x;
}

static void start_client(fx_t *f, const sb_redis_opts_t *o) {
  f->r = sb_redis_new(&f->loop, sb_redisd_url(f->d), o);
  assert_non_null(f->r);
  sb_redis_on_state(f->r, on_state, f);
}

static int fx_setup_opts(void **state, const sb_redisd_opts_t *dopts) {
  fx_t *f = calloc(1, sizeof *f);
  assert_non_null(f);
  assert_int_equal(uv_loop_init(&f->loop), 0);
  f->d = sb_redisd_start(dopts);
  assert_non_null(f->d);
  *state = f;
  return 0;
}

static int fx_setup(void **state) {
  sb_redisd_opts_t o = {.extra_args = "--enable-debug-command local"};
  return fx_setup_opts(state, &o);
}

static int fx_setup_password(void **state) {
  sb_redisd_opts_t o = {.extra_args = "--requirepass s3cret"};
  return fx_setup_opts(state, &o);
}

/* Destroys the client, lets the loop close every handle, and checks none
 * is left (uv_loop_close fails with UV_EBUSY otherwise). */
static int fx_teardown(void **state) {
  fx_t *f = *state;
  sb_redis_destroy(&f->r);
  uv_run(&f->loop, UV_RUN_DEFAULT);
  assert_int_equal(uv_loop_close(&f->loop), 0);
  sb_redisd_stop(&f->d);
  free(f);
  return 0;
}

static void connect_default(fx_t *f) {
  start_client(f, NULL);
  assert_true(run_until(&f->loop, pred_connected, f, WAIT_MS));
}

/* ----------------------------------------------------------------- tests */

static void test_command_round_trip(void **state) {
  fx_t *f = *state;
  connect_default(f);
  assert_int_equal(f->ntransitions, 1);
  assert_int_equal(f->transitions[0], 1);
  const char *set[] = {"SET", "greeting", "hello"};
  rec_t x = call(f, 3, set);
  assert_int_equal(x.err, 0);
  assert_int_equal(x.type, REDIS_REPLY_STATUS);
  assert_string_equal(x.str, "OK");
  const char *get[] = {"GET", "greeting"};
  x = call(f, 2, get);
  assert_int_equal(x.type, REDIS_REPLY_STRING);
  assert_string_equal(x.str, "hello");
  /* binary-safe arguments through argvlen */
  const char *bin[] = {"SET", "bin", "a\0b"};
  const size_t lens[] = {3, 3, 3};
  rec_t y = {0};
  assert_int_equal(sb_redis_command_argv(f->r, 3, bin, lens, rec_cb, &y), 0);
  const char *strlen_[] = {"STRLEN", "bin"};
  x = call(f, 2, strlen_);
  assert_int_equal(x.integer, 3);
  assert_int_equal(y.calls, 1);
  sb_redis_stats_t s;
  sb_redis_stats(f->r, &s);
  assert_int_equal(s.commands, 4);
  assert_int_equal(s.errors, 0);
  assert_int_equal(sb_redis_inflight(f->r), 0);
}

typedef struct {
  int calls, out_of_order, errors;
} order_t;

static void order_cb(const redisReply *reply, int err, void *arg) {
  order_t *o = arg;
  o->calls++;
  if (err || !reply || reply->type != REDIS_REPLY_INTEGER)
    o->errors++;
  else if (reply->integer != o->calls)
    o->out_of_order++;
}

static int pred_order_done(void *arg) { return ((order_t *)arg)->calls == PIPELINE_N; }

static void test_10000_pipelined_incrs_answered_in_order(void **state) {
  fx_t *f = *state;
  connect_default(f);
  order_t o = {0};
  const char *incr[] = {"INCR", "counter"};
  for (int i = 0; i < PIPELINE_N; i++)
    assert_int_equal(sb_redis_command_argv(f->r, 2, incr, NULL, order_cb, &o), 0);
  assert_int_equal(sb_redis_inflight(f->r), PIPELINE_N);
  assert_true(run_until(&f->loop, pred_order_done, &o, WAIT_MS));
  assert_int_equal(o.errors, 0);
  assert_int_equal(o.out_of_order, 0);
  assert_int_equal(sb_redis_inflight(f->r), 0);
  const char *get[] = {"GET", "counter"};
  rec_t x = call(f, 2, get);
  assert_string_equal(x.str, "10000");
}

static int pred_n_called(void *arg) { return ((order_t *)arg)->calls == ONE_WRITE_N; }

static void test_commands_of_one_loop_turn_leave_in_one_write(void **state) {
  fx_t *f = *state;
  connect_default(f);
  order_t o = {0};
  const char *incr[] = {"INCR", "w"};
  incr_writes = 0;
  for (int i = 0; i < ONE_WRITE_N; i++)
    assert_int_equal(sb_redis_command_argv(f->r, 2, incr, NULL, order_cb, &o), 0);
  assert_int_equal(incr_writes, 0); /* buffered, not written yet */
  assert_true(run_until(&f->loop, pred_n_called, &o, WAIT_MS));
  assert_int_equal(incr_writes, 1);
  assert_int_equal(o.out_of_order, 0);
}

static const char echo_src[] = "return {KEYS[1], ARGV[1], #KEYS, #ARGV}";
static const char one_src[] = "return 1";

static void test_script_add_and_evalsha(void **state) {
  fx_t *f = *state;
  start_client(f, NULL);
  int echo = sb_redis_script_add(f->r, "echo", echo_src); /* before connect */
  assert_int_equal(echo, 0);
  assert_int_equal(sb_redis_script_add(f->r, "echo", echo_src), echo);
  assert_int_equal(sb_redis_script_add(f->r, "echo", one_src), SB_EEXISTS);
  assert_int_equal(strlen(sb_redis_script_sha(f->r, echo)), 40);
  assert_null(sb_redis_script_sha(f->r, 7));
  assert_true(run_until(&f->loop, pred_connected, f, WAIT_MS));

  /* loaded by the handshake, before "connected" */
  const char *exists[] = {"SCRIPT", "EXISTS", sb_redis_script_sha(f->r, echo)};
  rec_t x = call(f, 3, exists);
  assert_int_equal(x.elements, 1);

  const char *args[] = {"k1", "k2", "a1"};
  x = (rec_t){0};
  assert_int_equal(sb_redis_evalsha(f->r, echo, 2, 3, args, NULL, rec_cb, &x), 0);
  assert_true(run_until(&f->loop, pred_called, &x, WAIT_MS));
  assert_int_equal(x.err, 0);
  assert_int_equal(x.type, REDIS_REPLY_ARRAY);
  assert_int_equal(x.elements, 4);

  /* added after connecting: loaded at once, ahead of what follows */
  int one = sb_redis_script_add(f->r, "one", one_src);
  assert_int_equal(one, 1);
  const char *exists1[] = {"SCRIPT", "EXISTS", sb_redis_script_sha(f->r, one)};
  rec_t e = {0};
  assert_int_equal(send_cmd(f->r, &e, 3, exists1), 0);
  assert_true(run_until(&f->loop, pred_called, &e, WAIT_MS));
  assert_int_equal(e.err, 0);
  x = (rec_t){0};
  assert_int_equal(sb_redis_evalsha(f->r, one, 0, 0, NULL, NULL, rec_cb, &x), 0);
  assert_true(run_until(&f->loop, pred_called, &x, WAIT_MS));
  assert_int_equal(x.integer, 1);

  assert_int_equal(sb_redis_evalsha(f->r, 9, 0, 0, NULL, NULL, rec_cb, &x), SB_EINVAL);
  assert_int_equal(sb_redis_evalsha(f->r, one, 2, 1, args, NULL, rec_cb, &x), SB_EINVAL);
}

static void test_noscript_recovered_after_script_flush(void **state) {
  fx_t *f = *state;
  start_client(f, NULL);
  int one = sb_redis_script_add(f->r, "one", one_src);
  assert_true(run_until(&f->loop, pred_connected, f, WAIT_MS));
  const char *flush[] = {"SCRIPT", "FLUSH"};
  rec_t x = call(f, 2, flush);
  assert_int_equal(x.err, 0);
  x = (rec_t){0};
  assert_int_equal(sb_redis_evalsha(f->r, one, 0, 0, NULL, NULL, rec_cb, &x), 0);
  assert_true(run_until(&f->loop, pred_called, &x, WAIT_MS));
  assert_int_equal(x.calls, 1);
  assert_int_equal(x.err, 0);
  assert_int_equal(x.integer, 1);
  const char *exists[] = {"SCRIPT", "EXISTS", sb_redis_script_sha(f->r, one)};
  x = call(f, 3, exists);
  assert_int_equal(x.elements, 1);
  sb_redis_stats_t s;
  sb_redis_stats(f->r, &s);
  assert_int_equal(s.errors, 0);
}

static void test_error_replies_are_sb_eredis_with_the_reply(void **state) {
  fx_t *f = *state;
  start_client(f, NULL);
  int boom = sb_redis_script_add(f->r, "boom", "return redis.error_reply('MYERR boom')");
  assert_true(run_until(&f->loop, pred_connected, f, WAIT_MS));
  rec_t x = {0};
  assert_int_equal(sb_redis_evalsha(f->r, boom, 0, 0, NULL, NULL, rec_cb, &x), 0);
  assert_true(run_until(&f->loop, pred_called, &x, WAIT_MS));
  assert_int_equal(x.err, SB_EREDIS);
  assert_int_equal(x.type, REDIS_REPLY_ERROR);
  assert_string_equal(x.str, "MYERR boom");
  const char *bad[] = {"NOSUCHCOMMAND"};
  x = call(f, 1, bad);
  assert_int_equal(x.err, SB_EREDIS);
  assert_true(sb_redis_is_connected(f->r)); /* an error reply is no failure */
  sb_redis_stats_t s;
  sb_redis_stats(f->r, &s);
  assert_int_equal(s.errors, 2);
}

static void test_ordering_breakers_are_refused(void **state) {
  fx_t *f = *state;
  connect_default(f);
  rec_t x = {0};
  const char *sub[] = {"subscribe", "ch"};
  const char *mon[] = {"MONITOR"};
  const char *reply_off[] = {"CLIENT", "REPLY", "OFF"};
  const char *null_arg[] = {"GET", NULL};
  assert_int_equal(send_cmd(f->r, &x, 2, sub), SB_EINVAL);
  assert_int_equal(send_cmd(f->r, &x, 1, mon), SB_EINVAL);
  assert_int_equal(send_cmd(f->r, &x, 3, reply_off), SB_EINVAL);
  assert_int_equal(send_cmd(f->r, &x, 2, null_arg), SB_EINVAL);
  assert_int_equal(send_cmd(f->r, &x, 0, sub), SB_EINVAL);
  assert_int_equal(sb_redis_command_argv(f->r, 2, sub, NULL, NULL, NULL), SB_EINVAL);
  run_until(&f->loop, pred_never, NULL, 50);
  assert_int_equal(x.calls, 0);
}

static void test_timeout_fails_inflight_then_reconnects(void **state) {
  fx_t *f = *state;
  sb_redis_opts_t o = {.command_timeout_ms = SHORT_DEADLINE};
  start_client(f, &o);
  assert_true(run_until(&f->loop, pred_connected, f, WAIT_MS));
  const char *sleep1[] = {"DEBUG", "SLEEP", "1"};
  const char *ping[] = {"PING"};
  rec_t slow = {0}, after = {0};
  assert_int_equal(send_cmd(f->r, &slow, 3, sleep1), 0);
  assert_int_equal(send_cmd(f->r, &after, 1, ping), 0);
  uint64_t t0 = uv_hrtime();
  assert_true(run_until(&f->loop, pred_called, &after, WAIT_MS));
  uint64_t waited_ms = (uv_hrtime() - t0) / 1000000u;
  assert_int_equal(slow.calls, 1);
  assert_int_equal(slow.err, SB_ETIMEOUT);
  assert_int_equal(after.calls, 1);
  assert_int_equal(after.err, SB_ETIMEOUT);
  assert_true(waited_ms >= SHORT_DEADLINE - 20 && waited_ms < 900);
  assert_false(sb_redis_is_connected(f->r));
  rec_t x = {0};
  assert_int_equal(send_cmd(f->r, &x, 1, ping), SB_EAGAIN);

  /* back once the server wakes up (the handshake PING may time out too) */
  assert_true(run_until(&f->loop, pred_connected, f, WAIT_MS));
  x = call(f, 1, ping);
  assert_int_equal(x.err, 0);
  assert_string_equal(x.str, "PONG");
  assert_int_equal(f->ntransitions >= 3, 1);
  assert_int_equal(f->transitions[0], 1);
  assert_int_equal(f->transitions[1], 0);
  assert_int_equal(f->transitions[f->ntransitions - 1], 1);
  sb_redis_stats_t s;
  sb_redis_stats(f->r, &s);
  assert_int_equal(s.timeouts, 2);
  assert_true(s.reconnects >= 1);
  assert_int_equal(x.calls, 1);
  assert_int_equal(slow.calls, 1); /* still exactly once */
}

static void test_reconnects_after_kill_and_restart(void **state) {
  fx_t *f = *state;
  connect_default(f);
  const char *get[] = {"GET", "k"};
  rec_t inflight = {0};
  assert_int_equal(send_cmd(f->r, &inflight, 2, get), 0);
  assert_int_equal(sb_redisd_kill(f->d, SIGKILL), 0);
  assert_true(run_until(&f->loop, pred_disconnected, f, WAIT_MS));
  assert_int_equal(inflight.calls, 1);
  assert_int_equal(inflight.err, SB_ECLOSED);
  assert_int_equal(f->ntransitions, 2);
  assert_int_equal(f->transitions[1], 0);

  rec_t x = {0};
  assert_int_equal(send_cmd(f->r, &x, 2, get), SB_EAGAIN);
  run_until(&f->loop, pred_never, NULL, 300); /* a few failed attempts */
  assert_false(sb_redis_is_connected(f->r));
  assert_int_equal(sb_redisd_restart(f->d), 0);
  assert_true(run_until(&f->loop, pred_connected, f, WAIT_MS));
  assert_int_equal(f->ntransitions, 3);
  assert_int_equal(f->transitions[2], 1);
  x = call(f, 2, get);
  assert_int_equal(x.err, 0);
  assert_int_equal(x.type, REDIS_REPLY_NIL);
  sb_redis_stats_t s;
  sb_redis_stats(f->r, &s);
  assert_true(s.reconnects >= 2);
  assert_int_equal(s.errors, 1);
  assert_int_equal(x.calls, 1);
  assert_int_equal(inflight.calls, 1);
}

/* A frozen server (SIGSTOP) accepts TCP connections but never answers: the
 * in-flight command times out, every handshake times out, and the client
 * connects again once the server is thawed. */
static void test_frozen_server_times_out_then_recovers(void **state) {
  fx_t *f = *state;
  sb_redis_opts_t o = {.command_timeout_ms = SHORT_DEADLINE, .connect_timeout_ms = 300};
  start_client(f, &o);
  assert_true(run_until(&f->loop, pred_connected, f, WAIT_MS));
  assert_int_equal(sb_redisd_kill(f->d, SIGSTOP), 0);
  const char *ping[] = {"PING"};
  rec_t x = {0};
  assert_int_equal(send_cmd(f->r, &x, 1, ping), 0);
  assert_true(run_until(&f->loop, pred_called, &x, WAIT_MS));
  assert_int_equal(x.err, SB_ETIMEOUT);
  run_until(&f->loop, pred_never, NULL, 1000); /* handshakes time out */
  assert_false(sb_redis_is_connected(f->r));
  sb_redis_stats_t s;
  sb_redis_stats(f->r, &s);
  assert_true(s.reconnects >= 1);
  assert_int_equal(sb_redisd_kill(f->d, SIGCONT), 0);
  assert_true(run_until(&f->loop, pred_connected, f, WAIT_MS));
  x = call(f, 1, ping);
  assert_int_equal(x.err, 0);
}

static void test_commands_while_disconnected_get_eagain(void **state) {
  fx_t *f = *state;
  start_client(f, NULL);
  rec_t x = {0};
  const char *ping[] = {"PING"};
  assert_int_equal(send_cmd(f->r, &x, 1, ping), SB_EAGAIN); /* still connecting */
  assert_int_equal(sb_redis_evalsha(f->r, 0, 0, 0, NULL, NULL, rec_cb, &x), SB_EINVAL);
  sb_redis_destroy(&f->r);
  uv_run(&f->loop, UV_RUN_NOWAIT);

  /* nothing listens there: the client keeps trying, with back-off */
  char url[64];
  snprintf(url, sizeof url, "redis://127.0.0.1:%d", sb_test_free_port());
  f->r = sb_redis_new(&f->loop, url, NULL);
  assert_non_null(f->r);
  run_until(&f->loop, pred_never, NULL, 1000);
  assert_false(sb_redis_is_connected(f->r));
  assert_int_equal(send_cmd(f->r, &x, 1, ping), SB_EAGAIN);
  assert_int_equal(x.calls, 0);
  sb_redis_stats_t s;
  sb_redis_stats(f->r, &s);
  /* 100 ms doubling with jitter: 2..6 retries in a second, never a hot loop */
  assert_true(s.reconnects >= 2 && s.reconnects <= 8);
  assert_int_equal(s.commands, 0);
}

static void test_destroy_calls_each_pending_callback_once(void **state) {
  fx_t *f = *state;
  connect_default(f);
  rec_t recs[DESTROY_N];
  memset(recs, 0, sizeof recs);
  const char *sleep_[] = {"DEBUG", "SLEEP", "0.2"};
  const char *get[] = {"GET", "k"};
  assert_int_equal(send_cmd(f->r, &recs[0], 3, sleep_), 0);
  for (int i = 1; i < DESTROY_N / 2; i++)
    assert_int_equal(send_cmd(f->r, &recs[i], 2, get), 0);
  run_until(&f->loop, pred_never, NULL, 50); /* now in flight on the wire */
  for (int i = DESTROY_N / 2; i < DESTROY_N; i++) /* and some only buffered */
    assert_int_equal(send_cmd(f->r, &recs[i], 2, get), 0);
  assert_int_equal(sb_redis_inflight(f->r), DESTROY_N);
  sb_redis_destroy(&f->r);
  assert_null(f->r);
  for (int i = 0; i < DESTROY_N; i++) { /* before destroy returned */
    assert_int_equal(recs[i].calls, 1);
    assert_int_equal(recs[i].err, SB_ECLOSED);
  }
  uv_run(&f->loop, UV_RUN_DEFAULT);
  for (int i = 0; i < DESTROY_N; i++)
    assert_int_equal(recs[i].calls, 1);
}

typedef struct {
  fx_t *f;
  int calls[10];
  int errs[10];
  int reissue_rc;
} reentry_t;

static reentry_t *g_reentry;

static void destroying_cb(const redisReply *reply, int err, void *arg) {
  int i = (int)(intptr_t)arg;
  reentry_t *e = g_reentry;
  e->calls[i]++;
  e->errs[i] = err;
  if (i == 0) {
    sb_redis_t *self = e->f->r;
    sb_redis_destroy(&e->f->r); /* from inside our own reply callback */
    const char *ping[] = {"PING"};
    e->reissue_rc = sb_redis_command_argv(self, 1, ping, NULL, rec_cb, NULL);
  }
}

static void test_destroy_from_inside_a_reply_callback(void **state) {
  fx_t *f = *state;
  connect_default(f);
  reentry_t e = {.f = f};
  g_reentry = &e;
  const char *ping[] = {"PING"};
  for (int i = 0; i < 10; i++)
    assert_int_equal(sb_redis_command_argv(f->r, 1, ping, NULL, destroying_cb, (void *)(intptr_t)i),
                     0);
  assert_true(run_until(&f->loop, pred_never, NULL, 300) == 0);
  assert_null(f->r);
  assert_int_equal(e.calls[0], 1);
  assert_int_equal(e.errs[0], 0);
  assert_int_equal(e.reissue_rc, SB_ECLOSED);
  for (int i = 1; i < 10; i++) {
    assert_int_equal(e.calls[i], 1);
    assert_int_equal(e.errs[i], SB_ECLOSED);
  }
  g_reentry = NULL;
}

static void destroy_on_connect(int connected, void *arg) {
  fx_t *f = arg;
  on_state(connected, f);
  if (connected)
    sb_redis_destroy(&f->r);
}

static int pred_destroyed(void *arg) { return ((fx_t *)arg)->r == NULL; }

static void test_destroy_from_inside_the_state_callback(void **state) {
  fx_t *f = *state;
  start_client(f, NULL);
  sb_redis_script_add(f->r, "one", one_src);
  sb_redis_on_state(f->r, destroy_on_connect, f);
  assert_true(run_until(&f->loop, pred_destroyed, f, WAIT_MS));
  assert_int_equal(f->ntransitions, 1);
}

static void test_bad_urls_are_refused(void **state) {
  fx_t *f = *state;
  const char *bad[] = {"http://127.0.0.1:6379", "redis://", "redis://:6379",
                       "redis://h:0", "redis://h:65536", "redis://h:12x",
                       "redis://h:12/db", "redis://user@h:1", "redis://[::1:5"};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
    assert_null(sb_redis_new(&f->loop, bad[i], NULL));
  assert_null(sb_redis_new(&f->loop, NULL, NULL));
  sb_redis_t *ok = sb_redis_new(&f->loop, "redis://[::1]:1/", NULL);
  assert_non_null(ok);
  sb_redis_destroy(&ok);
  assert_null(ok);
  sb_redis_destroy(&ok); /* no-op */
}

static void test_password_and_db_from_the_url(void **state) {
  fx_t *f = *state;
  char url[128];
  snprintf(url, sizeof url, "redis://:s3cret@127.0.0.1:%d/3", sb_redisd_port(f->d));
  f->r = sb_redis_new(&f->loop, url, NULL);
  assert_true(run_until(&f->loop, pred_connected, f, WAIT_MS));
  const char *info[] = {"CLIENT", "INFO"};
  rec_t x = call(f, 2, info);
  assert_non_null(strstr(x.str, " db=3 "));
  sb_redis_destroy(&f->r);

  snprintf(url, sizeof url, "redis://default:s3cret@127.0.0.1:%d", sb_redisd_port(f->d));
  f->r = sb_redis_new(&f->loop, url, NULL);
  assert_true(run_until(&f->loop, pred_connected, f, WAIT_MS));
  sb_redis_destroy(&f->r);

  snprintf(url, sizeof url, "redis://:wrong@127.0.0.1:%d", sb_redisd_port(f->d));
  f->r = sb_redis_new(&f->loop, url, NULL);
  run_until(&f->loop, pred_never, NULL, 500);
  assert_false(sb_redis_is_connected(f->r));
}

int main(void) {
  const struct CMUnitTest tests[] = {
#define T(fn) cmocka_unit_test_setup_teardown(fn, fx_setup, fx_teardown)
      T(test_command_round_trip),
      T(test_10000_pipelined_incrs_answered_in_order),
      T(test_commands_of_one_loop_turn_leave_in_one_write),
      T(test_script_add_and_evalsha),
      T(test_noscript_recovered_after_script_flush),
      T(test_error_replies_are_sb_eredis_with_the_reply),
      T(test_ordering_breakers_are_refused),
      T(test_timeout_fails_inflight_then_reconnects),
      T(test_reconnects_after_kill_and_restart),
      T(test_frozen_server_times_out_then_recovers),
      T(test_commands_while_disconnected_get_eagain),
      T(test_destroy_calls_each_pending_callback_once),
      T(test_destroy_from_inside_a_reply_callback),
      T(test_destroy_from_inside_the_state_callback),
      T(test_bad_urls_are_refused),
      cmocka_unit_test_setup_teardown(test_password_and_db_from_the_url, fx_setup_password,
                                      fx_teardown),
#undef T
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
