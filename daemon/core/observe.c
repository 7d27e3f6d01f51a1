/* Releasing observations; the structs themselves are plain data. */
#include <string.h>

#include "observe.h"
#include "util.h"

const char *dns_status_to_string(enum dns_status s) {
        static const char *const names[] = {
                [DNS_STATUS_OK] = "ok",
                [DNS_STATUS_NXDOMAIN] = "NXDOMAIN",
                [DNS_STATUS_NODATA] = "no address",
                [DNS_STATUS_SERVFAIL] = "SERVFAIL",
                [DNS_STATUS_REFUSED] = "REFUSED",
                [DNS_STATUS_TIMEOUT] = "timeout",
                [DNS_STATUS_ERROR] = "error",
                [DNS_STATUS_NOT_RUN] = "not run",
        };
        return (size_t)s < ELEMENTSOF(names) ? names[s] : "unknown";
}

void ari_obs_done(struct ari_obs *o) {
        free(o->cert_id);
        free(o->explanation);
        free(o->error);
        *o = (struct ari_obs){ 0 };
}

void ctlog_obs_done(struct ctlog_obs *o) {
        free(o->url);
        free(o->error);
        *o = (struct ctlog_obs){ 0 };
}

void rdap_obs_done(struct rdap_obs *o) {
        free(o->domain);
        free(o->url);
        free(o->error);
        *o = (struct rdap_obs){ 0 };
}

void certmanager_obs_done(struct certmanager_obs *o) {
        free(o->ready);
        free(o->ready_reason);
        free(o->ready_message);
        free(o->renewal_time);
        free(o->last_failure_time);
        *o = (struct certmanager_obs){ 0 };
}

void cert_obs_done(struct cert_obs *c) {
        free(c->subject);
        free(c->issuer);
        free(c->serial);
        free(c->sha256);
        strv_free(c->san);
        strv_free(c->ip_san);
        free(c->key);
        free(c->sig_algo);
        free(c->sig_hash);
        free(c->aia_ca_issuers);
        free(c->crl_url);
        free(c->scts_error);
        for (size_t i = 0; i < c->n_scts; i++)
                free(c->scts[i].log_id);
        free(c->scts);
        free(c->der);
        *c = (struct cert_obs){ 0 };
}

static char *dup_or_null(const char *s) {
        return s ? xstrdup(s) : NULL;
}

void cert_obs_copy(struct cert_obs *dst, const struct cert_obs *src) {
        *dst = *src;
        dst->subject = dup_or_null(src->subject);
        dst->issuer = dup_or_null(src->issuer);
        dst->serial = dup_or_null(src->serial);
        dst->sha256 = dup_or_null(src->sha256);
        dst->san = strv_copy(src->san);
        dst->ip_san = strv_copy(src->ip_san);
        dst->key = dup_or_null(src->key);
        dst->sig_algo = dup_or_null(src->sig_algo);
        dst->sig_hash = dup_or_null(src->sig_hash);
        dst->aia_ca_issuers = dup_or_null(src->aia_ca_issuers);
        dst->crl_url = dup_or_null(src->crl_url);
        dst->scts_error = dup_or_null(src->scts_error);
        dst->scts = src->n_scts ? xcalloc(src->n_scts, sizeof(struct sct_obs)) : NULL;
        for (size_t i = 0; i < src->n_scts; i++)
                dst->scts[i] = (struct sct_obs){ .log_id = xstrdup(src->scts[i].log_id),
                                                 .timestamp = src->scts[i].timestamp };
        dst->der = src->der ? xmalloc(src->der_len ? src->der_len : 1) : NULL;
        if (src->der)
                memcpy(dst->der, src->der, src->der_len);
}

void fetch_obs_done(struct fetch_obs *f) {
        free(f->url);
        free(f->error);
        *f = (struct fetch_obs){ 0 };
}

void name_obs_done(struct name_obs *n) {
        free(n->name);
        free(n->error);
        strv_free(n->addresses);
        *n = (struct name_obs){ 0 };
}

void endpoint_obs_done(struct endpoint_obs *e) {
        free(e->name);
        free(e->address);
        free(e->error);
        free(e->connected_to);
        free(e->tls_version);
        free(e->cipher_suite);
        free(e->kx_group);
        free(e->kx);
        free(e->server_suite);
        free(e->alpn);
        free(e->legacy_detail);
        fetch_obs_done(&e->aia);
        if (e->aia_cert) {
                cert_obs_done(e->aia_cert);
                free(e->aia_cert);
        }
        fetch_obs_done(&e->crl);
        free(e->crl_detail);
        for (size_t i = 0; !e->chain_borrowed && i < e->n_chain; i++)
                cert_obs_done(&e->chain[i]);
        if (!e->chain_borrowed)
                free(e->chain);
        free(e->verify_error);
        *e = (struct endpoint_obs){ 0 };
}

static void answer_obs_done(struct dns_answer_obs *a) {
        free(a->source);
        free(a->error);
        strv_free(a->addresses);
        *a = (struct dns_answer_obs){ 0 };
}

static void zone_obs_done(struct dns_zone_obs *z) {
        free(z->queried);
        free(z->zone);
        free(z->error);
        strv_free(z->ns);
        free(z->ns_error);
        for (size_t i = 0; i < z->n_servers; i++) {
                free(z->servers[i].ns);
                free(z->servers[i].address);
                free(z->servers[i].error);
        }
        free(z->servers);
        *z = (struct dns_zone_obs){ 0 };
}

const char *dnssec_state_to_string(enum dnssec_state s) {
        switch (s) {
        case DNSSEC_NOT_RUN:
                return "not run";
        case DNSSEC_SECURE:
                return "secure";
        case DNSSEC_INSECURE:
                return "insecure";
        case DNSSEC_BOGUS:
                return "bogus";
        case DNSSEC_FAILED:
                return "failed";
        }
        return "unknown";
}

static void dnssec_obs_done(struct dnssec_obs *o) {
        free(o->trust_anchor);
        free(o->anchor_zone);
        free(o->error);
        for (size_t i = 0; i < o->n_answers; i++) {
                struct dnssec_answer_obs *a = &o->answers[i];
                free(a->name);
                free(a->why_bogus);
                free(a->error);
                free(a->rrsig_over);
                free(a->rrsig_signer);
        }
        free(o->answers);
        *o = (struct dnssec_obs){ 0 };
}

void dns_obs_done(struct dns_obs *d) {
        dnssec_obs_done(&d->dnssec);
        free(d->error);
        free(d->wildcard_probe_name);
        answer_obs_done(&d->wildcard_probe);
        for (size_t i = 0; i < d->n_names; i++) {
                free(d->names[i].name);
                for (size_t j = 0; j < d->names[i].n_answers; j++)
                        answer_obs_done(&d->names[i].answers[j]);
                free(d->names[i].answers);
        }
        free(d->names);
        zone_obs_done(&d->names_zone);
        free(d->caa_error);
        free(d->caa_name);
        for (size_t i = 0; i < d->n_caa; i++) {
                free(d->caa[i].tag);
                free(d->caa[i].value);
        }
        free(d->caa);
        zone_obs_done(&d->dns01_zone);
        strv_free(d->cname_chain);
        free(d->cname_error);
        free(d->effective_challenge);
        zone_obs_done(&d->challenge_zone);
        free(d->txt_error);
        strv_free(d->txt);
        *d = (struct dns_obs){ 0 };
}

struct platform_obs *platform_obs_free(struct platform_obs *o) {
        if (!o)
                return NULL;
        for (size_t i = 0; i < o->n_names; i++)
                name_obs_done(&o->names[i]);
        free(o->names);
        for (size_t i = 0; i < o->n_endpoints; i++)
                endpoint_obs_done(&o->endpoints[i]);
        free(o->endpoints);
        dns_obs_done(&o->dns);
        free(o);
        return NULL;
}

/* What state and journal read (alert.c judged(), record_certs,
 * the journal's certificate facts) and nothing more: chains, DNS answers and HTTP
 * fetches are most of an audit's memory and are done with once reported. */
struct platform_obs *platform_obs_summary(const struct platform_obs *o) {
        struct platform_obs *s = xcalloc(1, sizeof(*s));

        s->started = o->started;
        s->duration_usec = o->duration_usec;
        s->n_names = o->n_names;
        s->names = xcalloc(o->n_names + 1, sizeof(*s->names));
        for (size_t i = 0; i < o->n_names; i++)
                s->names[i] = (struct name_obs){ .service = o->names[i].service,
                                                 .name = xstrdup(o->names[i].name),
                                                 .status = o->names[i].status };
        s->n_endpoints = o->n_endpoints;
        s->endpoints = xcalloc(o->n_endpoints + 1, sizeof(*s->endpoints));
        for (size_t i = 0; i < o->n_endpoints; i++) {
                const struct endpoint_obs *e = &o->endpoints[i];
                struct endpoint_obs *d = &s->endpoints[i];
                *d = (struct endpoint_obs){ .name = xstrdup(e->name), .service = e->service,
                                            .address = xstrdup(e->address), .port = e->port,
                                            .status = e->status, .verified = e->verified };
                if (e->n_chain == 0)
                        continue;
                d->chain = xcalloc(1, sizeof(*d->chain));
                d->n_chain = 1;
                d->chain[0] = (struct cert_obs){ .subject = dup_or_null(e->chain[0].subject),
                                                 .issuer = dup_or_null(e->chain[0].issuer),
                                                 .sha256 = dup_or_null(e->chain[0].sha256),
                                                 .not_after = e->chain[0].not_after };
        }
        return s;
}

void chain_walk(const struct endpoint_obs *e, struct chain_walk *w) {
        bool used[16] = { false };
        size_t n = e->n_chain < ELEMENTSOF(used) ? e->n_chain : ELEMENTSOF(used), cur = 0;

        *w = (struct chain_walk){ .in_order = true };
        if (n == 0)
                return;
        used[0] = true;
        w->path[w->n_path++] = 0;
        for (;;) {
                const struct cert_obs *c = &e->chain[cur];
                size_t next = n;
                if (c->self_issued)
                        break;
                /* Every certificate is used at most once, so this ends. */
                for (size_t j = 0; j < n; j++)
                        if (!used[j] && strcmp(e->chain[j].subject, c->issuer) == 0) {
                                next = j;
                                break;
                        }
                if (next == n)
                        break;
                used[next] = true;
                if (next != w->n_path)
                        w->in_order = false;
                w->path[w->n_path++] = next;
                cur = next;
        }
        w->last = cur;
        w->complete = e->chain[cur].self_issued || e->chain[cur].issuer_is_anchor;
        w->leaf_issuer_missing = !w->complete && cur == 0;
        for (size_t j = 0; j < n; j++)
                if (!used[j])
                        w->n_unused++;
        w->n_unused += e->n_chain - n;
}
