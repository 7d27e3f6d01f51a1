/* The JSON report, format 1. Later versions add fields; the ones here never
 * change meaning. */
#include <assert.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "checks.h"
#include "report.h"
#include "util.h"

/* The report's "format": 2 added endpoints[].handshake ("full" or
 * "certificate-only"); 3 made a finding one problem (one per root cause,
 * with affected and caused_by) instead of one per endpoint; 4 added
 * platforms[].kind ("platform", or "host" from certvigil check, whose
 * wildcard and challenge_name may be null and which has no "dns"). */
#define JSON_FORMAT 4

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

/* The embedded SCTs: null when the certificate has no SCT list. */
static json_t *json_scts(const struct cert_obs *c) {
        json_t *a;

        if (!c->has_scts)
                return json_null();
        a = json_array();
        for (size_t i = 0; i < c->n_scts; i++)
                json_array_append_new(a, json_pack("{s:s, s:o}", "log_id", c->scts[i].log_id, "timestamp",
                                                   json_time(c->scts[i].timestamp)));
        return a;
}

static json_t *json_certificate(const struct endpoint_obs *e, time_t now) {
        const struct cert_obs *c = &e->chain[0];
        json_t *o = json_pack("{s:s, s:s, s:s, s:o, s:o, s:o, s:s, s:o, s:s, s:b}",
                              "subject", c->subject, "issuer", c->issuer, "serial", c->serial,
                              "not_before", json_time(c->not_before), "not_after", json_time(c->not_after),
                              "days_left", json_days(days_until(c->not_after, now)), "sha256", c->sha256,
                              "san", json_strv(c->san), "key", c->key, "verified", e->verified);
        json_object_set_new(o, "scts", json_scts(c));
        if (c->scts_error)
                json_object_set_new(o, "scts_error", json_string(c->scts_error));
        return o;
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
        case CRL_STALE:
                return "stale";
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

/* The certificates as served, leaf (or whatever came first) first. */
static void json_endpoint_chain(json_t *o, const struct endpoint_obs *e) {
        json_t *chain = json_array();

        for (size_t i = 0; i < e->n_chain; i++)
                json_array_append_new(chain, json_chain_cert(&e->chain[i]));
        json_object_set_new(o, "chain", chain);
        json_object_set_new(o, "chain_served", json_pack("{s:i, s:i}", "certificates", (json_int_t)e->n_served, "bytes",
                                                         (json_int_t)e->served_bytes));
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
        if (e->no_shared_cipher) {
                json_object_set_new(o, "no_shared_cipher", json_true());
                json_object_set_new(o, "server_suite", e->server_suite ? json_string(e->server_suite) : json_null());
        }
        /* A failed handshake may still have received certificates (a CA
         * certificate served first): they are what explains it. */
        if (e->status == ENDPOINT_HANDSHAKE_FAILED && e->n_chain > 0)
                json_endpoint_chain(o, e);
        if (e->status == ENDPOINT_OK) {
                json_object_set_new(o, "handshake", json_string(e->handshake == HANDSHAKE_CERTIFICATE_ONLY
                                                                        ? "certificate-only" : "full"));
                json_object_set_new(o, "tls_version", json_string(e->tls_version ? e->tls_version : ""));
                json_object_set_new(o, "cipher_suite", json_string(e->cipher_suite ? e->cipher_suite : ""));
                json_object_set_new(o, "key_exchange", e->kx ? json_string(e->kx) : json_null());
                json_object_set_new(o, "key_exchange_group", e->kx_group ? json_string(e->kx_group) : json_null());
                json_object_set_new(o, "key_exchange_bits",
                                    e->kx_bits ? json_integer((json_int_t)e->kx_bits) : json_null());
                json_object_set_new(o, "alpn", e->alpn ? json_string(e->alpn) : json_null());
                json_object_set_new(o, "ocsp_stapled", json_boolean(e->ocsp_stapled));
                if (e->n_chain > 0)
                        json_object_set_new(o, "certificate", json_certificate(e, now));
                json_endpoint_chain(o, e);
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
        if (f->silenced)
                json_object_set_new(o, "silenced", json_pack("{s:s, s:o}", "reason", f->silenced, "until",
                                                             json_time(f->silenced_until)));
        /* Format 3: one finding per root cause, and the endpoints it affects. */
        json_t *affected = json_array();
        for (size_t i = 0; i < f->n_affected; i++) {
                const struct finding_target *t = &f->affected[i];
                json_t *a = json_pack("{s:s}", "name", t->name ? t->name : "");
                json_object_set_new(a, "address", t->address ? json_string(t->address) : json_null());
                json_object_set_new(a, "port", t->port ? json_integer(t->port) : json_null());
                json_array_append_new(affected, a);
        }
        json_object_set_new(o, "affected", affected);
        if (f->caused_by)
                json_object_set_new(o, "caused_by", json_string(f->caused_by->id));
        return o;
}

/* For answers that are not about addresses, "no address" would mislead. */
static const char *status_name(enum dns_status s) {
        return s == DNS_STATUS_NODATA ? "NODATA" : dns_status_to_string(s);
}

static json_t *json_answer(const struct dns_answer_obs *a) {
        json_t *o = json_pack("{s:s, s:b, s:s, s:o}", "source", a->source ? a->source : "", "authoritative",
                              a->authoritative, "status", dns_status_to_string(a->status), "addresses",
                              json_strv(a->addresses));
        if (a->error)
                json_object_set_new(o, "error", json_string(a->error));
        return o;
}

static json_t *json_zone(const struct dns_zone_obs *z) {
        json_t *servers = json_array();

        for (size_t i = 0; i < z->n_servers; i++) {
                const struct dns_server_obs *s = &z->servers[i];
                json_t *so = json_pack("{s:s, s:o, s:s, s:b}", "ns", s->ns, "address",
                                       s->address ? json_string(s->address) : json_null(), "status",
                                       status_name(s->status), "authoritative", s->authoritative);
                json_object_set_new(so, "serial", s->has_serial ? json_integer(s->serial) : json_null());
                if (s->error)
                        json_object_set_new(so, "error", json_string(s->error));
                json_array_append_new(servers, so);
        }
        json_t *o = json_pack("{s:s, s:o, s:s}", "queried", z->queried ? z->queried : "", "zone",
                              z->zone ? json_string(*z->zone ? z->zone : ".") : json_null(), "status",
                              status_name(z->status));
        if (z->error)
                json_object_set_new(o, "error", json_string(z->error));
        json_object_set_new(o, "ns", json_strv(z->ns));
        if (z->ns_error)
                json_object_set_new(o, "ns_error", json_string(z->ns_error));
        json_object_set_new(o, "servers", servers);
        return o;
}

/* What the DNS facts gatherer saw; the checks' verdicts are in findings. */
static const char *dnssec_purpose_name(enum dnssec_purpose p) {
        return p == DNSSEC_FOR_NAME ? "name" : p == DNSSEC_FOR_CHALLENGE ? "challenge" : "caa";
}

static json_t *json_dnssec(const struct dnssec_obs *d) {
        json_t *o = json_pack("{s:b, s:b, s:s}", "enabled", d->enabled, "ran", d->ran, "trust_anchor",
                              d->trust_anchor ? d->trust_anchor : "");
        json_t *answers = json_array();
        char when[RFC3339_MAX];

        json_object_set_new(o, "anchor_zone", d->anchor_zone ? json_string(d->anchor_zone) : json_null());
        if (d->ran)
                json_object_set_new(o, "anchor_served", json_boolean(d->anchor_usable));
        if (d->error)
                json_object_set_new(o, "error", json_string(d->error));
        for (size_t i = 0; i < d->n_answers; i++) {
                const struct dnssec_answer_obs *a = &d->answers[i];
                json_t *j = json_pack("{s:s, s:s, s:s, s:s}", "name", a->name, "type",
                                      a->type == 1 ? "A" : a->type == 16 ? "TXT" : "CAA", "for",
                                      dnssec_purpose_name(a->purpose), "status", dnssec_state_to_string(a->state));
                if (a->why_bogus)
                        json_object_set_new(j, "why_bogus", json_string(a->why_bogus));
                if (a->error)
                        json_object_set_new(j, "error", json_string(a->error));
                if (a->rrsig_expires) {
                        json_object_set_new(j, "rrsig_expires", json_string(format_rfc3339(a->rrsig_expires, when)));
                        json_object_set_new(j, "rrsig_over", json_string(a->rrsig_over ? a->rrsig_over : ""));
                        json_object_set_new(j, "rrsig_signer", json_string(a->rrsig_signer ? a->rrsig_signer : ""));
                }
                json_array_append_new(answers, j);
        }
        json_object_set_new(o, "answers", answers);
        return o;
}

static json_t *json_dns(const struct report_platform *rp) {
        const struct dns_obs *d = &rp->obs->dns;
        json_t *o = json_pack("{s:b}", "gathered", d->gathered);

        if (d->error)
                json_object_set_new(o, "error", json_string(d->error));
        if (!d->gathered)
                return o;

        json_t *probe = json_answer(&d->wildcard_probe);
        json_object_set_new(probe, "name", json_string(d->wildcard_probe_name ? d->wildcard_probe_name : ""));
        json_object_set_new(o, "wildcard_probe", probe);

        json_t *names = json_array();
        for (size_t i = 0; i < d->n_names; i++) {
                json_t *answers = json_array();
                for (size_t j = 0; j < d->names[i].n_answers; j++)
                        json_array_append_new(answers, json_answer(&d->names[i].answers[j]));
                json_array_append_new(names, json_pack("{s:s, s:o}", "name", d->names[i].name, "answers", answers));
        }
        json_object_set_new(o, "names", names);
        json_object_set_new(o, "names_zone", json_zone(&d->names_zone));

        json_t *records = json_array();
        for (size_t i = 0; i < d->n_caa; i++)
                json_array_append_new(records, json_pack("{s:i, s:s, s:s}", "flags", (json_int_t)d->caa[i].flags, "tag",
                                                         d->caa[i].tag, "value", d->caa[i].value));
        json_t *caa = json_pack("{s:s, s:o, s:o}", "status", status_name(d->caa_status), "found_at",
                                d->caa_name ? json_string(d->caa_name) : json_null(), "records", records);
        if (d->caa_error)
                json_object_set_new(caa, "error", json_string(d->caa_error));
        if (d->caa_status == DNS_STATUS_OK) {
                /* In every mode, so provided and selfsigned platforms see
                 * the policy they would meet if they moved to Let's Encrypt. */
                _cleanup_free_ char *why = NULL;
                bool ok = caa_permits(d->caa, d->n_caa, "letsencrypt.org", true, &why);
                json_object_set_new(caa, "letsencrypt_wildcard_permitted", json_boolean(ok));
                json_object_set_new(caa, "reason", json_string(why));
        }
        json_object_set_new(o, "caa", caa);

        if (d->dns01) {
                json_t *c = json_pack("{s:s, s:o, s:s}", "name", rp->plan->challenge_name, "cname_chain",
                                      json_strv(d->cname_chain), "cname_status", status_name(d->cname_status));
                if (d->cname_error)
                        json_object_set_new(c, "cname_error", json_string(d->cname_error));
                json_object_set_new(c, "effective_name",
                                    d->effective_challenge ? json_string(d->effective_challenge) : json_null());
                json_object_set_new(c, "zone", json_zone(&d->challenge_zone));
                if (rp->plan->dns01_zone)
                        json_object_set_new(c, "dns01_zone", json_zone(&d->dns01_zone));
                json_object_set_new(c, "txt_status", json_string(status_name(d->txt_status)));
                if (d->txt_error)
                        json_object_set_new(c, "txt_error", json_string(d->txt_error));
                json_object_set_new(c, "txt", json_strv(d->txt));
                json_object_set_new(c, "txt_count", json_integer((json_int_t)d->n_txt));
                json_object_set_new(o, "challenge", c);
        }
        json_object_set_new(o, "dnssec", json_dnssec(&d->dnssec));
        return o;
}

static void set_str(json_t *o, const char *key, const char *value) {
        json_object_set_new(o, key, value ? json_string(value) : json_null());
}

/* ARI's window and cert-manager's Certificate, as observed after the audit. */
static json_t *json_renewal(const struct report_platform *rp) {
        json_t *o;

        if (!rp->ari && !rp->cert_manager)
                return NULL;
        o = json_object();
        if (rp->ari) {
                json_t *a = json_object();
                set_str(a, "cert_id", rp->ari->cert_id);
                json_object_set_new(a, "window_start", rp->ari->window_start ? json_time(rp->ari->window_start) : json_null());
                json_object_set_new(a, "window_end", rp->ari->window_end ? json_time(rp->ari->window_end) : json_null());
                set_str(a, "explanation", rp->ari->explanation);
                json_object_set_new(a, "remembered", json_boolean(rp->ari->remembered));
                set_str(a, "error", rp->ari->error);
                json_object_set_new(o, "ari", a);
        }
        if (rp->cert_manager) {
                const struct certmanager_obs *c = rp->cert_manager;
                json_t *m = json_object();
                set_str(m, "ready", c->ready);
                set_str(m, "ready_reason", c->ready_reason);
                set_str(m, "ready_message", c->ready_message);
                set_str(m, "renewal_time", c->renewal_time);
                json_object_set_new(m, "failed_issuance_attempts", json_integer(c->failed_issuance_attempts));
                set_str(m, "last_failure_time", c->last_failure_time);
                json_object_set_new(m, "issuing", json_boolean(c->issuing));
                json_object_set_new(o, "cert_manager", m);
        }
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

        json_t *o = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s?, s:s?}", "name", p->name, "kind",
                              p->kind == PLATFORM_HOST ? "host" : "platform", "base_domain", p->base_domain,
                              "separator", sep, "tls_mode", tls_mode_to_string(p->tls_mode), "wildcard",
                              plan->wildcard, "challenge_name", plan->challenge_name);
        if (plan->dns01_zone)
                json_object_set_new(o, "dns01_zone", json_string(plan->dns01_zone));
        json_object_set_new(o, "duration_ms", json_integer((json_int_t)(rp->obs->duration_usec / USEC_PER_MSEC)));
        json_object_set_new(o, "names", names);
        json_object_set_new(o, "endpoints", endpoints);
        /* A host (certvigil check) has no DNS facts: "dns" is absent. */
        if (p->kind != PLATFORM_HOST)
                json_object_set_new(o, "dns", json_dns(rp));
        json_t *renewal = json_renewal(rp);
        if (renewal)
                json_object_set_new(o, "renewal", renewal);
        if (rp->rdap) {
                json_t *d = json_object();
                set_str(d, "registrable_domain", rp->rdap->domain);
                set_str(d, "rdap_url", rp->rdap->url);
                json_object_set_new(d, "expires", rp->rdap->expires ? json_time(rp->rdap->expires) : json_null());
                json_object_set_new(d, "remembered", json_boolean(rp->rdap->remembered));
                set_str(d, "error", rp->rdap->error);
                json_object_set_new(o, "domain", d);
        }
        if (rp->ctlog) {
                json_t *c = json_pack("{s:s, s:I, s:I, s:I}", "url", rp->ctlog->url, "certificates",
                                      (json_int_t)rp->ctlog->certificates, "recent", (json_int_t)rp->ctlog->recent,
                                      "same_names_max", (json_int_t)rp->ctlog->same_names_max);
                set_str(c, "error", rp->ctlog->error);
                json_object_set_new(o, "ct_log", c);
        }
        json_object_set_new(o, "findings", findings);
        return o;
}

/* The report is written in parts (report.h): the head, each platform's
 * object as it finishes, then the tail; memory holds one platform's tree,
 * never the whole report (at 1,000 names the whole tree and its dump were
 * most of the heap). */
static int json_head(FILE *f, const struct report_totals *t, bool color) {
        _cleanup_free_ char *head = NULL;
        size_t n;

        json_t *root = json_pack("{s:i, s:s, s:o, s:i, s:s, s:{s:i, s:i, s:i}}", "format", JSON_FORMAT,
                                 "version", PACKAGE_VERSION, "started", json_time(t->started), "duration_ms",
                                 (json_int_t)(t->duration_usec / USEC_PER_MSEC), "status", report_totals_status(t),
                                 "summary", "critical", (json_int_t)t->counts[SEVERITY_CRITICAL], "warning",
                                 (json_int_t)t->counts[SEVERITY_WARNING], "info", (json_int_t)t->counts[SEVERITY_INFO]);
        if (!root)
                return -ENOMEM;
        head = json_dumps(root, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
        json_decref(root);
        if (!head)
                return -ENOMEM;
        /* The head object ends with "\n}": "platforms" continues it. */
        n = strlen(head);
        assert(n >= 2 && head[n - 2] == '\n' && head[n - 1] == '}');
        head[n - 2] = 0;
        fputs(head, f);
        fputs(t->n_platforms ? ",\n  \"platforms\": [\n" : ",\n  \"platforms\": []\n}\n", f);
        return ferror(f) ? -EIO : 0;
}

static int json_part(FILE *f, void **state, const struct report_platform *rp, const struct report_part *part) {
        json_t *o = json_platform(rp, part->now);
        int k = 0;

        if (part->index > 0)
                fputs(",\n", f);
        if (!o || json_dumpf(o, f, JSON_INDENT(2) | JSON_PRESERVE_ORDER) < 0)
                k = -ENOMEM;
        json_decref(o);
        return k < 0 ? k : ferror(f) ? -EIO : 0;
}

static int json_tail(FILE *f, void **state, const struct report_totals *t, bool color) {
        if (t->n_platforms)
                fputs("\n  ]\n}\n", f);
        return ferror(f) ? -EIO : 0;
}

int report_json_platform(const struct report_platform *rp, time_t now, char **ret) {
        json_t *o = json_platform(rp, now);
        char *text;

        if (!o)
                return -ENOMEM;
        text = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
        json_decref(o);
        if (!text)
                return -ENOMEM;
        *ret = text;
        return 0;
}

int report_json_join(char *const *platforms, size_t n, time_t started, uint64_t duration_usec,
                     const size_t counts[3], char **ret, size_t *ret_len) {
        json_t *list = json_array(), *root;
        char *text;

        if (!list)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++) {
                json_t *o = json_loads(platforms[i], 0, NULL);
                if (!o || json_array_append_new(list, o) < 0) {
                        json_decref(list);
                        return -EINVAL;
                }
        }
        root = json_pack("{s:i, s:s, s:o, s:i, s:s, s:{s:i, s:i, s:i}, s:o}", "format", JSON_FORMAT,
                         "version", PACKAGE_VERSION, "started", json_time(started), "duration_ms", (json_int_t)(duration_usec / USEC_PER_MSEC),
                         "status",
                         counts[SEVERITY_CRITICAL] ? "critical" : counts[SEVERITY_WARNING] ? "warning" : "ok",
                         "summary", "critical", (json_int_t)counts[SEVERITY_CRITICAL], "warning",
                         (json_int_t)counts[SEVERITY_WARNING], "info", (json_int_t)counts[SEVERITY_INFO],
                         "platforms", list);
        if (!root)
                return -ENOMEM;
        text = json_dumps(root, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
        json_decref(root);
        if (!text)
                return -ENOMEM;
        *ret = text;
        *ret_len = strlen(text);
        return 0;
}

const struct report_writer report_writer_json = {
        .name = "json",
        .head = json_head,
        .platform = json_part,
        .tail = json_tail,
};
