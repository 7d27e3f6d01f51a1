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

/* ------------------------------------------------------------------------
 * The DNS facts gatherer's observations (daemon/dnsaudit.c). Kept per
 * answer: at most DNS_OBS_MAX records or servers, the rest counted. */
#define DNS_OBS_MAX 32

/* One source's answer for one name: a configured resolver or one of the
 * zone's authoritative servers asked directly. */
struct dns_answer_obs {
        char *source;              /* "resolver 127.0.0.1:53", "ns1.example.com (192.0.2.1)" */
        bool authoritative;        /* asked a zone's server directly */
        enum dns_status status;
        char *error;               /* NULL when OK */
        char **addresses;          /* sorted */
};

struct dns_name_obs {
        char *name;
        struct dns_answer_obs *answers;
        size_t n_answers;
};

/* One authoritative server of a zone, asked directly for the zone's SOA. */
struct dns_server_obs {
        char *ns;                  /* the NS host name */
        char *address;             /* NULL when the NS name did not resolve */
        enum dns_status status;    /* of the SOA query */
        bool authoritative;        /* AA set in the answer */
        bool has_serial;
        uint32_t serial;
        char *error;               /* why it is lame; NULL when it answered well */
};

/* The zone enclosing a name, found by its SOA (RFC 1034 4.3.2: the zone
 * cut is where the SOA and NS sets are), and its servers. */
struct dns_zone_obs {
        char *queried;             /* the name whose zone was looked for */
        char *zone;                /* NULL when none was found */
        enum dns_status status;    /* of the search: OK, NXDOMAIN (no zone), or why it stopped */
        char *error;
        char **ns;                 /* NS host names, sorted */
        enum dns_status ns_status;
        char *ns_error;
        struct dns_server_obs *servers;
        size_t n_servers;
};

struct dns_caa_obs {
        uint8_t flags;
        char *tag;                 /* lower-case */
        char *value;               /* escaped */
};

struct dns_obs {
        bool gathered;             /* the gatherer ran (false: deadline, setup failure) */
        char *error;               /* why it did not, or what cut it short */

        /* A random label under the wildcard's base, via the resolvers. */
        char *wildcard_probe_name;
        struct dns_answer_obs wildcard_probe;

        /* Every expected name, per source: each configured resolver (when
         * there are several) and each authoritative server of names_zone. */
        struct dns_name_obs *names;
        size_t n_names;
        struct dns_zone_obs names_zone;   /* the zone of the wildcard's base */

        /* RFC 8659 section 3: the first CAA RRset from the wildcard's base
         * towards the root. caa_name NULL with status OK: none anywhere. */
        enum dns_status caa_status;
        char *caa_error;
        char *caa_name;
        struct dns_caa_obs *caa;
        size_t n_caa;

        /* DNS-01: only with tls.mode letsencrypt. */
        bool dns01;
        struct dns_zone_obs dns01_zone;   /* the search from dns01.dnsZone itself */
        char **cname_chain;               /* CNAME targets from the challenge name */
        enum dns_status cname_status;     /* ERROR on a loop or an overlong chain */
        char *cname_error;
        char *effective_challenge;        /* the challenge name, or its final CNAME target */
        struct dns_zone_obs challenge_zone;
        enum dns_status txt_status;
        char *txt_error;
        char **txt;                       /* escaped, at most DNS_OBS_MAX */
        size_t n_txt;                     /* all of them, also those not kept */
};

void dns_obs_done(struct dns_obs *d);

struct platform_obs {
        time_t started;            /* wall clock at the start of the audit */
        uint64_t duration_usec;
        struct name_obs *names;
        size_t n_names;
        struct endpoint_obs *endpoints;
        size_t n_endpoints;
        struct dns_obs dns;
};

void cert_obs_done(struct cert_obs *c);
void name_obs_done(struct name_obs *n);
void endpoint_obs_done(struct endpoint_obs *e);
struct platform_obs *platform_obs_free(struct platform_obs *o);
