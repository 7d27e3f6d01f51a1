/* The YAML reader under the config: bounded reading and parsing of one file,
 * and typed getters whose errors carry FILE:LINE:COL (yaml-reader.h). */
#include "yaml-reader.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

/* The limits bound the memory and time a hostile or mistaken file (a symlink
 * to a disk image, an alias bomb) can cost; libyaml resolves each alias by a
 * linear search over all anchors. */
#define YAML_NODES_MAX 500000u
#define YAML_ANCHORS_MAX 1000u
#define YAML_ALIASES_MAX 10000u
#define YAML_DEPTH_MAX 128u
#define YFILE_WARNINGS_MAX 20u

/* ------------------------------------------------------------------------ */
/* Errors */

static int set_errorv(struct yfile *f, int r, const yaml_mark_t *m, const char *fmt, va_list ap)
        __attribute__((format(printf, 4, 0)));
static int set_errorv(struct yfile *f, int r, const yaml_mark_t *m, const char *fmt, va_list ap) {
        _cleanup_free_ char *msg = NULL;

        /* Loading stops at the first error, so this is written at most once
         * and whatever the caller's pointer held before is not ours. */
        if (!f->error)
                return r;
        msg = xvasprintf(fmt, ap);
        if (m)
                *f->error = xasprintf("%s:%zu:%zu: %s", f->path, m->line + 1, m->column + 1, msg);
        else
                *f->error = xasprintf("%s: %s", f->path, msg);
        return r;
}

int yfile_fail(struct yfile *f, yaml_mark_t m, const char *fmt, ...) {
        va_list ap;
        int r;

        va_start(ap, fmt);
        r = set_errorv(f, -EINVAL, &m, fmt, ap);
        va_end(ap);
        return r;
}

int yfile_fail_errno(struct yfile *f, int r, yaml_mark_t m, const char *fmt, ...) {
        va_list ap;

        va_start(ap, fmt);
        r = set_errorv(f, r, &m, fmt, ap);
        va_end(ap);
        return r;
}

int yfile_fail_file(struct yfile *f, int r, const char *fmt, ...) {
        va_list ap;

        va_start(ap, fmt);
        r = set_errorv(f, r, NULL, fmt, ap);
        va_end(ap);
        return r;
}

void yfile_warn(struct yfile *f, yaml_mark_t m, const char *fmt, ...) {
        _cleanup_free_ char *msg = NULL;
        size_t n = f->warnings ? strv_length(*f->warnings) : 0;
        char *line;
        va_list ap;

        /* A hostile file could hold 250,000 near-misses: say that there are
         * more rather than list them all. */
        if (!f->warnings || n > YFILE_WARNINGS_MAX)
                return;
        if (n == YFILE_WARNINGS_MAX) {
                strv_push(f->warnings, xasprintf("%s: warning: more suspicious keys, not shown", f->path));
                return;
        }
        va_start(ap, fmt);
        msg = xvasprintf(fmt, ap);
        va_end(ap);
        line = xasprintf("%s:%zu:%zu: warning: %s", f->path, m.line + 1, m.column + 1, msg);
        if (strv_contains(*f->warnings, line))
                free(line);
        else
                strv_push(f->warnings, line);
}

char *yfile_shown(const char *s, size_t len) {
        _cleanup_free_ char *head = NULL;

        if (len <= YFILE_SHOWN_MAX)
                return str_escape(s, len);
        head = str_escape(s, YFILE_SHOWN_MAX);
        return xasprintf("%s...", head);
}

const char *yfile_strerror(int r) {
        /* The limit is what the reader needs to know to fix it. */
        if (r == -EFBIG)
                return "File too large (more than " YFILE_SIZE_MAX_SHOWN ")";
        if (r == -ETIMEDOUT)
                return "no end of file within " YFILE_PIPE_WAIT_SHOWN
                       " (a FIFO or pipe whose writer did not finish)";
        return strerror(-r);
}

char *ynode_shown(const yaml_node_t *n) {
        return yfile_shown(ynode_value(n), n->data.scalar.length);
}

/* ------------------------------------------------------------------------ */
/* Files and documents */

/* Waits until fd (non-blocking) has data or its end, or until give_up
 * (CLOCK_MONOTONIC, usec): 0, -ETIMEDOUT, or a negative errno. */
static int wait_readable(int fd, uint64_t give_up) {
        for (;;) {
                struct pollfd p = { .fd = fd, .events = POLLIN };
                uint64_t now = now_monotonic_usec();
                /* Asked once even when the time is up: what is there is read. */
                int n = poll(&p, 1, now < give_up ? (int)((give_up - now + 999) / 1000) : 0);

                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0)
                        return -errno;
                if (n > 0)
                        return 0;
                if (now >= give_up)
                        return -ETIMEDOUT;
        }
}

int yfile_read(const char *path, unsigned wait_ms, char **ret_text, size_t *ret_size) {
        _cleanup_free_ char *buf = NULL;
        size_t size = 0, alloc = 0;
        uint64_t give_up = 0;
        struct stat st;
        bool stream;
        /* O_NONBLOCK: opening a FIFO must not wait for a writer. */
        int r = 0, fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);

        if (fd < 0)
                return -errno;
        if (fstat(fd, &st) < 0) {
                r = -errno;
                close(fd);
                return r;
        }
        if (S_ISDIR(st.st_mode)) {
                close(fd);
                return -EISDIR;
        }
        /* A FIFO, a pipe (--values <(helm get values ...)), a device: read
         * as its data comes, to its end, but only until wait_ms has passed,
         * so a writer that never comes, never writes or never closes cannot
         * hang us. Waiting before each read also keeps a FIFO that no writer
         * has opened yet from reading as empty. */
        stream = !S_ISREG(st.st_mode);
        if (stream)
                give_up = now_monotonic_usec() + (uint64_t)wait_ms * 1000;
        for (;;) {
                ssize_t n;

                if (alloc - size < 4096) {
                        alloc = alloc ? alloc * 2 : 16384;
                        buf = xrealloc(buf, alloc + 1);
                }
                if (stream) {
                        r = wait_readable(fd, give_up);
                        if (r < 0)
                                break;
                }
                n = read(fd, buf + size, alloc - size);
                if (n < 0 && (errno == EINTR || errno == EAGAIN))
                        continue;
                if (n < 0) {
                        r = -errno;
                        break;
                }
                if (n == 0)
                        break;
                size += (size_t)n;
                /* Checked while reading, not with fstat(), so /dev/zero or a
                 * FIFO cannot grow the buffer without bound either. */
                if (size > YFILE_SIZE_MAX) {
                        r = -EFBIG;
                        break;
                }
        }
        close(fd);
        if (r < 0)
                return r;
        buf[size] = 0;
        *ret_text = TAKE_PTR(buf);
        *ret_size = size;
        return 0;
}

void yfile_done(struct yfile *f) {
        if (f->loaded)
                yaml_document_delete(&f->doc);
        f->loaded = false;
}

yaml_node_t *yfile_node(struct yfile *f, int id) {
        return yaml_document_get_node(&f->doc, id);
}

yaml_node_t *yfile_root(struct yfile *f) {
        return f->loaded ? yaml_document_get_root_node(&f->doc) : NULL;
}

yaml_node_pair_t *yfile_find_key(struct yfile *f, yaml_node_t *map, const char *name) {
        for (yaml_node_pair_t *pair = map->data.mapping.pairs.start; pair < map->data.mapping.pairs.top; pair++) {
                yaml_node_t *kn = yfile_node(f, pair->key);
                if (kn && kn->type == YAML_SCALAR_NODE && !ynode_has_nul(kn) &&
                    strcmp(ynode_value(kn), name) == 0 && yfile_node(f, pair->value))
                        return pair;
        }
        return NULL;
}

/* libyaml reports encoding errors by byte offset only. */
static yaml_mark_t mark_from_offset(const char *text, size_t len, size_t offset) {
        yaml_mark_t m = { .index = offset };

        for (size_t i = 0; i < offset && i < len; i++) {
                if (text[i] == '\n') {
                        m.line++;
                        m.column = 0;
                } else if (((unsigned char)text[i] & 0xc0) != 0x80)
                        m.column++;
        }
        return m;
}

static int syntax_error(struct yfile *f, const yaml_parser_t *parser, const char *text, size_t len) {
        const char *problem = parser->problem ? parser->problem : "unknown error";
        yaml_mark_t m = parser->problem_mark;

        if (parser->error == YAML_MEMORY_ERROR)
                return yfile_fail_file(f, -ENOMEM, "out of memory while parsing YAML");
        if (parser->error == YAML_READER_ERROR)
                m = mark_from_offset(text, len, parser->problem_offset);
        /* libyaml splits this one into context and problem ("second
         * occurrence"), which alone would make no sense to a reader. */
        if (parser->error == YAML_COMPOSER_ERROR && parser->context &&
            strncmp(parser->context, "found duplicate anchor", 22) == 0)
                problem = "found duplicate anchor";
        return yfile_fail(f, m, "YAML syntax error: %s", problem);
}

static bool event_is_anchored(const yaml_event_t *ev) {
        switch (ev->type) {
        case YAML_SCALAR_EVENT:
                return ev->data.scalar.anchor != NULL;
        case YAML_SEQUENCE_START_EVENT:
                return ev->data.sequence_start.anchor != NULL;
        case YAML_MAPPING_START_EVENT:
                return ev->data.mapping_start.anchor != NULL;
        default:
                return false;
        }
}

/* What the prescan counts, and where it stands. */
struct prescan {
        size_t nodes, anchors, aliases, depth, documents;
};

/* One event against the limits: 0, or an error. */
static int prescan_event(struct yfile *f, struct prescan *s, yaml_event_type_t type, yaml_mark_t m,
                         bool anchored) {
        if (type == YAML_DOCUMENT_START_EVENT && ++s->documents > 1)
                return yfile_fail(f, m, "multiple YAML documents are not supported");
        if (type == YAML_SEQUENCE_START_EVENT || type == YAML_MAPPING_START_EVENT) {
                if (++s->depth > YAML_DEPTH_MAX)
                        return yfile_fail(f, m, "YAML nesting too deep (more than %u levels)", YAML_DEPTH_MAX);
        } else if (type == YAML_SEQUENCE_END_EVENT || type == YAML_MAPPING_END_EVENT)
                s->depth--;
        if ((type == YAML_SCALAR_EVENT || type == YAML_ALIAS_EVENT || type == YAML_SEQUENCE_START_EVENT ||
             type == YAML_MAPPING_START_EVENT) &&
            ++s->nodes > YAML_NODES_MAX)
                return yfile_fail(f, m, "too many YAML nodes (more than %u)", YAML_NODES_MAX);
        if (type == YAML_ALIAS_EVENT && ++s->aliases > YAML_ALIASES_MAX)
                return yfile_fail(f, m, "too many YAML aliases (more than %u)", YAML_ALIASES_MAX);
        if (anchored && ++s->anchors > YAML_ANCHORS_MAX)
                return yfile_fail(f, m, "too many YAML anchors (more than %u)", YAML_ANCHORS_MAX);
        return 0;
}

/* A cheap pass over the event stream before building the tree: it finds
 * syntax errors, extra documents and inputs too big to be worth a tree. */
static int prescan(struct yfile *f, const char *text, size_t len) {
        _cleanup_(yaml_parser_delete) yaml_parser_t parser = {};
        struct prescan s = {};

        if (!yaml_parser_initialize(&parser))
                return yfile_fail_file(f, -ENOMEM, "out of memory while parsing YAML");
        yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
        for (;;) {
                yaml_event_t ev;
                yaml_event_type_t type;
                yaml_mark_t m;
                bool anchored;
                int r;

                if (!yaml_parser_parse(&parser, &ev))
                        return syntax_error(f, &parser, text, len);
                type = ev.type;
                m = ev.start_mark;
                anchored = event_is_anchored(&ev);
                yaml_event_delete(&ev);
                if (type == YAML_STREAM_END_EVENT)
                        return 0;
                r = prescan_event(f, &s, type, m, anchored);
                if (r < 0)
                        return r;
        }
}

int yfile_parse(struct yfile *f, const char *text, size_t len) {
        _cleanup_(yaml_parser_delete) yaml_parser_t parser = {};
        int r;

        r = prescan(f, text, len);
        if (r < 0)
                return r;
        if (!yaml_parser_initialize(&parser))
                return yfile_fail_file(f, -ENOMEM, "out of memory while parsing YAML");
        yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
        if (!yaml_parser_load(&parser, &f->doc))
                return syntax_error(f, &parser, text, len);
        f->loaded = true;
        return 0;
}

/* ------------------------------------------------------------------------ */
/* Scalars */

const char *ynode_value(const yaml_node_t *n) {
        return (const char *)n->data.scalar.value;
}

bool ynode_is_plain(const yaml_node_t *n) {
        return n->type == YAML_SCALAR_NODE && n->data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
}

/* YAML 1.1's null spellings, as Helm's parser reads them. */
bool ynode_is_null(const yaml_node_t *n) {
        static const char *const nulls[] = { "", "~", "null", "Null", "NULL" };

        if (!ynode_is_plain(n))
                return false;
        for (size_t i = 0; i < ELEMENTSOF(nulls); i++)
                if (strcmp(ynode_value(n), nulls[i]) == 0)
                        return true;
        return false;
}

bool ynode_has_nul(const yaml_node_t *n) {
        return strlen(ynode_value(n)) != n->data.scalar.length;
}

int yfile_get_string(struct yfile *f, const char *key, yaml_node_t *n, const char **ret) {
        if (n->type != YAML_SCALAR_NODE || (f->strict && ynode_is_null(n)))
                return yfile_fail(f, n->start_mark, "'%s' must be a string", key);
        if (ynode_is_null(n) || n->data.scalar.length == 0)
                return 1;
        if (ynode_has_nul(n))
                return yfile_fail(f, n->start_mark, "'%s' must not contain NUL characters", key);
        *ret = ynode_value(n);
        return 0;
}

/* Only plain scalars: a quoted "false" is a string, and Helm templates would
 * treat it as true. */
int yfile_get_bool(struct yfile *f, const char *key, yaml_node_t *n, bool *ret) {
        static const char *const yes[] = { "true", "yes", "on" }, *const no[] = { "false", "no", "off" };

        if (!f->strict && ynode_is_null(n))
                return 1;
        if (ynode_is_plain(n) && !ynode_has_nul(n))
                for (size_t i = 0; i < ELEMENTSOF(yes); i++) {
                        if (strcasecmp(ynode_value(n), yes[i]) == 0) {
                                *ret = true;
                                return 0;
                        }
                        if (strcasecmp(ynode_value(n), no[i]) == 0) {
                                *ret = false;
                                return 0;
                        }
                }
        return yfile_fail(f, n->start_mark, "'%s' must be a boolean", key);
}

int yfile_get_int(struct yfile *f, const char *key, yaml_node_t *n, long long min, long long max,
                  long long *ret) {
        int r;

        if (!f->strict && ynode_is_null(n))
                return 1;
        if (!ynode_is_plain(n) || ynode_is_null(n))
                return yfile_fail(f, n->start_mark, "'%s' must be an integer", key);
        r = parse_int(ynode_value(n), min, max, ret);
        if (r == -ERANGE)
                return yfile_fail(f, n->start_mark, "'%s' must be between %lld and %lld", key, min, max);
        if (r < 0)
                return yfile_fail(f, n->start_mark, "'%s' must be an integer", key);
        return 0;
}

int yfile_get_duration(struct yfile *f, const char *key, yaml_node_t *n, uint64_t *ret) {
        uint64_t usec;

        if (n->type != YAML_SCALAR_NODE || ynode_is_null(n) || ynode_has_nul(n) ||
            parse_duration(ynode_value(n), &usec) < 0)
                return yfile_fail(f, n->start_mark, "'%s' must be a duration such as 10s, 2m or 1h", key);
        if (usec == 0)
                return yfile_fail(f, n->start_mark, "'%s' must be longer than 0", key);
        *ret = usec;
        return 0;
}

int yfile_get_percent(struct yfile *f, const char *key, yaml_node_t *n, double *ret) {
        const char *v;
        size_t len;
        char *end = NULL;
        double d;

        if (!ynode_is_plain(n) || ynode_has_nul(n))
                return 1;
        v = ynode_value(n);
        len = strlen(v);
        if (len < 2 || v[len - 1] != '%')
                return 1;
        errno = 0;
        d = strtod(v, &end);
        if (errno != 0 || end != v + len - 1 || !(d >= 0.0 && d <= 100.0))
                return yfile_fail(f, n->start_mark,
                                  "'%s' must be a number of days or a share of the lifetime from 0%% to 100%%", key);
        *ret = d / 100.0;
        return 0;
}

int yfile_get_fraction(struct yfile *f, const char *key, yaml_node_t *n, double *ret) {
        char *end = NULL;
        double d;
        int r;

        r = yfile_get_percent(f, key, n, &d);
        if (r < 0)
                return r;
        if (r > 0) {
                if (!ynode_is_plain(n) || ynode_has_nul(n) || ynode_is_null(n))
                        return yfile_fail(f, n->start_mark,
                                          "'%s' must be a fraction such as 0.67 or a share such as 67%%", key);
                errno = 0;
                d = strtod(ynode_value(n), &end);
                if (errno != 0 || end == ynode_value(n) || *end)
                        return yfile_fail(f, n->start_mark,
                                          "'%s' must be a fraction such as 0.67 or a share such as 67%%", key);
        }
        if (!(d > 0.0 && d < 1.0))
                return yfile_fail(f, n->start_mark, "'%s' must be between 0 and 1 (exclusive)", key);
        *ret = d;
        return 0;
}
