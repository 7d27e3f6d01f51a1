/* Releasing observations; the structs themselves are plain data. */
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

void cert_obs_done(struct cert_obs *c) {
        free(c->subject);
        free(c->issuer);
        free(c->serial);
        free(c->sha256);
        strv_free(c->san);
        free(c->key);
        free(c->der);
        *c = (struct cert_obs){ 0 };
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
        free(e->tls_version);
        for (size_t i = 0; i < e->n_chain; i++)
                cert_obs_done(&e->chain[i]);
        free(e->chain);
        free(e->verify_error);
        *e = (struct endpoint_obs){ 0 };
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
        free(o);
        return NULL;
}
