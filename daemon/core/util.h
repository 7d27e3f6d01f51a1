/* Small helpers shared by every module: allocation, cleanup attributes,
 * string vectors, durations, time formatting, atomic file writes and
 * escaping of untrusted strings. */
#pragma once

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

/* Allocation failure is fatal, as in chrony's Malloc(): a monitoring daemon
 * that cannot allocate a few bytes has nothing useful left to report, and
 * checking every small allocation would bury the logic that matters. */
void *xmalloc(size_t size);
void *xcalloc(size_t n, size_t size);
void *xrealloc(void *p, size_t size);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
char *xvasprintf(const char *fmt, va_list ap) __attribute__((format(printf, 1, 0)));
/* What the helpers above do when an allocation fails, for the places that
 * allocate through a library call (tsearch). */
void oom(void) __attribute__((noreturn));

#define _cleanup_(f) __attribute__((cleanup(f)))
static inline void freep(void *p) { free(*(void **)p); }
#define _cleanup_free_ _cleanup_(freep)

/* free() that returns NULL, for p = mfree(p). */
static inline void *mfree(void *p) {
        free(p);
        return NULL;
}

/* Hands ownership of *p to the caller of the expression and clears *p, so a
 * cleanup attribute on p no longer frees it. */
#define TAKE_PTR(p) ({ __typeof__(p) _tp = (p); (p) = NULL; _tp; })

#define ELEMENTSOF(a) (sizeof(a) / sizeof((a)[0]))
#define USEC_PER_SEC 1000000ULL
#define USEC_PER_MSEC 1000ULL

/* NULL-terminated string vectors. A NULL vector is an empty one. */
size_t strv_length(char *const *v);
void strv_push(char ***v, char *s);          /* takes ownership of s */
char **strv_copy(char *const *v);
bool strv_contains(char *const *v, const char *s);
/* The same strings, in any order, duplicates ignored. */
bool strv_same_set(char *const *a, char *const *b);
/* strv_join() of all entries, or a copy of empty for an empty vector. Caller frees. */
char *strv_join_or(char *const *v, const char *sep, const char *empty);
char **strv_free(char **v);                   /* returns NULL */
/* Joins at most max (0 = all) entries with sep, adding ", ..." when cut;
 * NULL for an empty vector. Caller frees. */
char *strv_join(char *const *v, const char *sep, size_t max);
static inline void strv_freep(char ***v) { strv_free(*v); }
#define _cleanup_strv_free_ _cleanup_(strv_freep)

bool streq_ptr(const char *a, const char *b);
bool str_endswith(const char *s, const char *suffix);

/* Parses "500ms", "10s", "2m", "1h", "1d" or a bare number of seconds.
 * Returns 0 or -EINVAL; *ret_usec is written only on success. */
int parse_duration(const char *s, uint64_t *ret_usec);

/* Parses a whole decimal integer in [min, max]. Returns 0, -EINVAL or -ERANGE. */
int parse_int(const char *s, long long min, long long max, long long *ret);

/* Formats t as RFC 3339 UTC ("2026-11-26T14:22:07Z") into buf. */
#define RFC3339_MAX 32
char *format_rfc3339(time_t t, char buf[static RFC3339_MAX]);

/* Formats a duration the way people write it in the config: "1.5s",
 * "500ms", "2m", "1h30m". */
#define DURATION_MAX 32
char *format_duration(uint64_t usec, char buf[static DURATION_MAX]);

/* Lower-case hex of n bytes; caller frees. */
char *hex_encode(const unsigned char *data, size_t n, char sep);

/* A certificate serial as `openssl x509 -serial` prints it: upper-case hex,
 * no colons, without the 00 byte DER puts in front of a serial whose top
 * bit is set (an empty serial gives ""). serial_normalize() brings a
 * stored serial (lower case or with that 00 pair, as certvigil wrote
 * before, or with colons) to the same form; serial_in() compares without
 * regard to case. */
char *serial_format(const unsigned char *data, size_t n);
char *serial_normalize(const char *s);
bool serial_in(char *const *v, const char *serial);

/* Escapes bytes that must not reach a terminal or the journal verbatim
 * (control characters, NUL, DEL, invalid bytes) as \xHH. Network data goes
 * through this before it is shown. Caller frees. */
char *str_escape(const char *s, size_t len);

/* Writes data to path via a temporary file in the same directory, fsync and
 * rename, then fsyncs the directory, so readers see the old or the new file,
 * never a torn one. Returns 0 or a negative errno. */
int write_file_atomic(const char *path, const char *data, size_t len);
/* The same, and *ret_fd: an O_RDONLY descriptor on the file as written
 * (caller closes), taken before the rename, so it is that file even if
 * another process replaces path at once; while open, the file's inode
 * number cannot be given to another file. */
int write_file_atomic_pinned(const char *path, const char *data, size_t len, int *ret_fd);
/* write_file_atomic_pinned() for data in n pieces, written in order with
 * writev(2) (no copy of them is made): the file is their concatenation.
 * ret_fd may be NULL. */
struct iovec;
int write_file_atomic_iov(const char *path, const struct iovec *iov, size_t n, int *ret_fd);
/* The same for a file written piece by piece: file_atomic_open() gives a
 * stream on a temporary file beside path (*ret_tmp, its name; a special
 * file such as a FIFO is the caller's business, see output.c);
 * file_atomic_close() closes it and, when commit and every write
 * succeeded, renames it over path, else removes it. It frees tmp and
 * returns 0 or a negative errno. */
int file_atomic_open(const char *path, FILE **ret, char **ret_tmp);
int file_atomic_close(FILE *f, char *tmp, const char *path, bool commit);

/* Opens path for reading, as a regular file: O_NONBLOCK, so a FIFO put in
 * its place is refused at once (-EINVAL) instead of waited on (open() would
 * wait for a writer, read() for data: a hang on the event loop), as are a
 * device or a socket; a directory is -EISDIR. Returns a descriptor
 * (O_CLOEXEC, still non-blocking: no matter for a regular file) or a
 * negative errno. */
int file_open_regular(const char *path);
/* file_open_regular() as a stream ("re"), or NULL with errno set. */
FILE *file_fopen_regular(const char *path);
/* strerror(-r), saying "not a regular file" for file_open_regular()'s
 * -EINVAL. */
const char *file_strerror(int r);

/* Where a data file (contrib/data) is: $CERTVIGIL_DATA_DIR/file when that is
 * set, else the installed PKGDATADIR/file when readable, else the source
 * tree's (so an uninstalled build runs as is). Caller frees. */
char *data_path(const char *file);

/* Microseconds on CLOCK_MONOTONIC and CLOCK_REALTIME. */
uint64_t now_monotonic_usec(void);
uint64_t now_realtime_usec(void);

/* Raises the soft RLIMIT_NOFILE to the hard limit (systemd and shells
 * start services with a soft 1024) and returns the soft limit now in
 * force in *ret_nofile. Failing to raise it is not fatal: the caller sizes
 * its work by what it got. */
int fd_limit_raise(unsigned long *ret_nofile);

struct sockaddr;
/* What kind of internal destination sa is: "loopback", "link-local",
 * "private", "unique-local", "unspecified", "multicast", "shared (CGNAT)"
 * or "reserved"; NULL for a public address. IPv4-mapped IPv6 addresses are
 * judged as the IPv4 address they carry. */
const char *address_internal_kind(const struct sockaddr *sa);

/* Whether s is an IPv4 or IPv6 address literal as inet_pton(3) reads it
 * (no brackets, no port, no zone). */
bool address_is_literal(const char *s);
