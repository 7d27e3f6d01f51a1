/* Alert discipline: which findings deserve a journal entry now. A pure
 * function of the previous state, this audit's findings and observations,
 * and the clock: a finding is alerted when it appears, when its severity
 * changes, when it is resolved, and as a reminder every `remind` while a
 * warning or critical stays open. The same findings as last time are not
 * an alert. */
#pragma once

#include <stdint.h>
#include <time.h>

#include "finding.h"
#include "observe.h"
#include "state.h"

enum alert_kind {
        ALERT_NEW,
        ALERT_CHANGED,     /* same finding, other severity */
        ALERT_REMINDER,
        ALERT_RESOLVED,
};
const char *alert_kind_to_string(enum alert_kind k);   /* "new", "changed", ... */

struct alert {
        enum alert_kind kind;
        struct state_finding f;    /* a copy, owned by the list */
        enum severity previous;    /* ALERT_CHANGED: the severity before */
};

struct alert_list {
        struct alert *items;
        size_t n, allocated;
};
void alert_list_clear(struct alert_list *l);

/* Compares sp (the platform's open findings) with this audit's findings and
 * updates sp in place: new findings are opened, known ones keep their
 * first-seen time, resolved ones are closed. Appends the alerts to out.
 *
 * An open finding about an endpoint is only resolved when this audit saw
 * that endpoint complete a handshake (or its name resolve without that
 * address): an endpoint that could not be probed this time proves nothing,
 * and must not produce "resolved" followed by "new" on the next audit.
 * A finding replaced by another of the same family on the same endpoint
 * (tls.expiry.warning -> tls.expiry.critical) is superseded, not resolved.
 * obs may be NULL: then absence alone resolves. */
void alert_compute(struct state_platform *sp, const struct finding_list *findings, const struct platform_obs *obs,
                   time_t now, uint64_t remind_usec, struct alert_list *out);
