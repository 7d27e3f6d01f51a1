/* RDAP look-ups of the registration's expiry on the loop. See rdap.h. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <libpsl.h>

#include "domain-expiry.h"
#include "http.h"
#include "rdap.h"
#include "util.h"

#define RDAP_BODY_MAX (256 * 1024)
#define RDAP_BOOTSTRAP_MAX (1024 * 1024)
#define RDAP_TIMEOUT_USEC (10 * USEC_PER_SEC)
#define RDAP_FILE "rdap-dns.json"
/* At most one question a day per domain (registries rate-limit RDAP). */
#define RDAP_RECHECK ((time_t)86400)
/* After a failure, sooner. */
#define RDAP_RETRY ((time_t)3600)

struct rdap {
        sd_event *event;
        const struct platform *p;
        struct renew_store *store;
        struct http_client *http;
        struct finding_list findings;
        struct rdap_obs obs;
        sd_event_source *defer;
        rdap_done_cb cb;
        void *userdata;
};

int rdap_new(sd_event *event, const struct platform *p, struct renew_store *store, struct rdap **ret) {
        struct rdap *r = xcalloc(1, sizeof(*r));

        r->event = sd_event_ref(event);
        r->p = p;
        r->store = store;
        *ret = r;
        return 0;
}

struct rdap *rdap_free(struct rdap *r) {
        if (!r)
                return NULL;
        http_client_free(r->http);
        sd_event_source_disable_unref(r->defer);
        finding_list_clear(&r->findings);
        rdap_obs_done(&r->obs);
        sd_event_unref(r->event);
        free(r);
        return NULL;
}

const struct finding_list *rdap_findings(const struct rdap *r) {
        return &r->findings;
}

const struct rdap_obs *rdap_observation(const struct rdap *r) {
        return r && r->p->rdap_enabled && r->obs.domain ? &r->obs : NULL;
}

static int on_defer(sd_event_source *s, void *userdata) {
        struct rdap *r = userdata;
        r->defer = sd_event_source_disable_unref(r->defer);
        if (r->cb)
                r->cb(r, r->userdata);
        return 0;
}

static void rdap_finish(struct rdap *r) {
        if (!r->defer && sd_event_add_defer(r->event, &r->defer, on_defer, r) < 0 && r->cb)
                r->cb(r, r->userdata);
}

static void note(struct rdap *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void note(struct rdap *r, const char *fmt, ...) {
        va_list ap;

        va_start(ap, fmt);
        free(r->obs.error);
        r->obs.error = xvasprintf(fmt, ap);
        va_end(ap);
        fprintf(stderr, "certvigil: platform '%s': RDAP: %s\n", r->p->name, r->obs.error);
}

static time_t now_sec(void) {
        return (time_t)(now_realtime_usec() / USEC_PER_SEC);
}

int rdap_remember(struct renew_store *store, const char *platform, const char *domain, time_t expires,
                  time_t next) {
        struct renew_state *st;
        int r;

        /* Under the state directory's lock, on what the file says now:
         * another certvigil may have saved guardrails since this store read
         * it, which a save from older memory would erase. */
        r = renew_store_lock(store);
        if (r < 0)
                return r;
        /* The store's entries may move as platforms are added: looked up each time. */
        st = renew_store_get(store, platform);
        free(st->rdap_domain);
        st->rdap_domain = xstrdup(domain);
        st->rdap_expires = expires;
        st->rdap_next_check = next;
        r = renew_store_save(store);
        if (r < 0)
                fprintf(stderr, "certvigil: cannot write %s: %s\n", renew_store_path(store), strerror(-r));
        return r;
}

static void remember(struct rdap *r, time_t expires, time_t next) {
        if (r->store)
                (void)rdap_remember(r->store, r->p->name, r->obs.domain, expires, next); /* said on stderr */
}

static void on_domain(struct http_fetch *f, struct http_result *res, void *userdata) {
        struct rdap *r = userdata;
        _cleanup_free_ char *error = NULL;
        time_t expires;

        if (res->error || res->status != 200) {
                if (res->error)
                        note(r, "%s: %s", r->obs.url, res->error);
                else
                        note(r, "%s answered HTTP %ld", r->obs.url, res->status);
                remember(r, 0, now_sec() + RDAP_RETRY);
                rdap_finish(r);
                return;
        }
        if (rdap_expiration_parse((const char *)res->body, res->size, &expires, &error) < 0) {
                note(r, "%s: %s", r->obs.url, error);
                remember(r, 0, now_sec() + RDAP_RECHECK);
                rdap_finish(r);
                return;
        }
        r->obs.expires = expires;
        remember(r, expires, now_sec() + RDAP_RECHECK);
        domain_expiry_judge(r->obs.domain, expires, now_sec(), r->p->domain_warn_days, r->p->domain_critical_days,
                            &r->findings);
        rdap_finish(r);
}

/* A whole small file; -EFBIG past max; -EINVAL when not a regular file
 * (a FIFO would stall the loop). */
static int read_file(const char *path, size_t max, char **ret, size_t *ret_len) {
        FILE *f = file_fopen_regular(path);
        char *buf;
        size_t n;

        if (!f)
                return -errno;
        buf = xmalloc(max + 1);
        n = fread(buf, 1, max + 1, f);
        fclose(f);
        if (n > max) {
                free(buf);
                return -EFBIG;
        }
        buf[n] = 0;
        *ret = buf;
        *ret_len = n;
        return 0;
}

/* The base URL for the domain: rdap.url, else the bootstrap file's. */
static int base_url(struct rdap *r, char **ret) {
        _cleanup_free_ char *path = r->p->rdap_bootstrap ? xstrdup(r->p->rdap_bootstrap) : data_path(RDAP_FILE);
        _cleanup_free_ char *json = NULL, *error = NULL;
        size_t len = 0;
        int e;

        if (r->p->rdap_url) {
                *ret = xstrdup(r->p->rdap_url);
                return 0;
        }
        e = read_file(path, RDAP_BOOTSTRAP_MAX, &json, &len);
        if (e < 0) {
                note(r, "bootstrap file %s: %s", path, file_strerror(e));
                return e;
        }
        e = rdap_bootstrap_lookup(json, len, r->obs.domain, ret, &error);
        if (e == -ENOENT)
                note(r, "bootstrap file %s names no RDAP server for %s (set rdap.url)", path, r->obs.domain);
        else if (e < 0)
                note(r, "bootstrap file %s: %s", path, error);
        return e;
}

static char *registrable_domain(const char *name) {
        psl_ctx_t *psl = psl_latest(NULL);
        const char *d;
        char *ret = NULL;

        if (!psl)
                return NULL;
        d = psl_registrable_domain(psl, name);
        if (d)
                ret = xstrdup(d);
        psl_free(psl);
        return ret;
}

void rdap_start(struct rdap *r, rdap_done_cb cb, void *userdata) {
        const struct renew_state *st;
        _cleanup_free_ char *base = NULL;
        struct http_fetch *f;
        time_t now = now_sec();

        r->cb = cb;
        r->userdata = userdata;
        rdap_obs_done(&r->obs);
        finding_list_clear(&r->findings);
        if (!r->p->rdap_enabled) {
                rdap_finish(r);
                return;
        }
        r->obs.domain = registrable_domain(r->p->base_domain);
        if (!r->obs.domain) {
                r->obs.domain = xstrdup(r->p->base_domain);
                note(r, "%s has no registrable domain in the Public Suffix List", r->p->base_domain);
                rdap_finish(r);
                return;
        }
        st = r->store ? renew_store_get(r->store, r->p->name) : NULL;
        if (st && streq_ptr(st->rdap_domain, r->obs.domain) && now < st->rdap_next_check) {
                r->obs.remembered = true;
                r->obs.expires = st->rdap_expires;
                if (st->rdap_expires > 0)
                        domain_expiry_judge(r->obs.domain, st->rdap_expires, now, r->p->domain_warn_days,
                                            r->p->domain_critical_days, &r->findings);
                rdap_finish(r);
                return;
        }
        if (base_url(r, &base) < 0) {
                rdap_finish(r);
                return;
        }
        /* RFC 9082 3.1.3: BASE/domain/NAME, BASE ending in a slash. */
        r->obs.url = xasprintf("%s%sdomain/%s", base, str_endswith(base, "/") ? "" : "/", r->obs.domain);
        struct http_fetch_params params = {
                .url = r->obs.url,
                .max_bytes = RDAP_BODY_MAX,
                .timeout_usec = RDAP_TIMEOUT_USEC,
                .ca_file = r->p->rdap_trust,
        };
        if ((!r->http && http_client_new(r->event, &r->http) < 0) ||
            http_fetch_start(r->http, &params, on_domain, r, &f) < 0) {
                note(r, "cannot start a request");
                rdap_finish(r);
        }
}
