/* The Prometheus text exposition format, as node_exporter's textfile
 * collector reads it (write it with -o, which is atomic: the collector
 * must never see half a file). One sample per label set: findings of the
 * same id, severity and name on several addresses are counted in one. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "report.h"
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

static void header(FILE *f, const char *name, const char *help) {
        fprintf(f, "# HELP %s %s\n# TYPE %s gauge\n", name, help, name);
}

/* Findings an ignore: silence covers, with the silence's end: a family of
 * its own, written only when there are some. */
static void prometheus_silenced(FILE *f, const struct report *r) {
        bool any = false;

        for (size_t i = 0; i < r->n_platforms; i++) {
                const struct finding_list *fl = r->platforms[i].findings;
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
                        if (!any)
                                header(f, "certvigil_finding_silenced_until_seconds",
                                       "Findings silenced by ignore:, with the time the silence ends.");
                        any = true;
                        fputs("certvigil_finding_silenced_until_seconds{", f);
                        label(f, "platform", r->platforms[i].platform->name, false);
                        label(f, "id", fd->def->id, false);
                        label(f, "name", fd->name, true);
                        fprintf(f, " %lld\n", (long long)fd->silenced_until);
                }
        }
}

static int prometheus_render(const struct report *r, bool color, char **ret, size_t *ret_len) {
        char *buf = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&buf, &len);

        if (!f)
                return -errno;
        header(f, "certvigil_certificate_not_after_seconds",
               "The notAfter of the leaf certificate each endpoint served, as a Unix time.");
        for (size_t i = 0; i < r->n_platforms; i++) {
                const struct report_platform *rp = &r->platforms[i];
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
        header(f, "certvigil_finding", "Findings of the last audit, by id, severity and name (the value counts addresses).");
        for (size_t i = 0; i < r->n_platforms; i++) {
                const struct finding_list *fl = r->platforms[i].findings;
                for (size_t j = 0; j < fl->n; j++) {
                        const struct finding *fd = &fl->items[j];
                        size_t count = 0;
                        bool seen = false;
                        /* Alert rules fire on this family: silenced findings
                         * have their own (below). */
                        if (fd->silenced)
                                continue;
                        for (size_t k = 0; k < fl->n && !seen; k++) {
                                const struct finding *o = &fl->items[k];
                                bool same = o->def == fd->def && o->severity == fd->severity &&
                                            streq_ptr(o->name, fd->name) && !o->silenced;
                                if (same && k < j)
                                        seen = true;   /* counted at its first */
                                else if (same)
                                        count++;
                        }
                        if (seen)
                                continue;
                        fputs("certvigil_finding{", f);
                        label(f, "platform", r->platforms[i].platform->name, false);
                        label(f, "id", fd->def->id, false);
                        label(f, "severity", severity_to_string(fd->severity), false);
                        label(f, "name", fd->name, true);
                        fprintf(f, " %zu\n", count);
                }
        }
        prometheus_silenced(f, r);
        header(f, "certvigil_audit_duration_seconds", "How long the last audit of each platform took.");
        for (size_t i = 0; i < r->n_platforms; i++) {
                fputs("certvigil_audit_duration_seconds{", f);
                label(f, "platform", r->platforms[i].platform->name, true);
                fprintf(f, " %.3f\n", (double)r->platforms[i].obs->duration_usec / USEC_PER_SEC);
        }
        header(f, "certvigil_last_audit_timestamp_seconds", "When the last audit of each platform started, as a Unix time.");
        for (size_t i = 0; i < r->n_platforms; i++) {
                fputs("certvigil_last_audit_timestamp_seconds{", f);
                label(f, "platform", r->platforms[i].platform->name, true);
                fprintf(f, " %lld\n", (long long)r->platforms[i].obs->started);
        }
        if (fclose(f) != 0) {
                free(buf);
                return -ENOMEM;
        }
        *ret = buf;
        *ret_len = len;
        return 0;
}

const struct report_writer report_writer_prometheus = {
        .name = "prometheus",
        .render = prometheus_render,
};
