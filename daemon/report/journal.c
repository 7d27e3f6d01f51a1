/* Structured journal entries through sd_journal_sendv(); see journal.h. */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>

#include <systemd/sd-journal.h>

#include "checks.h"
#include "journal.h"
#include "keyed.h"
#include "util.h"

#define FIELDS_MAX 24

struct journal {
        enum journal_target target;
        bool available;            /* entries go somewhere: the journal, or stderr */
        bool to_stderr;
        bool warned;               /* the one stderr line was written */
};

int journal_target_from_string(const char *s) {
        return strcmp(s, "auto") == 0      ? JOURNAL_TARGET_AUTO
               : strcmp(s, "journal") == 0 ? JOURNAL_TARGET_JOURNAL
               : strcmp(s, "stderr") == 0  ? JOURNAL_TARGET_STDERR
                                           : -EINVAL;
}

struct journal *journal_new_target(enum journal_target target) {
        struct journal *j = xcalloc(1, sizeof(*j));
        j->target = target;
        journal_check(j);
        return j;
}

struct journal *journal_new(void) {
        return journal_new_target(JOURNAL_TARGET_JOURNAL);
}

struct journal *journal_free(struct journal *j) {
        free(j);
        return NULL;
}

static void journal_warn(struct journal *j, const char *why) {
        if (j->warned)
                return;
        j->warned = true;
        fprintf(stderr, "certvigil: %s; journal entries are not written (the report and state still are)\n", why);
}

bool journal_check(struct journal *j) {
        struct stat st;
        bool socket = j->target != JOURNAL_TARGET_STDERR && stat(JOURNAL_SOCKET, &st) == 0 && S_ISSOCK(st.st_mode);

        j->to_stderr = j->target == JOURNAL_TARGET_STDERR || (j->target == JOURNAL_TARGET_AUTO && !socket);
        j->available = socket || j->to_stderr;
        if (!j->available)
                journal_warn(j, "no journal socket at " JOURNAL_SOCKET);
        return j->available;
}


/* A growing list of "FIELD=value" strings for sd_journal_sendv(). */
struct fields {
        char *s[FIELDS_MAX];
        size_t n;
};

static void field(struct fields *f, const char *name, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void field(struct fields *f, const char *name, const char *fmt, ...) {
        va_list ap;
        if (f->n == FIELDS_MAX)
                return;
        va_start(ap, fmt);
        _cleanup_free_ char *v = xvasprintf(fmt, ap);
        va_end(ap);
        f->s[f->n++] = xasprintf("%s=%s", name, v);
}

static void fields_done(struct fields *f) {
        for (size_t i = 0; i < f->n; i++)
                free(f->s[i]);
        f->n = 0;
}

static int priority(enum severity s) {
        /* syslog levels: crit, warning, info */
        return s == SEVERITY_CRITICAL ? 2 : s == SEVERITY_WARNING ? 4 : 6;
}

/* The entry as one line on stderr: its severity and MESSAGE. */
static void fields_print(const struct fields *f) {
        const char *message = "", *level = "info";

        for (size_t i = 0; i < f->n; i++)
                if (strncmp(f->s[i], "MESSAGE=", 8) == 0)
                        message = f->s[i] + 8;
                else if (strncmp(f->s[i], "PRIORITY=", 9) == 0)
                        level = f->s[i][9] <= '2' ? "critical" : f->s[i][9] <= '4' ? "warning" : "info";
        fprintf(stderr, "certvigil: %s: %s\n", level, message);
}

static int fields_send(struct journal *j, struct fields *f) {
        struct iovec iov[FIELDS_MAX];
        int r;

        if (j->to_stderr) {
                fields_print(f);
                fields_done(f);
                return 0;
        }
        for (size_t i = 0; i < f->n; i++)
                iov[i] = (struct iovec){ .iov_base = f->s[i], .iov_len = strlen(f->s[i]) };
        r = sd_journal_sendv(iov, (int)f->n);
        fields_done(f);
        if (r < 0) {
                char why[128];
                snprintf(why, sizeof(why), "cannot write to the journal (%s)", strerror(-r));
                journal_warn(j, why);
        }
        return r;
}

static void common(struct fields *f, const char *platform, const struct finding_def *def, enum severity sev,
                   const char *name, const char *address, const struct journal_cert *cert, time_t now) {
        field(f, "MESSAGE_ID", "%s", def->message_id);
        field(f, "PRIORITY", "%d", priority(sev));
        field(f, "SYSLOG_IDENTIFIER", "certvigil");
        field(f, "CERTVIGIL_FINDING", "%s", def->id);
        field(f, "CERTVIGIL_SEVERITY", "%s", severity_to_string(sev));
        field(f, "CERTVIGIL_PLATFORM", "%s", platform);
        if (name)
                field(f, "CERTVIGIL_NAME", "%s", name);
        if (address)
                field(f, "CERTVIGIL_ADDRESS", "%s", address);
        if (!cert)
                return;
        if (address && cert->port)
                field(f, "CERTVIGIL_PORT", "%u", (unsigned)cert->port);
        if (cert->not_after) {
                char when[RFC3339_MAX];
                field(f, "CERTVIGIL_NOT_AFTER", "%s", format_rfc3339(cert->not_after, when));
                field(f, "CERTVIGIL_DAYS_LEFT", "%.1f", round(days_until(cert->not_after, now) * 10.0) / 10.0);
        }
        if (cert->sha256)
                field(f, "CERTVIGIL_SHA256", "%s", cert->sha256);
        if (cert->issuer)
                field(f, "CERTVIGIL_ISSUER", "%s", cert->issuer);
}

static void cert_of(const struct endpoint_obs *e, struct journal_cert *ret) {
        *ret = (struct journal_cert){ .port = e->port };
        if (e->status == ENDPOINT_OK && e->n_chain > 0) {
                ret->not_after = e->chain[0].not_after;
                ret->sha256 = e->chain[0].sha256;
                ret->issuer = e->chain[0].issuer;
        }
}

/* The endpoints by name and address, equal ones in their order: an audit's
 * entries look their endpoints up here, as one per endpoint each walking
 * the list made the product of the two. */
static struct keyed *endpoint_refs_new(const struct platform_obs *obs) {
        size_t n = obs ? obs->n_endpoints : 0;
        struct keyed *v = xcalloc(n + 1, sizeof(*v));

        for (size_t i = 0; i < n; i++)
                v[i] = (struct keyed){ obs->endpoints[i].name, obs->endpoints[i].address, i };
        keyed_sort(v, n);
        return v;
}

/* Certificate facts for (name, address) from this audit's observations,
 * through refs (endpoint_refs_new(obs)); false when that endpoint served
 * none. */
static bool cert_find(const struct platform_obs *obs, const struct keyed *refs, const char *name,
                      const char *address, struct journal_cert *ret) {
        size_t n = obs ? obs->n_endpoints : 0, k;

        if (!name || !address)
                return false;
        k = keyed_find(refs, n, name, address);
        if (k == n || !keyed_is(&refs[k], name, address))
                return false;
        cert_of(&obs->endpoints[refs[k].at], ret);
        return true;
}

int journal_send_finding(struct journal *j, const char *platform, const struct finding *fd,
                         const struct journal_cert *cert, time_t now) {
        struct fields f = { 0 };
        if (!j->available)
                return 0;
        field(&f, "MESSAGE", "%s: %s: %s", platform, fd->def->id, fd->message);
        common(&f, platform, fd->def, fd->severity, fd->name, fd->address, cert, now);
        return fields_send(j, &f);
}

int journal_send_alert(struct journal *j, const char *platform, const struct alert *a,
                       const struct journal_cert *cert, time_t now) {
        const struct finding_def *def = checks_find_def(a->f.id);
        struct fields f = { 0 };
        char since[RFC3339_MAX];

        if (!j->available)
                return 0;
        if (!def)
                return -EINVAL;
        format_rfc3339(a->f.first_seen, since);
        switch (a->kind) {
        case ALERT_NEW:
                field(&f, "MESSAGE", "%s: %s: %s", platform, a->f.id, a->f.message);
                break;
        case ALERT_CHANGED:
                field(&f, "MESSAGE", "%s: %s is now %s (was %s): %s", platform, a->f.id,
                      severity_to_string(a->f.severity), severity_to_string(a->previous), a->f.message);
                break;
        case ALERT_REMINDER:
                field(&f, "MESSAGE", "%s: %s still open since %s: %s", platform, a->f.id, since, a->f.message);
                break;
        case ALERT_RESOLVED: {
                const struct finding_def *resolved = checks_find_def("finding.resolved");
                if (!resolved)
                        return -EINVAL;
                field(&f, "MESSAGE", "%s: resolved %s%s%s%s%s (open since %s): was: %s", platform, a->f.id,
                      a->f.name ? " on " : "", a->f.name ? a->f.name : "", a->f.address ? " at " : "",
                      a->f.address ? a->f.address : "", since, a->f.message);
                common(&f, platform, resolved, SEVERITY_INFO, a->f.name, a->f.address, cert, now);
                field(&f, "CERTVIGIL_RESOLVED", "%s", a->f.id);
                field(&f, "CERTVIGIL_RESOLVED_SEVERITY", "%s", severity_to_string(a->f.severity));
                field(&f, "CERTVIGIL_ALERT", "%s", alert_kind_to_string(a->kind));
                field(&f, "CERTVIGIL_FIRST_SEEN", "%s", since);
                return fields_send(j, &f);
        }
        }
        common(&f, platform, def, a->f.severity, a->f.name, a->f.address, cert, now);
        field(&f, "CERTVIGIL_ALERT", "%s", alert_kind_to_string(a->kind));
        field(&f, "CERTVIGIL_FIRST_SEEN", "%s", since);
        if (a->kind == ALERT_CHANGED)
                field(&f, "CERTVIGIL_PREVIOUS_SEVERITY", "%s", severity_to_string(a->previous));
        return fields_send(j, &f);
}

int journal_send_renew_line(struct journal *j, const char *platform, const char *stream, const char *line) {
        struct fields f = { 0 };

        if (!j || !j->available)
                return 0;
        field(&f, "MESSAGE", "%s: renew.command %s: %s", platform, stream, line);
        /* The command's stderr is where tools explain failures. */
        field(&f, "PRIORITY", "%d", strcmp(stream, "stderr") == 0 ? 5 : 6);
        field(&f, "SYSLOG_IDENTIFIER", "certvigil");
        field(&f, "CERTVIGIL_PLATFORM", "%s", platform);
        field(&f, "CERTVIGIL_RENEW_STREAM", "%s", stream);
        return fields_send(j, &f);
}

int journal_send_summary(struct journal *j, const struct journal_summary *s) {
        struct fields f = { 0 };
        const char *status = s->counts[SEVERITY_CRITICAL] ? "critical" : s->counts[SEVERITY_WARNING] ? "warning" : "ok";
        char alerts[48] = "";

        if (!j->available)
                return 0;
        if (s->n_alerts != SIZE_MAX)
                snprintf(alerts, sizeof(alerts), ", %zu alert%s", s->n_alerts, s->n_alerts == 1 ? "" : "s");
        if (s->platform)
                field(&f, "MESSAGE", "%s: audit %s: %zu critical, %zu warning, %zu info open%s, in %" PRIu64 " ms",
                      s->platform, status, s->counts[SEVERITY_CRITICAL], s->counts[SEVERITY_WARNING],
                      s->counts[SEVERITY_INFO], alerts, (uint64_t)(s->duration_usec / USEC_PER_MSEC));
        else
                field(&f, "MESSAGE", "audit of %zu platforms %s: %zu critical, %zu warning, %zu info%s, in %" PRIu64 " ms",
                      s->n_platforms, status, s->counts[SEVERITY_CRITICAL], s->counts[SEVERITY_WARNING],
                      s->counts[SEVERITY_INFO], alerts, (uint64_t)(s->duration_usec / USEC_PER_MSEC));
        field(&f, "MESSAGE_ID", "%s", JOURNAL_SUMMARY_MESSAGE_ID);
        field(&f, "PRIORITY", "%d", 6);
        field(&f, "SYSLOG_IDENTIFIER", "certvigil");
        if (s->platform)
                field(&f, "CERTVIGIL_PLATFORM", "%s", s->platform);
        field(&f, "CERTVIGIL_PLATFORMS", "%zu", s->n_platforms);
        field(&f, "CERTVIGIL_STATUS", "%s", status);
        field(&f, "CERTVIGIL_CRITICAL", "%zu", s->counts[SEVERITY_CRITICAL]);
        field(&f, "CERTVIGIL_WARNING", "%zu", s->counts[SEVERITY_WARNING]);
        field(&f, "CERTVIGIL_INFO", "%zu", s->counts[SEVERITY_INFO]);
        if (s->n_alerts != SIZE_MAX)
                field(&f, "CERTVIGIL_ALERTS", "%zu", s->n_alerts);
        field(&f, "CERTVIGIL_DURATION_MS", "%" PRIu64, (uint64_t)(s->duration_usec / USEC_PER_MSEC));
        return fields_send(j, &f);
}

size_t journal_send_audit(struct journal *j, const char *platform, const struct finding_list *findings,
                          const struct platform_obs *obs, const struct alert_list *alerts, const size_t counts[3],
                          time_t now) {
        _cleanup_free_ struct keyed *refs = endpoint_refs_new(obs);
        size_t sent = 0;
        if (alerts) {
                for (size_t i = 0; i < alerts->n; i++) {
                        const struct alert *a = &alerts->items[i];
                        struct journal_cert cert;
                        bool have = cert_find(obs, refs, a->f.name, a->f.address, &cert);
                        if (journal_send_alert(j, platform, a, have ? &cert : NULL, now) >= 0)
                                sent++;
                }
        } else {
                for (size_t i = 0; i < findings->n; i++) {
                        const struct finding *f = &findings->items[i];
                        struct journal_cert cert;
                        if (!finding_counts(f))
                                continue;
                        bool have = cert_find(obs, refs, f->name, f->address, &cert);
                        if (journal_send_finding(j, platform, f, have ? &cert : NULL, now) >= 0)
                                sent++;
                }
        }
        struct journal_summary s = {
                .platform = platform,
                .n_platforms = 1,
                .n_alerts = alerts ? alerts->n : SIZE_MAX,
                .duration_usec = obs ? obs->duration_usec : 0,
        };
        memcpy(s.counts, counts, sizeof(s.counts));
        journal_send_summary(j, &s);
        return sent;
}
