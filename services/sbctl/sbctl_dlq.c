/*
 * sbctl_dlq: see sbctl_dlq.h. The list is read once (LRANGE); an ID or
 * "all" selects entries by their text; replay and purge send the exact
 * texts to dlq_replay.lua, which removes each one only if it is still
 * there, so two operators racing never replay an entry twice.
 */
#include "sbctl_dlq.h"
#include "sbctl_view.h"
#include "sb_envelope.h"
#include "sb_error.h"
#include "sb_keys.h"
#include "sb_outbox.h"
#include "sb_script.h"
#include "sb_time.h"

#include <cjson/cJSON.h>
#include <hiredis/hiredis.h>
#include <openssl/evp.h>
#include <openssl/sha.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

extern const char sb_script_dlq_replay[];

#define DLQ_SCRIPT_ENTRIES 100 /* entries per script call (bounded ARGV) */
#define DLQ_USAGE                                                                                  \
  "usage: sbctl dlq [list] | show ID | replay ID|all | purge ID|all  (--tenant T | --global) "      \
  "[--json]\n       sbctl dlq [list|replay KEY|all] --webhooks --tenant T [--requeue KEY|all]\n"

const sb_option_t sbctl_dlq_options[] = {
    {"global", SB_OPT_BOOL, "0", "dlq: the dead letters of no tenant (sb:{g}:dlq) instead of --tenant's"},
    {"event-ttl-s", SB_OPT_INT, "86400",
     "dlq replay: how long a restored event is kept (the services' --event-ttl-s)"},
    {NULL, 0, NULL, NULL}};

/* ---- pure parts ---------------------------------------------------------- */

void sbctl_dlq_id(const char *entry, size_t len, char out[SBCTL_DLQ_ID_LEN + 1]) {
  unsigned char md[SHA_DIGEST_LENGTH];
  SHA1((const unsigned char *)entry, len, md);
  for (int i = 0; i < SBCTL_DLQ_ID_LEN / 2; i++)
    snprintf(out + 2 * i, 3, "%02x", md[i]);
}

const char *sbctl_dlq_lease_of(const char *stage) {
  static const char *const map[][2] = {
      {"classify", "classify"}, {"route", "route"}, {"sla-timer", "sla"}, {"notify", "notify"}};
  for (size_t i = 0; stage && i < sizeof map / sizeof map[0]; i++)
    if (strcmp(stage, map[i][0]) == 0)
      return map[i][1];
  return NULL;
}

/* Decodes base64 into a malloc'd buffer; NULL if it is not base64. */
static unsigned char *b64_decode(const char *s, size_t *len) {
  size_t n = strlen(s);
  if (n % 4)
    return NULL;
  unsigned char *out = malloc(n / 4 * 3 + 1);
  int k = out ? EVP_DecodeBlock(out, (const unsigned char *)s, (int)n) : -1;
  if (k < 0) {
    free(out);
    return NULL;
  }
  size_t pad = (n && s[n - 1] == '=') + (n > 1 && s[n - 2] == '=');
  *len = (size_t)k - pad;
  return out;
}

/* ---- the envelope as JSON (any message, by its protobuf-c descriptor) -- */

static cJSON *message_json(const ProtobufCMessage *m);

static size_t value_size(ProtobufCType t) {
  switch (t) {
  case PROTOBUF_C_TYPE_INT64: case PROTOBUF_C_TYPE_SINT64: case PROTOBUF_C_TYPE_SFIXED64:
  case PROTOBUF_C_TYPE_UINT64: case PROTOBUF_C_TYPE_FIXED64: case PROTOBUF_C_TYPE_DOUBLE:
    return 8;
  case PROTOBUF_C_TYPE_BOOL:
    return sizeof(protobuf_c_boolean);
  case PROTOBUF_C_TYPE_STRING: case PROTOBUF_C_TYPE_MESSAGE:
    return sizeof(void *);
  case PROTOBUF_C_TYPE_BYTES:
    return sizeof(ProtobufCBinaryData);
  default:
    return 4;
  }
}

static cJSON *bytes_json(const ProtobufCBinaryData *b) {
  char *s = malloc(4 * ((b->len + 2) / 3) + 1);
  if (!s)
    return cJSON_CreateNull();
  EVP_EncodeBlock((unsigned char *)s, b->data, (int)b->len);
  cJSON *v = cJSON_CreateString(s);
  free(s);
  return v;
}

static cJSON *value_json(const ProtobufCFieldDescriptor *f, const void *p) {
  switch (f->type) {
  case PROTOBUF_C_TYPE_INT32: case PROTOBUF_C_TYPE_SINT32: case PROTOBUF_C_TYPE_SFIXED32:
    return cJSON_CreateNumber(*(const int32_t *)p);
  case PROTOBUF_C_TYPE_UINT32: case PROTOBUF_C_TYPE_FIXED32:
    return cJSON_CreateNumber(*(const uint32_t *)p);
  case PROTOBUF_C_TYPE_INT64: case PROTOBUF_C_TYPE_SINT64: case PROTOBUF_C_TYPE_SFIXED64:
    return cJSON_CreateNumber((double)*(const int64_t *)p);
  case PROTOBUF_C_TYPE_UINT64: case PROTOBUF_C_TYPE_FIXED64:
    return cJSON_CreateNumber((double)*(const uint64_t *)p);
  case PROTOBUF_C_TYPE_FLOAT:
    return cJSON_CreateNumber(*(const float *)p);
  case PROTOBUF_C_TYPE_DOUBLE:
    return cJSON_CreateNumber(*(const double *)p);
  case PROTOBUF_C_TYPE_BOOL:
    return cJSON_CreateBool(*(const protobuf_c_boolean *)p);
  case PROTOBUF_C_TYPE_ENUM: {
    const ProtobufCEnumValue *v = protobuf_c_enum_descriptor_get_value(f->descriptor, *(const int *)p);
    return v ? cJSON_CreateString(v->name) : cJSON_CreateNumber(*(const int *)p);
  }
  case PROTOBUF_C_TYPE_STRING:
    return cJSON_CreateString(*(char *const *)p ? *(char *const *)p : "");
  case PROTOBUF_C_TYPE_BYTES:
    return bytes_json(p);
  case PROTOBUF_C_TYPE_MESSAGE:
    return *(ProtobufCMessage *const *)p ? message_json(*(ProtobufCMessage *const *)p) : cJSON_CreateNull();
  }
  return cJSON_CreateNull();
}

/* 1 when a singular field is set: its oneof case, its has_ flag, or (proto3)
 * a value other than zero. */
static int field_present(const ProtobufCFieldDescriptor *f, const char *base) {
  const void *p = base + f->offset;
  if (f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF)
    return *(const uint32_t *)(base + f->quantifier_offset) == f->id;
  if (f->label == PROTOBUF_C_LABEL_OPTIONAL && f->quantifier_offset)
    return *(const protobuf_c_boolean *)(base + f->quantifier_offset);
  switch (f->type) {
  case PROTOBUF_C_TYPE_STRING:
    return *(char *const *)p && **(char *const *)p;
  case PROTOBUF_C_TYPE_MESSAGE:
    return *(void *const *)p != NULL;
  case PROTOBUF_C_TYPE_BYTES:
    return ((const ProtobufCBinaryData *)p)->len > 0;
  default: {
    static const char zero[8];
    return memcmp(p, zero, value_size(f->type)) != 0;
  }
  }
}

static cJSON *message_json(const ProtobufCMessage *m) {
  const ProtobufCMessageDescriptor *d = m->descriptor;
  const char *base = (const char *)m;
  cJSON *o = cJSON_CreateObject();
  for (unsigned i = 0; i < d->n_fields; i++) {
    const ProtobufCFieldDescriptor *f = &d->fields[i];
    if (f->label != PROTOBUF_C_LABEL_REPEATED) {
      if (field_present(f, base))
        cJSON_AddItemToObject(o, f->name, value_json(f, base + f->offset));
      continue;
    }
    size_t n = *(const size_t *)(base + f->quantifier_offset);
    const char *items = *(char *const *)(base + f->offset);
    if (!n || !items)
      continue;
    cJSON *a = cJSON_AddArrayToObject(o, f->name);
    for (size_t k = 0; k < n; k++)
      cJSON_AddItemToArray(a, value_json(f, items + k * value_size(f->type)));
  }
  return o;
}

/* ---- reading the list ---------------------------------------------------- */

typedef struct {
  const char *text; /* borrowed from the LRANGE reply */
  size_t len;
  char id[SBCTL_DLQ_ID_LEN + 1];
  cJSON *json; /* NULL when the entry is not JSON */
} entry_t;

typedef struct {
  const sb_config_t *c;
  redisContext *rc;
  const char *tenant; /* NULL: the list of no tenant */
  char stats[SB_KEY_MAX], list[SB_KEY_MAX];
  redisReply *reply;
  entry_t *e;
  size_t n;
} dlq_t;

static int read_list(dlq_t *d) {
  d->reply = redisCommand(d->rc, "LRANGE %s 0 -1", d->list);
  if (!d->reply || d->reply->type != REDIS_REPLY_ARRAY)
    return -1;
  d->e = calloc(d->reply->elements + 1, sizeof *d->e);
  for (size_t i = 0; d->e && i < d->reply->elements; i++) {
    const redisReply *r = d->reply->element[i];
    if (r->type != REDIS_REPLY_STRING)
      continue;
    entry_t *e = &d->e[d->n++];
    e->text = r->str;
    e->len = r->len;
    sbctl_dlq_id(r->str, r->len, e->id);
    e->json = cJSON_ParseWithLength(r->str, r->len);
  }
  return d->e ? 0 : -1;
}

static const char *entry_str(const entry_t *e, const char *name) {
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(e->json, name);
  return cJSON_IsString(v) ? v->valuestring : "";
}

/* The entry as a JSON object with its ID first (a non-JSON entry: "raw"). */
static cJSON *entry_json(const entry_t *e) {
  cJSON *o = cJSON_CreateObject();
  cJSON_AddStringToObject(o, "id", e->id);
  if (!cJSON_IsObject(e->json)) {
    char *raw = strndup(e->text, e->len);
    cJSON_AddStringToObject(o, "raw", raw ? raw : "");
    free(raw);
    return o;
  }
  for (const cJSON *f = e->json->child; f; f = f->next)
    cJSON_AddItemToObject(o, f->string, cJSON_Duplicate(f, 1));
  return o;
}

static void print_json(cJSON *o, int pretty) {
  char *s = pretty ? cJSON_Print(o) : cJSON_PrintUnformatted(o);
  printf("%s\n", s ? s : "null");
  free(s);
  cJSON_Delete(o);
}

/* ---- the sub-verbs --------------------------------------------------------- */

static int dlq_list(dlq_t *d) {
  int json = sb_config_bool(d->c, "json");
  cJSON *all = json ? cJSON_CreateArray() : NULL;
  for (size_t i = 0; i < d->n; i++) {
    if (json)
      cJSON_AddItemToArray(all, entry_json(&d->e[i]));
    else
      print_json(entry_json(&d->e[i]), 0);
  }
  if (json) {
    cJSON *o = cJSON_CreateObject();
    cJSON_AddItemToObject(o, "dead_letters", all);
    cJSON_AddNumberToObject(o, "count", (double)d->n);
    print_json(o, 0);
  }
  return 0;
}

/* The entry's envelope, decoded; NULL with *why when it cannot be. */
static sb_envelope_t *entry_envelope(const entry_t *e, const char **why) {
  size_t len = 0;
  unsigned char *bytes = b64_decode(entry_str(e, "bytes_b64"), &len);
  sb_envelope_t *env = bytes && len ? sb_envelope_unpack(bytes, len) : NULL;
  free(bytes);
  if (!env)
    *why = !bytes ? "bytes_b64 is not base64" : "the kept bytes are not an envelope (malformed or truncated)";
  return env;
}

static int dlq_show(dlq_t *d, const char *id) {
  for (size_t i = 0; i < d->n; i++) {
    if (strcmp(d->e[i].id, id))
      continue;
    cJSON *o = entry_json(&d->e[i]);
    const char *why = NULL;
    sb_envelope_t *env = entry_envelope(&d->e[i], &why);
    if (env)
      cJSON_AddItemToObject(o, "envelope", message_json(&env->base));
    else
      cJSON_AddStringToObject(o, "envelope_error", why);
    sb_envelope_free(env);
    print_json(o, !sb_config_bool(d->c, "json"));
    return 0;
  }
  fprintf(stderr, "sbctl dlq: no dead letter %s in %s\n", id, d->list);
  return 1;
}

/* Why entry e cannot be replayed into d's tenant, or NULL; *lease the
 * stage's lease and *env its envelope when it can. */
static const char *refusal(const dlq_t *d, const entry_t *e, const char **lease, sb_envelope_t **env) {
  const char *why = NULL;
  *env = NULL;
  if (!d->tenant)
    return "a dead letter of no tenant has no tenant state to go back to";
  if (!e->json)
    return "the entry is not JSON";
  if (!(*lease = sbctl_dlq_lease_of(entry_str(e, "stage"))))
    return "its stage has no incoming lease (ingest is the front door: publish the event again)";
  if (!*entry_str(e, "key"))
    return "the entry names no event key";
  if (!(*env = entry_envelope(e, &why)))
    return why;
  if (!(*env)->tenant || strcmp((*env)->tenant, d->tenant)) {
    sb_envelope_free(*env);
    *env = NULL;
    return "its envelope belongs to another tenant";
  }
  return NULL;
}

/* Runs dlq_replay.lua on items (4 strings each). Adds to *done; -1 on a
 * Redis error. */
static int run_script(dlq_t *d, const char *mode, const char **argv, size_t *lens, size_t items,
                      long long *done) {
  char *source = sb_script_source(sb_script_dlq_replay);
  char now[24], ttl[24];
  snprintf(now, sizeof now, "%lld", (long long)sb_now_ms());
  snprintf(ttl, sizeof ttl, "%lld", 1000 * sb_config_int(d->c, "event-ttl-s"));
  const char *head[] = {"EVAL", source, "1", d->stats, mode, now, ttl};
  for (size_t i = 0; i < 7; i++)
    argv[i] = head[i], lens[i] = strlen(head[i]);
  redisReply *r = source ? redisCommandArgv(d->rc, (int)(7 + 4 * items), argv, lens) : NULL;
  int ok = r && r->type == REDIS_REPLY_INTEGER;
  if (ok)
    *done += r->integer;
  else
    fprintf(stderr, "sbctl dlq: redis: %s\n", r && r->type == REDIS_REPLY_ERROR ? r->str : "no answer");
  if (r)
    freeReplyObject(r);
  free(source);
  return ok ? 0 : -1;
}

typedef struct {
  long long done, refused, matched;
  cJSON *refusals;
} outcome_t;

/* Replays or purges the entries that match which ("all" or an ID). */
static int apply(dlq_t *d, const char *mode, const char *which, outcome_t *out) {
  int replay = strcmp(mode, "replay") == 0, all = strcmp(which, "all") == 0;
  const char **argv = calloc(7 + 4 * DLQ_SCRIPT_ENTRIES, sizeof *argv);
  size_t *lens = calloc(7 + 4 * DLQ_SCRIPT_ENTRIES, sizeof *lens);
  unsigned char **blobs = calloc(DLQ_SCRIPT_ENTRIES, sizeof *blobs);
  int rc = argv && lens && blobs ? 0 : -1;
  size_t items = 0;
  for (size_t i = 0; rc == 0 && i <= d->n; i++) {
    if (i < d->n && (all || strcmp(d->e[i].id, which) == 0)) {
      const entry_t *e = &d->e[i];
      const char *lease = "", *why = NULL;
      sb_envelope_t *env = NULL;
      out->matched++;
      if (replay && (why = refusal(d, e, &lease, &env))) {
        out->refused++;
        cJSON *r = cJSON_CreateObject();
        cJSON_AddStringToObject(r, "id", e->id);
        cJSON_AddStringToObject(r, "reason", why);
        cJSON_AddItemToArray(out->refusals, r);
        continue;
      }
      size_t blen = 0, k = 7 + 4 * items;
      if (env)
        blobs[items] = sb_envelope_pack(env, &blen);
      sb_envelope_free(env);
      const char *key = replay ? entry_str(e, "key") : "";
      argv[k] = e->text, lens[k] = e->len;
      argv[k + 1] = lease, lens[k + 1] = strlen(lease);
      argv[k + 2] = key, lens[k + 2] = strlen(key);
      argv[k + 3] = blobs[items] ? (const char *)blobs[items] : "", lens[k + 3] = blen;
      items++;
    }
    if (items && (items == DLQ_SCRIPT_ENTRIES || i == d->n)) {
      rc = run_script(d, mode, argv, lens, items, &out->done);
      for (size_t b = 0; b < items; b++)
        free(blobs[b]), blobs[b] = NULL;
      items = 0;
    }
  }
  free(argv);
  free(lens);
  free(blobs);
  return rc;
}

static int dlq_change(dlq_t *d, const char *mode, const char *which) {
  outcome_t out = {.refusals = cJSON_CreateArray()};
  int rc = apply(d, mode, which, &out);
  const char *done_name = strcmp(mode, "replay") == 0 ? "replayed" : "purged";
  if (rc == 0 && sb_config_bool(d->c, "json")) {
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, done_name, (double)out.done);
    cJSON_AddNumberToObject(o, "refused", (double)out.refused);
    cJSON_AddItemToObject(o, "refusals", out.refusals);
    out.refusals = NULL;
    print_json(o, 0);
  } else if (rc == 0) {
    printf("%s %lld dead letter%s", done_name, out.done, out.done == 1 ? "" : "s");
    printf(out.refused ? " (%lld refused)\n" : "\n", out.refused);
  }
  for (const cJSON *r = out.refusals ? out.refusals->child : NULL; r; r = r->next)
    fprintf(stderr, "sbctl dlq: %s not replayed: %s\n", cJSON_GetObjectItem(r, "id")->valuestring,
            cJSON_GetObjectItem(r, "reason")->valuestring);
  cJSON_Delete(out.refusals);
  if (rc == 0 && out.matched == 0)
    fprintf(stderr, "sbctl dlq: no dead letter %s in %s\n", which, d->list);
  return rc == 0 && out.done > 0 ? 0 : 1;
}

/* ---- webhooks (notify's dead letters, sb_outbox) ---------------------------- */

/* JSON lines, or with --json one object {"dead_letters": [...], "count"}. */
static void webhook_print(const sb_config_t *c, const char *lines, size_t len) {
  if (!sb_config_bool(c, "json")) {
    fwrite(lines, 1, len, stdout);
    return;
  }
  cJSON *all = cJSON_CreateArray();
  for (const char *p = lines, *end = lines + len; p < end;) {
    const char *nl = memchr(p, '\n', (size_t)(end - p));
    size_t k = nl ? (size_t)(nl - p) : (size_t)(end - p);
    cJSON *v = k ? cJSON_ParseWithLength(p, k) : NULL;
    if (k && !v) { /* a letter that is not JSON is kept as a string */
      char *raw = strndup(p, k);
      v = cJSON_CreateString(raw ? raw : "");
      free(raw);
    }
    if (v)
      cJSON_AddItemToArray(all, v);
    p += k + 1;
  }
  cJSON *o = cJSON_CreateObject();
  int n = cJSON_GetArraySize(all);
  cJSON_AddItemToObject(o, "dead_letters", all);
  cJSON_AddNumberToObject(o, "count", n);
  print_json(o, 0);
}

static int dlq_webhooks(const sb_config_t *c, redisContext *rc, const char *tenant, const char *requeue) {
  long long n = 0;
  int err;
  if (*requeue) {
    err = sb_outbox_dlq_replay(rc, tenant, requeue, &n);
    if (err == 0 && sb_config_bool(c, "json"))
      printf("{\"requeued\":%lld}\n", n);
    else if (err == 0)
      printf("requeued %lld dead letter%s\n", n, n == 1 ? "" : "s");
  } else {
    char *buf = NULL;
    size_t len = 0;
    FILE *mem = open_memstream(&buf, &len);
    err = mem ? sb_outbox_dlq_list(rc, tenant, mem) : SB_ENOMEM;
    if (mem)
      fclose(mem);
    if (err == 0)
      webhook_print(c, buf, len);
    free(buf);
  }
  if (err)
    fprintf(stderr, "sbctl dlq: %s\n", sb_strerror(err));
  return err ? 1 : 0;
}

/* ---- the verb ----------------------------------------------------------------- */

static int usage(const char *why) {
  fprintf(stderr, "sbctl dlq: %s\n" DLQ_USAGE, why);
  return 2;
}

/* Checks the words and options; 0 or a usage error (2). */
static int check_args(const sb_config_t *c, const char *sub, const char *arg, int webhooks) {
  static const char *const subs[] = {"list", "show", "replay", "purge"};
  int known = 0, needs_arg = strcmp(sub, "list") != 0;
  for (size_t i = 0; i < sizeof subs / sizeof subs[0]; i++)
    known |= strcmp(sub, subs[i]) == 0;
  if (!known)
    return usage("unknown sub-command");
  if (sb_config_npositional(c) > (needs_arg ? 3 : 2) || (needs_arg && !arg))
    return usage(needs_arg ? "give an ID (or all)" : "too many arguments");
  int global = sb_config_bool(c, "global"), tenant = *sb_config_str(c, "tenant") != '\0';
  if (global == tenant)
    return usage("give exactly one of --tenant T and --global");
  if (webhooks && (global || !strcmp(sub, "show") || !strcmp(sub, "purge")))
    return usage("--webhooks takes --tenant T with list or replay");
  if (!strcmp(sub, "show") && !strcmp(arg, "all"))
    return usage("show takes one ID");
  return 0;
}

int sbctl_dlq(const sb_config_t *c) {
  const char *sub = sb_config_npositional(c) > 1 ? sb_config_positional(c, 1) : "list";
  const char *arg = sb_config_npositional(c) > 2 ? sb_config_positional(c, 2) : NULL;
  int webhooks = sb_config_bool(c, "webhooks");
  if (check_args(c, sub, arg, webhooks))
    return 2;
  dlq_t d = {.c = c, .tenant = sb_config_bool(c, "global") ? NULL : sb_config_str(c, "tenant")};
  d.rc = sbctl_view_connect(sb_config_str(c, "redis-url"));
  if (!d.rc)
    return 1;
  int rc;
  if (webhooks) {
    const char *requeue = !strcmp(sub, "replay") ? arg : sb_config_str(c, "requeue");
    rc = dlq_webhooks(c, d.rc, d.tenant, requeue);
    redisFree(d.rc);
    return rc;
  }
  if (d.tenant) {
    sb_key_tenant(d.stats, sizeof d.stats, d.tenant, "stats");
    sb_key_tenant(d.list, sizeof d.list, d.tenant, "dlq");
  } else {
    snprintf(d.stats, sizeof d.stats, "%s", SB_KEY_GLOBAL_STATS);
    snprintf(d.list, sizeof d.list, "sb:{g}:dlq");
  }
  if (read_list(&d)) {
    fprintf(stderr, "sbctl dlq: redis did not answer\n");
    rc = 1;
  } else if (!strcmp(sub, "list")) {
    rc = dlq_list(&d);
  } else if (!strcmp(sub, "show")) {
    rc = dlq_show(&d, arg);
  } else {
    rc = dlq_change(&d, sub, arg);
  }
  for (size_t i = 0; i < d.n; i++)
    cJSON_Delete(d.e[i].json);
  free(d.e);
  if (d.reply)
    freeReplyObject(d.reply);
  redisFree(d.rc);
  return rc;
}
