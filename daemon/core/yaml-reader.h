/* The YAML reader under the config: reads one file within limits (size,
 * nesting, nodes, anchors, aliases) into a libyaml document, and offers typed
 * getters for its scalars that fail with "FILE:LINE:COL: message". It knows
 * nothing about certvigil's keys; config.c holds those. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <yaml.h>

/* A Helm release, values included, must fit in a 1 MiB Kubernetes Secret, so
 * real values files are far smaller than this. */
#define YFILE_SIZE_MAX (4u * 1024u * 1024u)
#define YFILE_SIZE_MAX_SHOWN "4 MiB"

/* strerror(-r), saying the limit for -EFBIG from yfile_read(). */
const char *yfile_strerror(int r);

/* One parsed YAML file. Strict files (the config) reject unknown keys and
 * empty values; lenient ones (Helm values) ignore whatever is not ours. */
struct yfile {
        const char *path;         /* for messages; borrowed, outlives the yfile */
        yaml_document_t doc;
        bool loaded;
        bool strict;
        char **error;             /* receives the first error message; may be NULL */
        char ***warnings;         /* receives warnings (a strv, each line once); may be NULL */
};

/* How long a config or values file that is a FIFO, a pipe or a device may
 * take to reach its end: a `helm get values` behind <(...) has time, a
 * FIFO nobody writes to is an error, not a hang. */
#define YFILE_PIPE_WAIT_MS 10000u
#define YFILE_PIPE_WAIT_SHOWN "10s"

/* Reads path into text (NUL-terminated), at most YFILE_SIZE_MAX bytes
 * (-EFBIG beyond); -EISDIR for a directory. A file that is not a regular
 * one (FIFO, pipe, device) is read until its end within wait_ms, else
 * -ETIMEDOUT. Returns 0 or a negative errno; logs nothing. */
int yfile_read(const char *path, unsigned wait_ms, char **ret_text, size_t *ret_size);

/* Parses text into f->doc. Returns 0 or a negative errno with *f->error set. */
int yfile_parse(struct yfile *f, const char *text, size_t len);
void yfile_done(struct yfile *f);

yaml_node_t *yfile_node(struct yfile *f, int id);
yaml_node_t *yfile_root(struct yfile *f);     /* NULL for an empty document */
/* The pair whose key is the plain string name, or NULL. */
yaml_node_pair_t *yfile_find_key(struct yfile *f, yaml_node_t *map, const char *name);

/* Scalars. */
const char *ynode_value(const yaml_node_t *n);
bool ynode_is_null(const yaml_node_t *n);       /* YAML 1.1's null spellings, plain */
bool ynode_has_nul(const yaml_node_t *n);
bool ynode_is_plain(const yaml_node_t *n);

/* A value as it may appear in a message: escaped, and cut to
 * YFILE_SHOWN_MAX characters plus "..." so a huge value cannot flood a log. */
#define YFILE_SHOWN_MAX 80
char *yfile_shown(const char *s, size_t len);
char *ynode_shown(const yaml_node_t *n);

/* Errors: write "FILE:LINE:COL: message" (or "FILE: message") to *f->error
 * and return r (yfile_fail: -EINVAL). */
int yfile_fail(struct yfile *f, yaml_mark_t m, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
int yfile_fail_errno(struct yfile *f, int r, yaml_mark_t m, const char *fmt, ...)
        __attribute__((format(printf, 4, 5)));
int yfile_fail_file(struct yfile *f, int r, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Appends "FILE:LINE:COL: warning: message" to *f->warnings, unless the
 * same line is there already (a values file shared by platforms); after 20,
 * one line says that there are more. */
void yfile_warn(struct yfile *f, yaml_mark_t m, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Typed getters. key names the setting in messages. They return 0 with the
 * value, 1 when the value counts as unset (see each), or -EINVAL with
 * *f->error set. */
/* Unset: an empty string, or null in a lenient file (Helm's `default`). */
int yfile_get_string(struct yfile *f, const char *key, yaml_node_t *n, const char **ret);
/* YAML 1.1 booleans, plain scalars only; unset: null in a lenient file. */
int yfile_get_bool(struct yfile *f, const char *key, yaml_node_t *n, bool *ret);
/* Unset: null in a lenient file. */
int yfile_get_int(struct yfile *f, const char *key, yaml_node_t *n, long long min, long long max,
                  long long *ret);
/* "10s", "2m", "1h", longer than 0. Never unset. */
int yfile_get_duration(struct yfile *f, const char *key, yaml_node_t *n, uint64_t *ret);
/* "33%" as 0.33; 1 when the scalar has no '%'. */
int yfile_get_percent(struct yfile *f, const char *key, yaml_node_t *n, double *ret);
/* 0.67 or 67%, strictly between 0 and 1. Never unset. */
int yfile_get_fraction(struct yfile *f, const char *key, yaml_node_t *n, double *ret);
