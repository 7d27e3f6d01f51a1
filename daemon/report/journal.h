/* The journal reporter: one structured entry per finding (or per alert) with
 * MESSAGE, MESSAGE_ID from the finding catalog, PRIORITY, SYSLOG_IDENTIFIER
 * and CERTVIGIL_* fields, and one summary entry per audit. Every
 * MESSAGE_ID is explained in contrib/certvigil.catalog. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "alert.h"
#include "finding.h"
#include "observe.h"
#include "state.h"

/* MESSAGE_ID of the per-audit summary entry. */
#define JOURNAL_SUMMARY_MESSAGE_ID "33c69ec63b3645e7ab40f64eaf7764f7"

/* Where libsystemd sends entries; the path is fixed there too. */
#define JOURNAL_SOCKET "/run/systemd/journal/socket"

struct journal;

/* Where entries go: the journal; stderr, one line each (a container or a
 * pod, where nobody reads a journal); or auto: the journal when its
 * socket exists, else stderr, as systemd's own daemons do. */
enum journal_target {
        JOURNAL_TARGET_AUTO,
        JOURNAL_TARGET_JOURNAL,
        JOURNAL_TARGET_STDERR,
};
/* "auto", "journal" or "stderr"; -EINVAL otherwise. */
int journal_target_from_string(const char *s);

/* Checks for the socket now and on every journal_check(). Without it,
 * sd_journal_send() "succeeds" and the entry is lost: with the journal
 * target certvigil says so once on stderr and sends nothing; with auto it
 * writes the entries to stderr instead. journal_new() is the journal
 * target (audit --journal). */
struct journal *journal_new(void);
struct journal *journal_new_target(enum journal_target target);
struct journal *journal_free(struct journal *j);
/* True when entries go somewhere now (the journal, or stderr). */
bool journal_check(struct journal *j);

/* The certificate facts an entry may carry; all optional. */
struct journal_cert {
        time_t not_after;          /* 0 = unknown */
        const char *sha256;
        const char *issuer;
        uint16_t port;
};

/* One finding as the audit found it (certvigil audit --journal without
 * state). cert may be NULL. */
int journal_send_finding(struct journal *j, const char *platform, const struct finding *f,
                         const struct journal_cert *cert, time_t now);

/* One alert of the alert discipline; finding.resolved for ALERT_RESOLVED. */
int journal_send_alert(struct journal *j, const char *platform, const struct alert *a,
                       const struct journal_cert *cert, time_t now);

struct journal_summary {
        const char *platform;      /* NULL when the audit covered several */
        size_t n_platforms;
        size_t counts[3];          /* open findings per severity */
        size_t n_alerts;           /* entries sent for this audit; SIZE_MAX = every finding */
        uint64_t duration_usec;
};
int journal_send_summary(struct journal *j, const struct journal_summary *s);

/* One line of a renewal command's output (stream "stdout" or "stderr"),
 * already escaped, with the platform it renews. */
int journal_send_renew_line(struct journal *j, const char *platform, const char *stream, const char *line);

/* Sends one platform's audit: the alerts when alerts is not NULL, else
 * every finding; then its summary. Returns the number of entries sent
 * besides the summary. */
size_t journal_send_audit(struct journal *j, const char *platform, const struct finding_list *findings,
                          const struct platform_obs *obs, const struct alert_list *alerts, const size_t counts[3],
                          time_t now);
