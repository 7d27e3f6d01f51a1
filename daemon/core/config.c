/* Loads certvigil's configuration: the YAML config file with its platforms,
 * each platform's Helm values file, and command-line overrides. Everything is
 * checked here, with FILE:LINE:COL messages, so that a bad setting stops the
 * audit before any packet leaves the host. */
#include "config.h"
#include "util.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>
#include <yaml.h>

/* A Helm release, values included, must fit in a 1 MiB Kubernetes Secret, so
 * real values files are far smaller than this. The limits bound the memory and
 * time a hostile or mistaken file (a symlink to a disk image, an alias bomb)
 * can cost; libyaml resolves each alias by a linear search over all anchors. */
#define FILE_SIZE_MAX (4u * 1024u * 1024u)
#define YAML_NODES_MAX 500000u
#define YAML_ANCHORS_MAX 1000u
#define YAML_ALIASES_MAX 10000u
#define YAML_DEPTH_MAX 128u
#define PLATFORMS_MAX 10000u
#define DAYS_MAX 36500

#define DEFAULT_PORT 443
#define DEFAULT_DNS_PORT 53
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

/* ------------------------------------------------------------------------ */
/* Errors */

static char *escape(const char *s) {
        return str_escape(s, strlen(s));
}

static int set_errorv(char **error, int r, const char *file, const yaml_mark_t *m,
                      const char *fmt, va_list ap) __attribute__((format(printf, 5, 0)));
static int set_errorv(char **error, int r, const char *file, const yaml_mark_t *m,
                      const char *fmt, va_list ap) {
        _cleanup_free_ char *msg = xvasprintf(fmt, ap);

        /* Loading stops at the first error, so this is written at most once
         * and whatever the caller's pointer held before is not ours. */
        if (!error)
                return r;
        if (m)
                *error = xasprintf("%s:%zu:%zu: %s", file, m->line + 1, m->column + 1, msg);
        else
                *error = xasprintf("%s: %s", file, msg);
        return r;
}

/* "FILE:LINE:COL: message" at a mark; returns r. */
static int fail_mark(char **error, int r, const char *file, yaml_mark_t m, const char *fmt, ...)
        __attribute__((format(printf, 5, 6)));
static int fail_mark(char **error, int r, const char *file, yaml_mark_t m, const char *fmt, ...) {
        va_list ap;
        va_start(ap, fmt);
        r = set_errorv(error, r, file, &m, fmt, ap);
        va_end(ap);
        return r;
}

/* "FILE: message", for errors without a position. */
static int fail_file(char **error, int r, const char *file, const char *fmt, ...)
        __attribute__((format(printf, 4, 5)));
static int fail_file(char **error, int r, const char *file, const char *fmt, ...) {
        va_list ap;
        va_start(ap, fmt);
        r = set_errorv(error, r, file, NULL, fmt, ap);
        va_end(ap);
        return r;
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
/* Files and YAML documents */

static int read_file(const char *path, char **ret, size_t *ret_size) {
        _cleanup_free_ char *buf = NULL;
        size_t size = 0, alloc = 0;
        int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);

        if (fd < 0)
                return -errno;
        for (;;) {
                ssize_t n;

                if (alloc - size < 4096) {
                        alloc = alloc ? alloc * 2 : 16384;
                        buf = xrealloc(buf, alloc + 1);
                }
                n = read(fd, buf + size, alloc - size);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0) {
                        int r = -errno;
                        close(fd);
                        return r;
                }
                if (n == 0)
                        break;
                size += (size_t)n;
                /* Checked while reading, not with fstat(), so /dev/zero or a
                 * FIFO cannot grow the buffer without bound either. */
                if (size > FILE_SIZE_MAX) {
                        close(fd);
                        return -EFBIG;
                }
        }
        close(fd);
        buf[size] = 0;
        *ret = TAKE_PTR(buf);
        *ret_size = size;
        return 0;
}

/* One parsed YAML file. Strict files (the config) reject unknown keys and
 * empty values; lenient ones (Helm values) ignore whatever is not ours, as the
 * chart has hundreds of keys that are none of certvigil's business. */
struct yfile {
        const char *path;         /* for messages */
        yaml_document_t doc;
        bool loaded;
        bool strict;
        /* The finding catalog, for renew.on; injected so that the config
         * (core) does not reach up into checks/. NULL: any well-formed id. */
        finding_lookup_fn known_id;
};

static void yfile_done(struct yfile *f) {
        if (f->loaded)
                yaml_document_delete(&f->doc);
        f->loaded = false;
}

static yaml_node_t *yfile_node(struct yfile *f, int id) {
        return yaml_document_get_node(&f->doc, id);
}

/* libyaml reports encoding errors by byte offset only. */
static yaml_mark_t mark_from_offset(const char *text, size_t len, size_t offset) {
        yaml_mark_t m = { .index = offset };

        for (size_t i = 0; i < offset && i < len; i++) {
                if (text[i] == '\n') {
                        m.line++;
                        m.column = 0;
                } else if (((unsigned char)text[i] & 0xc0) != 0x80)
                        m.column++;
        }
        return m;
}

static int syntax_error(const yaml_parser_t *parser, const char *file, const char *text, size_t len,
                        char **error) {
        const char *problem = parser->problem ? parser->problem : "unknown error";
        yaml_mark_t m = parser->problem_mark;

        if (parser->error == YAML_MEMORY_ERROR)
                return fail_file(error, -ENOMEM, file, "out of memory while parsing YAML");
        if (parser->error == YAML_READER_ERROR)
                m = mark_from_offset(text, len, parser->problem_offset);
        /* libyaml splits this one into context and problem ("second
         * occurrence"), which alone would make no sense to a reader. */
        if (parser->error == YAML_COMPOSER_ERROR && parser->context &&
            strncmp(parser->context, "found duplicate anchor", 22) == 0)
                problem = "found duplicate anchor";
        return fail_mark(error, -EINVAL, file, m, "YAML syntax error: %s", problem);
}

static bool event_is_anchored(const yaml_event_t *ev) {
        switch (ev->type) {
        case YAML_SCALAR_EVENT:
                return ev->data.scalar.anchor != NULL;
        case YAML_SEQUENCE_START_EVENT:
                return ev->data.sequence_start.anchor != NULL;
        case YAML_MAPPING_START_EVENT:
                return ev->data.mapping_start.anchor != NULL;
        default:
                return false;
        }
}

/* A cheap pass over the event stream before building the tree: it finds
 * syntax errors, extra documents and inputs too big to be worth a tree. */
static int yaml_prescan(const char *file, const char *text, size_t len, char **error) {
        _cleanup_(yaml_parser_delete) yaml_parser_t parser = {};
        size_t nodes = 0, anchors = 0, aliases = 0, depth = 0, documents = 0;

        if (!yaml_parser_initialize(&parser))
                return fail_file(error, -ENOMEM, file, "out of memory while parsing YAML");
        yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
        for (;;) {
                yaml_event_t ev;
                yaml_event_type_t type;
                yaml_mark_t m;
                bool anchored;

                if (!yaml_parser_parse(&parser, &ev))
                        return syntax_error(&parser, file, text, len, error);
                type = ev.type;
                m = ev.start_mark;
                anchored = event_is_anchored(&ev);
                yaml_event_delete(&ev);

                if (type == YAML_STREAM_END_EVENT)
                        return 0;
                if (type == YAML_DOCUMENT_START_EVENT && ++documents > 1)
                        return fail_mark(error, -EINVAL, file, m,
                                         "multiple YAML documents are not supported");
                if (type == YAML_SEQUENCE_START_EVENT || type == YAML_MAPPING_START_EVENT) {
                        if (++depth > YAML_DEPTH_MAX)
                                return fail_mark(error, -EINVAL, file, m,
                                                 "YAML nesting too deep (more than %u levels)",
                                                 YAML_DEPTH_MAX);
                } else if (type == YAML_SEQUENCE_END_EVENT || type == YAML_MAPPING_END_EVENT)
                        depth--;
                if (type == YAML_SCALAR_EVENT || type == YAML_ALIAS_EVENT ||
                    type == YAML_SEQUENCE_START_EVENT || type == YAML_MAPPING_START_EVENT) {
                        if (++nodes > YAML_NODES_MAX)
                                return fail_mark(error, -EINVAL, file, m,
                                                 "too many YAML nodes (more than %u)", YAML_NODES_MAX);
                }
                if (type == YAML_ALIAS_EVENT && ++aliases > YAML_ALIASES_MAX)
                        return fail_mark(error, -EINVAL, file, m,
                                         "too many YAML aliases (more than %u)", YAML_ALIASES_MAX);
                if (anchored && ++anchors > YAML_ANCHORS_MAX)
                        return fail_mark(error, -EINVAL, file, m,
                                         "too many YAML anchors (more than %u)", YAML_ANCHORS_MAX);
        }
}

static int yfile_parse(struct yfile *f, const char *text, size_t len, char **error) {
        _cleanup_(yaml_parser_delete) yaml_parser_t parser = {};
        int r;

        r = yaml_prescan(f->path, text, len, error);
        if (r < 0)
                return r;
        if (!yaml_parser_initialize(&parser))
                return fail_file(error, -ENOMEM, f->path, "out of memory while parsing YAML");
        yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
        if (!yaml_parser_load(&parser, &f->doc))
                return syntax_error(&parser, f->path, text, len, error);
        f->loaded = true;
        return 0;
}

/* ------------------------------------------------------------------------ */
/* Scalars */

static const char *scalar_value(const yaml_node_t *n) {
        return (const char *)n->data.scalar.value;
}

static bool scalar_is_plain(const yaml_node_t *n) {
        return n->type == YAML_SCALAR_NODE && n->data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
}

/* YAML 1.1's null spellings, as Helm's parser reads them. */
static bool node_is_null(const yaml_node_t *n) {
        static const char *const nulls[] = { "", "~", "null", "Null", "NULL" };

        if (!scalar_is_plain(n))
                return false;
        for (size_t i = 0; i < ELEMENTSOF(nulls); i++)
                if (strcmp(scalar_value(n), nulls[i]) == 0)
                        return true;
        return false;
}

static bool scalar_has_nul(const yaml_node_t *n) {
        return strlen(scalar_value(n)) != n->data.scalar.length;
}

/* Returns 0 and the string, 1 when the key counts as unset (an empty string,
 * or null in a values file, as Helm's `default` treats them), or an error. */
static int get_string(struct yfile *f, const char *key, yaml_node_t *n, const char **ret, char **error) {
        if (n->type != YAML_SCALAR_NODE || (f->strict && node_is_null(n)))
                return fail_mark(error, -EINVAL, f->path, n->start_mark, "'%s' must be a string", key);
        if (node_is_null(n) || n->data.scalar.length == 0)
                return 1;
        if (scalar_has_nul(n))
                return fail_mark(error, -EINVAL, f->path, n->start_mark,
                                 "'%s' must not contain NUL characters", key);
        *ret = scalar_value(n);
        return 0;
}

/* Only plain scalars: a quoted "false" is a string, and Helm templates would
 * treat it as true. */
static int get_bool(struct yfile *f, const char *key, yaml_node_t *n, bool *ret, char **error) {
        static const char *const yes[] = { "true", "yes", "on" }, *const no[] = { "false", "no", "off" };

        if (!f->strict && node_is_null(n))
                return 1;
        if (scalar_is_plain(n) && !scalar_has_nul(n))
                for (size_t i = 0; i < ELEMENTSOF(yes); i++) {
                        if (strcasecmp(scalar_value(n), yes[i]) == 0) {
                                *ret = true;
                                return 0;
                        }
                        if (strcasecmp(scalar_value(n), no[i]) == 0) {
                                *ret = false;
                                return 0;
                        }
                }
        return fail_mark(error, -EINVAL, f->path, n->start_mark, "'%s' must be a boolean", key);
}

static int get_int(struct yfile *f, const char *key, yaml_node_t *n, long long min, long long max,
                   long long *ret, char **error) {
        int r;

        if (!f->strict && node_is_null(n))
                return 1;
        if (!scalar_is_plain(n) || node_is_null(n))
                return fail_mark(error, -EINVAL, f->path, n->start_mark, "'%s' must be an integer", key);
        r = parse_int(scalar_value(n), min, max, ret);
        if (r == -ERANGE)
                return fail_mark(error, -EINVAL, f->path, n->start_mark,
                                 "'%s' must be between %lld and %lld", key, min, max);
        if (r < 0)
                return fail_mark(error, -EINVAL, f->path, n->start_mark, "'%s' must be an integer", key);
        return 0;
}

static int get_duration(struct yfile *f, const char *key, yaml_node_t *n, uint64_t *ret, char **error) {
        uint64_t usec;

        if (n->type != YAML_SCALAR_NODE || node_is_null(n) || scalar_has_nul(n) ||
            parse_duration(scalar_value(n), &usec) < 0)
                return fail_mark(error, -EINVAL, f->path, n->start_mark,
                                 "'%s' must be a duration such as 10s, 2m or 1h", key);
        if (usec == 0)
                return fail_mark(error, -EINVAL, f->path, n->start_mark, "'%s' must be longer than 0", key);
        *ret = usec;
        return 0;
}

/* "33%" or "33.5%": a share of the certificate's lifetime, as a fraction in
 * [0, 1]. Returns 0 and the fraction, 1 when the scalar has no '%', or an
 * error. */
static int get_percent(struct yfile *f, const char *key, yaml_node_t *n, double *ret, char **error) {
        const char *v;
        size_t len;
        char *end = NULL;
        double d;

        if (!scalar_is_plain(n) || scalar_has_nul(n))
                return 1;
        v = scalar_value(n);
        len = strlen(v);
        if (len < 2 || v[len - 1] != '%')
                return 1;
        errno = 0;
        d = strtod(v, &end);
        if (errno != 0 || end != v + len - 1 || !(d >= 0.0 && d <= 100.0))
                return fail_mark(error, -EINVAL, f->path, n->start_mark,
                                 "'%s' must be a number of days or a share of the lifetime from 0%% to 100%%", key);
        *ret = d / 100.0;
        return 0;
}

/* renew_at: a fraction such as 0.67, or a share such as 67%. */
static int get_fraction(struct yfile *f, const char *key, yaml_node_t *n, double *ret, char **error) {
        char *end = NULL;
        double d;
        int r;

        r = get_percent(f, key, n, &d, error);
        if (r < 0)
                return r;
        if (r > 0) {
                if (!scalar_is_plain(n) || scalar_has_nul(n) || node_is_null(n))
                        return fail_mark(error, -EINVAL, f->path, n->start_mark,
                                         "'%s' must be a fraction such as 0.67 or a share such as 67%%", key);
                errno = 0;
                d = strtod(scalar_value(n), &end);
                if (errno != 0 || end == scalar_value(n) || *end)
                        return fail_mark(error, -EINVAL, f->path, n->start_mark,
                                         "'%s' must be a fraction such as 0.67 or a share such as 67%%", key);
        }
        if (!(d > 0.0 && d < 1.0))
                return fail_mark(error, -EINVAL, f->path, n->start_mark,
                                 "'%s' must be between 0 and 1 (exclusive)", key);
        *ret = d;
        return 0;
}

/* ------------------------------------------------------------------------ */
/* Addresses and paths */

/* Canonical "ADDR[:PORT]" with IPv6 always in brackets, so the resolver code
 * never has to guess which colon starts the port. */
static int resolver_normalize(const char *s, char **ret) {
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

        if (family == AF_INET6)
                *ret = port ? xasprintf("[%s]:%lld", text, port_num) : xasprintf("[%s]", text);
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
        for (size_t i = 0; i < _SERVICE_MAX; i++)
                free(p->labels[i]);
        free(p->le_issuer);
        free(p->le_email);
        free(p->dns01_provider);
        free(p->dns01_zone);
        free(p->wildcard_secret);
        strv_free(p->resolvers);
        free(p->trust);
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
        p->warn_days = DEFAULT_WARN_DAYS;
        p->critical_days = DEFAULT_CRITICAL_DAYS;
        p->warn_share = DEFAULT_WARN_SHARE;
        p->critical_share = DEFAULT_CRITICAL_SHARE;
        p->renew_at = DEFAULT_RENEW_AT;
        p->timeout_usec = DEFAULT_TIMEOUT_USEC;
        p->deadline_usec = DEFAULT_DEADLINE_USEC;
        p->concurrency = DEFAULT_CONCURRENCY;
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
/* The key tables: one per YAML mapping we understand. */

enum kind {
        KIND_SKIP,                /* handled outside the table walk */
        KIND_MAP,
        KIND_STRING,
        KIND_LABEL,
        KIND_DOMAIN,
        KIND_SEPARATOR,
        KIND_TLS_MODE,
        KIND_BOOL,
        KIND_PORT,
        KIND_WARN_DAYS,
        KIND_CRITICAL_DAYS,
        KIND_CONCURRENCY,
        KIND_DURATION,
        KIND_RESOLVERS,
        KIND_TRUST,
        KIND_ADDRESSES,
        KIND_JITTER,
        KIND_RENEW_AT,
        KIND_CONNECT_TO,
        KIND_ARGV,                /* non-empty list of non-empty strings */
        KIND_FINDING_IDS,         /* list of finding ids */
        KIND_RENEW_CAP,           /* renew.max_per_week */
        KIND_URL,                 /* https:// URL */
        KIND_PATH,                /* a file, relative to the config */
};

struct key {
        const char *name;
        enum kind kind;
        size_t offset;            /* of the field in struct platform */
        const struct key *children;
};

#define FIELD(f) offsetof(struct platform, f)

static const struct key subdomain_keys[] = {
        { "api", KIND_LABEL, FIELD(labels[SERVICE_API]), NULL },
        { "console", KIND_LABEL, FIELD(labels[SERVICE_CONSOLE]), NULL },
        { "grafana", KIND_LABEL, FIELD(labels[SERVICE_GRAFANA]), NULL },
        { "auth", KIND_LABEL, FIELD(labels[SERVICE_AUTH]), NULL },
        { "mcp", KIND_LABEL, FIELD(labels[SERVICE_MCP]), NULL },
        {},
};

static const struct key global_keys[] = {
        { "baseDomain", KIND_DOMAIN, FIELD(base_domain), NULL },
        { "subdomains", KIND_MAP, 0, subdomain_keys },
        { "subdomainSeparator", KIND_SEPARATOR, FIELD(separator), NULL },
        {},
};

static const struct key dns01_keys[] = {
        { "provider", KIND_STRING, FIELD(dns01_provider), NULL },
        { "dnsZone", KIND_DOMAIN, FIELD(dns01_zone), NULL },
        {},
};

static const struct key letsencrypt_keys[] = {
        { "issuer", KIND_STRING, FIELD(le_issuer), NULL },
        { "email", KIND_STRING, FIELD(le_email), NULL },
        { "dns01", KIND_MAP, 0, dns01_keys },
        {},
};

static const struct key tls_keys[] = {
        { "mode", KIND_TLS_MODE, FIELD(tls_mode), NULL },
        { "letsencrypt", KIND_MAP, 0, letsencrypt_keys },
        { "wildcardSecretName", KIND_STRING, FIELD(wildcard_secret), NULL },
        {},
};

static const struct key tunnel_keys[] = {
        { "enabled", KIND_BOOL, FIELD(tunnel_enabled), NULL },
        {},
};

static const struct key ingress_keys[] = {
        { "tunnel", KIND_MAP, 0, tunnel_keys },
        {},
};

static const struct key mcp_keys[] = {
        { "enabled", KIND_BOOL, FIELD(mcp_enabled), NULL },
        {},
};

#define RFIELD(f) offsetof(struct platform, renew.f)

static const struct key cert_manager_keys[] = {
        { "namespace", KIND_LABEL, RFIELD(cm_namespace), NULL },
        { "certificate", KIND_STRING, RFIELD(cm_certificate), NULL },
        { "kubeconfig", KIND_PATH, RFIELD(cm_kubeconfig), NULL },
        { "in_cluster", KIND_BOOL, RFIELD(cm_in_cluster), NULL },
        {},
};

static const struct key kubernetes_keys[] = {
        { "namespace", KIND_LABEL, FIELD(kube_namespace), NULL },
        { "kubeconfig", KIND_PATH, FIELD(kube_kubeconfig), NULL },
        { "in_cluster", KIND_BOOL, FIELD(kube_in_cluster), NULL },
        {},
};

static const struct key renew_keys[] = {
        { "enabled", KIND_BOOL, RFIELD(enabled), NULL },
        { "on", KIND_FINDING_IDS, RFIELD(on), NULL },
        { "command", KIND_ARGV, RFIELD(command), NULL },
        { "timeout", KIND_DURATION, RFIELD(timeout_usec), NULL },
        { "min_interval", KIND_DURATION, RFIELD(min_interval_usec), NULL },
        { "max_per_week", KIND_RENEW_CAP, RFIELD(max_per_week), NULL },
        { "verify_every", KIND_DURATION, RFIELD(verify_every_usec), NULL },
        { "verify_timeout", KIND_DURATION, RFIELD(verify_timeout_usec), NULL },
        { "cert_manager", KIND_MAP, 0, cert_manager_keys },
        {},
};

#define CHART_KEYS \
        { "global", KIND_MAP, 0, global_keys }, \
        { "tls", KIND_MAP, 0, tls_keys }, \
        { "ingress", KIND_MAP, 0, ingress_keys }, \
        { "mcp", KIND_MAP, 0, mcp_keys }

#define DEFAULTS_KEYS \
        { "port", KIND_PORT, FIELD(port), NULL }, \
        { "dns_port", KIND_PORT, FIELD(dns_port), NULL }, \
        { "resolvers", KIND_RESOLVERS, FIELD(resolvers), NULL }, \
        { "trust", KIND_TRUST, FIELD(trust), NULL }, \
        { "warn_days", KIND_WARN_DAYS, FIELD(warn_days), NULL }, \
        { "critical_days", KIND_CRITICAL_DAYS, FIELD(critical_days), NULL }, \
        { "timeout", KIND_DURATION, FIELD(timeout_usec), NULL }, \
        { "deadline", KIND_DURATION, FIELD(deadline_usec), NULL }, \
        { "concurrency", KIND_CONCURRENCY, FIELD(concurrency), NULL }, \
        { "interval", KIND_DURATION, FIELD(interval_usec), NULL }, \
        { "jitter", KIND_JITTER, 0, NULL }, \
        { "remind", KIND_DURATION, FIELD(remind_usec), NULL }, \
        { "renew_at", KIND_RENEW_AT, FIELD(renew_at), NULL }, \
        { "expect_issuer", KIND_STRING, FIELD(expect_issuer), NULL }, \
        { "renew", KIND_MAP, 0, renew_keys }, \
        { "acme_directory", KIND_URL, FIELD(acme_directory), NULL }, \
        { "acme_trust", KIND_PATH, FIELD(acme_trust), NULL }, \
        { "kubernetes", KIND_MAP, 0, kubernetes_keys }

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
        { "name", KIND_SKIP, 0, NULL },
        { "values", KIND_SKIP, 0, NULL },
        { "expect_addresses", KIND_ADDRESSES, FIELD(expect_addresses), NULL },
        { "connect_to", KIND_CONNECT_TO, FIELD(connect_to), NULL },
        DEFAULTS_KEYS,
        CHART_KEYS,
        {},
};

static const struct key top_keys[] = {
        { "defaults", KIND_SKIP, 0, NULL },
        { "platforms", KIND_SKIP, 0, NULL },
        {},
};

/* State while one platform is assembled from its layers: built-in defaults,
 * the config's defaults, the values file, then its own keys. */
struct build {
        struct platform *p;
        const char *config_path;  /* relative paths are resolved against it */
        char **error;
        /* Where warn_days/critical_days were last set, for the cross-check. */
        yaml_mark_t warn_mark, critical_mark;
        bool warn_set, critical_set;
};

static int apply_map(struct build *b, struct yfile *f, yaml_node_t *map, const struct key *table,
                     const char *prefix, const char *where);

static int apply_resolvers(struct build *b, struct yfile *f, const char *key, yaml_node_t *n, char ***field) {
        _cleanup_strv_free_ char **list = NULL;
        bool system = false;

        if (n->type == YAML_SCALAR_NODE && strcmp(scalar_value(n), "system") == 0 && !scalar_has_nul(n)) {
                *field = strv_free(*field);
                return 0;
        }
        if (n->type != YAML_SEQUENCE_NODE)
                return fail_mark(b->error, -EINVAL, f->path, n->start_mark, "'%s' must be a list", key);
        if (n->data.sequence.items.start == n->data.sequence.items.top)
                return fail_mark(b->error, -EINVAL, f->path, n->start_mark,
                                 "'%s' must not be empty (use [system] for the system resolver)", key);
        for (yaml_node_item_t *i = n->data.sequence.items.start; i < n->data.sequence.items.top; i++) {
                yaml_node_t *item = yfile_node(f, *i);
                _cleanup_free_ char *shown = NULL;
                char *canonical;

                if (!item)
                        continue;
                if (item->type != YAML_SCALAR_NODE || node_is_null(item))
                        return fail_mark(b->error, -EINVAL, f->path, item->start_mark,
                                         "'%s' must be a list of addresses", key);
                shown = str_escape(scalar_value(item), item->data.scalar.length);
                if (strcmp(scalar_value(item), "system") == 0 && !scalar_has_nul(item)) {
                        system = true;
                        if (n->data.sequence.items.top - n->data.sequence.items.start > 1)
                                return fail_mark(b->error, -EINVAL, f->path, item->start_mark,
                                                 "'system' cannot be combined with other resolvers");
                        continue;
                }
                if (scalar_has_nul(item) || resolver_normalize(scalar_value(item), &canonical) < 0)
                        return fail_mark(b->error, -EINVAL, f->path, item->start_mark,
                                         "invalid resolver '%s' (expected ADDRESS[:PORT] or system)", shown);
                strv_push(&list, canonical);
        }
        strv_free(*field);
        *field = system ? NULL : TAKE_PTR(list);
        return 0;
}

static int apply_addresses(struct build *b, struct yfile *f, const char *key, yaml_node_t *n, char ***field) {
        _cleanup_strv_free_ char **list = NULL;

        if (n->type != YAML_SEQUENCE_NODE)
                return fail_mark(b->error, -EINVAL, f->path, n->start_mark, "'%s' must be a list", key);
        for (yaml_node_item_t *i = n->data.sequence.items.start; i < n->data.sequence.items.top; i++) {
                yaml_node_t *item = yfile_node(f, *i);
                _cleanup_free_ char *shown = NULL;
                char *canonical;

                if (!item)
                        continue;
                if (item->type != YAML_SCALAR_NODE || node_is_null(item))
                        return fail_mark(b->error, -EINVAL, f->path, item->start_mark,
                                         "'%s' must be a list of addresses", key);
                if (scalar_has_nul(item) || address_normalize(scalar_value(item), &canonical) < 0) {
                        shown = str_escape(scalar_value(item), item->data.scalar.length);
                        return fail_mark(b->error, -EINVAL, f->path, item->start_mark,
                                         "invalid address '%s' in %s", shown, key);
                }
                strv_push(&list, canonical);
        }
        strv_free(*field);
        *field = TAKE_PTR(list);
        return 0;
}

/* A list of strings. argv: every item a non-empty string, the list not
 * empty; finding ids: each one in the catalog, since a misspelt id in
 * renew.on would silently never trigger. */
static int apply_strings(struct build *b, struct yfile *f, const char *key, yaml_node_t *n, char ***field,
                         bool ids) {
        _cleanup_strv_free_ char **list = NULL;
        size_t count;

        if (n->type != YAML_SEQUENCE_NODE)
                return fail_mark(b->error, -EINVAL, f->path, n->start_mark, "'%s' must be a list", key);
        count = (size_t)(n->data.sequence.items.top - n->data.sequence.items.start);
        if (count == 0 && !ids)
                return fail_mark(b->error, -EINVAL, f->path, n->start_mark, "'%s' must not be empty", key);
        if (count > RENEW_ARGV_MAX)
                return fail_mark(b->error, -EINVAL, f->path, n->start_mark, "'%s' has more than %u items", key,
                                 RENEW_ARGV_MAX);
        for (yaml_node_item_t *i = n->data.sequence.items.start; i < n->data.sequence.items.top; i++) {
                yaml_node_t *item = yfile_node(f, *i);
                const char *s;

                if (!item)
                        continue;
                if (item->type != YAML_SCALAR_NODE || node_is_null(item) || item->data.scalar.length == 0)
                        return fail_mark(b->error, -EINVAL, f->path, item->start_mark,
                                         "'%s' must be a list of non-empty strings", key);
                if (scalar_has_nul(item))
                        return fail_mark(b->error, -EINVAL, f->path, item->start_mark,
                                         "'%s' must not contain NUL characters", key);
                s = scalar_value(item);
                if (ids && (strspn(s, "abcdefghijklmnopqrstuvwxyz0123456789.-") != strlen(s) || !strchr(s, '.') ||
                            s[0] == '.' || str_endswith(s, ".") || strstr(s, ".."))) {
                        _cleanup_free_ char *shown = escape(s);
                        return fail_mark(b->error, -EINVAL, f->path, item->start_mark,
                                         "'%s' is not a finding id (%s)", shown, key);
                }
                if (ids && f->known_id && !f->known_id(s)) {
                        _cleanup_free_ char *shown = escape(s);
                        return fail_mark(b->error, -EINVAL, f->path, item->start_mark,
                                         "unknown finding id '%s' in %s (certvigil list-findings lists them)", shown,
                                         key);
                }
                strv_push(&list, xstrdup(s));
        }
        strv_free(*field);
        *field = TAKE_PTR(list);
        return 0;
}

/* A domain as the chart's templates would use it, minus the spelling
 * variations DNS does not care about. */
static int apply_domain(struct build *b, struct yfile *f, const char *key, yaml_node_t *n, char **field) {
        _cleanup_free_ char *name = NULL, *shown = NULL;
        const char *s = NULL, *last;
        size_t len;
        int r;

        r = get_string(f, key, n, &s, b->error);
        if (r != 0)
                return r < 0 ? r : 0;
        name = xstrdup(s);
        len = strlen(name);
        if (len > 0 && name[len - 1] == '.')
                name[--len] = 0;
        for (char *c = name; *c; c++)
                if (*c >= 'A' && *c <= 'Z')
                        *c = (char)(*c - 'A' + 'a');
        /* RFC 1123 2.1: a top-level label is never all-numeric, which also
         * keeps an IP address from passing for a domain. */
        last = strrchr(name, '.');
        last = last ? last + 1 : name;
        if (!dns_name_is_valid(name) || strspn(last, "0123456789") == strlen(last)) {
                bool idn = false;
                for (const char *c = s; *c && !idn; c++)
                        idn = (unsigned char)*c >= 0x80;
                shown = escape(s);
                /* Certificates carry IDNs as A-labels (RFC 5890), and the
                 * SAN check compares bytes: the config must say it so. */
                return fail_mark(b->error, -EINVAL, f->path, n->start_mark,
                                 "'%s' is not a valid domain name (%s)%s", shown, key,
                                 idn ? ": write internationalized names in A-label form (xn--...)" : "");
        }
        set_string(field, TAKE_PTR(name));
        return 0;
}

/* "5%" of the interval, or a duration ("0s" turns jitter off). */
static int apply_jitter(struct build *b, struct yfile *f, const char *key, yaml_node_t *n) {
        const char *s = n->type == YAML_SCALAR_NODE && !node_is_null(n) && !scalar_has_nul(n) ? scalar_value(n) : NULL;
        size_t len = s ? strlen(s) : 0;
        long long v;
        uint64_t usec;

        if (s && len > 1 && s[len - 1] == '%') {
                _cleanup_free_ char *num = xstrndup(s, len - 1);
                if (parse_int(num, 0, 100, &v) < 0)
                        return fail_mark(b->error, -EINVAL, f->path, n->start_mark,
                                         "'%s' must be a percentage between 0%% and 100%%", key);
                b->p->jitter_percent = (int)v;
                b->p->jitter_usec = 0;
                return 0;
        }
        if (!s || parse_duration(s, &usec) < 0)
                return fail_mark(b->error, -EINVAL, f->path, n->start_mark,
                                 "'%s' must be a percentage of interval such as 5%% or a duration such as 3m", key);
        b->p->jitter_percent = -1;
        b->p->jitter_usec = usec;
        return 0;
}

uint64_t platform_jitter_usec(const struct platform *p) {
        if (p->jitter_percent >= 0)
                return p->interval_usec / 100 * (uint64_t)p->jitter_percent;
        return p->jitter_usec;
}

static int apply_value(struct build *b, struct yfile *f, const struct key *k, const char *key,
                       yaml_node_t *n) {
        /* The top-level walk has no platform: only KIND_SKIP keys there. */
        void *field = b->p ? (char *)b->p + k->offset : NULL;
        _cleanup_free_ char *shown = NULL, *where = NULL;
        const char *s = NULL;
        long long v = 0;
        int r = 0;

        switch (k->kind) {
        case KIND_SKIP:
                return 0;
        case KIND_MAP:
                if (!f->strict && node_is_null(n))
                        return 0;
                if (n->type != YAML_MAPPING_NODE)
                        return fail_mark(b->error, -EINVAL, f->path, n->start_mark,
                                         "'%s' must be a mapping", key);
                where = xasprintf("in %s", key);
                return apply_map(b, f, n, k->children, key, where);
        case KIND_STRING:
                r = get_string(f, key, n, &s, b->error);
                if (r == 0)
                        set_string(field, xstrdup(s));
                break;
        case KIND_LABEL:
                r = get_string(f, key, n, &s, b->error);
                if (r != 0)
                        break;
                if (!dns_label_is_valid(s)) {
                        shown = escape(s);
                        return fail_mark(b->error, -EINVAL, f->path, n->start_mark,
                                         "'%s' is not a valid DNS label (%s)", shown, key);
                }
                set_string(field, xstrdup(s));
                break;
        case KIND_DOMAIN:
                return apply_domain(b, f, key, n, field);
        case KIND_SEPARATOR:
                r = get_string(f, key, n, &s, b->error);
                if (r != 0)
                        break;
                if (strcmp(s, ".") != 0 && strcmp(s, "-") != 0)
                        return fail_mark(b->error, -EINVAL, f->path, n->start_mark,
                                         "%s must be \".\" or \"-\"", key);
                *(char *)field = s[0];
                break;
        case KIND_TLS_MODE:
                r = get_string(f, key, n, &s, b->error);
                if (r != 0)
                        break;
                for (size_t i = 0; i < _TLS_MODE_MAX; i++)
                        if (strcmp(s, tls_mode_names[i]) == 0) {
                                *(enum tls_mode *)field = (enum tls_mode)i;
                                return 0;
                        }
                shown = escape(s);
                return fail_mark(b->error, -EINVAL, f->path, n->start_mark,
                                 "unknown %s '%s' (expected letsencrypt, provided or selfsigned)", key, shown);
        case KIND_BOOL:
                r = get_bool(f, key, n, field, b->error);
                break;
        case KIND_PORT:
                r = get_int(f, key, n, 1, 65535, &v, b->error);
                if (r == 0)
                        *(uint16_t *)field = (uint16_t)v;
                break;
        case KIND_CONCURRENCY:
                r = get_int(f, key, n, 1, 65535, &v, b->error);
                if (r == 0)
                        *(unsigned *)field = (unsigned)v;
                break;
        case KIND_WARN_DAYS:
        case KIND_CRITICAL_DAYS: {
                double share;
                r = get_percent(f, key, n, &share, b->error);
                if (r < 0)
                        break;
                if (r == 0) {
                        /* A share replaces the days: it is used alone. */
                        *(int *)field = -1;
                        if (k->kind == KIND_WARN_DAYS)
                                b->p->warn_share = share;
                        else
                                b->p->critical_share = share;
                } else {
                        r = get_int(f, key, n, 0, DAYS_MAX, &v, b->error);
                        if (r != 0)
                                break;
                        *(int *)field = (int)v;
                }
                if (k->kind == KIND_WARN_DAYS) {
                        b->warn_mark = n->start_mark;
                        b->warn_set = true;
                } else {
                        b->critical_mark = n->start_mark;
                        b->critical_set = true;
                }
                break;
        }
        case KIND_RENEW_AT:
                r = get_fraction(f, key, n, field, b->error);
                break;
        case KIND_CONNECT_TO: {
                char *canonical;
                r = get_string(f, key, n, &s, b->error);
                if (r != 0)
                        break;
                if (resolver_normalize(s, &canonical) < 0) {
                        shown = escape(s);
                        return fail_mark(b->error, -EINVAL, f->path, n->start_mark,
                                         "invalid %s '%s' (expected ADDRESS[:PORT], IPv6 as [ADDRESS]:PORT)", key,
                                         shown);
                }
                connect_to_split(canonical, field, &b->p->connect_port);
                free(canonical);
                break;
        }
        case KIND_DURATION:
                r = get_duration(f, key, n, field, b->error);
                break;
        case KIND_RESOLVERS:
                return apply_resolvers(b, f, key, n, field);
        case KIND_ADDRESSES:
                return apply_addresses(b, f, key, n, field);
        case KIND_JITTER:
                return apply_jitter(b, f, key, n);
        case KIND_ARGV:
                return apply_strings(b, f, key, n, field, false);
        case KIND_FINDING_IDS:
                return apply_strings(b, f, key, n, field, true);
        case KIND_RENEW_CAP:
                r = get_int(f, key, n, 1, RENEW_MAX_PER_WEEK_MAX, &v, b->error);
                if (r == 0)
                        *(unsigned *)field = (unsigned)v;
                break;
        case KIND_URL:
                r = get_string(f, key, n, &s, b->error);
                if (r != 0)
                        break;
                if (strncmp(s, "https://", 8) != 0 || !s[8] || strpbrk(s, " \t\r\n")) {
                        shown = escape(s);
                        return fail_mark(b->error, -EINVAL, f->path, n->start_mark,
                                         "'%s' must be an https:// URL (%s)", shown, key);
                }
                set_string(field, xstrdup(s));
                break;
        case KIND_PATH:
                r = get_string(f, key, n, &s, b->error);
                if (r == 0)
                        set_string(field, path_resolve(b->config_path, s));
                break;
        case KIND_TRUST:
                r = get_string(f, key, n, &s, b->error);
                if (r != 0)
                        break;
                set_string(field, strcmp(s, "system") == 0 ? xstrdup(s) : path_resolve(b->config_path, s));
                break;
        }
        return r < 0 ? r : 0;
}

/* Walks one mapping against its key table. In a strict file every key must be
 * known; in a values file unknown keys are someone else's and are skipped,
 * but ours must still have the right type. */
static int apply_map(struct build *b, struct yfile *f, yaml_node_t *map, const struct key *table,
                     const char *prefix, const char *where) {
        uint64_t seen = 0;

        for (yaml_node_pair_t *pair = map->data.mapping.pairs.start; pair < map->data.mapping.pairs.top; pair++) {
                yaml_node_t *kn = yfile_node(f, pair->key), *vn = yfile_node(f, pair->value);
                _cleanup_free_ char *path = NULL, *shown = NULL;
                const struct key *k = NULL;
                size_t i;
                int r;

                if (!kn || !vn)
                        continue;
                if (kn->type != YAML_SCALAR_NODE) {
                        if (!f->strict)
                                continue;
                        return fail_mark(b->error, -EINVAL, f->path, kn->start_mark,
                                         "unsupported non-string key %s", where);
                }
                for (i = 0; table[i].name; i++)
                        if (!scalar_has_nul(kn) && strcmp(scalar_value(kn), table[i].name) == 0) {
                                k = &table[i];
                                break;
                        }
                if (!k) {
                        if (!f->strict)
                                continue;
                        shown = str_escape(scalar_value(kn), kn->data.scalar.length);
                        return fail_mark(b->error, -EINVAL, f->path, kn->start_mark,
                                         "unknown key '%s' %s", shown, where);
                }
                /* Every table is far shorter than the 64 bits of seen. */
                if (seen & (UINT64_C(1) << i))
                        return fail_mark(b->error, -EINVAL, f->path, kn->start_mark,
                                         "duplicate key '%s'", k->name);
                seen |= UINT64_C(1) << i;

                path = prefix ? xasprintf("%s.%s", prefix, k->name) : xstrdup(k->name);
                r = apply_value(b, f, k, path, vn);
                if (r < 0)
                        return r;
        }
        return 0;
}

static yaml_node_pair_t *find_key(struct yfile *f, yaml_node_t *map, const char *name) {
        for (yaml_node_pair_t *pair = map->data.mapping.pairs.start; pair < map->data.mapping.pairs.top; pair++) {
                yaml_node_t *kn = yfile_node(f, pair->key);
                if (kn && kn->type == YAML_SCALAR_NODE && !scalar_has_nul(kn) &&
                    strcmp(scalar_value(kn), name) == 0 && yfile_node(f, pair->value))
                        return pair;
        }
        return NULL;
}

/* Reads and parses one file; the config is strict, values files lenient. */
static int yfile_load_path(struct yfile *f, const char *path, bool strict, int *io_error, char **error) {
        _cleanup_free_ char *text = NULL;
        size_t len;
        int r;

        f->path = path;
        f->strict = strict;
        r = read_file(path, &text, &len);
        if (r < 0) {
                *io_error = r;   /* tells "cannot read" apart from bad content */
                return r;
        }
        return yfile_parse(f, text, len, error);
}

static int apply_values_file(struct build *b, const char *path, yaml_mark_t mark, const char *config_file) {
        _cleanup_(yfile_done) struct yfile f = {};
        yaml_node_t *root;
        int r, errno_r = 0;

        r = yfile_load_path(&f, path, false, &errno_r, b->error);
        if (errno_r < 0) {
                _cleanup_free_ char *shown = escape(path);
                return fail_mark(b->error, r, config_file, mark, "cannot read values file '%s': %s",
                                 shown, strerror(-r));
        }
        if (r < 0)
                return r;
        root = yaml_document_get_root_node(&f.doc);
        if (!root || node_is_null(root))
                return 0;
        if (root->type != YAML_MAPPING_NODE)
                return fail_mark(b->error, -EINVAL, f.path, root->start_mark, "a values file must be a mapping");
        return apply_map(b, &f, root, values_keys, NULL, NULL);
}

static int check_days(struct build *b, const char *file) {
        const struct platform *p = b->p;
        yaml_mark_t m = b->warn_set ? b->warn_mark : b->critical_mark;

        if (p->warn_days < 0 || p->critical_days < 0 || p->warn_days >= p->critical_days)
                return 0;
        return fail_mark(b->error, -EINVAL, file, m, "warn_days (%d) must not be less than critical_days (%d)",
                         p->warn_days, p->critical_days);
}

/* The renew: and kubernetes: settings as a whole, once every layer has
 * been applied: one renewal method when enabled, and complete connections. */
static int check_platform_links(struct build *b, struct yfile *f, yaml_node_t *map, yaml_node_t *defaults,
                                const char *shown) {
        const struct renew_settings *rs = &b->p->renew;
        yaml_node_pair_t *pair = find_key(f, map, "renew");
        bool cm = rs->cm_namespace || rs->cm_certificate || rs->cm_kubeconfig || rs->cm_in_cluster;
        yaml_mark_t m = map->start_mark;

        if (pair)
                m = yfile_node(f, pair->key)->start_mark;
        else if (defaults && (pair = find_key(f, defaults, "renew")))
                m = yfile_node(f, pair->key)->start_mark;

        if (rs->command && cm)
                return fail_mark(b->error, -EINVAL, f->path, m,
                                 "platform '%s': renew.command and renew.cert_manager exclude each other", shown);
        if (cm && (!rs->cm_namespace || !rs->cm_certificate))
                return fail_mark(b->error, -EINVAL, f->path, m,
                                 "platform '%s': renew.cert_manager needs namespace and certificate", shown);
        if (cm && !!rs->cm_kubeconfig == rs->cm_in_cluster)
                return fail_mark(b->error, -EINVAL, f->path, m,
                                 "platform '%s': renew.cert_manager needs one of kubeconfig or in_cluster: true",
                                 shown);
        if (rs->enabled && !rs->command && !cm)
                return fail_mark(b->error, -EINVAL, f->path, m,
                                 "platform '%s': renew is enabled but has no method (command or cert_manager)",
                                 shown);
        if ((b->p->kube_kubeconfig || b->p->kube_in_cluster) && !b->p->kube_namespace)
                return fail_mark(b->error, -EINVAL, f->path, map->start_mark,
                                 "platform '%s': kubernetes needs a namespace", shown);
        if (b->p->kube_namespace && !!b->p->kube_kubeconfig == b->p->kube_in_cluster)
                return fail_mark(b->error, -EINVAL, f->path, map->start_mark,
                                 "platform '%s': kubernetes needs one of kubeconfig or in_cluster: true", shown);
        if (rs->verify_timeout_usec < rs->verify_every_usec)
                return fail_mark(b->error, -EINVAL, f->path, m,
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

static int platform_parse(struct yfile *f, yaml_node_t *map, size_t index, yaml_node_t *defaults,
                          struct platform *const *others, size_t n_others, struct platform **ret,
                          char **error) {
        _cleanup_(platform_freep) struct platform *p = platform_new();
        _cleanup_free_ char *shown = NULL, *where = NULL;
        struct build b = { .p = p, .config_path = f->path, .error = error };
        yaml_node_pair_t *pair;
        const char *s = NULL;
        int r;

        if (map->type != YAML_MAPPING_NODE)
                return fail_mark(error, -EINVAL, f->path, map->start_mark, "platform #%zu must be a mapping", index + 1);

        /* The name first, since every later message names the platform. */
        pair = find_key(f, map, "name");
        r = pair ? get_string(f, "name", yfile_node(f, pair->value), &s, error) : 1;
        if (r < 0)
                return r;
        if (r > 0)
                return fail_mark(error, -EINVAL, f->path, map->start_mark, "platform #%zu has no name", index + 1);
        shown = escape(s);
        if (!name_is_valid(s))
                return fail_mark(error, -EINVAL, f->path, yfile_node(f, pair->value)->start_mark,
                                 "'%s' is not a valid platform name", shown);
        for (size_t i = 0; i < n_others; i++)
                if (strcmp(others[i]->name, s) == 0)
                        return fail_mark(error, -EINVAL, f->path, yfile_node(f, pair->value)->start_mark,
                                         "duplicate platform name '%s'", shown);
        p->name = xstrdup(s);

        if (defaults) {
                r = apply_map(&b, f, defaults, defaults_keys, NULL, "in defaults");
                if (r < 0)
                        return r;
        }

        /* The values file goes under the inline keys, which override it. */
        pair = find_key(f, map, "values");
        if (pair) {
                yaml_node_t *kn = yfile_node(f, pair->key);

                r = get_string(f, "values", yfile_node(f, pair->value), &s, error);
                if (r < 0)
                        return r;
                if (r == 0) {
                        p->values_path = path_resolve(f->path, s);
                        r = apply_values_file(&b, p->values_path, kn->start_mark, f->path);
                        if (r < 0)
                                return r;
                }
        }

        where = xasprintf("in platform '%s'", shown);
        r = apply_map(&b, f, map, platform_keys, NULL, where);
        if (r < 0)
                return r;

        if (!p->base_domain)
                return fail_mark(error, -EINVAL, f->path, map->start_mark,
                                 "platform '%s' has no global.baseDomain", shown);
        r = check_days(&b, f->path);
        if (r < 0)
                return r;
        r = check_platform_links(&b, f, map, defaults, shown);
        if (r < 0)
                return r;

        *ret = TAKE_PTR(p);
        return 0;
}

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
        free(c->path);
        free(c);
        return NULL;
}

static void config_freep(struct config **c) {
        config_free(*c);
}

static int config_parse(const char *text, size_t len, const char *filename, finding_lookup_fn known_id,
                        struct config **ret, char **error) {
        const char *shown_file = filename ? filename : "<string>";
        _cleanup_(yfile_done) struct yfile f = { .path = shown_file, .strict = true, .known_id = known_id };
        _cleanup_(config_freep) struct config *c = config_new(filename);
        yaml_node_t *root, *defaults = NULL, *platforms = NULL;
        yaml_node_pair_t *pair;
        const yaml_mark_t start = {};
        size_t n;
        int r;

        r = yfile_parse(&f, text, len, error);
        if (r < 0)
                return r;
        root = yaml_document_get_root_node(&f.doc);
        if (root && !node_is_null(root)) {
                struct build scratch = { .config_path = shown_file, .error = error };

                if (root->type != YAML_MAPPING_NODE)
                        return fail_mark(error, -EINVAL, f.path, root->start_mark, "the config file must be a mapping");
                r = apply_map(&scratch, &f, root, top_keys, NULL, "at top level");
                if (r < 0)
                        return r;

                pair = find_key(&f, root, "defaults");
                if (pair) {
                        _cleanup_(platform_freep) struct platform *p = platform_new();

                        defaults = yfile_node(&f, pair->value);
                        if (defaults->type != YAML_MAPPING_NODE)
                                return fail_mark(error, -EINVAL, f.path, defaults->start_mark,
                                                 "'defaults' must be a mapping");
                        /* Checked once up front, so that its errors show even
                         * before (or without) any platform. */
                        scratch.p = p;
                        r = apply_map(&scratch, &f, defaults, defaults_keys, NULL, "in defaults");
                        if (r < 0)
                                return r;
                }
                pair = find_key(&f, root, "platforms");
                if (pair) {
                        platforms = yfile_node(&f, pair->value);
                        if (node_is_null(platforms))
                                platforms = NULL;
                        else if (platforms->type != YAML_SEQUENCE_NODE)
                                return fail_mark(error, -EINVAL, f.path, platforms->start_mark,
                                                 "'platforms' must be a list");
                }
        }
        n = platforms ? (size_t)(platforms->data.sequence.items.top - platforms->data.sequence.items.start) : 0;
        if (n == 0)
                return fail_mark(error, -EINVAL, f.path, start, "no platforms defined");
        if (n > PLATFORMS_MAX)
                return fail_mark(error, -EINVAL, f.path, platforms->start_mark,
                                 "too many platforms (more than %u)", PLATFORMS_MAX);

        c->platforms = xcalloc(n, sizeof(struct platform *));
        for (size_t i = 0; i < n; i++) {
                yaml_node_t *item = yfile_node(&f, platforms->data.sequence.items.start[i]);

                if (!item)
                        continue;
                r = platform_parse(&f, item, i, defaults, c->platforms, c->n_platforms,
                                   &c->platforms[c->n_platforms], error);
                if (r < 0)
                        return r;
                c->n_platforms++;
        }
        *ret = TAKE_PTR(c);
        return 0;
}

int config_load(const char *path, finding_lookup_fn known_id, struct config **ret, char **ret_error) {
        _cleanup_free_ char *text = NULL;
        size_t len;
        int r;

        r = read_file(path, &text, &len);
        if (r < 0)
                return fail_file(ret_error, r, path, "cannot read: %s", strerror(-r));
        return config_parse(text, len, path, known_id, ret, ret_error);
}

int config_load_string(const char *text, const char *filename, finding_lookup_fn known_id, struct config **ret,
                       char **ret_error) {
        size_t len = strlen(text);

        if (len > FILE_SIZE_MAX)
                return fail_file(ret_error, -EFBIG, filename ? filename : "<string>", "cannot read: %s",
                                 strerror(EFBIG));
        return config_parse(text, len, filename, known_id, ret, ret_error);
}

int config_from_values(const char *values_path, struct config **ret, char **ret_error) {
        _cleanup_(config_freep) struct config *c = config_new(NULL);
        _cleanup_(platform_freep) struct platform *p = platform_new();
        _cleanup_(yfile_done) struct yfile f = {};
        struct build b = { .p = p, .error = ret_error };
        yaml_node_t *root;
        yaml_mark_t start = {};
        int r, errno_r = 0;

        r = yfile_load_path(&f, values_path, false, &errno_r, ret_error);
        if (errno_r < 0)
                return fail_file(ret_error, r, values_path, "cannot read: %s", strerror(-r));
        if (r < 0)
                return r;
        root = yaml_document_get_root_node(&f.doc);
        if (root && !node_is_null(root)) {
                if (root->type != YAML_MAPPING_NODE)
                        return fail_mark(ret_error, -EINVAL, f.path, root->start_mark,
                                         "a values file must be a mapping");
                start = root->start_mark;
                r = apply_map(&b, &f, root, values_keys, NULL, NULL);
                if (r < 0)
                        return r;
        }
        if (!p->base_domain)
                return fail_mark(ret_error, -EINVAL, f.path, start, "values file has no global.baseDomain");

        p->name = xstrdup(p->base_domain);
        p->values_path = xstrdup(values_path);
        c->platforms = xcalloc(1, sizeof(struct platform *));
        c->platforms[0] = TAKE_PTR(p);
        c->n_platforms = 1;
        *ret = TAKE_PTR(c);
        return 0;
}

static struct platform *config_find(const struct config *c, const char *name) {
        for (size_t i = 0; i < c->n_platforms; i++)
                if (strcmp(c->platforms[i]->name, name) == 0)
                        return c->platforms[i];
        return NULL;
}

int config_apply_overrides(struct config *c, const struct config_overrides *o, char **ret_error) {
        _cleanup_strv_free_ char **resolvers = NULL;
        bool system = false;
        size_t kept = 0;

        if (!o)
                return 0;

        /* Everything is checked before anything changes, so a failed call
         * leaves the config as it was. */
        for (size_t i = 0; o->resolvers && o->resolvers[i]; i++) {
                char *canonical;

                if (strcmp(o->resolvers[i], "system") == 0) {
                        system = true;
                        continue;
                }
                if (resolver_normalize(o->resolvers[i], &canonical) < 0) {
                        _cleanup_free_ char *shown = escape(o->resolvers[i]);
                        return fail_plain(ret_error, -EINVAL,
                                          "invalid resolver '%s' (expected ADDRESS[:PORT] or system)", shown);
                }
                strv_push(&resolvers, canonical);
        }
        if (system && resolvers)
                return fail_plain(ret_error, -EINVAL, "'system' cannot be combined with other resolvers");
        if (o->port < 0 || o->port > 65535)
                return fail_plain(ret_error, -EINVAL, "'port' must be between 1 and 65535");
        for (size_t i = 0; o->only_platforms && o->only_platforms[i]; i++)
                if (!config_find(c, o->only_platforms[i])) {
                        _cleanup_free_ char *shown = escape(o->only_platforms[i]);
                        return fail_plain(ret_error, -ENOENT, "unknown platform '%s'", shown);
                }

        for (size_t i = 0; i < c->n_platforms; i++) {
                struct platform *p = c->platforms[i];

                if (o->only_platforms && !strv_contains(o->only_platforms, p->name)) {
                        platform_free(p);
                        continue;
                }
                if (o->resolvers) {
                        strv_free(p->resolvers);
                        p->resolvers = strv_copy(resolvers);
                }
                if (o->port > 0)
                        p->port = (uint16_t)o->port;
                if (o->trust)
                        set_string(&p->trust, xstrdup(o->trust));
                if (o->timeout_usec > 0)
                        p->timeout_usec = o->timeout_usec;
                if (o->deadline_usec > 0)
                        p->deadline_usec = o->deadline_usec;
                c->platforms[kept++] = p;
        }
        c->n_platforms = kept;
        return 0;
}
