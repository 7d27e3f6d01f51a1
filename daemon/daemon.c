/* The daemon's manager: per-platform schedule with jitter, one audit in
 * flight per platform at most, alert discipline over the saved state, the
 * notify protocol, reload and stop. */
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <syslog.h>
#include <unistd.h>

#include <systemd/sd-daemon.h>
#include <systemd/sd-event.h>

#include "alert.h"
#include "audit.h"
#include "daemon.h"
#include "journal.h"
#include "state.h"
#include "util.h"

struct slot {
        struct daemon *daemon;
        const struct platform *platform;   /* in daemon->config */
        struct audit *audit;               /* the running or last finished audit */
        sd_event_source *timer;
        uint64_t next_usec;                /* CLOCK_MONOTONIC */
        uint64_t started_usec;
        bool running;
};

struct daemon {
        struct daemon_options opts;
        sd_event *event;
        struct config *config;
        struct slot *slots;
        size_t n_slots;
        struct state *state;
        char *state_path;
        struct journal *journal;
        sd_event_source *sig_hup, *sig_term, *sig_int;
        uint64_t rng;
        unsigned long audits;              /* completed, since start */
};

/* Under systemd stderr is a journal stream, which reads a "<N>" prefix as
 * the syslog priority (sd-daemon(3)); elsewhere the prefix would be noise. */
static void log_msg(int priority, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void log_msg(int priority, const char *fmt, ...) {
        va_list ap;
        va_start(ap, fmt);
        if (getenv("JOURNAL_STREAM"))
                fprintf(stderr, "<%d>", priority);
        fputs("certvigil: ", stderr);
        vfprintf(stderr, fmt, ap);
        fputc('\n', stderr);
        va_end(ap);
}

int daemon_load_config(const char *config_path, const char *values_path, const struct config_overrides *ov,
                       struct config **ret, char **ret_error) {
        struct config *c = NULL;
        int r;

        if (values_path)
                r = config_from_values(values_path, &c, ret_error);
        else
                r = config_load(config_path, &c, ret_error);
        if (r >= 0 && ov) {
                r = config_apply_overrides(c, ov, ret_error);
                /* Not about a file position: say who speaks. */
                if (r < 0 && *ret_error) {
                        char *e = xasprintf("certvigil: %s", *ret_error);
                        free(*ret_error);
                        *ret_error = e;
                }
        }
        if (r < 0) {
                config_free(c);
                return r;
        }
        *ret = c;
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
        char when[32] = "";

        for (size_t i = 0; i < d->n_slots; i++) {
                struct state_platform *sp = state_platform(d->state, d->slots[i].platform->name);
                for (size_t j = 0; j < sp->n_findings; j++)
                        counts[sp->findings[j].severity]++;
                if (d->slots[i].running)
                        running++;
                else if (d->slots[i].next_usec < next)
                        next = d->slots[i].next_usec;
        }
        if (next != UINT64_MAX)
                format_span(next > now ? next - now : 0, when, sizeof(when));
        sd_notifyf(false, "%sSTATUS=%zu platform%s, %zu critical, %zu warning, %lu audit%s done, %s%s", prefix,
                   d->n_slots, d->n_slots == 1 ? "" : "s", counts[SEVERITY_CRITICAL], counts[SEVERITY_WARNING],
                   d->audits, d->audits == 1 ? "" : "s", running ? "auditing now" : "next audit in ", when);
}

static void slot_schedule(struct slot *s, uint64_t at);

static void on_audit_done(struct audit *a, void *userdata) {
        struct slot *s = userdata;
        struct daemon *d = s->daemon;
        const struct platform *p = s->platform;
        const struct platform_obs *obs = audit_observations(a);
        time_t now = (time_t)(now_realtime_usec() / USEC_PER_SEC);
        struct alert_list alerts = { 0 };
        size_t counts[3] = { 0 };
        int r;

        s->running = false;
        struct state_platform *sp = state_platform(d->state, p->name);
        alert_compute(sp, audit_findings(a), obs, now, p->remind_usec, &alerts);
        state_platform_record_certs(sp, obs, now);
        sp->last_audit = obs->started;
        for (size_t i = 0; i < sp->n_findings; i++)
                counts[sp->findings[i].severity]++;

        /* Entries first, state second: a kill between the two repeats this
         * one audit's alerts once on restart, which beats losing them. */
        journal_check(d->journal);
        journal_send_audit(d->journal, p->name, audit_findings(a), obs, &alerts, counts, now);
        alert_list_clear(&alerts);
        r = state_save(d->state, d->state_path);
        if (r < 0)
                log_msg(LOG_ERR, "cannot write %s: %s (alerts may repeat after a restart)", d->state_path, strerror(-r));

        d->audits++;
        /* The next audit counts from this one's start, so the rhythm holds;
         * one that outlived its interval is followed at once, never twice. */
        uint64_t jitter = platform_jitter_usec(p);
        uint64_t next = s->started_usec + p->interval_usec + (jitter ? daemon_random(d) % (jitter + 1) : 0);
        uint64_t mono = now_monotonic_usec();
        slot_schedule(s, next > mono ? next : mono);
        daemon_notify_status(d, "");
}

static void slot_start(struct slot *s) {
        struct daemon *d = s->daemon;
        _cleanup_free_ char *error = NULL;
        int r;

        s->audit = audit_free(s->audit);
        s->started_usec = now_monotonic_usec();
        r = audit_new(d->event, s->platform, &s->audit, &error);
        if (r >= 0) {
                s->running = true;
                r = audit_start(s->audit, on_audit_done, s);
                if (r >= 0)
                        return;
                s->running = false;
                error = xasprintf("cannot start the audit: %s", strerror(-r));
        }
        log_msg(LOG_ERR, "platform '%s': %s; next try in one interval", s->platform->name, error ? error : strerror(-r));
        s->audit = audit_free(s->audit);
        slot_schedule(s, s->started_usec + s->platform->interval_usec);
}

static int on_timer(sd_event_source *src, uint64_t usec, void *userdata) {
        struct slot *s = userdata;
        if (!s->running)
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

static void daemon_drop_slots(struct daemon *d) {
        for (size_t i = 0; i < d->n_slots; i++) {
                /* Freeing an audit in flight cancels its queries and
                 * handshakes; its callback does not run. */
                d->slots[i].audit = audit_free(d->slots[i].audit);
                d->slots[i].timer = sd_event_source_disable_unref(d->slots[i].timer);
        }
        free(d->slots);
        d->slots = NULL;
        d->n_slots = 0;
}

/* old: the previous slots (may be NULL), whose schedule carries over for
 * platforms of the same name. */
static void daemon_make_slots(struct daemon *d, const struct slot *old, size_t n_old) {
        uint64_t now = now_monotonic_usec();

        d->slots = xcalloc(d->config->n_platforms + 1, sizeof(*d->slots));
        d->n_slots = d->config->n_platforms;
        for (size_t i = 0; i < d->n_slots; i++) {
                struct slot *s = &d->slots[i];
                *s = (struct slot){ .daemon = d, .platform = d->config->platforms[i] };
                uint64_t at = now;
                for (size_t j = 0; j < n_old; j++)
                        if (strcmp(old[j].platform->name, s->platform->name) == 0 && !old[j].running) {
                                at = old[j].next_usec;
                                if (at > now + s->platform->interval_usec)
                                        at = now + s->platform->interval_usec;
                        }
                slot_schedule(s, at);
        }
}

static int on_reload(sd_event_source *src, const struct signalfd_siginfo *si, void *userdata) {
        struct daemon *d = userdata;
        _cleanup_free_ char *error = NULL;
        struct config *c = NULL;
        int r;

        sd_notifyf(false, "RELOADING=1\nMONOTONIC_USEC=%" PRIu64, now_monotonic_usec());
        r = daemon_load_config(d->opts.config_path, d->opts.values_path, d->opts.ov, &c, &error);
        if (r < 0) {
                log_msg(LOG_ERR, "reload failed, keeping the running config: %s", error ? error : strerror(-r));
                daemon_notify_status(d, "READY=1\n");
                return 0;
        }
        /* The old slots' audits borrow the old config: drop them first. */
        struct slot *old = d->slots;
        size_t n_old = d->n_slots;
        for (size_t i = 0; i < n_old; i++) {
                old[i].audit = audit_free(old[i].audit);
                old[i].timer = sd_event_source_disable_unref(old[i].timer);
        }
        struct config *old_config = d->config;
        d->config = c;
        d->slots = NULL;
        daemon_make_slots(d, old, n_old);
        free(old);
        config_free(old_config);
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
        return sd_event_exit(d->event, 0);
}

static int state_dir_prepare(const char *dir) {
        struct stat st;
        if (stat(dir, &st) == 0)
                return S_ISDIR(st.st_mode) ? 0 : -ENOTDIR;
        if (errno != ENOENT)
                return -errno;
        return mkdir(dir, 0700) < 0 ? -errno : 0;
}

struct state *daemon_state_open(const char *dir, char **ret_path) {
        _cleanup_free_ char *error = NULL;
        struct state *s = NULL;
        char *path = xasprintf("%s/%s", dir, STATE_FILE);
        int r;

        r = state_dir_prepare(dir);
        if (r < 0)
                log_msg(LOG_WARNING, "state directory %s: %s; alerts may repeat after a restart", dir, strerror(-r));
        r = state_load(path, &s, &error);
        if (r == -ENOENT)
                log_msg(LOG_INFO, "no state in %s yet: every open finding is new", path);
        else if (r < 0)
                log_msg(LOG_WARNING, "%s; starting with an empty state (findings already alerted are alerted once more)",
                        error ? error : strerror(-r));
        *ret_path = path;
        return s ? s : state_new();
}

int daemon_new(const struct daemon_options *o, struct config *config, struct daemon **ret) {
        struct daemon *d = xcalloc(1, sizeof(*d));
        sigset_t mask;
        int r;

        d->opts = *o;
        d->config = config;
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
        d->state = daemon_state_open(o->state_dir, &d->state_path);
        d->journal = journal_new();
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
        sd_event_source_disable_unref(d->sig_hup);
        sd_event_source_disable_unref(d->sig_term);
        sd_event_source_disable_unref(d->sig_int);
        sd_event_unref(d->event);
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
