/* The DNS probe. c-ares 1.18 has no event thread and no ares_process_fds():
 * it tells us which sockets it wants watched through ARES_OPT_SOCK_STATE_CB,
 * we watch them on the sd-event loop and call ares_process_fd() when they
 * are ready, and keep one timer armed from ares_timeout() for its retries. */
#include <arpa/inet.h>
#include <assert.h>
#include <inttypes.h>
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
/* Channels nobody holds are kept for reuse (the next audit of the same
 * resolvers), up to this many; each holds a few sockets and ~74 KB. */
#define HUB_IDLE_MAX 8
/* Queries one channel has out at once; the rest wait their turn. A burst
 * of hundreds of names would otherwise overflow the server's socket (a
 * resolver drops what it cannot queue) and end in timeouts. */
#define CHANNEL_INFLIGHT_MAX 64

struct dns_socket {
        int fd;
        sd_event_source *source;
};

/* One c-ares channel: its sockets and retry timer on the loop. Shared by
 * every resolver handle with the same servers, timeout and flags. */
struct dns_send;

struct dns_channel {
        struct dns_hub *hub;
        sd_event *event;
        char *key;
        unsigned n_refs;           /* handles using it */
        unsigned busy;             /* inside ares_process_fd(): never destroyed then */
        ares_channel channel;
        bool channel_ready;
        struct dns_socket *sockets;
        size_t n_sockets;
        sd_event_source *timer;
        unsigned in_flight;        /* sent to c-ares, not answered yet */
        struct dns_send *queue, *queue_tail; /* waiting to be sent, oldest first */
        bool destroying;
};

struct dns_hub {
        sd_event *event;
        struct dns_channel **channels; /* each its own allocation */
        size_t n_channels;
};

/* What every query in flight starts with: the handle that asked, so that
 * cancelling one handle answers its own queries only. c-ares still holds
 * the query until it answers or times out; a query whose owner is gone
 * then frees itself silently. */
struct dns_pending {
        struct dns_resolver *owner; /* NULL once cancelled */
        struct dns_pending *prev, *next;
        void (*cancel)(struct dns_pending *p);
};

struct dns_resolver {
        struct dns_channel *ch;    /* a reference */
        struct dns_pending *pending;
};

struct addr_query {
        struct dns_pending base;
        dns_addresses_cb cb;
        void *userdata;
        unsigned pending;
        int status[2];             /* ARES_* of the A and AAAA queries */
        char **found[2];
        char *name;
        char *problem;             /* a CNAME loop or overlong chain, which voids the answer */
};

static void channel_rearm(struct dns_channel *ch);

static int on_timer(sd_event_source *s, uint64_t usec, void *userdata) {
        struct dns_channel *ch = userdata;
        ch->busy++;
        ares_process_fd(ch->channel, ARES_SOCKET_BAD, ARES_SOCKET_BAD);
        ch->busy--;
        channel_rearm(ch);
        return 0;
}

static void channel_rearm(struct dns_channel *ch) {
        struct timeval tv, *tvp;

        tvp = ares_timeout(ch->channel, NULL, &tv);
        if (!tvp) {
                if (ch->timer)
                        sd_event_source_set_enabled(ch->timer, SD_EVENT_OFF);
                return;
        }
        uint64_t now;
        sd_event_now(ch->event, CLOCK_MONOTONIC, &now);
        uint64_t when = now + (uint64_t)tvp->tv_sec * USEC_PER_SEC + (uint64_t)tvp->tv_usec;
        if (!ch->timer) {
                if (sd_event_add_time(ch->event, &ch->timer, CLOCK_MONOTONIC, when, 1000, on_timer, ch) < 0)
                        return; /* only retries are delayed until the next socket event, ignoring */
                return;
        }
        sd_event_source_set_time(ch->timer, when);
        sd_event_source_set_enabled(ch->timer, SD_EVENT_ONESHOT);
}

static int on_socket(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        struct dns_channel *ch = userdata;
        ch->busy++;
        ares_process_fd(ch->channel,
                        (revents & (EPOLLIN | EPOLLERR | EPOLLHUP)) ? fd : ARES_SOCKET_BAD,
                        (revents & EPOLLOUT) ? fd : ARES_SOCKET_BAD);
        ch->busy--;
        channel_rearm(ch);
        return 0;
}

static void on_sock_state(void *data, ares_socket_t fd, int readable, int writable) {
        struct dns_channel *ch = data;
        uint32_t events = (readable ? EPOLLIN : 0) | (writable ? EPOLLOUT : 0);
        size_t i;

        for (i = 0; i < ch->n_sockets; i++)
                if (ch->sockets[i].fd == fd)
                        break;

        if (events == 0) {
                if (i < ch->n_sockets) {
                        sd_event_source_disable_unref(ch->sockets[i].source);
                        ch->sockets[i] = ch->sockets[--ch->n_sockets];
                }
                return;
        }
        if (i < ch->n_sockets) {
                sd_event_source_set_io_events(ch->sockets[i].source, events);
                return;
        }
        ch->sockets = xrealloc(ch->sockets, (ch->n_sockets + 1) * sizeof(*ch->sockets));
        struct dns_socket *ds = &ch->sockets[ch->n_sockets];
        ds->fd = fd;
        if (sd_event_add_io(ch->event, &ds->source, fd, events, on_socket, ch) < 0)
                return; /* the query will time out through the timer, ignoring */
        ch->n_sockets++;
}

/* Sets up the channel with opts and the given servers (NULL: resolv.conf). */
static int channel_init(struct dns_channel *ch, struct ares_options *opts, int optmask, const char *csv,
                        char **ret_error) {
        int st = ares_init_options(&ch->channel, opts, optmask);
        if (st != ARES_SUCCESS) {
                *ret_error = xasprintf("cannot initialise the resolver: %s", ares_strerror(st));
                return -EINVAL;
        }
        ch->channel_ready = true;
        if (csv) {
                st = ares_set_servers_ports_csv(ch->channel, csv);
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

/* One question for c-ares, sent now or queued; its answer goes to cb. */
struct dns_send {
        struct dns_channel *ch;
        struct dns_send *next;
        const struct dns_pending *owner; /* NULL once it must not be sent */
        char *name;
        int type;
        ares_callback cb;
        void *arg;
};

static void channel_pump(struct dns_channel *ch);

static void on_sent_answer(void *arg, int status, int timeouts, unsigned char *abuf, int alen) {
        struct dns_send *q = arg;
        struct dns_channel *ch = q->ch;

        assert(ch->in_flight > 0);
        ch->in_flight--;
        q->cb(q->arg, status, timeouts, abuf, alen);
        free(q->name);
        free(q);
        channel_pump(ch);
}

static void channel_send_now(struct dns_channel *ch, struct dns_send *q) {
        ch->in_flight++;
        /* May answer synchronously (a bad name): on_sent_answer runs. */
        ares_query(ch->channel, q->name, ns_c_in, q->type, on_sent_answer, q);
}

/* Sends waiting questions while there is room. A question whose asker has
 * cancelled is answered "cancelled" without being sent. Not re-entered:
 * an answer that arrives synchronously pumps from the loop below. */
static void channel_pump(struct dns_channel *ch) {
        static const int cancelled = ARES_ECANCELLED;

        if (ch->destroying)
                return;
        while (ch->queue && ch->in_flight < CHANNEL_INFLIGHT_MAX) {
                struct dns_send *q = ch->queue;
                ch->queue = q->next;
                if (!ch->queue)
                        ch->queue_tail = NULL;
                if (q->owner && !((const struct dns_pending *)q->owner)->owner) {
                        q->cb(q->arg, cancelled, 0, NULL, 0);
                        free(q->name);
                        free(q);
                        continue;
                }
                channel_send_now(ch, q);
        }
}

static void channel_send(struct dns_channel *ch, const struct dns_pending *owner, const char *name, int type,
                         ares_callback cb, void *arg) {
        struct dns_send *q = xcalloc(1, sizeof(*q));

        *q = (struct dns_send){ .ch = ch, .owner = owner, .name = xstrdup(name), .type = type, .cb = cb, .arg = arg };
        if (ch->in_flight < CHANNEL_INFLIGHT_MAX && !ch->queue) {
                channel_send_now(ch, q);
                return;
        }
        if (ch->queue_tail)
                ch->queue_tail->next = q;
        else
                ch->queue = q;
        ch->queue_tail = q;
}

static struct dns_channel *channel_destroy(struct dns_channel *ch) {
        if (!ch)
                return NULL;
        assert(ch->n_refs == 0 && ch->busy == 0);
        ch->destroying = true;
        while (ch->queue) {
                struct dns_send *q = ch->queue;
                ch->queue = q->next;
                q->cb(q->arg, ARES_EDESTRUCTION, 0, NULL, 0);
                free(q->name);
                free(q);
        }
        if (ch->channel_ready)
                ares_destroy(ch->channel); /* pending queries are all orphans: they free themselves */
        for (size_t i = 0; i < ch->n_sockets; i++)
                sd_event_source_disable_unref(ch->sockets[i].source);
        free(ch->sockets);
        sd_event_source_disable_unref(ch->timer);
        sd_event_unref(ch->event);
        free(ch->key);
        free(ch);
        return NULL;
}

static int channel_new(sd_event *event, char *const *servers, uint64_t timeout_usec, int flags,
                       struct dns_channel **ret, char **ret_error) {
        struct dns_channel *ch = xcalloc(1, sizeof(*ch));
        _cleanup_free_ char *csv = strv_join(servers, ",", 0);
        struct ares_options opts = {
                .sock_state_cb = on_sock_state,
                .sock_state_cb_data = ch,
                .timeout = 1000,
                .tries = DNS_TRIES,
                /* Names are absolute: never append a search domain. An
                 * answer with SERVFAIL or REFUSED is a fact to report as
                 * such, not a dead server (c-ares would otherwise say it
                 * could not contact any). */
                .flags = ARES_FLAG_NOSEARCH | ARES_FLAG_NOCHECKRESP | flags,
        };
        int optmask = ARES_OPT_SOCK_STATE_CB | ARES_OPT_TIMEOUTMS | ARES_OPT_TRIES | ARES_OPT_FLAGS;
        int r;

        ch->event = sd_event_ref(event);
        /* c-ares waits its timeout on each server in the first round and
         * twice that in the second, so a query may take 3 x servers x
         * timeout: divide, so the configured timeout bounds one query with
         * its retries. Given servers are counted here; the system's are
         * known only once a channel has read resolv.conf, and only then is
         * a second initialisation needed. */
        unsigned n = (unsigned)strv_length(servers);
        if (n == 0) {
                r = channel_init(ch, &opts, optmask, NULL, ret_error);
                if (r < 0)
                        goto fail;
                n = channel_count_servers(ch->channel);
                ares_destroy(ch->channel);
                ch->channel_ready = false;
        }
        uint64_t per_try_ms = timeout_usec / USEC_PER_MSEC / (3 * (n ? n : 1));
        opts.timeout = (int)(per_try_ms < 50 ? 50 : per_try_ms > 60000 ? 60000 : per_try_ms);
        r = channel_init(ch, &opts, optmask, csv, ret_error);
        if (r < 0)
                goto fail;
        *ret = ch;
        return 0;
fail:
        channel_destroy(ch);
        return r;
}

int dns_hub_new(sd_event *event, struct dns_hub **ret) {
        struct dns_hub *hub = xcalloc(1, sizeof(*hub));
        hub->event = sd_event_ref(event);
        *ret = hub;
        return 0;
}

/* Every handle must have been freed first. */
struct dns_hub *dns_hub_free(struct dns_hub *hub) {
        if (!hub)
                return NULL;
        for (size_t i = 0; i < hub->n_channels; i++)
                channel_destroy(hub->channels[i]);
        free(hub->channels);
        sd_event_unref(hub->event);
        free(hub);
        return NULL;
}

size_t dns_hub_channels(const struct dns_hub *hub) {
        return hub ? hub->n_channels : 0;
}

static void hub_remove(struct dns_hub *hub, struct dns_channel *ch) {
        for (size_t i = 0; i < hub->n_channels; i++)
                if (hub->channels[i] == ch) {
                        hub->channels[i] = hub->channels[--hub->n_channels];
                        return;
                }
}

/* Beyond HUB_IDLE_MAX idle channels, the surplus (not busy) is closed. */
static void hub_trim(struct dns_hub *hub) {
        size_t idle = 0;

        for (size_t i = 0; i < hub->n_channels; i++)
                idle += hub->channels[i]->n_refs == 0;
        for (size_t i = 0; i < hub->n_channels && idle > HUB_IDLE_MAX;) {
                struct dns_channel *ch = hub->channels[i];
                if (ch->n_refs == 0 && ch->busy == 0) {
                        hub_remove(hub, ch);
                        channel_destroy(ch);
                        idle--;
                } else
                        i++;
        }
}

static void channel_unref(struct dns_channel *ch) {
        assert(ch->n_refs > 0);
        if (--ch->n_refs == 0)
                hub_trim(ch->hub);
}

static int resolver_new(struct dns_hub *hub, char *const *servers, uint64_t timeout_usec, int flags,
                        struct dns_resolver **ret, char **ret_error) {
        _cleanup_free_ char *csv = strv_join(servers, ",", 0);
        _cleanup_free_ char *key = xasprintf("%s|%" PRIu64 "|%d", csv ? csv : "", timeout_usec, flags);
        struct dns_channel *ch = NULL;
        int r;

        assert(hub);
        for (size_t i = 0; i < hub->n_channels && !ch; i++)
                if (strcmp(hub->channels[i]->key, key) == 0)
                        ch = hub->channels[i];
        if (!ch) {
                r = channel_new(hub->event, servers, timeout_usec, flags, &ch, ret_error);
                if (r < 0)
                        return r;
                ch->key = TAKE_PTR(key);
                ch->hub = hub;
                hub->channels = xrealloc(hub->channels, (hub->n_channels + 1) * sizeof(*hub->channels));
                hub->channels[hub->n_channels++] = ch;
        }
        ch->n_refs++;
        struct dns_resolver *res = xcalloc(1, sizeof(*res));
        res->ch = ch;
        *ret = res;
        return 0;
}

int dns_resolver_new(struct dns_hub *hub, char *const *servers, uint64_t timeout_usec, struct dns_resolver **ret,
                     char **ret_error) {
        return resolver_new(hub, servers, timeout_usec, 0, ret, ret_error);
}

int dns_resolver_new_direct(struct dns_hub *hub, const char *address, uint16_t port, uint64_t timeout_usec,
                            struct dns_resolver **ret, char **ret_error) {
        _cleanup_free_ char *server = strchr(address, ':') ? xasprintf("[%s]:%u", address, port)
                                                            : xasprintf("%s:%u", address, port);
        char *servers[] = { server, NULL };

        /* RFC 1035 4.1.1: with RD clear the server answers from its own
         * data only, which is what "ask the authoritative server" means. */
        return resolver_new(hub, servers, timeout_usec, ARES_FLAG_NORECURSE, ret, ret_error);
}

static void pending_link(struct dns_resolver *r, struct dns_pending *p, void (*cancel)(struct dns_pending *p)) {
        p->owner = r;
        p->cancel = cancel;
        p->prev = NULL;
        p->next = r->pending;
        if (r->pending)
                r->pending->prev = p;
        r->pending = p;
}

static void pending_unlink(struct dns_pending *p) {
        if (!p->owner)
                return;
        if (p->prev)
                p->prev->next = p->next;
        else
                p->owner->pending = p->next;
        if (p->next)
                p->next->prev = p->prev;
        p->owner = NULL;
        p->prev = p->next = NULL;
}

void dns_resolver_cancel(struct dns_resolver *r) {
        if (!r)
                return;
        /* Each cancel callback may start new queries on r (they go to the
         * head of the list and are left running), so take the list first. */
        struct dns_pending *list = r->pending;
        r->pending = NULL;
        while (list) {
                struct dns_pending *p = list;
                list = p->next;
                if (list)
                        list->prev = NULL;
                p->owner = NULL;
                p->prev = p->next = NULL;
                p->cancel(p);
        }
}

struct dns_resolver *dns_resolver_free(struct dns_resolver *r) {
        if (!r)
                return NULL;
        /* As destroying a channel did: pending callbacks run, as not run. */
        while (r->pending)
                dns_resolver_cancel(r);
        channel_unref(r->ch);
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

static void addr_query_free(struct addr_query *q) {
        for (int i = 0; i < 2; i++)
                strv_free(q->found[i]);
        free(q->name);
        free(q->problem);
        free(q);
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
}

/* The owner cancelled: it hears "not run" now; c-ares' two answers still
 * come (or the channel's destruction does) and free the query. */
static void addr_query_cancel(struct dns_pending *p) {
        struct addr_query *q = (struct addr_query *)p;
        _cleanup_free_ char *error = xstrdup("the query was cancelled");
        _cleanup_strv_free_ char **addresses = NULL;

        q->cb(q->userdata, DNS_STATUS_NOT_RUN, &error, &addresses);
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
        if (!q->base.owner) {
                /* Cancelled: the owner has had its answer already. */
                if (--q->pending == 0)
                        addr_query_free(q);
                return;
        }
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
        if (--q->pending == 0) {
                pending_unlink(&q->base);
                addr_query_finish(q);
                addr_query_free(q);
        }
}

static void on_a(void *arg, int status, int timeouts, unsigned char *abuf, int alen) {
        addr_query_answer(arg, 0, status, abuf, alen);
}

static void on_aaaa(void *arg, int status, int timeouts, unsigned char *abuf, int alen) {
        addr_query_answer(arg, 1, status, abuf, alen);
}

int dns_resolve_addresses(struct dns_resolver *r, const char *name, dns_addresses_cb cb, void *userdata) {
        struct addr_query *q = xcalloc(1, sizeof(*q));

        q->cb = cb;
        q->userdata = userdata;
        q->pending = 2;
        q->name = xstrdup(name);
        pending_link(r, &q->base, addr_query_cancel);
        /* ares_query may complete synchronously (bad name, cancellation):
         * pending is set before either call so the query is freed only
         * once both have answered. */
        channel_send(r->ch, &q->base, name, ns_t_a, on_a, q);
        channel_send(r->ch, &q->base, name, ns_t_aaaa, on_aaaa, q);
        channel_rearm(r->ch);
        return 0;
}

/* ------------------------------------------------------------------------ */
/* Any query, with the raw answer for the caller. */

struct raw_query {
        struct dns_pending base;
        dns_reply_cb cb;
        void *userdata;
};

static void raw_query_cancel(struct dns_pending *p) {
        struct raw_query *q = (struct raw_query *)p;
        struct dns_reply reply = {
                .status = DNS_STATUS_NOT_RUN,
                .ares_status = ARES_ECANCELLED,
        };
        q->cb(q->userdata, &reply);
}

static void on_raw(void *arg, int status, int timeouts, unsigned char *abuf, int alen) {
        struct raw_query *q = arg;
        struct dns_reply reply = {
                .status = status_from_ares(status),
                .ares_status = status,
        };

        if (!q->base.owner) {
                free(q);
                return;
        }
        pending_unlink(&q->base);
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
        pending_link(r, &q->base, raw_query_cancel);
        channel_send(r->ch, &q->base, name, type, on_raw, q);
        channel_rearm(r->ch);
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

/* RFC 4034 3.1: type covered (2), algorithm, labels (1 each), original
 * TTL, expiration, inception (4 each), key tag (2), then the signer's name,
 * uncompressed, within the RDATA. */
static bool rrsig_parse(const unsigned char *abuf, size_t alen, size_t off, unsigned rdlen, struct dns_rr *rr) {
        unsigned covered;
        size_t n;

        if (rdlen < 18 || !get16(abuf, alen, off, &covered) || !get32(abuf, alen, off + 8, &rr->sig_expiration) ||
            !get32(abuf, alen, off + 12, &rr->sig_inception))
                return false;
        rr->covered = (int)covered;
        n = get_name(abuf, alen, off + 18, &rr->target);
        if (n == 0 || 18 + n > rdlen) {
                rr->target = mfree(rr->target);
                return false;
        }
        return true;
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
                        if (type == DNS_TYPE_RRSIG && !rrsig_parse(abuf, alen, off, rdlen, &rr)) {
                                free(rr.owner);
                                goto bad;
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
