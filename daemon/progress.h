/* The progress of `certvigil audit` on stderr: on a terminal, one line
 * redrawn in place for audits that outlast a second (names resolved,
 * handshakes done of total, the slowest still pending), cleared at the
 * end; with -v, one line per probe as it ends. Driven by a timer on the
 * audit's sd-event loop; it reads the runs, never changes them, and never
 * writes to stdout. */
#pragma once

#include <stdbool.h>
#include <stdio.h>

#include <systemd/sd-event.h>

#include "run.h"

struct progress;

/* runs (n of them) are borrowed and must outlive the progress. line: the
 * redrawn line (stderr is a terminal and not -q); verbose: one line per
 * probe. Neither: *ret is NULL and nothing is shown. */
int progress_new(sd_event *event, struct run *const *runs, size_t n, bool line, bool verbose, FILE *f,
                 struct progress **ret);
/* Takes note of run i (an index into runs) as it is, and with -v prints
 * its probes that ended: call when it finishes, before its audit is
 * released. NULL is fine. */
void progress_note(struct progress *p, size_t i);
/* Prints the probes that ended since the last tick and clears the line;
 * call once the loop is done, before the report. NULL is fine. */
void progress_finish(struct progress *p);
struct progress *progress_free(struct progress *p);
