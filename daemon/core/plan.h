/* The plan: what a platform's settings imply on the wire. The names that
 * must resolve and serve TLS, the wildcard the certificate must carry, and
 * where the DNS-01 challenge record goes. Derived once per audit from an
 * immutable platform; pure. */
#pragma once

#include "config.h"

struct plan_name {
        enum service service;
        char *name;               /* e.g. api.ai-gateway.example.com */
};

/* For a PLATFORM_HOST: one name (SERVICE_HOST); wildcard and
 * wildcard_base only with --wildcard, else NULL; challenge_name and
 * dns01_zone NULL. */
struct plan {
        struct plan_name *names;
        size_t n_names;
        char *wildcard;           /* *.ai-gateway.example.com, or *.example.com with '-' */
        char *wildcard_base;      /* ai-gateway.example.com, or example.com with '-' */
        char *challenge_name;     /* _acme-challenge.<wildcard_base> */
        char *dns01_zone;         /* copy of tls.letsencrypt.dns01.dnsZone, may be NULL */
};

/* Returns 0, or -EINVAL with *ret_error set when the settings cannot yield a
 * plan (a '-' separator needs a base domain with a parent to hold the
 * wildcard). */
int plan_derive(const struct platform *p, struct plan **ret, char **ret_error);
struct plan *plan_free(struct plan *p);
