/* The CT issuance watch on the loop. See ctwatch.h. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "checks.h"
#include "ct-watch.h"
#include "ctwatch.h"
#include "http.h"
#include "util.h"

#define CT_BODY_MAX (8 * 1024 * 1024)
#define CT_ENTRIES_MAX 2000
#define CT_TIMEOUT_USEC (30 * USEC_PER_SEC)

struct ctwatch {
        sd_event *event;
        const struct platform *p;
        const struct audit *audit;
        struct http_client *http;
        struct finding_list findings;
        struct ctlog_obs obs;
        sd_event_source *defer;
        ctwatch_done_cb cb;
        void *userdata;
};

int ctwatch_new(sd_event *event, const struct platform *p, struct ctwatch **ret) {
        struct ctwatch *w = xcalloc(1, sizeof(*w));

        w->event = sd_event_ref(event);
        w->p = p;
        *ret = w;
        return 0;
}

struct ctwatch *ctwatch_free(struct ctwatch *w) {
        if (!w)
                return NULL;
        http_client_free(w->http);
        sd_event_source_disable_unref(w->defer);
        finding_list_clear(&w->findings);
        ctlog_obs_done(&w->obs);
        sd_event_unref(w->event);
        free(w);
        return NULL;
}

const struct finding_list *ctwatch_findings(const struct ctwatch *w) {
        return &w->findings;
}

const struct ctlog_obs *ctwatch_observation(const struct ctwatch *w) {
        return w && w->p->ct_url && w->obs.url ? &w->obs : NULL;
}

static int on_defer(sd_event_source *s, void *userdata) {
        struct ctwatch *w = userdata;
        w->defer = sd_event_source_disable_unref(w->defer);
        w->audit = NULL;
        if (w->cb)
                w->cb(w, w->userdata);
        return 0;
}

static void watch_finish(struct ctwatch *w) {
        if (!w->defer && sd_event_add_defer(w->event, &w->defer, on_defer, w) < 0 && w->cb)
                w->cb(w, w->userdata);
}

static void note(struct ctwatch *w, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void note(struct ctwatch *w, const char *fmt, ...) {
        va_list ap;

        va_start(ap, fmt);
        free(w->obs.error);
        w->obs.error = xvasprintf(fmt, ap);
        va_end(ap);
        fprintf(stderr, "certvigil: platform '%s': CT search: %s\n", w->p->name, w->obs.error);
}

static void on_search(struct http_fetch *f, struct http_result *res, void *userdata) {
        struct ctwatch *w = userdata;
        _cleanup_free_ char *error = NULL;
        struct ct_entry *entries = NULL;
        struct ct_summary sum = { 0 };
        size_t n = 0;

        if (res->error || res->status != 200) {
                if (res->error)
                        note(w, "%s: %s", w->obs.url, res->error);
                else
                        note(w, "%s answered HTTP %ld", w->obs.url, res->status);
                watch_finish(w);
                return;
        }
        if (ct_entries_parse((const char *)res->body, res->size, CT_ENTRIES_MAX, &entries, &n, &error) < 0) {
                note(w, "%s: %s", w->obs.url, error);
                watch_finish(w);
                return;
        }
        const struct platform_obs *obs = audit_observations(w->audit);
        struct check_ctx ctx = {
                .platform = w->p,
                .plan = audit_plan(w->audit),
                .obs = obs,
                .now = (time_t)(now_realtime_usec() / USEC_PER_SEC),
        };
        ct_watch_judge(&ctx, entries, n, &w->findings, &sum);
        w->obs.certificates = n;
        w->obs.recent = sum.recent;
        w->obs.same_names_max = sum.same_names_max;
        ct_entries_free(entries, n);
        watch_finish(w);
}

void ctwatch_start(struct ctwatch *w, const struct audit *audit, ctwatch_done_cb cb, void *userdata) {
        const char *base = w->p->ct_url;
        struct http_fetch *f;

        w->cb = cb;
        w->userdata = userdata;
        w->audit = audit;
        ctlog_obs_done(&w->obs);
        finding_list_clear(&w->findings);
        if (!base) {
                watch_finish(w);
                return;
        }
        /* crt.sh's identity search: every name under the wildcard's base
         * ("%" is its wildcard, sent as %25). */
        w->obs.url = xasprintf("%s%sq=%%25.%s&output=json", base, strchr(base, '?') ? "&" : "?",
                               audit_plan(audit)->wildcard_base);
        struct http_fetch_params params = {
                .url = w->obs.url,
                .max_bytes = CT_BODY_MAX,
                .timeout_usec = CT_TIMEOUT_USEC,
                .ca_file = w->p->ct_trust,
        };
        if ((!w->http && http_client_new(w->event, &w->http) < 0) ||
            http_fetch_start(w->http, &params, on_search, w, &f) < 0) {
                note(w, "cannot start a request");
                watch_finish(w);
        }
}
