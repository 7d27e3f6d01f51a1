/* Renewal's side effects: the store on disk, the command method run out of
 * process on the loop, and the re-audits that prove a renewal worked. The
 * decisions themselves are checks/renew.c's pure functions. */
#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <jansson.h>

#include "http.h"
#include "kube.h"
#include "plan.h"
#include "renewal.h"
#include "state.h"
#include "util.h"

extern char **environ;

#define STORE_FORMAT 1
/* A hook that prints more than this per line is cut; lines are for people. */
#define LINE_MAX_BYTES 2048
/* The last lines of output, quoted in renew.failed. */
#define TAIL_LINES 3

/* ------------------------------------------------------------------------ */
/* The store */

/* Each entry is its own allocation: renewals and ARI keep a pointer to
 * their platform's state while later platforms are added. */
struct store_entry {
        char *name;
        struct renew_state st;
};

struct renew_store {
        char *dir;
        char *path;
        bool read_only;
        bool unsaved;              /* the last save failed: memory is newer than the file */
        bool lock_failed;          /* some change could not be made this run */
        int lock_fd;               /* state_lock()'s, -1 when not held */
        json_t *others;            /* platforms of the file not asked for, as last read */
        struct store_entry **entries;
        size_t n_entries;
};

/* The "renewal" key's platforms in the file at s->path: 0 and *ret (NULL
 * when the file or the key is missing), or -EINVAL with *ret_warning. */
static int store_read(struct renew_store *s, json_t **ret, char **ret_warning) {
        _cleanup_free_ char *error = NULL;
        json_t *root = NULL, *renewal, *platforms;
        int r;

        *ret = NULL;
        r = state_read_json(s->path, JSON_REJECT_DUPLICATES, &root, &error);
        if (r == -ENOENT)
                return 0;
        if (r < 0) {
                *ret_warning = xasprintf("%s; cannot read the renewal state, starting afresh, "
                                         "so the guardrails forget earlier triggers", error);
                return -EINVAL;
        }
        /* The guardrails live under one key of the alert state's file. */
        renewal = json_object_get(root, STATE_RENEWAL_KEY);
        platforms = json_object_get(renewal, "platforms");
        if (renewal && (json_integer_value(json_object_get(renewal, "format")) != STORE_FORMAT ||
                        !json_is_object(platforms))) {
                *ret_warning = xasprintf("%s: \"%s\" is not a renewal state of format %d; starting afresh", s->path,
                                         STATE_RENEWAL_KEY, STORE_FORMAT);
                json_decref(root);
                return -EINVAL;
        }
        *ret = json_incref(platforms);
        json_decref(root);
        return 0;
}

static void entry_load(struct renew_store *s, struct store_entry *e, json_t *o) {
        renew_state_done(&e->st);
        if (o && renew_state_from_json(o, &e->st) < 0) {
                fprintf(stderr, "certvigil: %s: the renewal state of platform '%s' is malformed; starting afresh\n",
                        s->path, e->name);
                e->st = (struct renew_state){ 0 };
        }
}

int renew_store_open(const char *dir, bool read_only, struct renew_store **ret, char **ret_warning) {
        struct renew_store *s = xcalloc(1, sizeof(*s));
        json_t *platforms = NULL;

        s->dir = xstrdup(dir);
        s->path = xasprintf("%s/%s", dir, STATE_FILE);
        s->read_only = read_only;
        s->lock_fd = -1;
        s->others = json_object();
        (void)store_read(s, &platforms, ret_warning); /* a bad file is an empty store, said in the warning */
        if (platforms)
                json_object_update(s->others, platforms);
        json_decref(platforms);
        *ret = s;
        return 0;
}

struct renew_store *renew_store_free(struct renew_store *s) {
        if (!s)
                return NULL;
        for (size_t i = 0; i < s->n_entries; i++) {
                free(s->entries[i]->name);
                renew_state_done(&s->entries[i]->st);
                free(s->entries[i]);
        }
        free(s->entries);
        json_decref(s->others);
        s->lock_fd = state_unlock(s->lock_fd);
        free(s->path);
        free(s->dir);
        free(s);
        return NULL;
}

const char *renew_store_path(const struct renew_store *s) {
        return s->path;
}

bool renew_store_lock_failed(const struct renew_store *s) {
        return s && s->lock_failed;
}

struct renew_state *renew_store_get(struct renew_store *s, const char *platform) {
        struct store_entry *e;

        for (size_t i = 0; i < s->n_entries; i++)
                if (strcmp(s->entries[i]->name, platform) == 0)
                        return &s->entries[i]->st;
        e = xcalloc(1, sizeof(*e));
        e->name = xstrdup(platform);
        entry_load(s, e, json_object_get(s->others, platform));
        json_object_del(s->others, platform);
        s->entries = xrealloc(s->entries, (s->n_entries + 1) * sizeof(*s->entries));
        s->entries[s->n_entries++] = e;
        return &e->st;
}

int renew_store_lock(struct renew_store *s) {
        _cleanup_free_ char *error = NULL, *warning = NULL;
        json_t *platforms = NULL;
        int r;

        assert(s->lock_fd < 0);
        if (s->read_only)
                return 0;
        r = state_lock(s->dir, &s->lock_fd, &error);
        if (r < 0) {
                fprintf(stderr, "certvigil: cannot lock %s\n", error);
                s->lock_failed = true;
                return r;
        }
        /* Another certvigil may have saved since: its word is the newest,
         * unless our own last save failed. A file that cannot be read
         * leaves memory as it is. */
        if (s->unsaved || store_read(s, &platforms, &warning) < 0 || !platforms)
                return 0;
        for (size_t i = 0; i < s->n_entries; i++) {
                entry_load(s, s->entries[i], json_object_get(platforms, s->entries[i]->name));
                json_object_del(platforms, s->entries[i]->name);
        }
        json_object_clear(s->others);
        json_object_update(s->others, platforms);
        json_decref(platforms);
        return 0;
}

void renew_store_unlock(struct renew_store *s) {
        s->lock_fd = state_unlock(s->lock_fd);
}

int renew_store_save(struct renew_store *s) {
        json_t *platforms, *root;
        char *text;
        int r;

        if (s->read_only)
                return 0;
        platforms = json_deep_copy(s->others);
        for (size_t i = 0; i < s->n_entries; i++)
                json_object_set_new(platforms, s->entries[i]->name, renew_state_to_json(&s->entries[i]->st));
        /* Read, replace our key, write: the alert state in the same file is
         * kept as the daemon or the last audit left it. */
        _cleanup_free_ char *ignored = NULL;
        root = NULL;
        (void)state_read_json(s->path, 0, &root, &ignored); /* unreadable: the alert state is rebuilt */
        if (!json_is_object(root)) {
                json_decref(root);
                root = json_pack("{s:i, s:[]}", "format", STATE_FORMAT, "platforms");
        }
        json_object_set_new(root, STATE_RENEWAL_KEY,
                            json_pack("{s:i, s:o}", "format", STORE_FORMAT, "platforms", platforms));
        text = json_dumps(root, JSON_INDENT(1) | JSON_PRESERVE_ORDER);
        json_decref(root);
        if (!text) {
                renew_store_unlock(s);
                return -ENOMEM;
        }
        _cleanup_free_ char *line = xasprintf("%s\n", text);
        free(text);
        r = write_file_atomic(s->path, line, strlen(line));
        s->unsaved = r < 0;
        renew_store_unlock(s);
        return r;
}

/* ------------------------------------------------------------------------ */
/* The command method: argv run directly (no shell) in a process group of
 * its own, stdout and stderr read line by line from the loop, killed with
 * its group after renew.timeout, reaped through sd_event_add_child. */

struct pipe_reader {
        struct renewal *r;
        const char *stream;
        int fd;
        sd_event_source *source;
        char buf[LINE_MAX_BYTES];
        size_t len;
};

struct renewal {
        sd_event *event;
        struct audit_pool *pool;
        const struct platform *p;
        struct renew_store *store;
        struct renew_state *st;    /* the store's */
        struct renewal_options opts;
        struct finding_list findings;

        pid_t pid;
        sd_event_source *child;
        sd_event_source *kill_timer;
        bool timed_out;
        struct pipe_reader out, err;
        char *tail[TAIL_LINES + 1];  /* NULL-terminated */
        size_t n_tail;

        /* The cert_manager method. */
        struct http_client *http;
        struct kube *kube;
        json_t *cert;              /* the Certificate as read */
        char *observed;            /* its status, for messages */
        struct certmanager_obs cm_obs;      /* the same, for the report */
        bool cm_observed;
        char *reason;
        struct renew_state before; /* what was served when due; copied into st on trigger */
        time_t trigger_at;         /* the trigger whose verification this renewal follows */

        sd_event_source *verify_timer;
        struct audit *verify;      /* the re-audit in flight or the newest one */
        sd_event_source *done_defer;
        bool cm_busy;              /* the Certificate is being read or updated */
        bool winding_down;         /* renewal_wind_down(): no re-audit after the method */
        renewal_done_cb cb;
        void *userdata;
};

static void emit_line(struct renewal *r, const char *stream, const char *data, size_t len) {
        _cleanup_free_ char *line = str_escape(data, len);

        if (r->opts.on_line)
                r->opts.on_line(r->p->name, stream, line, r->opts.userdata);
        else
                fprintf(stderr, "certvigil: platform '%s': renew.command %s: %s\n", r->p->name, stream, line);
        if (r->n_tail == TAIL_LINES) {
                free(r->tail[0]);
                memmove(r->tail, r->tail + 1, (TAIL_LINES - 1) * sizeof(r->tail[0]));
                r->n_tail--;
        }
        r->tail[r->n_tail++] = TAKE_PTR(line);
}

static void reader_close(struct pipe_reader *pr) {
        pr->source = sd_event_source_disable_unref(pr->source);
        if (pr->fd >= 0)
                close(pr->fd);
        pr->fd = -1;
}

/* Reads what is there; at EOF (or with flush) the partial line goes out too. */
static void reader_drain(struct pipe_reader *pr, bool flush) {
        for (;;) {
                ssize_t n = read(pr->fd, pr->buf + pr->len, sizeof(pr->buf) - pr->len);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n <= 0) {
                        if (n == 0 || (errno != EAGAIN && errno != EWOULDBLOCK))
                                flush = true;
                        if (flush) {
                                if (pr->len > 0)
                                        emit_line(pr->r, pr->stream, pr->buf, pr->len);
                                pr->len = 0;
                                reader_close(pr);
                        }
                        return;
                }
                pr->len += (size_t)n;
                char *start = pr->buf, *nl;
                while ((nl = memchr(start, '\n', pr->len - (size_t)(start - pr->buf)))) {
                        emit_line(pr->r, pr->stream, start, (size_t)(nl - start));
                        start = nl + 1;
                }
                pr->len -= (size_t)(start - pr->buf);
                memmove(pr->buf, start, pr->len);
                if (pr->len == sizeof(pr->buf)) {
                        emit_line(pr->r, pr->stream, pr->buf, pr->len);
                        pr->len = 0;
                }
        }
}

/* A state that cannot be written weakens the guardrails of the next run:
 * say so, and carry on with this one. Unlocks. */
static void store_save(struct renewal *r) {
        int ret = renew_store_save(r->store);
        if (ret < 0)
                fprintf(stderr, "certvigil: cannot write %s: %s\n", renew_store_path(r->store), strerror(-ret));
}

/* Locks the store and re-reads it, and keeps the lock when the
 * verification this renewal follows is still open there: another certvigil
 * following it too (a oneshot beside the daemon) may have concluded it,
 * and a conclusion must count once. false: unlocked, change nothing. */
static bool conclude_begin(struct renewal *r) {
        const struct renew_state *st = r->st;

        if (renew_store_lock(r->store) < 0)
                return false;
        if (st->verifying && st->n_triggers > 0 && st->triggers[st->n_triggers - 1] == r->trigger_at)
                return true;
        renew_store_unlock(r->store);
        return false;
}

/* A renewal has just failed: counted once, under the lock. */
static void conclude_failed(struct renewal *r, time_t now) {
        if (!conclude_begin(r))
                return;
        renew_state_failed(r->st, now);
        store_save(r);
}

static int on_pipe(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        reader_drain(userdata, false);
        return 0;
}

static void renewal_finish(struct renewal *r);
static void verify_schedule(struct renewal *r, uint64_t usec);

static char *tail_text(struct renewal *r) {
        if (r->n_tail == 0)
                return xstrdup("no output");
        _cleanup_free_ char *joined = strv_join(r->tail, " | ", 0);
        return xasprintf("last output: %s", joined);
}

static void command_ended(struct renewal *r, const siginfo_t *si) {
        char dur[DURATION_MAX];
        _cleanup_free_ char *detail = NULL, *tail = NULL;
        bool ok = false;

        /* A grandchild may hold the pipes open: take what is there and stop
         * listening, the command itself is over. */
        reader_drain(&r->out, true);
        reader_drain(&r->err, true);
        r->kill_timer = sd_event_source_disable_unref(r->kill_timer);
        r->child = sd_event_source_disable_unref(r->child);
        r->pid = 0;
        tail = tail_text(r);

        if (r->timed_out)
                detail = xasprintf("killed after renew.timeout (%s)",
                                   format_duration(r->p->renew.timeout_usec, dur));
        else if (si->si_code == CLD_EXITED && si->si_status == 0) {
                ok = true;
                detail = xstrdup("command exited with status 0");
        } else if (si->si_code == CLD_EXITED)
                detail = xasprintf("command exited with status %d", si->si_status);
        else
                detail = xasprintf("command killed by signal %s", strsignal(si->si_status));

        renew_emit_triggered(&r->findings, r->st, detail);
        if (!ok) {
                _cleanup_free_ char *why = xasprintf("%s; %s", detail, tail);
                renew_emit_failed(&r->findings, r->st, why);
                conclude_failed(r, (time_t)(now_realtime_usec() / USEC_PER_SEC));
                renewal_finish(r);
                return;
        }
        verify_schedule(r, r->p->renew.verify_every_usec);
}

static int on_child(sd_event_source *s, const siginfo_t *si, void *userdata) {
        command_ended(userdata, si);
        return 0;
}

static int on_kill_timer(sd_event_source *s, uint64_t usec, void *userdata) {
        struct renewal *r = userdata;
        r->timed_out = true;
        /* The whole group: lego, certbot or a hook's children go with it. */
        if (r->pid > 0)
                (void)kill(-r->pid, SIGKILL);
        return 0;
}

static char **command_env(const struct renewal *r, const struct plan *plan, const struct platform_obs *obs) {
        static const char *const ours[] = { "CERTVIGIL_PLATFORM=",       "CERTVIGIL_BASE_DOMAIN=",
                                            "CERTVIGIL_WILDCARD=",       "CERTVIGIL_CHALLENGE_NAME=",
                                            "CERTVIGIL_REASON=",         "CERTVIGIL_NOT_AFTER=",
                                            "CERTVIGIL_OLD_SERIAL=" };
        char **env = NULL, when[RFC3339_MAX] = "";
        time_t earliest = 0;

        for (char **e = environ; e && *e; e++) {
                bool mine = false;
                for (size_t i = 0; i < ELEMENTSOF(ours) && !mine; i++)
                        mine = strncmp(*e, ours[i], strlen(ours[i])) == 0;
                if (!mine)
                        strv_push(&env, xstrdup(*e));
        }
        for (size_t i = 0; obs && i < obs->n_endpoints; i++) {
                const struct endpoint_obs *e = &obs->endpoints[i];
                if (e->status == ENDPOINT_OK && e->n_chain > 0 && (!earliest || e->chain[0].not_after < earliest))
                        earliest = e->chain[0].not_after;
        }
        if (earliest)
                format_rfc3339(earliest, when);
        strv_push(&env, xasprintf("CERTVIGIL_PLATFORM=%s", r->p->name));
        strv_push(&env, xasprintf("CERTVIGIL_BASE_DOMAIN=%s", r->p->base_domain));
        strv_push(&env, xasprintf("CERTVIGIL_WILDCARD=%s", plan ? plan->wildcard : ""));
        strv_push(&env, xasprintf("CERTVIGIL_CHALLENGE_NAME=%s", plan ? plan->challenge_name : ""));
        strv_push(&env, xasprintf("CERTVIGIL_REASON=%s", r->st->reason ? r->st->reason : ""));
        strv_push(&env, xasprintf("CERTVIGIL_NOT_AFTER=%s", when));
        strv_push(&env, xasprintf("CERTVIGIL_OLD_SERIAL=%s", r->st->old_serial ? r->st->old_serial : ""));
        return env;
}

static int command_start(struct renewal *r, const struct audit *a, char **ret_error) {
        _cleanup_strv_free_ char **env = command_env(r, audit_plan(a), audit_observations(a));
        int out[2] = { -1, -1 }, err[2] = { -1, -1 }, ret;
        posix_spawn_file_actions_t fa;
        posix_spawnattr_t attr;
        sigset_t none, chld;
        pid_t pid;

        if (pipe2(out, O_CLOEXEC | O_NONBLOCK) < 0 || pipe2(err, O_CLOEXEC | O_NONBLOCK) < 0) {
                ret = -errno;
                *ret_error = xasprintf("cannot create pipes: %s", strerror(errno));
                goto fail_pipes;
        }
        /* sd_event_add_child needs SIGCHLD blocked; the child starts with
         * an empty mask and default dispositions. */
        sigemptyset(&chld);
        sigaddset(&chld, SIGCHLD);
        sigprocmask(SIG_BLOCK, &chld, NULL);
        sigemptyset(&none);

        posix_spawn_file_actions_init(&fa);
        posix_spawn_file_actions_addopen(&fa, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
        posix_spawn_file_actions_adddup2(&fa, out[1], STDOUT_FILENO);
        posix_spawn_file_actions_adddup2(&fa, err[1], STDERR_FILENO);
        posix_spawnattr_init(&attr);
        posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
        posix_spawnattr_setpgroup(&attr, 0);
        posix_spawnattr_setsigmask(&attr, &none);
        {
                sigset_t def;
                sigemptyset(&def);
                sigaddset(&def, SIGPIPE);
                sigaddset(&def, SIGCHLD);
                sigaddset(&def, SIGHUP);
                sigaddset(&def, SIGTERM);
                posix_spawnattr_setsigdefault(&attr, &def);
        }
        ret = -posix_spawnp(&pid, r->p->renew.command[0], &fa, &attr, r->p->renew.command, env);
        posix_spawn_file_actions_destroy(&fa);
        posix_spawnattr_destroy(&attr);
        close(out[1]);
        close(err[1]);
        out[1] = err[1] = -1;
        if (ret < 0) {
                _cleanup_free_ char *shown = str_escape(r->p->renew.command[0], strlen(r->p->renew.command[0]));
                *ret_error = xasprintf("cannot run '%s': %s", shown, strerror(-ret));
                goto fail_pipes;
        }
        r->pid = pid;
        r->out = (struct pipe_reader){ .r = r, .stream = "stdout", .fd = out[0] };
        r->err = (struct pipe_reader){ .r = r, .stream = "stderr", .fd = err[0] };
        if ((ret = sd_event_add_io(r->event, &r->out.source, out[0], EPOLLIN, on_pipe, &r->out)) < 0 ||
            (ret = sd_event_add_io(r->event, &r->err.source, err[0], EPOLLIN, on_pipe, &r->err)) < 0 ||
            (ret = sd_event_add_child(r->event, &r->child, pid, WEXITED, on_child, r)) < 0 ||
            (ret = sd_event_add_time_relative(r->event, &r->kill_timer, CLOCK_MONOTONIC, r->p->renew.timeout_usec,
                                              USEC_PER_SEC / 10, on_kill_timer, r)) < 0) {
                *ret_error = xasprintf("cannot watch the command: %s", strerror(-ret));
                (void)kill(-pid, SIGKILL);
                (void)waitpid(pid, NULL, 0);
                r->pid = 0;
                return ret;   /* the readers are closed by renewal_free() */
        }
        return 0;

fail_pipes:
        for (size_t i = 0; i < 2; i++) {
                if (out[i] >= 0)
                        close(out[i]);
                if (err[i] >= 0)
                        close(err[i]);
        }
        return ret;
}

/* ------------------------------------------------------------------------ */
/* Verification */

static void verify_judge(struct renewal *r, const struct platform_obs *obs) {
        time_t now = (time_t)(now_realtime_usec() / USEC_PER_SEC);
        const struct cert_obs *leaf = NULL;
        char dur[DURATION_MAX];

        /* Judged on the file's word: concluded elsewhere, it is over here. */
        if (!conclude_begin(r)) {
                renewal_finish(r);
                return;
        }
        switch (renew_verify(r->st, obs, now, &leaf)) {
        case RENEW_PROOF_SUCCEEDED:
                renew_emit_succeeded(&r->findings, r->st, leaf);
                renew_state_succeeded(r->st);
                store_save(r);
                renewal_finish(r);
                return;
        case RENEW_PROOF_TIMED_OUT: {
                _cleanup_free_ char *why = xasprintf("no new certificate was served on every address within "
                                                     "renew.verify_timeout (%s)",
                                                     format_duration(r->p->renew.verify_timeout_usec, dur));
                renew_emit_failed(&r->findings, r->st, why);
                renew_state_failed(r->st, now);
                store_save(r);
                renewal_finish(r);
                return;
        }
        case RENEW_PROOF_PENDING:
                renew_store_unlock(r->store);
                break;
        }
        if (r->opts.dry_run) {
                renewal_finish(r);
                return;
        }
        /* Never sleep past the deadline: the last look happens at it. */
        uint64_t wait = r->p->renew.verify_every_usec;
        if (r->st->verify_deadline > now && (uint64_t)(r->st->verify_deadline - now) * USEC_PER_SEC < wait)
                wait = (uint64_t)(r->st->verify_deadline - now) * USEC_PER_SEC;
        verify_schedule(r, wait);
}

static void on_verify_done(struct audit *a, void *userdata) {
        verify_judge(userdata, audit_observations(a));
}

static int on_verify_timer(sd_event_source *s, uint64_t usec, void *userdata) {
        struct renewal *r = userdata;
        _cleanup_free_ char *error = NULL;
        int ret;

        r->verify_timer = sd_event_source_disable_unref(r->verify_timer);
        r->verify = audit_free(r->verify);
        ret = r->pool ? audit_new_pooled(r->pool, r->p, &r->verify, &error) : audit_new(r->event, r->p, &r->verify, &error);
        if (ret >= 0)
                ret = audit_start(r->verify, on_verify_done, r);
        if (ret < 0) {
                _cleanup_free_ char *why = xasprintf("cannot re-audit the platform: %s", error ? error : strerror(-ret));
                renew_emit_failed(&r->findings, r->st, why);
                conclude_failed(r, (time_t)(now_realtime_usec() / USEC_PER_SEC));
                renewal_finish(r);
        }
        return 0;
}

static void verify_schedule(struct renewal *r, uint64_t usec) {
        int ret;

        r->cm_busy = false;
        /* The store says a verification is due: the platform's next run
         * takes it up. */
        if (r->winding_down) {
                renewal_finish(r);
                return;
        }
        ret = sd_event_add_time_relative(r->event, &r->verify_timer, CLOCK_MONOTONIC, usec, USEC_PER_SEC / 10,
                                             on_verify_timer, r);
        if (ret < 0) {
                renew_emit_failed(&r->findings, r->st, "cannot schedule the verification");
                renewal_finish(r);
        }
}

/* ------------------------------------------------------------------------ */

int renewal_new(sd_event *event, struct audit_pool *pool, const struct platform *p, struct renew_store *store,
                const struct renewal_options *opts, struct renewal **ret) {
        struct renewal *r = xcalloc(1, sizeof(*r));

        r->event = sd_event_ref(event);
        r->pool = pool;
        r->p = p;
        r->store = store;
        r->st = renew_store_get(store, p->name);
        if (opts)
                r->opts = *opts;
        r->out.fd = r->err.fd = -1;
        *ret = r;
        return 0;
}

struct renewal *renewal_free(struct renewal *r) {
        if (!r)
                return NULL;
        if (r->pid > 0) {
                (void)kill(-r->pid, SIGKILL);
                (void)waitpid(r->pid, NULL, 0);
        }
        reader_close(&r->out);
        reader_close(&r->err);
        sd_event_source_disable_unref(r->child);
        sd_event_source_disable_unref(r->kill_timer);
        sd_event_source_disable_unref(r->verify_timer);
        sd_event_source_disable_unref(r->done_defer);
        audit_free(r->verify);
        http_client_free(r->http);
        kube_free(r->kube);
        json_decref(r->cert);
        free(r->observed);
        certmanager_obs_done(&r->cm_obs);
        free(r->reason);
        renew_state_done(&r->before);
        for (size_t i = 0; i < r->n_tail; i++)
                free(r->tail[i]);
        finding_list_clear(&r->findings);
        sd_event_unref(r->event);
        free(r);
        return NULL;
}

static int on_done(sd_event_source *s, void *userdata) {
        struct renewal *r = userdata;
        r->done_defer = sd_event_source_disable_unref(r->done_defer);
        if (r->cb)
                r->cb(r, r->userdata);
        return 0;
}

static void renewal_finish(struct renewal *r) {
        r->cm_busy = false;
        if (!r->done_defer && sd_event_add_defer(r->event, &r->done_defer, on_done, r) < 0 && r->cb)
                r->cb(r, r->userdata);
}

static const char *method_name(const struct platform *p) {
        return p->renew.command ? "command" : "cert_manager";
}

/* Locks the store, re-reads it and asks the guardrails about r->reason on
 * what it says now: two certvigils at once (the timer's oneshot and a
 * person's run, or the daemon) then trigger once. true: go, with the lock
 * held until the trigger is saved. false: held back (renew.suppressed) or
 * no lock, unlocked, and the renewal is finished. ct_limit: the run found
 * the CT logs' limit reached (renew_ct_limit_reached()), which holds too. */
static bool decide_locked(struct renewal *r, time_t now, bool ct_limit) {
        enum renew_verdict v;
        time_t next;

        if (renew_store_lock(r->store) < 0) {
                renewal_finish(r);
                return false;
        }
        v = renew_decide(&r->p->renew, r->st, now, &next);
        if (v == RENEW_GO && ct_limit) {
                v = RENEW_HOLD_CT_LIMIT;
                next = now + 86400;
        }
        if (v == RENEW_GO)
                return true;
        renew_store_unlock(r->store);
        renew_emit_suppressed(&r->findings, v, next, r->reason);
        renewal_finish(r);
        return false;
}

/* ------------------------------------------------------------------------ */
/* The cert_manager method: GET the Certificate, report its state, and
 * unless cert-manager is already issuing, set Issuing=True with reason
 * ManuallyTriggered on the status subresource (PUT with the resourceVersion
 * just read, so a concurrent change makes it fail instead of being
 * overwritten), as `cmctl renew` does. */

static void cm_fail(struct renewal *r, bool counted, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void cm_fail(struct renewal *r, bool counted, const char *fmt, ...) {
        _cleanup_free_ char *why = NULL;
        va_list ap;

        va_start(ap, fmt);
        why = xvasprintf(fmt, ap);
        va_end(ap);
        if (counted) {
                renew_emit_triggered(&r->findings, r->st, why);
                renew_emit_failed(&r->findings, r->st, why);
                conclude_failed(r, (time_t)(now_realtime_usec() / USEC_PER_SEC));
        } else {
                struct renew_state would = { .method = (char *)"cert_manager", .reason = r->reason };
                renew_emit_failed(&r->findings, &would, why);
        }
        renewal_finish(r);
}

/* The API's own explanation (a Status object's message), bounded. */
static char *api_error(const struct http_result *res) {
        json_t *o = res->body ? json_loadb((const char *)res->body, res->size, 0, NULL) : NULL;
        const char *m = json_string_value(json_object_get(o, "message"));
        char *s = m ? str_escape(m, strlen(m) > 200 ? 200 : strlen(m)) : xstrdup("no message");
        json_decref(o);
        return s;
}

static void cm_on_put(struct http_fetch *f, struct http_result *res, void *userdata) {
        struct renewal *r = userdata;
        _cleanup_free_ char *detail = NULL;

        if (res->error) {
                cm_fail(r, true, "the status update of Certificate %s/%s failed: %s", r->p->renew.cm_namespace,
                        r->p->renew.cm_certificate, res->error);
                return;
        }
        if (res->status < 200 || res->status > 299) {
                _cleanup_free_ char *m = api_error(res);
                cm_fail(r, true, "the API server refused the status update of Certificate %s/%s: HTTP %ld (%s)",
                        r->p->renew.cm_namespace, r->p->renew.cm_certificate, res->status, m);
                return;
        }
        detail = xasprintf("Certificate %s/%s marked Issuing=True (ManuallyTriggered); it was: %s",
                           r->p->renew.cm_namespace, r->p->renew.cm_certificate, r->observed);
        renew_emit_triggered(&r->findings, r->st, detail);
        verify_schedule(r, r->p->renew.verify_every_usec);
}

static void cm_on_get(struct http_fetch *f, struct http_result *res, void *userdata) {
        struct renewal *r = userdata;
        const struct renew_settings *rs = &r->p->renew;
        _cleanup_(kube_headers_freep) char **headers = NULL;
        _cleanup_free_ char *url = NULL, *body = NULL;
        struct http_fetch_params params;
        struct http_fetch *put;
        time_t now = (time_t)(now_realtime_usec() / USEC_PER_SEC);

        if (res->error) {
                cm_fail(r, false, "cannot read Certificate %s/%s: %s", rs->cm_namespace, rs->cm_certificate,
                        res->error);
                return;
        }
        if (res->status != 200) {
                _cleanup_free_ char *m = api_error(res);
                cm_fail(r, false, "cannot read Certificate %s/%s: HTTP %ld (%s)", rs->cm_namespace,
                        rs->cm_certificate, res->status, m);
                return;
        }
        r->cert = json_loadb((const char *)res->body, res->size, 0, NULL);
        if (!json_is_object(r->cert) || !json_is_object(json_object_get(r->cert, "metadata"))) {
                cm_fail(r, false, "Certificate %s/%s: the API server's answer is not a Kubernetes object",
                        rs->cm_namespace, rs->cm_certificate);
                return;
        }
        certmanager_fill_obs(r->cert, &r->cm_obs);
        r->observed = certmanager_describe(&r->cm_obs);
        r->cm_observed = true;
        if (r->cm_obs.issuing) {
                renew_emit_already_issuing(&r->findings, r->reason, r->observed);
                renewal_finish(r);
                return;
        }
        /* The trigger counts from here, saved before the request leaves;
         * the guardrails are asked again on the file's word, as another
         * certvigil may have triggered while the Certificate was read. */
        if (!decide_locked(r, now, false))
                return;
        renew_state_triggered(r->st, rs, NULL, now, "cert_manager", r->reason);
        r->trigger_at = now;
        r->st->old_serials = strv_copy(r->before.old_serials);
        r->st->old_serial = r->before.old_serial ? xstrdup(r->before.old_serial) : NULL;
        r->st->old_not_after = r->before.old_not_after;
        store_save(r);

        (void)certmanager_mark_issuing(r->cert, now);
        body = json_dumps(r->cert, JSON_COMPACT);
        url = kube_certificate_url(r->kube, rs->cm_namespace, rs->cm_certificate, true);
        kube_request(r->kube, url, "PUT", body, &params, &headers);
        if (!body || http_fetch_start(r->http, &params, cm_on_put, r, &put) < 0)
                cm_fail(r, true, "cannot start the status update of Certificate %s/%s", rs->cm_namespace,
                        rs->cm_certificate);
}

static void cm_start(struct renewal *r) {
        const struct renew_settings *rs = &r->p->renew;
        _cleanup_(kube_headers_freep) char **headers = NULL;
        _cleanup_free_ char *error = NULL, *url = NULL;
        struct http_fetch_params params;
        struct http_fetch *get;
        int ret;

        r->cm_busy = true;
        r->kube = kube_free(r->kube);   /* the last trigger's, in the daemon */
        ret = kube_open(rs->cm_kubeconfig, rs->cm_in_cluster, &r->kube, &error);
        if (ret < 0) {
                cm_fail(r, false, "%s", error ? error : strerror(-ret));
                return;
        }
        if (!r->http && http_client_new(r->event, &r->http) < 0) {
                cm_fail(r, false, "cannot set up the HTTP client");
                return;
        }
        url = kube_certificate_url(r->kube, rs->cm_namespace, rs->cm_certificate, false);
        kube_request(r->kube, url, NULL, NULL, &params, &headers);
        if (http_fetch_start(r->http, &params, cm_on_get, r, &get) < 0)
                cm_fail(r, false, "cannot start reading Certificate %s/%s", rs->cm_namespace, rs->cm_certificate);
}

void renewal_start(struct renewal *r, const struct audit *a, const struct finding_list *found, renewal_done_cb cb,
                   void *userdata) {
        const struct platform_obs *obs = audit_observations(a);
        time_t now = (time_t)(now_realtime_usec() / USEC_PER_SEC);
        _cleanup_free_ char *reason = NULL, *error = NULL;
        bool due;

        r->cb = cb;
        r->userdata = userdata;
        r->winding_down = false;
        /* A new audit: what the last run found, read and re-audited is
         * history (the daemon calls this once per audit). */
        finding_list_clear(&r->findings);
        r->verify = audit_free(r->verify);
        json_decref(r->cert);
        r->cert = NULL;
        r->observed = mfree(r->observed);
        certmanager_obs_done(&r->cm_obs);
        r->cm_observed = false;
        if (!r->p->renew.enabled) {
                renewal_finish(r);
                return;
        }
        /* A renewal triggered earlier (by this process or a run before it)
         * is proven or failed before anything new is considered. */
        if (r->st->verifying) {
                r->trigger_at = r->st->n_triggers > 0 ? r->st->triggers[r->st->n_triggers - 1] : 0;
                verify_judge(r, obs);
                return;
        }
        due = renew_due(&r->p->renew, found, &reason);
        if (!due) {
                renewal_finish(r);
                return;
        }
        free(r->reason);
        r->reason = TAKE_PTR(reason);
        if (!decide_locked(r, now, renew_ct_limit_reached(found)))
                return;
        if (r->opts.dry_run) {
                struct renew_state would = { .method = (char *)method_name(r->p), .reason = r->reason };
                _cleanup_free_ char *argv = r->p->renew.command ? strv_join(r->p->renew.command, " ", 0) : NULL;
                _cleanup_free_ char *detail = argv ? xasprintf("dry run, would run: %s", argv)
                                                   : xasprintf("dry run, would mark Certificate %s/%s for issuance",
                                                               r->p->renew.cm_namespace, r->p->renew.cm_certificate);
                renew_emit_triggered(&r->findings, &would, detail);
                renew_store_unlock(r->store);
                renewal_finish(r);
                return;
        }
        if (!r->p->renew.command) {
                /* What is served now is what a new certificate must differ
                 * from; kept aside until the trigger really happens (the
                 * guardrails are asked again then). */
                renew_store_unlock(r->store);
                renew_state_done(&r->before);
                renew_state_triggered(&r->before, &r->p->renew, obs, now, method_name(r->p), r->reason);
                cm_start(r);
                return;
        }
        /* Recorded and saved before the command runs, so a crash while it
         * runs still counts against the guardrails; the lock taken for the
         * decision is released by the save, so a second certvigil deciding
         * now sees this trigger. */
        renew_state_triggered(r->st, &r->p->renew, obs, now, method_name(r->p), r->reason);
        r->trigger_at = now;
        store_save(r);
        if (command_start(r, a, &error) < 0) {
                renew_emit_triggered(&r->findings, r->st, error ? error : "could not start");
                renew_emit_failed(&r->findings, r->st, error ? error : "could not start the command");
                conclude_failed(r, now);
                renewal_finish(r);
        }
}

bool renewal_method_in_flight(const struct renewal *r) {
        return r && (r->pid > 0 || r->cm_busy);
}

void renewal_wind_down(struct renewal *r) {
        assert(renewal_method_in_flight(r));
        r->winding_down = true;
}

const struct finding_list *renewal_findings(const struct renewal *r) {
        return &r->findings;
}

const struct certmanager_obs *renewal_certmanager_observation(const struct renewal *r) {
        return r && r->cm_observed ? &r->cm_obs : NULL;
}

const struct audit *renewal_last_audit(const struct renewal *r) {
        return r->verify && audit_is_done(r->verify) ? r->verify : NULL;
}
