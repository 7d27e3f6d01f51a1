/* The Certificate Transparency issuance watch, after an audit: one search
 * of a crt.sh-compatible JSON endpoint (ct.url, off by default) for the
 * certificates logged under the wildcard's base, judged by
 * checks/ct-watch.c. A search that fails is noted on stderr and in the
 * report, not a finding. */
#pragma once

#include <systemd/sd-event.h>

#include "audit.h"
#include "config.h"
#include "finding.h"
#include "observe.h"

struct ctwatch;

typedef void (*ctwatch_done_cb)(struct ctwatch *w, void *userdata);

int ctwatch_new(sd_event *event, const struct platform *p, struct ctwatch **ret);
struct ctwatch *ctwatch_free(struct ctwatch *w);

/* audit is borrowed until cb runs; cb always runs, from the loop. */
void ctwatch_start(struct ctwatch *w, const struct audit *audit, ctwatch_done_cb cb, void *userdata);

const struct finding_list *ctwatch_findings(const struct ctwatch *w);
/* NULL when the watch is off. Borrowed. */
const struct ctlog_obs *ctwatch_observation(const struct ctwatch *w);
