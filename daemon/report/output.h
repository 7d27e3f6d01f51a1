/* Where a rendered report goes (-o): stdout ("-" or no -o); an existing
 * file that is not a regular one (a device such as /dev/null, a FIFO, a
 * socket, or a symbolic link to one) is written through, never renamed
 * over; a regular file, or a new one, is replaced atomically by a
 * temporary file in the same directory and a rename (a symbolic link to a
 * regular file replaces the file it points to, the link stays).
 *
 * output_open() only looks, before any network traffic, so a target that
 * cannot be written stops the run at once; output_write() writes at the
 * end. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

struct output;

/* path: NULL or "-" for stdout. 0 and *ret, or a negative errno with
 * *ret_error ("cannot write the report to PATH: why"; caller frees). */
int output_open(const char *path, struct output **ret, char **ret_error);
struct output *output_free(struct output *o);   /* accepts NULL, returns NULL */

bool output_is_stdout(const struct output *o);
/* The path as given, for messages ("-" for stdout). */
const char *output_path(const struct output *o);
/* True when the target is a regular file (or a new one) that each write
 * replaces atomically: never a stdout, device or FIFO a write could block
 * on (the daemon takes only such a target). */
bool output_replaces(const struct output *o);

/* Writes text whole. 0, or a negative errno with *ret_error as above. */
int output_write(struct output *o, const char *text, size_t len, char **ret_error);

/* The same for a report written piece by piece: output_begin() gives the
 * stream (stdout, the device or FIFO, or a temporary file beside the
 * target), output_end() closes it and, when ok and every write went
 * through, renames it over the target (else removes it). 0, or a negative
 * errno with *ret_error as above (output_end() sets it only when ok). */
int output_begin(struct output *o, FILE **ret, char **ret_error);
int output_end(struct output *o, FILE *f, bool ok, char **ret_error);
/* The file a replaced report becomes (its directory suits a spool), or
 * NULL for stdout and special files. */
const char *output_directory_hint(const struct output *o);
