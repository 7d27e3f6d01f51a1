/* The DNS probe. c-ares 1.18 has no event thread and no ares_process_fds():
 * it tells us which sockets it wants watched through ARES_OPT_SOCK_STATE_CB,
 * we watch them on the sd-event loop and call ares_process_fd() when they
 * are ready, and keep one timer armed from ares_timeout() for its retries. */
#include <arpa/inet.h>
#include <arpa/nameser.h>
#include <ares.h>
#include <errno.h>
#include <string.h>

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

int dns_resolver_new(sd_event *event, char *const *servers, uint64_t timeout_usec,
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
        r_ = channel_init(r, &opts, optmask, csv, ret_error);
        if (r_ < 0)
                goto fail;

        /* c-ares waits its timeout on each server in the first round and
         * twice that in the second, so a query may take 3 x servers x
         * timeout: divide, so the configured timeout bounds one query with
         * its retries. The server count is known only once the channel has
         * read resolv.conf, hence the second initialisation. */
        unsigned n = channel_count_servers(r->channel);
        uint64_t per_try_ms = timeout_usec / USEC_PER_MSEC / (3 * (n ? n : 1));
        opts.timeout = (int)(per_try_ms < 50 ? 50 : per_try_ms > 60000 ? 60000 : per_try_ms);
        ares_destroy(r->channel);
        r->channel_ready = false;
        r_ = channel_init(r, &opts, optmask, csv, ret_error);
        if (r_ < 0)
                goto fail;
        *ret = r;
        return 0;
fail:
        dns_resolver_free(r);
        return r_;
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

        for (int i = 0; i < 2; i++)
                for (size_t j = 0; q->found[i] && q->found[i][j]; j++)
                        strv_push(&addresses, TAKE_PTR(q->found[i][j]));

        if (addresses)
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
        free(q);
}

static void addr_query_answer(struct addr_query *q, int idx, int status, unsigned char *abuf, int alen) {
        q->status[idx] = status;
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
        /* ares_query may complete synchronously (bad name, cancellation):
         * pending is set before either call so the query is freed only
         * once both have answered. */
        ares_query(r->channel, name, ns_c_in, ns_t_a, on_a, q);
        ares_query(r->channel, name, ns_c_in, ns_t_aaaa, on_aaaa, q);
        resolver_rearm(r);
        return 0;
}
