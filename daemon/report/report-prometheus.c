/* The Prometheus text exposition format, as node_exporter's textfile
 * collector reads it (write it with -o, which is atomic: the collector
 * must never see half a file). The families are metrics.c's, which the
 * daemon's /metrics serves too, so the two cannot drift apart. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "metrics.h"
#include "report.h"
#include "util.h"

/* Families must not be split across platforms, so each platform's few
 * sample lines are kept (state) and every family written at the tail. */
struct prom_state {
        struct metrics_lines *lines;
        size_t n;
};

static int prometheus_head(FILE *f, const struct report_totals *t, bool color) {
        return 0;
}

static int prometheus_part(FILE *f, void **state, const struct report_platform *rp, const struct report_part *part) {
        struct prom_state *s = *state;
        int k;

        if (!s)
                s = *state = xcalloc(1, sizeof(*s));
        s->lines = xrealloc(s->lines, (s->n + 1) * sizeof(*s->lines));
        k = metrics_capture(rp, &s->lines[s->n]);
        if (k < 0)
                return k;
        s->n++;
        return 0;
}

static int prometheus_tail(FILE *f, void **state, const struct report_totals *t, bool color) {
        struct prom_state *s = *state;
        size_t n = s ? s->n : 0;
        _cleanup_free_ const struct metrics_lines **ptrs = xcalloc(n + 1, sizeof(*ptrs));

        for (size_t i = 0; i < n; i++)
                ptrs[i] = &s->lines[i];
        metrics_write_families(f, ptrs, n);
        return ferror(f) ? -EIO : 0;
}

static void prometheus_state_free(void *state) {
        struct prom_state *s = state;

        for (size_t i = 0; s && i < s->n; i++)
                metrics_lines_done(&s->lines[i]);
        if (s)
                free(s->lines);
        free(s);
}

const struct report_writer report_writer_prometheus = {
        .name = "prometheus",
        .head = prometheus_head,
        .platform = prometheus_part,
        .tail = prometheus_tail,
        .state_free = prometheus_state_free,
};
