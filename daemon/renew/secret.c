/* Reading the wildcard Secret for tls.secret.*; see secret.h. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "http.h"
#include "kube.h"
#include "secret.h"
#include "tls-secret.h"
#include "util.h"
#include "x509.h"

struct secret_check {
        sd_event *event;
        const struct platform *p;
        const struct audit *audit;
        struct http_client *http;
        struct kube *kube;
        struct finding_list findings;
        sd_event_source *defer;
        secret_done_cb cb;
        void *userdata;
};

int secret_check_new(sd_event *event, const struct platform *p, struct secret_check **ret) {
        struct secret_check *s = xcalloc(1, sizeof(*s));
        s->event = sd_event_ref(event);
        s->p = p;
        *ret = s;
        return 0;
}

struct secret_check *secret_check_free(struct secret_check *s) {
        if (!s)
                return NULL;
        http_client_free(s->http);
        kube_free(s->kube);
        sd_event_source_disable_unref(s->defer);
        finding_list_clear(&s->findings);
        sd_event_unref(s->event);
        free(s);
        return NULL;
}

const struct finding_list *secret_check_findings(const struct secret_check *s) {
        return &s->findings;
}

static int on_defer(sd_event_source *src, void *userdata) {
        struct secret_check *s = userdata;
        s->defer = sd_event_source_disable_unref(s->defer);
        if (s->cb)
                s->cb(s, s->userdata);
        return 0;
}

static void finish(struct secret_check *s) {
        if (!s->defer && sd_event_add_defer(s->event, &s->defer, on_defer, s) < 0 && s->cb)
                s->cb(s, s->userdata);
}

static void note(struct secret_check *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void note(struct secret_check *s, const char *fmt, ...) {
        _cleanup_free_ char *msg = NULL;
        va_list ap;
        va_start(ap, fmt);
        msg = xvasprintf(fmt, ap);
        va_end(ap);
        fprintf(stderr, "certvigil: platform '%s': Secret %s/%s: %s\n", s->p->name, s->p->kube_namespace,
                s->p->wildcard_secret, msg);
}

static void wipe_free(unsigned char *p, size_t n) {
        if (p) {
                explicit_bzero(p, n);
                free(p);
        }
}

static void on_secret(struct http_fetch *f, struct http_result *res, void *userdata) {
        struct secret_check *s = userdata;
        unsigned char *crt = NULL, *key = NULL;
        size_t crt_len = 0, key_len = 0;
        _cleanup_free_ char *sha = NULL, *error = NULL, *what = NULL;
        json_t *o = NULL, *data;
        bool match = false;

        if (res->error || res->status != 200) {
                if (res->error)
                        note(s, "cannot be read: %s", res->error);
                else
                        note(s, "cannot be read: HTTP %ld", res->status);
                goto out;
        }
        o = json_loadb((const char *)res->body, res->size, 0, NULL);
        data = json_object_get(o, "data");
        if (!json_is_string(json_object_get(data, "tls.crt")) || !json_is_string(json_object_get(data, "tls.key")) ||
            x509_base64_decode(json_string_value(json_object_get(data, "tls.crt")), &crt, &crt_len) < 0 ||
            x509_base64_decode(json_string_value(json_object_get(data, "tls.key")), &key, &key_len) < 0) {
                note(s, "has no base64 tls.crt and tls.key");
                goto out;
        }
        if (x509_secret_inspect(crt, crt_len, key, key_len, &sha, &match, &error) < 0) {
                note(s, "%s", error);
                goto out;
        }
        what = xasprintf("%s/%s", s->p->kube_namespace, s->p->wildcard_secret);
        secret_judge(&(struct secret_facts){ .what = what, .sha256 = sha, .key_matches = match },
                     audit_observations(s->audit), &s->findings);
out:
        /* The response held the private key too. */
        if (res->body)
                explicit_bzero(res->body, res->size);
        if (o) {
                json_t *k = json_object_get(json_object_get(o, "data"), "tls.key");
                if (json_is_string(k))
                        explicit_bzero((char *)json_string_value(k), json_string_length(k));
        }
        json_decref(o);
        wipe_free(key, key_len);
        free(crt);
        finish(s);
}

void secret_check_start(struct secret_check *s, const struct audit *audit, secret_done_cb cb, void *userdata) {
        const struct platform *p = s->p;
        _cleanup_(kube_headers_freep) char **headers = NULL;
        _cleanup_free_ char *error = NULL, *url = NULL;
        struct http_fetch_params params;
        struct http_fetch *f;
        int r;

        s->cb = cb;
        s->userdata = userdata;
        s->audit = audit;
        /* The daemon starts it every interval: the last one's connection goes. */
        s->http = http_client_free(s->http);
        s->kube = kube_free(s->kube);
        if (p->tls_mode != TLS_MODE_PROVIDED || !p->wildcard_secret || !p->kube_namespace) {
                finish(s);
                return;
        }
        r = kube_open(p->kube_kubeconfig, p->kube_in_cluster, &s->kube, &error);
        if (r < 0) {
                note(s, "%s", error ? error : strerror(-r));
                finish(s);
                return;
        }
        url = kube_secret_url(s->kube, p->kube_namespace, p->wildcard_secret);
        kube_request(s->kube, url, NULL, NULL, &params, &headers);
        if (http_client_new(s->event, &s->http) < 0 || http_fetch_start(s->http, &params, on_secret, s, &f) < 0) {
                note(s, "cannot start the request");
                finish(s);
        }
}
