/* The command runner of renewal's command method: spawn, read lines, time
 * out, reap. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "renew-command.h"
#include "util.h"

extern char **environ;

/* A hook that prints more than this per line is cut; lines are for people. */
#define LINE_MAX_BYTES 2048
/* The last lines of output, quoted in the result. */
#define TAIL_LINES 3

struct pipe_reader {
        struct renew_command *c;
        const char *stream;
        int fd;
        sd_event_source *source;
        char buf[LINE_MAX_BYTES];
        size_t len;
};

struct renew_command {
        sd_event *event;
        uint64_t timeout_usec;
        pid_t pid;                 /* 0 once reaped */
        sd_event_source *child;
        sd_event_source *kill_timer;
        bool timed_out;
        struct pipe_reader out, err;
        char *tail[TAIL_LINES + 1];  /* NULL-terminated */
        size_t n_tail;
        renew_command_line_cb on_line;
        renew_command_done_cb on_done;
        void *userdata;
};

static void emit_line(struct renew_command *c, const char *stream, const char *data, size_t len) {
        _cleanup_free_ char *line = str_escape(data, len);

        if (c->on_line)
                c->on_line(stream, line, c->userdata);
        if (c->n_tail == TAIL_LINES) {
                free(c->tail[0]);
                memmove(c->tail, c->tail + 1, (TAIL_LINES - 1) * sizeof(c->tail[0]));
                c->n_tail--;
        }
        c->tail[c->n_tail++] = TAKE_PTR(line);
}

static void reader_close(struct pipe_reader *pr) {
        pr->source = sd_event_source_disable_unref(pr->source);
        if (pr->fd >= 0)
                close(pr->fd);
        pr->fd = -1;
}

/* Reads what is there; at EOF (or with flush) the partial line goes out too. */
static void reader_drain(struct pipe_reader *pr, bool flush) {
        if (pr->fd < 0)
                return;
        for (;;) {
                ssize_t n = read(pr->fd, pr->buf + pr->len, sizeof(pr->buf) - pr->len);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n <= 0) {
                        if (n == 0 || (errno != EAGAIN && errno != EWOULDBLOCK))
                                flush = true;
                        if (flush) {
                                if (pr->len > 0)
                                        emit_line(pr->c, pr->stream, pr->buf, pr->len);
                                pr->len = 0;
                                reader_close(pr);
                        }
                        return;
                }
                pr->len += (size_t)n;
                char *start = pr->buf, *nl;
                while ((nl = memchr(start, '\n', pr->len - (size_t)(start - pr->buf)))) {
                        emit_line(pr->c, pr->stream, start, (size_t)(nl - start));
                        start = nl + 1;
                }
                pr->len -= (size_t)(start - pr->buf);
                memmove(pr->buf, start, pr->len);
                if (pr->len == sizeof(pr->buf)) {
                        emit_line(pr->c, pr->stream, pr->buf, pr->len);
                        pr->len = 0;
                }
        }
}

static int on_pipe(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        reader_drain(userdata, false);
        return 0;
}

static char *tail_text(const struct renew_command *c) {
        if (c->n_tail == 0)
                return xstrdup("no output");
        _cleanup_free_ char *joined = strv_join((char **)c->tail, " | ", 0);
        return xasprintf("last output: %s", joined);
}

static int on_child(sd_event_source *s, const siginfo_t *si, void *userdata) {
        struct renew_command *c = userdata;
        _cleanup_free_ char *detail = NULL, *tail = NULL;
        char dur[DURATION_MAX];
        bool ok = false;

        /* A grandchild may hold the pipes open: take what is there and stop
         * listening, the command itself is over. */
        reader_drain(&c->out, true);
        reader_drain(&c->err, true);
        c->kill_timer = sd_event_source_disable_unref(c->kill_timer);
        c->child = sd_event_source_disable_unref(c->child);
        c->pid = 0;
        tail = tail_text(c);

        if (c->timed_out)
                detail = xasprintf("killed after renew.timeout (%s)", format_duration(c->timeout_usec, dur));
        else if (si->si_code == CLD_EXITED && si->si_status == 0) {
                ok = true;
                detail = xstrdup("command exited with status 0");
        } else if (si->si_code == CLD_EXITED)
                detail = xasprintf("command exited with status %d", si->si_status);
        else
                detail = xasprintf("command killed by signal %s", strsignal(si->si_status));
        /* Last: the callback may free c. */
        c->on_done(c, &(struct renew_command_result){ .ok = ok, .detail = detail, .tail = tail }, c->userdata);
        return 0;
}

static int on_kill_timer(sd_event_source *s, uint64_t usec, void *userdata) {
        struct renew_command *c = userdata;
        c->timed_out = true;
        /* The whole group: lego, certbot or a hook's children go with it. */
        if (c->pid > 0)
                (void)kill(-c->pid, SIGKILL);
        return 0;
}

char **renew_command_env(const struct platform *p, const struct renew_state *st, const struct plan *plan,
                         const struct platform_obs *obs) {
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
        strv_push(&env, xasprintf("CERTVIGIL_PLATFORM=%s", p->name));
        strv_push(&env, xasprintf("CERTVIGIL_BASE_DOMAIN=%s", p->base_domain));
        strv_push(&env, xasprintf("CERTVIGIL_WILDCARD=%s", plan ? plan->wildcard : ""));
        strv_push(&env, xasprintf("CERTVIGIL_CHALLENGE_NAME=%s", plan ? plan->challenge_name : ""));
        strv_push(&env, xasprintf("CERTVIGIL_REASON=%s", st->reason ? st->reason : ""));
        strv_push(&env, xasprintf("CERTVIGIL_NOT_AFTER=%s", when));
        strv_push(&env, xasprintf("CERTVIGIL_OLD_SERIAL=%s", st->old_serial ? st->old_serial : ""));
        return env;
}

static int command_spawn(char *const argv[], char *const envp[], int out, int err, pid_t *ret) {
        posix_spawn_file_actions_t fa;
        posix_spawnattr_t attr;
        sigset_t none, chld, def;
        int r;

        /* sd_event_add_child needs SIGCHLD blocked; the child starts with
         * an empty mask and default dispositions. */
        sigemptyset(&chld);
        sigaddset(&chld, SIGCHLD);
        sigprocmask(SIG_BLOCK, &chld, NULL);
        sigemptyset(&none);
        sigemptyset(&def);
        sigaddset(&def, SIGPIPE);
        sigaddset(&def, SIGCHLD);
        sigaddset(&def, SIGHUP);
        sigaddset(&def, SIGTERM);

        posix_spawn_file_actions_init(&fa);
        posix_spawn_file_actions_addopen(&fa, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
        posix_spawn_file_actions_adddup2(&fa, out, STDOUT_FILENO);
        posix_spawn_file_actions_adddup2(&fa, err, STDERR_FILENO);
        posix_spawnattr_init(&attr);
        posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
        posix_spawnattr_setpgroup(&attr, 0);
        posix_spawnattr_setsigmask(&attr, &none);
        posix_spawnattr_setsigdefault(&attr, &def);
        r = -posix_spawnp(ret, argv[0], &fa, &attr, argv, envp);
        posix_spawn_file_actions_destroy(&fa);
        posix_spawnattr_destroy(&attr);
        return r;
}

int renew_command_start(sd_event *event, char *const argv[], char *const envp[], uint64_t timeout_usec,
                        renew_command_line_cb on_line, renew_command_done_cb on_done, void *userdata,
                        struct renew_command **ret, char **ret_error) {
        struct renew_command *c = NULL;
        int out[2] = { -1, -1 }, err[2] = { -1, -1 }, r;
        pid_t pid;

        if (pipe2(out, O_CLOEXEC | O_NONBLOCK) < 0 || pipe2(err, O_CLOEXEC | O_NONBLOCK) < 0) {
                r = -errno;
                *ret_error = xasprintf("cannot create pipes: %s", strerror(errno));
                goto fail;
        }
        r = command_spawn(argv, envp, out[1], err[1], &pid);
        close(out[1]);
        close(err[1]);
        out[1] = err[1] = -1;
        if (r < 0) {
                _cleanup_free_ char *shown = str_escape(argv[0], strlen(argv[0]));
                *ret_error = xasprintf("cannot run '%s': %s", shown, strerror(-r));
                goto fail;
        }
        c = xcalloc(1, sizeof(*c));
        *c = (struct renew_command){
                .event = sd_event_ref(event),
                .timeout_usec = timeout_usec,
                .pid = pid,
                .on_line = on_line,
                .on_done = on_done,
                .userdata = userdata,
        };
        c->out = (struct pipe_reader){ .c = c, .stream = "stdout", .fd = out[0] };
        c->err = (struct pipe_reader){ .c = c, .stream = "stderr", .fd = err[0] };
        out[0] = err[0] = -1;   /* the readers' now */
        if ((r = sd_event_add_io(event, &c->out.source, c->out.fd, EPOLLIN, on_pipe, &c->out)) < 0 ||
            (r = sd_event_add_io(event, &c->err.source, c->err.fd, EPOLLIN, on_pipe, &c->err)) < 0 ||
            (r = sd_event_add_child(event, &c->child, pid, WEXITED, on_child, c)) < 0 ||
            (r = sd_event_add_time_relative(event, &c->kill_timer, CLOCK_MONOTONIC, timeout_usec, USEC_PER_SEC / 10,
                                            on_kill_timer, c)) < 0) {
                *ret_error = xasprintf("cannot watch the command: %s", strerror(-r));
                renew_command_free(c);   /* kills and reaps it */
                return r;
        }
        *ret = c;
        return 0;
fail:
        for (size_t i = 0; i < 2; i++) {
                if (out[i] >= 0)
                        close(out[i]);
                if (err[i] >= 0)
                        close(err[i]);
        }
        return r;
}

struct renew_command *renew_command_free(struct renew_command *c) {
        if (!c)
                return NULL;
        if (c->pid > 0) {
                (void)kill(-c->pid, SIGKILL);
                (void)waitpid(c->pid, NULL, 0);
        }
        reader_close(&c->out);
        reader_close(&c->err);
        sd_event_source_disable_unref(c->child);
        sd_event_source_disable_unref(c->kill_timer);
        for (size_t i = 0; i < c->n_tail; i++)
                free(c->tail[i]);
        sd_event_unref(c->event);
        free(c);
        return NULL;
}

bool renew_command_running(const struct renew_command *c) {
        return c && c->pid > 0;
}
