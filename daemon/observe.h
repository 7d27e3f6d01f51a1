/* Observations: the plain facts probes gather (what DNS answered, what each
 * endpoint served). Filled by the probes, read-only for checks and
 * reporters. Every string here that came from the network has already been
 * escaped (util.h str_escape) and is safe to print. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "config.h"

enum dns_status {
        DNS_STATUS_OK,
        DNS_STATUS_NXDOMAIN,       /* the name does not exist */
        DNS_STATUS_NODATA,         /* the name exists but has no A/AAAA */
        DNS_STATUS_SERVFAIL,
        DNS_STATUS_REFUSED,
        DNS_STATUS_TIMEOUT,
        DNS_STATUS_ERROR,          /* anything else; see error */
        DNS_STATUS_NOT_RUN,        /* the audit deadline came first */
};
const char *dns_status_to_string(enum dns_status s);

struct name_obs {
        enum service service;
        char *name;
        enum dns_status status;
        char *error;               /* human detail, NULL when OK */
        char **addresses;          /* textual IPv4/IPv6, A first then AAAA */
};

struct cert_obs {
        char *subject;             /* RFC 4514 DN */
        char *issuer;
        char *serial;              /* lower-case hex */
        time_t not_before;
        time_t not_after;
        char *sha256;              /* of the DER, lower-case hex */
        char **san;                /* dNSName entries, A-label form as served */
        char *key;                 /* "ECDSA P-256", "RSA 2048" */
        bool self_issued;          /* subject == issuer */
        unsigned char *der;
        size_t der_len;
};

enum endpoint_status {
        ENDPOINT_OK,               /* handshake completed, certificates in */
        ENDPOINT_CONNECT_FAILED,   /* TCP never came up */
        ENDPOINT_HANDSHAKE_FAILED, /* TCP up, TLS did not complete */
        ENDPOINT_NOT_RUN,          /* the audit deadline came first */
};

struct endpoint_obs {
        char *name;                /* the SNI and the name to match */
        enum service service;
        char *address;
        uint16_t port;
        enum endpoint_status status;
        char *error;               /* human detail, NULL when OK */
        uint64_t duration_usec;    /* connect + handshake */
        char *tls_version;         /* "TLS1.3" */
        struct cert_obs *chain;    /* as served, leaf first */
        size_t n_chain;
        bool verified;             /* chain verifies to the trust anchors (times not considered) */
        char *verify_error;        /* why not, NULL when verified */
};

struct platform_obs {
        time_t started;            /* wall clock at the start of the audit */
        uint64_t duration_usec;
        struct name_obs *names;
        size_t n_names;
        struct endpoint_obs *endpoints;
        size_t n_endpoints;
};

void cert_obs_done(struct cert_obs *c);
void name_obs_done(struct name_obs *n);
void endpoint_obs_done(struct endpoint_obs *e);
struct platform_obs *platform_obs_free(struct platform_obs *o);
