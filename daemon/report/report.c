/* What all reporters share: the table of writers, counting, dispatch. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "checks.h"
#include "report.h"

/* Every output format; the enum indexes it. */
static const struct report_writer *const writers[_REPORT_FORMAT_MAX] = {
        [REPORT_TEXT] = &report_writer_text,
        [REPORT_JSON] = &report_writer_json,
        [REPORT_JUNIT] = &report_writer_junit,
        [REPORT_GITHUB] = &report_writer_github,
        [REPORT_PROMETHEUS] = &report_writer_prometheus,
};

int report_format_from_string(const char *s) {
        for (int i = 0; i < _REPORT_FORMAT_MAX; i++)
                if (strcmp(s, writers[i]->name) == 0)
                        return i;
        return -EINVAL;
}

int report_count(const struct report *r, size_t counts[3]) {
        int worst = -1;
        counts[0] = counts[1] = counts[2] = 0;
        for (size_t i = 0; i < r->n_platforms; i++) {
                size_t c[3];
                int w = finding_list_count(r->platforms[i].findings, c);
                for (int j = 0; j < 3; j++)
                        counts[j] += c[j];
                if (w > worst)
                        worst = w;
        }
        return worst;
}

const char *report_status_string(const struct report *r) {
        size_t c[3];
        int worst = report_count(r, c);
        return worst == SEVERITY_CRITICAL ? "critical" : worst == SEVERITY_WARNING ? "warning" : "ok";
}

void report_totals_add(struct report_totals *t, const struct report_platform *rp) {
        size_t c[3];
        int w = finding_list_count(rp->findings, c);

        for (int j = 0; j < 3; j++)
                t->counts[j] += c[j];
        if (w > t->worst)
                t->worst = w;
        t->attention += w > SEVERITY_INFO;
        t->n_platforms++;
        t->n_hosts += rp->platform->kind == PLATFORM_HOST;
}

const char *report_totals_status(const struct report_totals *t) {
        return t->worst == SEVERITY_CRITICAL ? "critical" : t->worst == SEVERITY_WARNING ? "warning" : "ok";
}

const struct report_writer *report_writer_of(enum report_format f) {
        return (unsigned)f < _REPORT_FORMAT_MAX ? writers[f] : NULL;
}

/* A writer in parts, all at once: the same bytes a streamed report has. */
static int render_parts(const struct report_writer *w, const struct report *r, bool color, FILE *f) {
        struct report_totals t = { .started = r->started, .duration_usec = r->duration_usec, .worst = -1 };
        void *state = NULL;
        int k;

        for (size_t i = 0; i < r->n_platforms; i++)
                report_totals_add(&t, &r->platforms[i]);
        k = w->head(f, &t, color);
        for (size_t i = 0; i < r->n_platforms && k >= 0; i++) {
                struct report_part part = { .index = i, .started = r->started, .now = r->now, .color = color };
                k = w->platform(f, &state, &r->platforms[i], &part);
        }
        if (k >= 0)
                k = w->tail(f, &state, &t, color);
        if (w->state_free)
                w->state_free(state);
        return k;
}

int report_render(const struct report *r, enum report_format f, bool color, char **ret, size_t *ret_len) {
        const struct report_writer *w = report_writer_of(f);
        char *buf = NULL;
        size_t len = 0;
        FILE *out;
        int k;

        if (!w)
                return -EINVAL;
        if (w->render)
                return w->render(r, color, ret, ret_len);
        out = open_memstream(&buf, &len);
        if (!out)
                return -errno;
        k = render_parts(w, r, color, out);
        if (fclose(out) != 0 && k >= 0)
                k = -ENOMEM;
        if (k < 0) {
                free(buf);
                return k;
        }
        *ret = buf;
        *ret_len = len;
        return 0;
}

const struct check *report_check_of(const struct finding *f) {
        size_t n;
        const struct check *const *all = checks_all(&n);
        for (size_t i = 0; i < n; i++)
                if (f->def >= all[i]->findings && f->def < all[i]->findings + all[i]->n_findings)
                        return all[i];
        return NULL;
}
