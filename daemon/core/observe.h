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

enum cert_key_kind {
        CERT_KEY_OTHER,
        CERT_KEY_RSA,
        CERT_KEY_EC,               /* ECDSA and EdDSA */
};

/* One embedded Signed Certificate Timestamp (RFC 6962 3.3); its signature
 * is not checked (that needs the logs' keys). */
struct sct_obs {
        char *log_id;              /* base64 of the log's 32-byte id */
        time_t timestamp;
};
#define SCT_KEEP 16

struct cert_obs {
        char *subject;             /* RFC 4514 DN */
        char *issuer;
        char *serial;              /* serial_format(): as openssl x509 -serial */
        time_t not_before;
        time_t not_after;
        char *sha256;              /* of the DER, lower-case hex */
        char **san;                /* dNSName entries, A-label form as served */
        char **ip_san;             /* iPAddress entries as text (inet_ntop); for an address literal */
        char *key;                 /* "ECDSA P-256", "RSA 2048" */
        enum cert_key_kind key_kind;
        unsigned key_bits;         /* RSA modulus or EC field size; 0 when unknown */
        char *sig_algo;            /* "ECDSA-SHA256", "RSA-SHA1" */
        char *sig_hash;            /* the signature's digest: "SHA256", "SHA1", "MD5"; "" when none */
        bool self_issued;          /* subject == issuer */
        bool is_ca;                /* basicConstraints cA */
        bool issuer_is_anchor;     /* a trust anchor has this certificate's issuer name and key */
        char *aia_ca_issuers;      /* first http(s) AIA caIssuers URL, NULL when none */
        char *crl_url;             /* first http(s) CRL distribution point, NULL when none */
        bool has_scts;             /* carries the SCT list extension (1.3.6.1.4.1.11129.2.4.2) */
        char *scts_error;          /* the extension is there but does not parse; NULL otherwise */
        struct sct_obs *scts;      /* at most SCT_KEEP */
        size_t n_scts;
        unsigned char *der;
        size_t der_len;
};

/* The outcome of one HTTP fetch made for an endpoint. */
struct fetch_obs {
        char *url;
        long http_status;          /* 0 when there was no HTTP answer */
        char *error;               /* NULL when the body arrived with status 200 */
        size_t size;
};

enum legacy_status {
        LEGACY_NOT_PROBED,
        LEGACY_REFUSED,            /* no TLS 1.0/1.1 handshake completed */
        LEGACY_ACCEPTED,
};

enum crl_status {
        CRL_NOT_CHECKED,           /* no CRL distribution point, or no fetch */
        CRL_UNKNOWN,               /* fetched or not, no verdict (see crl_detail) */
        CRL_GOOD,                  /* a verified, current CRL that does not list the serial */
        CRL_REVOKED,
        CRL_STALE,                 /* verified, does not list it, but past its nextUpdate */
};

/* How far the TLS handshake went. The first handshake with an address and
 * certificate completes; later ones that receive the same certificate stop
 * once it is in (tls.c), since the server proved it holds the key already. */
enum handshake_kind {
        HANDSHAKE_FULL,
        HANDSHAKE_CERTIFICATE_ONLY,
};

enum endpoint_status {
        ENDPOINT_OK,               /* handshake completed, certificates in */
        ENDPOINT_CONNECT_FAILED,   /* TCP never came up */
        ENDPOINT_HANDSHAKE_FAILED, /* TCP up, TLS did not complete */
        ENDPOINT_NOT_RUN,          /* the audit deadline came first */
};

enum kx_kind {
        KX_OTHER,                  /* unknown, or no handshake */
        KX_ECDHE,
        KX_DHE,                    /* finite-field Diffie-Hellman */
        KX_RSA,                    /* RSA key transport: no forward secrecy */
};

struct endpoint_obs {
        char *name;                /* the SNI and the name to match */
        enum service service;
        char *address;
        uint16_t port;
        enum endpoint_status status;
        char *error;               /* human detail, NULL when OK */
        bool cut_short;            /* the audit deadline stopped its probe or came before it */
        /* The handshake failed for want of a common cipher suite: what the
         * server picked from a far wider offer (legacy ciphers included),
         * "TLS1.2 TLS_RSA_CAMELLIA_128_CBC_SHA1", or NULL when not known. */
        bool no_shared_cipher;
        char *server_suite;
        uint64_t duration_usec;    /* connect + handshake */
        char *connected_to;        /* connect_to's address when set (address is then the resolved one) */
        uint16_t connected_port;
        enum handshake_kind handshake; /* with status ENDPOINT_OK */
        char *tls_version;         /* "TLS1.3" */
        char *cipher_suite;        /* "TLS_AES_256_GCM_SHA384" */
        char *kx_group;            /* "SECP256R1", "X25519", "FFDHE2048", "DH-CUSTOM" (a server's own
                                    * finite-field group); NULL when none */
        enum kx_kind kx_kind;      /* how the session key was agreed */
        char *kx;                  /* GnuTLS's name for it: "ECDHE-RSA", "DHE-RSA", "RSA" */
        unsigned kx_bits;          /* the group's size: the DH prime's bits, the curve's size */
        char *alpn;                /* the protocol the server picked, NULL when none */
        bool ocsp_stapled;         /* the server stapled an OCSP response */
        struct cert_obs *chain;    /* as served, leaf first, at most CHAIN_KEEP of them */
        size_t n_chain;
        /* chain belongs to the audit's certificate memo (tls.h), shared by
         * every endpoint that served the same chain and freed with the
         * audit; endpoint_obs_done() leaves it alone. */
        bool chain_borrowed;
        size_t n_served;           /* certificates the server sent (may exceed n_chain) */
        size_t served_bytes;       /* their total DER size */
        bool verified;             /* chain verifies to the trust anchors (times not considered) */
        char *verify_error;        /* why not, NULL when verified */

        /* The restricted TLS 1.0/1.1 handshake, run once per address (see
         * followups.c); only the first endpoint of each address carries it. */
        enum legacy_status legacy;
        char *legacy_detail;       /* the version accepted, or why the probe ended */

        /* HTTP follow-ups (followups.c): the leaf's missing issuer fetched from
         * AIA caIssuers, and its CRL. */
        struct fetch_obs aia;      /* url NULL when not fetched */
        struct cert_obs *aia_cert; /* what the URL served, when it parsed */
        struct fetch_obs crl;
        enum crl_status crl_status;
        char *crl_detail;          /* why unknown, or revocation date */
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

/* DNSSEC as a validating resolver sees it (daemon/probe/dnssec.c): libunbound
 * with the platform's trust anchor, forwarding to the platform's resolvers. */
enum dnssec_purpose {
        DNSSEC_FOR_NAME,           /* an expected name's A */
        DNSSEC_FOR_CHALLENGE,      /* the DNS-01 TXT, through its CNAMEs */
        DNSSEC_FOR_CAA,            /* a CAA RRset the CA looks up */
};

enum dnssec_state {
        DNSSEC_NOT_RUN,            /* no answer: deadline, cancelled */
        DNSSEC_SECURE,             /* validated */
        DNSSEC_INSECURE,           /* provably unsigned (or no anchor above it) */
        DNSSEC_BOGUS,              /* validation failed: a validating resolver says SERVFAIL */
        DNSSEC_FAILED,             /* no verdict: the lookup itself failed (see error) */
};
const char *dnssec_state_to_string(enum dnssec_state s);

struct dnssec_answer_obs {
        char *name;
        int type;                  /* ns_t_a, ns_t_txt, 257 (CAA) */
        enum dnssec_purpose purpose;
        enum dnssec_state state;
        int rcode;                 /* as a validating resolver answers (SERVFAIL when bogus) */
        char *why_bogus;           /* unbound's reason, escaped; NULL unless bogus */
        char *error;               /* NULL unless FAILED or NOT_RUN */
        /* The earliest RRSIG expiration over the records of the answer
         * (answer and authority sections: a negative answer rests on its
         * NSEC and SOA signatures); 0 when none was seen. */
        time_t rrsig_expires;
        char *rrsig_over;          /* "api.example.com A", the record it signs */
        char *rrsig_signer;        /* the signing zone */
};

struct dnssec_obs {
        bool enabled;              /* dnssec.enabled */
        bool ran;                  /* questions were asked */
        char *trust_anchor;        /* the file */
        char *anchor_zone;         /* the owner of its first record */
        /* The configured resolvers, asked without validation, for the
         * anchor zone's DNSKEY: a validator behind resolvers that do not
         * serve it can judge nothing (a private authoritative-only server). */
        enum dns_status anchor_status;
        bool anchor_usable;
        char *error;               /* why nothing was validated, NULL when it was */
        struct dnssec_answer_obs *answers;
        size_t n_answers;
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

        struct dnssec_obs dnssec;
};

void dns_obs_done(struct dns_obs *d);

struct platform_obs {
        time_t started;            /* wall clock at the start of the audit */
        uint64_t duration_usec;
        bool deadline_reached;     /* the audit deadline cut probes short */
        struct name_obs *names;
        size_t n_names;
        struct endpoint_obs *endpoints;
        size_t n_endpoints;
        struct dns_obs dns;
};

/* The certification path through the served chain, from the leaf up by
 * issuer name, preferring served certificates and stopping at a
 * self-issued one or at one whose issuer is a trust anchor. Pure. */
struct chain_walk {
        size_t path[16];           /* indexes into chain, leaf first */
        size_t n_path;
        bool complete;             /* ends at a self-issued certificate or at a trust anchor's child */
        bool in_order;             /* path[k] == k for every k */
        size_t n_unused;           /* served certificates on no path */
        size_t last;               /* the last certificate of the path */
        /* The leaf's own issuer is neither served nor a trust anchor: the
         * "missing intermediate" case. A path that reaches a served
         * intermediate whose issuer is unknown is an unknown root instead. */
        bool leaf_issuer_missing;
};
void chain_walk(const struct endpoint_obs *e, struct chain_walk *ret);

/* The registrable domain's registration, as its registry's RDAP server
 * states it (daemon/renew/rdap.c), after the audit. */
struct rdap_obs {
        char *domain;              /* the registrable domain (Public Suffix List) */
        char *url;                 /* what was asked, NULL when nothing was */
        time_t expires;            /* 0 when not known */
        bool remembered;           /* not asked: checked less than a day ago, date from the state */
        char *error;               /* why no date is known, NULL when it is */
};
void rdap_obs_done(struct rdap_obs *o);

/* The CT search after the audit (daemon/renew/ctwatch.c). */
struct ctlog_obs {
        char *url;                 /* what was asked */
        size_t certificates;       /* entries read */
        size_t recent;             /* for the platform's names, in the last 7 days */
        size_t same_names_max;     /* the most of those for one set of names */
        char *error;               /* why nothing was read, NULL when it was */
};
void ctlog_obs_done(struct ctlog_obs *o);

/* The CA's answer to ACME Renewal Information (RFC 9773) for the served
 * certificate, as polled after the audit. */
struct ari_obs {
        char *cert_id;             /* the RFC 9773 certificate identifier asked about */
        time_t window_start;       /* suggested window; 0 when none is known */
        time_t window_end;
        char *explanation;         /* explanationURL, NULL when none */
        bool remembered;           /* not polled: Retry-After has not passed, window from the state */
        char *error;               /* why no window was read this time, NULL when it was */
};

/* cert-manager's Certificate as read before a renewal by the cert_manager
 * method: the facts `cmctl status certificate` shows. */
struct certmanager_obs {
        char *ready;               /* the Ready condition's status ("True", "False"), NULL when absent */
        char *ready_reason;
        char *ready_message;
        char *renewal_time;        /* status.renewalTime as given (RFC 3339), NULL when absent */
        char *last_failure_time;
        long long failed_issuance_attempts;   /* 0 when absent */
        bool issuing;              /* an Issuing condition is True */
};

void ari_obs_done(struct ari_obs *o);
void certmanager_obs_done(struct certmanager_obs *o);

void cert_obs_done(struct cert_obs *c);
/* A deep copy into *dst (which is overwritten). */
void cert_obs_copy(struct cert_obs *dst, const struct cert_obs *src);
void fetch_obs_done(struct fetch_obs *f);
void name_obs_done(struct name_obs *n);
void endpoint_obs_done(struct endpoint_obs *e);
struct platform_obs *platform_obs_free(struct platform_obs *o);
/* A new copy holding only what settling an audit reads after its report
 * is written: names with their status, endpoints with their address,
 * status and leaf (subject, issuer, sha256, not_after). Caller frees. */
struct platform_obs *platform_obs_summary(const struct platform_obs *o);
