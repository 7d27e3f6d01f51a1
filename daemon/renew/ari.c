/* ACME Renewal Information polling on the loop: directory, then
 * renewalInfo/CERT-ID, with the window and the next poll time remembered
 * per platform. See ari.h. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "ari.h"
#include "http.h"
#include "tls-ari.h"
#include "util.h"
#include "x509.h"

#define ARI_BODY_MAX (64 * 1024)
#define ARI_TIMEOUT_USEC (10 * USEC_PER_SEC)

struct ari {
        sd_event *event;
        const struct platform *p;
        struct renew_store *store;
        struct renew_state *st;    /* the store's, or NULL */
        struct http_client *http;
        struct finding_list findings;
        char *cert_id;
        char *what;                /* "serial HEX" */
        struct ari_obs obs;        /* for the report */
        bool observed;             /* obs says something about this run */
        sd_event_source *defer;
        ari_done_cb cb;
        void *userdata;
};

int ari_new(sd_event *event, const struct platform *p, struct renew_store *store, struct ari **ret) {
        struct ari *a = xcalloc(1, sizeof(*a));

        a->event = sd_event_ref(event);
        a->p = p;
        a->store = store;
        a->st = store ? renew_store_get(store, p->name) : NULL;
        *ret = a;
        return 0;
}

struct ari *ari_free(struct ari *a) {
        if (!a)
                return NULL;
        http_client_free(a->http);
        sd_event_source_disable_unref(a->defer);
        finding_list_clear(&a->findings);
        free(a->cert_id);
        free(a->what);
        ari_obs_done(&a->obs);
        sd_event_unref(a->event);
        free(a);
        return NULL;
}

const struct finding_list *ari_findings(const struct ari *a) {
        return &a->findings;
}

const struct ari_obs *ari_observation(const struct ari *a) {
        return a && a->observed ? &a->obs : NULL;
}

static int on_defer(sd_event_source *s, void *userdata) {
        struct ari *a = userdata;
        a->defer = sd_event_source_disable_unref(a->defer);
        if (a->cb)
                a->cb(a, a->userdata);
        return 0;
}

static void ari_finish(struct ari *a) {
        if (!a->defer && sd_event_add_defer(a->event, &a->defer, on_defer, a) < 0 && a->cb)
                a->cb(a, a->userdata);
}

static void note(struct ari *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void note(struct ari *a, const char *fmt, ...) {
        _cleanup_free_ char *msg = NULL;
        va_list ap;

        va_start(ap, fmt);
        msg = xvasprintf(fmt, ap);
        va_end(ap);
        fprintf(stderr, "certvigil: platform '%s': ARI: %s\n", a->p->name, msg);
        /* The report says why there is no window, too. */
        a->observed = true;
        free(a->obs.error);
        a->obs.error = TAKE_PTR(msg);
}

static void save(struct ari *a) {
        int r;
        if (!a->store)
                return;
        r = renew_store_save(a->store);
        if (r < 0)
                fprintf(stderr, "certvigil: cannot write %s: %s\n", renew_store_path(a->store), strerror(-r));
}

static void remember_poll(struct ari *a, const char *retry_after, const struct ari_window *w) {
        time_t now = (time_t)(now_realtime_usec() / USEC_PER_SEC);
        /* Under the state directory's lock, on what the file says now:
         * renewal's guardrails of the same platform may have changed. */
        if (!a->st || renew_store_lock(a->store) < 0)
                return;
        if (!streq_ptr(a->st->ari_cert_id, a->cert_id)) {
                free(a->st->ari_cert_id);
                a->st->ari_cert_id = xstrdup(a->cert_id);
                a->st->ari_start = a->st->ari_end = 0;
        }
        if (w) {
                a->st->ari_start = w->start;
                a->st->ari_end = w->end;
        }
        /* RFC 9773 section 4.3: the next poll waits for Retry-After. */
        a->st->ari_next_poll = ari_next_poll(retry_after, now);
        save(a);
}

static void on_info(struct http_fetch *f, struct http_result *res, void *userdata) {
        struct ari *a = userdata;
        time_t now = (time_t)(now_realtime_usec() / USEC_PER_SEC);
        _cleanup_free_ char *expl = NULL, *error = NULL;
        struct ari_window w, prev;
        bool have_prev;

        if (res->error) {
                note(a, "renewalInfo could not be fetched: %s", res->error);
                ari_finish(a);
                return;
        }
        if (res->status != 200) {
                note(a, "renewalInfo answered HTTP %ld", res->status);
                remember_poll(a, res->retry_after, NULL);
                ari_finish(a);
                return;
        }
        if (ari_parse_response((const char *)res->body, res->size, &w, &expl, &error) < 0) {
                note(a, "%s", error);
                remember_poll(a, res->retry_after, NULL);
                ari_finish(a);
                return;
        }
        have_prev = a->st && streq_ptr(a->st->ari_cert_id, a->cert_id) && a->st->ari_start > 0;
        prev = (struct ari_window){ a->st ? a->st->ari_start : 0, a->st ? a->st->ari_end : 0 };
        ari_judge(&w, have_prev ? &prev : NULL, now, a->what, expl, &a->findings);
        a->obs.window_start = w.start;
        a->obs.window_end = w.end;
        a->obs.explanation = TAKE_PTR(expl);
        remember_poll(a, res->retry_after, &w);
        ari_finish(a);
}

static void fetch(struct ari *a, const char *url, http_done_cb cb) {
        struct http_fetch_params params = {
                .url = url,
                .max_bytes = ARI_BODY_MAX,
                .timeout_usec = ARI_TIMEOUT_USEC,
                .ca_file = a->p->acme_trust,
        };
        struct http_fetch *f;

        if ((!a->http && http_client_new(a->event, &a->http) < 0) || http_fetch_start(a->http, &params, cb, a, &f) < 0) {
                note(a, "cannot start a request");
                ari_finish(a);
        }
}

static void on_directory(struct http_fetch *f, struct http_result *res, void *userdata) {
        struct ari *a = userdata;
        _cleanup_free_ char *url = NULL;

        if (res->error || res->status != 200) {
                note(a, "the ACME directory could not be read: %s",
                     res->error ? res->error : (url = xasprintf("HTTP %ld", res->status)));
                ari_finish(a);
                return;
        }
        if (ari_renewal_info_url((const char *)res->body, res->size, a->cert_id, &url) < 0) {
                note(a, "the ACME directory has no https renewalInfo endpoint");
                ari_finish(a);
                return;
        }
        fetch(a, url, on_info);
}

void ari_start(struct ari *a, const struct audit *audit, ari_done_cb cb, void *userdata) {
        const struct platform_obs *obs = audit_observations(audit);
        const struct cert_obs *leaf = NULL;
        time_t now = (time_t)(now_realtime_usec() / USEC_PER_SEC);
        int r;

        a->cb = cb;
        a->userdata = userdata;
        /* Each audit is followed by a fresh observation. */
        ari_obs_done(&a->obs);
        a->observed = false;
        finding_list_clear(&a->findings);
        for (size_t i = 0; i < obs->n_endpoints; i++) {
                const struct endpoint_obs *e = &obs->endpoints[i];
                if (e->status == ENDPOINT_OK && e->n_chain > 0 && e->chain[0].der &&
                    (!leaf || e->chain[0].not_after < leaf->not_after))
                        leaf = &e->chain[0];
        }
        if (!leaf || (!a->p->acme_directory && (a->p->tls_mode != TLS_MODE_LETSENCRYPT || !leaf->issuer ||
                                                !strstr(leaf->issuer, "Let's Encrypt")))) {
                ari_finish(a);
                return;
        }
        a->cert_id = mfree(a->cert_id);
        r = x509_ari_cert_id(leaf->der, leaf->der_len, &a->cert_id);
        if (r < 0) {
                note(a, "the certificate has no Authority Key Identifier, so no renewalInfo can be asked");
                ari_finish(a);
                return;
        }
        free(a->what);
        a->what = xasprintf("serial %s", leaf->serial);
        a->observed = true;
        a->obs.cert_id = xstrdup(a->cert_id);
        /* Polled recently enough: judge the window remembered. */
        if (a->st && streq_ptr(a->st->ari_cert_id, a->cert_id) && now < a->st->ari_next_poll) {
                a->obs.remembered = true;
                if (a->st->ari_start > 0) {
                        struct ari_window w = { a->st->ari_start, a->st->ari_end };
                        ari_judge(&w, NULL, now, a->what, NULL, &a->findings);
                        a->obs.window_start = w.start;
                        a->obs.window_end = w.end;
                }
                ari_finish(a);
                return;
        }
        fetch(a, platform_acme_directory(a->p), on_directory);
}
