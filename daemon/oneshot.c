/* `certvigil audit`: one run per platform on one loop, then report, job
 * summary, journal, state and exit status. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <systemd/sd-event.h>

#include "audit-pool.h"
#include "http.h"
#include "oneshot.h"
#include "output.h"
#include "progress.h"
#include "renewal.h"
#include "report-stream.h"
#include "run.h"
#include "util.h"

struct oneshot {
        const struct cli_options *o;
        const struct config *c;
        sd_event *event;
        struct audit_pool *pool;
        struct http_cache *cache;
        struct renew_store *store;
        struct journal *journal;     /* with --journal: renewal output during the run, then the audit */
        struct output *out;          /* where -o says, checked before anything is sent */
        struct run **runs;           /* one per platform, in config order */
        bool *done;                  /* runs[i] finished */
        struct progress *progress;   /* on stderr, NULL when not shown */
        size_t pending;
        /* The report, written as platforms finish (all formats but
         * GitHub's, which is rendered whole at the end): runs before
         * `written` are reported and released; a finished run waits only
         * for the ones before it. */
        struct report_stream *stream;
        size_t written;
        time_t started_wall;
        sd_event_source *sig_term, *sig_int;
        int stopped_by;              /* SIGTERM or SIGINT when one ended the run, else 0 */
};

/* Exit status of the worst severity under --fail-on. */
static int exit_status(int worst, int fail_on) {
        if (fail_on < 0 || worst < fail_on)
                return EXIT_OK;
        return worst == SEVERITY_CRITICAL ? EXIT_CRITICAL : worst == SEVERITY_WARNING ? EXIT_WARNING : EXIT_OK;
}

/* GitHub Actions shows this Markdown on the run's summary page. The file is
 * the runner's and others append to it too, so append, never replace. */
static void github_summary(const struct report *rep) {
        const char *path = getenv("GITHUB_STEP_SUMMARY");
        _cleanup_free_ char *md = NULL;
        size_t len;
        FILE *f;

        if (!path || !*path || report_github_summary(rep, &md, &len) < 0)
                return;
        f = fopen(path, "ae");
        if (!f || fwrite(md, 1, len, f) != len || fclose(f) != 0)
                fprintf(stderr, "certvigil: cannot append the job summary to %s: %s\n", path, strerror(errno));
}

/* --journal and --state-dir: what the daemon does after every audit, once
 * per platform. Returns the worst severity still open (with state) or
 * found (without); *ret_unlocked when the state directory's lock could not
 * be had (the findings then go out as without a state, nothing is saved). */
static int oneshot_settle(struct oneshot *x, bool *ret_unlocked) {
        _cleanup_free_ char *path = NULL, *error = NULL;
        struct state *state = NULL;
        time_t now = (time_t)(now_realtime_usec() / USEC_PER_SEC);
        int worst = -1, lock = -1;

        /* Read, change, write under the lock: another run saving meanwhile
         * would otherwise lose its platforms' alert state. */
        if (x->o->state_dir && !x->o->dry_run && state_lock(x->o->state_dir, &lock, &error) < 0) {
                fprintf(stderr, "certvigil: cannot lock %s; the alert state is not updated\n", error);
                *ret_unlocked = true;
        } else if (x->o->state_dir)
                state = run_state_open(x->o->state_dir, &path);

        for (size_t i = 0; i < x->c->n_platforms; i++) {
                int w = run_settle(x->runs[i], state, x->journal, now);
                if (w > worst)
                        worst = w;
        }
        if (state) {
                _cleanup_free_ const char **names = xcalloc(x->c->n_platforms + 1, sizeof(*names));
                for (size_t i = 0; i < x->c->n_platforms; i++)
                        names[i] = x->c->platforms[i]->name;
                state_prune_platforms(state, names, x->c->n_platforms, now);
        }
        /* --dry-run changes no state, the alerts' included. */
        if (state && !x->o->dry_run) {
                int r = state_save(state, path);
                if (r < 0)
                        fprintf(stderr, "certvigil: cannot write %s: %s (alerts may repeat next time)\n", path,
                                strerror(-r));
        }
        state_unlock(lock);
        state_free(state);
        return worst;
}

/* A renewal command's output: on stderr as always, and with --journal as
 * entries of their own. */
static void on_renew_line(const char *platform, const char *stream, const char *line, void *userdata) {
        struct oneshot *x = userdata;
        fprintf(stderr, "certvigil: platform '%s': renew.command %s: %s\n", platform, stream, line);
        journal_send_renew_line(x->journal, platform, stream, line);
}

/* The renewal store, when some platform renews and this run may trigger. */
static int open_store(const struct cli_options *o, const struct config *c, struct renew_store **ret) {
        _cleanup_free_ char *warning = NULL;
        _cleanup_free_ char *dir = run_state_dir(o->state_dir, DEFAULT_STATE_DIR);
        bool any = false;
        struct stat sb;

        /* check: nothing read, nothing written, nothing triggered. */
        if (o->host) {
                *ret = NULL;
                return 0;
        }
        for (size_t i = 0; i < c->n_platforms; i++)
                any = any || c->platforms[i]->renew.enabled;
        if (!any || o->no_renew) {
                /* ARI alone uses the state when it can (Retry-After and
                 * "moved earlier" across runs), and does without. */
                *ret = NULL;
                if (stat(dir, &sb) == 0 && S_ISDIR(sb.st_mode) && access(dir, W_OK) == 0)
                        (void)renew_store_open(dir, o->dry_run, ret, &warning);
                if (warning)
                        fprintf(stderr, "certvigil: %s\n", warning);
                return 0;
        }
        /* The guardrails only hold if they can be remembered. Like the alert
         * state, the directory is created when missing. */
        if (!o->dry_run && stat(dir, &sb) < 0 && errno == ENOENT)
                (void)mkdir(dir, 0700); /* judged just below, ignoring */
        if (!o->dry_run && (stat(dir, &sb) < 0 || !S_ISDIR(sb.st_mode) || access(dir, W_OK) < 0)) {
                fprintf(stderr, "certvigil: renewal is enabled but the state directory %s is not a writable "
                        "directory; use --state-dir, or --no-renew\n", dir);
                return EXIT_UNUSABLE;
        }
        (void)renew_store_open(dir, o->dry_run, ret, &warning);
        if (warning)
                fprintf(stderr, "certvigil: %s\n", warning);
        return 0;
}

/* Writes every finished platform not yet written whose predecessors are,
 * and frees its observations. A write that fails is reported at the end
 * (report_stream_finish()); the audit goes on and is settled. */
static void oneshot_flush(struct oneshot *x) {
        for (; x->written < x->c->n_platforms && x->done[x->written]; x->written++) {
                struct run *r = x->runs[x->written];
                struct report_platform rp;

                run_report_platform(r, &rp);
                (void)report_stream_platform(x->stream, &rp, (time_t)(now_realtime_usec() / USEC_PER_SEC));
                run_release(r);
        }
}

static void on_run_done(struct run *r, void *userdata) {
        struct oneshot *x = userdata;

        /* Runs before `written` are done: mostly a short search, as runs
         * end roughly in config order. */
        for (size_t i = x->written; i < x->c->n_platforms; i++)
                if (x->runs[i] == r) {
                        x->done[i] = true;
                        progress_note(x->progress, i); /* before the run's audit is released */
                        break;
                }
        if (x->stream)
                oneshot_flush(x);
        if (--x->pending == 0)
                sd_event_exit(x->event, 0);
}

/* SIGTERM or SIGINT (systemctl stop, Ctrl-C): the run ends here. Left to
 * their default action they killed us at once and a renewal command in
 * flight, in a process group of its own, went on unsupervised, past its
 * renew.timeout; now oneshot_done() kills its group, and oneshot_audit()
 * then ends by the same signal, so a shell or systemd sees what it sent. */
static int on_stop(sd_event_source *s, const struct signalfd_siginfo *si, void *userdata) {
        struct oneshot *x = userdata;

        x->stopped_by = (int)si->ssi_signo;
        return sd_event_exit(x->event, 0);
}

/* A signal we inherited as ignored stays ignored (a shell's background
 * job ignores SIGINT): blocked for a signalfd, it would be delivered. */
static int oneshot_watch(struct oneshot *x, int sig, sd_event_source **ret) {
        struct sigaction old;
        sigset_t mask;

        if (sigaction(sig, NULL, &old) == 0 && old.sa_handler == SIG_IGN)
                return 0;
        sigemptyset(&mask);
        sigaddset(&mask, sig);
        if (sigprocmask(SIG_BLOCK, &mask, NULL) < 0)
                return -errno;
        return sd_event_add_signal(x->event, ret, sig, on_stop, x);
}

static int oneshot_signals(struct oneshot *x) {
        int r = oneshot_watch(x, SIGTERM, &x->sig_term);

        return r < 0 ? r : oneshot_watch(x, SIGINT, &x->sig_int);
}

static void oneshot_signals_release(struct oneshot *x) {
        sigset_t mask;

        sigemptyset(&mask);
        if (x->sig_term)
                sigaddset(&mask, SIGTERM);
        if (x->sig_int)
                sigaddset(&mask, SIGINT);
        x->sig_term = sd_event_source_disable_unref(x->sig_term);
        x->sig_int = sd_event_source_disable_unref(x->sig_int);
        (void)sigprocmask(SIG_UNBLOCK, &mask, NULL);
}

/* After everything is torn down: end by the signal that stopped the run. */
static void oneshot_die(int sig) {
        sigset_t mask;

        fprintf(stderr, "certvigil: stopped by %s: audits abandoned, no report written\n",
                sig == SIGINT ? "SIGINT" : "SIGTERM");
        fflush(stderr);
        signal(sig, SIG_DFL);
        sigemptyset(&mask);
        sigaddset(&mask, sig);
        (void)sigprocmask(SIG_UNBLOCK, &mask, NULL);
        (void)raise(sig);
        _exit(128 + sig); /* not reached: the signal's default action ends us */
}

/* Every platform is set up before the first packet leaves, so a bad trust
 * file or plan stops the audit with nothing sent. */
static int oneshot_prepare(struct oneshot *x) {
        const struct config *c = x->c;
        /* Platforms run side by side, within one cap on jobs in flight: the
         * largest concurrency any of them asks for, within the descriptors
         * the process may open. */
        unsigned long nofile;
        int r;

        (void)fd_limit_raise(&nofile); /* sized by what we got, ignoring */
        r = audit_pool_new(x->event, audit_pool_cap(c, nofile), &x->pool);
        if (r < 0) {
                fprintf(stderr, "certvigil: cannot set up the audits: %s\n", strerror(-r));
                return r;
        }
        /* One cache for the run: platforms sharing a CA fetch its CRL once. */
        x->cache = http_cache_new();
        struct run_env env = {
                .event = x->event,
                .pool = x->pool,
                .cache = x->cache,
                .store = x->store,
                .renew = !x->o->no_renew,
                .renewal = { .dry_run = x->o->dry_run, .on_line = on_renew_line, .userdata = x },
        };
        x->runs = xcalloc(c->n_platforms, sizeof(*x->runs));
        x->done = xcalloc(c->n_platforms + 1, sizeof(*x->done));
        for (size_t i = 0; i < c->n_platforms; i++) {
                _cleanup_free_ char *error = NULL;
                r = run_new(&env, c->platforms[i], &x->runs[i]);
                if (r >= 0)
                        r = run_prepare(x->runs[i], &error);
                if (r < 0) {
                        fprintf(stderr, "%s: platform '%s': %s\n", c->path ? c->path : x->o->values,
                                c->platforms[i]->name, error ? error : strerror(-r));
                        return r;
                }
        }
        if (x->o->journal)
                x->journal = journal_new();
        return 0;
}

/* The whole report at once: GitHub's format, whose job summary needs it. */
static int oneshot_render(struct oneshot *x, uint64_t duration_usec, int *ret_worst) {
        _cleanup_free_ struct report_platform *rps = xcalloc(x->c->n_platforms + 1, sizeof(*rps));
        _cleanup_free_ char *text = NULL;
        size_t len, counts[3];
        int r;

        for (size_t i = 0; i < x->c->n_platforms; i++)
                run_report_platform(x->runs[i], &rps[i]);
        struct report rep = {
                .started = x->started_wall,
                .duration_usec = duration_usec,
                .now = (time_t)(now_realtime_usec() / USEC_PER_SEC),
                .platforms = rps,
                .n_platforms = x->c->n_platforms,
        };
        r = report_render(&rep, x->o->format, cli_want_color(x->o), &text, &len);
        if (r < 0) {
                fprintf(stderr, "certvigil: cannot render the report: %s\n", strerror(-r));
                return EXIT_UNUSABLE;
        }
        r = cli_emit(x->out, text, len);
        if (r != 0)
                return r;
        if (x->o->format == REPORT_GITHUB)
                github_summary(&rep);
        *ret_worst = report_count(&rep, counts);
        return 0;
}

/* The streamed report's head, parts and tail, where -o says. */
static int oneshot_finish_stream(struct oneshot *x, uint64_t duration_usec, int *ret_worst) {
        _cleanup_free_ char *error = NULL;
        FILE *f = NULL;
        int r, k;

        r = output_begin(x->out, &f, &error);
        if (r >= 0) {
                r = report_stream_finish(x->stream, duration_usec, f);
                k = output_end(x->out, f, r >= 0, &error);
                if (r >= 0)
                        r = k;
                else if (!error)
                        error = xasprintf("cannot write the report to %s: %s",
                                          output_is_stdout(x->out) ? "standard output" : output_path(x->out),
                                          strerror(-r));
        }
        if (r < 0) {
                fprintf(stderr, "certvigil: %s\n", error ? error : strerror(-r));
                return EXIT_UNUSABLE;
        }
        *ret_worst = report_stream_totals(x->stream)->worst;
        return 0;
}

/* A streamed report when the format allows; its parts wait beside -o's
 * file (a /tmp on tmpfs would hold them in memory). */
static int oneshot_stream_new(struct oneshot *x) {
        const char *target = output_directory_hint(x->out);
        _cleanup_free_ char *dir = NULL;
        int r;

        if (target) {
                const char *slash = strrchr(target, '/');
                dir = slash ? xstrndup(target, slash == target ? 1 : (size_t)(slash - target)) : xstrdup(".");
        }
        r = report_stream_new(x->o->format, cli_want_color(x->o), x->started_wall, dir, &x->stream);
        if (r == -EOPNOTSUPP)
                return 0;
        if (r < 0)
                fprintf(stderr, "certvigil: cannot set up the report: %s\n", strerror(-r));
        return r;
}

/* Writes and settles what the runs found; returns the exit status. */
static int oneshot_report(struct oneshot *x, uint64_t started) {
        uint64_t duration_usec = now_monotonic_usec() - started;
        bool unlocked = false;
        int r, worst = -1;

        r = x->stream ? oneshot_finish_stream(x, duration_usec, &worst) : oneshot_render(x, duration_usec, &worst);
        if (r != 0)
                return r;
        if (x->o->state_dir || x->o->journal)
                worst = oneshot_settle(x, &unlocked);
        /* A change to the state that waited for another run's lock in vain
         * was not made: the run is not complete. */
        if (unlocked || renew_store_lock_failed(x->store))
                return EXIT_UNUSABLE;
        return exit_status(worst, x->o->fail_on);
}

static void oneshot_done(struct oneshot *x) {
        /* Runs borrow the pool, the cache and the store: they go first. */
        x->progress = progress_free(x->progress); /* reads the runs */
        for (size_t i = 0; x->runs && i < x->c->n_platforms; i++)
                run_free(x->runs[i]);
        free(x->runs);
        free(x->done);
        report_stream_free(x->stream);
        renew_store_free(x->store);
        output_free(x->out);
        journal_free(x->journal);
        http_cache_free(x->cache);
        audit_pool_free(x->pool);
        sd_event_source_disable_unref(x->sig_term);
        sd_event_source_disable_unref(x->sig_int);
        sd_event_unref(x->event);
}

int oneshot_audit(const struct cli_options *o, const struct config *c) {
        struct oneshot x = { .o = o, .c = c, .pending = c->n_platforms };
        /* Where the renewal store keeps its guardrails, with or without
         * --state-dir (open_store()): -o must not replace that file either. */
        _cleanup_free_ char *state_dir = run_state_dir(o->state_dir, DEFAULT_STATE_DIR);
        int r, ret;

        /* A report that could not be written makes the run worthless:
         * find out now, not after the audit. */
        ret = cli_output_open(o, state_dir, &x.out);
        if (ret != 0)
                goto out;
        ret = open_store(o, c, &x.store);
        if (ret != 0)
                goto out;
        ret = EXIT_UNUSABLE;
        r = sd_event_default(&x.event);
        if (r < 0) {
                fprintf(stderr, "certvigil: cannot create the event loop: %s\n", strerror(-r));
                goto out;
        }
        r = oneshot_signals(&x);
        if (r < 0) {
                fprintf(stderr, "certvigil: cannot watch SIGTERM and SIGINT: %s\n", strerror(-r));
                goto out;
        }
        if (oneshot_prepare(&x) < 0)
                goto out;
        uint64_t started = now_monotonic_usec();
        x.started_wall = (time_t)(now_realtime_usec() / USEC_PER_SEC);
        r = oneshot_stream_new(&x);
        if (r < 0)
                goto out;
        for (size_t i = 0; i < c->n_platforms; i++) {
                r = run_start(x.runs[i], on_run_done, &x);
                if (r < 0) {
                        fprintf(stderr, "certvigil: cannot start the audit of '%s': %s\n", c->platforms[i]->name,
                                strerror(-r));
                        goto out;
                }
        }
        /* The line only where a person watches stderr; -v wherever. */
        r = progress_new(x.event, x.runs, c->n_platforms, o->verbosity >= 0 && isatty(STDERR_FILENO),
                         o->verbosity > 0, stderr, &x.progress);
        if (r < 0)
                fprintf(stderr, "certvigil: no progress display: %s, ignoring\n", strerror(-r));
        /* No platform (a shard that owns none): nothing would ever end
         * the loop. The report says so, empty. */
        if (x.pending == 0)
                fprintf(stderr, "certvigil: no platform to audit (shard %u/%u owns none of them)\n", c->shard.index,
                        c->shard.count);
        r = x.pending > 0 ? sd_event_loop(x.event) : 0;
        progress_finish(x.progress);
        if (r < 0) {
                fprintf(stderr, "certvigil: event loop failed: %s\n", strerror(-r));
                goto out;
        }
        if (x.stopped_by)
                goto out;
        /* From here on a stop takes its default action again: writing the
         * report may wait on a FIFO's reader, which Ctrl-C must end. */
        oneshot_signals_release(&x);
        ret = oneshot_report(&x, started);
out:
        oneshot_done(&x);
        if (x.stopped_by)
                oneshot_die(x.stopped_by);
        return ret;
}
