/* The text report: one table of endpoints per platform and one line per
 * finding, for people. Colour only when asked (stdout is a terminal). */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "checks.h"
#include "dnsname.h"
#include "report.h"
#include "util.h"

#define RED "\033[1;31m"
#define YELLOW "\033[1;33m"
#define GREEN "\033[32m"
#define DIM "\033[2m"
#define RESET "\033[0m"

static const char *severity_color(enum severity s) {
        return s == SEVERITY_CRITICAL ? RED : s == SEVERITY_WARNING ? YELLOW : DIM;
}

static void upper(char *dst, const char *src, size_t n) {
        size_t i = 0;
        for (; src[i] && i + 1 < n; i++)
                dst[i] = (char)(src[i] >= 'a' && src[i] <= 'z' ? src[i] - 32 : src[i]);
        dst[i] = 0;
}

static void text_servers(FILE *f, const struct dns_zone_obs *z) {
        for (size_t i = 0; i < z->n_servers; i++) {
                const struct dns_server_obs *s = &z->servers[i];
                fprintf(f, "%s%s (%s) ", i ? ", " : "", s->ns, s->address ? s->address : "no address");
                if (s->has_serial && s->authoritative && !s->error)
                        fprintf(f, "serial %u", s->serial);
                else
                        fprintf(f, "%s", s->status == DNS_STATUS_OK ? "lame" : dns_status_to_string(s->status));
        }
        if (z->n_servers == 0)
                fprintf(f, "%s", z->ns_error ? z->ns_error : "no servers");
}

static void text_zone(FILE *f, const char *what, const struct dns_zone_obs *z) {
        if (z->zone)
                fprintf(f, "  %-9s %s in zone %s: ", what, z->queried, *z->zone ? z->zone : ".");
        else
                fprintf(f, "  %-9s %s: %s", what, z->queried ? z->queried : "-",
                        z->error ? z->error : "zone not found");
        if (z->zone)
                text_servers(f, z);
        fputc('\n', f);
}

/* What the DNS facts gatherer saw, in a few lines; findings judge it. */
static void text_dns(FILE *f, const struct report_platform *rp) {
        const struct dns_obs *d = &rp->obs->dns;

        if (!d->gathered) {
                fprintf(f, "\n  DNS facts: not gathered%s%s\n", d->error ? ": " : "", d->error ? d->error : "");
                return;
        }
        _cleanup_free_ char *probe = d->wildcard_probe.status == DNS_STATUS_OK
                                             ? strv_join_or(d->wildcard_probe.addresses, ", ", "-")
                                             : xstrdup(d->wildcard_probe.error ? d->wildcard_probe.error
                                                                               : dns_status_to_string(d->wildcard_probe.status));
        fprintf(f, "\n  %-9s %s -> %s (probed as %s)\n", "Wildcard", rp->plan->wildcard, probe,
                d->wildcard_probe_name ? d->wildcard_probe_name : "-");
        text_zone(f, "Names", &d->names_zone);
        if (d->dns01) {
                _cleanup_free_ char *chain = dns_chain_describe(rp->plan->challenge_name, d->cname_chain);
                if (d->cname_error)
                        fprintf(f, "  %-9s %s", "DNS-01", d->cname_error);
                else
                        fprintf(f, "  %-9s %s", "DNS-01", chain);
                fprintf(f, "; %zu TXT record%s\n", d->n_txt, d->n_txt == 1 ? "" : "s");
                if (d->effective_challenge)
                        text_zone(f, "", &d->challenge_zone);
        }
        if (d->caa_status != DNS_STATUS_OK)
                fprintf(f, "  %-9s %s\n", "CAA", d->caa_error ? d->caa_error : dns_status_to_string(d->caa_status));
        else if (!d->caa_name)
                fprintf(f, "  %-9s none from %s up\n", "CAA", rp->plan->wildcard_base);
        else {
                _cleanup_free_ char *why = NULL;
                bool ok = caa_permits(d->caa, d->n_caa, "letsencrypt.org", true, &why);
                fprintf(f, "  %-9s at %s:", "CAA", d->caa_name);
                for (size_t i = 0; i < d->n_caa; i++)
                        fprintf(f, "%s %u %s \"%s\"", i ? "," : "", d->caa[i].flags, d->caa[i].tag, d->caa[i].value);
                fprintf(f, " (Let's Encrypt wildcard %s)\n", ok ? "permitted" : "not permitted");
        }
}

static void text_platform(FILE *f, const struct report_platform *rp, time_t now, bool color) {
        const struct platform *p = rp->platform;
        const struct platform_obs *o = rp->obs;
        int w = 8;

        fprintf(f, "%sPlatform %s%s: %s (separator \"%c\", tls.mode %s%s)\n", color ? "\033[1m" : "", p->name,
                color ? RESET : "", p->base_domain, p->separator, tls_mode_to_string(p->tls_mode),
                p->tunnel_enabled ? ", Cloudflare Tunnel" : "");
        if (p->tls_mode == TLS_MODE_LETSENCRYPT)
                fprintf(f, "  certificate must carry %s; DNS-01 challenge at %s%s%s\n", rp->plan->wildcard,
                        rp->plan->challenge_name, rp->plan->dns01_zone ? " in zone " : "",
                        rp->plan->dns01_zone ? rp->plan->dns01_zone : "");
        else
                fprintf(f, "  certificate must carry %s\n", rp->plan->wildcard);

        for (size_t i = 0; i < o->n_names; i++)
                if ((int)strlen(o->names[i].name) > w)
                        w = (int)strlen(o->names[i].name);
        fprintf(f, "\n  %-*s  %-15s %-7s %-20s %6s  %s\n", w, "NAME", "ADDRESS", "TLS", "NOT AFTER", "DAYS", "RESULT");
        for (size_t i = 0; i < o->n_names; i++) {
                const struct name_obs *n = &o->names[i];
                if (n->status != DNS_STATUS_OK) {
                        fprintf(f, "  %-*s  %-15s %-7s %-20s %6s  %s\n", w, n->name, "-", "-", "-", "-",
                                dns_status_to_string(n->status));
                        continue;
                }
                for (size_t j = 0; j < o->n_endpoints; j++) {
                        const struct endpoint_obs *e = &o->endpoints[j];
                        char when[RFC3339_MAX] = "-", days[16] = "-";
                        const char *result;
                        if (strcmp(e->name, n->name) != 0)
                                continue;
                        if (e->status == ENDPOINT_OK && e->n_chain > 0) {
                                format_rfc3339(e->chain[0].not_after, when);
                                snprintf(days, sizeof(days), "%.1f", days_until(e->chain[0].not_after, now));
                        }
                        result = e->status == ENDPOINT_OK          ? (e->verified ? "served" : "untrusted")
                                 : e->status == ENDPOINT_NOT_RUN    ? "not probed"
                                 : e->status == ENDPOINT_CONNECT_FAILED ? "no connection"
                                                                    : "handshake failed";
                        fprintf(f, "  %-*s  %-15s %-7s %-20s %6s  %s\n", w, e->name, e->address,
                                e->tls_version ? e->tls_version : "-", when, days, result);
                }
        }

        text_dns(f, rp);

        if (rp->findings->n == 0) {
                fprintf(f, "\n  %sNo findings.%s\n\n", color ? GREEN : "", color ? RESET : "");
                return;
        }
        fprintf(f, "\n  Findings:\n");
        for (size_t i = 0; i < rp->findings->n; i++) {
                const struct finding *fd = &rp->findings->items[i];
                char sev[16];
                upper(sev, severity_to_string(fd->severity), sizeof(sev));
                fprintf(f, "  %s%-8s%s %s: %s\n", color ? severity_color(fd->severity) : "", sev, color ? RESET : "",
                        fd->def->id, fd->message);
        }
        fputc('\n', f);
}

static int text_render(const struct report *r, bool color, char **ret, size_t *ret_len) {
        char *buf = NULL, when[RFC3339_MAX];
        size_t len = 0, counts[3];
        FILE *f = open_memstream(&buf, &len);

        if (!f)
                return -errno;
        fprintf(f, "certvigil %s audit, %s\n\n", PACKAGE_VERSION, format_rfc3339(r->started, when));
        for (size_t i = 0; i < r->n_platforms; i++)
                text_platform(f, &r->platforms[i], r->now, color);

        int worst = report_count(r, counts);
        fprintf(f, "Status: %s%s%s (%zu critical, %zu warning, %zu info) in %llu ms\n",
                color ? (worst >= 0 ? severity_color((enum severity)worst) : GREEN) : "", report_status_string(r),
                color ? RESET : "", counts[SEVERITY_CRITICAL], counts[SEVERITY_WARNING], counts[SEVERITY_INFO],
                (unsigned long long)(r->duration_usec / USEC_PER_MSEC));
        if (fclose(f) != 0) {
                free(buf);
                return -ENOMEM;
        }
        *ret = buf;
        *ret_len = len;
        return 0;
}

const struct report_writer report_writer_text = {
        .name = "text",
        .render = text_render,
};
