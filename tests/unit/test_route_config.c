/*
 * sb_route_config: a tenant's "route" object read, checked and compiled
 * into route.lua's specs; rules matched against what classify found.
 */
#include "sb_testutil.h"

#include "sb_route_config.h"

#include <stdio.h>
#include <string.h>

static const sb_tenant_t tenant = {.id = "acme"};

static sb_route_config_t *load(const char *json, char *err, size_t errlen) {
  err[0] = '\0';
  return sb_route_config_new(&tenant, json, err, errlen);
}

/* What classify might have said about a message. */
typedef struct {
  Switchboard__V1__Interaction in;
  Switchboard__V1__Classification cl;
  Switchboard__V1__Author author;
  Switchboard__V1__PiiFound pii;
  Switchboard__V1__PiiFound *piip;
  Switchboard__V1__IntentMatch intent;
  Switchboard__V1__IntentMatch *intentp;
  sb_envelope_t env;
} msg_t;

static void msg_init(msg_t *m, const char *lang, Switchboard__V1__Channel ch) {
  switchboard__v1__interaction__init(&m->in);
  switchboard__v1__classification__init(&m->cl);
  switchboard__v1__author__init(&m->author);
  switchboard__v1__pii_found__init(&m->pii);
  switchboard__v1__intent_match__init(&m->intent);
  switchboard__v1__envelope__init(&m->env);
  m->in.channel = ch;
  m->in.author = &m->author;
  m->cl.language = (char *)lang;
  m->env.interaction = &m->in;
  m->env.classification = &m->cl;
}

static const char *queue_of(const sb_route_config_t *c, const msg_t *m, const char **rule) {
  static char id[64];
  sb_route_target_t t = sb_route_config_match(c, &m->env);
  snprintf(id, sizeof id, "%.*s", (int)strcspn(t.queue_spec, "|"), t.queue_spec);
  if (rule)
    *rule = t.rule;
  return id;
}

static void a_tenant_without_route_gets_one_default_queue(void **state) {
  (void)state;
  char err[256];
  sb_route_config_t *c = load(NULL, err, sizeof err);
  assert_non_null(c);
  msg_t m;
  msg_init(&m, "fr", SWITCHBOARD__V1__CHANNEL__CHANNEL_VOICE);
  sb_route_target_t t = sb_route_config_match(c, &m.env);
  assert_string_equal(t.queue_spec, "default|longest_idle|0|3600|0|3|0||0|||0|0");
  assert_string_equal(t.rule, "default");
  assert_int_equal(t.units, 1);
  assert_string_equal(sb_route_config_agent_spec(c, "anyone"), "default|longest_idle|0|0|3600|0");
  assert_string_equal(sb_route_config_windows(c), "3600|604800|0");
  sb_route_config_destroy(&c);
  assert_null(c);
}

static const char *const CONFIG =
    "{\"queues\": [{\"id\": \"pci\", \"skills\": {\"pci\": 1}, \"strategy\": \"best_skill\"},"
    "  {\"id\": \"vip\", \"priority\": 50, \"fairness\": {\"max\": 3, \"period_s\": 600},"
    "   \"offer\": {\"timeout_s\": 20, \"hops\": 2, \"away_on_timeout\": true, \"fallback\": \"general\"}},"
    "  {\"id\": \"social\", \"strategy\": \"least_occupied\"},"
    "  {\"id\": \"fr\", \"skills\": {\"lang:fr\": 2, \"billing\": 1}},"
    "  {\"id\": \"general\"}],"
    " \"rules\": [{\"name\": \"cards\", \"if\": {\"pii\": [\"card\", \"iban\"]}, \"queue\": \"pci\"},"
    "   {\"name\": \"vips\", \"if\": {\"vip\": true}, \"queue\": \"vip\"},"
    "   {\"name\": \"loud\", \"if\": {\"public\": true, \"reach_min\": 10000,"
    "                           \"sentiment\": [\"negative\"]}, \"queue\": \"social\"},"
    "   {\"if\": {\"language\": [\"fr\"], \"intent\": [\"billing\"], \"priority_min\": 20},"
    "    \"queue\": \"fr\"},"
    "   {\"name\": \"returning\", \"if\": {\"repeat_min\": 3}, \"queue\": \"vip\"}],"
    " \"default_queue\": \"general\","
    " \"channel_units\": {\"voice\": 15, \"email\": 3},"
    " \"reopen_s\": 60, \"sticky_s\": 120,"
    " \"agents\": [{\"id\": \"ann\", \"skills\": {\"lang:fr\": 3, \"billing\": 2, \"pci\": 1}},"
    "            {\"id\": \"bob\", \"skills\": {\"lang:fr\": 1, \"billing\": 5}}]}";

static void rules_are_tried_in_order_and_every_condition_must_hold(void **state) {
  (void)state;
  char err[256];
  sb_route_config_t *c = load(CONFIG, err, sizeof err);
  assert_non_null(c);
  const char *rule;
  msg_t m;
  msg_init(&m, "fr", SWITCHBOARD__V1__CHANNEL__CHANNEL_EMAIL);
  assert_string_equal(queue_of(c, &m, &rule), "general"); /* no intent yet */
  assert_string_equal(rule, "default");
  m.intent.name = "billing";
  m.intentp = &m.intent;
  m.cl.intents = &m.intentp;
  m.cl.n_intents = 1;
  assert_string_equal(queue_of(c, &m, NULL), "general"); /* priority 0 < 20 */
  m.cl.priority = 20;
  assert_string_equal(queue_of(c, &m, &rule), "fr");
  assert_string_equal(rule, "rule-4"); /* unnamed: by position */
  /* a VIP outranks the language rule, a card outranks the VIP */
  m.cl.vip = 1;
  assert_string_equal(queue_of(c, &m, &rule), "vip");
  m.pii.type = "iban";
  m.piip = &m.pii;
  m.cl.pii = &m.piip;
  m.cl.n_pii = 1;
  assert_string_equal(queue_of(c, &m, &rule), "pci");
  assert_string_equal(rule, "cards");
  /* the VIP queue's priority is added to the conversation's */
  m.cl.n_pii = 0;
  sb_route_target_t t = sb_route_config_match(c, &m.env);
  assert_int_equal(t.priority, 70);
  assert_int_equal(t.units, 3); /* e-mail */
  /* public, negative and far-reaching: all three needed */
  msg_init(&m, "en", SWITCHBOARD__V1__CHANNEL__CHANNEL_X);
  m.in.public_ = 1;
  m.cl.sentiment = "negative";
  m.author.followers = 9999;
  assert_string_equal(queue_of(c, &m, NULL), "general");
  m.author.followers = 10000;
  assert_string_equal(queue_of(c, &m, NULL), "social");
  m.in.public_ = 0;
  assert_string_equal(queue_of(c, &m, NULL), "general");
  /* a customer who keeps coming back */
  m.cl.repeat_contacts = 2;
  assert_string_equal(queue_of(c, &m, &rule), "general");
  m.cl.repeat_contacts = 3;
  assert_string_equal(queue_of(c, &m, &rule), "vip");
  assert_string_equal(rule, "returning");
  sb_route_config_destroy(&c);
}

static void skills_decide_which_queues_an_agent_serves(void **state) {
  (void)state;
  char err[256];
  sb_route_config_t *c = load(CONFIG, err, sizeof err);
  assert_non_null(c);
  /* ann: pci (score 1), every queue without skills, fr (3 + 2) */
  assert_string_equal(sb_route_config_agent_spec(c, "ann"),
                      "pci|best_skill|1|0|3600|0,vip|longest_idle|0|3|600|20,"
                      "social|least_occupied|0|0|3600|0,fr|longest_idle|5|0|3600|0,"
                      "general|longest_idle|0|0|3600|0");
  /* bob's French is below the level fr asks for; no PCI training */
  assert_string_equal(sb_route_config_agent_spec(c, "bob"),
                      "vip|longest_idle|0|3|600|20,social|least_occupied|0|0|3600|0,"
                      "general|longest_idle|0|0|3600|0");
  /* outside the roster: the queues that ask for no skill */
  assert_string_equal(sb_route_config_agent_spec(c, "zed"), sb_route_config_agent_spec(c, "bob"));
  assert_string_equal(sb_route_config_queue_spec(c, "vip"), "vip|longest_idle|3|600|20|2|1|general|0|||0|0");
  assert_true(sb_route_config_offers(c));
  assert_non_null(strstr(sb_route_config_all_specs(c), ";vip|longest_idle|3|600|20|2|1|general|0|||0|0;"));
  assert_null(sb_route_config_queue_spec(c, "nope"));
  assert_string_equal(sb_route_config_windows(c), "60|120|0");
  sb_route_config_destroy(&c);
}

static void a_wrong_configuration_is_refused_with_the_field_named(void **state) {
  (void)state;
  static const struct {
    const char *json, *says;
  } bad[] = {
      {"[]", "route must be an object"},
      {"{\"queues\": []}", "route.queues"},
      {"{\"queues\": [{\"id\": \"a|b\"}]}", "queues[0] needs an \"id\""},
      {"{\"queues\": [{\"id\": \"a\"}, {\"id\": \"a\"}]}", "listed twice"},
      {"{\"queues\": [{\"id\": \"a\", \"strategy\": \"random\"}]}", "queues[0].strategy"},
      {"{\"queues\": [{\"id\": \"a\", \"skills\": {\"x\": 11}}]}", "queues[0].skills.x"},
      {"{\"queues\": [{\"id\": \"a\", \"skills\": [1]}]}", "queues[0].skills must be an object"},
      {"{\"queues\": [{\"id\": \"a\", \"priority\": 101}]}", "queues[0].priority"},
      {"{\"queues\": [{\"id\": \"a\", \"fairness\": {\"max\": 0}}]}", "queues[0].fairness.max"},
      {"{\"queues\": [{\"id\": \"a\"}], \"rules\": [{\"if\": {}, \"queue\": \"b\"}]}",
       "rules[0].queue: no queue \"b\""},
      {"{\"queues\": [{\"id\": \"a\"}], \"rules\": [{\"if\": {\"mood\": [\"x\"]}, \"queue\": \"a\"}]}",
       "unknown condition \"mood\""},
      {"{\"queues\": [{\"id\": \"a\"}], \"rules\": [{\"if\": {\"vip\": 1}, \"queue\": \"a\"}]}",
       "rules[0].if.vip"},
      {"{\"queues\": [{\"id\": \"a\"}], \"rules\": [{\"if\": {\"language\": []}, \"queue\": \"a\"}]}",
       "rules[0].if.language"},
      {"{\"queues\": [{\"id\": \"a\"}], \"rules\": [{\"if\": {\"pii\": false}, \"queue\": \"a\"}]}",
       "rules[0].if.pii"},
      {"{\"queues\": [{\"id\": \"a\"}], \"default_queue\": \"b\"}", "default_queue"},
      {"{\"channel_units\": {\"pigeon\": 1}}", "unknown channel \"pigeon\""},
      {"{\"queues\": [{\"id\": \"a\", \"offer\": {\"timeout_s\": 0}}]}", "queues[0].offer.timeout_s"},
      {"{\"queues\": [{\"id\": \"a\", \"offer\": {\"fallback\": \"b\"}}]}",
       "queues[0].offer.fallback: no other queue \"b\""},
      {"{\"queues\": [{\"id\": \"a\", \"offer\": {\"fallback\": \"a\"}}]}", "no other queue"},
      {"{\"queues\": [{\"id\": \"a\", \"offer\": {\"away_on_timeout\": 1}}]}",
       "queues[0].offer.away_on_timeout"},
      {"{\"queues\": [{\"id\": \"a\", \"max_wait\": {\"after_s\": 10}}]}", "queues[0].max_wait must be"},
      {"{\"queues\": [{\"id\": \"a\", \"max_wait\": {\"after_s\": 0, \"then\": \"email\"}}]}",
       "queues[0].max_wait.after_s"},
      {"{\"queues\": [{\"id\": \"a\", \"max_wait\": {\"then\": \"pigeon\"}}]}",
       "queues[0].max_wait.then: \"pigeon\" is neither another queue"},
      {"{\"channel_units\": {\"voice\": 0}}", "channel_units.voice"},
      {"{\"reopen_s\": -1}", "reopen_s"},
      {"{\"presence_grace_s\": 86401}", "presence_grace_s"},
      {"{\"agents\": [{\"id\": \"a\"}, {\"id\": \"a\"}]}", "agents: a is listed twice"},
      {"{\"agents\": [{\"skills\": {}}]}", "agents[0] needs an \"id\""},
      /* widening */
      {"{\"queues\": [{\"id\": \"a\", \"skills\": {\"x\": 3}, \"widen\": {}}]}",
       "queues[0].widen must be a list of 1..4 steps"},
      {"{\"queues\": [{\"id\": \"a\", \"skills\": {\"x\": 3}, \"widen\": []}]}",
       "queues[0].widen must be a list"},
      {"{\"queues\": [{\"id\": \"a\", \"skills\": {\"x\": 9}, \"widen\": [{\"after_s\": 1, "
       "\"lower_by\": 1}, {\"after_s\": 2, \"lower_by\": 2}, {\"after_s\": 3, \"lower_by\": 3}, "
       "{\"after_s\": 4, \"lower_by\": 4}, {\"after_s\": 5, \"lower_by\": 5}]}]}",
       "queues[0].widen must be a list of 1..4"},
      {"{\"queues\": [{\"id\": \"a\", \"skills\": {\"x\": 3}, \"widen\": [{\"after_s\": 30}]}]}",
       "queues[0].widen[0] must be {\"after_s\": N, \"lower_by\": N}"},
      {"{\"queues\": [{\"id\": \"a\", \"skills\": {\"x\": 3}, \"widen\": [7]}]}",
       "queues[0].widen[0] must be"},
      {"{\"queues\": [{\"id\": \"a\", \"skills\": {\"x\": 3}, \"widen\": [{\"after_s\": 0, "
       "\"lower_by\": 1}]}]}",
       "queues[0].widen[0].after_s must be an integer in 1..86400"},
      {"{\"queues\": [{\"id\": \"a\", \"skills\": {\"x\": 3}, \"widen\": [{\"after_s\": 5, "
       "\"lower_by\": 1.5}]}]}",
       "queues[0].widen[0].lower_by must be an integer in 1..10"},
      {"{\"queues\": [{\"id\": \"a\", \"skills\": {\"x\": 5}, \"widen\": [{\"after_s\": 30, "
       "\"lower_by\": 1}, {\"after_s\": 30, \"lower_by\": 2}]}]}",
       "queues[0].widen[1].after_s must be later than widen[0].after_s"},
      {"{\"queues\": [{\"id\": \"a\", \"skills\": {\"x\": 5}, \"widen\": [{\"after_s\": 30, "
       "\"lower_by\": 2}, {\"after_s\": 60, \"lower_by\": 1}]}]}",
       "queues[0].widen[1].lower_by must be more than widen[0].lower_by"},
      /* nothing to lower: no skills, levels 1, or already down to 1 */
      {"{\"queues\": [{\"id\": \"a\", \"widen\": [{\"after_s\": 30, \"lower_by\": 1}]}]}",
       "queues[0].widen[0] lowers no required skill level"},
      {"{\"queues\": [{\"id\": \"a\", \"skills\": {\"x\": 1, \"y\": 0}, \"widen\": "
       "[{\"after_s\": 30, \"lower_by\": 1}]}]}",
       "queues[0].widen[0] lowers no required skill level"},
      {"{\"queues\": [{\"id\": \"a\", \"skills\": {\"x\": 2}, \"widen\": [{\"after_s\": 30, "
       "\"lower_by\": 1}, {\"after_s\": 60, \"lower_by\": 2}]}]}",
       "queues[0].widen[1] lowers no required skill level"},
      {"{\"queues\": [{\"id\": \"a\", \"skills\": {\"x\": 3}, \"widen\": [{\"after_s\": 300, "
       "\"lower_by\": 1}], \"max_wait\": {\"after_s\": 300, \"then\": \"email\"}}]}",
       "queues[0].widen[0].after_s must come before max_wait.after_s"},
      /* a ring is no queue a user can name */
      {"{\"queues\": [{\"id\": \"a\", \"skills\": {\"x\": 3}, \"widen\": [{\"after_s\": 3, "
       "\"lower_by\": 1}]}], \"default_queue\": \"a~1\"}",
       "default_queue must name one of the queues"},
      {"{\"queues\": [{\"id\": \"a\", \"skills\": {\"x\": 3}, \"widen\": [{\"after_s\": 3, "
       "\"lower_by\": 1}]}], \"rules\": [{\"if\": {}, \"queue\": \"a~1\"}]}",
       "rules[0].queue: no queue \"a~1\""},
      /* spikes, ring-all */
      {"{\"queues\": [{\"id\": \"a\"}], \"rules\": [{\"if\": {\"spike\": \"yes\"}, \"queue\": "
       "\"a\"}]}",
       "rules[0].if.spike must be true or false"},
      {"{\"queues\": [{\"id\": \"a\", \"offer\": {\"ring_all\": 1}}]}",
       "queues[0].offer.ring_all must be an integer in 2..8"},
      {"{\"queues\": [{\"id\": \"a\", \"offer\": {\"ring_all\": 9}}]}",
       "queues[0].offer.ring_all must be an integer in 2..8"},
      {"{\"queues\": [{\"id\": \"a\", \"offer\": {\"ring_all\": \"all\"}}]}",
       "queues[0].offer.ring_all"},
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    char err[256];
    sb_route_config_t *c = load(bad[i].json, err, sizeof err);
    if (c || !strstr(err, bad[i].says) || !strstr(err, "tenant acme"))
      fail_msg("%s: got \"%s\", want \"%s\"", bad[i].json, err, bad[i].says);
  }
}

/* Each widening step becomes a ring "<id>~<k>" with the queue's settings
 * and lowered levels (never below 1; 0 stays 0); agents qualify for rings
 * as for queues; the specs chain queue -> rings -> max_wait's target. */
static void widening_compiles_rings_of_lower_levels(void **state) {
  (void)state;
  char err[256];
  sb_route_config_t *c =
      load("{\"queues\": [{\"id\": \"billing\", \"strategy\": \"best_skill\","
           "  \"skills\": {\"billing\": 4, \"lang:fr\": 2, \"any\": 0},"
           "  \"offer\": {\"timeout_s\": 20, \"ring_all\": 3},"
           "  \"widen\": [{\"after_s\": 30, \"lower_by\": 1}, {\"after_s\": 90, \"lower_by\": 3}],"
           "  \"max_wait\": {\"after_s\": 300, \"then\": \"experts\"}},"
           " {\"id\": \"experts\"}],"
           " \"agents\": [{\"id\": \"pro\", \"skills\": {\"billing\": 4, \"lang:fr\": 2, \"any\": 1}},"
           "  {\"id\": \"mid\", \"skills\": {\"billing\": 3, \"lang:fr\": 1, \"any\": 0}},"
           "  {\"id\": \"new\", \"skills\": {\"billing\": 1, \"lang:fr\": 1, \"any\": 0}},"
           "  {\"id\": \"none\", \"skills\": {\"billing\": 1, \"lang:fr\": 1}}]}",
           err, sizeof err);
  if (!c)
    fail_msg("%s", err);
  /* the queue: next step the first ring at 30 s */
  assert_string_equal(sb_route_config_queue_spec(c, "billing"),
                      "billing|best_skill|0|3600|20|3|0||30|billing~1||30|3");
  /* ring 1 (billing 3, lang:fr 1): ring 2 at 90 s, 60 s after entering it;
   * ring 2 (billing 1, lang:fr 1): max_wait's overflow at 300 s */
  assert_non_null(strstr(sb_route_config_all_specs(c),
                         ";billing~1|best_skill|0|3600|20|3|0||60|billing~2|billing|90|3;"
                         "billing~2|best_skill|0|3600|20|3|0||210|experts|billing|300|3"));
  assert_null(sb_route_config_queue_spec(c, "billing~1")); /* internal */
  assert_true(sb_route_config_offers(c));
  /* pro is in the queue and both rings; mid from ring 1, new from ring 2;
   * none lacks "any" (required at level 0, which no ring lowers) */
  assert_string_equal(sb_route_config_agent_spec(c, "pro"),
                      "billing|best_skill|7|0|3600|20,experts|longest_idle|0|0|3600|0,"
                      "billing~1|best_skill|7|0|3600|20,billing~2|best_skill|7|0|3600|20");
  assert_string_equal(sb_route_config_agent_spec(c, "mid"),
                      "experts|longest_idle|0|0|3600|0,billing~1|best_skill|4|0|3600|20,"
                      "billing~2|best_skill|4|0|3600|20");
  assert_string_equal(sb_route_config_agent_spec(c, "new"),
                      "experts|longest_idle|0|0|3600|0,billing~2|best_skill|2|0|3600|20");
  assert_string_equal(sb_route_config_agent_spec(c, "none"), "experts|longest_idle|0|0|3600|0");
  sb_route_config_destroy(&c);
  /* widening alone (no max_wait): the last ring has no next step */
  c = load("{\"queues\": [{\"id\": \"q\", \"skills\": {\"x\": 2},"
           " \"widen\": [{\"after_s\": 10, \"lower_by\": 5}]}]}",
           err, sizeof err);
  if (!c)
    fail_msg("%s", err);
  assert_string_equal(sb_route_config_all_specs(c),
                      "q|longest_idle|0|3600|0|3|0||10|q~1||10|0;q~1|longest_idle|0|3600|0|3|0||0||q|0|0");
  assert_true(sb_route_config_offers(c));
  sb_route_config_destroy(&c);
}

/* "spike": true takes messages of a spike incident, false the others. */
static void a_rule_can_match_spikes(void **state) {
  (void)state;
  char err[256];
  sb_route_config_t *c =
      load("{\"queues\": [{\"id\": \"incident\"}, {\"id\": \"calm\"}, {\"id\": \"general\"}],"
           " \"rules\": [{\"name\": \"spikes\", \"if\": {\"spike\": true, \"channel\": [\"x\"]},"
           "   \"queue\": \"incident\"},"
           "  {\"name\": \"quiet-mail\", \"if\": {\"spike\": false, \"channel\": [\"email\"]},"
           "   \"queue\": \"calm\"}],"
           " \"default_queue\": \"general\"}",
           err, sizeof err);
  if (!c)
    fail_msg("%s", err);
  const char *rule;
  msg_t m;
  msg_init(&m, "en", SWITCHBOARD__V1__CHANNEL__CHANNEL_X);
  assert_string_equal(queue_of(c, &m, &rule), "general"); /* no spike (NULL) */
  m.cl.spike = "";
  assert_string_equal(queue_of(c, &m, &rule), "general"); /* "" is none */
  m.cl.spike = "inc-42";
  assert_string_equal(queue_of(c, &m, &rule), "incident");
  assert_string_equal(rule, "spikes");
  msg_init(&m, "en", SWITCHBOARD__V1__CHANNEL__CHANNEL_EMAIL);
  m.cl.spike = "";
  assert_string_equal(queue_of(c, &m, &rule), "calm");
  m.cl.spike = "inc-42";
  assert_string_equal(queue_of(c, &m, &rule), "general");
  sb_route_config_destroy(&c);
}

/* sla-timer's widen_routing needs route's clock even where no queue
 * widens, offers or has a max_wait. */
static void an_sla_that_widens_needs_the_tick(void **state) {
  (void)state;
  char err[256];
  sb_tenant_t t = {.id = "acme"};
  sb_route_config_t *c = sb_route_config_new(&t, "{\"queues\": [{\"id\": \"a\"}]}", err, sizeof err);
  assert_non_null(c);
  assert_false(sb_route_config_offers(c));
  sb_route_config_destroy(&c);
  t.section_json[SB_TENANT_SLA] = "{\"on_breach\": [\"widen_routing\"]}";
  c = sb_route_config_new(&t, "{\"queues\": [{\"id\": \"a\"}]}", err, sizeof err);
  assert_non_null(c);
  assert_true(sb_route_config_offers(c));
  sb_route_config_destroy(&c);
}

static void strategies_have_one_name_each(void **state) {
  (void)state;
  for (int i = 0; i < SB_ROUTE_STRATEGY_N; i++)
    assert_int_equal(sb_route_strategy_parse(sb_route_strategy_name((sb_route_strategy_t)i)), i);
  assert_int_equal(sb_route_strategy_parse("random"), -1);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(a_tenant_without_route_gets_one_default_queue),
      cmocka_unit_test(rules_are_tried_in_order_and_every_condition_must_hold),
      cmocka_unit_test(skills_decide_which_queues_an_agent_serves),
      cmocka_unit_test(a_wrong_configuration_is_refused_with_the_field_named),
      cmocka_unit_test(widening_compiles_rings_of_lower_levels),
      cmocka_unit_test(a_rule_can_match_spikes),
      cmocka_unit_test(an_sla_that_widens_needs_the_tick),
      cmocka_unit_test(strategies_have_one_name_each),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
