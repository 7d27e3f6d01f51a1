/* libmicrohttpd on the daemon's sd-event loop (httpd.h). MHD_USE_EPOLL
 * without MHD_USE_INTERNAL_POLLING_THREAD: MHD starts no thread and does
 * its work in MHD_run(), which we call when its epoll fd is readable or
 * when the timeout it asks for (idle connections to close) has passed. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <microhttpd.h>

#include "httpd.h"
#include "util.h"

/* Prometheus and the probes need a handful; a client opening more waits. */
#define HTTPD_CONNECTIONS_MAX 32
#define HTTPD_PER_ADDRESS_MAX 16
#define HTTPD_IDLE_TIMEOUT_SEC 10
/* Bounds a request's line and headers: ours are short. */
#define HTTPD_CONNECTION_MEMORY 16384

struct httpd {
        sd_event *event;
        struct MHD_Daemon *mhd;
        sd_event_source *io, *timer;
        int listen_fd;             /* owned by MHD once started */
        uint16_t port;
        httpd_handler_fn handler;
        void *userdata;
};

static enum MHD_Result httpd_queue(struct MHD_Connection *c, unsigned status, const char *type, char *body,
                                   size_t len, bool allow) {
        struct MHD_Response *resp =
                MHD_create_response_from_buffer(body ? len : 0, body ? body : (char *)"", body ? MHD_RESPMEM_MUST_FREE
                                                                                              : MHD_RESPMEM_PERSISTENT);
        enum MHD_Result r;

        if (!resp) {
                free(body);
                return MHD_NO;
        }
        if (type)
                (void)MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, type);
        if (allow)
                (void)MHD_add_response_header(resp, MHD_HTTP_HEADER_ALLOW, "GET, HEAD");
        r = MHD_queue_response(c, status, resp);
        MHD_destroy_response(resp);
        return r;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url, const char *method,
                                  const char *version, const char *upload_data, size_t *upload_data_size,
                                  void **con_cls) {
        struct httpd *h = cls;
        struct httpd_response resp = { 0 };

        /* Answered at once, on the first call: a body someone sends is
         * never read, MHD closes the connection after the answer. */
        if (strcmp(method, MHD_HTTP_METHOD_GET) != 0 && strcmp(method, MHD_HTTP_METHOD_HEAD) != 0)
                return httpd_queue(c, MHD_HTTP_METHOD_NOT_ALLOWED, "text/plain; charset=utf-8",
                                   xstrdup("method not allowed\n"), 19, true);
        h->handler(url, &resp, h->userdata);
        return httpd_queue(c, resp.status ? resp.status : 500, resp.content_type, resp.body, resp.len, false);
}

static void httpd_arm(struct httpd *h) {
        MHD_UNSIGNED_LONG_LONG ms = 0;
        int r;

        if (MHD_get_timeout(h->mhd, &ms) != MHD_YES) {
                (void)sd_event_source_set_enabled(h->timer, SD_EVENT_OFF);
                return;
        }
        r = sd_event_source_set_time(h->timer, now_monotonic_usec() + (uint64_t)ms * USEC_PER_MSEC);
        if (r >= 0)
                (void)sd_event_source_set_enabled(h->timer, SD_EVENT_ONESHOT);
}

static int on_io(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        struct httpd *h = userdata;
        (void)MHD_run(h->mhd);
        httpd_arm(h);
        return 0;
}

static int on_timer(sd_event_source *s, uint64_t usec, void *userdata) {
        return on_io(NULL, -1, 0, userdata);
}

/* Our own socket, so a failure to bind says why (MHD would only fail). */
static int httpd_listen(const char *addr, uint16_t port, int *ret_fd, uint16_t *ret_port) {
        union {
                struct sockaddr sa;
                struct sockaddr_in in;
                struct sockaddr_in6 in6;
        } u = { 0 };
        socklen_t len;
        int fd, one = 1;

        if (inet_pton(AF_INET, addr, &u.in.sin_addr) == 1) {
                u.in.sin_family = AF_INET;
                u.in.sin_port = htons(port);
                len = sizeof(u.in);
        } else if (inet_pton(AF_INET6, addr, &u.in6.sin6_addr) == 1) {
                u.in6.sin6_family = AF_INET6;
                u.in6.sin6_port = htons(port);
                len = sizeof(u.in6);
        } else
                return -EINVAL;
        fd = socket(u.sa.sa_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
        if (fd < 0)
                return -errno;
        /* [::] means IPv6 only: 0.0.0.0 is written when meant. */
        if (u.sa.sa_family == AF_INET6)
                (void)setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
        (void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
        if (bind(fd, &u.sa, len) < 0 || listen(fd, 64) < 0 || getsockname(fd, &u.sa, &len) < 0) {
                int r = -errno;
                close(fd);
                return r;
        }
        *ret_fd = fd;
        *ret_port = ntohs(u.sa.sa_family == AF_INET ? u.in.sin_port : u.in6.sin6_port);
        return 0;
}

int httpd_new(sd_event *e, const char *addr, uint16_t port, httpd_handler_fn handler, void *userdata,
              struct httpd **ret, char **ret_error) {
        struct httpd *h = xcalloc(1, sizeof(*h));
        const union MHD_DaemonInfo *info;
        int r;

        *h = (struct httpd){ .event = sd_event_ref(e), .listen_fd = -1, .handler = handler, .userdata = userdata };
        r = httpd_listen(addr, port, &h->listen_fd, &h->port);
        if (r < 0) {
                *ret_error = xasprintf("cannot listen on %s%s%s:%u: %s", strchr(addr, ':') ? "[" : "", addr,
                                       strchr(addr, ':') ? "]" : "", port, strerror(-r));
                goto fail;
        }
        h->mhd = MHD_start_daemon(MHD_USE_EPOLL, 0, NULL, NULL, on_request, h, MHD_OPTION_LISTEN_SOCKET,
                                  h->listen_fd, MHD_OPTION_CONNECTION_LIMIT, (unsigned)HTTPD_CONNECTIONS_MAX,
                                  MHD_OPTION_PER_IP_CONNECTION_LIMIT, (unsigned)HTTPD_PER_ADDRESS_MAX,
                                  MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)HTTPD_IDLE_TIMEOUT_SEC,
                                  MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)HTTPD_CONNECTION_MEMORY, MHD_OPTION_END);
        if (!h->mhd) {
                r = -EIO;
                *ret_error = xstrdup("cannot start the HTTP server (libmicrohttpd)");
                goto fail;
        }
        info = MHD_get_daemon_info(h->mhd, MHD_DAEMON_INFO_EPOLL_FD);
        if (!info) {
                r = -EIO;
                *ret_error = xstrdup("the HTTP server has no epoll descriptor");
                goto fail;
        }
        r = sd_event_add_io(e, &h->io, info->epoll_fd, EPOLLIN, on_io, h);
        if (r >= 0)
                r = sd_event_add_time(e, &h->timer, CLOCK_MONOTONIC, 0, 0, on_timer, h);
        if (r < 0) {
                *ret_error = xasprintf("cannot watch the HTTP server: %s", strerror(-r));
                goto fail;
        }
        httpd_arm(h);
        *ret = h;
        return 0;
fail:
        httpd_free(h);
        return r;
}

struct httpd *httpd_free(struct httpd *h) {
        if (!h)
                return NULL;
        sd_event_source_disable_unref(h->io);
        sd_event_source_disable_unref(h->timer);
        if (h->mhd)
                MHD_stop_daemon(h->mhd);
        /* MHD does not close a socket it was given. */
        if (h->listen_fd >= 0)
                close(h->listen_fd);
        sd_event_unref(h->event);
        free(h);
        return NULL;
}

uint16_t httpd_port(const struct httpd *h) {
        return h->port;
}
