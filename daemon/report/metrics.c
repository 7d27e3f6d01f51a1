/* Prometheus text exposition format 0.0.4 (metrics.h). Every family has
 * HELP and TYPE once and its samples together, which `promtool check
 * metrics` and the scrapers require; counters end in _total. */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "metrics.h"
#include "util.h"

/* Label values escape backslash, double quote and line feed. */
static void label(FILE *f, const char *key, const char *value, bool last) {
        fprintf(f, "%s=\"", key);
        for (const char *s = value ? value : ""; *s; s++) {
                if (*s == '\\' || *s == '"')
                        fputc('\\', f);
                if (*s == '\n')
                        fputs("\\n", f);
                else
                        fputc(*s, f);
        }
        fputs(last ? "\"}" : "\",", f);
}

static void header(FILE *f, const char *name, const char *type, const char *help) {
        fprintf(f, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static const struct {
        const char *name, *help;
        bool optional;   /* left out when no platform has a sample */
} families[_METRICS_FAMILY_MAX] = {
        [METRICS_NOT_AFTER] = { "certvigil_certificate_not_after_seconds",
                                "The notAfter of the leaf certificate each endpoint served, as a Unix time.", false },
        [METRICS_FINDING] = { "certvigil_finding",
                              "Findings of the last audit, one per root cause, by id, severity and first name "
                              "(the value counts the endpoints affected).", false },
        [METRICS_SILENCED] = { "certvigil_finding_silenced_until_seconds",
                               "Findings silenced by ignore:, with the time the silence ends.", true },
        [METRICS_FOLDED] = { "certvigil_finding_folded",
                             "Findings explained by another (caused_by), not counted; the value is 1.", true },
        [METRICS_DURATION] = { "certvigil_audit_duration_seconds", "How long the last audit of each platform took.", false },
        [METRICS_LAST_AUDIT] = { "certvigil_last_audit_timestamp_seconds",
                                 "When the last audit of each platform started, as a Unix time.", false },
};

static void capture_not_after(FILE *f, const struct report_platform *rp) {
        for (size_t j = 0; j < rp->obs->n_endpoints; j++) {
                const struct endpoint_obs *e = &rp->obs->endpoints[j];
                if (e->status != ENDPOINT_OK || e->n_chain == 0)
                        continue;
                fputs("certvigil_certificate_not_after_seconds{", f);
                label(f, "platform", rp->platform->name, false);
                label(f, "name", e->name, false);
                label(f, "address", e->address, true);
                fprintf(f, " %lld\n", (long long)e->chain[0].not_after);
        }
}

/* One sample per id, severity and first name: a finding is one problem,
 * its value the endpoints it affects. Alert rules fire on this family;
 * silenced and folded findings have their own. */
static void capture_findings(FILE *f, const struct report_platform *rp) {
        const struct finding_list *fl = rp->findings;

        for (size_t j = 0; j < fl->n; j++) {
                const struct finding *fd = &fl->items[j];
                size_t count = 0;
                bool seen = false;

                if (!finding_counts(fd))
                        continue;
                for (size_t k = 0; k < fl->n && !seen; k++) {
                        const struct finding *o = &fl->items[k];
                        bool same = o->def == fd->def && o->severity == fd->severity && streq_ptr(o->name, fd->name) &&
                                    finding_counts(o);
                        if (same && k < j)
                                seen = true;   /* counted at its first */
                        else if (same)
                                count += o->n_affected > 0 ? o->n_affected : 1;
                }
                if (seen)
                        continue;
                fputs("certvigil_finding{", f);
                label(f, "platform", rp->platform->name, false);
                label(f, "id", fd->def->id, false);
                label(f, "severity", severity_to_string(fd->severity), false);
                label(f, "name", fd->name, true);
                fprintf(f, " %zu\n", count);
        }
}

static void capture_silenced(FILE *f, const struct report_platform *rp) {
        const struct finding_list *fl = rp->findings;

        for (size_t j = 0; j < fl->n; j++) {
                const struct finding *fd = &fl->items[j];
                bool seen = false;
                if (!fd->silenced)
                        continue;
                for (size_t k = 0; k < j && !seen; k++)
                        seen = fl->items[k].silenced && fl->items[k].def == fd->def &&
                               streq_ptr(fl->items[k].name, fd->name);
                if (seen)
                        continue;
                fputs("certvigil_finding_silenced_until_seconds{", f);
                label(f, "platform", rp->platform->name, false);
                label(f, "id", fd->def->id, false);
                label(f, "name", fd->name, true);
                fprintf(f, " %lld\n", (long long)fd->silenced_until);
        }
}

static void capture_folded(FILE *f, const struct report_platform *rp) {
        const struct finding_list *fl = rp->findings;

        for (size_t j = 0; j < fl->n; j++) {
                const struct finding *fd = &fl->items[j];
                bool seen = false;
                if (!fd->caused_by || fd->silenced)
                        continue;
                for (size_t k = 0; k < j && !seen; k++)
                        seen = fl->items[k].caused_by == fd->caused_by && !fl->items[k].silenced &&
                               fl->items[k].def == fd->def && streq_ptr(fl->items[k].name, fd->name);
                if (seen)
                        continue;
                fputs("certvigil_finding_folded{", f);
                label(f, "platform", rp->platform->name, false);
                label(f, "id", fd->def->id, false);
                label(f, "caused_by", fd->caused_by->id, false);
                label(f, "name", fd->name, true);
                fputs(" 1\n", f);
        }
}

int metrics_capture(const struct report_platform *rp, struct metrics_lines *ret) {
        struct metrics_lines m = { 0 };

        for (int i = 0; i < _METRICS_FAMILY_MAX; i++) {
                char *buf = NULL;
                size_t len = 0;
                FILE *f = open_memstream(&buf, &len);

                if (!f) {
                        metrics_lines_done(&m);
                        return -errno;
                }
                switch ((enum metrics_family)i) {
                case METRICS_NOT_AFTER:
                        capture_not_after(f, rp);
                        break;
                case METRICS_FINDING:
                        capture_findings(f, rp);
                        break;
                case METRICS_SILENCED:
                        capture_silenced(f, rp);
                        break;
                case METRICS_FOLDED:
                        capture_folded(f, rp);
                        break;
                case METRICS_DURATION:
                        fputs("certvigil_audit_duration_seconds{", f);
                        label(f, "platform", rp->platform->name, true);
                        fprintf(f, " %.3f\n", (double)rp->obs->duration_usec / USEC_PER_SEC);
                        break;
                case METRICS_LAST_AUDIT:
                        fputs("certvigil_last_audit_timestamp_seconds{", f);
                        label(f, "platform", rp->platform->name, true);
                        fprintf(f, " %lld\n", (long long)rp->obs->started);
                        break;
                case _METRICS_FAMILY_MAX:
                        break;
                }
                if (fclose(f) != 0) {
                        free(buf);
                        metrics_lines_done(&m);
                        return -ENOMEM;
                }
                m.family[i] = len ? buf : mfree(buf);
        }
        *ret = m;
        return 0;
}

void metrics_lines_done(struct metrics_lines *m) {
        for (int i = 0; i < _METRICS_FAMILY_MAX; i++)
                m->family[i] = mfree(m->family[i]);
}

void metrics_write_families(FILE *f, const struct metrics_lines *const *platforms, size_t n) {
        for (int i = 0; i < _METRICS_FAMILY_MAX; i++) {
                bool any = false;
                for (size_t j = 0; j < n && !any; j++)
                        any = platforms[j] && platforms[j]->family[i];
                if (families[i].optional && !any)
                        continue;
                header(f, families[i].name, "gauge", families[i].help);
                for (size_t j = 0; j < n; j++)
                        if (platforms[j] && platforms[j]->family[i])
                                fputs(platforms[j]->family[i], f);
        }
}

static const char *const renew_results[_METRICS_RENEW_MAX] = {
        [METRICS_RENEW_TRIGGERED] = "triggered",
        [METRICS_RENEW_SUPPRESSED] = "suppressed",
        [METRICS_RENEW_SUCCEEDED] = "succeeded",
        [METRICS_RENEW_FAILED] = "failed",
};

int metrics_renew_result(const char *finding_id) {
        if (!finding_id || strncmp(finding_id, "renew.", 6) != 0)
                return -1;
        for (int i = 0; i < _METRICS_RENEW_MAX; i++)
                if (strcmp(finding_id + 6, renew_results[i]) == 0)
                        return i;
        return -1;
}

static void write_counter(FILE *f, const char *name, const char *help, const struct metrics_platform *p, size_t n,
                          size_t offset) {
        header(f, name, "counter", help);
        for (size_t i = 0; i < n; i++) {
                fprintf(f, "%s{", name);
                label(f, "platform", p[i].name, true);
                fprintf(f, " %lu\n", *(const unsigned long *)((const char *)&p[i] + offset));
        }
}

static void write_daemon_families(FILE *f, const struct shard *shard, const struct metrics_platform *p, size_t n) {
        write_counter(f, "certvigil_audits_total", "Audits of each platform finished since the daemon started.", p, n,
                      offsetof(struct metrics_platform, audits));
        write_counter(f, "certvigil_audit_failures_total",
                      "Audits of each platform that could not be started or set up since the daemon started.", p, n,
                      offsetof(struct metrics_platform, failures));
        header(f, "certvigil_finding_open", "gauge",
               "Findings open in the alert state, by id, severity and name; the value is when each was first seen.");
        for (size_t i = 0; i < n; i++) {
                const struct state_platform *sp = p[i].state;
                for (size_t j = 0; sp && j < sp->n_findings; j++) {
                        const struct state_finding *sf = &sp->findings[j];
                        bool seen = false;
                        /* One sample per label set: the earliest sighting
                         * of the name on any address. */
                        for (size_t k = 0; k < sp->n_findings && !seen; k++) {
                                const struct state_finding *o = &sp->findings[k];
                                if (k != j && strcmp(o->id, sf->id) == 0 && o->severity == sf->severity &&
                                    streq_ptr(o->name, sf->name) &&
                                    (o->first_seen < sf->first_seen || (o->first_seen == sf->first_seen && k < j)))
                                        seen = true;
                        }
                        if (seen)
                                continue;
                        fputs("certvigil_finding_open{", f);
                        label(f, "platform", p[i].name, false);
                        label(f, "id", sf->id, false);
                        label(f, "severity", severity_to_string(sf->severity), false);
                        label(f, "name", sf->name, true);
                        fprintf(f, " %lld\n", (long long)sf->first_seen);
                }
        }
        header(f, "certvigil_renewals_total", "counter", "Renewal outcomes of each platform since the daemon started.");
        for (size_t i = 0; i < n; i++)
                for (int r = 0; r < _METRICS_RENEW_MAX; r++) {
                        fputs("certvigil_renewals_total{", f);
                        label(f, "platform", p[i].name, false);
                        label(f, "result", renew_results[r], true);
                        fprintf(f, " %lu\n", p[i].renewals[r]);
                }
        header(f, "certvigil_shard_info", "gauge", "This instance's shard (1 of 1 when not sharded).");
        fprintf(f, "certvigil_shard_info{shard=\"%u\",shards=\"%u\"} 1\n", shard && shard->count ? shard->index : 1,
                shard && shard->count ? shard->count : 1);
        header(f, "certvigil_build_info", "gauge", "certvigil's version.");
        fputs("certvigil_build_info{", f);
        label(f, "version", PACKAGE_VERSION, true);
        fputs(" 1\n", f);
}

int metrics_render(const struct metrics_daemon *d, const struct metrics_platform *p, size_t n, char **ret,
                   size_t *ret_len) {
        _cleanup_free_ const struct metrics_lines **lines = xcalloc(n + 1, sizeof(*lines));
        char *buf = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&buf, &len);

        if (!f)
                return -errno;
        for (size_t i = 0; i < n; i++)
                lines[i] = p[i].lines;
        metrics_write_families(f, lines, n);
        write_daemon_families(f, d->shard, p, n);
        if (d->writes_report) {
                header(f, "certvigil_report_writes_total", "counter",
                       "Writes of the daemon's -o report file since it started (in the file: this one included).");
                fprintf(f, "certvigil_report_writes_total %lu\n", d->report_writes);
                header(f, "certvigil_report_write_failures_total", "counter",
                       "Writes of the daemon's -o report file that failed since it started.");
                fprintf(f, "certvigil_report_write_failures_total %lu\n", d->report_write_failures);
        }
        if (fclose(f) != 0) {
                free(buf);
                return -ENOMEM;
        }
        *ret = buf;
        *ret_len = len;
        return 0;
}
