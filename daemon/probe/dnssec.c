/* The DNSSEC probe. libunbound validates; its asynchronous mode runs the
 * resolution in a worker process of its own (ub_ctx_async(ctx, 0), the
 * default: no threads in certvigil), whose answers arrive on ub_fd(), an
 * event source on our loop drained with ub_process(). The contexts are the
 * audit pool's, shared by the probes configured alike (dnssec-hub.h).
 *
 * Questions, all at once:
 *   the anchor zone's DNSKEY through c-ares, unvalidated: do the platform's
 *       resolvers serve the keys a validator starts from at all?
 *   A of every expected name (dns.dnssec.bogus)
 *   in letsencrypt mode, what the CA asks: TXT at the challenge name, which
 *       unbound follows through its CNAMEs, and CAA at the wildcard's base
 *       and each parent below the top-level domain (RFC 8659 3)
 * Answers are written by index into obs->dnssec.answers, allocated up front. */
#include <arpa/nameser.h>
#include <assert.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unbound.h>

#include "dnsname.h"
#include "dnssec-hub.h"
#include "dnssec.h"
#include "util.h"

#define DNS_TYPE_CAA 257
#define ANSWERS_MAX 32

struct dnssec_probe;

struct query {
        struct dnssec_probe *d;
        size_t index;
        int id;                   /* unbound's async id */
        bool pending;
};

/* The unvalidated DNSKEY question outlives a freed probe if c-ares still
 * holds it: the probe clears d, the callback frees the context. */
struct anchor_ctx {
        struct dnssec_probe *d;
};

struct dnssec_probe {
        sd_event *event;
        const struct platform *p;
        const struct plan *plan;
        struct dns_resolver *plain;
        struct dnssec_obs *obs;
        struct dnssec_hub *hub;
        uint64_t born_usec;       /* when the audit was made: answers are no older */
        struct dnssec_lease *lease; /* the shared context, asked for or held */
        bool waiting;             /* for the lease: the hub has not answered */
        sd_event_source *timer;
        sd_event_source *defer;
        struct query *queries;    /* parallel to obs->answers */
        struct anchor_ctx *anchor;
        unsigned pending;
        bool started;
        bool done;
        dnssec_done_cb cb;
        void *userdata;
};

static void probe_end(struct dnssec_probe *d) {
        if (d->done)
                return;
        d->done = true;
        d->timer = sd_event_source_disable_unref(d->timer);
        /* Nothing is in flight: the context may serve others, or go. */
        d->lease = dnssec_lease_free(d->lease);
        if (d->cb)
                d->cb(d->userdata);
}

static void probe_release(struct dnssec_probe *d) {
        assert(d->pending > 0);
        if (--d->pending == 0)
                probe_end(d);
}

int dnssec_anchor_owner(const char *path, char **ret, char **ret_error) {
        _cleanup_free_ char *line = NULL;
        size_t cap = 0;
        /* Not a FIFO: this runs on the loop, which must not wait on it. */
        FILE *f = file_fopen_regular(path);
        int r = -ENOENT;

        if (!f) {
                r = -errno;
                *ret_error = xasprintf("trust anchor %s: %s", path, file_strerror(r));
                return r;
        }
        while (getline(&line, &cap, f) >= 0) {
                size_t n = strcspn(line, " \t\r\n;");
                if (n == 0)
                        continue;
                if (line[0] == '$') /* $ORIGIN and friends: not a record */
                        continue;
                if (n > 1 && line[n - 1] == '.')
                        n--;
                *ret = str_escape(line, n);
                r = 0;
                break;
        }
        fclose(f);
        if (r < 0)
                *ret_error = xasprintf("trust anchor %s: no DS or DNSKEY record in it", path);
        return r;
}

static void on_lease_lost(struct dnssec_lease *l, void *userdata) {
        struct dnssec_probe *d = userdata;

        if (d->done)
                return;
        d->pending++;
        for (size_t i = 0; i < d->obs->n_answers; i++)
                if (d->queries[i].pending) {
                        d->queries[i].pending = false;
                        d->obs->answers[i].state = DNSSEC_FAILED;
                        d->obs->answers[i].error = xstrdup("the validating resolver's worker stopped");
                        d->pending--;
                }
        probe_release(d);
}

/* RFC 4034 3.1.5: expiration is seconds modulo 2^32, compared by serial
 * number arithmetic around now. */
static time_t sig_time(uint32_t t, time_t now) {
        return now + (time_t)(int32_t)(t - (uint32_t)now);
}

/* The earliest signature over the answer and the negative proofs. */
static void answer_signatures(struct dnssec_answer_obs *a, const void *packet, int len) {
        struct dns_msg m;
        time_t now = (time_t)(now_realtime_usec() / USEC_PER_SEC);

        if (!packet || len <= 0 || dns_msg_parse(packet, (size_t)len, &m) < 0)
                return;
        for (size_t i = 0; i < m.n_rrs; i++) {
                const struct dns_rr *rr = &m.rrs[i];
                time_t t;
                if (rr->type != DNS_TYPE_RRSIG || rr->section == DNS_SECTION_ADDITIONAL)
                        continue;
                t = sig_time(rr->sig_expiration, now);
                if (a->rrsig_expires != 0 && t >= a->rrsig_expires)
                        continue;
                a->rrsig_expires = t;
                free(a->rrsig_over);
                free(a->rrsig_signer);
                a->rrsig_over = xasprintf("%s %s", rr->owner,
                                          rr->covered == ns_t_a ? "A" : rr->covered == ns_t_aaaa ? "AAAA"
                                          : rr->covered == ns_t_txt ? "TXT" : rr->covered == ns_t_cname ? "CNAME"
                                          : rr->covered == ns_t_soa ? "SOA" : rr->covered == 47 ? "NSEC"
                                          : rr->covered == 50 ? "NSEC3" : rr->covered == DNS_TYPE_CAA ? "CAA"
                                          : "record");
                a->rrsig_signer = xstrdup(rr->target ? rr->target : "");
        }
        dns_msg_done(&m);
}

static void on_answer(void *userdata, int err, struct ub_result *result) {
        struct query *q = userdata;
        struct dnssec_probe *d = q->d;
        struct dnssec_answer_obs *a = &d->obs->answers[q->index];

        q->pending = false;
        if (err != 0) {
                a->state = DNSSEC_FAILED;
                a->error = xasprintf("validating resolver: %s", ub_strerror(err));
        } else {
                a->rcode = result->rcode;
                if (result->bogus) {
                        const char *why = result->why_bogus ? result->why_bogus : "no reason given";
                        a->state = DNSSEC_BOGUS;
                        a->why_bogus = str_escape(why, strlen(why));
                } else if (result->secure)
                        a->state = DNSSEC_SECURE;
                else if (result->rcode == ns_r_noerror || result->rcode == ns_r_nxdomain)
                        a->state = DNSSEC_INSECURE;
                else {
                        a->state = DNSSEC_FAILED;
                        a->error = xasprintf("the lookup failed (rcode %d)", result->rcode);
                }
                answer_signatures(a, result->answer_packet, result->answer_len);
                ub_resolve_free(result);
        }
        probe_release(d);
}

static void ask_validator(struct dnssec_probe *d);

static void on_lease_ready(struct dnssec_lease *l, int r, const char *why, void *userdata) {
        struct dnssec_probe *d = userdata;

        d->waiting = false;
        if (r < 0) {
                d->lease = dnssec_lease_free(d->lease);
                if (!d->obs->error)
                        d->obs->error = xstrdup(why ? why : "the validating resolver could not be set up");
                for (size_t i = 0; i < d->obs->n_answers; i++)
                        d->obs->answers[i].state = DNSSEC_FAILED;
        } else {
                d->pending++; /* held while asking: answers cannot end the probe early */
                ask_validator(d);
                probe_release(d);
        }
        probe_release(d);
}

static void on_anchor(void *userdata, const struct dns_reply *reply) {
        struct anchor_ctx *c = userdata;
        struct dnssec_probe *d = c->d;

        free(c);
        if (!d)
                return;
        d->anchor = NULL;
        d->obs->anchor_status = reply->status;
        d->obs->anchor_usable = reply->status == DNS_STATUS_OK;
        if (!d->obs->anchor_usable) {
                if (!d->obs->error)
                        d->obs->error = xasprintf("the resolvers do not serve the trust anchor's zone '%s' (DNSKEY: "
                                                  "%s): a validator behind them cannot judge anything",
                                                  d->obs->anchor_zone, dns_status_to_string(reply->status));
                for (size_t i = 0; i < d->obs->n_answers; i++)
                        d->obs->answers[i].error = xstrdup("not asked: the anchor zone is not served");
        } else {
                /* The validator (a socket pair, and a worker process at
                 * its first question) only now that it has work; the
                 * probe stays pending until the hub answers. */
                const char *tld = strrchr(d->plan->wildcard_base, '.');
                struct dnssec_setup setup = {
                        .resolvers = d->p->resolvers,
                        .trust_anchor = d->obs->trust_anchor,
                        .transparent_tld = tld ? tld + 1 : d->plan->wildcard_base,
                };
                d->lease = dnssec_hub_lease(d->hub, &setup, d->born_usec, on_lease_ready, on_lease_lost, d);
                d->waiting = true;
                return;
        }
        probe_release(d);
}

static void answers_add(struct dnssec_probe *d, const char *name, int type, enum dnssec_purpose purpose) {
        struct dnssec_obs *o = d->obs;
        if (o->n_answers >= ANSWERS_MAX)
                return;
        o->answers[o->n_answers++] = (struct dnssec_answer_obs){
                .name = xstrdup(name), .type = type, .purpose = purpose, .state = DNSSEC_NOT_RUN };
}

static void answers_plan(struct dnssec_probe *d) {
        d->obs->answers = xcalloc(ANSWERS_MAX, sizeof(struct dnssec_answer_obs));
        for (size_t i = 0; i < d->plan->n_names; i++)
                answers_add(d, d->plan->names[i].name, ns_t_a, DNSSEC_FOR_NAME);
        if (d->p->tls_mode != TLS_MODE_LETSENCRYPT)
                return;
        answers_add(d, d->plan->challenge_name, ns_t_txt, DNSSEC_FOR_CHALLENGE);
        for (const char *n = d->plan->wildcard_base; n && dns_name_labels(n) >= 2; n = dns_name_parent(n))
                answers_add(d, n, DNS_TYPE_CAA, DNSSEC_FOR_CAA);
}

struct dnssec_probe *dnssec_probe_new(sd_event *event, struct dnssec_hub *hub, const struct platform *p,
                                      const struct plan *plan, struct dns_resolver *plain, struct dnssec_obs *obs) {
        struct dnssec_probe *d = xcalloc(1, sizeof(*d));
        _cleanup_free_ char *error = NULL;

        assert(hub);
        d->event = sd_event_ref(event);
        d->hub = hub;
        d->born_usec = now_monotonic_usec();
        d->p = p;
        d->plan = plan;
        d->plain = plain;
        d->obs = obs;
        obs->enabled = p->dnssec_enabled;
        obs->trust_anchor = xstrdup(p->dnssec_trust_anchor ? p->dnssec_trust_anchor : DNSSEC_ROOT_KEY);
        obs->anchor_status = DNS_STATUS_NOT_RUN;
        if (!p->dnssec_enabled)
                return d;
        if (dnssec_anchor_owner(obs->trust_anchor, &obs->anchor_zone, &error) < 0) {
                obs->error = TAKE_PTR(error);
                return d;
        }
        answers_plan(d);
        d->queries = xcalloc(obs->n_answers ? obs->n_answers : 1, sizeof(*d->queries));
        return d;
}

static int on_timeout(sd_event_source *s, uint64_t usec, void *userdata) {
        struct dnssec_probe *d = userdata;
        for (size_t i = 0; i < d->obs->n_answers; i++)
                if (d->queries[i].pending && !d->obs->answers[i].error)
                        d->obs->answers[i].error = xstrdup("no verdict within the time allowed (timeout)");
        dnssec_probe_cancel(d);
        return 0;
}

static int on_nothing_asked(sd_event_source *s, void *userdata) {
        struct dnssec_probe *d = userdata;
        d->defer = sd_event_source_disable_unref(d->defer);
        probe_end(d);
        return 0;
}

/* The validator's questions, once the anchor zone is known to be served.
 * What cannot be asked or watched is recorded as such. */
static void ask_validator(struct dnssec_probe *d) {
        struct dnssec_obs *o = d->obs;

        for (size_t i = 0; i < o->n_answers; i++) {
                struct query *q = &d->queries[i];
                const char *why = NULL;
                int r;
                *q = (struct query){ .d = d, .index = i };
                r = dnssec_lease_ask(d->lease, o->answers[i].name, o->answers[i].type, on_answer, q, &q->id, &why);
                if (r < 0) {
                        o->answers[i].state = DNSSEC_FAILED;
                        o->answers[i].error = xasprintf("validating resolver: %s", why);
                        continue;
                }
                q->pending = true;
                d->pending++;
        }
        if (sd_event_add_time_relative(d->event, &d->timer, CLOCK_MONOTONIC, 2 * d->p->timeout_usec, 10000,
                                       on_timeout, d) < 0) {
                for (size_t i = 0; i < o->n_answers; i++)
                        if (d->queries[i].pending && !o->answers[i].error)
                                o->answers[i].error = xstrdup("cannot watch the validating resolver");
                dnssec_probe_cancel(d);
        }
}

void dnssec_probe_start(struct dnssec_probe *d, dnssec_done_cb cb, void *userdata) {
        struct dnssec_obs *o = d->obs;

        d->cb = cb;
        d->userdata = userdata;
        d->started = true;
        if (!o->anchor_zone || o->n_answers == 0) {
                if (sd_event_add_defer(d->event, &d->defer, on_nothing_asked, d) < 0)
                        probe_end(d);
                return;
        }
        o->ran = true;
        /* First the anchor zone, unvalidated: only if the resolvers serve
         * it is there anything to validate (and a worker process to fork). */
        d->anchor = xcalloc(1, sizeof(*d->anchor));
        d->anchor->d = d;
        d->pending = 1;
        dns_query(d->plain, o->anchor_zone, DNS_TYPE_DNSKEY, on_anchor, d->anchor);
}

#define CUT_SHORT "not completed: the audit deadline came first"

/* Every answer not yet asked (still "not run") says why it never will be. */
static void answers_cut_short(struct dnssec_obs *o) {
        for (size_t i = 0; i < o->n_answers; i++)
                if (o->answers[i].state == DNSSEC_NOT_RUN && !o->answers[i].error)
                        o->answers[i].error = xstrdup(CUT_SHORT);
}

void dnssec_probe_cancel(struct dnssec_probe *d) {
        if (!d || d->done || !d->started)
                return;
        d->pending++;
        for (size_t i = 0; i < d->obs->n_answers; i++) {
                struct query *q = &d->queries[i];
                if (!q->pending)
                        continue;
                dnssec_lease_cancel(d->lease, q->id);
                q->pending = false;
                if (!d->obs->answers[i].error)
                        d->obs->answers[i].error = xstrdup(CUT_SHORT);
                d->pending--;
        }
        if (d->anchor) {
                /* c-ares still holds it; its answer will not count. */
                d->anchor->d = NULL;
                d->anchor = NULL;
                answers_cut_short(d->obs);
                d->pending--;
        }
        if (d->waiting) {
                /* No context yet: nothing was asked. */
                d->waiting = false;
                d->lease = dnssec_lease_free(d->lease);
                answers_cut_short(d->obs);
                d->pending--;
        }
        probe_release(d);
}

struct dnssec_probe *dnssec_probe_free(struct dnssec_probe *d) {
        if (!d)
                return NULL;
        d->cb = NULL;
        if (d->anchor)
                d->anchor->d = NULL;
        /* The context outlives the probe: what it still has in flight
         * must not call back into freed memory. */
        for (size_t i = 0; d->queries && i < d->obs->n_answers; i++)
                if (d->queries[i].pending)
                        dnssec_lease_cancel(d->lease, d->queries[i].id);
        dnssec_lease_free(d->lease);
        sd_event_source_disable_unref(d->timer);
        sd_event_source_disable_unref(d->defer);
        free(d->queries);
        sd_event_unref(d->event);
        free(d);
        return NULL;
}
