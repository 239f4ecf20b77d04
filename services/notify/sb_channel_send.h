/*
 * sb_channel_send: notify's messages to customers on their own platform,
 * durable and at least once, through the adapters of sb_channel_out.
 *
 * What is sent (sb_channel_plan, pure):
 *   - "reply": an agent's AGENT_REPLY that route accepted (outcome
 *     AGENT_OK: only the conversation's owner gets there), the agent's
 *     text, to the conversation's customer;
 *   - "ack": a new conversation's first message when the tenant has
 *     "notify": {"acknowledge": {"template": "ack"}}; the template gets
 *     {customer_name} and {expected_response} (the tenant's published mean
 *     first response, from the last service-level event this replica saw,
 *     else the tenant's first-response target);
 *   - "redirect": a public message that classify marked move_private, when
 *     the tenant has "notify": {"redirect": {"template": "move_private",
 *     "link": "https://help.example/private", "link_secret": "env:NAME",
 *     "link_ttl_s": 86400}}: the template in the message's language (else
 *     the default language) with {secure_link} = link?c=<conversation>
 *     &e=<expiry s>&s=<HMAC-SHA256(secret, "<tenant>|<conv>|<expiry>"),
 *     32 hex>; a redirect replaces the acknowledgement;
 *   - "breach_ack": an SLA breach whose policy has on_breach
 *     "acknowledge_customer" (SlaEvent.acknowledge_customer), when the
 *     tenant has "notify": {"breach_ack": {"template": "late"}}: the
 *     template in its default language (the SLA event carries no message:
 *     {customer_name} is empty) with {expected_response}, to the
 *     conversation's reply address; none known is counted
 *     (out_breach_ack_no_address), not a dead letter.
 *
 * Where to: a customer message on an account with an outbound adapter and
 * credentials (notify.outbound) leaves the conversation's reply address in
 * Redis (out:addr:<conv>: platform, account, recipient, name, language),
 * written by notify's commit (notify.lua); a reply reads it there.
 *
 * Durable: the commit that clears notify's lease also queues the send,
 * with sb_outbox's machinery and keys: queue hooks:due:out:<platform>:
 * <account>, record hooks:d:<queue>:<event key>:<purpose>, claimed by
 * hooks_claim.lua under a lease, its outcome recorded by hooks_done.lua,
 * dead letters in hooks:dlq (sbctl dlq --webhooks lists and replays them).
 * A send is keyed by event key + purpose and marked once (out:once:<key>:
 * <purpose>), so an envelope re-sent or replayed through the stages never
 * sends twice. Retries use the tenant's notify.retry back-off, never sooner
 * than a platform's own retry_after.
 */
#ifndef SB_CHANNEL_SEND_H
#define SB_CHANNEL_SEND_H

#include "sb_channel_out.h"
#include "sb_service.h"
#include "sb_stage.h"
#include "sb_templates.h"

#define SB_CHANNEL_NEXTRA 6               /* notify.lua args per item */
#define SB_OUT_MAX_IN_FLIGHT 4            /* requests per outbound account */
#define SB_OUT_ADDR_TTL_S (7 * 86400)     /* a reply address outlives its message */
#define SB_OUT_TOKEN_MARGIN_S 300         /* refresh an access token this early */
#define SB_OUT_LINK_TTL_DEFAULT_S 86400
#define SB_OUT_PURPOSE_MAX 16

typedef struct sb_channel_send sb_channel_send_t;

/* ---- the plan: pure -------------------------------------------------------- */

typedef struct {
  char *ack_template;        /* NULL: no acknowledgement */
  char *breach_ack_template; /* NULL: nothing when a breach says acknowledge_customer */
  char *redirect_template; /* NULL: no redirect */
  char *link;
  char *link_secret;
  int64_t link_ttl_s;
} sb_out_policy_t;

/* Reads notify.acknowledge, notify.breach_ack and notify.redirect; a template they name must
 * exist in tpl. 0, SB_ECONFIG (reason naming the tenant in err), SB_ENOMEM. */
int sb_out_policy_parse(const char *tenant, const char *notify_json, const sb_templates_t *tpl,
                        sb_out_policy_t *out, char *err, size_t errlen);
void sb_out_policy_clear(sb_out_policy_t *p);

typedef struct {
  char purpose[SB_OUT_PURPOSE_MAX]; /* "reply", "ack", "breach_ack", "redirect"; "" nothing */
  char *text;                       /* owned; the message to send */
  char *address;                    /* owned JSON to store for the conversation, or NULL */
} sb_out_plan_t;

typedef struct {
  const sb_tenant_t *tenant;
  const sb_out_config_t *accounts;
  const sb_templates_t *templates;
  const sb_out_policy_t *policy;
  int64_t expected_ms; /* for {expected_response} */
  int64_t now_ms;
} sb_out_plan_ctx_t;

/* Decides what one envelope sends. 0 (plan filled, possibly nothing) or
 * SB_ENOMEM. */
int sb_channel_plan(const sb_out_plan_ctx_t *c, const sb_envelope_t *env, sb_out_plan_t *plan);
void sb_out_plan_clear(sb_out_plan_t *p);
/* The envelope's conversation (the agent event's own when the envelope has
 * none), or NULL. */
const char *sb_out_conversation(const sb_envelope_t *env);
/* "45 s", "15 min", "3 h". */
void sb_out_format_duration(int64_t ms, char *out, size_t cap);
/* The secure link for a conversation (see above) into out; 0 or SB_ETOOBIG. */
int sb_out_secure_link(const sb_out_policy_t *p, const char *tenant, const char *conv,
                       int64_t now_ms, char *out, size_t cap);

/* ---- the sender -------------------------------------------------------------- */

/* Reads every tenant's notify.outbound, templates, acknowledge and redirect
 * (errors name tenant and field in err) and starts the timer. NULL on a
 * configuration error or OOM. */
sb_channel_send_t *sb_channel_send_new(sb_service_t *s, char *err, size_t errlen);
void sb_channel_send_stop(sb_channel_send_t *c);
int sb_channel_send_idle(const sb_channel_send_t *c);
/* Cancels what is in flight (leases expire, sends are claimed again) and
 * frees once its handles closed; clears *c. */
void sb_channel_send_destroy(sb_channel_send_t **c);

/* Stage prepare: fills the item's SB_CHANNEL_NEXTRA args. 0 or SB_ENOMEM. */
int sb_channel_send_prepare(sb_channel_send_t *c, sb_stage_item_t *it, const char **why);
/* Stage committed: look at the queues at once. */
void sb_channel_send_committed(sb_channel_send_t *c, const sb_stage_item_t *it);

#endif
