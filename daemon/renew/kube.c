/* The Kubernetes API for renewal's cert_manager method: where the API
 * server is, how it is verified and authenticated, and the Certificate
 * edit `cmctl renew` makes. See kube.h. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <yaml.h>

#include "kube.h"
#include "util.h"
#include "x509.h"

#define SA_DIR "/var/run/secrets/kubernetes.io/serviceaccount"
#define SMALL_FILE_MAX (1024 * 1024)

struct kube {
        char *server;              /* https://host:port, no trailing slash */
        char *ca_file;             /* PEM bundle the server is verified with */
        bool ca_file_temporary;    /* written from certificate-authority-data; removed by kube_free */
        char *token;               /* secret: headers only */
};

struct kube *kube_free(struct kube *k) {
        if (!k)
                return NULL;
        if (k->ca_file_temporary && k->ca_file)
                (void)unlink(k->ca_file);
        free(k->server);
        free(k->ca_file);
        if (k->token) {
                explicit_bzero(k->token, strlen(k->token));
                free(k->token);
        }
        free(k);
        return NULL;
}

static void kube_freep(struct kube **k) {
        kube_free(*k);
}

static int read_small(const char *path, char **ret) {
        _cleanup_free_ char *buf = xmalloc(SMALL_FILE_MAX + 1);
        size_t n = 0;
        /* A FIFO is refused, not waited on: this runs on the loop. */
        int fd = file_open_regular(path);

        if (fd < 0)
                return fd;
        for (;;) {
                ssize_t r = read(fd, buf + n, SMALL_FILE_MAX - n);
                if (r < 0 && errno == EINTR)
                        continue;
                if (r < 0) {
                        int e = -errno;
                        close(fd);
                        return e;
                }
                if (r == 0)
                        break;
                n += (size_t)r;
                if (n == SMALL_FILE_MAX) {
                        close(fd);
                        return -EFBIG;
                }
        }
        close(fd);
        buf[n] = 0;
        *ret = TAKE_PTR(buf);
        return 0;
}

/* A token is one line of visible ASCII; anything else would corrupt the
 * header (or smuggle another one). */
static int token_clean(char *t) {
        size_t n = strlen(t);
        while (n > 0 && (t[n - 1] == '\n' || t[n - 1] == '\r' || t[n - 1] == ' '))
                t[--n] = 0;
        if (n == 0)
                return -EINVAL;
        for (size_t i = 0; i < n; i++)
                if ((unsigned char)t[i] <= 0x20 || (unsigned char)t[i] >= 0x7f)
                        return -EINVAL;
        return 0;
}

/* ------------------------------------------------------------------------ */
/* kubeconfig: a YAML document; only a few scalars matter. */

static yaml_node_t *map_get(yaml_document_t *d, yaml_node_t *map, const char *key) {
        if (!map || map->type != YAML_MAPPING_NODE)
                return NULL;
        for (yaml_node_pair_t *p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top; p++) {
                yaml_node_t *k = yaml_document_get_node(d, p->key);
                if (k && k->type == YAML_SCALAR_NODE && strcmp((const char *)k->data.scalar.value, key) == 0)
                        return yaml_document_get_node(d, p->value);
        }
        return NULL;
}

static const char *scalar(yaml_node_t *n) {
        if (!n || n->type != YAML_SCALAR_NODE || strlen((const char *)n->data.scalar.value) != n->data.scalar.length)
                return NULL;
        return (const char *)n->data.scalar.value;
}

/* The entry of list named name, then its `key` mapping (contexts[].context,
 * clusters[].cluster, users[].user). */
static yaml_node_t *named(yaml_document_t *d, yaml_node_t *root, const char *list, const char *name, const char *key) {
        yaml_node_t *l = map_get(d, root, list);
        if (!l || l->type != YAML_SEQUENCE_NODE || !name)
                return NULL;
        for (yaml_node_item_t *i = l->data.sequence.items.start; i < l->data.sequence.items.top; i++) {
                yaml_node_t *e = yaml_document_get_node(d, *i);
                const char *n = scalar(map_get(d, e, "name"));
                if (n && strcmp(n, name) == 0)
                        return map_get(d, e, key);
        }
        return NULL;
}

static char *relative_to(const char *file, const char *path) {
        const char *slash = strrchr(file, '/');
        if (path[0] == '/' || !slash)
                return xstrdup(path);
        return xasprintf("%.*s/%s", (int)(slash - file), file, path);
}

static int write_temp_ca(struct kube *k, const unsigned char *pem, size_t len, char **ret_error) {
        const char *dir = getenv("RUNTIME_DIRECTORY") && *getenv("RUNTIME_DIRECTORY") ? getenv("RUNTIME_DIRECTORY")
                          : getenv("TMPDIR") && *getenv("TMPDIR")                    ? getenv("TMPDIR")
                                                                                       : "/tmp";
        char *path = xasprintf("%s/certvigil-kube-ca.XXXXXX", dir);
        int fd = mkostemp(path, O_CLOEXEC);

        if (fd < 0 || write(fd, pem, len) != (ssize_t)len) {
                int e = -errno;
                *ret_error = xasprintf("cannot write the cluster CA to %s: %s", path, strerror(errno));
                if (fd >= 0) {
                        close(fd);
                        unlink(path);
                }
                free(path);
                return e ? e : -EIO;
        }
        close(fd);
        k->ca_file = path;
        k->ca_file_temporary = true;
        return 0;
}

void kubeconfig_done(struct kubeconfig *c) {
        free(c->server);
        free(c->ca_file);
        free(c->ca_data);
        if (c->token) {
                explicit_bzero(c->token, strlen(c->token));
                free(c->token);
        }
        free(c->token_file);
        *c = (struct kubeconfig){ 0 };
}

int kubeconfig_parse(const char *text, size_t len, const char *path, struct kubeconfig *ret, char **ret_error) {
        _cleanup_free_ char *shown = str_escape(path, strlen(path));
        struct kubeconfig c = { 0 };
        yaml_parser_t parser;
        yaml_document_t doc;
        yaml_node_t *root, *ctx, *cluster, *user;
        const char *s, *current;
        int r = -EINVAL;

        if (!yaml_parser_initialize(&parser))
                return -ENOMEM;
        yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
        if (!yaml_parser_load(&parser, &doc)) {
                *ret_error = xasprintf("%s:%zu:%zu: kubeconfig is not valid YAML: %s", shown,
                                       parser.problem_mark.line + 1, parser.problem_mark.column + 1,
                                       parser.problem ? parser.problem : "syntax error");
                yaml_parser_delete(&parser);
                return -EINVAL;
        }
        yaml_parser_delete(&parser);
        root = yaml_document_get_root_node(&doc);
        current = scalar(map_get(&doc, root, "current-context"));
        ctx = named(&doc, root, "contexts", current, "context");
        cluster = named(&doc, root, "clusters", scalar(map_get(&doc, ctx, "cluster")), "cluster");
        user = named(&doc, root, "users", scalar(map_get(&doc, ctx, "user")), "user");
        if (!cluster || !user) {
                *ret_error = xasprintf("kubeconfig %s: current-context does not name a cluster and a user", shown);
                goto out;
        }
        s = scalar(map_get(&doc, cluster, "server"));
        /* With a host: "https://" alone would become "https:/" below. */
        if (!s || strncmp(s, "https://", 8) != 0 || s[8] == 0 || s[8] == '/') {
                *ret_error = xasprintf("kubeconfig %s: the cluster's server must be an https:// URL", shown);
                goto out;
        }
        c.server = xstrdup(s);
        if (str_endswith(c.server, "/"))
                c.server[strlen(c.server) - 1] = 0;
        if ((s = scalar(map_get(&doc, cluster, "certificate-authority"))))
                c.ca_file = relative_to(path, s);
        else if ((s = scalar(map_get(&doc, cluster, "certificate-authority-data"))) &&
                 x509_base64_decode(s, &c.ca_data, &c.ca_data_len) < 0) {
                *ret_error = xasprintf("kubeconfig %s: certificate-authority-data is not base64", shown);
                goto out;
        }
        if ((s = scalar(map_get(&doc, user, "token"))))
                c.token = xstrdup(s);
        else if ((s = scalar(map_get(&doc, user, "tokenFile"))))
                c.token_file = relative_to(path, s);
        *ret = c;
        c = (struct kubeconfig){ 0 };
        r = 0;
out:
        kubeconfig_done(&c);
        yaml_document_delete(&doc);
        return r;
}

/* The file's text, then what it names: the certificate-authority file
 * checked, the CA data written to a file of our own, the tokenFile read. */
static int load_kubeconfig(struct kube *k, const char *path, char **ret_error) {
        _cleanup_free_ char *text = NULL, *shown = str_escape(path, strlen(path));
        struct kubeconfig c = { 0 };
        int r;

        r = read_small(path, &text);
        if (r < 0) {
                *ret_error = xasprintf("cannot read kubeconfig %s: %s", shown, file_strerror(r));
                return r;
        }
        /* A NUL ends the text, as it always has. */
        r = kubeconfig_parse(text, strlen(text), path, &c, ret_error);
        if (r < 0)
                return r;
        k->server = TAKE_PTR(c.server);
        k->ca_file = TAKE_PTR(c.ca_file);
        if (k->ca_file) {
                /* libcurl reads it on the loop: a FIFO would stall it. */
                int fd = file_open_regular(k->ca_file);
                if (fd < 0) {
                        _cleanup_free_ char *shown_ca = str_escape(k->ca_file, strlen(k->ca_file));
                        *ret_error = xasprintf("kubeconfig %s: cannot read certificate-authority %s: %s", shown,
                                               shown_ca, file_strerror(fd));
                        r = fd;
                        goto out;
                }
                close(fd);
        } else if (c.ca_data) {
                r = write_temp_ca(k, c.ca_data, c.ca_data_len, ret_error);
                if (r < 0)
                        goto out;
        }
        /* Without a CA of its own, the server is verified against the
         * system store: never unverified. */
        k->token = TAKE_PTR(c.token);
        if (!k->token && c.token_file) {
                r = read_small(c.token_file, &k->token);
                if (r < 0) {
                        _cleanup_free_ char *shown_tf = str_escape(c.token_file, strlen(c.token_file));
                        *ret_error = xasprintf("kubeconfig %s: cannot read tokenFile %s: %s", shown, shown_tf,
                                               file_strerror(r));
                        goto out;
                }
        }
        r = -EINVAL;
        if (!k->token || token_clean(k->token) < 0) {
                *ret_error = xasprintf("kubeconfig %s: the user needs a bearer token (token or tokenFile); "
                                       "client certificates are not supported",
                                       shown);
                goto out;
        }
        r = 0;
out:
        kubeconfig_done(&c);
        return r;
}

static int load_in_cluster(struct kube *k, char **ret_error) {
        const char *host = getenv("KUBERNETES_SERVICE_HOST"), *port = getenv("KUBERNETES_SERVICE_PORT");
        int r;

        if (!host || !*host) {
                *ret_error = xstrdup("in_cluster: KUBERNETES_SERVICE_HOST is not set (not running in a pod?)");
                return -ENOENT;
        }
        k->server = strchr(host, ':') ? xasprintf("https://[%s]:%s", host, port && *port ? port : "443")
                                      : xasprintf("https://%s:%s", host, port && *port ? port : "443");
        k->ca_file = xstrdup(SA_DIR "/ca.crt");
        r = read_small(SA_DIR "/token", &k->token);
        if (r < 0 || token_clean(k->token) < 0) {
                *ret_error = xasprintf("in_cluster: cannot read the service account token in " SA_DIR ": %s",
                                       r < 0 ? file_strerror(r) : strerror(EINVAL));
                return r < 0 ? r : -EINVAL;
        }
        return 0;
}

int kube_open(const char *kubeconfig, bool in_cluster, struct kube **ret, char **ret_error) {
        _cleanup_(kube_freep) struct kube *k = xcalloc(1, sizeof(*k));
        int r = in_cluster ? load_in_cluster(k, ret_error) : load_kubeconfig(k, kubeconfig, ret_error);

        if (r < 0)
                return r;
        *ret = TAKE_PTR(k);
        return 0;
}

/* One URL path segment, percent-encoded (RFC 3986 2.1) so that no name can
 * leave its segment: every byte but the unreserved ones, and the dots of a
 * "." or ".." segment, which clients and servers would otherwise resolve
 * (RFC 3986 5.2.4). The config admits only DNS-1123 names; this holds even
 * if that check is ever bypassed. Caller frees. */
static char *path_segment(const char *s) {
        static const char hex[] = "0123456789ABCDEF";
        bool dots = s[strspn(s, ".")] == 0;
        char *out = xmalloc(strlen(s) * 3 + 1), *o = out;

        for (const unsigned char *c = (const unsigned char *)s; *c; c++) {
                bool plain = (*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9') ||
                             *c == '-' || *c == '_' || *c == '~' || (*c == '.' && !dots);
                if (plain)
                        *o++ = (char)*c;
                else {
                        *o++ = '%';
                        *o++ = hex[*c >> 4];
                        *o++ = hex[*c & 15];
                }
        }
        *o = 0;
        return out;
}

char *kube_certificate_url(const struct kube *k, const char *ns, const char *name, bool status) {
        _cleanup_free_ char *e_ns = path_segment(ns), *e_name = path_segment(name);

        return xasprintf("%s/apis/cert-manager.io/v1/namespaces/%s/certificates/%s%s", k->server, e_ns, e_name,
                         status ? "/status?fieldManager=certvigil" : "");
}

char *kube_secret_url(const struct kube *k, const char *ns, const char *name) {
        _cleanup_free_ char *e_ns = path_segment(ns), *e_name = path_segment(name);

        return xasprintf("%s/api/v1/namespaces/%s/secrets/%s", k->server, e_ns, e_name);
}

void kube_request(const struct kube *k, const char *url, const char *method, const char *body,
                  struct http_fetch_params *params, char ***ret_headers) {
        char **h = NULL;

        strv_push(&h, xasprintf("Authorization: Bearer %s", k->token));
        strv_push(&h, xstrdup("Accept: application/json"));
        if (body)
                strv_push(&h, xstrdup("Content-Type: application/json"));
        *params = (struct http_fetch_params){
                .url = url,
                .max_bytes = 1024 * 1024,
                .timeout_usec = 30 * USEC_PER_SEC,
                .method = method,
                .headers = h,
                .body = body,
                .body_size = body ? strlen(body) : 0,
                .ca_file = k->ca_file,
                .no_redirects = true,
        };
        *ret_headers = h;
}

void kube_headers_freep(char ***headers) {
        for (char **h = *headers; h && *h; h++)
                explicit_bzero(*h, strlen(*h));
        *headers = strv_free(*headers);
}

/* ------------------------------------------------------------------------ */

static const char *jstr(const json_t *o, const char *key) {
        const char *s = json_string_value(json_object_get(o, key));
        return s ? s : NULL;
}

static char *jdup(const json_t *o, const char *key, size_t max) {
        const char *s = jstr(o, key);
        return s ? str_escape(s, strnlen(s, max)) : NULL;
}

char *kube_status_message(const unsigned char *body, size_t size) {
        json_t *o = body ? json_loadb((const char *)body, size, 0, NULL) : NULL;
        const char *s = json_string_value(json_object_get(o, "message"));
        char *e = s ? str_escape(s, strlen(s) > 200 ? 200 : strlen(s)) : xstrdup("no message");

        json_decref(o);
        return e;
}

void certmanager_fill_obs(const json_t *cert, struct certmanager_obs *o) {
        const json_t *status = json_object_get(cert, "status"), *conds = json_object_get(status, "conditions"), *c;
        const json_t *fa = json_object_get(status, "failedIssuanceAttempts");
        size_t i;

        json_array_foreach(conds, i, c) {
                const char *type = jstr(c, "type"), *st = jstr(c, "status");
                if (!type || !st)
                        continue;
                if (strcmp(type, "Issuing") == 0 && strcmp(st, "True") == 0)
                        o->issuing = true;
                if (strcmp(type, "Ready") == 0 && !o->ready) {
                        o->ready = jdup(c, "status", 16);
                        o->ready_reason = jdup(c, "reason", 64);
                        o->ready_message = jdup(c, "message", 512);
                }
        }
        o->renewal_time = jdup(status, "renewalTime", 40);
        o->last_failure_time = jdup(status, "lastFailureTime", 40);
        o->failed_issuance_attempts = json_is_integer(fa) ? (long long)json_integer_value(fa) : 0;
}

char *certmanager_describe(const struct certmanager_obs *o) {
        _cleanup_free_ char *ready = NULL;

        /* Every part is escaped already (certmanager_fill_obs). */
        if (o->ready)
                ready = xasprintf("Ready=%s%s%s%s%.160s%s", o->ready, o->ready_reason ? " (" : "",
                                  o->ready_reason ? o->ready_reason : "", o->ready_message ? ": " : "",
                                  o->ready_message ? o->ready_message : "", o->ready_reason ? ")" : "");
        return xasprintf("%s, renewalTime %s, failedIssuanceAttempts %lld, lastFailureTime %s%s",
                         ready ? ready : "Ready unknown", o->renewal_time ? o->renewal_time : "-",
                         o->failed_issuance_attempts, o->last_failure_time ? o->last_failure_time : "-",
                         o->issuing ? ", Issuing=True" : "");
}

int certmanager_mark_issuing(json_t *cert, time_t now) {
        json_t *status, *conds, *fresh, *c;
        char when[RFC3339_MAX];
        size_t i;

        if (!json_is_object(cert) || !json_is_object(json_object_get(cert, "metadata")))
                return -EINVAL;
        status = json_object_get(cert, "status");
        if (!json_is_object(status)) {
                status = json_object();
                json_object_set_new(cert, "status", status);
        }
        conds = json_object_get(status, "conditions");
        fresh = json_array();
        json_array_foreach(conds, i, c)
                if (!json_is_string(json_object_get(c, "type")) || strcmp(jstr(c, "type"), "Issuing") != 0)
                        json_array_append(fresh, c);
        json_t *cond = json_pack("{s:s, s:s, s:s, s:s, s:s}", "type", "Issuing", "status", "True", "reason",
                                 "ManuallyTriggered", "message",
                                 "Certificate re-issuance manually triggered by certvigil", "lastTransitionTime",
                                 format_rfc3339(now, when));
        json_t *gen = json_object_get(json_object_get(cert, "metadata"), "generation");
        if (json_is_integer(gen))
                json_object_set(cond, "observedGeneration", gen);
        json_array_append_new(fresh, cond);
        json_object_set_new(status, "conditions", fresh);
        return 0;
}
