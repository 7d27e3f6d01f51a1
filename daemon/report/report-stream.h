/* A report written platform by platform as each finishes, so an audit of
 * many platforms holds one platform's observations and one platform's
 * rendering at a time, never the whole report. The parts are spooled to an
 * unlinked temporary file; the head (which needs the totals) is written at
 * the end, before them, so the bytes are those report_render() gives. */
#pragma once

#include "report.h"

struct report_stream;

/* -EOPNOTSUPP when format f is only written whole (GitHub's). spool_dir is
 * where the parts wait (-o's directory, so they stay off a tmpfs), NULL
 * for $TMPDIR or /tmp. */
int report_stream_new(enum report_format f, bool color, time_t started, const char *spool_dir,
                      struct report_stream **ret);
struct report_stream *report_stream_free(struct report_stream *s);

/* The next platform, in report order: its part is written and its findings
 * counted. After a failure (returned once) later platforms are only
 * counted. */
int report_stream_platform(struct report_stream *s, const struct report_platform *rp, time_t now);
const struct report_totals *report_stream_totals(const struct report_stream *s);

/* Writes head, the spooled parts and tail to out. 0 or a negative errno,
 * also the first one report_stream_platform() met. */
int report_stream_finish(struct report_stream *s, uint64_t duration_usec, FILE *out);
