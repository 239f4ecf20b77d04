/* sb_route: see sb_route.h. */
#include "sb_route.h"
#include "sb_error.h"

#include <inttypes.h>

static int prepare_message(sb_stage_item_t *it, const char **why) {
  const sb_envelope_t *env = it->env;
  const Switchboard__V1__Interaction *in = env->interaction;
  if (!env->conversation || !*env->conversation) {
    *why = "message without a conversation";
    return SB_EINVAL;
  }
  sb_stage_item_arg(it, "m");
  sb_stage_item_arg(it, env->conversation);
  sb_stage_item_argf(it, "%s:%s", sb_channel_name(in->channel), in->customer);
  sb_stage_item_argf(it, "%" PRId64, env->time_ms);
  sb_stage_item_arg(it, sb_channel_name(in->channel));
  return 0;
}

static int prepare_agent(sb_stage_item_t *it, const char **why) {
  const Switchboard__V1__AgentEvent *a = it->env->agent;
  if (a->action == SWITCHBOARD__V1__AGENT_ACTION__AGENT_ACTION_UNKNOWN || !a->agent || !*a->agent) {
    *why = "agent event without action or agent";
    return SB_EINVAL;
  }
  sb_stage_item_arg(it, "a");
  sb_stage_item_arg(it, sb_agent_action_name(a->action));
  sb_stage_item_arg(it, a->agent);
  sb_stage_item_arg(it, a->conversation ? a->conversation : "");
  sb_stage_item_argf(it, "%d", a->capacity > 0 ? a->capacity : SB_ROUTE_DEFAULT_CAPACITY);
  return 0;
}

int sb_route_prepare(sb_stage_item_t *it, const char **why) {
  switch (it->env->body_case) {
  case SWITCHBOARD__V1__ENVELOPE__BODY_INTERACTION:
    return prepare_message(it, why);
  case SWITCHBOARD__V1__ENVELOPE__BODY_AGENT:
    return prepare_agent(it, why);
  default:
    *why = "route takes messages and agent events only";
    return SB_EINVAL;
  }
}
