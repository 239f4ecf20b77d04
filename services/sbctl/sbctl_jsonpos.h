/*
 * sbctl_jsonpos: where each value of a JSON text is, by path. cJSON keeps
 * no positions, so `sbctl tenant` walks the text once more with this small
 * scanner to turn a parser's "route.queues[1].strategy" into a line and a
 * column of the file.
 *
 * Paths: "" is the root value; a member is its parent's path, a '.' (none
 * at the root) and its key as decoded ("tenants", "sla.calendars.support");
 * an array element is its parent's path and "[i]" ("tenants[0]"). The
 * position of a member is that of its key's opening quote (the line a
 * reader looks for); of an array element or the root, that of the value.
 * Lines and columns count from 1; a column counts characters (UTF-8 code
 * points), a tab is one. A key repeated in one object is recorded each
 * time; lookups answer the first, as cJSON_GetObjectItem does.
 *
 * The scanner never fails on bad input: it records what it read before the
 * first byte that cannot continue a JSON text and says so
 * (sbctl_jsonpos_complete). It nests at most SBCTL_JSONPOS_DEPTH_MAX deep
 * and does not record values whose path would exceed
 * SBCTL_JSONPOS_PATH_MAX bytes (it still walks them).
 */
#ifndef SBCTL_JSONPOS_H
#define SBCTL_JSONPOS_H

#include <stddef.h>

#define SBCTL_JSONPOS_DEPTH_MAX 256
#define SBCTL_JSONPOS_PATH_MAX 512

typedef struct {
  size_t offset; /* byte offset in the text */
  int line;      /* from 1 */
  int col;       /* from 1, in code points */
} sbctl_jsonpos_loc_t;

typedef struct sbctl_jsonpos sbctl_jsonpos_t;

/* Indexes text[0..len) (not copied, not kept). NULL only when out of
 * memory. */
sbctl_jsonpos_t *sbctl_jsonpos_new(const char *text, size_t len);
/* Frees the index and clears *p. NULL-safe. */
void sbctl_jsonpos_destroy(sbctl_jsonpos_t **p);

/* 1 if the whole text was one well-formed JSON value (as far as this
 * scanner checks: structure, strings and nesting, not number syntax). */
int sbctl_jsonpos_complete(const sbctl_jsonpos_t *p);

/* Values recorded, in text order, and the i-th one's path and place. */
size_t sbctl_jsonpos_count(const sbctl_jsonpos_t *p);
const char *sbctl_jsonpos_path(const sbctl_jsonpos_t *p, size_t i, sbctl_jsonpos_loc_t *loc);

/* The place of the value at path. 0, or SB_ENOTFOUND. */
int sbctl_jsonpos_find(const sbctl_jsonpos_t *p, const char *path, sbctl_jsonpos_loc_t *loc);

/* The place of the longest prefix of path that names a value, cutting
 * path only before a '.', '[' or ':' (or taking it whole). *matched gets
 * the prefix's length. 0, or SB_ENOTFOUND when not even the root is
 * known. */
int sbctl_jsonpos_find_prefix(const sbctl_jsonpos_t *p, const char *path, size_t *matched,
                              sbctl_jsonpos_loc_t *loc);

/* The first value under path `under` (excluded) whose last member key is
 * name, e.g. under "tenants[2]", name "secret" finds
 * "tenants[2].accounts[0].secret". 0, or SB_ENOTFOUND. */
int sbctl_jsonpos_find_key(const sbctl_jsonpos_t *p, const char *under, const char *name,
                           sbctl_jsonpos_loc_t *loc);

/* The line and column of byte offset in text[0..len) (offset > len counts
 * as len). */
sbctl_jsonpos_loc_t sbctl_jsonpos_locate(const char *text, size_t len, size_t offset);

#endif
