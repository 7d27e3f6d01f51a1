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

static int prometheus_render(const struct report *r, bool color, char **ret, size_t *ret_len) {
        struct metrics_lines *lines = xcalloc(r->n_platforms + 1, sizeof(*lines));
        const struct metrics_lines **ptrs = xcalloc(r->n_platforms + 1, sizeof(*ptrs));
        char *buf = NULL;
        size_t len = 0, captured = 0;
        FILE *f = NULL;
        int k = 0;

        for (; captured < r->n_platforms && k >= 0; captured++) {
                k = metrics_capture(&r->platforms[captured], &lines[captured]);
                ptrs[captured] = &lines[captured];
        }
        if (k >= 0 && !(f = open_memstream(&buf, &len)))
                k = -errno;
        if (f) {
                metrics_write_families(f, ptrs, r->n_platforms);
                if (fclose(f) != 0)
                        k = -ENOMEM;
        }
        for (size_t i = 0; i < captured; i++)
                metrics_lines_done(&lines[i]);
        free(lines);
        free(ptrs);
        if (k < 0) {
                free(buf);
                return k;
        }
        *ret = buf;
        *ret_len = len;
        return 0;
}

const struct report_writer report_writer_prometheus = {
        .name = "prometheus",
        .render = prometheus_render,
};
