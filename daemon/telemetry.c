/* The daemon's counters and snapshots, and its three endpoints
 * (telemetry.h). Entries are found by platform name every time, through a
 * tree (each platform's audit and each scrape look up every platform):
 * nothing keeps a pointer into the list, which grows. */
#include <errno.h>
#include <search.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "metrics.h"
#include "report.h"
#include "telemetry.h"
#include "util.h"

struct snapshot {
        char *name;
        unsigned long audits, failures;
        unsigned long renewals[_METRICS_RENEW_MAX];
        /* The last finished run; lines and json empty before the first. */
        bool audited;
        struct metrics_lines lines;
        char *json;                /* the platform's JSON object */
        size_t counts[3];          /* its findings by severity */
        time_t started;
        uint64_t duration_usec;
        uint64_t done_usec;        /* CLOCK_MONOTONIC */
        bool configured;           /* telemetry_prune()'s mark */
};

struct telemetry {
        struct snapshot **items;   /* each owned here */
        size_t n, n_allocated;
        void *by_name;             /* tsearch tree of items, keyed by name; nodes borrowed */
        uint64_t start_usec;
        bool writes_report;
        unsigned long report_writes;
        unsigned long report_write_failures;
};

struct telemetry *telemetry_new(uint64_t now_usec, bool writes_report) {
        struct telemetry *t = xcalloc(1, sizeof(*t));
        t->start_usec = now_usec;
        t->writes_report = writes_report;
        return t;
}

void telemetry_report_writing(struct telemetry *t) {
        t->report_writes++;
}

void telemetry_report_write_failed(struct telemetry *t) {
        t->report_write_failures++;
}

static void snapshot_free(struct snapshot *s) {
        if (!s)
                return;
        metrics_lines_done(&s->lines);
        free(s->json);
        free(s->name);
        free(s);
}

static int snapshot_compare(const void *a, const void *b) {
        return strcmp(((const struct snapshot *)a)->name, ((const struct snapshot *)b)->name);
}

static void node_keep(void *node) {
        (void)node; /* the items own the snapshots */
}

struct telemetry *telemetry_free(struct telemetry *t) {
        if (!t)
                return NULL;
        tdestroy(t->by_name, node_keep);
        for (size_t i = 0; i < t->n; i++)
                snapshot_free(t->items[i]);
        free(t->items);
        free(t);
        return NULL;
}

static struct snapshot *telemetry_find(const struct telemetry *t, const char *name) {
        const struct snapshot key = { .name = (char *)name };
        struct snapshot *const *node = tfind(&key, &t->by_name, snapshot_compare);

        return node ? *node : NULL;
}

static struct snapshot *telemetry_get(struct telemetry *t, const char *name) {
        struct snapshot *s = telemetry_find(t, name);

        if (s)
                return s;
        s = xcalloc(1, sizeof(*s));
        s->name = xstrdup(name);
        if (t->n == t->n_allocated) {
                /* Doubling: one realloc per platform copied the array each
                 * time (an allocator may always copy), quadratic overall. */
                t->n_allocated = t->n_allocated ? 2 * t->n_allocated : 16;
                t->items = xrealloc(t->items, t->n_allocated * sizeof(*t->items));
        }
        t->items[t->n++] = s;
        if (!tsearch(s, &t->by_name, snapshot_compare))
                oom();
        return s;
}

void telemetry_record(struct telemetry *t, const struct run *run, uint64_t now_usec) {
        struct snapshot *s = telemetry_get(t, run_platform(run)->name);
        const struct finding_list *fl = run_findings(run);
        struct report_platform rp;
        struct metrics_lines lines;
        char *json = NULL;

        s->audits++;
        s->done_usec = now_usec;
        for (size_t i = 0; i < fl->n; i++) {
                int k = metrics_renew_result(fl->items[i].def->id);
                if (k >= 0)
                        s->renewals[k]++;
        }
        run_report_platform(run, &rp);
        /* Without memory the previous snapshot stays: stale beats none. */
        if (metrics_capture(&rp, &lines) < 0)
                return;
        if (report_json_platform(&rp, (time_t)(now_realtime_usec() / USEC_PER_SEC), &json) < 0) {
                metrics_lines_done(&lines);
                return;
        }
        metrics_lines_done(&s->lines);
        s->lines = lines;
        free(s->json);
        s->json = json;
        (void)finding_list_count(fl, s->counts);
        s->started = rp.obs->started;
        s->duration_usec = rp.obs->duration_usec;
        s->audited = true;
}

void telemetry_failure(struct telemetry *t, const char *platform) {
        telemetry_get(t, platform)->failures++;
}

void telemetry_prune(struct telemetry *t, const struct config *c) {
        size_t kept = 0;

        for (size_t j = 0; j < c->n_platforms; j++) {
                struct snapshot *s = telemetry_find(t, c->platforms[j]->name);
                if (s)
                        s->configured = true;
        }
        tdestroy(t->by_name, node_keep);
        t->by_name = NULL;
        for (size_t i = 0; i < t->n; i++) {
                bool keep = t->items[i]->configured;
                t->items[i]->configured = false;
                if (!keep) {
                        snapshot_free(t->items[i]);
                        continue;
                }
                t->items[kept] = t->items[i];
                if (!tsearch(t->items[kept++], &t->by_name, snapshot_compare))
                        oom();
        }
        t->n = kept;
}

/* The platform's entry in the alert state, or NULL: a GET changes
 * nothing (state_platform() would add an entry, and growing the array
 * would move the entries already handed out). */
static const struct state_platform *telemetry_state(const struct state *state, const char *name) {
        return state_platform_find(state, name);
}

static int telemetry_metrics(struct telemetry *t, const struct config *c, struct state *state, char **ret,
                             size_t *ret_len) {
        _cleanup_free_ struct metrics_platform *mp = xcalloc(c->n_platforms + 1, sizeof(*mp));

        for (size_t i = 0; i < c->n_platforms; i++) {
                const char *name = c->platforms[i]->name;
                const struct snapshot *s = telemetry_find(t, name);

                mp[i] = (struct metrics_platform){ .name = name, .state = telemetry_state(state, name) };
                if (s) {
                        mp[i].lines = s->audited ? &s->lines : NULL;
                        mp[i].audits = s->audits;
                        mp[i].failures = s->failures;
                        memcpy(mp[i].renewals, s->renewals, sizeof(s->renewals));
                }
        }
        struct metrics_daemon md = { .shard = &c->shard, .writes_report = t->writes_report,
                                     .report_writes = t->report_writes,
                                     .report_write_failures = t->report_write_failures };
        return metrics_render(&md, mp, c->n_platforms, ret, ret_len);
}

static int telemetry_report(struct telemetry *t, const struct config *c, char **ret, size_t *ret_len) {
        _cleanup_free_ char **docs = xcalloc(c->n_platforms + 1, sizeof(*docs));
        size_t n = 0, counts[3] = { 0 };
        time_t started = 0;
        uint64_t duration = 0;

        for (size_t i = 0; i < c->n_platforms; i++) {
                const struct snapshot *s = telemetry_find(t, c->platforms[i]->name);
                if (!s || !s->audited)
                        continue;
                docs[n++] = s->json;
                for (int k = 0; k < 3; k++)
                        counts[k] += s->counts[k];
                if (!started || s->started < started)
                        started = s->started;
                if (s->duration_usec > duration)
                        duration = s->duration_usec;
        }
        return report_json_join(docs, n, started, duration, counts, ret, ret_len);
}

int telemetry_render(struct telemetry *t, const struct config *c, struct state *state, enum report_format f,
                     char **ret, size_t *ret_len) {
        switch (f) {
        case REPORT_JSON:
                return telemetry_report(t, c, ret, ret_len);
        case REPORT_PROMETHEUS:
                return telemetry_metrics(t, c, state, ret, ret_len);
        default:
                return -EOPNOTSUPP;
        }
}

/* Healthy while every platform finished an audit within twice its
 * interval (counted from the start before its first). */
static char *telemetry_unhealthy(struct telemetry *t, const struct config *c) {
        uint64_t now = now_monotonic_usec();

        for (size_t i = 0; i < c->n_platforms; i++) {
                const struct platform *p = c->platforms[i];
                const struct snapshot *s = telemetry_find(t, p->name);
                uint64_t since = s && s->audited ? s->done_usec : t->start_usec;

                if (now > since && now - since > 2 * p->interval_usec)
                        return xasprintf("platform '%s': %s for %" PRIu64 "s, over twice its interval (%" PRIu64
                                         "s)\n",
                                         p->name, s && s->audited ? "no audit finished" : "no audit yet",
                                         (uint64_t)((now - since) / USEC_PER_SEC), (uint64_t)(p->interval_usec / USEC_PER_SEC));
        }
        return NULL;
}

void telemetry_serve(struct telemetry *t, const struct config *c, struct state *state, const char *path,
                     struct httpd_response *ret) {
        int r = 0;

        *ret = (struct httpd_response){ .status = 200 };
        if (strcmp(path, "/metrics") == 0) {
                ret->content_type = "text/plain; version=0.0.4; charset=utf-8";
                r = telemetry_render(t, c, state, REPORT_PROMETHEUS, &ret->body, &ret->len);
        } else if (strcmp(path, "/report.json") == 0) {
                ret->content_type = "application/json";
                r = telemetry_render(t, c, state, REPORT_JSON, &ret->body, &ret->len);
        } else if (strcmp(path, "/healthz") == 0) {
                ret->content_type = "text/plain; charset=utf-8";
                ret->body = telemetry_unhealthy(t, c);
                if (ret->body)
                        ret->status = 503;
                else
                        ret->body = xasprintf("ok: %zu platform%s audited in time\n", c->n_platforms,
                                              c->n_platforms == 1 ? "" : "s");
                ret->len = strlen(ret->body);
        } else {
                ret->status = 404;
                ret->content_type = "text/plain; charset=utf-8";
                ret->body = xstrdup("not found: try /metrics, /healthz or /report.json\n");
                ret->len = strlen(ret->body);
        }
        if (r < 0) {
                *ret = (struct httpd_response){ .status = 500, .content_type = "text/plain; charset=utf-8" };
                ret->body = xasprintf("cannot render: %s\n", strerror(-r));
                ret->len = strlen(ret->body);
        }
}
