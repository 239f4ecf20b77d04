/*
 * sb_config: flags > SB_* environment > defaults (see sb_config.h).
 * Values are stored as strings and validated by type at load time, so a
 * getter never fails: a bad number is an error before the service starts.
 */
#include "sb_config.h"
#include "sb_error.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define SB_CONFIG_MAX_OPTIONS 128
#define SB_CONFIG_MAX_POSITIONAL 32

typedef struct {
  const sb_option_t *opt;
  char *value;
  const char *source; /* "default", "env", "flag", "program" */
} entry_t;

struct sb_config {
  const char *program;
  entry_t entries[SB_CONFIG_MAX_OPTIONS];
  int n;
  char *positional[SB_CONFIG_MAX_POSITIONAL];
  int npositional;
};

static entry_t *find(const sb_config_t *c, const char *name) {
  for (int i = 0; i < c->n; i++)
    if (strcmp(c->entries[i].opt->name, name) == 0)
      return (entry_t *)&c->entries[i];
  return NULL;
}

static void set_value(entry_t *e, const char *v, const char *source) {
  free(e->value);
  e->value = strdup(v);
  e->source = source;
}

sb_config_t *sb_config_new(const char *program, const sb_option_t *const *tables) {
  sb_config_t *c = calloc(1, sizeof *c);
  if (!c)
    return NULL;
  c->program = program;
  for (; *tables; tables++)
    for (const sb_option_t *o = *tables; o->name; o++) {
      entry_t *e = find(c, o->name);
      if (!e) {
        if (c->n == SB_CONFIG_MAX_OPTIONS)
          break;
        e = &c->entries[c->n++];
      }
      e->opt = o; /* a later table overrides an earlier option's default */
      set_value(e, o->def, "default");
    }
  return c;
}

void sb_config_destroy(sb_config_t **cp) {
  sb_config_t *c = *cp;
  if (!c)
    return;
  for (int i = 0; i < c->n; i++)
    free(c->entries[i].value);
  for (int i = 0; i < c->npositional; i++)
    free(c->positional[i]);
  free(c);
  *cp = NULL;
}

static int check_value(const entry_t *e, const char *v, char *err, size_t errlen) {
  if (e->opt->type == SB_OPT_INT) {
    char *end;
    errno = 0;
    (void)strtoll(v, &end, 10);
    if (errno || end == v || *end) {
      snprintf(err, errlen, "option --%s: '%s' is not an integer", e->opt->name, v);
      return SB_ECONFIG;
    }
  } else if (e->opt->type == SB_OPT_BOOL) {
    if (strcmp(v, "0") && strcmp(v, "1") && strcmp(v, "true") && strcmp(v, "false")) {
      snprintf(err, errlen, "option --%s: '%s' is not a boolean (true/false)", e->opt->name, v);
      return SB_ECONFIG;
    }
  }
  return 0;
}

static void env_name(const char *name, char *out, size_t cap) {
  size_t i = (size_t)snprintf(out, cap, "SB_");
  for (; *name && i + 1 < cap; name++)
    out[i++] = *name == '-' ? '_' : (char)toupper((unsigned char)*name);
  out[i] = '\0';
}

static int load_env(sb_config_t *c, char *err, size_t errlen) {
  for (int i = 0; i < c->n; i++) {
    char name[128];
    env_name(c->entries[i].opt->name, name, sizeof name);
    const char *v = getenv(name);
    if (!v)
      continue;
    if (check_value(&c->entries[i], v, err, errlen))
      return SB_ECONFIG;
    set_value(&c->entries[i], v, "env");
  }
  return 0;
}

/* Handles one "--name[=value]" at argv[*i]; may consume the next argument. */
static int load_flag(sb_config_t *c, int argc, char **argv, int *i, char *err, size_t errlen) {
  char name[128];
  const char *arg = argv[*i] + 2;
  const char *eq = strchr(arg, '=');
  size_t nlen = eq ? (size_t)(eq - arg) : strlen(arg);
  if (nlen >= sizeof name) {
    snprintf(err, errlen, "option name too long");
    return SB_ECONFIG;
  }
  memcpy(name, arg, nlen);
  name[nlen] = '\0';
  entry_t *e = find(c, name);
  if (!e) {
    snprintf(err, errlen, "unknown option --%s (see --help)", name);
    return SB_ECONFIG;
  }
  const char *v = eq ? eq + 1 : NULL;
  if (!v && e->opt->type == SB_OPT_BOOL)
    v = "true";
  if (!v) {
    if (*i + 1 >= argc) {
      snprintf(err, errlen, "option --%s needs a value", name);
      return SB_ECONFIG;
    }
    v = argv[++*i];
  }
  if (check_value(e, v, err, errlen))
    return SB_ECONFIG;
  set_value(e, v, "flag");
  return 0;
}

int sb_config_load(sb_config_t *c, int argc, char **argv, char *err, size_t errlen) {
  int help = 0, print = 0;
  if (load_env(c, err, errlen))
    return SB_ECONFIG;
  for (int i = 1; i < argc; i++) {
    if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
      help = 1;
    } else if (strcmp(argv[i], "--print-config") == 0) {
      print = 1;
    } else if (strncmp(argv[i], "--", 2) == 0 && argv[i][2]) {
      if (load_flag(c, argc, argv, &i, err, errlen))
        return SB_ECONFIG;
    } else if (c->npositional < SB_CONFIG_MAX_POSITIONAL) {
      c->positional[c->npositional++] = strdup(argv[i]);
    } else {
      snprintf(err, errlen, "too many arguments");
      return SB_ECONFIG;
    }
  }
  if (help) {
    sb_config_print_help(c, stdout);
    return SB_CONFIG_EXIT;
  }
  if (print) {
    sb_config_print(c, stdout);
    return SB_CONFIG_EXIT;
  }
  return SB_CONFIG_RUN;
}

const char *sb_config_str(const sb_config_t *c, const char *name) {
  entry_t *e = find(c, name);
  return e ? e->value : "";
}

long long sb_config_int(const sb_config_t *c, const char *name) {
  return strtoll(sb_config_str(c, name), NULL, 10);
}

int sb_config_bool(const sb_config_t *c, const char *name) {
  const char *v = sb_config_str(c, name);
  return strcmp(v, "1") == 0 || strcmp(v, "true") == 0;
}

int sb_config_set(sb_config_t *c, const char *name, const char *value) {
  entry_t *e = find(c, name);
  if (!e)
    return SB_ENOTFOUND;
  set_value(e, value, "program");
  return 0;
}

int sb_config_is_set(const sb_config_t *c, const char *name) {
  entry_t *e = find(c, name);
  return e && (strcmp(e->source, "flag") == 0 || strcmp(e->source, "env") == 0);
}

int sb_config_npositional(const sb_config_t *c) { return c->npositional; }

const char *sb_config_positional(const sb_config_t *c, int i) {
  return i >= 0 && i < c->npositional ? c->positional[i] : NULL;
}

void sb_config_print_help(const sb_config_t *c, FILE *f) {
  fprintf(f, "usage: %s [--option=value ...]\n\noptions (flag, then environment, then default):\n",
          c->program);
  for (int i = 0; i < c->n; i++) {
    char env[128];
    env_name(c->entries[i].opt->name, env, sizeof env);
    fprintf(f, "  --%-22s %s\n  %24s env %s, default '%s'\n", c->entries[i].opt->name,
            c->entries[i].opt->help, "", env, c->entries[i].opt->def);
  }
  fprintf(f, "  --%-22s %s\n", "print-config", "print the effective configuration and exit");
}

void sb_config_print(const sb_config_t *c, FILE *f) {
  for (int i = 0; i < c->n; i++)
    fprintf(f, "%s=%s\t# %s\n", c->entries[i].opt->name, c->entries[i].value,
            c->entries[i].source);
}
