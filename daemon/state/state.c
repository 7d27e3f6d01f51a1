/* state.json: load, save, and the small bookkeeping on it. The format is
 * versioned ("format": 2, and 1 is still read); a file we cannot read is reported and replaced,
 * never fatal: losing it costs at most one round of repeated alerts. */
#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <stdint.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "checks.h"
#include "state.h"
#include "util.h"


struct state *state_new(void) {
        struct state *s = xcalloc(1, sizeof(struct state));
        s->file.fd = -1;
        return s;
}

void state_finding_done(struct state_finding *f) {
        free(f->id);
        free(f->name);
        free(f->address);
        free(f->subject);
        free(f->message);
        *f = (struct state_finding){ 0 };
}

void state_finding_copy(struct state_finding *dst, const struct state_finding *src) {
        *dst = *src;
        dst->id = xstrdup(src->id);
        dst->name = xstrdup(src->name);
        dst->address = xstrdup(src->address);
        dst->subject = xstrdup(src->subject);
        dst->message = xstrdup(src->message);
}

static void state_cert_done(struct state_cert *c) {
        free(c->name);
        free(c->address);
        free(c->sha256);
        free(c->subject);
        free(c->issuer);
        *c = (struct state_cert){ 0 };
}

static void state_platform_done(struct state_platform *sp) {
        for (size_t i = 0; i < sp->n_findings; i++)
                state_finding_done(&sp->findings[i]);
        for (size_t i = 0; i < sp->n_certs; i++)
                state_cert_done(&sp->certs[i]);
        free(sp->findings);
        free(sp->certs);
        free(sp->name);
        free(sp->text);
        *sp = (struct state_platform){ 0 };
}

struct state *state_free(struct state *s) {
        if (!s)
                return NULL;
        for (size_t i = 0; i < s->n_platforms; i++)
                state_platform_done(&s->platforms[i]);
        free(s->platforms);
        free(s->index);
        free(s->touched);
        free(s->iov);
        json_decref(s->renewal);
        free(s->renewal_text);
        if (s->file.fd >= 0)
                close(s->file.fd);
        free(s);
        return NULL;
}

/* FNV-1a, folded onto the table. */
static size_t index_slot(const struct state *s, const char *name) {
        uint64_t h = 14695981039346656037ull;
        for (const unsigned char *c = (const unsigned char *)name; *c; c++)
                h = (h ^ *c) * 1099511628211ull;
        return (size_t)h & (s->index_size - 1);
}

/* The slot holding name, or the free one where it would go. */
static size_t index_find(const struct state *s, const char *name) {
        size_t i = index_slot(s, name);
        while (s->index[i] && strcmp(s->platforms[s->index[i] - 1].name, name) != 0)
                i = (i + 1) & (s->index_size - 1);
        return i;
}

/* Made anew for at least `want` platforms: after the array shrank
 * (pruning) or before it outgrows the table. */
static void index_rebuild(struct state *s, size_t want) {
        size_t size = 16;
        while (size < 2 * want + 1)
                size *= 2;
        free(s->index);
        s->index = xcalloc(size, sizeof(*s->index));
        s->index_size = size;
        for (size_t k = 0; k < s->n_platforms; k++)
                s->index[index_find(s, s->platforms[k].name)] = k + 1;
}

const struct state_platform *state_platform_find(const struct state *s, const char *name) {
        size_t i;

        if (!s || !s->index_size)
                return NULL;
        i = index_find(s, name);
        return s->index[i] ? &s->platforms[s->index[i] - 1] : NULL;
}

/* Platform k is given out for changing: its text is rendered again at the
 * next save, and the next state_prune_due() looks at its last audit. */
static struct state_platform *platform_touch(struct state *s, size_t k) {
        struct state_platform *sp = &s->platforms[k];

        free(sp->text);
        sp->text = NULL;
        sp->text_len = 0;
        if (!sp->touched) {
                if (s->n_touched == s->n_touched_allocated) {
                        s->n_touched_allocated = s->n_touched_allocated ? 2 * s->n_touched_allocated : 16;
                        s->touched = xrealloc(s->touched, s->n_touched_allocated * sizeof(*s->touched));
                }
                s->touched[s->n_touched++] = k;
                sp->touched = true;
        }
        return sp;
}

struct state_platform *state_platform(struct state *s, const char *name) {
        size_t i;

        if (2 * (s->n_platforms + 1) >= s->index_size)
                index_rebuild(s, s->n_platforms + 1);
        i = index_find(s, name);
        if (s->index[i])
                return platform_touch(s, s->index[i] - 1);
        if (s->n_platforms == s->n_allocated) {
                s->n_allocated = s->n_allocated ? 2 * s->n_allocated : 16;
                s->platforms = xrealloc(s->platforms, s->n_allocated * sizeof(*s->platforms));
        }
        s->platforms[s->n_platforms] = (struct state_platform){ .name = xstrdup(name) };
        s->index[i] = ++s->n_platforms;
        return platform_touch(s, s->n_platforms - 1);
}

int severity_from_string(const char *s) {
        static const enum severity all[] = { SEVERITY_INFO, SEVERITY_WARNING, SEVERITY_CRITICAL };
        for (size_t i = 0; s && i < ELEMENTSOF(all); i++)
                if (strcmp(s, severity_to_string(all[i])) == 0)
                        return (int)all[i];
        return -EINVAL;
}

int state_platform_worst(const struct state_platform *sp) {
        int worst = -1;
        for (size_t i = 0; sp && i < sp->n_findings; i++)
                if ((int)sp->findings[i].severity > worst)
                        worst = (int)sp->findings[i].severity;
        return worst;
}

const struct state_cert *state_platform_cert(const struct state_platform *sp, const char *name, const char *address) {
        for (size_t i = 0; i < sp->n_certs; i++)
                if (streq_ptr(sp->certs[i].name, name) && streq_ptr(sp->certs[i].address, address))
                        return &sp->certs[i];
        return NULL;
}

static bool in_obs(const struct platform_obs *obs, const struct state_cert *c) {
        for (size_t i = 0; i < obs->n_endpoints; i++)
                if (streq_ptr(obs->endpoints[i].name, c->name) && streq_ptr(obs->endpoints[i].address, c->address))
                        return true;
        return false;
}

/* Keeps the endpoints of obs and a bounded history of the others: with
 * addresses that change every audit, the file would otherwise grow by an
 * entry per new address for ever. */
static void prune_certs(struct state_platform *sp, const struct platform_obs *obs, time_t now) {
        _cleanup_free_ bool *current = xcalloc(sp->n_certs + 1, sizeof(*current));
        size_t n = 0, history = 0;

        for (size_t i = 0; i < sp->n_certs; i++)
                current[i] = in_obs(obs, &sp->certs[i]);
        for (size_t i = 0; i < sp->n_certs; i++) {
                struct state_cert *c = &sp->certs[i];
                bool keep = current[i];
                if (!keep && c->seen + STATE_CERT_KEEP_SEC >= now) {
                        /* In the history when fewer than STATE_CERT_HISTORY
                         * are newer (ties: the later entry is newer). */
                        size_t newer = 0;
                        for (size_t j = 0; j < sp->n_certs; j++)
                                if (j != i && !current[j] && sp->certs[j].seen + STATE_CERT_KEEP_SEC >= now &&
                                    (sp->certs[j].seen > c->seen || (sp->certs[j].seen == c->seen && j > i)))
                                        newer++;
                        keep = newer < STATE_CERT_HISTORY;
                        history += keep;
                }
                if (keep)
                        sp->certs[n++] = *c;
                else
                        state_cert_done(c);
        }
        assert(history <= STATE_CERT_HISTORY);
        sp->n_certs = n;
}

#define TIME_MAX ((time_t)INT64_MAX)
static_assert(sizeof(time_t) == sizeof(int64_t), "time_t is 64 bits");

/* The first time at which sp, unless configured, is dropped. */
static time_t platform_drop_at(const struct state_platform *sp) {
        if (sp->last_audit > TIME_MAX - STATE_PLATFORM_KEEP_SEC - 1)
                return TIME_MAX;
        return sp->last_audit + STATE_PLATFORM_KEEP_SEC + 1;
}

void state_prune_platforms(struct state *s, const char *const *configured, size_t n, time_t now) {
        size_t kept = 0;
        time_t due = TIME_MAX;

        for (size_t i = 0; i < s->n_platforms; i++) {
                struct state_platform *sp = &s->platforms[i];
                time_t drop_at = platform_drop_at(sp);
                bool keep = now < drop_at;
                /* The configured ones that are kept only for being
                 * configured stay while the names are the same. */
                if (keep && drop_at < due)
                        due = drop_at;
                for (size_t j = 0; j < n && !keep; j++)
                        keep = strcmp(configured[j], sp->name) == 0;
                sp->touched = false;
                if (keep)
                        s->platforms[kept++] = *sp;
                else
                        state_platform_done(sp);
        }
        s->n_touched = 0;
        s->prune_due = due;
        /* The index holds while nothing moved. */
        if (kept < s->n_platforms) {
                s->n_platforms = kept;
                index_rebuild(s, kept);
        }
}

bool state_prune_due(struct state *s, time_t now) {
        for (size_t i = 0; i < s->n_touched; i++) {
                struct state_platform *sp = &s->platforms[s->touched[i]];
                time_t drop_at = platform_drop_at(sp);
                if (drop_at < s->prune_due)
                        s->prune_due = drop_at;
                sp->touched = false;
        }
        s->n_touched = 0;
        return now >= s->prune_due;
}

void state_platform_record_certs(struct state_platform *sp, const struct platform_obs *obs, time_t now) {
        for (size_t i = 0; i < obs->n_endpoints; i++) {
                const struct endpoint_obs *e = &obs->endpoints[i];
                struct state_cert *c = (struct state_cert *)state_platform_cert(sp, e->name, e->address);
                if (e->status != ENDPOINT_OK || e->n_chain == 0)
                        continue;
                if (!c) {
                        sp->certs = xrealloc(sp->certs, (sp->n_certs + 1) * sizeof(*sp->certs));
                        c = &sp->certs[sp->n_certs++];
                } else
                        state_cert_done(c);
                *c = (struct state_cert){
                        .name = xstrdup(e->name),
                        .address = xstrdup(e->address),
                        .port = e->port,
                        .sha256 = xstrdup(e->chain[0].sha256),
                        .subject = xstrdup(e->chain[0].subject),
                        .issuer = xstrdup(e->chain[0].issuer),
                        .not_after = e->chain[0].not_after,
                        .seen = now,
                };
        }
        prune_certs(sp, obs, now);
}

/* ---- the lock ---------------------------------------------------------- */

int state_lock(const char *dir, int *ret_fd, char **ret_error) {
        _cleanup_free_ char *path = xasprintf("%s/%s", dir, STATE_LOCK_FILE);
        uint64_t give_up = now_monotonic_usec() + STATE_LOCK_WAIT_USEC;
        const struct timespec step = { .tv_nsec = 10 * 1000 * 1000 };
        char dur[DURATION_MAX];
        struct stat st;
        int fd, r;

        /* O_NONBLOCK: a FIFO in its place is refused below, not waited on
         * for a writer (as a read-only open would); flock() ignores it. */
        fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOCTTY | O_NONBLOCK, 0600);
        if (fd < 0 && (errno == EACCES || errno == EROFS))
                fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
        if (fd < 0 && (errno == ENOENT || errno == EACCES || errno == EROFS)) {
                *ret_fd = -1;
                return 0;
        }
        if (fd < 0) {
                r = -errno;   /* before xasprintf(), which may change errno */
                *ret_error = xasprintf("%s: %s", path, strerror(-r));
                return r;
        }
        r = fstat(fd, &st) < 0 ? -errno : S_ISREG(st.st_mode) ? 0 : -EINVAL;
        if (r < 0) {
                close(fd);
                *ret_error = xasprintf("%s: %s", path, r == -EINVAL ? "not a regular file" : strerror(-r));
                return r;
        }
        /* Poll rather than block in flock(): the wait must end. */
        while (flock(fd, LOCK_EX | LOCK_NB) < 0) {
                int e = errno;
                if (e != EWOULDBLOCK && e != EINTR) {
                        close(fd);
                        *ret_error = xasprintf("%s: %s", path, strerror(e));
                        return -e;
                }
                if (now_monotonic_usec() >= give_up) {
                        close(fd);
                        *ret_error = xasprintf("%s: still locked by another certvigil after %s", path,
                                               format_duration(STATE_LOCK_WAIT_USEC, dur));
                        return -ETIMEDOUT;
                }
                (void)nanosleep(&step, NULL);
        }
        *ret_fd = fd;
        return 0;
}

int state_unlock(int fd) {
        if (fd >= 0)
                close(fd); /* closing the only descriptor releases the flock */
        return -1;
}

/* ---- reading ----------------------------------------------------------- */

/* The whole file, in large reads (jansson's json_loadfd() would read it a
 * byte per read(2): 8 million system calls for an 8 MB state). At most
 * max bytes: -EFBIG beyond, should it have grown since it was measured. */
static int read_bounded(int fd, size_t hint, size_t max, char **ret, size_t *ret_len) {
        size_t cap = hint < max ? hint + 1 : max + 1, len = 0;
        _cleanup_free_ char *buf = xmalloc(cap);

        for (;;) {
                ssize_t n = read(fd, buf + len, cap - len);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0)
                        return -errno;
                if (n == 0)
                        break;
                len += (size_t)n;
                if (len > max)
                        return -EFBIG;
                if (len == cap) {
                        cap = cap > max / 2 ? max + 1 : cap * 2;
                        buf = xrealloc(buf, cap);
                }
        }
        *ret = TAKE_PTR(buf);
        *ret_len = len;
        return 0;
}

/* fd (taken) on the version st describes. */
static struct state_file_id file_id(const struct stat *st, int fd) {
        return (struct state_file_id){ .dev = st->st_dev, .ino = st->st_ino, .size = st->st_size,
                                       .mtime = st->st_mtim, .ctime = st->st_ctim, .fd = fd };
}

/* No version known any more. */
static void file_id_forget(struct state_file_id *id) {
        if (id->fd >= 0)
                close(id->fd);
        *id = (struct state_file_id){ .fd = -1 };
}

/* Whether path is still the file id describes: its inode is held by id->fd,
 * so the same device and inode number is the same file. */
static bool file_id_current(const struct state_file_id *id, const char *path) {
        struct stat st;

        if (id->fd < 0 || stat(path, &st) < 0)
                return false;
        return st.st_dev == id->dev && st.st_ino == id->ino && st.st_size == id->size &&
               st.st_mtim.tv_sec == id->mtime.tv_sec && st.st_mtim.tv_nsec == id->mtime.tv_nsec &&
               st.st_ctim.tv_sec == id->ctime.tv_sec && st.st_ctim.tv_nsec == id->ctime.tv_nsec;
}

/* state_read_json(), and which version of the file was read (its
 * descriptor in ret_id, the caller's to close). */
static int read_json(const char *path, size_t flags, json_t **ret, struct state_file_id *ret_id, char **ret_error) {
        _cleanup_free_ char *text = NULL;
        json_error_t err;
        struct stat st;
        json_t *root;
        size_t len = 0;
        int fd, r;

        /* O_NONBLOCK: a FIFO put in its place must be refused below, not
         * waited on until a writer comes (no effect on a regular file). */
        fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
        if (fd < 0) {
                r = -errno;
                if (r != -ENOENT)
                        *ret_error = xasprintf("%s: %s", path, strerror(-r));
                return r;
        }
        if (fstat(fd, &st) < 0) {
                r = -errno;
                *ret_error = xasprintf("%s: %s", path, strerror(-r));
                goto out;
        }
        /* Checked before a byte is parsed: time and memory stay bounded. */
        if (!S_ISREG(st.st_mode) || (uint64_t)st.st_size > STATE_FILE_MAX_BYTES) {
                *ret_error = S_ISREG(st.st_mode)
                                     ? xasprintf("%s: %jd bytes, more than the %zu MiB a state file may hold", path,
                                                 (intmax_t)st.st_size, STATE_FILE_MAX_BYTES >> 20)
                                     : xasprintf("%s: not a regular file", path);
                r = S_ISREG(st.st_mode) ? -EFBIG : -EINVAL;
                goto out;
        }
        r = read_bounded(fd, (size_t)st.st_size, STATE_FILE_MAX_BYTES, &text, &len);
        if (r < 0) {
                *ret_error = r == -EFBIG ? xasprintf("%s: more than the %zu MiB a state file may hold", path,
                                                     STATE_FILE_MAX_BYTES >> 20)
                                         : xasprintf("%s: %s", path, strerror(-r));
                goto out;
        }
        root = json_loadb(text, len, flags, &err);
        if (!root) {
                *ret_error = xasprintf("%s:%d:%d: %s", path, err.line, err.column, err.text);
                r = -EINVAL;
                goto out;
        }
        *ret = root;
        if (ret_id) {
                *ret_id = file_id(&st, fd);
                fd = -1;
        }
        r = 0;
out:
        if (fd >= 0)
                close(fd);
        return r;
}

int state_read_json(const char *path, size_t flags, json_t **ret, char **ret_error) {
        return read_json(path, flags, ret, NULL, ret_error);
}

/* ---- saving ------------------------------------------------------------ */

static void set_opt(json_t *o, const char *key, const char *value) {
        if (value)
                json_object_set_new(o, key, json_string(value));
}

/* The renewal guardrails to carry over: the ones s read or wrote while
 * path is still that file, else what path holds now (none, or unreadable:
 * nothing). A new reference, or NULL. */
static json_t *renewal_current(const struct state *s, const char *path) {
        _cleanup_free_ char *ignored = NULL;
        json_t *old = NULL, *renewal;

        if (file_id_current(&s->file, path))
                return json_incref(s->renewal);
        (void)state_read_json(path, 0, &old, &ignored);
        renewal = json_object_get(old, STATE_RENEWAL_KEY);
        renewal = json_is_object(renewal) ? json_incref(renewal) : NULL;
        json_decref(old);
        return renewal;
}

/* After a write (r): fd (taken) is the file as written, with renewal
 * (taken) and its text (taken; NULL when it is s->renewal_text already),
 * or, when it failed, none is known. Measured on fd, not path: another
 * process may have replaced path since the rename. */
static void remember_written(struct state *s, int r, int fd, json_t *renewal, char *renewal_text) {
        struct stat st;

        if (renewal_text || renewal != s->renewal) {
                free(s->renewal_text);
                s->renewal_text = NULL;
        }
        json_decref(s->renewal);
        s->renewal = NULL;
        file_id_forget(&s->file);
        if (r < 0 || fstat(fd, &st) < 0) {
                if (r >= 0)
                        close(fd);
                json_decref(renewal);
                free(renewal_text);
                free(s->renewal_text);
                s->renewal_text = NULL;
                return;
        }
        s->file = file_id(&st, fd);
        s->renewal = renewal;
        if (renewal_text)
                s->renewal_text = renewal_text;
}

int state_refresh(const char *path, struct state **s, char **ret_error) {
        struct state *fresh = NULL;
        int r;

        if (*s && file_id_current(&(*s)->file, path))
                return 0;
        r = state_load(path, &fresh, ret_error);
        if (r < 0)
                return r;
        state_free(*s);
        *s = fresh;
        return 1;
}

void state_forget_file(struct state *s) {
        file_id_forget(&s->file);
}

/* state.json is what jansson writes for the whole document with
 * SAVE_FLAGS, and a newline. Each platform's object and the renewal
 * guardrails are dumped on their own, and moved to their depth in the
 * document: with JSON_INDENT, jansson writes a newline only between
 * tokens (a string escapes its own), followed by one space per level. */
#define SAVE_FLAGS (JSON_INDENT(1) | JSON_PRESERVE_ORDER)

/* prefix, then o dumped and moved `depth` levels down; NULL when jansson
 * cannot dump it. */
static char *render_at(const json_t *o, const char *prefix, size_t depth, size_t *ret_len) {
        char *text = json_dumps(o, SAVE_FLAGS), *out, *p;
        size_t lines = 0, plen = strlen(prefix), len;

        if (!text)
                return NULL;
        len = strlen(text);
        for (const char *c = text; (c = strchr(c, '\n')); c++)
                lines++;
        *ret_len = plen + len + lines * depth;
        out = p = xmalloc(*ret_len + 1);
        memcpy(p, prefix, plen);
        p += plen;
        for (const char *c = text; *c; c++) {
                *p++ = *c;
                if (*c == '\n') {
                        memset(p, ' ', depth);
                        p += depth;
                }
        }
        *p = 0;
        assert((size_t)(p - out) == *ret_len);
        free(text);
        return out;
}

/* The platform as a JSON object, or NULL where jansson refuses a value
 * (a name that is not UTF-8): the platform was then left out of the file,
 * and still is. */
static json_t *platform_to_json(const struct state_platform *sp) {
        json_t *findings = json_array(), *certs = json_array();
        for (size_t j = 0; j < sp->n_findings; j++) {
                const struct state_finding *f = &sp->findings[j];
                json_t *o = json_pack("{s:s, s:s}", "id", f->id, "severity", severity_to_string(f->severity));
                set_opt(o, "name", f->name);
                set_opt(o, "address", f->address);
                set_opt(o, "subject", f->subject);
                set_opt(o, "message", f->message);
                json_object_set_new(o, "first_seen", json_integer((json_int_t)f->first_seen));
                json_object_set_new(o, "last_alerted", json_integer((json_int_t)f->last_alerted));
                json_array_append_new(findings, o);
        }
        for (size_t j = 0; j < sp->n_certs; j++) {
                const struct state_cert *c = &sp->certs[j];
                json_t *o = json_pack("{s:s, s:s, s:I}", "name", c->name, "address", c->address, "port",
                                      (json_int_t)c->port);
                set_opt(o, "sha256", c->sha256);
                set_opt(o, "subject", c->subject);
                set_opt(o, "issuer", c->issuer);
                json_object_set_new(o, "not_after", json_integer((json_int_t)c->not_after));
                json_object_set_new(o, "seen", json_integer((json_int_t)c->seen));
                json_array_append_new(certs, o);
        }
        return json_pack("{s:s, s:I, s:o, s:o}", "name", sp->name, "last_audit", (json_int_t)sp->last_audit,
                         "findings", findings, "certificates", certs);
}

/* sp->text: the platform as an element of "platforms" after another
 * (the first one's text goes without its comma). */
static int platform_render(struct state_platform *sp) {
        json_t *o = platform_to_json(sp);

        if (!o) {
                sp->text = xstrdup("");
                sp->text_len = 0;
                return 0;
        }
        sp->text = render_at(o, ",\n  ", 2, &sp->text_len);
        json_decref(o);
        return sp->text ? 0 : -ENOMEM;
}

/* state_save() with renewal (taken; NULL: none) as the guardrails. */
static int save(struct state *s, const char *path, json_t *renewal) {
        char head[64], *renewal_text = NULL;
        size_t n = 0, emitted = 0, renewal_len = 0;
        int r, fd = -1;

        if (s->n_iov_allocated < s->n_platforms + 4) {
                s->n_iov_allocated = 2 * s->n_platforms + 4;
                free(s->iov);
                s->iov = xmalloc(s->n_iov_allocated * sizeof(*s->iov));
        }
#define PIECE(p, l) (s->iov[n++] = (struct iovec){ .iov_base = (void *)(p), .iov_len = (l) })
        snprintf(head, sizeof(head), "{\n \"format\": %d,\n \"platforms\": [", STATE_FORMAT);
        PIECE(head, strlen(head));
        for (size_t i = 0; i < s->n_platforms; i++) {
                struct state_platform *sp = &s->platforms[i];
                if (!sp->text && platform_render(sp) < 0) {
                        remember_written(s, -ENOMEM, -1, renewal, NULL);
                        return -ENOMEM;
                }
                if (sp->text_len == 0)
                        continue;
                /* The first without its comma. */
                if (emitted++ == 0)
                        PIECE(sp->text + 1, sp->text_len - 1);
                else
                        PIECE(sp->text, sp->text_len);
        }
        if (emitted)
                PIECE("\n ]", 3);
        else
                PIECE("]", 1);
        /* As rendered when still what was last written. */
        if (renewal && renewal == s->renewal && s->renewal_text)
                PIECE(s->renewal_text, strlen(s->renewal_text));
        else if (renewal) {
                renewal_text = render_at(renewal, ",\n \"" STATE_RENEWAL_KEY "\": ", 1, &renewal_len);
                if (!renewal_text) {
                        remember_written(s, -ENOMEM, -1, renewal, NULL);
                        return -ENOMEM;
                }
                PIECE(renewal_text, renewal_len);
        }
        PIECE("\n}\n", 3);
#undef PIECE
        assert(n <= s->n_iov_allocated);
        r = write_file_atomic_iov(path, s->iov, n, &fd);
        remember_written(s, r, fd, renewal, renewal_text);
        return r;
}

int state_save(struct state *s, const char *path) {
        /* Renewal's guardrails share the file: keep what is there. */
        return save(s, path, renewal_current(s, path));
}

int state_save_renewal(struct state *s, const char *path, json_t *renewal) {
        assert(json_is_object(renewal));
        return save(s, path, json_incref(renewal));
}

/* ---- loading ----------------------------------------------------------- */

static int get_str(json_t *o, const char *key, bool required, char **ret) {
        json_t *v = json_object_get(o, key);
        if (!v) {
                if (required)
                        return -EINVAL;
                *ret = NULL;
                return 0;
        }
        if (!json_is_string(v) || strlen(json_string_value(v)) != json_string_length(v))
                return -EINVAL;
        *ret = xstrdup(json_string_value(v));
        return 0;
}

static int get_time(json_t *o, const char *key, time_t *ret) {
        json_t *v = json_object_get(o, key);
        if (!json_is_integer(v) || json_integer_value(v) < 0)
                return -EINVAL;
        *ret = (time_t)json_integer_value(v);
        return 0;
}

static int load_finding(json_t *o, struct state_finding *f) {
        _cleanup_free_ char *sev = NULL;
        int r;

        if (!json_is_object(o))
                return -EINVAL;
        if ((r = get_str(o, "id", true, &f->id)) < 0 || (r = get_str(o, "severity", true, &sev)) < 0 ||
            (r = get_str(o, "name", false, &f->name)) < 0 || (r = get_str(o, "address", false, &f->address)) < 0 ||
            (r = get_str(o, "subject", false, &f->subject)) < 0 ||
            (r = get_str(o, "message", false, &f->message)) < 0 || (r = get_time(o, "first_seen", &f->first_seen)) < 0 ||
            (r = get_time(o, "last_alerted", &f->last_alerted)) < 0)
                return r;
        r = severity_from_string(sev);
        if (r < 0)
                return r;
        f->severity = (enum severity)r;
        if (!f->message)
                f->message = xstrdup("");
        return 0;
}

static int load_cert(json_t *o, struct state_cert *c) {
        json_t *port = json_object_get(o, "port");
        int r;

        if (!json_is_object(o) || !json_is_integer(port) || json_integer_value(port) < 0 ||
            json_integer_value(port) > 65535)
                return -EINVAL;
        c->port = (uint16_t)json_integer_value(port);
        if ((r = get_str(o, "name", true, &c->name)) < 0 || (r = get_str(o, "address", true, &c->address)) < 0 ||
            (r = get_str(o, "sha256", false, &c->sha256)) < 0 || (r = get_str(o, "subject", false, &c->subject)) < 0 ||
            (r = get_str(o, "issuer", false, &c->issuer)) < 0 || (r = get_time(o, "not_after", &c->not_after)) < 0 ||
            (r = get_time(o, "seen", &c->seen)) < 0)
                return r;
        return 0;
}

static int load_platform(json_t *o, struct state *s, const char **ret_why) {
        json_t *findings = json_object_get(o, "findings"), *certs = json_object_get(o, "certificates"), *v;
        _cleanup_free_ char *name = NULL;
        struct state_platform *sp;
        size_t i;

        if (!json_is_object(o) || get_str(o, "name", true, &name) < 0) {
                *ret_why = "a platform without a name";
                return -EINVAL;
        }
        if (!json_is_array(findings) || !json_is_array(certs)) {
                *ret_why = "a platform without its findings or certificates list";
                return -EINVAL;
        }
        sp = state_platform(s, name);
        if (get_time(o, "last_audit", &sp->last_audit) < 0) {
                *ret_why = "a platform without last_audit";
                return -EINVAL;
        }
        json_array_foreach(findings, i, v) {
                struct state_finding f = { 0 };
                if (load_finding(v, &f) < 0) {
                        state_finding_done(&f);
                        *ret_why = "a finding with a missing or mistyped field";
                        return -EINVAL;
                }
                /* An id this build does not know cannot be alerted or
                 * resolved with a catalogued MESSAGE_ID: forget it. */
                if (!checks_find_def(f.id)) {
                        state_finding_done(&f);
                        continue;
                }
                sp->findings = xrealloc(sp->findings, (sp->n_findings + 1) * sizeof(*sp->findings));
                sp->findings[sp->n_findings++] = f;
        }
        json_array_foreach(certs, i, v) {
                struct state_cert c = { 0 };
                if (load_cert(v, &c) < 0) {
                        state_cert_done(&c);
                        *ret_why = "a certificate with a missing or mistyped field";
                        return -EINVAL;
                }
                sp->certs = xrealloc(sp->certs, (sp->n_certs + 1) * sizeof(*sp->certs));
                sp->certs[sp->n_certs++] = c;
        }
        return 0;
}

int state_load(const char *path, struct state **ret, char **ret_error) {
        json_t *root = NULL, *platforms, *v;
        struct state *s = NULL;
        const char *why = NULL;
        size_t i;
        int r;

        struct state_file_id id = { .fd = -1 };

        r = read_json(path, JSON_REJECT_DUPLICATES, &root, &id, ret_error);
        if (r < 0)
                return r;
        platforms = json_object_get(root, "platforms");
        /* Format 1 differs only in having no subjects: its findings are
         * matched by endpoint once (alert.c), then saved as format 2. */
        if (!json_is_integer(json_object_get(root, "format")) ||
            json_integer_value(json_object_get(root, "format")) < 1 ||
            json_integer_value(json_object_get(root, "format")) > STATE_FORMAT) {
                why = "not a certvigil state file of format 1 or 2";
                r = -EINVAL;
                goto out;
        }
        if (!json_is_array(platforms)) {
                why = "no platforms list";
                r = -EINVAL;
                goto out;
        }
        s = state_new();
        json_array_foreach(platforms, i, v) {
                r = load_platform(v, s, &why);
                if (r < 0)
                        goto out;
        }
        s->file = id;
        id.fd = -1; /* s has it */
        if (json_is_object(json_object_get(root, STATE_RENEWAL_KEY)))
                s->renewal = json_incref(json_object_get(root, STATE_RENEWAL_KEY));
        *ret = TAKE_PTR(s);
        r = 0;
out:
        if (r < 0 && why)
                *ret_error = xasprintf("%s: %s", path, why);
        state_free(s);
        if (id.fd >= 0)
                close(id.fd);
        json_decref(root);
        return r;
}
