/* certvigil's configuration: the YAML config file with its list of
 * platforms, the platform's own Helm values files, and command-line
 * overrides. A parsed config is immutable; reload parses a fresh one. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "finding.h"
#include "fleet.h"

enum service {
        SERVICE_API,
        SERVICE_CONSOLE,
        SERVICE_GRAFANA,
        SERVICE_AUTH,
        SERVICE_MCP,
        _SERVICE_MAX,
        /* Not one of the chart's services: the one name `certvigil check`
         * probes (PLATFORM_HOST). No label, no entry in labels[]. */
        SERVICE_HOST,
};
const char *service_to_string(enum service s);     /* "api", "console", ..., "host" */

enum tls_mode {
        TLS_MODE_LETSENCRYPT,
        TLS_MODE_PROVIDED,
        TLS_MODE_SELFSIGNED,
        _TLS_MODE_MAX,
};
const char *tls_mode_to_string(enum tls_mode m);   /* "letsencrypt", ... */

/* renew: when and how to set renewal in motion (issue 6). Off by default:
 * triggering is opt-in per platform. Exactly one method when enabled. */
struct renew_settings {
        bool enabled;
        char **on;                /* finding ids that make renewal due */
        char **command;           /* argv of the command method, NULL when unset */
        uint64_t timeout_usec;    /* the command is killed after it, default 10m */
        uint64_t min_interval_usec; /* between triggers of one platform, default 6h */
        unsigned max_per_week;    /* triggers per rolling 7 days, default 5 */
        uint64_t verify_every_usec;   /* re-audit period after a trigger, default 2m */
        uint64_t verify_timeout_usec; /* no new certificate by then: failed, default 30m */
        /* cert_manager: the native method through the Kubernetes API. */
        char *cm_namespace;
        char *cm_certificate;
        char *cm_kubeconfig;      /* path, resolved like trust */
        bool cm_in_cluster;
};

/* One platform with every default already applied. All strings are owned by
 * the platform and freed by config_free(). */
/* ignore: a finding the operator knows about, silenced until a date. It is
 * still reported, marked, but counts in neither the exit status nor the
 * alerts; past `until` it counts again and a warning says so. */
struct silence {
        char *id;                 /* a finding id from the catalog */
        char *name;               /* a glob over the finding's name (fnmatch); NULL: any */
        time_t until;
        char *reason;
};

/* What a platform describes. The config, a values file and --base-domain
 * describe the gateway; only `certvigil check` makes a host. */
enum platform_kind {
        PLATFORM_GATEWAY,         /* the chart's services under base_domain */
        /* One name (or address literal) in base_domain, probed with the
         * checks that apply to a single name: no DNS facts, no DNS-01, no
         * renewal, ARI, Secret, RDAP or CT watch (their settings stay at
         * their defaults, which are off for tls.mode provided). */
        PLATFORM_HOST,
};

struct platform {
        char *name;
        char *values_path;        /* absolute or as given; NULL when inline only */
        enum platform_kind kind;
        char *host_wildcard;      /* PLATFORM_HOST: the wildcard the certificate must carry, or NULL */

        /* The Helm chart's keys. */
        char *base_domain;        /* lower-case, no trailing dot */
        char *labels[_SERVICE_MAX];/* global.subdomains.*, default = service name */
        char separator;           /* '.' or '-' */
        enum tls_mode tls_mode;
        char *le_issuer;          /* tls.letsencrypt.issuer, default "letsencrypt-prod" */
        char *le_email;           /* may be NULL */
        char *dns01_provider;     /* may be NULL */
        char *dns01_zone;         /* may be NULL; lower-case, no trailing dot */
        char *wildcard_secret;    /* tls.wildcardSecretName, may be NULL */
        bool tunnel_enabled;      /* ingress.tunnel.enabled */
        bool mcp_enabled;         /* mcp.enabled */

        /* certvigil's own keys. */
        uint16_t port;            /* default 443 */
        uint16_t dns_port;        /* default 53: where authoritative servers are asked directly */
        char **resolvers;         /* "ADDR[:PORT]" strings; NULL = system resolver */
        char *trust;              /* "system" or a path to a PEM bundle */
        char *trust_origin;       /* where trust was set, for messages: "trust: at FILE:LINE:COL"
                                   * or "--trust"; NULL for the built-in default */
        /* Expiry thresholds: the effective one is the smaller of the days
         * and the share of the certificate's lifetime; days < 0 when the
         * key was given as a share ("33%"), which is then used alone. */
        int warn_days;            /* default 21 */
        int critical_days;        /* default 7 */
        double warn_share;        /* default 1/3 */
        double critical_share;    /* default 1/10 */
        double renew_at;          /* share of the lifetime at which renewal is due; default 0.67 */
        char *expect_issuer;      /* substring the leaf's issuer DN must contain; may be NULL */
        char *connect_to;         /* address literal to connect to instead of the resolved ones; may be NULL */
        uint16_t connect_port;    /* with connect_to; 0 = port */
        uint64_t timeout_usec;    /* default 10 s */
        uint64_t deadline_usec;   /* default 120 s */
        unsigned concurrency;     /* default 256 */
        char **expect_addresses;  /* may be NULL */

        /* The daemon's schedule and alert discipline (certvigil.yaml(5)). */
        uint64_t interval_usec;   /* between audits, default 1 h; may be sub-second for tests */
        int jitter_percent;       /* random delay as % of interval (default 5), -1 when jitter_usec */
        uint64_t jitter_usec;     /* random delay as a duration, when jitter_percent is -1 */
        uint64_t remind_usec;     /* reminder of an open warning/critical, default 24 h */

        /* Renewal, ARI and the Kubernetes connection (issue 6). */
        struct renew_settings renew;
        char *acme_directory;     /* https URL; NULL: from tls.letsencrypt.issuer */
        char *acme_trust;         /* PEM bundle for the ACME server; NULL: the system store */
        /* kubernetes: where the platform runs, for reading the wildcard
         * Secret in provided mode. Unset: namespace NULL. */
        char *kube_namespace;
        char *kube_kubeconfig;
        bool kube_in_cluster;

        /* fetch_private: may AIA and CRL URLs point at loopback, link-local
         * or private addresses? -1 unset: yes with a private trust bundle
         * (internal PKI), no with the public store. See
         * platform_fetch_private(). */
        int fetch_private;

        /* ignore: from defaults, then the platform's own (both apply). */
        struct silence *silences;
        size_t n_silences;

        /* DNSSEC as a validating resolver (the CA's) sees the platform's
         * names: dnssec: { enabled, trust_anchor }, dnssec_warn_days. */
        bool dnssec_enabled;      /* default true */
        char *dnssec_trust_anchor;/* DS or DNSKEY lines; default DNSSEC_ROOT_KEY */
        unsigned dnssec_warn_days;/* an RRSIG expiring sooner is dns.dnssec.expiring; default 3 */

        /* Certificate Transparency: ct: { required }. Embedded SCTs are
         * checked for publicly trusted certificates (trust: system), and
         * with a private trust bundle only when required. */
        bool ct_required;
        /* ct: { url, trust }: a crt.sh-compatible JSON search to watch
         * issuance with (ct.unexpected, ct.rate-limit.near); off when NULL. */
        char *ct_url;
        char *ct_trust;           /* PEM bundle for it; NULL: the system store */

        /* The registrable domain's expiry by RDAP (RFC 9083), off by
         * default: rdap: { enabled, bootstrap, url, trust } and the two
         * thresholds in days. */
        bool rdap_enabled;
        char *rdap_bootstrap;     /* IANA's dns.json; NULL: the copy in the data directory */
        char *rdap_url;           /* an RDAP base URL, instead of the bootstrap file; NULL */
        char *rdap_trust;         /* PEM bundle for the RDAP server; NULL: the system store */
        unsigned domain_warn_days;     /* default 30 */
        unsigned domain_critical_days; /* default 7 */
};

/* Debian's dns-root-data: the root zone's key-signing keys. */
#define DNSSEC_ROOT_KEY "/usr/share/dns/root.key"

/* Whether the URLs in the platform's certificates may be fetched from
 * internal addresses: fetch_private when set, else only when the platform
 * trusts a private bundle rather than the system store. */
bool platform_fetch_private(const struct platform *p);

/* The jitter of a platform in microseconds, whichever way it was given. */
uint64_t platform_jitter_usec(const struct platform *p);

/* The ACME directory whose renewalInfo (RFC 9773) applies to the platform:
 * acme_directory, or Let's Encrypt's production or staging directory after
 * tls.letsencrypt.issuer. Borrowed. */
const char *platform_acme_directory(const struct platform *p);

/* A bound for max_inflight far above any descriptor limit in use. */
#define MAX_INFLIGHT_MAX 1048576

struct config {
        char *path;               /* the file it was read from, NULL for --values */
        struct platform **platforms;
        size_t n_platforms;
        /* "FILE:LINE:COL: warning: ..." lines for the caller to show: keys
         * of a values file that look like misspellings of ours. NULL: none. */
        char **warnings;
        /* Top-level `listen:` (NULL: no HTTP endpoint) and `shard:` (count
         * 0: every platform), fleet.h. */
        char *listen_addr;
        uint16_t listen_port;
        struct shard shard;
        /* Top-level `max_inflight:`: probes and fetches in flight at once
         * across all platforms; 0 when unset (then derived from the
         * descriptor limit, audit_pool_cap()). */
        unsigned max_inflight;
};

/* Command-line settings that win over the config file, for every platform.
 * Zero/NULL members are unset. */
struct config_overrides {
        char **resolvers;
        int port;                 /* 0 = unset */
        int dns_port;             /* --dns-port: the zones' authoritative servers; 0 = unset */
        const char *trust;
        uint64_t timeout_usec;
        uint64_t deadline_usec;
        char **only_platforms;    /* --platform NAME, repeatable */
        const char *listen;       /* --listen ADDR:PORT */
        struct shard shard;       /* --shard I/N (count 0 = unset) */
};

/* Errors: these return -EINVAL (bad content), -ENOENT/-EACCES/... (unreadable
 * file) and set *ret_error to a malloc'ed "FILE:LINE:COL: message" (or
 * "FILE: message" when there is no position). The caller frees it.
 * known_id is the finding catalog (checks_find_def) that renew.on ids must be
 * in; NULL accepts any well-formed id. */
int config_load(const char *path, finding_lookup_fn known_id, struct config **ret, char **ret_error);

/* Same, from a string; filename is only used in messages and to resolve
 * relative values paths (relative to its directory). */
int config_load_string(const char *text, const char *filename, finding_lookup_fn known_id,
                       struct config **ret, char **ret_error);

/* Builds a one-platform config from a Helm values file alone (the CI case);
 * the platform is named after its baseDomain. */
int config_from_values(const char *values_path, struct config **ret, char **ret_error);

/* Builds a one-platform config of kind PLATFORM_HOST for `certvigil
 * check`: target is HOST[:PORT], [IPv6][:PORT] or a bare IPv6 address
 * (default port 443; HOST a DNS name of at least two labels, or an IPv4 or
 * IPv6 address); wildcard (may be NULL) is "*.NAME", which then becomes the
 * plan's wildcard and must cover HOST. -EINVAL with *ret_error ("HOST
 * 'x': why") for malformed input. The platform is named after HOST. */
int config_for_host(const char *target, const char *wildcard, struct config **ret, char **ret_error);

/* Applies overrides; fails with -ENOENT and a message if --platform names an
 * unknown platform. */
int config_apply_overrides(struct config *c, const struct config_overrides *o, char **ret_error);

struct config *config_free(struct config *c);   /* accepts NULL, returns NULL */

/* RFC 1035/1123 label check used for subdomain labels: 1-63 of [a-z0-9-],
 * not starting or ending with '-'. */
bool dns_label_is_valid(const char *label);
/* A host name of valid labels, at most 253 characters, at least two labels. */
bool dns_name_is_valid(const char *name);
/* A domain as the chart's templates would use it (global.baseDomain,
 * dnsZone), minus what DNS does not care about: lower case, without one
 * trailing dot. NULL when it is no domain name (bad labels, a single label,
 * an all-numeric top label as in an IP address); the caller frees. */
char *dns_domain_normalize(const char *s);
