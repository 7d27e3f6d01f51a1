/* Loads certvigil's configuration: the YAML config file with its platforms,
 * each platform's Helm values file, and command-line overrides. Everything is
 * checked here, with FILE:LINE:COL messages, so that a bad setting stops the
 * audit before any packet leaves the host. */
#include "config.h"
#include "dnsname.h"
#include "util.h"
#include "yaml-reader.h"

#include <arpa/inet.h>
#include <assert.h>
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#define PLATFORMS_MAX 10000u
#define DAYS_MAX 36500

#define DEFAULT_PORT 443
#define DEFAULT_DNS_PORT 53
#define DNS_PORT 53                /* of resolvers given without one */
#define DEFAULT_WARN_DAYS 21
#define DEFAULT_CRITICAL_DAYS 7
#define DEFAULT_TIMEOUT_USEC (10 * USEC_PER_SEC)
#define DEFAULT_DEADLINE_USEC (120 * USEC_PER_SEC)
#define DEFAULT_CONCURRENCY 256
#define DEFAULT_INTERVAL_USEC (3600 * USEC_PER_SEC)
#define DEFAULT_JITTER_PERCENT 5
#define DEFAULT_REMIND_USEC (24 * 3600 * USEC_PER_SEC)
#define DEFAULT_ISSUER "letsencrypt-prod"
/* cert-manager renews at two thirds of the lifetime by default. */
#define DEFAULT_RENEW_AT 0.67
/* With the day thresholds, these keep a 6-day or 45-day certificate from
 * warning for most of its life while a 90-day one keeps 21 and 7 days. */
#define DEFAULT_WARN_SHARE (1.0 / 3.0)
#define DEFAULT_CRITICAL_SHARE (1.0 / 10.0)

#define DEFAULT_RENEW_TIMEOUT_USEC (10 * 60 * USEC_PER_SEC)
#define DEFAULT_RENEW_MIN_INTERVAL_USEC (6 * 3600 * USEC_PER_SEC)
/* Let's Encrypt allows 5 certificates per exact set of names per week. */
#define DEFAULT_RENEW_MAX_PER_WEEK 5
#define RENEW_MAX_PER_WEEK_MAX 100
#define DEFAULT_RENEW_VERIFY_EVERY_USEC (2 * 60 * USEC_PER_SEC)
#define DEFAULT_RENEW_VERIFY_TIMEOUT_USEC (30 * 60 * USEC_PER_SEC)
#define RENEW_ARGV_MAX 256
#define LE_PROD_DIRECTORY "https://acme-v02.api.letsencrypt.org/directory"
#define LE_STAGING_DIRECTORY "https://acme-staging-v02.api.letsencrypt.org/directory"

/* The findings that make renewal due unless renew.on says otherwise
 * (tls.wildcard.shape only counts when critical: see checks/renew.c). */
static const char *const default_renew_on[] = {
        "tls.expiry.critical", "tls.expiry.expired", "tls.renewal.overdue",
        "tls.ari.renew-now",   "tls.issuer.staging", "tls.wildcard.shape",
};

static const char *const service_names[_SERVICE_MAX] = {
        [SERVICE_API] = "api",
        [SERVICE_CONSOLE] = "console",
        [SERVICE_GRAFANA] = "grafana",
        [SERVICE_AUTH] = "auth",
        [SERVICE_MCP] = "mcp",
};

static const char *const tls_mode_names[_TLS_MODE_MAX] = {
        [TLS_MODE_LETSENCRYPT] = "letsencrypt",
        [TLS_MODE_PROVIDED] = "provided",
        [TLS_MODE_SELFSIGNED] = "selfsigned",
};

const char *service_to_string(enum service s) {
        if (s == SERVICE_HOST)
                return "host";
        return (unsigned)s < _SERVICE_MAX ? service_names[s] : NULL;
}

const char *tls_mode_to_string(enum tls_mode m) {
        return (unsigned)m < _TLS_MODE_MAX ? tls_mode_names[m] : NULL;
}

const char *platform_acme_directory(const struct platform *p) {
        if (p->acme_directory)
                return p->acme_directory;
        return p->le_issuer && strstr(p->le_issuer, "staging") ? LE_STAGING_DIRECTORY : LE_PROD_DIRECTORY;
}

bool dns_label_is_valid(const char *label) {
        size_t n = label ? strlen(label) : 0;

        if (n < 1 || n > 63 || label[0] == '-' || label[n - 1] == '-')
                return false;
        for (size_t i = 0; i < n; i++) {
                char c = label[i];
                if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-'))
                        return false;
        }
        return true;
}

bool dns_name_is_valid(const char *name) {
        size_t n = name ? strlen(name) : 0, labels = 0;

        if (n < 1 || n > 253)
                return false;
        for (const char *p = name; p; labels++) {
                const char *dot = strchr(p, '.');
                size_t len = dot ? (size_t)(dot - p) : strlen(p);
                char label[64];

                if (len < 1 || len > 63)
                        return false;
                memcpy(label, p, len);
                label[len] = 0;
                if (!dns_label_is_valid(label))
                        return false;
                p = dot ? dot + 1 : NULL;
        }
        return labels >= 2;
}


/* Errors without a file at all: command-line overrides. */
static int fail_plain(char **error, int r, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int fail_plain(char **error, int r, const char *fmt, ...) {
        va_list ap;
        va_start(ap, fmt);
        if (error)
                *error = xvasprintf(fmt, ap);
        va_end(ap);
        return r;
}

/* ------------------------------------------------------------------------ */
/* Addresses and paths */

/* Canonical "ADDR[:PORT]" with IPv6 always in brackets, so the resolver code
 * never has to guess which colon starts the port. v6_port is added to an IPv6
 * address given without a port (0: none): c-ares 1.18 reads a bracketed
 * address only with a port, and an unbracketed one never with a port. */
static int resolver_normalize(const char *s, long long v6_port, char **ret) {
        char addr[INET6_ADDRSTRLEN + 1], text[INET6_ADDRSTRLEN];
        unsigned char bin[sizeof(struct in6_addr)];
        const char *port = NULL, *start = s, *end;
        long long port_num = 0;
        int family;

        if (s[0] == '[') {
                start = s + 1;
                end = strchr(start, ']');
                if (!end || (end[1] && end[1] != ':'))
                        return -EINVAL;
                if (end[1] == ':')
                        port = end + 2;
                family = AF_INET6;
        } else {
                const char *colon = strchr(s, ':');
                family = colon && strchr(colon + 1, ':') ? AF_INET6 : AF_INET;
                end = family == AF_INET && colon ? colon : s + strlen(s);
                if (family == AF_INET && colon)
                        port = colon + 1;
        }
        if ((size_t)(end - start) >= sizeof(addr))
                return -EINVAL;
        memcpy(addr, start, (size_t)(end - start));
        addr[end - start] = 0;
        if (inet_pton(family, addr, bin) != 1 || !inet_ntop(family, bin, text, sizeof(text)))
                return -EINVAL;
        if (port && (!*port || strspn(port, "0123456789") != strlen(port) ||
                     parse_int(port, 1, 65535, &port_num) < 0))
                return -EINVAL;

        if (family == AF_INET6 && !port && v6_port > 0)
                port_num = v6_port;
        if (family == AF_INET6)
                *ret = port_num ? xasprintf("[%s]:%lld", text, port_num) : xasprintf("[%s]", text);
        else
                *ret = port ? xasprintf("%s:%lld", text, port_num) : xstrdup(text);
        return 0;
}

static void set_string(char **field, char *value);

/* Splits a canonical "ADDR[:PORT]" / "[ADDR6][:PORT]" into its parts. */
static void connect_to_split(const char *canonical, char **field, uint16_t *port) {
        const char *colon;
        long long v = 0;

        if (canonical[0] == '[') {
                const char *end = strchr(canonical, ']');
                set_string(field, xstrndup(canonical + 1, (size_t)(end - canonical - 1)));
                colon = end[1] == ':' ? end + 1 : NULL;
        } else {
                colon = strchr(canonical, ':');
                set_string(field, colon ? xstrndup(canonical, (size_t)(colon - canonical)) : xstrdup(canonical));
        }
        *port = colon && parse_int(colon + 1, 1, 65535, &v) == 0 ? (uint16_t)v : 0;
}

static int address_normalize(const char *s, char **ret) {
        unsigned char bin[sizeof(struct in6_addr)];
        char text[INET6_ADDRSTRLEN];
        int family = strchr(s, ':') ? AF_INET6 : AF_INET;

        if (inet_pton(family, s, bin) != 1 || !inet_ntop(family, bin, text, sizeof(text)))
                return -EINVAL;
        *ret = xstrdup(text);
        return 0;
}

/* Relative paths in a config file are relative to the file's directory, so
 * the config means the same whatever the daemon's working directory is. */
static char *path_resolve(const char *base_file, const char *path) {
        const char *slash = base_file ? strrchr(base_file, '/') : NULL;

        if (path[0] == '/' || !slash)
                return xstrdup(path);
        return xasprintf("%.*s/%s", (int)(slash - base_file), base_file, path);
}

/* ------------------------------------------------------------------------ */
/* Platforms */

static struct platform *platform_free(struct platform *p) {
        if (!p)
                return NULL;
        free(p->name);
        free(p->values_path);
        free(p->base_domain);
        free(p->host_wildcard);
        for (size_t i = 0; i < _SERVICE_MAX; i++)
                free(p->labels[i]);
        free(p->le_issuer);
        free(p->le_email);
        free(p->dns01_provider);
        free(p->dns01_zone);
        free(p->wildcard_secret);
        strv_free(p->resolvers);
        free(p->trust);
        free(p->trust_origin);
        free(p->expect_issuer);
        free(p->connect_to);
        strv_free(p->expect_addresses);
        strv_free(p->renew.on);
        strv_free(p->renew.command);
        free(p->renew.cm_namespace);
        free(p->renew.cm_certificate);
        free(p->renew.cm_kubeconfig);
        free(p->acme_directory);
        free(p->acme_trust);
        free(p->kube_namespace);
        free(p->kube_kubeconfig);
        for (size_t i = 0; i < p->n_silences; i++) {
                free(p->silences[i].id);
                free(p->silences[i].name);
                free(p->silences[i].reason);
        }
        free(p->silences);
        free(p->dnssec_trust_anchor);
        free(p->rdap_bootstrap);
        free(p->rdap_url);
        free(p->rdap_trust);
        free(p->ct_url);
        free(p->ct_trust);
        free(p);
        return NULL;
}

static void platform_freep(struct platform **p) {
        platform_free(*p);
}

static struct platform *platform_new(void) {
        struct platform *p = xcalloc(1, sizeof(*p));

        for (size_t i = 0; i < _SERVICE_MAX; i++)
                p->labels[i] = xstrdup(service_names[i]);
        p->separator = '.';
        p->tls_mode = TLS_MODE_LETSENCRYPT;
        p->le_issuer = xstrdup(DEFAULT_ISSUER);
        p->port = DEFAULT_PORT;
        p->dns_port = DEFAULT_DNS_PORT;
        p->trust = xstrdup("system");
        p->dnssec_enabled = true;
        p->dnssec_trust_anchor = xstrdup(DNSSEC_ROOT_KEY);
        p->dnssec_warn_days = 3;
        p->domain_warn_days = 30;
        p->domain_critical_days = 7;
        p->warn_days = DEFAULT_WARN_DAYS;
        p->critical_days = DEFAULT_CRITICAL_DAYS;
        p->warn_share = DEFAULT_WARN_SHARE;
        p->critical_share = DEFAULT_CRITICAL_SHARE;
        p->renew_at = DEFAULT_RENEW_AT;
        p->timeout_usec = DEFAULT_TIMEOUT_USEC;
        p->deadline_usec = DEFAULT_DEADLINE_USEC;
        p->concurrency = DEFAULT_CONCURRENCY;
        p->fetch_private = -1;
        p->interval_usec = DEFAULT_INTERVAL_USEC;
        p->jitter_percent = DEFAULT_JITTER_PERCENT;
        p->remind_usec = DEFAULT_REMIND_USEC;
        for (size_t i = 0; i < ELEMENTSOF(default_renew_on); i++)
                strv_push(&p->renew.on, xstrdup(default_renew_on[i]));
        p->renew.timeout_usec = DEFAULT_RENEW_TIMEOUT_USEC;
        p->renew.min_interval_usec = DEFAULT_RENEW_MIN_INTERVAL_USEC;
        p->renew.max_per_week = DEFAULT_RENEW_MAX_PER_WEEK;
        p->renew.verify_every_usec = DEFAULT_RENEW_VERIFY_EVERY_USEC;
        p->renew.verify_timeout_usec = DEFAULT_RENEW_VERIFY_TIMEOUT_USEC;
        return p;
}

static void set_string(char **field, char *value) {
        free(*field);
        *field = value;
}


/* ------------------------------------------------------------------------ */
/* Row parsers: each reads one YAML value into one field of the platform. */

struct key;

/* State while one platform is assembled from its layers: built-in defaults,
 * the config's defaults, the values file, then its own keys. */
/* More silences than anyone reads; bounds a damaged config. */
#define SILENCES_MAX 256

struct build {
        struct platform *p;       /* NULL during the top-level walk */
        const char *config_path;  /* relative paths are resolved against it */
        /* The finding catalog, for renew.on; injected so that the config
         * (core) does not reach up into checks/. NULL: any well-formed id. */
        finding_lookup_fn known_id;
        /* Where warn_days/critical_days were last set, for the cross-check. */
        yaml_mark_t warn_mark, critical_mark;
        bool warn_set, critical_set;
        /* Where each subdomain label was set (file NULL: the default), for
         * the check that no two services share one name. */
        struct {
                const char *file;  /* borrowed: the config's or the values file's path */
                yaml_mark_t mark;
        } label_at[_SERVICE_MAX];
};

/* A row's parser reads n, the value of the setting named key (a dotted path,
 * for messages), into field (the platform's member at the row's offset; NULL
 * at top level). Returns 0, or a negative errno with *f->error set. */
typedef int (*key_parse_fn)(struct build *b, struct yfile *f, const struct key *k, const char *key,
                            yaml_node_t *n, void *field);

struct key {
        const char *name;
        key_parse_fn parse;
        size_t offset;            /* of the field in struct platform */
        const void *data;         /* parse_map: the child table; parse_uint: its range */
};

struct uint_range {
        long long min, max;
};

static int apply_map(struct build *b, struct yfile *f, yaml_node_t *map, const struct key *table,
                     const char *prefix, const char *where);

/* For keys read outside the table walk (a platform's name and values). */
static int parse_none(struct build *b, struct yfile *f, const struct key *k, const char *key, yaml_node_t *n,
                      void *field) {
        return 0;
}

static int parse_map(struct build *b, struct yfile *f, const struct key *k, const char *key, yaml_node_t *n,
                     void *field) {
        _cleanup_free_ char *where = NULL;

        if (!f->strict && ynode_is_null(n))
                return 0;
        if (n->type != YAML_MAPPING_NODE)
                return yfile_fail(f, n->start_mark, "'%s' must be a mapping", key);
        where = xasprintf("in %s", key);
        return apply_map(b, f, n, k->data, key, where);
}

static int parse_string(struct build *b, struct yfile *f, const struct key *k, const char *key, yaml_node_t *n,
                        void *field) {
        const char *s = NULL;
        int r = yfile_get_string(f, key, n, &s);

        if (r == 0)
                set_string(field, xstrdup(s));
        return r < 0 ? r : 0;
}

static int parse_label(struct build *b, struct yfile *f, const struct key *k, const char *key, yaml_node_t *n,
                       void *field) {
        const char *s = NULL;
        int r = yfile_get_string(f, key, n, &s);

        if (r != 0)
                return r < 0 ? r : 0;
        if (!dns_label_is_valid(s)) {
                _cleanup_free_ char *shown = ynode_shown(n);
                return yfile_fail(f, n->start_mark, "'%s' is not a valid DNS label (%s)", shown, key);
        }
        set_string(field, xstrdup(s));
        return 0;
}

/* Kubernetes object names (RFC 1123 subdomains as Kubernetes spells them:
 * IsDNS1123Subdomain): 1-253 of [a-z0-9.-], every dot-separated part
 * starting and ending with a letter or digit. Anything else is refused by
 * the API server anyway, and may not reach a URL path. */
static bool kube_name_is_valid(const char *s) {
        size_t n = strlen(s);

        if (n < 1 || n > 253 || strspn(s, "abcdefghijklmnopqrstuvwxyz0123456789.-") != n)
                return false;
        for (size_t i = 0; i < n; i++) {
                bool starts = i == 0 || s[i - 1] == '.', ends = i + 1 == n || s[i + 1] == '.';
                if ((starts || ends) && (s[i] == '.' || s[i] == '-'))
                        return false;
        }
        return true;
}

/* tls.wildcardSecretName, renew.cert_manager.certificate. */
static int parse_kube_name(struct build *b, struct yfile *f, const struct key *k, const char *key,
                           yaml_node_t *n, void *field) {
        const char *s = NULL;
        int r = yfile_get_string(f, key, n, &s);

        if (r != 0)
                return r < 0 ? r : 0;
        if (!kube_name_is_valid(s)) {
                _cleanup_free_ char *shown = ynode_shown(n);
                return yfile_fail(f, n->start_mark,
                                  "'%s' is not a valid Kubernetes object name (%s): lower-case letters, digits, "
                                  "'-' and '.', starting and ending with a letter or digit, at most 253 characters",
                                  shown, key);
        }
        set_string(field, xstrdup(s));
        return 0;
}

/* global.subdomains.*: a label, remembered with its position. */
static int parse_subdomain(struct build *b, struct yfile *f, const struct key *k, const char *key,
                           yaml_node_t *n, void *field) {
        size_t service = (size_t)((char **)field - b->p->labels);
        const char *before = *(char **)field;
        int r;

        assert(service < _SERVICE_MAX);
        r = parse_label(b, f, k, key, n, field);
        if (r < 0 || *(char **)field == before)
                return r;
        b->label_at[service].file = f->path;
        b->label_at[service].mark = n->start_mark;
        return 0;
}

char *dns_domain_normalize(const char *s) {
        _cleanup_free_ char *name = xstrdup(s);
        size_t len = strlen(name);
        const char *last;

        if (len > 0 && name[len - 1] == '.')
                name[--len] = 0;
        for (char *c = name; *c; c++)
                if (*c >= 'A' && *c <= 'Z')
                        *c = (char)(*c - 'A' + 'a');
        /* RFC 1123 2.1: a top-level label is never all-numeric, which also
         * keeps an IP address from passing for a domain. */
        last = strrchr(name, '.');
        last = last ? last + 1 : name;
        if (!dns_name_is_valid(name) || strspn(last, "0123456789") == strlen(last))
                return NULL;
        return TAKE_PTR(name);
}

/* A domain as the chart's templates would use it, minus the spelling
 * variations DNS does not care about. */
static int parse_domain(struct build *b, struct yfile *f, const struct key *k, const char *key, yaml_node_t *n,
                        void *field) {
        _cleanup_free_ char *name = NULL, *shown = NULL;
        const char *s = NULL;
        bool idn = false;
        int r;

        r = yfile_get_string(f, key, n, &s);
        if (r != 0)
                return r < 0 ? r : 0;
        name = dns_domain_normalize(s);
        if (name) {
                set_string(field, TAKE_PTR(name));
                return 0;
        }
        for (const char *c = s; *c && !idn; c++)
                idn = (unsigned char)*c >= 0x80;
        shown = ynode_shown(n);
        /* Certificates carry IDNs as A-labels (RFC 5890), and the SAN check
         * compares bytes: the config must say it so. */
        return yfile_fail(f, n->start_mark, "'%s' is not a valid domain name (%s)%s", shown, key,
                          idn ? ": write internationalized names in A-label form (xn--...)" : "");
}

static int parse_separator(struct build *b, struct yfile *f, const struct key *k, const char *key,
                           yaml_node_t *n, void *field) {
        const char *s = NULL;
        int r = yfile_get_string(f, key, n, &s);

        if (r != 0)
                return r < 0 ? r : 0;
        if (strcmp(s, ".") != 0 && strcmp(s, "-") != 0)
                return yfile_fail(f, n->start_mark, "%s must be \".\" or \"-\"", key);
        *(char *)field = s[0];
        return 0;
}

static int parse_tls_mode(struct build *b, struct yfile *f, const struct key *k, const char *key,
                          yaml_node_t *n, void *field) {
        _cleanup_free_ char *shown = NULL;
        const char *s = NULL;
        int r = yfile_get_string(f, key, n, &s);

        if (r != 0)
                return r < 0 ? r : 0;
        for (size_t i = 0; i < _TLS_MODE_MAX; i++)
                if (strcmp(s, tls_mode_names[i]) == 0) {
                        *(enum tls_mode *)field = (enum tls_mode)i;
                        return 0;
                }
        shown = ynode_shown(n);
        return yfile_fail(f, n->start_mark, "unknown %s '%s' (expected letsencrypt, provided or selfsigned)", key,
                          shown);
}

static int parse_bool(struct build *b, struct yfile *f, const struct key *k, const char *key, yaml_node_t *n,
                      void *field) {
        int r = yfile_get_bool(f, key, n, field);
        return r < 0 ? r : 0;
}

/* A bool that may also be left unset (the field keeps -1). */
static int parse_tristate(struct build *b, struct yfile *f, const struct key *k, const char *key, yaml_node_t *n,
                          void *field) {
        bool v;
        int r = yfile_get_bool(f, key, n, &v);

        if (r == 0)
                *(int *)field = v;
        return r < 0 ? r : 0;
}

static int parse_port(struct build *b, struct yfile *f, const struct key *k, const char *key, yaml_node_t *n,
                      void *field) {
        long long v;
        int r = yfile_get_int(f, key, n, 1, 65535, &v);

        if (r == 0)
                *(uint16_t *)field = (uint16_t)v;
        return r < 0 ? r : 0;
}

/* An unsigned in the row's range (data). */
static int parse_uint(struct build *b, struct yfile *f, const struct key *k, const char *key, yaml_node_t *n,
                      void *field) {
        const struct uint_range *range = k->data;
        long long v;
        int r = yfile_get_int(f, key, n, range->min, range->max, &v);

        if (r == 0)
                *(unsigned *)field = (unsigned)v;
        return r < 0 ? r : 0;
}

/* warn_days/critical_days: days, or a share of the lifetime that replaces
 * the days and is used alone (days -1). Days bring back the default share,
 * which a share set in an earlier layer (defaults) must not outlive. */
static int parse_days(struct yfile *f, const char *key, yaml_node_t *n, int *days, double *share,
                      double default_share) {
        long long v;
        int r = yfile_get_percent(f, key, n, share);

        if (r <= 0) {
                if (r == 0)
                        *days = -1;
                return r;
        }
        r = yfile_get_int(f, key, n, 0, DAYS_MAX, &v);
        if (r != 0)
                return r;
        *days = (int)v;
        *share = default_share;
        return 0;
}

static int parse_warn_days(struct build *b, struct yfile *f, const struct key *k, const char *key,
                           yaml_node_t *n, void *field) {
        int r = parse_days(f, key, n, field, &b->p->warn_share, DEFAULT_WARN_SHARE);

        if (r != 0)
                return r < 0 ? r : 0;
        b->warn_mark = n->start_mark;
        b->warn_set = true;
        return 0;
}

static int parse_critical_days(struct build *b, struct yfile *f, const struct key *k, const char *key,
                               yaml_node_t *n, void *field) {
        int r = parse_days(f, key, n, field, &b->p->critical_share, DEFAULT_CRITICAL_SHARE);

        if (r != 0)
                return r < 0 ? r : 0;
        b->critical_mark = n->start_mark;
        b->critical_set = true;
        return 0;
}

static int parse_fraction(struct build *b, struct yfile *f, const struct key *k, const char *key,
                          yaml_node_t *n, void *field) {
        return yfile_get_fraction(f, key, n, field);
}

static int parse_usec(struct build *b, struct yfile *f, const struct key *k, const char *key, yaml_node_t *n,
                      void *field) {
        return yfile_get_duration(f, key, n, field);
}

/* "5%" of the interval, or a duration ("0s" turns jitter off). */
static int parse_jitter(struct build *b, struct yfile *f, const struct key *k, const char *key, yaml_node_t *n,
                        void *field) {
        const char *s = n->type == YAML_SCALAR_NODE && !ynode_is_null(n) && !ynode_has_nul(n) ? ynode_value(n)
                                                                                                 : NULL;
        size_t len = s ? strlen(s) : 0;
        long long v;
        uint64_t usec;

        if (s && len > 1 && s[len - 1] == '%') {
                _cleanup_free_ char *num = xstrndup(s, len - 1);
                if (parse_int(num, 0, 100, &v) < 0)
                        return yfile_fail(f, n->start_mark, "'%s' must be a percentage between 0%% and 100%%", key);
                b->p->jitter_percent = (int)v;
                b->p->jitter_usec = 0;
                return 0;
        }
        if (!s || parse_duration(s, &usec) < 0)
                return yfile_fail(f, n->start_mark,
                                  "'%s' must be a percentage of interval such as 5%% or a duration such as 3m", key);
        b->p->jitter_percent = -1;
        b->p->jitter_usec = usec;
        return 0;
}

bool platform_fetch_private(const struct platform *p) {
        if (p->fetch_private >= 0)
                return p->fetch_private;
        return p->trust && strcmp(p->trust, "system") != 0;
}

uint64_t platform_jitter_usec(const struct platform *p) {
        if (p->jitter_percent >= 0)
                return p->interval_usec / 100 * (uint64_t)p->jitter_percent;
        return p->jitter_usec;
}

static int parse_connect_to(struct build *b, struct yfile *f, const struct key *k, const char *key,
                            yaml_node_t *n, void *field) {
        _cleanup_free_ char *canonical = NULL;
        const char *s = NULL;
        int r = yfile_get_string(f, key, n, &s);

        if (r != 0)
                return r < 0 ? r : 0;
        if (resolver_normalize(s, 0, &canonical) < 0) {
                _cleanup_free_ char *shown = ynode_shown(n);
                return yfile_fail(f, n->start_mark,
                                  "invalid %s '%s' (expected ADDRESS[:PORT], IPv6 as [ADDRESS]:PORT)", key, shown);
        }
        connect_to_split(canonical, field, &b->p->connect_port);
        return 0;
}

static int parse_url(struct build *b, struct yfile *f, const struct key *k, const char *key, yaml_node_t *n,
                     void *field) {
        const char *s = NULL;
        int r = yfile_get_string(f, key, n, &s);

        if (r != 0)
                return r < 0 ? r : 0;
        if (strncmp(s, "https://", 8) != 0 || !s[8] || strpbrk(s, " \t\r\n")) {
                _cleanup_free_ char *shown = ynode_shown(n);
                return yfile_fail(f, n->start_mark, "'%s' must be an https:// URL (%s)", shown, key);
        }
        set_string(field, xstrdup(s));
        return 0;
}

/* Every path key names a file certvigil reads while it audits, on its loop
 * (a trust anchor, a bundle, a kubeconfig, RDAP's bootstrap), or at every
 * reload (a platform's values file): one that is there but is a FIFO, a
 * device or a directory is refused now, with its position (n, the key's
 * value), rather than waited on or failed later. A missing one is the
 * reader's to report: it may appear by then. */
static int path_check_regular(struct yfile *f, const char *key, const yaml_node_t *n, const char *path) {
        _cleanup_free_ char *shown = NULL;
        struct stat st;

        if (stat(path, &st) < 0 || S_ISREG(st.st_mode))
                return 0;
        shown = ynode_shown(n);
        return yfile_fail(f, n->start_mark, "'%s' is %s, not a regular file (%s)", shown,
                          S_ISDIR(st.st_mode) ? "a directory" : S_ISFIFO(st.st_mode) ? "a FIFO" : "a device or socket",
                          key);
}

/* A file, relative to the config file. */
static int parse_path(struct build *b, struct yfile *f, const struct key *k, const char *key, yaml_node_t *n,
                      void *field) {
        _cleanup_free_ char *path = NULL;
        const char *s = NULL;
        int r = yfile_get_string(f, key, n, &s);

        if (r != 0)
                return r < 0 ? r : 0;
        path = path_resolve(b->config_path, s);
        r = path_check_regular(f, key, n, path);
        if (r < 0)
                return r;
        set_string(field, TAKE_PTR(path));
        return 0;
}

/* "system", or a PEM bundle like parse_path. */
static int parse_trust(struct build *b, struct yfile *f, const struct key *k, const char *key, yaml_node_t *n,
                       void *field) {
        const char *s = NULL;
        int r = yfile_get_string(f, key, n, &s);

        if (r == 0) {
                set_string(field, strcmp(s, "system") == 0 ? xstrdup(s) : path_resolve(b->config_path, s));
                /* A file that cannot be loaded later is reported with this. */
                if (b->p)
                        set_string(&b->p->trust_origin, xasprintf("trust: at %s:%zu:%zu", f->path,
                                                                  n->start_mark.line + 1, n->start_mark.column + 1));
        }
        return r < 0 ? r : 0;
}

/* ------------------------------------------------------------------------ */
/* List parsers */

static size_t seq_count(const yaml_node_t *n) {
        return (size_t)(n->data.sequence.items.top - n->data.sequence.items.start);
}

static bool node_is_system(const yaml_node_t *n) {
        return n->type == YAML_SCALAR_NODE && !ynode_has_nul(n) && strcmp(ynode_value(n), "system") == 0;
}

/* One resolver of a list into *list, or "system" alone (*system). */
static int resolver_item(struct yfile *f, const char *key, yaml_node_t *n, yaml_node_t *item, bool *system,
                         char ***list) {
        _cleanup_free_ char *shown = NULL;
        char *canonical;

        if (item->type != YAML_SCALAR_NODE || ynode_is_null(item))
                return yfile_fail(f, item->start_mark, "'%s' must be a list of addresses", key);
        if (node_is_system(item)) {
                *system = true;
                if (seq_count(n) > 1)
                        return yfile_fail(f, item->start_mark, "'system' cannot be combined with other resolvers");
                return 0;
        }
        if (ynode_has_nul(item) || resolver_normalize(ynode_value(item), DNS_PORT, &canonical) < 0) {
                shown = ynode_shown(item);
                return yfile_fail(f, item->start_mark, "invalid resolver '%s' (expected ADDRESS[:PORT] or system)",
                                  shown);
        }
        strv_push(list, canonical);
        return 0;
}

static int parse_resolvers(struct build *b, struct yfile *f, const struct key *k, const char *key,
                           yaml_node_t *n, void *field) {
        _cleanup_strv_free_ char **list = NULL;
        char ***resolvers = field;
        bool system = false;

        if (node_is_system(n)) {
                *resolvers = strv_free(*resolvers);
                return 0;
        }
        if (n->type != YAML_SEQUENCE_NODE)
                return yfile_fail(f, n->start_mark, "'%s' must be a list", key);
        if (seq_count(n) == 0)
                return yfile_fail(f, n->start_mark, "'%s' must not be empty (use [system] for the system resolver)",
                                  key);
        for (yaml_node_item_t *i = n->data.sequence.items.start; i < n->data.sequence.items.top; i++) {
                yaml_node_t *item = yfile_node(f, *i);
                int r;

                if (!item)
                        continue;
                r = resolver_item(f, key, n, item, &system, &list);
                if (r < 0)
                        return r;
        }
        strv_free(*resolvers);
        *resolvers = system ? NULL : TAKE_PTR(list);
        return 0;
}

static int parse_addresses(struct build *b, struct yfile *f, const struct key *k, const char *key,
                           yaml_node_t *n, void *field) {
        _cleanup_strv_free_ char **list = NULL;
        char ***addresses = field;

        if (n->type != YAML_SEQUENCE_NODE)
                return yfile_fail(f, n->start_mark, "'%s' must be a list", key);
        for (yaml_node_item_t *i = n->data.sequence.items.start; i < n->data.sequence.items.top; i++) {
                yaml_node_t *item = yfile_node(f, *i);
                char *canonical;

                if (!item)
                        continue;
                if (item->type != YAML_SCALAR_NODE || ynode_is_null(item))
                        return yfile_fail(f, item->start_mark, "'%s' must be a list of addresses", key);
                if (ynode_has_nul(item) || address_normalize(ynode_value(item), &canonical) < 0) {
                        _cleanup_free_ char *shown = ynode_shown(item);
                        return yfile_fail(f, item->start_mark, "invalid address '%s' in %s", shown, key);
                }
                strv_push(&list, canonical);
        }
        strv_free(*addresses);
        *addresses = TAKE_PTR(list);
        return 0;
}

/* A finding id as the catalog spells them: dotted lower-case words. A
 * misspelt id in renew.on would silently never trigger, so each one must
 * also be in the catalog. */
static int finding_id_check(struct build *b, struct yfile *f, const char *key, yaml_node_t *item) {
        const char *s = ynode_value(item);
        _cleanup_free_ char *shown = NULL;

        if (strspn(s, "abcdefghijklmnopqrstuvwxyz0123456789.-") != strlen(s) || !strchr(s, '.') || s[0] == '.' ||
            str_endswith(s, ".") || strstr(s, "..")) {
                shown = ynode_shown(item);
                return yfile_fail(f, item->start_mark, "'%s' is not a finding id (%s)", shown, key);
        }
        if (b->known_id && !b->known_id(s)) {
                shown = ynode_shown(item);
                return yfile_fail(f, item->start_mark,
                                  "unknown finding id '%s' in %s (certvigil list-findings lists them)", shown, key);
        }
        return 0;
}

/* A list of non-empty strings; argv lists must not be empty, finding ids
 * are checked against the catalog. */
static int parse_strings(struct build *b, struct yfile *f, const char *key, yaml_node_t *n, char ***field,
                         bool ids) {
        _cleanup_strv_free_ char **list = NULL;

        if (n->type != YAML_SEQUENCE_NODE)
                return yfile_fail(f, n->start_mark, "'%s' must be a list", key);
        if (seq_count(n) == 0 && !ids)
                return yfile_fail(f, n->start_mark, "'%s' must not be empty", key);
        if (seq_count(n) > RENEW_ARGV_MAX)
                return yfile_fail(f, n->start_mark, "'%s' has more than %u items", key, RENEW_ARGV_MAX);
        for (yaml_node_item_t *i = n->data.sequence.items.start; i < n->data.sequence.items.top; i++) {
                yaml_node_t *item = yfile_node(f, *i);
                int r;

                if (!item)
                        continue;
                if (item->type != YAML_SCALAR_NODE || ynode_is_null(item) || item->data.scalar.length == 0)
                        return yfile_fail(f, item->start_mark, "'%s' must be a list of non-empty strings", key);
                if (ynode_has_nul(item))
                        return yfile_fail(f, item->start_mark, "'%s' must not contain NUL characters", key);
                r = ids ? finding_id_check(b, f, key, item) : 0;
                if (r < 0)
                        return r;
                strv_push(&list, xstrdup(ynode_value(item)));
        }
        strv_free(*field);
        *field = TAKE_PTR(list);
        return 0;
}

static int parse_argv(struct build *b, struct yfile *f, const struct key *k, const char *key, yaml_node_t *n,
                      void *field) {
        return parse_strings(b, f, key, n, field, false);
}

static int parse_finding_ids(struct build *b, struct yfile *f, const struct key *k, const char *key,
                             yaml_node_t *n, void *field) {
        return parse_strings(b, f, key, n, field, true);
}

/* ------------------------------------------------------------------------ */
/* The key tables: one per YAML mapping we understand.
 *
 * To add a key: add a member to struct platform (config.h) and its default to
 * platform_new(), then one row here: { "yamlName", parse_xxx, FIELD(member),
 * data }. Pick an existing parse_xxx (they are above, one per kind of value),
 * or write one with the key_parse_fn signature that reads the node through
 * the yfile_get_*() getters, so errors carry FILE:LINE:COL. A nested mapping
 * is a row { "name", parse_map, 0, child_table }. Keys in DEFAULTS_KEYS may
 * be set in defaults and per platform; CHART_KEYS are the Helm chart's and
 * are also read from values files. Then document it in certvigil.yaml(5)
 * and add a row to tests/unit/test_config.c. */

#define FIELD(f) offsetof(struct platform, f)
#define RFIELD(f) offsetof(struct platform, renew.f)

static const struct uint_range concurrency_range = { 1, 65535 };
static const struct uint_range renew_cap_range = { 1, RENEW_MAX_PER_WEEK_MAX };

/* ignore: [{id, name, until, reason}]. until is a date (YYYY-MM-DD, the
 * silence ends at its start, UTC) or an RFC 3339 time in UTC; a silence
 * without an end would be forgotten, so until and reason are required.
 * Items add to the ones from defaults. */
static int parse_silence_until(struct yfile *f, const char *key, yaml_node_t *n, time_t *ret) {
        const char *s = NULL, *end;
        struct tm tm = {};
        int r = yfile_get_string(f, key, n, &s);

        if (r != 0)
                return r < 0 ? r : yfile_fail(f, n->start_mark, "'%s' must be a date", key);
        end = strptime(s, "%Y-%m-%d", &tm);
        if (end && *end == 'T')
                end = strptime(end + 1, "%H:%M:%S", &tm);
        if (end && *end == 'Z')
                end++;
        if (!end || *end) {
                _cleanup_free_ char *shown = ynode_shown(n);
                return yfile_fail(f, n->start_mark, "'%s' is not a date (YYYY-MM-DD or YYYY-MM-DDTHH:MM:SSZ) in %s",
                                  shown, key);
        }
        *ret = timegm(&tm);
        return 0;
}

static int parse_silence(struct build *b, struct yfile *f, const char *key, yaml_node_t *item,
                         struct silence *ret) {
        yaml_node_pair_t *pair;
        bool have_until = false;
        int r;

        if (item->type != YAML_MAPPING_NODE)
                return yfile_fail(f, item->start_mark, "'%s' must be a list of {id, name, until, reason}", key);
        for (pair = item->data.mapping.pairs.start; pair < item->data.mapping.pairs.top; pair++) {
                yaml_node_t *kn = yfile_node(f, pair->key), *vn = yfile_node(f, pair->value);
                const char *k = kn ? ynode_value(kn) : "", *s = NULL;
                if (!vn)
                        continue;
                if (strcmp(k, "until") == 0) {
                        r = parse_silence_until(f, key, vn, &ret->until);
                        if (r < 0)
                                return r;
                        have_until = true;
                        continue;
                }
                if (strcmp(k, "id") != 0 && strcmp(k, "name") != 0 && strcmp(k, "reason") != 0)
                        return yfile_fail(f, kn ? kn->start_mark : item->start_mark,
                                          "unknown key '%s' in %s (expected id, name, until, reason)", k, key);
                r = yfile_get_string(f, key, vn, &s);
                if (r < 0)
                        return r;
                if (r > 0 || !*s)
                        return yfile_fail(f, vn->start_mark, "'%s.%s' must not be empty", key, k);
                if (strcmp(k, "id") == 0) {
                        r = finding_id_check(b, f, key, vn);
                        if (r < 0)
                                return r;
                        set_string(&ret->id, xstrdup(s));
                } else
                        set_string(strcmp(k, "name") == 0 ? &ret->name : &ret->reason, xstrdup(s));
        }
        if (!ret->id || !have_until || !ret->reason)
                return yfile_fail(f, item->start_mark, "each item of '%s' needs id, until and reason", key);
        return 0;
}

static int parse_silences(struct build *b, struct yfile *f, const struct key *k, const char *key, yaml_node_t *n,
                          void *field) {
        struct platform *p = b->p;

        if (n->type != YAML_SEQUENCE_NODE)
                return yfile_fail(f, n->start_mark, "'%s' must be a list of {id, name, until, reason}", key);
        for (yaml_node_item_t *i = n->data.sequence.items.start; i < n->data.sequence.items.top; i++) {
                yaml_node_t *item = yfile_node(f, *i);
                struct silence s = {};
                int r;

                if (!item)
                        continue;
                if (p->n_silences >= SILENCES_MAX)
                        return yfile_fail(f, item->start_mark, "'%s' has more than %d items", key, SILENCES_MAX);
                r = parse_silence(b, f, key, item, &s);
                if (r < 0) {
                        free(s.id);
                        free(s.name);
                        free(s.reason);
                        return r;
                }
                p->silences = xrealloc(p->silences, (p->n_silences + 1) * sizeof(*p->silences));
                p->silences[p->n_silences++] = s;
        }
        return 0;
}

static const struct key subdomain_keys[] = {
        { "api", parse_subdomain, FIELD(labels[SERVICE_API]), NULL },
        { "console", parse_subdomain, FIELD(labels[SERVICE_CONSOLE]), NULL },
        { "grafana", parse_subdomain, FIELD(labels[SERVICE_GRAFANA]), NULL },
        { "auth", parse_subdomain, FIELD(labels[SERVICE_AUTH]), NULL },
        { "mcp", parse_subdomain, FIELD(labels[SERVICE_MCP]), NULL },
        {},
};

static const struct key global_keys[] = {
        { "baseDomain", parse_domain, FIELD(base_domain), NULL },
        { "subdomains", parse_map, 0, subdomain_keys },
        { "subdomainSeparator", parse_separator, FIELD(separator), NULL },
        {},
};

static const struct key dns01_keys[] = {
        { "provider", parse_string, FIELD(dns01_provider), NULL },
        { "dnsZone", parse_domain, FIELD(dns01_zone), NULL },
        {},
};

static const struct key letsencrypt_keys[] = {
        { "issuer", parse_string, FIELD(le_issuer), NULL },
        { "email", parse_string, FIELD(le_email), NULL },
        { "dns01", parse_map, 0, dns01_keys },
        {},
};

static const struct key tls_keys[] = {
        { "mode", parse_tls_mode, FIELD(tls_mode), NULL },
        { "letsencrypt", parse_map, 0, letsencrypt_keys },
        { "wildcardSecretName", parse_kube_name, FIELD(wildcard_secret), NULL },
        {},
};

static const struct key tunnel_keys[] = {
        { "enabled", parse_bool, FIELD(tunnel_enabled), NULL },
        {},
};

static const struct key ingress_keys[] = {
        { "tunnel", parse_map, 0, tunnel_keys },
        {},
};

static const struct key mcp_keys[] = {
        { "enabled", parse_bool, FIELD(mcp_enabled), NULL },
        {},
};

static const struct key cert_manager_keys[] = {
        { "namespace", parse_label, RFIELD(cm_namespace), NULL },
        { "certificate", parse_kube_name, RFIELD(cm_certificate), NULL },
        { "kubeconfig", parse_path, RFIELD(cm_kubeconfig), NULL },
        { "in_cluster", parse_bool, RFIELD(cm_in_cluster), NULL },
        {},
};

static const struct key kubernetes_keys[] = {
        { "namespace", parse_label, FIELD(kube_namespace), NULL },
        { "kubeconfig", parse_path, FIELD(kube_kubeconfig), NULL },
        { "in_cluster", parse_bool, FIELD(kube_in_cluster), NULL },
        {},
};

static const struct uint_range dnssec_days_range = { 0, 365 };

static const struct key dnssec_keys[] = {
        { "enabled", parse_bool, FIELD(dnssec_enabled), NULL },
        { "trust_anchor", parse_path, FIELD(dnssec_trust_anchor), NULL },
        {},
};

static const struct key rdap_keys[] = {
        { "enabled", parse_bool, FIELD(rdap_enabled), NULL },
        { "bootstrap", parse_path, FIELD(rdap_bootstrap), NULL },
        { "url", parse_url, FIELD(rdap_url), NULL },
        { "trust", parse_path, FIELD(rdap_trust), NULL },
        {},
};

static const struct key ct_keys[] = {
        { "required", parse_bool, FIELD(ct_required), NULL },
        { "url", parse_url, FIELD(ct_url), NULL },
        { "trust", parse_path, FIELD(ct_trust), NULL },
        {},
};

static const struct key renew_keys[] = {
        { "enabled", parse_bool, RFIELD(enabled), NULL },
        { "on", parse_finding_ids, RFIELD(on), NULL },
        { "command", parse_argv, RFIELD(command), NULL },
        { "timeout", parse_usec, RFIELD(timeout_usec), NULL },
        { "min_interval", parse_usec, RFIELD(min_interval_usec), NULL },
        { "max_per_week", parse_uint, RFIELD(max_per_week), &renew_cap_range },
        { "verify_every", parse_usec, RFIELD(verify_every_usec), NULL },
        { "verify_timeout", parse_usec, RFIELD(verify_timeout_usec), NULL },
        { "cert_manager", parse_map, 0, cert_manager_keys },
        {},
};

#define CHART_KEYS \
        { "global", parse_map, 0, global_keys }, \
        { "tls", parse_map, 0, tls_keys }, \
        { "ingress", parse_map, 0, ingress_keys }, \
        { "mcp", parse_map, 0, mcp_keys }

#define DEFAULTS_KEYS \
        { "port", parse_port, FIELD(port), NULL }, \
        { "dns_port", parse_port, FIELD(dns_port), NULL }, \
        { "resolvers", parse_resolvers, FIELD(resolvers), NULL }, \
        { "trust", parse_trust, FIELD(trust), NULL }, \
        { "warn_days", parse_warn_days, FIELD(warn_days), NULL }, \
        { "critical_days", parse_critical_days, FIELD(critical_days), NULL }, \
        { "timeout", parse_usec, FIELD(timeout_usec), NULL }, \
        { "deadline", parse_usec, FIELD(deadline_usec), NULL }, \
        { "concurrency", parse_uint, FIELD(concurrency), &concurrency_range }, \
        { "interval", parse_usec, FIELD(interval_usec), NULL }, \
        { "jitter", parse_jitter, 0, NULL }, \
        { "remind", parse_usec, FIELD(remind_usec), NULL }, \
        { "renew_at", parse_fraction, FIELD(renew_at), NULL }, \
        { "expect_issuer", parse_string, FIELD(expect_issuer), NULL }, \
        { "renew", parse_map, 0, renew_keys }, \
        { "acme_directory", parse_url, FIELD(acme_directory), NULL }, \
        { "acme_trust", parse_path, FIELD(acme_trust), NULL }, \
        { "kubernetes", parse_map, 0, kubernetes_keys }, \
        { "ignore", parse_silences, 0, NULL }, \
        { "fetch_private", parse_tristate, FIELD(fetch_private), NULL }, \
        { "dnssec", parse_map, 0, dnssec_keys }, \
        { "dnssec_warn_days", parse_uint, FIELD(dnssec_warn_days), &dnssec_days_range }, \
        { "ct", parse_map, 0, ct_keys }, \
        { "rdap", parse_map, 0, rdap_keys }, \
        { "domain_warn_days", parse_uint, FIELD(domain_warn_days), &dnssec_days_range }, \
        { "domain_critical_days", parse_uint, FIELD(domain_critical_days), &dnssec_days_range }

/* The root of a Helm values file. */
static const struct key values_keys[] = {
        CHART_KEYS,
        {},
};

static const struct key defaults_keys[] = {
        DEFAULTS_KEYS,
        {},
};

static const struct key platform_keys[] = {
        { "name", parse_none, 0, NULL },
        { "values", parse_none, 0, NULL },
        { "expect_addresses", parse_addresses, FIELD(expect_addresses), NULL },
        { "connect_to", parse_connect_to, FIELD(connect_to), NULL },
        DEFAULTS_KEYS,
        CHART_KEYS,
        {},
};

static const struct key top_keys[] = {
        { "defaults", parse_none, 0, NULL },
        { "platforms", parse_none, 0, NULL },
        { "listen", parse_none, 0, NULL },   /* read by config_parse_fleet() */
        { "shard", parse_none, 0, NULL },
        { "max_inflight", parse_none, 0, NULL },
        {},
};

/* ------------------------------------------------------------------------ */
/* The table walk */

static const struct key *key_find(const struct key *table, const yaml_node_t *kn, size_t *ret_index) {
        if (ynode_has_nul(kn))
                return NULL;
        for (size_t i = 0; table[i].name; i++)
                if (strcmp(ynode_value(kn), table[i].name) == 0) {
                        *ret_index = i;
                        return &table[i];
                }
        return NULL;
}

/* The longest key name suggestions consider (the tables' are far shorter). */
#define KEY_NAME_MAX 32
#define SUGGEST_DISTANCE_MAX 3

static size_t size_min(size_t a, size_t b) {
        return a < b ? a : b;
}

/* Optimal string alignment distance between a (la bytes) and b: edits,
 * insertions, deletions and swaps of two neighbours, each costing one. */
static size_t key_distance(const char *a, size_t la, const char *b) {
        size_t lb = strlen(b), d[3][KEY_NAME_MAX + 1];

        assert(lb <= KEY_NAME_MAX);
        for (size_t j = 0; j <= lb; j++)
                d[0][j] = j;
        for (size_t i = 1; i <= la; i++) {
                size_t *cur = d[i % 3], *prev = d[(i - 1) % 3], *prev2 = d[(i + 1) % 3];

                cur[0] = i;
                for (size_t j = 1; j <= lb; j++) {
                        size_t v = prev[j - 1] + (a[i - 1] != b[j - 1]);

                        v = size_min(v, size_min(prev[j], cur[j - 1]) + 1);
                        if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1])
                                v = size_min(v, prev2[j - 2] + 1);
                        cur[j] = v;
                }
        }
        return d[la % 3][lb];
}

/* The table's key a misspelt key most likely meant, or NULL when none is
 * close: one edit for names of up to 4 characters, two up to 9, three
 * beyond, so that short names are not matched by chance. */
static const char *key_suggest(const struct key *table, const yaml_node_t *kn) {
        size_t la = kn->data.scalar.length, best_d = SIZE_MAX;
        const char *best = NULL;

        for (size_t i = 0; table[i].name; i++) {
                size_t lb = strlen(table[i].name), d, allowed = lb <= 4 ? 1 : lb <= 9 ? 2 : SUGGEST_DISTANCE_MAX;

                if (lb > KEY_NAME_MAX || la > lb + allowed || lb > la + allowed)
                        continue;
                d = key_distance(ynode_value(kn), la, table[i].name);
                if (d <= allowed && d < best_d) {
                        best = table[i].name;
                        best_d = d;
                }
        }
        return best;
}

/* A key the table does not have: an error in a strict file (with the
 * likely meant key); in a values file someone else's key, unless it looks
 * like a misspelling of ours, which is worth a warning. */
static int unknown_key(struct yfile *f, const struct key *table, const yaml_node_t *kn, const char *where) {
        const char *meant = key_suggest(table, kn);
        _cleanup_free_ char *shown = NULL, *hint = NULL;

        if (!f->strict && !meant)
                return 0;
        shown = ynode_shown(kn);
        hint = meant ? xasprintf(" (did you mean '%s'?)", meant) : xstrdup("");
        if (f->strict)
                return yfile_fail(f, kn->start_mark, "unknown key '%s' %s%s", shown, where, hint);
        yfile_warn(f, kn->start_mark, "unknown key '%s' %s, ignored%s", shown, where, hint);
        return 0;
}

/* YAML 1.1's merge key, "<<: *anchor" (or a list of them), which Helm
 * reads in values files. */
static bool is_merge_key(const yaml_node_t *kn) {
        return kn->type == YAML_SCALAR_NODE && ynode_is_plain(kn) && strcmp(ynode_value(kn), "<<") == 0;
}

/* Merges nested deeper than this are refused: an anchor may merge itself.
 * And at most this many mappings are merged into one: each level may list
 * an anchor many times, so the work would grow as the product of the lists
 * (a billion laughs made of merge keys). Nor more than this many keys in
 * all: a mapping of 200,000 keys merged 999 times took 21 s of CPU. */
#define MERGE_DEPTH_MAX 16
#define MERGE_MAPPINGS_MAX 1000u
#define MERGE_KEYS_MAX 100000u

struct merge_walk {
        uint64_t seen;             /* the table's keys set so far */
        unsigned mappings_left;    /* MERGE_MAPPINGS_MAX, counted down */
        size_t keys_left;          /* MERGE_KEYS_MAX, counted down */
};

static int apply_pairs(struct build *b, struct yfile *f, yaml_node_t *map, const struct key *table,
                       const char *prefix, const char *where, struct merge_walk *w, unsigned depth);

/* The mappings a merge key brings in, in order: the first one that has a
 * key wins, and keys already set where the merge key is win over all. */
static int apply_merge(struct build *b, struct yfile *f, yaml_node_t *kn, yaml_node_t *vn, const struct key *table,
                       const char *prefix, const char *where, struct merge_walk *w, unsigned depth) {
        if (depth >= MERGE_DEPTH_MAX)
                return yfile_fail(f, kn->start_mark, "merge keys ('<<') nested more than %d deep %s",
                                  MERGE_DEPTH_MAX, where);
        if (vn->type == YAML_MAPPING_NODE)
                return apply_pairs(b, f, vn, table, prefix, where, w, depth + 1);
        if (vn->type == YAML_SEQUENCE_NODE)
                for (yaml_node_item_t *it = vn->data.sequence.items.start; it < vn->data.sequence.items.top; it++) {
                        yaml_node_t *m = yfile_node(f, *it);
                        int r;

                        if (!m || m->type != YAML_MAPPING_NODE)
                                return yfile_fail(f, m ? m->start_mark : vn->start_mark,
                                                  "a merge key ('<<') takes a mapping or a list of mappings");
                        r = apply_pairs(b, f, m, table, prefix, where, w, depth + 1);
                        if (r < 0)
                                return r;
                }
        else
                return yfile_fail(f, vn->start_mark, "a merge key ('<<') takes a mapping or a list of mappings");
        return 0;
}

/* One mapping's keys against the table, the merged ones (depth > 0) only
 * where not already set, then its own merge keys. */
static int apply_pairs(struct build *b, struct yfile *f, yaml_node_t *map, const struct key *table,
                       const char *prefix, const char *where, struct merge_walk *w, unsigned depth) {
        size_t n = (size_t)(map->data.mapping.pairs.top - map->data.mapping.pairs.start);

        if (depth > 0 && w->mappings_left-- == 0)
                return yfile_fail(f, map->start_mark, "more than %u mappings merged ('<<') %s", MERGE_MAPPINGS_MAX,
                                  where);
        if (depth > 0 && n > w->keys_left)
                return yfile_fail(f, map->start_mark, "more than %u keys merged ('<<') %s", MERGE_KEYS_MAX, where);
        if (depth > 0)
                w->keys_left -= n;
        for (int merges = 0; merges < 2; merges++)
                for (yaml_node_pair_t *pair = map->data.mapping.pairs.start; pair < map->data.mapping.pairs.top;
                     pair++) {
                        yaml_node_t *kn = yfile_node(f, pair->key), *vn = yfile_node(f, pair->value);
                        _cleanup_free_ char *path = NULL;
                        const struct key *k;
                        size_t i = 0;
                        int r;

                        if (!kn || !vn || is_merge_key(kn) != (merges == 1))
                                continue;
                        if (merges) {
                                /* certvigil's own config says each key once, where it applies. */
                                if (f->strict)
                                        return yfile_fail(f, kn->start_mark, "merge keys ('<<') are not supported "
                                                          "%s: write the keys out", where);
                                r = apply_merge(b, f, kn, vn, table, prefix, where, w, depth);
                                if (r < 0)
                                        return r;
                                continue;
                        }
                        if (kn->type != YAML_SCALAR_NODE) {
                                if (!f->strict)
                                        continue;
                                return yfile_fail(f, kn->start_mark, "unsupported non-string key %s", where);
                        }
                        k = key_find(table, kn, &i);
                        if (!k) {
                                r = depth == 0 ? unknown_key(f, table, kn, where) : 0;
                                if (r < 0)
                                        return r;
                                continue;
                        }
                        /* Every table is far shorter than the 64 bits of seen. */
                        if (w->seen & (UINT64_C(1) << i)) {
                                if (depth > 0)
                                        continue;
                                return yfile_fail(f, kn->start_mark, "duplicate key '%s'", k->name);
                        }
                        w->seen |= UINT64_C(1) << i;

                        path = prefix ? xasprintf("%s.%s", prefix, k->name) : xstrdup(k->name);
                        r = k->parse(b, f, k, path, vn, b->p ? (char *)b->p + k->offset : NULL);
                        if (r < 0)
                                return r;
                }
        return 0;
}

/* Walks one mapping against its key table. In a strict file every key must be
 * known; in a values file unknown keys are someone else's and are skipped,
 * but ours must still have the right type, and merge keys work as in Helm. */
static int apply_map(struct build *b, struct yfile *f, yaml_node_t *map, const struct key *table,
                     const char *prefix, const char *where) {
        struct merge_walk w = { .mappings_left = MERGE_MAPPINGS_MAX, .keys_left = MERGE_KEYS_MAX };

        return apply_pairs(b, f, map, table, prefix, where, &w, 0);
}

/* ------------------------------------------------------------------------ */
/* Platforms as a whole */

static int apply_values_file(struct build *b, struct yfile *cf, const char *path, yaml_mark_t mark) {
        _cleanup_(yfile_done) struct yfile f = { .path = path, .error = cf->error, .warnings = cf->warnings };
        _cleanup_free_ char *text = NULL;
        yaml_node_t *root;
        size_t len;
        int r;

        r = yfile_read(path, YFILE_PIPE_WAIT_MS, &text, &len);
        if (r < 0) {
                _cleanup_free_ char *shown = yfile_shown(path, strlen(path));
                return yfile_fail_errno(cf, r, mark, "cannot read values file '%s': %s", shown, yfile_strerror(r));
        }
        r = yfile_parse(&f, text, len);
        if (r < 0)
                return r;
        root = yfile_root(&f);
        if (!root || ynode_is_null(root))
                return 0;
        if (root->type != YAML_MAPPING_NODE)
                return yfile_fail(&f, root->start_mark, "a values file must be a mapping");
        return apply_map(b, &f, root, values_keys, NULL, "at top level");
}

static int check_days(struct build *b, struct yfile *f) {
        const struct platform *p = b->p;
        yaml_mark_t m = b->warn_set ? b->warn_mark : b->critical_mark;

        if (p->warn_days < 0 || p->critical_days < 0 || p->warn_days >= p->critical_days)
                return 0;
        return yfile_fail(f, m, "warn_days (%d) must not be less than critical_days (%d)", p->warn_days,
                          p->critical_days);
}

/* Two services on one label would be one name serving two services: the
 * plan, the probes and the reports all count on one name per service. The
 * error points at the later of the two that was set explicitly. */
static int check_labels(struct build *b, struct yfile *cf) {
        const struct platform *p = b->p;

        for (size_t j = 1; j < _SERVICE_MAX; j++)
                for (size_t i = 0; i < j; i++) {
                        size_t at = b->label_at[j].file ? j : i;
                        struct yfile f = { .path = b->label_at[at].file, .error = cf->error };
                        _cleanup_free_ char *shown = NULL;

                        if (strcmp(p->labels[i], p->labels[j]) != 0)
                                continue;
                        assert(f.path);   /* the default labels are distinct */
                        shown = yfile_shown(p->labels[at], strlen(p->labels[at]));
                        return yfile_fail(&f, b->label_at[at].mark,
                                          "'%s' (global.subdomains.%s) is also the label of global.subdomains.%s: "
                                          "every service needs a name of its own",
                                          shown, service_names[at], service_names[at == j ? i : j]);
                }
        return 0;
}

/* Where a platform's renew: settings came from, for messages. */
static yaml_mark_t renew_mark(struct yfile *f, yaml_node_t *map, yaml_node_t *defaults) {
        yaml_node_pair_t *pair = yfile_find_key(f, map, "renew");

        if (!pair && defaults)
                pair = yfile_find_key(f, defaults, "renew");
        return pair ? yfile_node(f, pair->key)->start_mark : map->start_mark;
}

/* The renew: and kubernetes: settings as a whole, once every layer has
 * been applied: one renewal method when enabled, and complete connections. */
static int check_platform_links(struct build *b, struct yfile *f, yaml_node_t *map, yaml_node_t *defaults,
                                const char *shown) {
        const struct renew_settings *rs = &b->p->renew;
        bool cm = rs->cm_namespace || rs->cm_certificate || rs->cm_kubeconfig || rs->cm_in_cluster;
        yaml_mark_t m = renew_mark(f, map, defaults);

        if (rs->command && cm)
                return yfile_fail(f, m, "platform '%s': renew.command and renew.cert_manager exclude each other",
                                  shown);
        if (cm && (!rs->cm_namespace || !rs->cm_certificate))
                return yfile_fail(f, m, "platform '%s': renew.cert_manager needs namespace and certificate", shown);
        if (cm && !!rs->cm_kubeconfig == rs->cm_in_cluster)
                return yfile_fail(f, m,
                                  "platform '%s': renew.cert_manager needs one of kubeconfig or in_cluster: true",
                                  shown);
        if (rs->enabled && !rs->command && !cm)
                return yfile_fail(f, m, "platform '%s': renew is enabled but has no method (command or cert_manager)",
                                  shown);
        if ((b->p->kube_kubeconfig || b->p->kube_in_cluster) && !b->p->kube_namespace)
                return yfile_fail(f, map->start_mark, "platform '%s': kubernetes needs a namespace", shown);
        if (b->p->kube_namespace && !!b->p->kube_kubeconfig == b->p->kube_in_cluster)
                return yfile_fail(f, map->start_mark,
                                  "platform '%s': kubernetes needs one of kubeconfig or in_cluster: true", shown);
        if (rs->verify_timeout_usec < rs->verify_every_usec)
                return yfile_fail(f, m,
                                  "platform '%s': renew.verify_timeout must not be shorter than renew.verify_every",
                                  shown);
        return 0;
}

static bool name_is_valid(const char *s) {
        for (; *s; s++)
                if ((unsigned char)*s < 0x20 || *s == 0x7f)
                        return false;
        return true;
}

/* The platform's name, checked and unique among the platforms before it. */
static int platform_parse_name(struct yfile *f, yaml_node_t *map, size_t index, struct platform *const *others,
                               size_t n_others, struct platform *p) {
        yaml_node_pair_t *pair = yfile_find_key(f, map, "name");
        _cleanup_free_ char *shown = NULL;
        const char *s = NULL;
        yaml_node_t *vn;
        int r;

        r = pair ? yfile_get_string(f, "name", yfile_node(f, pair->value), &s) : 1;
        if (r < 0)
                return r;
        if (r > 0)
                return yfile_fail(f, map->start_mark, "platform #%zu has no name", index + 1);
        vn = yfile_node(f, pair->value);
        shown = ynode_shown(vn);
        if (!name_is_valid(s))
                return yfile_fail(f, vn->start_mark, "'%s' is not a valid platform name", shown);
        for (size_t i = 0; i < n_others; i++)
                if (strcmp(others[i]->name, s) == 0)
                        return yfile_fail(f, vn->start_mark, "duplicate platform name '%s'", shown);
        p->name = xstrdup(s);
        return 0;
}

/* The values file goes under the inline keys, which override it. */
static int platform_parse_values(struct build *b, struct yfile *f, yaml_node_t *map) {
        yaml_node_pair_t *pair = yfile_find_key(f, map, "values");
        const char *s = NULL;
        int r;

        if (!pair)
                return 0;
        r = yfile_get_string(f, "values", yfile_node(f, pair->value), &s);
        if (r != 0)
                return r < 0 ? r : 0;
        b->p->values_path = path_resolve(f->path, s);
        r = path_check_regular(f, "values", yfile_node(f, pair->value), b->p->values_path);
        if (r < 0)
                return r;
        return apply_values_file(b, f, b->p->values_path, yfile_node(f, pair->key)->start_mark);
}

static int platform_parse(struct yfile *f, yaml_node_t *map, size_t index, yaml_node_t *defaults,
                          finding_lookup_fn known_id, struct platform *const *others, size_t n_others,
                          struct platform **ret) {
        _cleanup_(platform_freep) struct platform *p = platform_new();
        _cleanup_free_ char *shown = NULL, *where = NULL;
        struct build b = { .p = p, .config_path = f->path, .known_id = known_id };
        int r;

        if (map->type != YAML_MAPPING_NODE)
                return yfile_fail(f, map->start_mark, "platform #%zu must be a mapping", index + 1);
        /* The name first, since every later message names the platform. */
        r = platform_parse_name(f, map, index, others, n_others, p);
        if (r < 0)
                return r;
        shown = yfile_shown(p->name, strlen(p->name));
        r = defaults ? apply_map(&b, f, defaults, defaults_keys, NULL, "in defaults") : 0;
        if (r < 0)
                return r;
        r = platform_parse_values(&b, f, map);
        if (r < 0)
                return r;
        where = xasprintf("in platform '%s'", shown);
        r = apply_map(&b, f, map, platform_keys, NULL, where);
        if (r < 0)
                return r;

        if (!p->base_domain)
                return yfile_fail(f, map->start_mark, "platform '%s' has no global.baseDomain", shown);
        r = check_days(&b, f);
        if (r < 0)
                return r;
        r = check_labels(&b, f);
        if (r < 0)
                return r;
        r = check_platform_links(&b, f, map, defaults, shown);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(p);
        return 0;
}

/* ------------------------------------------------------------------------ */
/* Configs */

static struct config *config_new(const char *path) {
        struct config *c = xcalloc(1, sizeof(*c));
        c->path = xstrdup(path);
        return c;
}

struct config *config_free(struct config *c) {
        if (!c)
                return NULL;
        for (size_t i = 0; i < c->n_platforms; i++)
                platform_free(c->platforms[i]);
        free(c->platforms);
        strv_free(c->warnings);
        free(c->path);
        free(c->listen_addr);
        free(c);
        return NULL;
}

static void config_freep(struct config **c) {
        config_free(*c);
}

/* The top-level `listen:`, `shard:` (fleet.h) and `max_inflight:`, which
 * belong to the instance rather than to a platform. */
static int config_parse_fleet(struct yfile *f, yaml_node_t *root, struct config *c) {
        yaml_node_pair_t *pair;
        const char *s = NULL;
        int r;

        pair = yfile_find_key(f, root, "listen");
        if (pair) {
                yaml_node_t *n = yfile_node(f, pair->value);
                r = yfile_get_string(f, "listen", n, &s);
                if (r < 0)
                        return r;
                if (r == 0 && listen_parse(s, &c->listen_addr, &c->listen_port) < 0) {
                        _cleanup_free_ char *shown = ynode_shown(n);
                        return yfile_fail(f, n->start_mark,
                                          "invalid listen '%s' (expected ADDRESS:PORT, [IPv6]:PORT or PORT)", shown);
                }
        }
        pair = yfile_find_key(f, root, "shard");
        if (pair) {
                yaml_node_t *n = yfile_node(f, pair->value);
                r = yfile_get_string(f, "shard", n, &s);
                if (r < 0)
                        return r;
                if (r == 0 && shard_parse(s, &c->shard) < 0) {
                        _cleanup_free_ char *shown = ynode_shown(n);
                        return yfile_fail(f, n->start_mark, "invalid shard '%s' (expected I/N, 1 <= I <= N <= %d)",
                                          shown, SHARDS_MAX);
                }
        }
        pair = yfile_find_key(f, root, "max_inflight");
        if (pair) {
                long long v = 0;
                r = yfile_get_int(f, "max_inflight", yfile_node(f, pair->value), 1, MAX_INFLIGHT_MAX, &v);
                if (r < 0)
                        return r;
                c->max_inflight = (unsigned)v;
        }
        return 0;
}

/* The top level: its keys, the defaults checked once up front (so that their
 * errors show even before, or without, any platform), and the platform list
 * (NULL when there is none). */
static int config_parse_top(struct yfile *f, yaml_node_t *root, finding_lookup_fn known_id,
                            yaml_node_t **ret_defaults, yaml_node_t **ret_platforms) {
        _cleanup_(platform_freep) struct platform *scratch_p = platform_new();
        struct build scratch = { .config_path = f->path, .known_id = known_id };
        yaml_node_pair_t *pair;
        int r;

        if (root->type != YAML_MAPPING_NODE)
                return yfile_fail(f, root->start_mark, "the config file must be a mapping");
        r = apply_map(&scratch, f, root, top_keys, NULL, "at top level");
        if (r < 0)
                return r;
        pair = yfile_find_key(f, root, "defaults");
        if (pair) {
                *ret_defaults = yfile_node(f, pair->value);
                if ((*ret_defaults)->type != YAML_MAPPING_NODE)
                        return yfile_fail(f, (*ret_defaults)->start_mark, "'defaults' must be a mapping");
                scratch.p = scratch_p;
                r = apply_map(&scratch, f, *ret_defaults, defaults_keys, NULL, "in defaults");
                if (r < 0)
                        return r;
        }
        pair = yfile_find_key(f, root, "platforms");
        if (pair) {
                *ret_platforms = yfile_node(f, pair->value);
                if (ynode_is_null(*ret_platforms))
                        *ret_platforms = NULL;
                else if ((*ret_platforms)->type != YAML_SEQUENCE_NODE)
                        return yfile_fail(f, (*ret_platforms)->start_mark, "'platforms' must be a list");
        }
        return 0;
}

static int config_parse(const char *text, size_t len, const char *filename, finding_lookup_fn known_id,
                        struct config **ret, char **error) {
        _cleanup_(config_freep) struct config *c = config_new(filename);
        _cleanup_(yfile_done) struct yfile f = { .path = filename ? filename : "<string>", .strict = true,
                                                 .error = error, .warnings = &c->warnings };
        yaml_node_t *root, *defaults = NULL, *platforms = NULL;
        size_t n;
        int r;

        r = yfile_parse(&f, text, len);
        if (r < 0)
                return r;
        root = yfile_root(&f);
        if (root && !ynode_is_null(root)) {
                r = config_parse_top(&f, root, known_id, &defaults, &platforms);
                if (r >= 0)
                        r = config_parse_fleet(&f, root, c);
                if (r < 0)
                        return r;
        }
        n = platforms ? seq_count(platforms) : 0;
        if (n == 0)
                return yfile_fail(&f, (yaml_mark_t){}, "no platforms defined");
        if (n > PLATFORMS_MAX)
                return yfile_fail(&f, platforms->start_mark, "too many platforms (more than %u)", PLATFORMS_MAX);

        c->platforms = xcalloc(n, sizeof(struct platform *));
        for (size_t i = 0; i < n; i++) {
                yaml_node_t *item = yfile_node(&f, platforms->data.sequence.items.start[i]);

                if (!item)
                        continue;
                r = platform_parse(&f, item, i, defaults, known_id, c->platforms, c->n_platforms,
                                   &c->platforms[c->n_platforms]);
                if (r < 0)
                        return r;
                c->n_platforms++;
        }
        *ret = TAKE_PTR(c);
        return 0;
}

int config_load(const char *path, finding_lookup_fn known_id, struct config **ret, char **ret_error) {
        struct yfile f = { .path = path, .error = ret_error };
        _cleanup_free_ char *text = NULL;
        size_t len;
        int r;

        r = yfile_read(path, YFILE_PIPE_WAIT_MS, &text, &len);
        if (r < 0)
                return yfile_fail_file(&f, r, "cannot read: %s", yfile_strerror(r));
        return config_parse(text, len, path, known_id, ret, ret_error);
}

int config_load_string(const char *text, const char *filename, finding_lookup_fn known_id, struct config **ret,
                       char **ret_error) {
        struct yfile f = { .path = filename ? filename : "<string>", .error = ret_error };
        size_t len = strlen(text);

        if (len > YFILE_SIZE_MAX)
                return yfile_fail_file(&f, -EFBIG, "cannot read: %s", yfile_strerror(-EFBIG));
        return config_parse(text, len, filename, known_id, ret, ret_error);
}

int config_from_values(const char *values_path, struct config **ret, char **ret_error) {
        _cleanup_(config_freep) struct config *c = config_new(NULL);
        _cleanup_(platform_freep) struct platform *p = platform_new();
        _cleanup_(yfile_done) struct yfile f = { .path = values_path, .error = ret_error, .warnings = &c->warnings };
        _cleanup_free_ char *text = NULL;
        struct build b = { .p = p };
        yaml_node_t *root;
        yaml_mark_t start = {};
        size_t len;
        int r;

        r = yfile_read(values_path, YFILE_PIPE_WAIT_MS, &text, &len);
        if (r < 0)
                return yfile_fail_file(&f, r, "cannot read: %s", yfile_strerror(r));
        r = yfile_parse(&f, text, len);
        if (r < 0)
                return r;
        root = yfile_root(&f);
        if (root && !ynode_is_null(root)) {
                if (root->type != YAML_MAPPING_NODE)
                        return yfile_fail(&f, root->start_mark, "a values file must be a mapping");
                start = root->start_mark;
                r = apply_map(&b, &f, root, values_keys, NULL, "at top level");
                if (r < 0)
                        return r;
        }
        if (!p->base_domain)
                return yfile_fail(&f, start, "values file has no global.baseDomain");
        r = check_labels(&b, &f);
        if (r < 0)
                return r;

        p->name = xstrdup(p->base_domain);
        p->values_path = xstrdup(values_path);
        c->platforms = xcalloc(1, sizeof(struct platform *));
        c->platforms[0] = TAKE_PTR(p);
        c->n_platforms = 1;
        *ret = TAKE_PTR(c);
        return 0;
}

/* ------------------------------------------------------------------------ */
/* One host (certvigil check) */

/* Splits HOST[:PORT], [IPv6][:PORT] or a bare IPv6 address into the host,
 * lower-cased without a trailing dot, and the port (0 when not given). */
static int host_target_split(const char *target, char **ret_host, long long *ret_port, char **ret_error) {
        _cleanup_free_ char *shown = yfile_shown(target, strlen(target));
        _cleanup_free_ char *host = NULL;
        const char *end, *port = NULL;
        long long number = 0;

        if (!*target)
                return fail_plain(ret_error, -EINVAL, "HOST is empty (expected NAME[:PORT] or an address)");
        if (target[0] == '[') {
                end = strchr(target, ']');
                if (!end || (end[1] && end[1] != ':'))
                        return fail_plain(ret_error, -EINVAL, "HOST '%s': expected [IPv6] or [IPv6]:PORT", shown);
                host = xstrndup(target + 1, (size_t)(end - target - 1));
                port = end[1] ? end + 2 : NULL;
                if (!strchr(host, ':') || !address_is_literal(host))
                        return fail_plain(ret_error, -EINVAL, "HOST '%s': not an IPv6 address in brackets", shown);
        } else if ((end = strchr(target, ':')) && strchr(end + 1, ':')) {
                host = xstrdup(target); /* a bare IPv6 address: no port */
        } else {
                host = end ? xstrndup(target, (size_t)(end - target)) : xstrdup(target);
                port = end ? end + 1 : NULL;
        }
        if (port && (!*port || strspn(port, "0123456789") != strlen(port) || parse_int(port, 1, 65535, &number) < 0))
                return fail_plain(ret_error, -EINVAL, "HOST '%s': the port is not a number from 1 to 65535", shown);
        for (char *c = host; *c; c++)
                *c = (char)tolower((unsigned char)*c);
        size_t n = strlen(host);
        if (n > 1 && host[n - 1] == '.' && !address_is_literal(host))
                host[n - 1] = 0;
        *ret_host = TAKE_PTR(host);
        *ret_port = number;
        return 0;
}

/* Judges the split host: a DNS name as given, or an address in its one
 * canonical spelling (::0001 is ::1), replacing *host. */
static int host_validate(char **host, bool wildcard, char **ret_error) {
        _cleanup_free_ char *shown = yfile_shown(*host, strlen(*host));
        char *canonical;

        if (!address_is_literal(*host)) {
                if (strlen(*host) > 253)
                        return fail_plain(ret_error, -EINVAL, "HOST '%.40s...': longer than 253 characters", shown);
                if (!dns_name_is_valid(*host))
                        return fail_plain(ret_error, -EINVAL,
                                          "HOST '%s': not a DNS name (labels of a-z, 0-9 and '-', at least two) "
                                          "nor an IP address", shown);
                return 0;
        }
        if (wildcard)
                return fail_plain(ret_error, -EINVAL, "--wildcard needs a host name; '%s' is an address", shown);
        if (address_normalize(*host, &canonical) < 0)
                return fail_plain(ret_error, -EINVAL, "HOST '%s': not an IP address", shown);
        free(*host);
        *host = canonical;
        return 0;
}

/* --wildcard, lower-cased in *ret: *.NAME covering host. The wildcard
 * check advises reissuing for it, which only helps when it covers the host. */
static int host_wildcard_parse(const char *wildcard, const char *host, char **ret, char **ret_error) {
        _cleanup_free_ char *shown = yfile_shown(wildcard, strlen(wildcard));
        _cleanup_free_ char *lower = xstrdup(wildcard);

        for (char *ch = lower; *ch; ch++)
                *ch = (char)tolower((unsigned char)*ch);
        if (strncmp(lower, "*.", 2) != 0 || !dns_name_is_valid(lower + 2))
                return fail_plain(ret_error, -EINVAL,
                                  "--wildcard '%s': expected *.NAME with NAME a DNS name of at least two labels", shown);
        if (!dns_name_pattern_matches(lower, host))
                return fail_plain(ret_error, -EINVAL,
                                  "--wildcard '%s' does not cover '%s' (a wildcard stands for exactly one label)",
                                  shown, host);
        *ret = TAKE_PTR(lower);
        return 0;
}

/* The one-host platform; takes host and wildcard. */
static struct platform *host_platform_new(char *host, char *wildcard, long long port) {
        struct platform *p = platform_new();

        p->kind = PLATFORM_HOST;
        p->name = xstrdup(host);
        p->base_domain = host;
        p->host_wildcard = wildcard;
        /* provided: the issuer is judged only by expect_issuer and the
         * staging hierarchy, and nothing after the audit (ARI) applies. */
        p->tls_mode = TLS_MODE_PROVIDED;
        p->dnssec_enabled = false;
        /* The host is any server the operator names, not the operator's own
         * PKI: a private --trust bundle must not let its certificate aim AIA
         * and CRL fetches at loopback, link-local or private addresses. */
        p->fetch_private = 0;
        if (port)
                p->port = (uint16_t)port;
        return p;
}

int config_for_host(const char *target, const char *wildcard, struct config **ret, char **ret_error) {
        _cleanup_free_ char *host = NULL, *wildcard_lower = NULL;
        struct config *c;
        long long port = 0;
        int r;

        assert(target);
        r = host_target_split(target, &host, &port, ret_error);
        if (r < 0)
                return r;
        r = host_validate(&host, wildcard != NULL, ret_error);
        if (r < 0)
                return r;
        if (wildcard) {
                r = host_wildcard_parse(wildcard, host, &wildcard_lower, ret_error);
                if (r < 0)
                        return r;
        }
        /* Messages name the config's path first; here it is the command
         * (as "--base-domain" names the flags). */
        c = config_new("certvigil check");
        c->platforms = xcalloc(1, sizeof(struct platform *));
        c->platforms[0] = host_platform_new(TAKE_PTR(host), TAKE_PTR(wildcard_lower), port);
        c->n_platforms = 1;
        *ret = c;
        return 0;
}

/* ------------------------------------------------------------------------ */
/* Command-line overrides */

static struct platform *config_find(const struct config *c, const char *name) {
        for (size_t i = 0; i < c->n_platforms; i++)
                if (strcmp(c->platforms[i]->name, name) == 0)
                        return c->platforms[i];
        return NULL;
}

/* --resolver values in canonical form (NULL for system alone). */
static int overrides_resolvers(char *const *given, char ***ret, char **ret_error) {
        _cleanup_strv_free_ char **resolvers = NULL;
        bool system = false;

        for (size_t i = 0; given && given[i]; i++) {
                char *canonical;

                if (strcmp(given[i], "system") == 0) {
                        system = true;
                        continue;
                }
                if (resolver_normalize(given[i], DNS_PORT, &canonical) < 0) {
                        _cleanup_free_ char *shown = yfile_shown(given[i], strlen(given[i]));
                        return fail_plain(ret_error, -EINVAL,
                                          "invalid resolver '%s' (expected ADDRESS[:PORT] or system)", shown);
                }
                strv_push(&resolvers, canonical);
        }
        if (system && resolvers)
                return fail_plain(ret_error, -EINVAL, "'system' cannot be combined with other resolvers");
        *ret = TAKE_PTR(resolvers);
        return 0;
}

int config_apply_overrides(struct config *c, const struct config_overrides *o, char **ret_error) {
        _cleanup_strv_free_ char **resolvers = NULL;
        size_t kept = 0;
        int r;

        if (!o)
                return 0;

        /* Everything is checked before anything changes, so a failed call
         * leaves the config as it was. */
        r = overrides_resolvers(o->resolvers, &resolvers, ret_error);
        if (r < 0)
                return r;
        if (o->port < 0 || o->port > 65535)
                return fail_plain(ret_error, -EINVAL, "'port' must be between 1 and 65535");
        if (o->dns_port < 0 || o->dns_port > 65535)
                return fail_plain(ret_error, -EINVAL, "'dns_port' must be between 1 and 65535");
        for (size_t i = 0; o->only_platforms && o->only_platforms[i]; i++) {
                const struct shard *sh = o->shard.count ? &o->shard : &c->shard;
                if (!config_find(c, o->only_platforms[i])) {
                        _cleanup_free_ char *shown = yfile_shown(o->only_platforms[i], strlen(o->only_platforms[i]));
                        return fail_plain(ret_error, -ENOENT, "unknown platform '%s'", shown);
                }
                /* Asked for by name but another shard's: said, not skipped
                 * in silence (CERTVIGIL_SHARD may be set without one knowing). */
                if (!shard_owns(sh, o->only_platforms[i])) {
                        _cleanup_free_ char *shown = yfile_shown(o->only_platforms[i], strlen(o->only_platforms[i]));
                        return fail_plain(ret_error, -ENOENT,
                                          "platform '%s' is shard %u/%u's, not %u/%u's (--platform and --shard, "
                                          "CERTVIGIL_SHARD or the config's shard:)", shown,
                                          shard_of(o->only_platforms[i], sh->count), sh->count, sh->index, sh->count);
                }
        }
        _cleanup_free_ char *listen_addr = NULL;
        uint16_t listen_port = 0;
        if (o->listen && listen_parse(o->listen, &listen_addr, &listen_port) < 0) {
                _cleanup_free_ char *shown = yfile_shown(o->listen, strlen(o->listen));
                return fail_plain(ret_error, -EINVAL, "invalid listen '%s' (expected ADDRESS:PORT, [IPv6]:PORT or PORT)",
                                  shown);
        }
        if (listen_addr) {
                set_string(&c->listen_addr, TAKE_PTR(listen_addr));
                c->listen_port = listen_port;
        }
        if (o->shard.count)
                c->shard = o->shard;

        for (size_t i = 0; i < c->n_platforms; i++) {
                struct platform *p = c->platforms[i];

                /* Another instance audits what this shard does not own. */
                if ((o->only_platforms && !strv_contains(o->only_platforms, p->name)) ||
                    !shard_owns(&c->shard, p->name)) {
                        platform_free(p);
                        continue;
                }
                if (o->resolvers) {
                        strv_free(p->resolvers);
                        p->resolvers = strv_copy(resolvers);
                }
                if (o->port > 0)
                        p->port = (uint16_t)o->port;
                if (o->dns_port > 0)
                        p->dns_port = (uint16_t)o->dns_port;
                if (o->trust) {
                        set_string(&p->trust, xstrdup(o->trust));
                        set_string(&p->trust_origin, xstrdup("--trust"));
                }
                if (o->timeout_usec > 0)
                        p->timeout_usec = o->timeout_usec;
                if (o->deadline_usec > 0)
                        p->deadline_usec = o->deadline_usec;
                c->platforms[kept++] = p;
        }
        c->n_platforms = kept;
        return 0;
}
