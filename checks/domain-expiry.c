/* domain.expiry.warning and domain.expiry.critical: a domain that lapses
 * takes every name, the DNS-01 zone and the certificate with it, whatever
 * the certificate's own dates say. See domain-expiry.h. */
#include <errno.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>

#include "checks.h"
#include "domain-expiry.h"
#include "tls-ari.h"
#include "util.h"

static const struct finding_def findings[] = {
#define DOMAIN_WARNING (&findings[0])
        { "domain.expiry.warning", SEVERITY_WARNING, "1f8631e66892476b814071e3f2a989e1",
          "the registrable domain's registration expires within domain_warn_days" },
#define DOMAIN_CRITICAL (&findings[1])
        { "domain.expiry.critical", SEVERITY_CRITICAL, "f5ea89b015d1485d8af9d8716b0e4790",
          "the registrable domain's registration expires within domain_critical_days or has expired" },
};

/* In the catalog; emitted by daemon/renew/rdap.c after the audit. */
const struct check check_domain_expiry = {
        .name = "domain.expiry",
        .findings = findings,
        .n_findings = ELEMENTSOF(findings),
        .run = NULL,
};

int rdap_expiration_parse(const char *body, size_t len, time_t *ret, char **ret_error) {
        json_t *o = json_loadb(body, len, 0, NULL), *events, *ev;
        size_t i;
        int r = -ENOENT;

        if (!json_is_object(o)) {
                *ret_error = xstrdup("the RDAP answer is not a JSON object");
                json_decref(o);
                return -EINVAL;
        }
        events = json_object_get(o, "events");
        json_array_foreach(events, i, ev) {
                const char *action = json_string_value(json_object_get(ev, "eventAction"));
                const char *date = json_string_value(json_object_get(ev, "eventDate"));
                if (!action || strcasecmp(action, "expiration") != 0)
                        continue;
                if (!date || rfc3339_parse(date, ret) < 0) {
                        *ret_error = xstrdup("the RDAP expiration event has no valid eventDate");
                        r = -EINVAL;
                } else
                        r = 0;
                break;
        }
        if (r == -ENOENT)
                *ret_error = xstrdup("the RDAP answer has no expiration event");
        json_decref(o);
        return r;
}

/* entry is a label suffix of domain ("com" of "example.com"). */
static bool suffix_of(const char *entry, const char *domain) {
        size_t n = strlen(entry), m = strlen(domain);
        return n > 0 && n <= m && strcasecmp(domain + m - n, entry) == 0 && (n == m || domain[m - n - 1] == '.');
}

int rdap_bootstrap_lookup(const char *json, size_t len, const char *domain, char **ret, char **ret_error) {
        json_t *o = json_loadb(json, len, 0, NULL), *services, *svc;
        const char *best = NULL;
        size_t best_len = 0, i;

        services = json_object_get(o, "services");
        if (!json_is_array(services)) {
                *ret_error = xstrdup("not an RDAP bootstrap file (no services array)");
                json_decref(o);
                return -EINVAL;
        }
        json_array_foreach(services, i, svc) {
                json_t *entries = json_array_get(svc, 0), *urls = json_array_get(svc, 1), *x;
                const char *url = NULL;
                size_t j;
                json_array_foreach(urls, j, x) {
                        const char *u = json_string_value(x);
                        if (u && strncmp(u, "https://", 8) == 0) {
                                url = u;
                                break;
                        }
                }
                json_array_foreach(entries, j, x) {
                        const char *e = json_string_value(x);
                        if (url && e && suffix_of(e, domain) && strlen(e) > best_len) {
                                best = url;
                                best_len = strlen(e);
                        }
                }
        }
        if (best)
                *ret = xstrdup(best);
        json_decref(o);
        return best ? 0 : -ENOENT;
}

void domain_expiry_judge(const char *domain, time_t expires, time_t now, unsigned warn_days, unsigned critical_days,
                         struct finding_list *out) {
        double left = days_until(expires, now);
        char when[RFC3339_MAX];

        if (left >= (double)warn_days && left >= (double)critical_days)
                return;
        format_rfc3339(expires, when);
        if (left < 0)
                finding_emit(out, DOMAIN_CRITICAL, NULL, NULL,
                             "the registration of %s expired %s (%.1f days ago, per its registry's RDAP server): "
                             "renew it at the registrar now, before the registry releases it",
                             domain, when, -left);
        else if (left < (double)critical_days)
                finding_emit(out, DOMAIN_CRITICAL, NULL, NULL,
                             "the registration of %s expires %s (in %.1f days, per its registry's RDAP server); "
                             "every name, the DNS-01 zone and the certificate go with it: renew it at the registrar",
                             domain, when, left);
        else
                finding_emit(out, DOMAIN_WARNING, NULL, NULL,
                             "the registration of %s expires %s (in %.1f days, per its registry's RDAP server): "
                             "renew it or turn on auto-renewal at the registrar",
                             domain, when, left);
}
