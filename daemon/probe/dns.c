/* The DNS probe. c-ares 1.18 has no event thread and no ares_process_fds():
 * it tells us which sockets it wants watched through ARES_OPT_SOCK_STATE_CB,
 * we watch them on the sd-event loop and call ares_process_fd() when they
 * are ready, and keep one timer armed from ares_timeout() for its retries. */
#include <arpa/inet.h>
#include <arpa/nameser.h>
#include <ares.h>
#include <errno.h>
#include <string.h>
#include <strings.h>

#include "dns.h"
#include "util.h"

/* More than any sane RRset; bounds what a hostile answer can make us keep. */
#define ADDRESSES_MAX 64
#define DNS_TRIES 2

struct dns_socket {
        int fd;
        sd_event_source *source;
};

struct dns_resolver {
        sd_event *event;
        ares_channel channel;
        struct dns_socket *sockets;
        size_t n_sockets;
        sd_event_source *timer;
        bool channel_ready;
};

struct addr_query {
        struct dns_resolver *resolver;
        dns_addresses_cb cb;
        void *userdata;
        unsigned pending;
        int status[2];             /* ARES_* of the A and AAAA queries */
        char **found[2];
        char *name;
        char *problem;             /* a CNAME loop or overlong chain, which voids the answer */
};

static void resolver_rearm(struct dns_resolver *r);

static int on_timer(sd_event_source *s, uint64_t usec, void *userdata) {
        struct dns_resolver *r = userdata;
        ares_process_fd(r->channel, ARES_SOCKET_BAD, ARES_SOCKET_BAD);
        resolver_rearm(r);
        return 0;
}

static void resolver_rearm(struct dns_resolver *r) {
        struct timeval tv, *tvp;

        tvp = ares_timeout(r->channel, NULL, &tv);
        if (!tvp) {
                if (r->timer)
                        sd_event_source_set_enabled(r->timer, SD_EVENT_OFF);
                return;
        }
        uint64_t now;
        sd_event_now(r->event, CLOCK_MONOTONIC, &now);
        uint64_t when = now + (uint64_t)tvp->tv_sec * USEC_PER_SEC + (uint64_t)tvp->tv_usec;
        if (!r->timer) {
                if (sd_event_add_time(r->event, &r->timer, CLOCK_MONOTONIC, when, 1000, on_timer, r) < 0)
                        return; /* only retries are delayed until the next socket event, ignoring */
                return;
        }
        sd_event_source_set_time(r->timer, when);
        sd_event_source_set_enabled(r->timer, SD_EVENT_ONESHOT);
}

static int on_socket(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        struct dns_resolver *r = userdata;
        ares_process_fd(r->channel,
                        (revents & (EPOLLIN | EPOLLERR | EPOLLHUP)) ? fd : ARES_SOCKET_BAD,
                        (revents & EPOLLOUT) ? fd : ARES_SOCKET_BAD);
        resolver_rearm(r);
        return 0;
}

static void on_sock_state(void *data, ares_socket_t fd, int readable, int writable) {
        struct dns_resolver *r = data;
        uint32_t events = (readable ? EPOLLIN : 0) | (writable ? EPOLLOUT : 0);
        size_t i;

        for (i = 0; i < r->n_sockets; i++)
                if (r->sockets[i].fd == fd)
                        break;

        if (events == 0) {
                if (i < r->n_sockets) {
                        sd_event_source_disable_unref(r->sockets[i].source);
                        r->sockets[i] = r->sockets[--r->n_sockets];
                }
                return;
        }
        if (i < r->n_sockets) {
                sd_event_source_set_io_events(r->sockets[i].source, events);
                return;
        }
        r->sockets = xrealloc(r->sockets, (r->n_sockets + 1) * sizeof(*r->sockets));
        struct dns_socket *ds = &r->sockets[r->n_sockets];
        ds->fd = fd;
        if (sd_event_add_io(r->event, &ds->source, fd, events, on_socket, r) < 0)
                return; /* the query will time out through the timer, ignoring */
        r->n_sockets++;
}

/* Sets up the channel with opts and the given servers (NULL: resolv.conf). */
static int channel_init(struct dns_resolver *r, struct ares_options *opts, int optmask, const char *csv,
                        char **ret_error) {
        int st = ares_init_options(&r->channel, opts, optmask);
        if (st != ARES_SUCCESS) {
                *ret_error = xasprintf("cannot initialise the resolver: %s", ares_strerror(st));
                return -EINVAL;
        }
        r->channel_ready = true;
        if (csv) {
                st = ares_set_servers_ports_csv(r->channel, csv);
                if (st != ARES_SUCCESS) {
                        *ret_error = xasprintf("invalid resolver list '%s': %s", csv, ares_strerror(st));
                        return -EINVAL;
                }
        }
        return 0;
}

static unsigned channel_count_servers(ares_channel channel) {
        struct ares_addr_port_node *list = NULL;
        unsigned n = 0;
        if (ares_get_servers_ports(channel, &list) == ARES_SUCCESS)
                for (struct ares_addr_port_node *s = list; s; s = s->next)
                        n++;
        ares_free_data(list);
        return n;
}

static int resolver_new(sd_event *event, char *const *servers, uint64_t timeout_usec, int flags,
                        struct dns_resolver **ret, char **ret_error) {
        struct dns_resolver *r = xcalloc(1, sizeof(*r));
        _cleanup_free_ char *csv = strv_join(servers, ",", 0);
        struct ares_options opts = {
                .sock_state_cb = on_sock_state,
                .sock_state_cb_data = r,
                .timeout = 1000,
                .tries = DNS_TRIES,
                /* Names are absolute: never append a search domain. An
                 * answer with SERVFAIL or REFUSED is a fact to report as
                 * such, not a dead server (c-ares would otherwise say it
                 * could not contact any). */
                .flags = ARES_FLAG_NOSEARCH | ARES_FLAG_NOCHECKRESP,
        };
        int optmask = ARES_OPT_SOCK_STATE_CB | ARES_OPT_TIMEOUTMS | ARES_OPT_TRIES | ARES_OPT_FLAGS;
        int r_;

        r->event = sd_event_ref(event);
        opts.flags |= flags;

        /* c-ares waits its timeout on each server in the first round and
         * twice that in the second, so a query may take 3 x servers x
         * timeout: divide, so the configured timeout bounds one query with
         * its retries. Given servers are counted here; the system's are
         * known only once a channel has read resolv.conf, and only then is
         * a second initialisation needed. */
        unsigned n = (unsigned)strv_length(servers);
        if (n == 0) {
                r_ = channel_init(r, &opts, optmask, NULL, ret_error);
                if (r_ < 0)
                        goto fail;
                n = channel_count_servers(r->channel);
                ares_destroy(r->channel);
                r->channel_ready = false;
        }
        uint64_t per_try_ms = timeout_usec / USEC_PER_MSEC / (3 * (n ? n : 1));
        opts.timeout = (int)(per_try_ms < 50 ? 50 : per_try_ms > 60000 ? 60000 : per_try_ms);
        r_ = channel_init(r, &opts, optmask, csv, ret_error);
        if (r_ < 0)
                goto fail;
        *ret = r;
        return 0;
fail:
        dns_resolver_free(r);
        return r_;
}

int dns_resolver_new(sd_event *event, char *const *servers, uint64_t timeout_usec,
                     struct dns_resolver **ret, char **ret_error) {
        return resolver_new(event, servers, timeout_usec, 0, ret, ret_error);
}

int dns_resolver_new_direct(sd_event *event, const char *address, uint16_t port, uint64_t timeout_usec,
                            struct dns_resolver **ret, char **ret_error) {
        _cleanup_free_ char *server = strchr(address, ':') ? xasprintf("[%s]:%u", address, port)
                                                            : xasprintf("%s:%u", address, port);
        char *servers[] = { server, NULL };

        /* RFC 1035 4.1.1: with RD clear the server answers from its own
         * data only, which is what "ask the authoritative server" means. */
        return resolver_new(event, servers, timeout_usec, ARES_FLAG_NORECURSE, ret, ret_error);
}

void dns_resolver_cancel(struct dns_resolver *r) {
        if (r && r->channel_ready)
                ares_cancel(r->channel);
}

struct dns_resolver *dns_resolver_free(struct dns_resolver *r) {
        if (!r)
                return NULL;
        if (r->channel_ready)
                ares_destroy(r->channel); /* runs pending callbacks with ARES_EDESTRUCTION */
        for (size_t i = 0; i < r->n_sockets; i++)
                sd_event_source_disable_unref(r->sockets[i].source);
        free(r->sockets);
        sd_event_source_disable_unref(r->timer);
        sd_event_unref(r->event);
        free(r);
        return NULL;
}

static enum dns_status status_from_ares(int st) {
        switch (st) {
        case ARES_SUCCESS:
                return DNS_STATUS_OK;
        case ARES_ENOTFOUND:
                return DNS_STATUS_NXDOMAIN;
        case ARES_ENODATA:
                return DNS_STATUS_NODATA;
        case ARES_ESERVFAIL:
                return DNS_STATUS_SERVFAIL;
        case ARES_EREFUSED:
                return DNS_STATUS_REFUSED;
        case ARES_ETIMEOUT:
                return DNS_STATUS_TIMEOUT;
        case ARES_ECANCELLED:
        case ARES_EDESTRUCTION:
                return DNS_STATUS_NOT_RUN;
        default:
                return DNS_STATUS_ERROR;
        }
}

static void addr_query_finish(struct addr_query *q) {
        _cleanup_free_ char *error = NULL;
        _cleanup_strv_free_ char **addresses = NULL;
        enum dns_status status;
        int st;

        for (int i = 0; i < 2 && !q->problem; i++)
                for (size_t j = 0; q->found[i] && q->found[i][j]; j++)
                        strv_push(&addresses, TAKE_PTR(q->found[i][j]));

        if (q->problem) {
                status = DNS_STATUS_ERROR;
                error = TAKE_PTR(q->problem);
        } else if (addresses)
                status = DNS_STATUS_OK;
        else {
                /* A missing AAAA is normal; the A answer says most. Only when
                 * A merely had no data does the AAAA failure explain more. */
                st = q->status[0];
                if ((st == ARES_ENODATA || st == ARES_SUCCESS) && q->status[1] != ARES_ENODATA &&
                    q->status[1] != ARES_SUCCESS)
                        st = q->status[1];
                if (st == ARES_SUCCESS)
                        st = ARES_ENODATA;
                status = status_from_ares(st);
                if (status == DNS_STATUS_NOT_RUN)
                        error = xstrdup("the query was cancelled");
                else if (status == DNS_STATUS_NXDOMAIN)
                        error = xstrdup("NXDOMAIN: the name does not exist");
                else if (status == DNS_STATUS_NODATA)
                        error = xstrdup("the name exists but has no A or AAAA record");
                else
                        error = xasprintf("%s (%s)", dns_status_to_string(status), ares_strerror(st));
        }
        q->cb(q->userdata, status, &error, &addresses);
        for (int i = 0; i < 2; i++)
                strv_free(q->found[i]);
        free(q->name);
        free(q->problem);
        free(q);
}

/* A resolver follows CNAMEs for us and puts the chain in the answer;
 * c-ares' parsers walk it without a limit, so the limit is applied here. */
static void addr_query_check_chain(struct addr_query *q, const unsigned char *abuf, int alen) {
        struct dns_msg m;
        _cleanup_strv_free_ char **chain = NULL;
        _cleanup_free_ char *shown = NULL;
        int r;

        if (q->problem || !abuf || dns_msg_parse(abuf, (size_t)alen, &m) < 0)
                return;
        r = dns_msg_cname_chain(&m, q->name, &chain);
        dns_msg_done(&m);
        if (r == 0)
                return;
        shown = dns_chain_describe(q->name, chain);
        if (r == -ELOOP)
                q->problem = xasprintf("CNAME loop in the answer: %s", shown);
        else
                q->problem = xasprintf("CNAME chain longer than %d links in the answer: %s", DNS_CNAME_MAX, shown);
}

static void addr_query_answer(struct addr_query *q, int idx, int status, unsigned char *abuf, int alen) {
        q->status[idx] = status;
        if (status == ARES_SUCCESS)
                addr_query_check_chain(q, abuf, alen);
        if (status == ARES_SUCCESS) {
                char text[INET6_ADDRSTRLEN];
                int n = ADDRESSES_MAX, st;
                if (idx == 0) {
                        struct ares_addrttl a[ADDRESSES_MAX];
                        st = ares_parse_a_reply(abuf, alen, NULL, a, &n);
                        for (int i = 0; st == ARES_SUCCESS && i < n; i++)
                                if (inet_ntop(AF_INET, &a[i].ipaddr, text, sizeof(text)) &&
                                    !strv_contains(q->found[0], text))
                                        strv_push(&q->found[0], xstrdup(text));
                } else {
                        struct ares_addr6ttl a[ADDRESSES_MAX];
                        st = ares_parse_aaaa_reply(abuf, alen, NULL, a, &n);
                        for (int i = 0; st == ARES_SUCCESS && i < n; i++)
                                if (inet_ntop(AF_INET6, &a[i].ip6addr, text, sizeof(text)) &&
                                    !strv_contains(q->found[1], text))
                                        strv_push(&q->found[1], xstrdup(text));
                }
                q->status[idx] = st == ARES_SUCCESS && !q->found[idx] ? ARES_ENODATA : st;
        }
        if (--q->pending == 0)
                addr_query_finish(q);
}

static void on_a(void *arg, int status, int timeouts, unsigned char *abuf, int alen) {
        addr_query_answer(arg, 0, status, abuf, alen);
}

static void on_aaaa(void *arg, int status, int timeouts, unsigned char *abuf, int alen) {
        addr_query_answer(arg, 1, status, abuf, alen);
}

int dns_resolve_addresses(struct dns_resolver *r, const char *name, dns_addresses_cb cb, void *userdata) {
        struct addr_query *q = xcalloc(1, sizeof(*q));

        q->resolver = r;
        q->cb = cb;
        q->userdata = userdata;
        q->pending = 2;
        q->name = xstrdup(name);
        /* ares_query may complete synchronously (bad name, cancellation):
         * pending is set before either call so the query is freed only
         * once both have answered. */
        ares_query(r->channel, name, ns_c_in, ns_t_a, on_a, q);
        ares_query(r->channel, name, ns_c_in, ns_t_aaaa, on_aaaa, q);
        resolver_rearm(r);
        return 0;
}

/* ------------------------------------------------------------------------ */
/* Any query, with the raw answer for the caller. */

struct raw_query {
        dns_reply_cb cb;
        void *userdata;
};

static void on_raw(void *arg, int status, int timeouts, unsigned char *abuf, int alen) {
        struct raw_query *q = arg;
        struct dns_reply reply = {
                .status = status_from_ares(status),
                .ares_status = status,
        };

        /* RFC 1035 4.1.1: the header is 12 octets; anything shorter carries
         * nothing we can trust, so it is treated as no answer at all. */
        if (abuf && alen >= 12) {
                reply.abuf = abuf;
                reply.alen = (size_t)alen;
                reply.rcode = abuf[3] & 0x0f;
                reply.aa = abuf[2] & 0x04;
                reply.tc = abuf[2] & 0x02;
        }
        q->cb(q->userdata, &reply);
        free(q);
}

void dns_query(struct dns_resolver *r, const char *name, int type, dns_reply_cb cb, void *userdata) {
        struct raw_query *q = xcalloc(1, sizeof(*q));

        q->cb = cb;
        q->userdata = userdata;
        ares_query(r->channel, name, ns_c_in, type, on_raw, q);
        resolver_rearm(r);
}

/* ------------------------------------------------------------------------ */
/* Walking every section of an answer. c-ares 1.18 parses the answer
 * section per type but has no walker for the authority section, where
 * negative answers carry the zone's SOA and referrals carry the NS set
 * (RFC 2308 section 3, RFC 1034 section 4.3.2); names still go through
 * ares_expand_name, which bounds-checks and stops compression loops. */

static bool get16(const unsigned char *abuf, size_t alen, size_t off, unsigned *ret) {
        if (off + 2 > alen)
                return false;
        *ret = (unsigned)abuf[off] << 8 | abuf[off + 1];
        return true;
}

static bool get32(const unsigned char *abuf, size_t alen, size_t off, uint32_t *ret) {
        if (off + 4 > alen)
                return false;
        *ret = (uint32_t)abuf[off] << 24 | (uint32_t)abuf[off + 1] << 16 | (uint32_t)abuf[off + 2] << 8 |
               abuf[off + 3];
        return true;
}

/* Expands the name at off; *ret is lower-case, escaped, without the final
 * dot ("" for the root). Returns the octets it used on the wire, or 0. */
static size_t get_name(const unsigned char *abuf, size_t alen, size_t off, char **ret) {
        char *raw = NULL;
        long used = 0;

        if (off >= alen || ares_expand_name(abuf + off, abuf, (int)alen, &raw, &used) != ARES_SUCCESS || used <= 0)
                return 0;
        for (char *c = raw; *c; c++)
                if (*c >= 'A' && *c <= 'Z')
                        *c = (char)(*c + 32);
        size_t n = strlen(raw);
        if (n > 0 && raw[n - 1] == '.')
                raw[--n] = 0;
        *ret = str_escape(raw, n);
        ares_free_string(raw);
        return (size_t)used;
}

void dns_msg_done(struct dns_msg *m) {
        for (size_t i = 0; i < m->n_rrs; i++) {
                free(m->rrs[i].owner);
                free(m->rrs[i].target);
        }
        free(m->rrs);
        *m = (struct dns_msg){ 0 };
}

int dns_msg_parse(const unsigned char *abuf, size_t alen, struct dns_msg *ret) {
        struct dns_msg m = { 0 };
        unsigned counts[4];
        size_t off = 12;

        if (!abuf || alen < 12 || alen > 65535)
                return -EBADMSG;
        m.rcode = abuf[3] & 0x0f;
        m.aa = abuf[2] & 0x04;
        m.tc = abuf[2] & 0x02;
        for (int i = 0; i < 4; i++)
                (void)get16(abuf, alen, 4 + 2 * (size_t)i, &counts[i]);

        for (unsigned i = 0; i < counts[0]; i++) {
                _cleanup_free_ char *qname = NULL;
                size_t used = get_name(abuf, alen, off, &qname);
                if (used == 0 || off + used + 4 > alen)
                        goto bad;
                off += used + 4;
        }
        for (int section = 1; section <= 3; section++)
                for (unsigned i = 0; i < counts[section]; i++) {
                        struct dns_rr rr = { .section = (enum dns_section)section };
                        unsigned type, rdlen;
                        size_t used = get_name(abuf, alen, off, &rr.owner);

                        if (used == 0)
                                goto bad;
                        off += used;
                        if (!get16(abuf, alen, off, &type) || !get32(abuf, alen, off + 4, &rr.ttl) ||
                            !get16(abuf, alen, off + 8, &rdlen) || off + 10 + rdlen > alen) {
                                free(rr.owner);
                                goto bad;
                        }
                        rr.type = (int)type;
                        off += 10;
                        if (type == ns_t_cname || type == ns_t_ns || type == ns_t_soa) {
                                size_t n = get_name(abuf, alen, off, &rr.target);
                                if (n == 0 || n > rdlen) {
                                        free(rr.owner);
                                        free(rr.target);
                                        goto bad;
                                }
                                if (type == ns_t_soa) {
                                        _cleanup_free_ char *rname = NULL;
                                        size_t n2 = get_name(abuf, alen, off + n, &rname);
                                        if (n2 == 0 || n + n2 + 20 > rdlen ||
                                            !get32(abuf, alen, off + n + n2, &rr.serial)) {
                                                free(rr.owner);
                                                free(rr.target);
                                                goto bad;
                                        }
                                }
                        }
                        off += rdlen;
                        if (m.n_rrs >= DNS_MSG_RRS_MAX) {
                                /* A hostile server may send thousands of
                                 * records; what we keep stays bounded. */
                                m.n_dropped++;
                                free(rr.owner);
                                free(rr.target);
                                continue;
                        }
                        m.rrs = xrealloc(m.rrs, (m.n_rrs + 1) * sizeof(*m.rrs));
                        m.rrs[m.n_rrs++] = rr;
                }
        *ret = m;
        return 0;
bad:
        dns_msg_done(&m);
        return -EBADMSG;
}

int dns_msg_cname_chain(const struct dns_msg *m, const char *qname, char ***ret_chain) {
        _cleanup_strv_free_ char **chain = NULL;
        _cleanup_free_ char *cur = xstrdup(qname);
        int r = 0;

        for (;;) {
                const struct dns_rr *next = NULL;
                for (size_t i = 0; i < m->n_rrs && !next; i++)
                        if (m->rrs[i].section == DNS_SECTION_ANSWER && m->rrs[i].type == ns_t_cname &&
                            strcasecmp(m->rrs[i].owner, cur) == 0)
                                next = &m->rrs[i];
                if (!next)
                        break;
                if (strcasecmp(next->target, qname) == 0 || strv_contains(chain, next->target)) {
                        strv_push(&chain, xstrdup(next->target));
                        r = -ELOOP;
                        break;
                }
                strv_push(&chain, xstrdup(next->target));
                if (strv_length(chain) > DNS_CNAME_MAX) {
                        r = -E2BIG;
                        break;
                }
                free(cur);
                cur = xstrdup(next->target);
        }
        if (ret_chain)
                *ret_chain = TAKE_PTR(chain);
        return r;
}
