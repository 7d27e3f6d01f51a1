/* The text report, for people: the verdict first (the whole run, then each
 * platform), the findings worst first, then the table of endpoints with
 * the worst finding of each in a word, then the DNS facts; within 100
 * columns. Colour only when asked (stdout is a terminal). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "checks.h"
#include "dnsname.h"
#include "keyed.h"
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
static void text_dns_lines(FILE *f, const struct report_platform *rp) {
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

/* Lines are kept within this many columns: messages are wrapped at
 * spaces and continue under their first word. */
#define TEXT_WIDTH 100

/* Writes text from column `col`, wrapping at spaces so that no line passes
 * TEXT_WIDTH; continuation lines start at column `indent`. A word longer
 * than a line (a URL) is written whole. */
static void text_wrapped(FILE *f, const char *text, size_t col, size_t indent) {
        const char *p = text;

        while (*p) {
                const char *end = p + strcspn(p, " ");
                size_t word = (size_t)(end - p);
                if (col > indent && col + 1 + word > TEXT_WIDTH) {
                        fprintf(f, "\n%*s", (int)indent, "");
                        col = indent;
                } else if (p != text) {
                        fputc(' ', f);
                        col++;
                }
                fwrite(p, 1, word, f);
                col += word;
                p = end;
                while (*p == ' ')
                        p++;
        }
        fputc('\n', f);
}

/* The word for a finding in the RESULT column: what a person scanning the
 * table needs ("EXPIRES 5d", "SAN MISMATCH"); by default the id without
 * its family, in capitals. */
static void result_word(const struct finding *fd, const struct endpoint_obs *e, time_t now, char *buf,
                        size_t n) {
        static const struct {
                const char *id, *word;
        } words[] = {
                { "tls.expiry.expired", "EXPIRED" },
                { "tls.cert.not-yet-valid", "NOT YET VALID" },
                { "tls.san.mismatch", "SAN MISMATCH" },
                { "tls.chain.untrusted", "UNTRUSTED" },
                { "tls.chain.incomplete", "INCOMPLETE" },
                { "tls.cert.ingress-default", "PLACEHOLDER" },
                { "tls.revoked", "REVOKED" },
        };
        const char *id = fd->def->id, *rest;

        if ((strcmp(id, "tls.connect.failed") == 0 || strcmp(id, "tls.handshake.failed") == 0) && e && e->error) {
                const char *w = strstr(e->error, "refused")                                   ? "REFUSED"
                                : strstr(e->error, "timed out") || strstr(e->error, "deadline") ? "TIMEOUT"
                                : strcmp(id, "tls.connect.failed") == 0                        ? "NO CONNECTION"
                                                                                               : "HANDSHAKE FAILED";
                snprintf(buf, n, "%s", w);
                return;
        }
        if (e && e->n_chain > 0 &&
            (strcmp(id, "tls.expiry.critical") == 0 || strcmp(id, "tls.expiry.warning") == 0)) {
                double d = days_until(e->chain[0].not_after, now);
                snprintf(buf, n, "EXPIRES %.0fd", d < 0 ? 0 : d);
                return;
        }
        for (size_t i = 0; i < ELEMENTSOF(words); i++)
                if (strcmp(id, words[i].id) == 0) {
                        snprintf(buf, n, "%s", words[i].word);
                        return;
                }
        rest = strchr(id, '.');
        upper(buf, rest ? rest + 1 : id, n);
        for (char *c = buf; *c; c++)
                if (*c == '.' || *c == '-')
                        *c = ' ';
}

/* Which findings are about which endpoints: every counted finding's
 * targets (those it affects, else its own name and address), sorted by
 * name, address and the finding's place, so that one endpoint's findings
 * are found by a binary search. Made once per table: a finding may affect
 * every endpoint, and the table has a row for each. */
struct affects {
        const struct finding_list *l;
        struct keyed *v;   /* (name, address) at the finding's place */
        size_t n;
};

static void affects_add(struct affects *x, size_t *allocated, const char *name, const char *address, size_t i) {
        /* A target without an address is a name, never an endpoint's row. */
        if (!name || !address)
                return;
        if (x->n == *allocated) {
                *allocated = *allocated ? 2 * *allocated : 16;
                x->v = xrealloc(x->v, *allocated * sizeof(*x->v));
        }
        x->v[x->n++] = (struct keyed){ name, address, i };
}

static void affects_make(struct affects *x, const struct finding_list *l) {
        size_t allocated = 0;

        *x = (struct affects){ .l = l };
        for (size_t i = 0; i < l->n; i++) {
                const struct finding *fd = &l->items[i];
                if (!finding_counts(fd))
                        continue;
                if (fd->n_affected == 0)
                        affects_add(x, &allocated, fd->name, fd->address, i);
                for (size_t k = 0; k < fd->n_affected; k++)
                        affects_add(x, &allocated, fd->affected[k].name, fd->affected[k].address, i);
        }
        keyed_sort(x->v, x->n);
}

/* The worst finding about this endpoint (first of equals), or NULL. */
static const struct finding *endpoint_worst(const struct affects *x, const char *name, const char *address) {
        const struct finding *worst = NULL;

        /* The endpoint's run, in the findings' order. */
        for (size_t k = keyed_find(x->v, x->n, name, address); k < x->n && keyed_is(&x->v[k], name, address); k++) {
                const struct finding *fd = &x->l->items[x->v[k].at];
                if (!worst || fd->severity > worst->severity)
                        worst = fd;
        }
        return worst;
}

static const char *endpoint_status_word(const struct endpoint_obs *e) {
        return e->status == ENDPOINT_OK                ? (e->verified ? "ok" : "UNTRUSTED")
               : e->status == ENDPOINT_NOT_RUN         ? "NOT PROBED"
               : e->status == ENDPOINT_CONNECT_FAILED ? "NO CONNECTION"
                                                       : "HANDSHAKE FAILED";
}

/* The DNS lines, each wrapped within TEXT_WIDTH under its label. */
static void text_dns(FILE *f, const struct report_platform *rp) {
        _cleanup_free_ char *buf = NULL;
        size_t len = 0;
        FILE *m = open_memstream(&buf, &len);

        if (!m)
                return;
        text_dns_lines(m, rp);
        if (fclose(m) != 0)
                return;
        for (char *line = buf, *next; line && *line; line = next) {
                next = strchr(line, '\n');
                if (next)
                        *next++ = 0;
                size_t lead = strspn(line, " ");
                if (line[lead] == 0) {
                        fputc('\n', f);
                        continue;
                }
                fprintf(f, "%*s", (int)lead, "");
                text_wrapped(f, line + lead, lead, lead + 10);
        }
}

static void text_table(FILE *f, const struct report_platform *rp, time_t now) {
        const struct platform_obs *o = rp->obs;
        struct affects affects;
        int w = 8, aw = 15;

        for (size_t i = 0; i < o->n_names; i++)
                if ((int)strlen(o->names[i].name) > w)
                        w = (int)strlen(o->names[i].name);
        for (size_t j = 0; j < o->n_endpoints; j++)
                if ((int)strlen(o->endpoints[j].address) > aw)
                        aw = (int)strlen(o->endpoints[j].address);
        fprintf(f, "\n  %-*s  %-*s %-7s %-20s %6s  %s\n", w, "NAME", aw, "ADDRESS", "TLS", "NOT AFTER", "DAYS",
                "RESULT");
        affects_make(&affects, rp->findings);
        for (size_t i = 0; i < o->n_names; i++) {
                const struct name_obs *n = &o->names[i];
                if (n->status != DNS_STATUS_OK) {
                        char word[32];
                        upper(word, dns_status_to_string(n->status), sizeof(word));
                        fprintf(f, "  %-*s  %-*s %-7s %-20s %6s  %s\n", w, n->name, aw, "-", "-", "-", "-", word);
                        continue;
                }
                for (size_t j = 0; j < o->n_endpoints; j++) {
                        const struct endpoint_obs *e = &o->endpoints[j];
                        char when[RFC3339_MAX] = "-", days[16] = "-", word[48];
                        const struct finding *worst;
                        if (strcmp(e->name, n->name) != 0)
                                continue;
                        if (e->status == ENDPOINT_OK && e->n_chain > 0) {
                                format_rfc3339(e->chain[0].not_after, when);
                                snprintf(days, sizeof(days), "%.1f", days_until(e->chain[0].not_after, now));
                        }
                        worst = endpoint_worst(&affects, e->name, e->address);
                        if (worst && worst->severity > SEVERITY_INFO)
                                result_word(worst, e, now, word, sizeof(word));
                        else
                                snprintf(word, sizeof(word), "%s", endpoint_status_word(e));
                        fprintf(f, "  %-*s  %-*s %-7s %-20s %6s  %s\n", w, e->name, aw, e->address,
                                e->tls_version ? e->tls_version : "-", when, days, word);
                }
        }
        free(affects.v);
}

static void text_finding(FILE *f, const struct finding *fd, const char *label, const char *color_on, bool color) {
        _cleanup_free_ char *line = NULL;
        char when[RFC3339_MAX];

        fprintf(f, "  %s%-8s%s ", color ? color_on : "", label, color ? RESET : "");
        if (fd->caused_by)
                line = xasprintf("%s (%s, caused by %s): %s", fd->def->id, severity_to_string(fd->severity),
                                 fd->caused_by->id, fd->message);
        else if (fd->silenced)
                line = xasprintf("%s (%s, silenced until %s: %s): %s", fd->def->id, severity_to_string(fd->severity),
                                 format_rfc3339(fd->silenced_until, when), fd->silenced, fd->message);
        else
                line = xasprintf("%s: %s", fd->def->id, fd->message);
        text_wrapped(f, line, 11, 11);
}

/* Worst first; in emission order among equals; then those folded under
 * a cause, then the silenced. */
static void text_findings(FILE *f, const struct finding_list *l, bool color) {
        for (int sev = SEVERITY_CRITICAL; sev >= SEVERITY_INFO; sev--)
                for (size_t i = 0; i < l->n; i++) {
                        const struct finding *fd = &l->items[i];
                        char label[16];
                        if ((int)fd->severity != sev || !finding_counts(fd))
                                continue;
                        upper(label, severity_to_string(fd->severity), sizeof(label));
                        text_finding(f, fd, label, severity_color(fd->severity), color);
                }
        for (size_t i = 0; i < l->n; i++)
                if (l->items[i].caused_by && !l->items[i].silenced)
                        text_finding(f, &l->items[i], "FOLDED", DIM, color);
        for (size_t i = 0; i < l->n; i++)
                if (l->items[i].silenced)
                        text_finding(f, &l->items[i], "SILENCED", DIM, color);
}

/* Silenced and folded findings count nowhere (finding_list_count). */
static int platform_worst(const struct finding_list *l, size_t counts[3]) {
        return finding_list_count(l, counts);
}

/* The gateway's settings and what they need, on the line under the verdict. */
static void text_platform_plan(FILE *f, const struct report_platform *rp) {
        const struct platform *p = rp->platform;

        fprintf(f, "  %s (separator \"%c\", tls.mode %s%s); ", p->base_domain, p->separator,
                tls_mode_to_string(p->tls_mode), p->tunnel_enabled ? ", Cloudflare Tunnel" : "");
        if (p->tls_mode == TLS_MODE_LETSENCRYPT) {
                _cleanup_free_ char *rest = xasprintf("certificate must carry %s; DNS-01 challenge at %s%s%s",
                                                      rp->plan->wildcard, rp->plan->challenge_name,
                                                      rp->plan->dns01_zone ? " in zone " : "",
                                                      rp->plan->dns01_zone ? rp->plan->dns01_zone : "");
                text_wrapped(f, rest, 2 + strlen(p->base_domain) + 40, 2);
        } else
                fprintf(f, "certificate must carry %s\n", rp->plan->wildcard);
}

static void text_platform(FILE *f, const struct report_platform *rp, time_t now, bool color) {
        const struct platform *p = rp->platform;
        size_t counts[3];
        int worst = platform_worst(rp->findings, counts);
        char verdict[16];

        /* The verdict first, then why, then the detail. */
        upper(verdict, worst > SEVERITY_INFO ? severity_to_string((enum severity)worst) : "ok", sizeof(verdict));
        fprintf(f, "%s%s %s%s: %s%s%s (%zu critical, %zu warning, %zu info)\n", color ? "\033[1m" : "",
                p->kind == PLATFORM_HOST ? "Host" : "Platform", p->name, color ? RESET : "",
                color ? (worst > SEVERITY_INFO ? severity_color((enum severity)worst) : GREEN) : "", verdict,
                color ? RESET : "", counts[SEVERITY_CRITICAL], counts[SEVERITY_WARNING], counts[SEVERITY_INFO]);
        if (p->kind == PLATFORM_HOST)
                fprintf(f, "  %s port %u; certificate must cover it%s%s\n", p->base_domain, (unsigned)p->port,
                        rp->plan->wildcard ? " and carry " : "", rp->plan->wildcard ? rp->plan->wildcard : "");
        else
                text_platform_plan(f, rp);

        if (rp->findings->n == 0)
                fprintf(f, "\n  %sNo findings.%s\n", color ? GREEN : "", color ? RESET : "");
        else {
                fputc('\n', f);
                text_findings(f, rp->findings, color);
        }
        text_table(f, rp, now);
        /* A host has no DNS facts: only its own name was resolved. */
        if (p->kind != PLATFORM_HOST)
                text_dns(f, rp);
        fputc('\n', f);
}

/* certvigil check reports hosts, not platforms. */
static bool text_hosts_only(const struct report_totals *t) {
        return t->n_platforms > 0 && t->n_hosts == t->n_platforms;
}

static int text_status(FILE *f, const struct report_totals *t, bool color) {
        fprintf(f, "Status: %s%s%s (%zu critical, %zu warning, %zu info) in %llu ms; %zu of %zu %s%s %s\n",
                color ? (t->worst > SEVERITY_INFO ? severity_color((enum severity)t->worst) : GREEN) : "",
                report_totals_status(t), color ? RESET : "", t->counts[SEVERITY_CRITICAL],
                t->counts[SEVERITY_WARNING], t->counts[SEVERITY_INFO],
                (unsigned long long)(t->duration_usec / USEC_PER_MSEC), t->attention, t->n_platforms,
                text_hosts_only(t) ? "host" : "platform", t->n_platforms == 1 ? "" : "s",
                t->attention == 1 ? "needs attention" : "need attention");
        return ferror(f) ? -EIO : 0;
}

static int text_head(FILE *f, const struct report_totals *t, bool color) {
        char when[RFC3339_MAX];

        fprintf(f, "certvigil %s %s, %s\n", PACKAGE_VERSION, text_hosts_only(t) ? "check" : "audit",
                format_rfc3339(t->started, when));
        text_status(f, t, color);
        fputc('\n', f);
        return ferror(f) ? -EIO : 0;
}

static int text_part(FILE *f, void **state, const struct report_platform *rp, const struct report_part *part) {
        text_platform(f, rp, part->now, part->color);
        return ferror(f) ? -EIO : 0;
}

/* Again at the end, where a long report's reader arrives. */
static int text_tail(FILE *f, void **state, const struct report_totals *t, bool color) {
        return text_status(f, t, color);
}

const struct report_writer report_writer_text = {
        .name = "text",
        .head = text_head,
        .platform = text_part,
        .tail = text_tail,
};
