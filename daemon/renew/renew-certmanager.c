/* Renewal's cert_manager method: read the Certificate, then mark it for
 * issuance, over the Kubernetes API on the caller's loop. */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "http.h"
#include "kube.h"
#include "renew-certmanager.h"
#include "util.h"

struct renew_certmanager {
        sd_event *event;
        const struct renew_settings *rs;
        struct http_client *http;  /* cancels its fetches when freed */
        struct kube *kube;
        json_t *cert;              /* the Certificate as read */
        char *described;           /* its status, for messages */
        struct certmanager_obs obs;   /* the same, for the report */
        bool observed;
        bool busy;
        renew_certmanager_go_cb go;
        renew_certmanager_done_cb done;
        void *userdata;
};

int renew_certmanager_new(sd_event *event, const struct renew_settings *rs, struct renew_certmanager **ret) {
        struct renew_certmanager *m = xcalloc(1, sizeof(*m));

        m->event = sd_event_ref(event);
        m->rs = rs;
        *ret = m;
        return 0;
}

void renew_certmanager_forget(struct renew_certmanager *m) {
        json_decref(m->cert);
        m->cert = NULL;
        m->described = mfree(m->described);
        certmanager_obs_done(&m->obs);
        m->observed = false;
}

struct renew_certmanager *renew_certmanager_free(struct renew_certmanager *m) {
        if (!m)
                return NULL;
        http_client_free(m->http);
        kube_free(m->kube);
        renew_certmanager_forget(m);
        sd_event_unref(m->event);
        free(m);
        return NULL;
}

static void cm_end(struct renew_certmanager *m, enum renew_certmanager_outcome outcome, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));
static void cm_end(struct renew_certmanager *m, enum renew_certmanager_outcome outcome, const char *fmt, ...) {
        _cleanup_free_ char *detail = NULL;
        va_list ap;

        va_start(ap, fmt);
        detail = xvasprintf(fmt, ap);
        va_end(ap);
        m->busy = false;
        /* Last: the callback may free m. */
        m->done(m, outcome, detail, m->userdata);
}

static void on_put(struct http_fetch *f, struct http_result *res, void *userdata) {
        struct renew_certmanager *m = userdata;
        const struct renew_settings *rs = m->rs;

        if (res->error) {
                cm_end(m, RENEW_CERTMANAGER_UPDATE_FAILED, "the status update of Certificate %s/%s failed: %s",
                       rs->cm_namespace, rs->cm_certificate, res->error);
                return;
        }
        if (res->status < 200 || res->status > 299) {
                _cleanup_free_ char *e = kube_status_message(res->body, res->size);
                cm_end(m, RENEW_CERTMANAGER_UPDATE_FAILED,
                       "the API server refused the status update of Certificate %s/%s: HTTP %ld (%s)",
                       rs->cm_namespace, rs->cm_certificate, res->status, e);
                return;
        }
        cm_end(m, RENEW_CERTMANAGER_MARKED, "Certificate %s/%s marked Issuing=True (ManuallyTriggered); it was: %s",
               rs->cm_namespace, rs->cm_certificate, m->described);
}

/* Marks the Certificate just read for issuance. */
static void cm_update(struct renew_certmanager *m) {
        const struct renew_settings *rs = m->rs;
        _cleanup_(kube_headers_freep) char **headers = NULL;
        _cleanup_free_ char *url = NULL, *body = NULL;
        struct http_fetch_params params;
        struct http_fetch *put;

        (void)certmanager_mark_issuing(m->cert, (time_t)(now_realtime_usec() / USEC_PER_SEC));
        body = json_dumps(m->cert, JSON_COMPACT);
        url = kube_certificate_url(m->kube, rs->cm_namespace, rs->cm_certificate, true);
        kube_request(m->kube, url, "PUT", body, &params, &headers);
        if (!body || http_fetch_start(m->http, &params, on_put, m, &put) < 0)
                cm_end(m, RENEW_CERTMANAGER_UPDATE_FAILED, "cannot start the status update of Certificate %s/%s",
                       rs->cm_namespace, rs->cm_certificate);
}

static void on_get(struct http_fetch *f, struct http_result *res, void *userdata) {
        struct renew_certmanager *m = userdata;
        const struct renew_settings *rs = m->rs;

        if (res->error) {
                cm_end(m, RENEW_CERTMANAGER_NOT_READ, "cannot read Certificate %s/%s: %s", rs->cm_namespace,
                       rs->cm_certificate, res->error);
                return;
        }
        if (res->status != 200) {
                _cleanup_free_ char *e = kube_status_message(res->body, res->size);
                cm_end(m, RENEW_CERTMANAGER_NOT_READ, "cannot read Certificate %s/%s: HTTP %ld (%s)", rs->cm_namespace,
                       rs->cm_certificate, res->status, e);
                return;
        }
        m->cert = json_loadb((const char *)res->body, res->size, 0, NULL);
        if (!json_is_object(m->cert) || !json_is_object(json_object_get(m->cert, "metadata"))) {
                cm_end(m, RENEW_CERTMANAGER_NOT_READ,
                       "Certificate %s/%s: the API server's answer is not a Kubernetes object", rs->cm_namespace,
                       rs->cm_certificate);
                return;
        }
        certmanager_fill_obs(m->cert, &m->obs);
        m->described = certmanager_describe(&m->obs);
        m->observed = true;
        if (m->obs.issuing) {
                cm_end(m, RENEW_CERTMANAGER_ISSUING, "%s", m->described);
                return;
        }
        /* The trigger counts from here: the caller records it before the
         * request leaves. */
        if (!m->go(m, m->userdata)) {
                cm_end(m, RENEW_CERTMANAGER_HELD, "%s", m->described);
                return;
        }
        cm_update(m);
}

void renew_certmanager_start(struct renew_certmanager *m, renew_certmanager_go_cb go,
                             renew_certmanager_done_cb done, void *userdata) {
        const struct renew_settings *rs = m->rs;
        _cleanup_(kube_headers_freep) char **headers = NULL;
        _cleanup_free_ char *error = NULL, *url = NULL;
        struct http_fetch_params params;
        struct http_fetch *get;
        int r;

        m->go = go;
        m->done = done;
        m->userdata = userdata;
        m->busy = true;
        renew_certmanager_forget(m);
        m->kube = kube_free(m->kube);   /* the last trigger's, in the daemon */
        r = kube_open(rs->cm_kubeconfig, rs->cm_in_cluster, &m->kube, &error);
        if (r < 0) {
                cm_end(m, RENEW_CERTMANAGER_NOT_READ, "%s", error ? error : strerror(-r));
                return;
        }
        if (!m->http && http_client_new(m->event, &m->http) < 0) {
                cm_end(m, RENEW_CERTMANAGER_NOT_READ, "cannot set up the HTTP client");
                return;
        }
        url = kube_certificate_url(m->kube, rs->cm_namespace, rs->cm_certificate, false);
        kube_request(m->kube, url, NULL, NULL, &params, &headers);
        if (http_fetch_start(m->http, &params, on_get, m, &get) < 0)
                cm_end(m, RENEW_CERTMANAGER_NOT_READ, "cannot start reading Certificate %s/%s", rs->cm_namespace,
                       rs->cm_certificate);
}

bool renew_certmanager_busy(const struct renew_certmanager *m) {
        return m && m->busy;
}

const struct certmanager_obs *renew_certmanager_observation(const struct renew_certmanager *m) {
        return m && m->observed ? &m->obs : NULL;
}

const char *renew_certmanager_described(const struct renew_certmanager *m) {
        return m->described ? m->described : "";
}
