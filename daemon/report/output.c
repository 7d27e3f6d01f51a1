/* The report's destination: stdout, written through, or replaced
 * atomically; see output.h. */
#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "output.h"
#include "util.h"

enum output_kind {
        OUTPUT_STDOUT,
        OUTPUT_THROUGH,            /* a device, FIFO or socket: opened and written */
        OUTPUT_REPLACE,            /* a regular file or a new name: temporary file + rename */
};

struct output {
        enum output_kind kind;
        char *path;                /* as given, for messages */
        char *target;              /* what is opened or renamed over */
        char *tmp;                 /* between output_begin() and output_end() when replacing */
};

struct output *output_free(struct output *o) {
        if (!o)
                return NULL;
        free(o->path);
        free(o->target);
        if (o->tmp)
                unlink(o->tmp);
        free(o->tmp);
        free(o);
        return NULL;
}

bool output_is_stdout(const struct output *o) {
        return !o || o->kind == OUTPUT_STDOUT;
}

const char *output_path(const struct output *o) {
        return o && o->path ? o->path : "-";
}

bool output_replaces(const struct output *o) {
        return o && o->kind == OUTPUT_REPLACE;
}

static int fail(const char *path, int e, char **ret_error, const char *what) {
        *ret_error = what ? xasprintf("cannot write the report to %s: %s", path, what)
                          : xasprintf("cannot write the report to %s: %s", path, strerror(e));
        return -e;
}

/* The directory a new file at target is created in (and renamed within)
 * must be there and writable. */
static int check_dir(const char *path, const char *target, char **ret_error) {
        const char *slash = strrchr(target, '/');
        _cleanup_free_ char *dir = !slash ? xstrdup(".") : slash == target ? xstrdup("/")
                                                                           : xstrndup(target, (size_t)(slash - target));
        _cleanup_free_ char *why = NULL;
        struct stat st;

        if (stat(dir, &st) < 0)
                why = xasprintf("directory %s: %s", dir, strerror(errno));
        else if (!S_ISDIR(st.st_mode))
                why = xasprintf("%s is not a directory", dir);
        else if (access(dir, W_OK | X_OK) < 0)
                why = xasprintf("directory %s: %s", dir, strerror(errno));
        if (why)
                return fail(path, ENOTDIR, ret_error, why);
        return 0;
}

int output_open(const char *path, struct output **ret, char **ret_error) {
        struct output *o;
        struct stat st, lst;
        int r;

        if (!path || strcmp(path, "-") == 0) {
                *ret = xcalloc(1, sizeof(**ret));
                return 0;
        }
        if (!*path)
                return fail("''", EINVAL, ret_error, "empty path");
        o = xcalloc(1, sizeof(*o));
        o->path = xstrdup(path);
        if (stat(path, &st) == 0 && !S_ISREG(st.st_mode)) {
                if (S_ISDIR(st.st_mode))
                        r = fail(path, EISDIR, ret_error, NULL);
                else if (access(path, W_OK) < 0)
                        r = fail(path, errno, ret_error, NULL);
                else {
                        o->kind = OUTPUT_THROUGH;
                        o->target = xstrdup(path);
                        *ret = o;
                        return 0;
                }
                output_free(o);
                return r;
        }
        if (lstat(path, &lst) < 0) {
                if (errno != ENOENT) {
                        r = fail(path, errno, ret_error, NULL);
                        output_free(o);
                        return r;
                }
                o->target = xstrdup(path);  /* a new file; its directory is checked below */
        } else if (S_ISLNK(lst.st_mode)) {
                /* Replace what the link points to, keep the link. */
                o->target = realpath(path, NULL);
                if (!o->target) {
                        r = fail(path, errno, ret_error, NULL);
                        output_free(o);
                        return r;
                }
        } else
                o->target = xstrdup(path);
        o->kind = OUTPUT_REPLACE;
        r = check_dir(path, o->target, ret_error);
        if (r < 0) {
                output_free(o);
                return r;
        }
        *ret = o;
        return 0;
}

static int write_all(int fd, const char *text, size_t len) {
        for (size_t off = 0; off < len;) {
                ssize_t n = write(fd, text + off, len - off);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0)
                        return -errno;
                off += (size_t)n;
        }
        return 0;
}

int output_write(struct output *o, const char *text, size_t len, char **ret_error) {
        int fd, r;

        switch (o ? o->kind : OUTPUT_STDOUT) {
        case OUTPUT_STDOUT:
                if (fwrite(text, 1, len, stdout) != len || fflush(stdout) != 0)
                        return fail("standard output", errno ? errno : EIO, ret_error, NULL);
                return 0;
        case OUTPUT_THROUGH:
                /* As a shell's redirection: a FIFO waits for its reader. */
                fd = open(o->target, O_WRONLY | O_CLOEXEC | O_NOCTTY);
                if (fd < 0)
                        return fail(o->path, errno, ret_error, NULL);
                r = write_all(fd, text, len);
                if (close(fd) < 0 && r == 0 && errno != EINTR)
                        r = -errno;
                return r < 0 ? fail(o->path, -r, ret_error, NULL) : 0;
        case OUTPUT_REPLACE:
                r = write_file_atomic(o->target, text, len);
                return r < 0 ? fail(o->path, -r, ret_error, NULL) : 0;
        }
        return -EINVAL;
}

int output_begin(struct output *o, FILE **ret, char **ret_error) {
        FILE *f;
        int fd, r;

        switch (o ? o->kind : OUTPUT_STDOUT) {
        case OUTPUT_STDOUT:
                *ret = stdout;
                return 0;
        case OUTPUT_THROUGH:
                fd = open(o->target, O_WRONLY | O_CLOEXEC | O_NOCTTY);
                if (fd < 0)
                        return fail(o->path, errno, ret_error, NULL);
                f = fdopen(fd, "w");
                if (!f) {
                        r = errno;
                        close(fd);
                        return fail(o->path, r, ret_error, NULL);
                }
                *ret = f;
                return 0;
        case OUTPUT_REPLACE:
                assert(!o->tmp);
                r = file_atomic_open(o->target, ret, &o->tmp);
                return r < 0 ? fail(o->path, -r, ret_error, NULL) : 0;
        }
        return -EINVAL;
}

int output_end(struct output *o, FILE *f, bool ok, char **ret_error) {
        int r = 0;

        switch (o ? o->kind : OUTPUT_STDOUT) {
        case OUTPUT_STDOUT:
                if (fflush(stdout) != 0 || ferror(stdout))
                        r = -(errno ? errno : EIO);
                return r < 0 && ok ? fail("standard output", -r, ret_error, NULL) : r;
        case OUTPUT_THROUGH:
                if (fflush(f) != 0 || ferror(f))
                        r = -(errno ? errno : EIO);
                if (fclose(f) != 0 && r == 0 && errno != EINTR)
                        r = -errno;
                return r < 0 && ok ? fail(o->path, -r, ret_error, NULL) : r;
        case OUTPUT_REPLACE:
                r = file_atomic_close(f, TAKE_PTR(o->tmp), o->target, ok);
                return r < 0 && ok ? fail(o->path, -r, ret_error, NULL) : r;
        }
        return -EINVAL;
}

const char *output_directory_hint(const struct output *o) {
        return o && o->kind == OUTPUT_REPLACE ? o->target : NULL;
}
