/* The daemon's manager: per-platform schedule with jitter, one audit in
 * flight per platform at most, then ARI, the provided-mode Secret and
 * renewal after each audit, alert discipline over the saved state, the
 * notify protocol, reload and stop. */
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <syslog.h>
#include <unistd.h>

#include <systemd/sd-daemon.h>
#include <systemd/sd-event.h>

#include "audit-pool.h"
#include "daemon.h"
#include "httpd.h"
#include "journal.h"
#include "log.h"
#include "renewal.h"
#include "run.h"
#include "state.h"
#include "telemetry.h"
#include "util.h"

struct slot {
        struct daemon *daemon;
        const struct platform *platform;   /* in daemon->config */
        /* The platform's run: audit, ARI, Secret, renewal. It stays running
         * until renewal is done, verification included, so no audit of the
         * platform starts while its renewal is being proven. */
        struct run *run;
        sd_event_source *timer;
        uint64_t next_usec;                /* CLOCK_MONOTONIC */
        uint64_t started_usec;
        bool was_running;                  /* when dropped for a reload */
};

/* What a reload replaced but a retired run still borrows. */
struct generation {
        struct config *config;
        struct audit_pool *pool;
        size_t users;
};

/* A run kept past a reload because its renewal method was in flight: it
 * ends that method, is settled like any run, and goes. Until then the new
 * slot of its platform does not start. */
struct retired {
        struct daemon *daemon;
        struct run *run;
        struct generation *gen;
        struct retired *next;
};

struct daemon {
        struct daemon_options opts;
        sd_event *event;
        struct config *config;
        struct slot *slots;
        size_t n_slots;
        struct state *state;
        char *state_path;
        struct renew_store *store;         /* the "renewal" key of state.json; NULL without */
        struct audit_pool *pool;           /* for the config in force */
        struct journal *journal;
        sd_event_source *sig_hup, *sig_term, *sig_int;
        uint64_t rng;
        unsigned long audits;              /* completed, since start */
        struct retired *retired;           /* list, each owned here */
        struct telemetry *telemetry;       /* what /metrics and the others serve */
        struct httpd *httpd;               /* NULL without listen */
        /* -o FILE: when it was last written (CLOCK_MONOTONIC, 0: never),
         * and the deferred write of audits finished since, when pending. */
        uint64_t report_written_usec;
        sd_event_source *report_timer;
        bool report_pending;
        uint64_t report_gap_usec;          /* REPORT_GAP_USEC, or the tests' */
        uint64_t report_retry_usec;        /* after the last failed write; 0: it did not fail */
        /* The configured names changed (reload) since the state was last
         * pruned: state_prune_due() knows only of the last audits. */
        bool prune_names_changed;
};

/* -o FILE is written at most this often: every write renders every
 * platform's report and waits for the disk, on the loop the probes
 * share, so one per audit would be quadratic with many platforms. */
#define REPORT_GAP_USEC USEC_PER_SEC
/* A failed write is tried again after the gap, then twice as long after
 * each failure in a row, up to this. */
#define REPORT_RETRY_MAX_USEC (60 * USEC_PER_SEC)

/* CERTVIGIL_REPORT_GAP (a duration) replaces REPORT_GAP_USEC, for tests
 * only: a long one keeps audits out of FILE until SIGTERM writes them,
 * which the default second makes a race. Read once, at start. */
static int daemon_report_gap(uint64_t *ret) {
        const char *env = getenv("CERTVIGIL_REPORT_GAP");

        *ret = REPORT_GAP_USEC;
        if (!env || !*env)
                return 0;
        if (parse_duration(env, ret) < 0 || *ret == 0) {
                log_msg(LOG_ERR, "CERTVIGIL_REPORT_GAP: '%s' is not a duration above 0 (500ms, 10s, 1h)", env);
                return -EINVAL;
        }
        return 0;
}

/* xorshift64*: jitter needs spread, not secrecy. */
static uint64_t daemon_random(struct daemon *d) {
        d->rng ^= d->rng >> 12;
        d->rng ^= d->rng << 25;
        d->rng ^= d->rng >> 27;
        return d->rng * 2685821657736338717ULL;
}

static void format_span(uint64_t usec, char *buf, size_t n) {
        if (usec >= 2 * 3600 * USEC_PER_SEC)
                snprintf(buf, n, "%" PRIu64 "h", (uint64_t)(usec / (3600 * USEC_PER_SEC)));
        else if (usec >= 2 * 60 * USEC_PER_SEC)
                snprintf(buf, n, "%" PRIu64 "m", (uint64_t)(usec / (60 * USEC_PER_SEC)));
        else if (usec >= 2 * USEC_PER_SEC)
                snprintf(buf, n, "%" PRIu64 "s", (uint64_t)(usec / USEC_PER_SEC));
        else
                snprintf(buf, n, "%" PRIu64 "ms", (uint64_t)(usec / USEC_PER_MSEC));
}

/* STATUS=: what `systemctl status` shows under the unit. */
static void daemon_notify_status(struct daemon *d, const char *prefix) {
        size_t counts[3] = { 0 }, running = 0;
        uint64_t now = now_monotonic_usec(), next = UINT64_MAX;
        char when[48] = "no audit scheduled";

        for (size_t i = 0; i < d->n_slots; i++) {
                /* Looked up, never added: the state changes only as it is saved. */
                const struct state_platform *sp = state_platform_find(d->state, d->slots[i].platform->name);
                for (size_t j = 0; sp && j < sp->n_findings; j++)
                        counts[sp->findings[j].severity]++;
                if (run_is_running(d->slots[i].run))
                        running++;
                else if (d->slots[i].next_usec < next)
                        next = d->slots[i].next_usec;
        }
        for (const struct retired *x = d->retired; x; x = x->next)
                running++;
        /* One audit in flight is news enough; when the next one is due
         * matters only while nothing runs. */
        if (running)
                snprintf(when, sizeof(when), "auditing now");
        else if (next != UINT64_MAX) {
                char span[32];
                format_span(next > now ? next - now : 0, span, sizeof(span));
                snprintf(when, sizeof(when), "next audit in %s", span);
        }
        sd_notifyf(false, "%sSTATUS=%zu platform%s, %zu critical, %zu warning, %lu audit%s done, %s", prefix,
                   d->n_slots, d->n_slots == 1 ? "" : "s", counts[SEVERITY_CRITICAL], counts[SEVERITY_WARNING],
                   d->audits, d->audits == 1 ? "" : "s", when);
}

static void slot_schedule(struct slot *s, uint64_t at);

/* Arms the report's timer for at (CLOCK_MONOTONIC): the write is then
 * pending, and takes every audit finished until it. */
static int daemon_report_arm(struct daemon *d, uint64_t at);

/* -o FILE: the report of every platform's last audit, replaced whole
 * (readers see the previous one or this one). A failure is logged and
 * counted, and the write is tried again on its own, report_gap_usec later
 * and twice as long after each failure in a row (up to a minute), not only
 * when the next audit finishes, which may be an interval away: the report
 * is a by-product, the audits and alerts go on. The last write (SIGTERM's)
 * is not tried again. */
static void daemon_write_report(struct daemon *d, bool last) {
        _cleanup_free_ char *text = NULL, *error = NULL;
        uint64_t cap = d->report_gap_usec > REPORT_RETRY_MAX_USEC ? d->report_gap_usec : REPORT_RETRY_MAX_USEC;
        char span[32];
        size_t len;
        int r;

        /* A write due later is this one now (SIGTERM's). */
        if (d->report_pending)
                (void)sd_event_source_set_enabled(d->report_timer, SD_EVENT_OFF); /* a second write is harmless */
        d->report_pending = false;
        d->report_written_usec = now_monotonic_usec();
        telemetry_report_writing(d->telemetry);
        r = telemetry_render(d->telemetry, d->config, d->state, d->opts.format, &text, &len);
        if (r < 0)
                error = xasprintf("cannot render the report for %s: %s", output_path(d->opts.output), strerror(-r));
        else
                r = output_write(d->opts.output, text, len, &error);
        if (r >= 0) {
                d->report_retry_usec = 0;
                return;
        }
        telemetry_report_write_failed(d->telemetry);
        if (last) {
                log_msg(LOG_ERR, "%s; stopping without it", error);
                return;
        }
        d->report_retry_usec = d->report_retry_usec == 0      ? d->report_gap_usec
                               : d->report_retry_usec > cap / 2 ? cap
                                                                : 2 * d->report_retry_usec;
        r = daemon_report_arm(d, d->report_written_usec + d->report_retry_usec);
        if (r < 0) {
                log_msg(LOG_ERR, "%s; cannot schedule another try (%s): the next audit tries again", error,
                        strerror(-r));
                return;
        }
        format_span(d->report_retry_usec, span, sizeof(span));
        log_msg(LOG_ERR, "%s; trying again in %s", error, span);
}

static int on_report_timer(sd_event_source *src, uint64_t usec, void *userdata) {
        daemon_write_report(userdata, false);
        return 0;
}

static int daemon_report_arm(struct daemon *d, uint64_t at) {
        int r;

        if (d->report_timer) {
                r = sd_event_source_set_time(d->report_timer, at);
                if (r >= 0)
                        r = sd_event_source_set_enabled(d->report_timer, SD_EVENT_ONESHOT);
        } else
                r = sd_event_add_time(d->event, &d->report_timer, CLOCK_MONOTONIC, at, USEC_PER_MSEC,
                                      on_report_timer, d);
        if (r < 0)
                return r;
        d->report_pending = true;
        return 0;
}

/* An audit finished: FILE gets it at once when the last write is
 * report_gap_usec old, else with the write already due then (or the try
 * again after a failure), which takes every audit finished until it. So a
 * round of audits finishing together costs two writes, and FILE lags the
 * last audit by a second or so (more only when the loop itself is late,
 * or while writes fail). */
static void daemon_report_changed(struct daemon *d) {
        uint64_t now = now_monotonic_usec(), at = d->report_written_usec + d->report_gap_usec;
        int r;

        if (!d->opts.output || d->report_pending)
                return;
        if (d->report_written_usec == 0 || now >= at) {
                daemon_write_report(d, false);
                return;
        }
        r = daemon_report_arm(d, at);
        if (r < 0) {
                log_msg(LOG_ERR, "cannot schedule the report's write: %s; writing it now", strerror(-r));
                daemon_write_report(d, false);
        }
}

/* A finished run's alerts, journal entries and state. */
static void daemon_settle(struct daemon *d, const struct run *run) {
        time_t now = (time_t)(now_realtime_usec() / USEC_PER_SEC);
        _cleanup_free_ char *lock_error = NULL, *load_error = NULL;
        int r, lock = -1;

        /* Read, change, write under the state directory's lock, from what
         * the file says now (a oneshot may share the directory; while it is
         * still the file last written here, it says what memory does, and
         * is not read again); without the lock, memory goes on and nothing
         * is written this time. */
        r = state_lock(d->opts.state_dir, &lock, &lock_error);
        if (r < 0) {
                log_msg(LOG_ERR, "cannot lock %s; the alert state is not saved this time", lock_error);
                state_forget_file(d->state); /* memory changes below, the file does not */
        } else
                (void)state_refresh(d->state_path, &d->state, &load_error); /* unreadable: memory goes on */
        /* Entries first, state second: a kill between the two repeats this
         * one audit's alerts once on restart, which beats losing them. */
        journal_check(d->journal);
        (void)run_settle(run, d->state, d->journal, now);
        /* Every platform is looked at only when one may go: a settle costs
         * what its audit changed, not what the state holds. */
        if (state_prune_due(d->state, now) || d->prune_names_changed) {
                _cleanup_free_ const char **names = xcalloc(d->config->n_platforms + 1, sizeof(*names));
                for (size_t i = 0; i < d->config->n_platforms; i++)
                        names[i] = d->config->platforms[i]->name;
                state_prune_platforms(d->state, names, d->config->n_platforms, now);
                d->prune_names_changed = false;
        }
        if (r >= 0) {
                r = state_save(d->state, d->state_path);
                if (r < 0)
                        log_msg(LOG_ERR, "cannot write %s: %s (alerts may repeat after a restart)", d->state_path,
                                strerror(-r));
        }
        state_unlock(lock);
        d->audits++;
        telemetry_record(d->telemetry, run, now_monotonic_usec());
        daemon_report_changed(d);
}

/* The run is over: settle it, schedule the next. */
static void on_run_done(struct run *run, void *userdata) {
        struct slot *s = userdata;
        struct daemon *d = s->daemon;
        const struct platform *p = s->platform;

        daemon_settle(d, run);
        /* The next audit counts from this one's start, so the rhythm holds;
         * one that outlived its interval is followed at once, never twice. */
        uint64_t jitter = platform_jitter_usec(p);
        uint64_t next = s->started_usec + p->interval_usec + (jitter ? daemon_random(d) % (jitter + 1) : 0);
        uint64_t mono = now_monotonic_usec();
        slot_schedule(s, next > mono ? next : mono);
        daemon_notify_status(d, "");
}

static void slot_start(struct slot *s) {
        _cleanup_free_ char *error = NULL;
        int r;

        s->started_usec = now_monotonic_usec();
        r = run_prepare(s->run, &error);
        if (r >= 0) {
                r = run_start(s->run, on_run_done, s);
                if (r >= 0)
                        return;
                error = xasprintf("cannot start the audit: %s", strerror(-r));
        }
        log_msg(LOG_ERR, "platform '%s': %s; next try in one interval", s->platform->name, error ? error : strerror(-r));
        telemetry_failure(s->daemon->telemetry, s->platform->name);
        slot_schedule(s, s->started_usec + s->platform->interval_usec);
}

static bool daemon_retired_busy(const struct daemon *d, const char *platform) {
        for (const struct retired *x = d->retired; x; x = x->next)
                if (strcmp(run_platform(x->run)->name, platform) == 0)
                        return true;
        return false;
}

static int on_timer(sd_event_source *src, uint64_t usec, void *userdata) {
        struct slot *s = userdata;
        /* A platform whose renewal outlived a reload waits for it; its
         * end schedules this slot again. */
        if (!run_is_running(s->run) && !daemon_retired_busy(s->daemon, s->platform->name))
                slot_start(s);
        return 0;
}

static void slot_schedule(struct slot *s, uint64_t at) {
        /* Sub-second intervals (tests) need a tight timer; real ones let
         * the loop coalesce wake-ups. */
        uint64_t accuracy = s->platform->interval_usec < USEC_PER_SEC ? USEC_PER_MSEC : 0;
        int r;

        s->next_usec = at;
        if (s->timer) {
                r = sd_event_source_set_time(s->timer, at);
                if (r >= 0)
                        r = sd_event_source_set_enabled(s->timer, SD_EVENT_ONESHOT);
        } else
                r = sd_event_add_time(s->daemon->event, &s->timer, CLOCK_MONOTONIC, at, accuracy, on_timer, s);
        if (r < 0)
                log_msg(LOG_ERR, "platform '%s': cannot schedule the next audit: %s", s->platform->name, strerror(-r));
}

static void slot_drop(struct slot *s) {
        /* Freeing what is in flight cancels queries, handshakes and fetches
         * (a renewal command is killed) without running callbacks. */
        s->was_running = run_is_running(s->run);
        s->run = run_free(s->run);
        s->timer = sd_event_source_disable_unref(s->timer);
}

static void daemon_drop_slots(struct daemon *d) {
        for (size_t i = 0; i < d->n_slots; i++)
                slot_drop(&d->slots[i]);
        free(d->slots);
        d->slots = NULL;
        d->n_slots = 0;
}

/* A renewal command's output: a journal entry per line, or stderr (the
 * unit's journal stream under systemd) when there is no journal socket. */
static void daemon_on_renew_line(const char *platform, const char *stream, const char *line, void *userdata) {
        struct daemon *d = userdata;
        if (!journal_check(d->journal) || journal_send_renew_line(d->journal, platform, stream, line) < 0)
                log_msg(LOG_INFO, "platform '%s': renew.command %s: %s", platform, stream, line);
}

/* old: the previous slots (may be NULL), whose schedule carries over for
 * platforms of the same name. */
static void daemon_make_slots(struct daemon *d, const struct slot *old, size_t n_old) {
        uint64_t now = now_monotonic_usec();
        int r;
        struct run_env env = {
                .event = d->event,
                .pool = d->pool,
                .store = d->store,
                .renew = !d->opts.no_renew,
                .renewal = { .on_line = daemon_on_renew_line, .userdata = d },
        };

        d->slots = xcalloc(d->config->n_platforms + 1, sizeof(*d->slots));
        d->n_slots = d->config->n_platforms;
        for (size_t i = 0; i < d->n_slots; i++) {
                struct slot *s = &d->slots[i];
                *s = (struct slot){ .daemon = d, .platform = d->config->platforms[i] };
                r = run_new(&env, s->platform, &s->run);
                if (r < 0) {
                        log_msg(LOG_ERR, "platform '%s': cannot set up its audits: %s", s->platform->name,
                                strerror(-r));
                        continue;
                }
                uint64_t at = now;
                for (size_t j = 0; j < n_old; j++)
                        if (strcmp(old[j].platform->name, s->platform->name) == 0 && !old[j].was_running) {
                                at = old[j].next_usec;
                                if (at > now + s->platform->interval_usec)
                                        at = now + s->platform->interval_usec;
                        }
                slot_schedule(s, at);
        }
}

/* Platforms share one cap on jobs in flight: the largest concurrency,
 * within the descriptors the process may open. */
static unsigned daemon_cap(const struct config *c) {
        unsigned long nofile;
        (void)fd_limit_raise(&nofile); /* sized by what we got, ignoring */
        return audit_pool_cap(c, nofile);
}

static void generation_release(struct generation *g) {
        if (!g || --g->users > 0)
                return;
        audit_pool_free(g->pool);
        config_free(g->config);
        free(g);
}

/* Unlinks x and frees it with its run; the run's own callback may be the
 * caller, so nothing of the run is touched after this. */
static void retired_free(struct daemon *d, struct retired *x) {
        for (struct retired **pp = &d->retired; *pp; pp = &(*pp)->next)
                if (*pp == x) {
                        *pp = x->next;
                        break;
                }
        run_free(x->run);
        generation_release(x->gen);
        free(x);
}

static void daemon_drop_retired(struct daemon *d) {
        while (d->retired)
                retired_free(d, d->retired);
}

static void on_retired_done(struct run *run, void *userdata) {
        struct retired *x = userdata;
        struct daemon *d = x->daemon;
        _cleanup_free_ char *name = xstrdup(run_platform(run)->name);
        uint64_t now = now_monotonic_usec();

        daemon_settle(d, run);
        retired_free(d, x);
        for (size_t i = 0; i < d->n_slots; i++) {
                struct slot *s = &d->slots[i];
                if (s->run && strcmp(s->platform->name, name) == 0 && !run_is_running(s->run))
                        slot_schedule(s, s->next_usec > now ? s->next_usec : now);
        }
        daemon_notify_status(d, "");
}

/* Keeps s's run past the reload when its renewal method is in flight, so
 * that a command is not killed half way; gen keeps its config and pool. */
static void slot_retire(struct slot *s, struct generation **gen) {
        struct daemon *d = s->daemon;
        struct retired *x;

        if (!run_is_renewing(s->run))
                return;
        if (!*gen) {
                *gen = xcalloc(1, sizeof(**gen));
                **gen = (struct generation){ .config = d->config, .pool = d->pool };
        }
        x = xcalloc(1, sizeof(*x));
        *x = (struct retired){ .daemon = d, .run = TAKE_PTR(s->run), .gen = *gen, .next = d->retired };
        (*gen)->users++;
        d->retired = x;
        run_wind_down(x->run, on_retired_done, x);
        log_msg(LOG_INFO, "platform '%s': the renewal in flight goes on under the previous config",
                s->platform->name);
}

static int on_reload(sd_event_source *src, const struct signalfd_siginfo *si, void *userdata) {
        struct daemon *d = userdata;
        _cleanup_free_ char *error = NULL;
        struct config *c = NULL;
        struct audit_pool *pool = NULL;
        int r;

        sd_notifyf(false, "RELOADING=1\nMONOTONIC_USEC=%" PRIu64, now_monotonic_usec());
        r = run_check_config_file(d->opts.config_path, d->opts.values_path, &error);
        if (r >= 0)
                r = run_load_config(d->opts.config_path, d->opts.values_path, d->opts.ov, &c, &error);
        /* The new config's pool is made before anything is dropped, so a
         * failure leaves the running config and its audits as they were. */
        if (r >= 0) {
                r = audit_pool_new(d->event, daemon_cap(c), &pool);
                if (r < 0) {
                        error = xasprintf("cannot set up the audits: %s", strerror(-r));
                        c = config_free(c);
                }
        }
        if (r < 0) {
                log_msg(LOG_ERR, "reload failed, keeping the running config: %s", error ? error : strerror(-r));
                daemon_notify_status(d, "READY=1\n");
                return 0;
        }
        /* The old slots' audits borrow the old config: drop them first,
         * but for renewals in flight, which end under it. */
        struct slot *old = d->slots;
        size_t n_old = d->n_slots;
        struct generation *gen = NULL;
        for (size_t i = 0; i < n_old; i++) {
                slot_retire(&old[i], &gen);
                slot_drop(&old[i]);
        }
        struct config *old_config = d->config;
        d->config = c;
        /* The cap follows the new config; only retired runs use the old pool. */
        if (!gen)
                audit_pool_free(d->pool);   /* else gen's now */
        d->pool = pool;
        d->slots = NULL;
        daemon_make_slots(d, old, n_old);
        free(old);
        if (!gen)
                config_free(old_config);
        telemetry_prune(d->telemetry, d->config);
        d->prune_names_changed = true;
        log_msg(LOG_INFO, "reloaded %s: %zu platform%s", d->config->path ? d->config->path : d->opts.values_path,
                d->n_slots, d->n_slots == 1 ? "" : "s");
        daemon_notify_status(d, "READY=1\n");
        return 0;
}

static int on_stop(sd_event_source *src, const struct signalfd_siginfo *si, void *userdata) {
        struct daemon *d = userdata;
        sd_notify(false, "STOPPING=1\nSTATUS=stopping");
        /* The audits in flight are abandoned: the state holds the last
         * finished ones, so nothing is lost but this round. */
        daemon_drop_slots(d);
        daemon_drop_retired(d);
        /* The audits that finished are not lost to FILE either. */
        if (d->report_pending)
                daemon_write_report(d, true);
        return sd_event_exit(d->event, 0);
}

static void on_http(const char *path, struct httpd_response *ret, void *userdata) {
        struct daemon *d = userdata;
        telemetry_serve(d->telemetry, d->config, d->state, path, ret);
}

/* The listener is set up once: a reload that changes `listen:` needs a
 * restart, and says so. */
static int daemon_listen(struct daemon *d) {
        _cleanup_free_ char *error = NULL;
        const char *a = d->config->listen_addr;
        int r;

        if (!a)
                return 0;
        r = httpd_new(d->event, a, d->config->listen_port, on_http, d, &d->httpd, &error);
        if (r < 0) {
                log_msg(LOG_ERR, "%s", error ? error : strerror(-r));
                return r;
        }
        log_msg(LOG_INFO, "listening on http://%s%s%s:%u/ (/metrics, /healthz, /report.json)", strchr(a, ':') ? "[" : "",
                a, strchr(a, ':') ? "]" : "", httpd_port(d->httpd));
        return 0;
}

int daemon_new(const struct daemon_options *o, struct config *config, struct daemon **ret) {
        struct daemon *d = xcalloc(1, sizeof(*d));
        _cleanup_free_ char *warning = NULL;
        sigset_t mask;
        int r;

        d->opts = *o;
        d->config = config;
        r = daemon_report_gap(&d->report_gap_usec);
        if (r < 0)
                goto fail;
        if (getrandom(&d->rng, sizeof(d->rng), GRND_NONBLOCK) != sizeof(d->rng) || d->rng == 0)
                d->rng = now_realtime_usec() ^ ((uint64_t)getpid() << 32) ^ 0x9e3779b97f4a7c15ULL;

        sigemptyset(&mask);
        sigaddset(&mask, SIGHUP);
        sigaddset(&mask, SIGTERM);
        sigaddset(&mask, SIGINT);
        if (sigprocmask(SIG_BLOCK, &mask, NULL) < 0) {
                r = -errno;
                goto fail;
        }
        r = sd_event_new(&d->event);
        if (r < 0)
                goto fail;
        if ((r = sd_event_add_signal(d->event, &d->sig_hup, SIGHUP, on_reload, d)) < 0 ||
            (r = sd_event_add_signal(d->event, &d->sig_term, SIGTERM, on_stop, d)) < 0 ||
            (r = sd_event_add_signal(d->event, &d->sig_int, SIGINT, on_stop, d)) < 0)
                goto fail;
        /* Pings WATCHDOG=1 at half of WATCHDOG_USEC when systemd asks. */
        r = sd_event_set_watchdog(d->event, true);
        if (r < 0)
                goto fail;
        d->state = run_state_open(o->state_dir, &d->state_path);
        /* Renewal's guardrails live beside the alert state; without them
         * the daemon still monitors, and says why it will not renew. */
        if (renew_store_open(o->state_dir, false, &d->store, &warning) < 0 || warning)
                log_msg(LOG_WARNING, "%s", warning ? warning : "cannot open the renewal state; renewal is off");
        if (d->store)
                renew_store_share(d->store, &d->state);
        r = audit_pool_new(d->event, daemon_cap(config), &d->pool);
        if (r < 0) {
                log_msg(LOG_ERR, "cannot set up the audits: %s", strerror(-r));
                goto fail;
        }
        d->journal = journal_new_target((enum journal_target)o->log_target);
        d->telemetry = telemetry_new(now_monotonic_usec(), o->output != NULL);
        r = daemon_listen(d);
        if (r < 0)
                goto fail;
        *ret = d;
        return 0;
fail:
        d->config = NULL;   /* the caller still owns it on failure */
        daemon_free(d);
        return r;
}

struct daemon *daemon_free(struct daemon *d) {
        if (!d)
                return NULL;
        daemon_drop_slots(d);
        daemon_drop_retired(d);
        d->httpd = httpd_free(d->httpd);
        sd_event_source_disable_unref(d->report_timer);
        telemetry_free(d->telemetry);
        sd_event_source_disable_unref(d->sig_hup);
        sd_event_source_disable_unref(d->sig_term);
        sd_event_source_disable_unref(d->sig_int);
        sd_event_unref(d->event);
        audit_pool_free(d->pool);
        renew_store_free(d->store);
        config_free(d->config);
        state_free(d->state);
        free(d->state_path);
        journal_free(d->journal);
        free(d);
        return NULL;
}

int daemon_run(struct daemon *d) {
        int r;

        daemon_make_slots(d, NULL, 0);
        daemon_notify_status(d, "READY=1\n");
        r = sd_event_loop(d->event);
        return r < 0 ? r : 0;
}
