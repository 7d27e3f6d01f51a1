/* Reports in parts (report-stream.h): spool each platform's part, then
 * head, parts and tail in one pass. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "report-stream.h"
#include "util.h"

struct report_stream {
        const struct report_writer *w;
        bool color;
        FILE *body;                  /* the parts so far; its file has no name */
        void *state;                 /* the writer's, between parts */
        struct report_totals totals;
        int error;                   /* the first failure, 0 when none */
};

/* An unlinked file in d: O_TMPFILE where the file system has it. */
static FILE *spool_open_in(const char *d) {
        _cleanup_free_ char *tmpl = NULL;
        FILE *f;
        int fd;

        fd = open(d, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
        if (fd < 0) {
                tmpl = xasprintf("%s/.certvigil-report.XXXXXX", d);
                fd = mkostemp(tmpl, O_CLOEXEC);
                if (fd < 0)
                        return NULL;
                (void)unlink(tmpl); /* open, it needs no name; failing, it stays as a stray file, ignoring */
        }
        f = fdopen(fd, "w+");
        if (!f)
                close(fd);
        return f;
}

/* In dir, else (-o /dev/stdout, a directory we may not write) where
 * temporary files go. */
static FILE *spool_open(const char *dir) {
        const char *d = getenv("TMPDIR");
        FILE *f = dir ? spool_open_in(dir) : NULL;

        return f ? f : spool_open_in(d && *d ? d : "/tmp");
}

int report_stream_new(enum report_format f, bool color, time_t started, const char *spool_dir,
                      struct report_stream **ret) {
        const struct report_writer *w = report_writer_of(f);
        struct report_stream *s;

        if (!w)
                return -EINVAL;
        if (!w->platform)
                return -EOPNOTSUPP;
        s = xcalloc(1, sizeof(*s));
        s->w = w;
        s->color = color;
        s->totals = (struct report_totals){ .started = started, .worst = -1 };
        s->body = spool_open(spool_dir);
        if (!s->body) {
                int e = -errno;
                free(s);
                return e;
        }
        *ret = s;
        return 0;
}

struct report_stream *report_stream_free(struct report_stream *s) {
        if (!s)
                return NULL;
        if (s->w->state_free)
                s->w->state_free(s->state);
        if (s->body)
                fclose(s->body);
        free(s);
        return NULL;
}

int report_stream_platform(struct report_stream *s, const struct report_platform *rp, time_t now) {
        struct report_part part = {
                .index = s->totals.n_platforms,
                .started = s->totals.started,
                .now = now,
                .color = s->color,
        };
        int k = 0;

        report_totals_add(&s->totals, rp);
        if (s->error)
                return 0;
        k = s->w->platform(s->body, &s->state, rp, &part);
        if (k < 0)
                s->error = k;
        return k;
}

const struct report_totals *report_stream_totals(const struct report_stream *s) {
        return &s->totals;
}

int report_stream_finish(struct report_stream *s, uint64_t duration_usec, FILE *out) {
        char buf[65536];
        size_t n;
        int k;

        if (s->error)
                return s->error;
        s->totals.duration_usec = duration_usec;
        if (fflush(s->body) != 0 || fseeko(s->body, 0, SEEK_SET) < 0)
                return -errno;
        k = s->w->head(out, &s->totals, s->color);
        while (k >= 0 && (n = fread(buf, 1, sizeof(buf), s->body)) > 0)
                if (fwrite(buf, 1, n, out) != n)
                        k = -EIO;
        if (k >= 0 && ferror(s->body))
                k = -EIO;
        if (k >= 0)
                k = s->w->tail(out, &s->state, &s->totals, s->color);
        if (k >= 0 && (fflush(out) != 0 || ferror(out)))
                k = -(errno ? errno : EIO);
        return k;
}
