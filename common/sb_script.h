/*
 * sb_script: the Lua scripts of switchboard. Each script is a .lua file
 * beside the module that calls it, embedded at build time
 * (cmake/embed_lua.cmake) as `sb_script_<file name>`; prelude.lua is
 * prepended to every one of them. Scripts are loaded once per connection
 * and called by SHA (sb_redis).
 */
#ifndef SB_SCRIPT_H
#define SB_SCRIPT_H

#include "sb_redis.h"

/* Embedded script bodies (generated). */
extern const char sb_script_prelude[];
extern const char sb_script_handoff[];
extern const char sb_script_sweep[];
extern const char sb_script_dlq[];

/* prelude + body as one malloc'd script text (the caller frees it), or
 * NULL when out of memory. For callers that load a script themselves
 * (sbctl, tests, benches); services use sb_script_add. */
char *sb_script_source(const char *body);
/* The same, for a script registered as name ([a-z0-9_]+; NULL for any
 * other name or out of memory): the script then records the Redis time it
 * takes in its tenant's stats (lua_us:<name>, lua_calls:<name>; see
 * stats_flush in prelude.lua). sb_script_add uses it. */
char *sb_script_source_named(const char *name, const char *body);
/* 1 when name can name a script: [a-z0-9_]+ (it goes into Lua source). */
int sb_script_name_ok(const char *name);
/* a + "\n" + b as one malloc'd text, or NULL (scripts made of parts). */
char *sb_script_join(const char *a, const char *b);

/* Registers prelude + body under name. Returns the script id (>= 0) for
 * sb_redis_evalsha, or a negative error. */
int sb_script_add(sb_redis_t *r, const char *name, const char *body);

#endif
