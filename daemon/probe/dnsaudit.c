/* The DNS facts gatherer. Independent lines of questions run at once:
 *
 *   wildcard probe   A/AAAA of a random label under the wildcard's base
 *   names            A/AAAA of every expected name from each resolver
 *   names zone       SOA search from the wildcard's base, its NS set, each
 *                    server asked directly for the SOA, then for every name
 *   CAA              RFC 8659 climb from the wildcard's base
 *   DNS-01           the dnsZone's own SOA search; the CNAME chain from the
 *                    challenge name, then TXT and the SOA search at its end,
 *                    the NS set and each server's SOA
 *
 * Each question is one heap context holding the gatherer; `pending` counts
 * them, and the gatherer is done when it drops to zero. After a cancel,
 * answers (c-ares reports every abandoned query) are recorded but start
 * nothing new. Results are written by index, because arrays grow while
 * questions are in flight. */
#include <arpa/inet.h>
#include <arpa/nameser.h>
#include <ares.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <netdb.h>
#include <sys/random.h>
#include <unistd.h>

#include "dns.h"
#include "dnsaudit.h"
#include "dnsname.h"
#include "dnssec.h"
#include "util.h"

#define DNS_TYPE_CAA 257          /* RFC 8659; older arpa/nameser.h lack it */
#define NS_MAX 8                  /* NS names per zone we follow */
#define ADDRS_PER_NS 4            /* addresses per NS name we ask */
#define DIRECT_MAX 16             /* authoritative servers per audit */

struct direct {
        char *address;
        struct dns_resolver *r;
};

struct dnsaudit {
        sd_event *event;
        const struct platform *p;
        const struct plan *plan;
        struct dns_obs *obs;

        struct dns_hub *hub;              /* borrowed: the audit pool's */
        struct dns_resolver *rec;         /* the platform's resolvers */
        struct dns_resolver **each;       /* one per configured resolver, when several */
        size_t n_each;
        struct direct direct[DIRECT_MAX];
        size_t n_direct;

        struct dnssec_probe *dnssec;      /* the validating resolver's questions */
        sd_event_source *closer;          /* frees the channels once done */
        unsigned pending;
        bool cancelled;
        bool done;
        dnsaudit_done_cb cb;
        void *userdata;
};

/* ------------------------------------------------------------------------ */
/* Small pure helpers. */

static int cmp_str(const void *a, const void *b) {
        return strcmp(*(char *const *)a, *(char *const *)b);
}

static void strv_sort(char **v) {
        if (v)
                qsort(v, strv_length(v), sizeof(char *), cmp_str);
}

static char *status_text(const struct dns_reply *r) {
        if (r->status == DNS_STATUS_NOT_RUN)
                return xstrdup("not asked: the audit deadline came first");
        if (r->status == DNS_STATUS_TIMEOUT)
                return xstrdup("no answer (timeout)");
        if (r->status == DNS_STATUS_ERROR)
                return xasprintf("error: %s", ares_strerror(r->ares_status));
        return xstrdup(dns_status_to_string(r->status));
}

static const char *resolvers_shown(const struct dnsaudit *d) {
        return d->p->resolvers ? "the configured resolvers" : "the system resolver";
}

/* ------------------------------------------------------------------------ */
/* Life cycle. */

static void gatherer_hold(struct dnsaudit *d) {
        d->pending++;
}

static int cmp_answer(const void *x, const void *y) {
        const struct dns_answer_obs *a = x, *b = y;
        if (a->authoritative != b->authoritative)
                return a->authoritative - b->authoritative;
        return strcmp(a->source, b->source);
}

static int cmp_server(const void *x, const void *y) {
        const struct dns_server_obs *a = x, *b = y;
        int r = strcmp(a->ns, b->ns);
        return r ? r : strcmp(a->address ? a->address : "", b->address ? b->address : "");
}

/* Answers arrive in network order; reports should not depend on it. Only
 * safe once no question is in flight (they hold indices). */
static void gatherer_sort(struct dns_obs *o) {
        struct dns_zone_obs *zones[] = { &o->names_zone, &o->dns01_zone, &o->challenge_zone };

        for (size_t i = 0; i < o->n_names; i++)
                if (o->names[i].n_answers > 1)
                        qsort(o->names[i].answers, o->names[i].n_answers, sizeof(struct dns_answer_obs), cmp_answer);
        for (size_t i = 0; i < ELEMENTSOF(zones); i++)
                if (zones[i]->n_servers > 1)
                        qsort(zones[i]->servers, zones[i]->n_servers, sizeof(struct dns_server_obs), cmp_server);
}

static void gatherer_close(struct dnsaudit *d);

static int on_close(sd_event_source *s, void *userdata) {
        struct dnsaudit *d = userdata;
        d->closer = sd_event_source_disable_unref(d->closer);
        /* Done: its worker process goes now, not with the audit. */
        d->dnssec = dnssec_probe_free(d->dnssec);
        gatherer_close(d);
        return 0;
}

static void gatherer_release(struct dnsaudit *d) {
        if (--d->pending > 0 || d->done)
                return;
        d->done = true;
        gatherer_sort(d->obs);
        /* Each c-ares channel costs tens of KB: with many platforms in one
         * run, keep only those of gatherers still asking. Not from here:
         * this runs inside a channel's own callback. */
        if (!d->cancelled && sd_event_add_defer(d->event, &d->closer, on_close, d) < 0)
                d->closer = NULL; /* freed with the gatherer instead, ignoring */
        if (d->cancelled && !d->obs->error)
                d->obs->error = xstrdup("cut short by the audit deadline");
        if (d->cb)
                d->cb(d->userdata);
}

int dnsaudit_new(sd_event *event, struct dns_hub *hub, struct dnssec_hub *validators, const struct platform *p,
                 const struct plan *plan, struct dns_obs *obs, struct dnsaudit **ret, char **ret_error) {
        struct dnsaudit *d = xcalloc(1, sizeof(*d));
        size_t n = strv_length(p->resolvers);
        int r;

        d->event = sd_event_ref(event);
        d->hub = hub;
        d->p = p;
        d->plan = plan;
        d->obs = obs;
        r = dns_resolver_new(hub, p->resolvers, p->timeout_usec, &d->rec, ret_error);
        if (r < 0)
                goto fail;
        if (n >= 2) {
                d->each = xcalloc(n, sizeof(*d->each));
                for (; d->n_each < n; d->n_each++) {
                        char *one[] = { p->resolvers[d->n_each], NULL };
                        r = dns_resolver_new(hub, one, p->timeout_usec, &d->each[d->n_each], ret_error);
                        if (r < 0)
                                goto fail;
                }
        }
        d->dnssec = dnssec_probe_new(event, validators, p, plan, d->rec, &obs->dnssec);
        *ret = d;
        return 0;
fail:
        dnsaudit_free(d);
        return r;
}

static void gatherer_close(struct dnsaudit *d) {
        /* Freeing a channel runs its pending callbacks (as not run); with
         * cancelled set they only record. */
        d->cancelled = true;
        d->rec = dns_resolver_free(d->rec);
        for (size_t i = 0; i < d->n_each; i++)
                d->each[i] = dns_resolver_free(d->each[i]);
        for (size_t i = 0; i < d->n_direct; i++)
                d->direct[i].r = dns_resolver_free(d->direct[i].r);
}

void dnsaudit_cancel(struct dnsaudit *d) {
        if (!d || d->cancelled)
                return;
        gatherer_hold(d);
        /* First: it has a question on d->rec, which closing answers. */
        dnssec_probe_cancel(d->dnssec);
        gatherer_close(d);
        gatherer_release(d);
}

struct dnsaudit *dnsaudit_free(struct dnsaudit *d) {
        if (!d)
                return NULL;
        d->cb = NULL;
        d->closer = sd_event_source_disable_unref(d->closer);
        d->dnssec = dnssec_probe_free(d->dnssec);
        gatherer_close(d);
        free(d->each);
        for (size_t i = 0; i < d->n_direct; i++)
                free(d->direct[i].address);
        sd_event_unref(d->event);
        free(d);
        return NULL;
}

/* The channel for one authoritative server, made on first use. */
static struct dns_resolver *direct_get(struct dnsaudit *d, const char *address) {
        char *error = NULL;

        for (size_t i = 0; i < d->n_direct; i++)
                if (strcmp(d->direct[i].address, address) == 0)
                        return d->direct[i].r;
        if (d->n_direct == DIRECT_MAX)
                return NULL;
        struct direct *x = &d->direct[d->n_direct];
        if (dns_resolver_new_direct(d->hub, address, d->p->dns_port, d->p->timeout_usec, &x->r, &error) < 0) {
                free(error);
                return NULL;
        }
        x->address = xstrdup(address);
        d->n_direct++;
        return x->r;
}

/* ------------------------------------------------------------------------ */
/* Address answers (wildcard probe, names per source). */

enum answer_kind {
        ANSWER_WILDCARD,
        ANSWER_NAME,
};

struct answer_ctx {
        struct dnsaudit *d;
        enum answer_kind kind;
        size_t name, answer;      /* indices into obs->names and its answers */
};

static struct dns_answer_obs *answer_slot(struct dnsaudit *d, const struct answer_ctx *c) {
        if (c->kind == ANSWER_WILDCARD)
                return &d->obs->wildcard_probe;
        return &d->obs->names[c->name].answers[c->answer];
}

static void on_addresses(void *userdata, enum dns_status status, char **error, char ***addresses) {
        struct answer_ctx *c = userdata;
        struct dnsaudit *d = c->d;
        struct dns_answer_obs *a = answer_slot(d, c);

        a->status = status;
        a->error = TAKE_PTR(*error);
        if (status == DNS_STATUS_NOT_RUN) {
                free(a->error);
                a->error = xstrdup("not asked: the audit deadline came first");
        }
        a->addresses = TAKE_PTR(*addresses);
        strv_sort(a->addresses);
        free(c);
        gatherer_release(d);
}

static void ask_addresses(struct dnsaudit *d, struct dns_resolver *r, const char *name, enum answer_kind kind,
                          size_t name_idx, size_t answer_idx) {
        struct answer_ctx *c = xcalloc(1, sizeof(*c));

        *c = (struct answer_ctx){ .d = d, .kind = kind, .name = name_idx, .answer = answer_idx };
        gatherer_hold(d);
        dns_resolve_addresses(r, name, on_addresses, c);
}

static size_t name_add_answer(struct dnsaudit *d, size_t name_idx, char *source, bool authoritative) {
        struct dns_name_obs *n = &d->obs->names[name_idx];

        n->answers = xrealloc(n->answers, (n->n_answers + 1) * sizeof(*n->answers));
        n->answers[n->n_answers] = (struct dns_answer_obs){
                .source = source,
                .authoritative = authoritative,
                .status = DNS_STATUS_NOT_RUN,
        };
        return n->n_answers++;
}

static void start_names(struct dnsaudit *d) {
        for (size_t i = 0; i < d->obs->n_names; i++) {
                if (d->n_each == 0) {
                        char *src = d->p->resolvers ? xasprintf("resolver %s", d->p->resolvers[0])
                                                    : xstrdup("the system resolver");
                        ask_addresses(d, d->rec, d->obs->names[i].name, ANSWER_NAME, i,
                                      name_add_answer(d, i, src, false));
                        continue;
                }
                for (size_t j = 0; j < d->n_each; j++)
                        ask_addresses(d, d->each[j], d->obs->names[i].name, ANSWER_NAME, i,
                                      name_add_answer(d, i, xasprintf("resolver %s", d->p->resolvers[j]), false));
        }
}

/* The names asked of one authoritative server of their zone. */
static void start_names_at(struct dnsaudit *d, const struct dns_server_obs *s) {
        struct dns_resolver *r;

        if (d->cancelled || !(r = direct_get(d, s->address)))
                return;
        for (size_t i = 0; i < d->obs->n_names; i++)
                ask_addresses(d, r, d->obs->names[i].name, ANSWER_NAME, i,
                              name_add_answer(d, i, xasprintf("%s (%s)", s->ns, s->address), true));
}

/* ------------------------------------------------------------------------ */
/* Zones: the SOA search, the NS set, each server's SOA. */

enum zone_which {
        ZONE_NAMES,
        ZONE_DNS01,
        ZONE_CHALLENGE,
};

static struct dns_zone_obs *zone_slot(struct dnsaudit *d, enum zone_which w) {
        return w == ZONE_NAMES ? &d->obs->names_zone : w == ZONE_DNS01 ? &d->obs->dns01_zone
                                                                         : &d->obs->challenge_zone;
}

struct zone_ctx {
        struct dnsaudit *d;
        enum zone_which which;
        char *q;                  /* the name asked now */
        size_t server;            /* for the per-server SOA question */
        char *ns;                 /* for the NS address question */
};

static void zone_ctx_free(struct zone_ctx *c) {
        free(c->q);
        free(c->ns);
        free(c);
}

static void start_ns(struct dnsaudit *d, enum zone_which w);

static void on_soa_search(void *userdata, const struct dns_reply *reply);

static void ask_soa_search(struct dnsaudit *d, enum zone_which w, const char *q) {
        struct zone_ctx *c = xcalloc(1, sizeof(*c));

        *c = (struct zone_ctx){ .d = d, .which = w, .q = xstrdup(q) };
        gatherer_hold(d);
        dns_query(d->rec, *q ? q : ".", ns_t_soa, on_soa_search, c);
}

/* From one answer: the zone that encloses q, if the answer names it. An
 * SOA for q itself; or, in a negative answer, the SOA of the zone that said
 * "no" (RFC 2308 section 3); or a referral's NS set (a server that is not a
 * full resolver answers so for a delegated child). A CNAME at q says the
 * answer is about its target's zone, not q's. */
static char *zone_from_answer(const struct dns_reply *reply, const char *q) {
        struct dns_msg m;
        char *zone = NULL;

        if (!reply->abuf || dns_msg_parse(reply->abuf, reply->alen, &m) < 0)
                return NULL;
        for (size_t i = 0; i < m.n_rrs; i++)
                if (m.rrs[i].section == DNS_SECTION_ANSWER && m.rrs[i].type == ns_t_cname &&
                    strcmp(m.rrs[i].owner, q) == 0)
                        goto out;
        for (size_t i = 0; i < m.n_rrs && !zone; i++)
                if (m.rrs[i].section == DNS_SECTION_ANSWER && m.rrs[i].type == ns_t_soa && strcmp(m.rrs[i].owner, q) == 0)
                        zone = xstrdup(q);
        for (size_t i = 0; i < m.n_rrs && !zone; i++)
                if (m.rrs[i].section == DNS_SECTION_AUTHORITY && m.rrs[i].type == ns_t_soa &&
                    dns_name_in_zone(q, m.rrs[i].owner))
                        zone = xstrdup(m.rrs[i].owner);
        for (size_t i = 0; i < m.n_rrs && !zone; i++)
                if (m.rrs[i].section == DNS_SECTION_AUTHORITY && m.rrs[i].type == ns_t_ns && *m.rrs[i].owner &&
                    dns_name_in_zone(q, m.rrs[i].owner))
                        zone = xstrdup(m.rrs[i].owner);
out:
        dns_msg_done(&m);
        return zone;
}

static void on_soa_search(void *userdata, const struct dns_reply *reply) {
        struct zone_ctx *c = userdata;
        struct dnsaudit *d = c->d;
        struct dns_zone_obs *z = zone_slot(d, c->which);
        bool negative = reply->status == DNS_STATUS_OK || reply->status == DNS_STATUS_NODATA ||
                        reply->status == DNS_STATUS_NXDOMAIN;

        if (!negative) {
                z->status = reply->status;
                _cleanup_free_ char *why = status_text(reply);
                z->error = xasprintf("SOA query for %s to %s: %s", *c->q ? c->q : ".", resolvers_shown(d), why);
        } else if ((z->zone = zone_from_answer(reply, c->q))) {
                z->status = DNS_STATUS_OK;
                if (c->which != ZONE_DNS01 && !d->cancelled && *z->zone)
                        start_ns(d, c->which);
        } else if (*c->q && !d->cancelled) {
                ask_soa_search(d, c->which, dns_name_parent(c->q));
        } else if (d->cancelled) {
                z->status = DNS_STATUS_NOT_RUN;
                z->error = xasprintf("the search for the zone of %s was cut short by the audit deadline", z->queried);
        } else {
                z->status = DNS_STATUS_NXDOMAIN;
                z->error = xasprintf("no SOA at %s or any name above it", z->queried);
        }
        zone_ctx_free(c);
        gatherer_release(d);
}

static void start_zone(struct dnsaudit *d, enum zone_which w, const char *name) {
        struct dns_zone_obs *z = zone_slot(d, w);

        z->queried = xstrdup(name);
        z->status = DNS_STATUS_NOT_RUN;
        ask_soa_search(d, w, name);
}

static void on_server_soa(void *userdata, const struct dns_reply *reply) {
        struct zone_ctx *c = userdata;
        struct dnsaudit *d = c->d;
        struct dns_zone_obs *z = zone_slot(d, c->which);
        struct dns_server_obs *s = &z->servers[c->server];
        struct ares_soa_reply *soa = NULL;
        _cleanup_free_ char *why = NULL;

        s->status = reply->status;
        s->authoritative = reply->abuf && reply->aa;
        if (reply->status == DNS_STATUS_OK && reply->abuf &&
            ares_parse_soa_reply(reply->abuf, (int)reply->alen, &soa) == ARES_SUCCESS) {
                s->has_serial = true;
                s->serial = soa->serial;
                ares_free_data(soa);
        }
        if (reply->status != DNS_STATUS_OK) {
                why = status_text(reply);
                s->error = xasprintf("asked directly for the SOA of %s, %s (%s:%u) answered %s", z->zone, s->ns,
                                     s->address, d->p->dns_port, why);
        } else if (!s->has_serial)
                s->error = xasprintf("asked directly for the SOA of %s, %s (%s:%u) sent no SOA record", z->zone,
                                     s->ns, s->address, d->p->dns_port);
        else if (!s->authoritative)
                s->error = xasprintf("%s (%s:%u) answered for %s without the AA flag: it does not serve the zone "
                                     "(lame delegation)", s->ns, s->address, d->p->dns_port, z->zone);
        else if (c->which == ZONE_NAMES)
                start_names_at(d, s);
        zone_ctx_free(c);
        gatherer_release(d);
}

static size_t zone_add_server(struct dns_zone_obs *z, const char *ns, const char *address) {
        z->servers = xrealloc(z->servers, (z->n_servers + 1) * sizeof(*z->servers));
        z->servers[z->n_servers] = (struct dns_server_obs){
                .ns = xstrdup(ns),
                .address = address ? xstrdup(address) : NULL,
                .status = DNS_STATUS_NOT_RUN,
        };
        return z->n_servers++;
}

static void on_ns_addresses(void *userdata, enum dns_status status, char **error, char ***addresses) {
        struct zone_ctx *c = userdata;
        struct dnsaudit *d = c->d;
        struct dns_zone_obs *z = zone_slot(d, c->which);

        if (!*addresses) {
                size_t i = zone_add_server(z, c->ns, NULL);
                z->servers[i].status = status;
                z->servers[i].error = xasprintf("the NS name %s does not resolve: %s", c->ns,
                                                status == DNS_STATUS_NOT_RUN ? "not asked: the audit deadline came first"
                                                                             : *error ? *error : dns_status_to_string(status));
        }
        for (size_t j = 0; *addresses && (*addresses)[j] && j < ADDRS_PER_NS; j++) {
                size_t i = zone_add_server(z, c->ns, (*addresses)[j]);
                struct dns_resolver *r = d->cancelled ? NULL : direct_get(d, (*addresses)[j]);
                if (!r) {
                        z->servers[i].error = xasprintf("%s (%s) was not asked: %s", c->ns, (*addresses)[j],
                                                        d->cancelled ? "the audit deadline came first"
                                                                     : "too many servers");
                        continue;
                }
                struct zone_ctx *q = xcalloc(1, sizeof(*q));
                *q = (struct zone_ctx){ .d = d, .which = c->which, .server = i };
                gatherer_hold(d);
                dns_query(r, z->zone, ns_t_soa, on_server_soa, q);
        }
        zone_ctx_free(c);
        gatherer_release(d);
}

static void on_ns(void *userdata, const struct dns_reply *reply) {
        struct zone_ctx *c = userdata;
        struct dnsaudit *d = c->d;
        struct dns_zone_obs *z = zone_slot(d, c->which);
        struct hostent *h = NULL;

        z->ns_status = reply->status;
        if (reply->status == DNS_STATUS_OK && reply->abuf &&
            ares_parse_ns_reply(reply->abuf, (int)reply->alen, &h) == ARES_SUCCESS) {
                for (size_t i = 0; h->h_aliases && h->h_aliases[i] && i < NS_MAX; i++) {
                        size_t n = strlen(h->h_aliases[i]);
                        char *name = str_escape(h->h_aliases[i], n && h->h_aliases[i][n - 1] == '.' ? n - 1 : n);
                        for (char *x = name; *x; x++)
                                if (*x >= 'A' && *x <= 'Z')
                                        *x = (char)(*x + 32);
                        if (strv_contains(z->ns, name))
                                free(name);
                        else
                                strv_push(&z->ns, name);
                }
                ares_free_hostent(h);
        }
        strv_sort(z->ns);
        if (!z->ns) {
                _cleanup_free_ char *why = reply->status == DNS_STATUS_OK ? xstrdup("no NS records")
                                                                          : status_text(reply);
                if (z->ns_status == DNS_STATUS_OK)
                        z->ns_status = DNS_STATUS_NODATA;
                z->ns_error = xasprintf("NS query for %s to %s: %s", z->zone, resolvers_shown(d), why);
        }
        for (size_t i = 0; z->ns && z->ns[i] && !d->cancelled; i++) {
                struct zone_ctx *q = xcalloc(1, sizeof(*q));
                *q = (struct zone_ctx){ .d = d, .which = c->which, .ns = xstrdup(z->ns[i]) };
                gatherer_hold(d);
                dns_resolve_addresses(d->rec, z->ns[i], on_ns_addresses, q);
        }
        zone_ctx_free(c);
        gatherer_release(d);
}

static void start_ns(struct dnsaudit *d, enum zone_which w) {
        struct zone_ctx *c = xcalloc(1, sizeof(*c));

        *c = (struct zone_ctx){ .d = d, .which = w };
        zone_slot(d, w)->ns_status = DNS_STATUS_NOT_RUN;
        gatherer_hold(d);
        dns_query(d->rec, zone_slot(d, w)->zone, ns_t_ns, on_ns, c);
}

/* ------------------------------------------------------------------------ */
/* CAA, RFC 8659 section 3: the relevant RRset is the first one found at
 * the name or, climbing one label at a time, at its parents. */

struct name_ctx {
        struct dnsaudit *d;
        char *q;
};

static void name_ctx_free(struct name_ctx *c) {
        free(c->q);
        free(c);
}

static void ask_caa(struct dnsaudit *d, const char *q);

static void on_caa(void *userdata, const struct dns_reply *reply) {
        struct name_ctx *c = userdata;
        struct dnsaudit *d = c->d;
        struct dns_obs *o = d->obs;
        struct ares_caa_reply *caa = NULL;

        o->caa_status = reply->status;
        if (reply->status == DNS_STATUS_OK && reply->abuf &&
            ares_parse_caa_reply(reply->abuf, (int)reply->alen, &caa) == ARES_SUCCESS && caa) {
                o->caa_name = xstrdup(c->q);
                for (struct ares_caa_reply *r = caa; r; r = r->next) {
                        if (o->n_caa == DNS_OBS_MAX)
                                break;
                        o->caa = xrealloc(o->caa, (o->n_caa + 1) * sizeof(*o->caa));
                        char *tag = str_escape((const char *)r->property, r->plength);
                        for (char *x = tag; *x; x++)
                                if (*x >= 'A' && *x <= 'Z')
                                        *x = (char)(*x + 32);
                        o->caa[o->n_caa++] = (struct dns_caa_obs){
                                .flags = (uint8_t)r->critical,
                                .tag = tag,
                                .value = str_escape((const char *)r->value, r->length),
                        };
                }
                ares_free_data(caa);
        } else if (reply->status == DNS_STATUS_OK || reply->status == DNS_STATUS_NODATA ||
                   reply->status == DNS_STATUS_NXDOMAIN) {
                /* Nothing here (an answer with only a CNAME counts as
                 * nothing): climb, but not to the root. */
                const char *parent = dns_name_parent(c->q);
                o->caa_status = DNS_STATUS_OK;
                if (*parent && !d->cancelled)
                        ask_caa(d, parent);
                else if (d->cancelled) {
                        o->caa_status = DNS_STATUS_NOT_RUN;
                        o->caa_error = xstrdup("not asked: the audit deadline came first");
                }
        } else {
                _cleanup_free_ char *why = status_text(reply);
                o->caa_error = xasprintf("CAA query for %s to %s: %s", c->q, resolvers_shown(d), why);
        }
        name_ctx_free(c);
        gatherer_release(d);
}

static void ask_caa(struct dnsaudit *d, const char *q) {
        struct name_ctx *c = xcalloc(1, sizeof(*c));

        *c = (struct name_ctx){ .d = d, .q = xstrdup(q) };
        gatherer_hold(d);
        dns_query(d->rec, q, DNS_TYPE_CAA, on_caa, c);
}

/* ------------------------------------------------------------------------ */
/* DNS-01: the CNAME chain from the challenge name, then TXT and the zone
 * at its end. */

static void on_txt(void *userdata, const struct dns_reply *reply) {
        struct name_ctx *c = userdata;
        struct dnsaudit *d = c->d;
        struct dns_obs *o = d->obs;
        struct ares_txt_ext *txt = NULL;

        o->txt_status = reply->status;
        if (reply->status == DNS_STATUS_OK && reply->abuf &&
            ares_parse_txt_reply_ext(reply->abuf, (int)reply->alen, &txt) == ARES_SUCCESS) {
                _cleanup_free_ char *cur = NULL;
                /* One TXT record may come in several strings (RFC 7208
                 * 3.3 style); record_start marks the first of each. */
                for (struct ares_txt_ext *t = txt;; t = t->next) {
                        if ((!t || t->record_start) && cur) {
                                if (o->n_txt < DNS_OBS_MAX)
                                        strv_push(&o->txt, TAKE_PTR(cur));
                                free(TAKE_PTR(cur));
                                o->n_txt++;
                        }
                        if (!t)
                                break;
                        _cleanup_free_ char *part = str_escape((const char *)t->txt, t->length);
                        char *n = xasprintf("%s%s", cur ? cur : "", part);
                        free(cur);
                        cur = n;
                }
                ares_free_data(txt);
        } else if (reply->status != DNS_STATUS_NODATA && reply->status != DNS_STATUS_NXDOMAIN) {
                _cleanup_free_ char *why = status_text(reply);
                o->txt_error = xasprintf("TXT query for %s to %s: %s", c->q, resolvers_shown(d), why);
        }
        name_ctx_free(c);
        gatherer_release(d);
}

static void challenge_end(struct dnsaudit *d, const char *name) {
        struct name_ctx *c = xcalloc(1, sizeof(*c));

        d->obs->effective_challenge = xstrdup(name);
        if (d->cancelled) {
                free(c);
                return;
        }
        *c = (struct name_ctx){ .d = d, .q = xstrdup(name) };
        gatherer_hold(d);
        dns_query(d->rec, name, ns_t_txt, on_txt, c);
        start_zone(d, ZONE_CHALLENGE, name);
}

static void ask_cname(struct dnsaudit *d, const char *q);

static void on_cname(void *userdata, const struct dns_reply *reply) {
        struct name_ctx *c = userdata;
        struct dnsaudit *d = c->d;
        struct dns_obs *o = d->obs;
        char *target = NULL;
        struct dns_msg m;

        if (reply->status == DNS_STATUS_OK && reply->abuf && dns_msg_parse(reply->abuf, reply->alen, &m) == 0) {
                for (size_t i = 0; i < m.n_rrs && !target; i++)
                        if (m.rrs[i].section == DNS_SECTION_ANSWER && m.rrs[i].type == ns_t_cname &&
                            strcmp(m.rrs[i].owner, c->q) == 0)
                                target = xstrdup(m.rrs[i].target);
                dns_msg_done(&m);
        }
        if (target) {
                bool loop = strcmp(target, d->plan->challenge_name) == 0 || strv_contains(o->cname_chain, target);
                strv_push(&o->cname_chain, target);
                if (loop || strv_length(o->cname_chain) > DNS_CNAME_MAX) {
                        _cleanup_free_ char *shown = dns_chain_describe(d->plan->challenge_name, o->cname_chain);
                        o->cname_status = DNS_STATUS_ERROR;
                        o->cname_error = loop ? xasprintf("CNAME loop: %s", shown)
                                              : xasprintf("CNAME chain longer than %d links: %s", DNS_CNAME_MAX, shown);
                } else if (!d->cancelled)
                        ask_cname(d, target);
        } else if (reply->status == DNS_STATUS_OK || reply->status == DNS_STATUS_NODATA ||
                   reply->status == DNS_STATUS_NXDOMAIN) {
                o->cname_status = DNS_STATUS_OK;
                challenge_end(d, c->q);
        } else {
                _cleanup_free_ char *why = status_text(reply);
                o->cname_status = reply->status;
                o->cname_error = xasprintf("CNAME query for %s to %s: %s", c->q, resolvers_shown(d), why);
        }
        name_ctx_free(c);
        gatherer_release(d);
}

static void ask_cname(struct dnsaudit *d, const char *q) {
        struct name_ctx *c = xcalloc(1, sizeof(*c));

        *c = (struct name_ctx){ .d = d, .q = xstrdup(q) };
        gatherer_hold(d);
        dns_query(d->rec, q, ns_t_cname, on_cname, c);
}

/* ------------------------------------------------------------------------ */

static void on_dnssec_done(void *userdata) {
        gatherer_release(userdata);
}

void dnsaudit_start(struct dnsaudit *d, dnsaudit_done_cb cb, void *userdata) {
        struct dns_obs *o = d->obs;
        uint64_t rnd = 0;

        d->cb = cb;
        d->userdata = userdata;
        o->gathered = true;
        gatherer_hold(d); /* answers that come back synchronously must not end us early */

        /* A label no one has created: if it resolves, a wildcard does it. */
        if (getrandom(&rnd, sizeof(rnd), GRND_NONBLOCK) != sizeof(rnd))
                rnd = now_realtime_usec() ^ ((uint64_t)getpid() << 32);
        o->wildcard_probe_name = xasprintf("certvigil-probe-%016llx.%s", (unsigned long long)rnd,
                                           d->plan->wildcard_base);
        o->wildcard_probe.source = d->p->resolvers ? xasprintf("resolver %s", d->p->resolvers[0])
                                                   : xstrdup("the system resolver");
        o->wildcard_probe.status = DNS_STATUS_NOT_RUN;
        ask_addresses(d, d->rec, o->wildcard_probe_name, ANSWER_WILDCARD, 0, 0);

        o->names = xcalloc(d->plan->n_names ? d->plan->n_names : 1, sizeof(*o->names));
        for (size_t i = 0; i < d->plan->n_names; i++)
                o->names[i].name = xstrdup(d->plan->names[i].name);
        o->n_names = d->plan->n_names;
        start_names(d);
        start_zone(d, ZONE_NAMES, d->plan->wildcard_base);

        o->caa_status = DNS_STATUS_NOT_RUN;
        ask_caa(d, d->plan->wildcard_base);

        if (d->p->tls_mode == TLS_MODE_LETSENCRYPT) {
                o->dns01 = true;
                if (d->plan->dns01_zone)
                        start_zone(d, ZONE_DNS01, d->plan->dns01_zone);
                o->cname_status = DNS_STATUS_NOT_RUN;
                o->txt_status = DNS_STATUS_NOT_RUN;
                ask_cname(d, d->plan->challenge_name);
        }
        gatherer_hold(d);
        dnssec_probe_start(d->dnssec, on_dnssec_done, d);
        gatherer_release(d);
}
