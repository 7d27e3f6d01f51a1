/* The JSON report, format 1. Later versions add fields; the ones here never
 * change meaning. */
#include <errno.h>
#include <math.h>
#include <string.h>

#include <jansson.h>

#include "checks.h"
#include "report.h"
#include "util.h"

static json_t *json_time(time_t t) {
        char buf[RFC3339_MAX];
        return json_string(format_rfc3339(t, buf));
}

static json_t *json_strv(char *const *v) {
        json_t *a = json_array();
        for (size_t i = 0; v && v[i]; i++)
                json_array_append_new(a, json_string(v[i]));
        return a;
}

/* Days with one decimal, as people read them. */
static json_t *json_days(double d) {
        return json_real(round(d * 10.0) / 10.0);
}

static json_t *json_certificate(const struct endpoint_obs *e, time_t now) {
        const struct cert_obs *c = &e->chain[0];
        return json_pack("{s:s, s:s, s:s, s:o, s:o, s:o, s:s, s:o, s:s, s:b}",
                         "subject", c->subject, "issuer", c->issuer, "serial", c->serial,
                         "not_before", json_time(c->not_before), "not_after", json_time(c->not_after),
                         "days_left", json_days(days_until(c->not_after, now)), "sha256", c->sha256,
                         "san", json_strv(c->san), "key", c->key, "verified", e->verified);
}

static json_t *json_chain_cert(const struct cert_obs *c) {
        return json_pack("{s:s, s:s, s:s, s:o, s:o, s:s, s:s, s:s}", "subject", c->subject, "issuer", c->issuer,
                         "serial", c->serial, "not_before", json_time(c->not_before), "not_after",
                         json_time(c->not_after), "sha256", c->sha256, "key", c->key, "signature_algorithm",
                         c->sig_algo ? c->sig_algo : "unknown");
}

static json_t *json_fetch(const struct fetch_obs *f) {
        json_t *o = json_pack("{s:s, s:i, s:i}", "url", f->url, "http_status", (json_int_t)f->http_status, "size",
                              (json_int_t)f->size);
        if (f->error)
                json_object_set_new(o, "error", json_string(f->error));
        return o;
}

static const char *legacy_string(enum legacy_status s) {
        return s == LEGACY_ACCEPTED ? "accepted" : s == LEGACY_REFUSED ? "refused" : "not-probed";
}

static const char *crl_string(enum crl_status s) {
        switch (s) {
        case CRL_GOOD:
                return "good";
        case CRL_REVOKED:
                return "revoked";
        case CRL_UNKNOWN:
                return "unknown";
        case CRL_NOT_CHECKED:
                break;
        }
        return "not-checked";
}

static const char *endpoint_status_string(enum endpoint_status s) {
        switch (s) {
        case ENDPOINT_OK:
                return "ok";
        case ENDPOINT_CONNECT_FAILED:
                return "connect-failed";
        case ENDPOINT_HANDSHAKE_FAILED:
                return "handshake-failed";
        case ENDPOINT_NOT_RUN:
                return "not-run";
        }
        return "unknown";
}

static json_t *json_endpoint(const struct endpoint_obs *e, time_t now) {
        json_t *o = json_pack("{s:s, s:s, s:i, s:s, s:i}", "name", e->name, "address", e->address, "port",
                              (json_int_t)e->port, "status", endpoint_status_string(e->status), "duration_ms",
                              (json_int_t)(e->duration_usec / USEC_PER_MSEC));
        if (e->connected_to) {
                /* address is what DNS said; this is where we connected. */
                json_object_set_new(o, "resolved_address", json_string(e->address));
                json_object_set_new(o, "connected_to", json_string(e->connected_to));
                json_object_set_new(o, "connected_port", json_integer((json_int_t)e->connected_port));
        }
        if (e->error)
                json_object_set_new(o, "error", json_string(e->error));
        if (e->status == ENDPOINT_OK) {
                json_t *chain = json_array();
                json_object_set_new(o, "tls_version", json_string(e->tls_version ? e->tls_version : ""));
                json_object_set_new(o, "cipher_suite", json_string(e->cipher_suite ? e->cipher_suite : ""));
                json_object_set_new(o, "key_exchange_group", e->kx_group ? json_string(e->kx_group) : json_null());
                json_object_set_new(o, "alpn", e->alpn ? json_string(e->alpn) : json_null());
                json_object_set_new(o, "ocsp_stapled", json_boolean(e->ocsp_stapled));
                if (e->n_chain > 0)
                        json_object_set_new(o, "certificate", json_certificate(e, now));
                for (size_t i = 0; i < e->n_chain; i++)
                        json_array_append_new(chain, json_chain_cert(&e->chain[i]));
                json_object_set_new(o, "chain", chain);
                json_object_set_new(o, "chain_served", json_pack("{s:i, s:i}", "certificates", (json_int_t)e->n_served,
                                                                 "bytes", (json_int_t)e->served_bytes));
                json_object_set_new(o, "verified", json_boolean(e->verified));
                if (e->verify_error)
                        json_object_set_new(o, "verify_error", json_string(e->verify_error));
                if (e->legacy != LEGACY_NOT_PROBED || e->legacy_detail) {
                        json_t *l = json_pack("{s:s}", "status", legacy_string(e->legacy));
                        if (e->legacy_detail)
                                json_object_set_new(l, "detail", json_string(e->legacy_detail));
                        json_object_set_new(o, "legacy_tls", l);
                }
                if (e->aia.url) {
                        json_t *f = json_fetch(&e->aia);
                        if (e->aia_cert)
                                json_object_set_new(f, "certificate", json_chain_cert(e->aia_cert));
                        json_object_set_new(o, "aia_ca_issuers", f);
                }
                if (e->crl.url) {
                        json_t *f = json_fetch(&e->crl);
                        json_object_set_new(f, "status", json_string(crl_string(e->crl_status)));
                        if (e->crl_detail)
                                json_object_set_new(f, "detail", json_string(e->crl_detail));
                        json_object_set_new(o, "crl", f);
                }
        }
        return o;
}

static json_t *json_finding(const struct finding *f) {
        json_t *o = json_pack("{s:s, s:s}", "id", f->def->id, "severity", severity_to_string(f->severity));
        if (f->name)
                json_object_set_new(o, "name", json_string(f->name));
        if (f->address)
                json_object_set_new(o, "address", json_string(f->address));
        json_object_set_new(o, "message", json_string(f->message));
        return o;
}

static json_t *json_platform(const struct report_platform *rp, time_t now) {
        const struct platform *p = rp->platform;
        const struct plan *plan = rp->plan;
        char sep[2] = { p->separator, 0 };
        json_t *names = json_array(), *endpoints = json_array(), *findings = json_array();

        for (size_t i = 0; i < rp->obs->n_names; i++) {
                const struct name_obs *n = &rp->obs->names[i];
                json_t *o = json_pack("{s:s, s:s, s:s, s:o}", "service", service_to_string(n->service), "name",
                                      n->name, "status", dns_status_to_string(n->status), "addresses",
                                      json_strv(n->addresses));
                if (n->error)
                        json_object_set_new(o, "error", json_string(n->error));
                json_array_append_new(names, o);
        }
        for (size_t i = 0; i < rp->obs->n_endpoints; i++)
                json_array_append_new(endpoints, json_endpoint(&rp->obs->endpoints[i], now));
        for (size_t i = 0; i < rp->findings->n; i++)
                json_array_append_new(findings, json_finding(&rp->findings->items[i]));

        json_t *o = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s}", "name", p->name, "base_domain", p->base_domain,
                              "separator", sep, "tls_mode", tls_mode_to_string(p->tls_mode), "wildcard",
                              plan->wildcard, "challenge_name", plan->challenge_name);
        if (plan->dns01_zone)
                json_object_set_new(o, "dns01_zone", json_string(plan->dns01_zone));
        json_object_set_new(o, "duration_ms", json_integer((json_int_t)(rp->obs->duration_usec / USEC_PER_MSEC)));
        json_object_set_new(o, "names", names);
        json_object_set_new(o, "endpoints", endpoints);
        json_object_set_new(o, "findings", findings);
        return o;
}

int report_json(const struct report *r, char **ret, size_t *ret_len) {
        size_t counts[3];
        json_t *platforms = json_array();

        report_count(r, counts);
        for (size_t i = 0; i < r->n_platforms; i++)
                json_array_append_new(platforms, json_platform(&r->platforms[i], r->now));

        json_t *root = json_pack("{s:i, s:s, s:o, s:i, s:s, s:{s:i, s:i, s:i}, s:o}", "format", 1, "version",
                                 PACKAGE_VERSION, "started", json_time(r->started), "duration_ms",
                                 (json_int_t)(r->duration_usec / USEC_PER_MSEC), "status", report_status_string(r),
                                 "summary", "critical", (json_int_t)counts[SEVERITY_CRITICAL], "warning",
                                 (json_int_t)counts[SEVERITY_WARNING], "info", (json_int_t)counts[SEVERITY_INFO],
                                 "platforms", platforms);
        if (!root)
                return -ENOMEM;
        char *s = json_dumps(root, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
        json_decref(root);
        if (!s)
                return -ENOMEM;
        size_t n = strlen(s);
        *ret = xrealloc(s, n + 2);
        (*ret)[n] = '\n';
        (*ret)[n + 1] = 0;
        *ret_len = n + 1;
        return 0;
}
