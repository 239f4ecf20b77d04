/*
 * sb_config: one configuration parser for every binary.
 *
 * Each option has a name ("redis-url"), a type, a default and a help line.
 * Precedence: command-line flag (--redis-url=URL or --redis-url URL), then
 * the environment (SB_REDIS_URL: "SB_" + upper-case name, '-' -> '_'), then
 * the default. Per-tenant settings (queues, SLA targets, ...) live in the
 * tenant configuration file named by --tenants; see sb_tenants.h.
 * `--help` prints every option with its default; `--print-config` prints the
 * effective value of each and where it came from.
 */
#ifndef SB_CONFIG_H
#define SB_CONFIG_H

#include <stdio.h>

typedef enum { SB_OPT_STR, SB_OPT_INT, SB_OPT_BOOL } sb_opt_type_t;

typedef struct {
  const char *name;
  sb_opt_type_t type;
  const char *def; /* default as text; "" for empty */
  const char *help;
} sb_option_t;

typedef struct sb_config sb_config_t;

/* Result of sb_config_load beyond errors. */
#define SB_CONFIG_RUN 0
#define SB_CONFIG_EXIT 1 /* --help or --print-config was handled: exit 0 */

/* Options are copied by pointer: the tables must outlive the config.
 * tables: NULL-terminated list of option arrays, each ended by {NULL}. */
sb_config_t *sb_config_new(const char *program, const sb_option_t *const *tables);
void sb_config_destroy(sb_config_t **c);

/* Parses argv and the environment. Returns SB_CONFIG_RUN, SB_CONFIG_EXIT or
 * SB_ECONFIG with a reason in err (unknown flag, missing value, bad number).
 * Arguments that are not flags are kept as positionals. */
int sb_config_load(sb_config_t *c, int argc, char **argv, char *err, size_t errlen);

const char *sb_config_str(const sb_config_t *c, const char *name);
long long sb_config_int(const sb_config_t *c, const char *name);
int sb_config_bool(const sb_config_t *c, const char *name);
/* Overrides a value (source "program"), e.g. a derived default. */
int sb_config_set(sb_config_t *c, const char *name, const char *value);
/* 1 if the value came from a flag or the environment. */
int sb_config_is_set(const sb_config_t *c, const char *name);

int sb_config_npositional(const sb_config_t *c);
const char *sb_config_positional(const sb_config_t *c, int i);

void sb_config_print_help(const sb_config_t *c, FILE *f);
void sb_config_print(const sb_config_t *c, FILE *f);

#endif
