/* The TLS probe. Each endpoint gets a non-blocking socket and a GnuTLS
 * client session whose transport is that socket; the loop watches the
 * direction GnuTLS last blocked on. The handshake is the whole job: once
 * the peer's certificates are in we close without waiting for tickets or a
 * close_notify, which the audit does not need. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gnutls/gnutls.h>

#include "tls.h"
#include "util.h"

/* A chain longer than this is not something any client should accept; we
 * keep the first ones and say so. */
#define CHAIN_MAX 16

struct tls_probe {
        sd_event *event;
        int fd;
        sd_event_source *io;
        sd_event_source *timer;
        sd_event_source *defer;
        gnutls_session_t session;
        gnutls_certificate_credentials_t creds;
        const struct x509_trust *trust;
        uint64_t started;
        uint64_t timeout_usec;
        bool connected;
        bool bytes_seen;
        struct endpoint_obs obs;
        tls_probe_done_cb cb;
        void *userdata;
};

/* Credentials carry no trust: the probe must complete handshakes with
 * untrusted servers to see what they serve. One set serves every session. */
static gnutls_certificate_credentials_t global_creds;
/* The default priorities, parsed once: gnutls_set_default_priority() would
 * parse and cache them again for every session. */
static gnutls_priority_t global_priority;

int tls_global_init(void) {
        int r = gnutls_global_init();
        if (r < 0)
                return -EIO;
        r = gnutls_certificate_allocate_credentials(&global_creds);
        if (r < 0)
                return -ENOMEM;
        r = gnutls_priority_init(&global_priority, NULL, NULL); /* NULL: the defaults */
        return r < 0 ? -EINVAL : 0;
}

void tls_global_done(void) {
        if (global_priority)
                gnutls_priority_deinit(global_priority);
        global_priority = NULL;
        if (global_creds)
                gnutls_certificate_free_credentials(global_creds);
        global_creds = NULL;
        gnutls_global_deinit();
}

struct tls_probe *tls_probe_free(struct tls_probe *p) {
        if (!p)
                return NULL;
        sd_event_source_disable_unref(p->io);
        sd_event_source_disable_unref(p->timer);
        sd_event_source_disable_unref(p->defer);
        if (p->session)
                gnutls_deinit(p->session);
        if (p->fd >= 0)
                close(p->fd);
        endpoint_obs_done(&p->obs);
        sd_event_unref(p->event);
        free(p);
        return NULL;
}

static void probe_release_io(struct tls_probe *p) {
        p->io = sd_event_source_disable_unref(p->io);
        p->timer = sd_event_source_disable_unref(p->timer);
        if (p->session) {
                gnutls_deinit(p->session);
                p->session = NULL;
        }
        if (p->fd >= 0) {
                close(p->fd);
                p->fd = -1;
        }
}

/* Ends the probe: frees the socket and session now (so many endpoints do not
 * hold many descriptors), then reports. */
static void probe_finish(struct tls_probe *p, enum endpoint_status status, char *error) {
        p->obs.status = status;
        p->obs.error = error;
        p->obs.duration_usec = now_monotonic_usec() - p->started;
        probe_release_io(p);
        p->cb(p, &p->obs, p->userdata);
}

static void probe_collect(struct tls_probe *p) {
        unsigned n = 0;
        const gnutls_datum_t *certs = gnutls_certificate_get_peers(p->session, &n);
        const char *version = gnutls_protocol_get_name(gnutls_protocol_get_version(p->session));

        p->obs.tls_version = xstrdup(version ? version : "unknown");
        if (n > CHAIN_MAX)
                n = CHAIN_MAX;
        p->obs.chain = xcalloc(n ? n : 1, sizeof(struct cert_obs));
        for (unsigned i = 0; i < n; i++) {
                _cleanup_free_ char *err = NULL;
                if (x509_cert_parse(certs[i].data, certs[i].size, &p->obs.chain[p->obs.n_chain], &err) < 0) {
                        /* An unparsable certificate is a fact about the
                         * endpoint: keep what parsed and say why. */
                        if (!p->obs.verify_error)
                                p->obs.verify_error = xasprintf("certificate %u of the served chain: %s", i, err);
                        cert_obs_done(&p->obs.chain[p->obs.n_chain]);
                        continue;
                }
                p->obs.n_chain++;
        }
        if (p->obs.verify_error)
                return;
        if (x509_chain_verify(p->trust, p->obs.chain, p->obs.n_chain, &p->obs.verified,
                              &p->obs.verify_error) < 0)
                p->obs.verify_error = xstrdup("the served chain could not be verified");
}

static int handshake_step(struct tls_probe *p) {
        int r = gnutls_handshake(p->session);

        if (r == GNUTLS_E_AGAIN || r == GNUTLS_E_INTERRUPTED) {
                uint32_t events = gnutls_record_get_direction(p->session) ? EPOLLOUT : EPOLLIN;
                sd_event_source_set_io_events(p->io, events);
                return 0;
        }
        if (r < 0) {
                char *why;
                if (r == GNUTLS_E_FATAL_ALERT_RECEIVED || r == GNUTLS_E_WARNING_ALERT_RECEIVED)
                        why = xasprintf("server sent alert: %s",
                                        gnutls_alert_get_name(gnutls_alert_get(p->session)));
                else if (r == GNUTLS_E_PREMATURE_TERMINATION || r == GNUTLS_E_PULL_ERROR ||
                         r == GNUTLS_E_PUSH_ERROR)
                        why = xasprintf("connection closed during the handshake (%s)", gnutls_strerror(r));
                else
                        why = xasprintf("%s", gnutls_strerror(r));
                probe_finish(p, ENDPOINT_HANDSHAKE_FAILED, why);
                return 0;
        }
        probe_collect(p);
        probe_finish(p, ENDPOINT_OK, NULL);
        return 0;
}

static int on_io(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        struct tls_probe *p = userdata;

        if (revents & EPOLLIN)
                p->bytes_seen = true;
        if (!p->connected) {
                int err = 0;
                socklen_t len = sizeof(err);
                if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
                        err = errno;
                if (err != 0) {
                        probe_finish(p, ENDPOINT_CONNECT_FAILED, xasprintf("connect: %s", strerror(err)));
                        return 0;
                }
                p->connected = true;
        }
        return handshake_step(p);
}

static int on_timeout(sd_event_source *s, uint64_t usec, void *userdata) {
        struct tls_probe *p = userdata;
        double secs = (double)p->timeout_usec / USEC_PER_SEC;

        if (!p->connected)
                probe_finish(p, ENDPOINT_CONNECT_FAILED,
                             xasprintf("connect: no answer within %.1fs (timeout)", secs));
        else
                probe_finish(p, ENDPOINT_HANDSHAKE_FAILED,
                             xasprintf("handshake did not complete within %.1fs (timeout): the server "
                                       "accepted the connection but %s",
                                       secs, p->bytes_seen ? "stalled" : "never answered"));
        return 0;
}

void tls_probe_abort(struct tls_probe *p, const char *why) {
        if (p->fd < 0 && !p->defer)
                return; /* already ended */
        p->defer = sd_event_source_disable_unref(p->defer);
        if (!p->connected)
                probe_finish(p, ENDPOINT_CONNECT_FAILED, xasprintf("connect: %s", why));
        else
                probe_finish(p, ENDPOINT_HANDSHAKE_FAILED,
                             xasprintf("handshake did not complete: %s (the server %s)", why,
                                       p->bytes_seen ? "was still sending" : "had not answered"));
}

static int on_start_failed(sd_event_source *s, void *userdata) {
        struct tls_probe *p = userdata;
        p->defer = sd_event_source_disable_unref(p->defer);
        probe_finish(p, ENDPOINT_CONNECT_FAILED, TAKE_PTR(p->obs.error));
        return 0;
}

static int sockaddr_parse(const char *address, uint16_t port, struct sockaddr_storage *ss, socklen_t *len) {
        struct sockaddr_in *in4 = (struct sockaddr_in *)ss;
        struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)ss;

        memset(ss, 0, sizeof(*ss));
        if (inet_pton(AF_INET, address, &in4->sin_addr) == 1) {
                in4->sin_family = AF_INET;
                in4->sin_port = htons(port);
                *len = sizeof(*in4);
                return 0;
        }
        if (inet_pton(AF_INET6, address, &in6->sin6_addr) == 1) {
                in6->sin6_family = AF_INET6;
                in6->sin6_port = htons(port);
                *len = sizeof(*in6);
                return 0;
        }
        return -EINVAL;
}

/* Sets up socket and session; on failure returns a reason and leaves the
 * probe to report a connect failure from the loop. */
static char *probe_setup(struct tls_probe *p, const struct tls_probe_params *params) {
        struct sockaddr_storage ss;
        socklen_t sslen;
        int r;

        if (sockaddr_parse(params->address, params->port, &ss, &sslen) < 0)
                return xasprintf("'%s' is not an IP address", params->address);
        p->fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_TCP);
        if (p->fd < 0)
                return xasprintf("socket: %s", strerror(errno));
        int one = 1;
        (void)setsockopt(p->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)); /* latency only, ignoring */
        if (connect(p->fd, (struct sockaddr *)&ss, sslen) < 0 && errno != EINPROGRESS)
                return xasprintf("connect: %s", strerror(errno));

        r = gnutls_init(&p->session, GNUTLS_CLIENT | GNUTLS_NONBLOCK | GNUTLS_NO_SIGNAL);
        if (r < 0)
                return xasprintf("TLS setup: %s", gnutls_strerror(r));
        r = gnutls_priority_set(p->session, global_priority);
        if (r >= 0)
                r = gnutls_credentials_set(p->session, GNUTLS_CRD_CERTIFICATE, global_creds);
        if (r >= 0)
                r = gnutls_server_name_set(p->session, GNUTLS_NAME_DNS, params->name, strlen(params->name));
        if (r < 0)
                return xasprintf("TLS setup: %s", gnutls_strerror(r));
        gnutls_transport_set_int(p->session, p->fd);
        /* The probe's own timer bounds the handshake. */
        gnutls_handshake_set_timeout(p->session, 0);

        if (sd_event_add_io(p->event, &p->io, p->fd, EPOLLOUT, on_io, p) < 0)
                return xstrdup("cannot watch the socket");
        return NULL;
}

int tls_probe_start(sd_event *event, const struct tls_probe_params *params,
                    tls_probe_done_cb cb, void *userdata, struct tls_probe **ret) {
        struct tls_probe *p = xcalloc(1, sizeof(*p));
        char *why;
        int r;

        p->event = sd_event_ref(event);
        p->fd = -1;
        p->trust = params->trust;
        p->cb = cb;
        p->userdata = userdata;
        p->timeout_usec = params->timeout_usec;
        p->started = now_monotonic_usec();
        p->obs.name = xstrdup(params->name);
        p->obs.service = params->service;
        p->obs.address = xstrdup(params->address);
        p->obs.port = params->port;

        r = sd_event_add_time_relative(event, &p->timer, CLOCK_MONOTONIC, params->timeout_usec, 1000,
                                       on_timeout, p);
        if (r < 0)
                goto fail;
        why = probe_setup(p, params);
        if (why) {
                /* Reported from the loop, never from inside start. */
                p->obs.error = why;
                probe_release_io(p);
                r = sd_event_add_defer(event, &p->defer, on_start_failed, p);
                if (r < 0)
                        goto fail;
        }
        *ret = p;
        return 0;
fail:
        tls_probe_free(p);
        return r;
}
