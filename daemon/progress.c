/* Progress of a oneshot audit on stderr (progress.h). The numbers come
 * from the runs' observations and the engine's read-only accessor; a timer
 * on the loop redraws them, so a slow audit shows where it waits without
 * touching the report. */
#include <assert.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "audit.h"
#include "progress.h"
#include "util.h"

#define PROGRESS_TICK_USEC (100 * USEC_PER_MSEC)
/* Audits quicker than this show no line at all. */
#define PROGRESS_DELAY_USEC USEC_PER_SEC
#define PROGRESS_LINE_MAX 512

struct progress {
        sd_event_source *timer;
        struct run *const *runs;       /* borrowed */
        size_t n_runs;
        bool line, verbose;
        FILE *f;
        uint64_t started_usec;
        bool drawn;                    /* a line is on the terminal */
        /* Per run, how many of its endpoints were printed by -v, and which:
         * a probe ends in any order, so one flag per endpoint (grown as the
         * endpoints are, indexed, never pointed into). */
        bool **printed;
        size_t *n_printed_alloc;
        /* Per run, its counts when last seen: a run's audit is released
         * once its part of the report is written (run_audit() is then
         * NULL), and its numbers must still count. */
        struct progress_counts {
                size_t names, names_done, eps, eps_done;
        } *last;
};

static size_t progress_width(const struct progress *p) {
        struct winsize ws;
        if (ioctl(fileno(p->f), TIOCGWINSZ, &ws) == 0 && ws.ws_col > 1)
                return ws.ws_col - 1 < PROGRESS_LINE_MAX ? ws.ws_col - 1 : PROGRESS_LINE_MAX - 1;
        return 79;
}

static void progress_clear(struct progress *p) {
        if (p->drawn)
                fputs("\r\033[K", p->f);
        p->drawn = false;
}

static const char *status_word(const struct endpoint_obs *e) {
        switch (e->status) {
        case ENDPOINT_OK:
                return "ok";
        case ENDPOINT_CONNECT_FAILED:
                return "connect failed";
        case ENDPOINT_HANDSHAKE_FAILED:
                return "handshake failed";
        default:
                return "not probed";
        }
}

/* -v: one line for each probe of run i that ended since the last call. */
static void progress_print_ended_run(struct progress *p, size_t i) {
        const struct audit *a = run_audit(p->runs[i]);
        const struct platform_obs *o = a ? audit_observations(a) : NULL;

        if (!o)
                return;
        if (p->n_printed_alloc[i] < o->n_endpoints) {
                p->printed[i] = xrealloc(p->printed[i], o->n_endpoints * sizeof(bool));
                memset(p->printed[i] + p->n_printed_alloc[i], 0,
                       (o->n_endpoints - p->n_printed_alloc[i]) * sizeof(bool));
                p->n_printed_alloc[i] = o->n_endpoints;
        }
        for (size_t k = 0; k < o->n_endpoints; k++) {
                const struct endpoint_obs *e = &o->endpoints[k];
                char d[DURATION_MAX];
                if (p->printed[i][k] || e->status == ENDPOINT_NOT_RUN)
                        continue;
                p->printed[i][k] = true;
                progress_clear(p);
                fprintf(p->f, "certvigil: %s %s port %u: %s%s%s (%s)\n", e->name, e->address, (unsigned)e->port,
                        status_word(e), e->error ? ": " : "", e->error ? e->error : "",
                        format_duration(e->duration_usec, d));
        }
}

static void progress_print_ended(struct progress *p) {
        for (size_t i = 0; i < p->n_runs; i++)
                progress_print_ended_run(p, i);
}

static void progress_count_run(struct progress *p, size_t i) {
        const struct audit *a = run_audit(p->runs[i]);
        const struct platform_obs *o = a ? audit_observations(a) : NULL;
        struct progress_counts c = { 0 };

        if (!o)
                return;
        c.names = o->n_names;
        for (size_t k = 0; k < o->n_names; k++)
                c.names_done += o->names[k].status != DNS_STATUS_NOT_RUN;
        c.eps = o->n_endpoints;
        for (size_t k = 0; k < o->n_endpoints; k++)
                c.eps_done += o->endpoints[k].status != ENDPOINT_NOT_RUN;
        p->last[i] = c;
}

static void progress_count(struct progress *p) {
        for (size_t i = 0; i < p->n_runs; i++)
                progress_count_run(p, i);
}

static void progress_draw(struct progress *p, uint64_t now) {
        size_t names = 0, names_done = 0, eps = 0, eps_done = 0, slow_run = 0, slow_ep = 0;
        uint64_t slow_started = UINT64_MAX;
        char buf[PROGRESS_LINE_MAX], d[DURATION_MAX];
        int len;

        progress_count(p);
        for (size_t i = 0; i < p->n_runs; i++) {
                const struct audit *a = run_audit(p->runs[i]);
                size_t k;
                uint64_t t;
                names += p->last[i].names;
                names_done += p->last[i].names_done;
                eps += p->last[i].eps;
                eps_done += p->last[i].eps_done;
                if (a && audit_slowest_in_flight(a, &k, &t) && t < slow_started) {
                        slow_started = t;
                        slow_run = i;
                        slow_ep = k;
                }
        }
        len = snprintf(buf, sizeof(buf), "certvigil: %zu/%zu names resolved, %zu/%zu handshakes done", names_done,
                       names, eps_done, eps);
        if (slow_started != UINT64_MAX && len > 0 && (size_t)len < sizeof(buf)) {
                const struct endpoint_obs *e = &audit_observations(run_audit(p->runs[slow_run]))->endpoints[slow_ep];
                _cleanup_free_ char *name = str_escape(e->name, strlen(e->name));
                snprintf(buf + len, sizeof(buf) - (size_t)len, "; slowest: %s %s (%s)", name, e->address,
                         format_duration(now - slow_started, d));
        }
        buf[progress_width(p)] = 0; /* one terminal row, or \r cannot redraw it */
        fprintf(p->f, "\r%s\033[K", buf);
        p->drawn = true;
}

static int on_tick(sd_event_source *s, uint64_t usec, void *userdata) {
        struct progress *p = userdata;
        uint64_t now = now_monotonic_usec();

        if (p->verbose)
                progress_print_ended(p);
        if (p->line && now - p->started_usec >= PROGRESS_DELAY_USEC)
                progress_draw(p, now);
        fflush(p->f);
        (void)sd_event_source_set_time(s, usec + PROGRESS_TICK_USEC); /* a missed tick only delays, ignoring */
        return 0;
}

int progress_new(sd_event *event, struct run *const *runs, size_t n, bool line, bool verbose, FILE *f,
                 struct progress **ret) {
        struct progress *p;
        uint64_t now;
        int r;

        *ret = NULL;
        if (!line && !verbose)
                return 0;
        p = xcalloc(1, sizeof(*p));
        *p = (struct progress){ .runs = runs, .n_runs = n, .line = line, .verbose = verbose, .f = f,
                                .started_usec = now_monotonic_usec() };
        p->printed = xcalloc(n ? n : 1, sizeof(*p->printed));
        p->n_printed_alloc = xcalloc(n ? n : 1, sizeof(*p->n_printed_alloc));
        p->last = xcalloc(n ? n : 1, sizeof(*p->last));
        r = sd_event_now(event, CLOCK_MONOTONIC, &now);
        if (r >= 0)
                r = sd_event_add_time(event, &p->timer, CLOCK_MONOTONIC, now + PROGRESS_TICK_USEC, 10 * USEC_PER_MSEC,
                                      on_tick, p);
        if (r >= 0)
                r = sd_event_source_set_enabled(p->timer, SD_EVENT_ON);
        if (r < 0) {
                progress_free(p);
                return r;
        }
        *ret = p;
        return 0;
}

void progress_note(struct progress *p, size_t i) {
        if (!p)
                return;
        assert(i < p->n_runs);
        /* That run only: the others are read at the next tick, and reading
         * them all here, for each of n runs, would be quadratic. */
        if (p->verbose)
                progress_print_ended_run(p, i);
        progress_count_run(p, i);
}

void progress_finish(struct progress *p) {
        if (!p)
                return;
        if (p->verbose)
                progress_print_ended(p);
        progress_clear(p);
        fflush(p->f);
        (void)sd_event_source_set_enabled(p->timer, SD_EVENT_OFF); /* freed with p, ignoring */
}

struct progress *progress_free(struct progress *p) {
        if (!p)
                return NULL;
        sd_event_source_unref(p->timer);
        for (size_t i = 0; i < p->n_runs; i++)
                free(p->printed[i]);
        free(p->printed);
        free(p->n_printed_alloc);
        free(p->last);
        free(p);
        return NULL;
}
