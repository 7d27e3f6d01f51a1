/* Prometheus text exposition: the families of the textfile format (what
 * `--format prometheus` writes) and the daemon's /metrics, which adds its
 * counters, the open findings with their first sighting, the shard and the
 * build. Only formats: callers hand in what they counted. */
#pragma once

#include <stdbool.h>
#include <stdio.h>

#include "fleet.h"
#include "report.h"
#include "state.h"

/* The textfile's families; one platform's sample lines each. */
enum metrics_family {
        METRICS_NOT_AFTER,
        METRICS_FINDING,
        METRICS_SILENCED,
        METRICS_FOLDED,            /* caused_by: explained by another finding */
        METRICS_DURATION,
        METRICS_LAST_AUDIT,
        _METRICS_FAMILY_MAX,
};

/* One platform's samples, captured once after its audit so they can be
 * served while the next audit runs. Owns its strings (NULL: no sample). */
struct metrics_lines {
        char *family[_METRICS_FAMILY_MAX];
};

/* 0 or -ENOMEM; *ret is written only on success. */
int metrics_capture(const struct report_platform *rp, struct metrics_lines *ret);
void metrics_lines_done(struct metrics_lines *m);

/* Writes every family (HELP, TYPE, then the samples of each platform, in
 * order); a family that is optional and empty is left out. */
void metrics_write_families(FILE *f, const struct metrics_lines *const *platforms, size_t n);

/* What renewal did, by certvigil_renewals_total's result label. */
enum metrics_renew_result {
        METRICS_RENEW_TRIGGERED,
        METRICS_RENEW_SUPPRESSED,
        METRICS_RENEW_SUCCEEDED,
        METRICS_RENEW_FAILED,
        _METRICS_RENEW_MAX,
};
/* The result a renew.* finding id stands for, or -1. */
int metrics_renew_result(const char *finding_id);

/* One platform as the daemon counts it. Everything borrowed. */
struct metrics_platform {
        const char *name;
        const struct metrics_lines *lines;      /* NULL before its first audit */
        const struct state_platform *state;     /* open findings; NULL: none */
        unsigned long audits;                   /* finished, since start */
        unsigned long failures;                 /* could not be started or run */
        unsigned long renewals[_METRICS_RENEW_MAX];
};

/* The daemon as a whole. */
struct metrics_daemon {
        const struct shard *shard;              /* NULL: not sharded */
        bool writes_report;                     /* -o FILE: the counts below are shown */
        unsigned long report_writes;            /* writes of -o FILE begun since start, this one included */
        unsigned long report_write_failures;    /* of them, those that failed (this one not yet known) */
};

/* /metrics: the textfile's families and the daemon's. Into a malloc'ed
 * buffer; 0 or a negative errno. */
int metrics_render(const struct metrics_daemon *d, const struct metrics_platform *p, size_t n, char **ret,
                   size_t *ret_len);
