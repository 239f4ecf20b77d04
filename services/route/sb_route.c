/* sb_route: see sb_route.h. */
#include "sb_route.h"
#include "sb_cloudevent.h"
#include "sb_error.h"
#include "sb_script.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

char *sb_route_script(const char *body) { return sb_script_join(sb_script_route_lib, body); }

struct sb_route {
  const sb_tenants_t *tenants;
  sb_route_config_t **configs; /* one per tenant, in the tenants' order */
  size_t n;
};

sb_route_t *sb_route_new(const sb_tenants_t *tenants, char *err, size_t errlen) {
  sb_route_t *r = calloc(1, sizeof *r);
  size_t n = sb_tenants_count(tenants);
  if (!r || !(r->configs = calloc(n ? n : 1, sizeof *r->configs))) {
    snprintf(err, errlen, "out of memory");
    free(r);
    return NULL;
  }
  r->tenants = tenants;
  for (; r->n < n; r->n++) {
    const sb_tenant_t *t = sb_tenants_at(tenants, r->n);
    if (!(r->configs[r->n] = sb_route_config_new(t, t->section_json[SB_TENANT_ROUTE], err, errlen))) {
      sb_route_destroy(&r);
      return NULL;
    }
  }
  return r;
}

void sb_route_destroy(sb_route_t **rp) {
  sb_route_t *r = *rp;
  if (!r)
    return;
  for (size_t i = 0; i < r->n; i++)
    sb_route_config_destroy(&r->configs[i]);
  free(r->configs);
  free(r);
  *rp = NULL;
}

int sb_route_reload(sb_route_t *r, const char *path, int *skipped, char *err, size_t errlen) {
  char why[256];
  *skipped = 0;
  sb_tenants_t *fresh = sb_tenants_load(path, why, sizeof why);
  if (!fresh) {
    snprintf(err, errlen, "%s: %s", path, why);
    return SB_ECONFIG;
  }
  sb_route_config_t **next = calloc(r->n ? r->n : 1, sizeof *next);
  int rc = next ? 0 : SB_ENOMEM;
  for (size_t i = 0; rc == 0 && i < r->n; i++) {
    const sb_tenant_t *t = sb_tenants_at(r->tenants, i);
    const sb_tenant_t *f = sb_tenants_find(fresh, t->id, strlen(t->id));
    if (!f) { /* gone from the file: keeps running as it is */
      (*skipped)++;
      continue;
    }
    if (!(next[i] = sb_route_config_new(t, f->section_json[SB_TENANT_ROUTE], err, errlen)))
      rc = SB_ECONFIG;
  }
  for (size_t i = 0; i < sb_tenants_count(fresh); i++) {
    const sb_tenant_t *f = sb_tenants_at(fresh, i);
    if (!sb_tenants_find(r->tenants, f->id, strlen(f->id)))
      (*skipped)++;
  }
  for (size_t i = 0; i < r->n && next; i++) {
    if (rc == 0 && next[i]) { /* swap: nothing outside this thread holds a config */
      sb_route_config_t *old = r->configs[i];
      r->configs[i] = next[i];
      next[i] = old;
    }
    sb_route_config_destroy(&next[i]);
  }
  free(next);
  sb_tenants_destroy(&fresh);
  if (rc == SB_ENOMEM)
    snprintf(err, errlen, "out of memory");
  return rc;
}

const sb_route_config_t *sb_route_config_of(const sb_route_t *r, const sb_tenant_t *t) {
  size_t i = sb_tenants_index(r->tenants, t); /* configs are in the tenants' order */
  return i < r->n ? r->configs[i] : NULL;
}

static int prepare_message(const sb_route_config_t *c, sb_stage_item_t *it, const char **why) {
  const sb_envelope_t *env = it->env;
  const Switchboard__V1__Interaction *in = env->interaction;
  if (!env->conversation || !*env->conversation) {
    *why = "message without a conversation";
    return SB_EINVAL;
  }
  sb_route_target_t t = sb_route_config_match(c, env);
  sb_stage_item_arg(it, "m");
  sb_stage_item_arg(it, env->conversation);
  sb_stage_item_argf(it, "%s:%s", sb_channel_name(in->channel), in->customer);
  sb_stage_item_argf(it, "%" PRId64, env->time_ms);
  sb_stage_item_arg(it, sb_channel_name(in->channel));
  sb_stage_item_arg(it, t.queue_spec);
  sb_stage_item_argf(it, "%d", t.priority);
  sb_stage_item_argf(it, "%d", t.units);
  sb_stage_item_arg(it, t.rule);
  sb_stage_item_arg(it, sb_route_config_windows(c));
  return 0;
}

static int prepare_agent(const sb_route_config_t *c, sb_stage_item_t *it, const char **why) {
  const Switchboard__V1__AgentEvent *a = it->env->agent;
  /* voice.abandoned: the caller hung up, in whatever state the call was
   * (route.lua "abandon"); the agent is optional (none while queued) */
  int abandon = a->action == SWITCHBOARD__V1__AGENT_ACTION__AGENT_CLOSE &&
                sb_voice_kind(it->env->type) == SB_VOICE_ABANDONED;
  if (a->action == SWITCHBOARD__V1__AGENT_ACTION__AGENT_ACTION_UNKNOWN ||
      (!abandon && (!a->agent || !*a->agent))) {
    *why = "agent event without action or agent";
    return SB_EINVAL;
  }
  const char *tq = "";
  if (a->action == SWITCHBOARD__V1__AGENT_ACTION__AGENT_TRANSFER && a->target_queue &&
      *a->target_queue && !(tq = sb_route_config_queue_spec(c, a->target_queue))) {
    *why = "transfer to a queue the tenant does not have";
    return SB_EINVAL;
  }
  if (a->action == SWITCHBOARD__V1__AGENT_ACTION__AGENT_REJECT) /* where it may go next */
    tq = sb_route_config_all_specs(c);
  sb_stage_item_arg(it, "a");
  sb_stage_item_arg(it, abandon ? "abandon" : sb_agent_action_name(a->action));
  sb_stage_item_arg(it, a->agent ? a->agent : "");
  sb_stage_item_arg(it, a->conversation ? a->conversation : "");
  sb_stage_item_argf(it, "%d", a->capacity > 0 ? a->capacity : SB_ROUTE_DEFAULT_CAPACITY);
  sb_stage_item_arg(it, a->action == SWITCHBOARD__V1__AGENT_ACTION__AGENT_LOGIN ? sb_route_config_agent_spec(c, a->agent)
                       : a->action == SWITCHBOARD__V1__AGENT_ACTION__AGENT_LOGOUT ? sb_route_config_windows(c)
                                                                                  : "");
  if (a->action == SWITCHBOARD__V1__AGENT_ACTION__AGENT_REPLY ||
      a->action == SWITCHBOARD__V1__AGENT_ACTION__AGENT_SUGGESTION) {
    /* no transfer target here: those slots carry the suggestion feedback,
     * (answer id, accepted), and the reason slot classify's verdict on it */
    sb_stage_item_arg(it, a->suggestion ? a->suggestion : "");
    sb_stage_item_arg(it, a->accepted || a->action == SWITCHBOARD__V1__AGENT_ACTION__AGENT_REPLY ? "1" : "0");
    sb_stage_item_arg(it, a->status ? a->status : "");
    sb_stage_item_arg(it, a->suggestion_result ? a->suggestion_result : "");
    return 0;
  }
  sb_stage_item_arg(it, tq);
  sb_stage_item_arg(it, a->target_agent ? a->target_agent : "");
  sb_stage_item_arg(it, a->status ? a->status : "");
  sb_stage_item_arg(it, a->reason ? a->reason : "");
  return 0;
}

int sb_route_prepare(const sb_route_t *r, sb_stage_item_t *it, const char **why) {
  const sb_route_config_t *c = sb_route_config_of(r, it->tenant);
  if (!c) {
    *why = "tenant without a routing configuration";
    return SB_EINVAL;
  }
  switch (it->env->body_case) {
  case SWITCHBOARD__V1__ENVELOPE__BODY_INTERACTION:
    return prepare_message(c, it, why);
  case SWITCHBOARD__V1__ENVELOPE__BODY_AGENT:
    return prepare_agent(c, it, why);
  default:
    *why = "route takes messages and agent events only";
    return SB_EINVAL;
  }
}
