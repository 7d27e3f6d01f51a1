/* The grouping pass: one finding per root cause. Checks emit one finding
 * per endpoint; this pass, run once on a run's gathered findings, merges
 * those with the same id about the same certificate (the leaf served),
 * address or name into one with the list of endpoints it affects, and
 * folds derived findings under their cause (caused_by). Pure. */
#pragma once

#include <time.h>

#include "config.h"
#include "finding.h"
#include "observe.h"

/* In the catalog: audit.deadline.reached, emitted by group_findings(). */
extern const struct check check_group;

/* Rewrites l in place: every finding gets its subject and affected list;
 * findings with the same id, subject, severity, silence and message (up
 * to the names and addresses in it) become one, whose message lists the
 * names and addresses ("for api.x, console.x and 3 more"); derived ones
 * get caused_by:
 *   - tls.cert.ingress-default explains the placeholder's own chain, SAN,
 *     wildcard, issuer, expiry, renewal and Secret findings, and
 *     tls.cert.inconsistent when the placeholder is what differs;
 *   - tls.expiry.{expired,critical,warning} explains tls.renewal.overdue
 *     of the same certificate, and tls.cert.inconsistent when it is the
 *     one odd certificate out;
 *   - dns.wildcard.missing (critical) explains dns.resolve.failed of the
 *     names under it that do not exist (NXDOMAIN, no address);
 *   - dns.resolve.failed explains dns.resolvers.disagree of that name;
 *   - when the audit deadline cut probes short, audit.deadline.reached
 *     (added here) says what was not probed, and explains the
 *     per-endpoint and per-name findings of those probes.
 * obs may be NULL (nothing known of endpoints: nothing merged by
 * certificate). */
void group_findings(const struct platform *p, const struct platform_obs *obs, struct finding_list *l);

/* "a", "a and b", "a, b and c", "a, b and 3 more": a list for a message.
 * Caller frees. */
char *group_list_text(char *const *items, size_t n);
