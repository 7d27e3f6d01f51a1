/* Reporters: they only format what the audit observed and the checks
 * found. Every format renders into memory or, all but GitHub's, in parts
 * that report-stream.c writes platform by platform as each finishes. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>

#include "config.h"
#include "finding.h"
#include "observe.h"
#include "plan.h"

struct check;

enum report_format {
        REPORT_TEXT,
        REPORT_JSON,
        REPORT_JUNIT,
        REPORT_GITHUB,
        REPORT_PROMETHEUS,
        _REPORT_FORMAT_MAX,
};
int report_format_from_string(const char *s);  /* -EINVAL when unknown */

struct report_platform {
        const struct platform *platform;
        const struct plan *plan;
        const struct platform_obs *obs;
        const struct finding_list *findings;
        /* What followed the audit; NULL when it did not apply. */
        const struct ari_obs *ari;
        const struct rdap_obs *rdap;          /* NULL unless RDAP is on */
        const struct ctlog_obs *ctlog;        /* NULL unless ct.url is set */
        const struct certmanager_obs *cert_manager;
};

struct report {
        time_t started;
        uint64_t duration_usec;
        time_t now;                 /* for days_left */
        struct report_platform *platforms;
        size_t n_platforms;
};

/* Counts findings of every platform; returns the worst severity or -1. */
int report_count(const struct report *r, size_t counts[3]);
/* "ok", "warning" or "critical". */
const char *report_status_string(const struct report *r);

/* What a report's head and tail say about all its platforms. A streamed
 * report adds each platform as it is written (report_totals_add()). */
struct report_totals {
        time_t started;
        uint64_t duration_usec;
        size_t n_platforms;
        size_t counts[3];           /* findings by severity, silenced ones not counted */
        int worst;                  /* -1 when no finding */
        size_t attention;           /* platforms whose worst is above info */
        size_t n_hosts;             /* of n_platforms, hosts (certvigil check) */
};
void report_totals_add(struct report_totals *t, const struct report_platform *rp);
/* "ok", "warning" or "critical" for t->worst. */
const char *report_totals_status(const struct report_totals *t);

/* Where one platform's part goes. */
struct report_part {
        size_t index;               /* 0 for the first platform */
        time_t started;             /* the report's */
        time_t now;                 /* for days_left */
        bool color;
};

/* One output format, as checks are one descriptor each: its --format name
 * and its writer. Each report-*.c exports one; report.c's table registers
 * them. A format is written either whole (render: into a malloc'ed buffer)
 * or, so a large audit need not hold every platform, in parts: head (which
 * needs the totals, so a streamed report writes it last, before the body
 * it spooled), each platform's part as it finishes, in config order, then
 * tail. state is the writer's own between the parts (NULL at first), freed
 * by state_free. All return 0 or a negative errno. */
struct report_writer {
        const char *name;
        int (*render)(const struct report *r, bool color, char **ret, size_t *ret_len);
        int (*head)(FILE *f, const struct report_totals *t, bool color);
        int (*platform)(FILE *f, void **state, const struct report_platform *rp, const struct report_part *part);
        int (*tail)(FILE *f, void **state, const struct report_totals *t, bool color);
        void (*state_free)(void *state);
};

extern const struct report_writer report_writer_text;
extern const struct report_writer report_writer_json;
extern const struct report_writer report_writer_junit;     /* one testsuite per platform */
extern const struct report_writer report_writer_github;    /* workflow commands (::error ...) */
extern const struct report_writer report_writer_prometheus; /* node_exporter textfile format */

/* The writer of format f, NULL when unknown. */
const struct report_writer *report_writer_of(enum report_format f);
/* Renders with the writer of format f, whole, into memory. */
int report_render(const struct report *r, enum report_format f, bool color, char **ret, size_t *ret_len);

/* The daemon's /report.json is put together from snapshots, since each
 * platform's next audit drops its results: one platform's JSON object as
 * compact text (caller frees), then a report (format 1) around such
 * objects, counts[3] being their findings by severity. */
int report_json_platform(const struct report_platform *rp, time_t now, char **ret);
int report_json_join(char *const *platforms, size_t n, time_t started, uint64_t duration_usec,
                     const size_t counts[3], char **ret, size_t *ret_len);

/* The Markdown job summary for $GITHUB_STEP_SUMMARY. */
int report_github_summary(const struct report *r, char **ret, size_t *ret_len);

/* `certvigil plan`: each platform with the plan its settings imply. */
struct report_plan {
        const struct platform *platform;
        const struct plan *plan;
};
/* Text or JSON (-EINVAL for other formats), into a malloc'ed buffer. */
int report_plan_render(const struct report_plan *rp, size_t n, enum report_format format, char **ret,
                       size_t *ret_len);

/* The check that owns a finding's definition, or NULL for the engine's own
 * (check.error, finding.resolved). */
const struct check *report_check_of(const struct finding *f);
