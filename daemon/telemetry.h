/* What the daemon tells its HTTP endpoint: per platform, counters since
 * start and a snapshot of the last finished run (its metric samples and
 * its JSON object), kept because the next audit drops the run's results.
 * Serves /metrics, /healthz and /report.json from them. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "config.h"
#include "httpd.h"
#include "report.h"
#include "run.h"
#include "state.h"

struct telemetry;

/* now_usec: CLOCK_MONOTONIC at start, for the platforms not audited yet;
 * writes_report: the daemon writes -o FILE (/metrics counts failures). */
struct telemetry *telemetry_new(uint64_t now_usec, bool writes_report);
struct telemetry *telemetry_free(struct telemetry *t);   /* accepts NULL, returns NULL */

/* A finished run (after run_settle()): counts it, snapshots it. */
void telemetry_record(struct telemetry *t, const struct run *run, uint64_t now_usec);
/* An audit of the platform that could not be started. */
void telemetry_failure(struct telemetry *t, const char *platform);
/* Forgets platforms c no longer has (after a reload). */
void telemetry_prune(struct telemetry *t, const struct config *c);

/* A write of the daemon's report file (-o) begins: counted before the
 * report is rendered, so the report counts itself. */
void telemetry_report_writing(struct telemetry *t);
/* That write failed; from now on /metrics shows how many did. */
void telemetry_report_write_failed(struct telemetry *t);

/* The report of every platform's last finished audit in format f: json is
 * /report.json, prometheus /metrics (the textfile's families and the
 * daemon's). 0, -EOPNOTSUPP for another format, or a negative errno.
 */
int telemetry_render(struct telemetry *t, const struct config *c, struct state *state, enum report_format f,
                     char **ret, size_t *ret_len);

/* Answers GET path for the platforms of c; state: the alert state. */
void telemetry_serve(struct telemetry *t, const struct config *c, struct state *state, const char *path,
                     struct httpd_response *ret);
