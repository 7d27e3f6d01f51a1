/* The HTTP client: libcurl's multi interface driven by the sd-event loop.
 * libcurl tells us which sockets to watch (CURLMOPT_SOCKETFUNCTION) and
 * when to wake it (CURLMOPT_TIMERFUNCTION); we turn those into io and time
 * sources and hand events back with curl_multi_socket_action(). Finished
 * transfers are collected after every action. */
#include <errno.h>
#include <string.h>
#include <strings.h>
#include <arpa/inet.h>
#include <sys/socket.h>

#include <curl/curl.h>

#include "http.h"
#include "util.h"

struct http_client {
        sd_event *event;
        CURLM *multi;
        sd_event_source *timer;
        struct http_fetch *fetches;   /* running, for freeing the client */
};

struct http_fetch {
        struct http_client *client;
        struct http_fetch *prev, *next;
        CURL *easy;
        http_done_cb cb;
        void *userdata;
        unsigned char *body;
        size_t size;
        size_t max_bytes;
        bool too_large;
        struct curl_slist *headers;
        char *retry_after;
        bool public_only;
        char *refused;                /* why a connection was not opened */
        char errbuf[CURL_ERROR_SIZE];
};

int http_global_init(void) {
        return curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK ? 0 : -EIO;
}

void http_global_done(void) {
        curl_global_cleanup();
}

static void fetch_free(struct http_fetch *f) {
        if (!f)
                return;
        if (f->prev)
                f->prev->next = f->next;
        else if (f->client->fetches == f)
                f->client->fetches = f->next;
        if (f->next)
                f->next->prev = f->prev;
        if (f->easy) {
                curl_multi_remove_handle(f->client->multi, f->easy);
                curl_easy_cleanup(f->easy);
        }
        curl_slist_free_all(f->headers);
        free(f->retry_after);
        free(f->refused);
        free(f->body);
        free(f);
}

void http_fetch_cancel(struct http_fetch *f) {
        fetch_free(f);
}

/* Collects finished transfers; runs their callbacks. */
static void client_collect(struct http_client *c) {
        CURLMsg *msg;
        int left;

        while ((msg = curl_multi_info_read(c->multi, &left))) {
                struct http_fetch *f = NULL;
                struct http_result res = { 0 };

                if (msg->msg != CURLMSG_DONE)
                        continue;
                curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&f);
                if (!f)
                        continue;
                curl_easy_getinfo(f->easy, CURLINFO_RESPONSE_CODE, &res.status);
                if (f->refused)
                        res.error = xstrdup(f->refused);
                else if (f->too_large)
                        res.error = xasprintf("the response is larger than %zu bytes", f->max_bytes);
                else if (msg->data.result != CURLE_OK)
                        res.error = xstrdup(f->errbuf[0] ? f->errbuf : curl_easy_strerror(msg->data.result));
                res.body = TAKE_PTR(f->body);
                res.retry_after = TAKE_PTR(f->retry_after);
                res.size = f->size;
                if (!res.body)
                        res.body = xcalloc(1, 1);
                /* Removed before the callback, which may start new fetches. */
                curl_multi_remove_handle(c->multi, f->easy);
                f->cb(f, &res, f->userdata);
                free(res.body);
                free(res.error);
                free(res.retry_after);
                fetch_free(f);
        }
}

static int on_io(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        struct http_client *c = userdata;
        int action = 0, running;

        if (revents & (EPOLLIN | EPOLLHUP))
                action |= CURL_CSELECT_IN;
        if (revents & EPOLLOUT)
                action |= CURL_CSELECT_OUT;
        if (revents & EPOLLERR)
                action |= CURL_CSELECT_ERR;
        (void)curl_multi_socket_action(c->multi, fd, action, &running); /* errors surface per transfer */
        client_collect(c);
        return 0;
}

static int on_timer(sd_event_source *s, uint64_t usec, void *userdata) {
        struct http_client *c = userdata;
        int running;

        (void)curl_multi_socket_action(c->multi, CURL_SOCKET_TIMEOUT, 0, &running);
        client_collect(c);
        return 0;
}

static int socket_cb(CURL *easy, curl_socket_t s, int what, void *userp, void *socketp) {
        struct http_client *c = userp;
        sd_event_source *io = socketp;
        uint32_t events = 0;

        if (what == CURL_POLL_REMOVE) {
                sd_event_source_disable_unref(io);
                curl_multi_assign(c->multi, s, NULL);
                return 0;
        }
        if (what == CURL_POLL_IN || what == CURL_POLL_INOUT)
                events |= EPOLLIN;
        if (what == CURL_POLL_OUT || what == CURL_POLL_INOUT)
                events |= EPOLLOUT;
        if (io)
                return sd_event_source_set_io_events(io, events) < 0 ? -1 : 0;
        if (sd_event_add_io(c->event, &io, s, events, on_io, c) < 0)
                return -1;
        curl_multi_assign(c->multi, s, io);
        return 0;
}

static int timer_cb(CURLM *multi, long timeout_ms, void *userp) {
        struct http_client *c = userp;

        if (timeout_ms < 0)
                return c->timer && sd_event_source_set_enabled(c->timer, SD_EVENT_OFF) < 0 ? -1 : 0;
        /* 0 means "now": a relative time of 0 runs on the next iteration,
         * never from inside libcurl's call. */
        uint64_t usec = (uint64_t)timeout_ms * USEC_PER_MSEC;
        if (c->timer) {
                if (sd_event_source_set_time_relative(c->timer, usec) < 0 ||
                    sd_event_source_set_enabled(c->timer, SD_EVENT_ONESHOT) < 0)
                        return -1;
                return 0;
        }
        return sd_event_add_time_relative(c->event, &c->timer, CLOCK_MONOTONIC, usec, 0, on_timer, c) < 0 ? -1 : 0;
}

int http_client_new(sd_event *event, struct http_client **ret) {
        struct http_client *c = xcalloc(1, sizeof(*c));

        c->event = sd_event_ref(event);
        c->multi = curl_multi_init();
        if (!c->multi) {
                http_client_free(c);
                return -ENOMEM;
        }
        curl_multi_setopt(c->multi, CURLMOPT_SOCKETFUNCTION, socket_cb);
        curl_multi_setopt(c->multi, CURLMOPT_SOCKETDATA, c);
        curl_multi_setopt(c->multi, CURLMOPT_TIMERFUNCTION, timer_cb);
        curl_multi_setopt(c->multi, CURLMOPT_TIMERDATA, c);
        *ret = c;
        return 0;
}

struct http_client *http_client_free(struct http_client *c) {
        if (!c)
                return NULL;
        if (c->multi) {
                while (c->fetches)
                        fetch_free(c->fetches);
                curl_multi_cleanup(c->multi);
        }
        sd_event_source_disable_unref(c->timer);
        sd_event_unref(c->event);
        free(c);
        return NULL;
}

static size_t write_cb(char *data, size_t size, size_t nmemb, void *userdata) {
        struct http_fetch *f = userdata;
        size_t n = size * nmemb;

        if (n > f->max_bytes - f->size) {
                f->too_large = true;
                return 0; /* aborts the transfer */
        }
        f->body = xrealloc(f->body, f->size + n + 1);
        memcpy(f->body + f->size, data, n);
        f->size += n;
        f->body[f->size] = 0;
        return n;
}

char *http_header_retry_after(const char *line, size_t n) {
        size_t k = strlen("retry-after:");
        const char *v = line + k;

        if (n <= k || n >= 256 || strncasecmp(line, "retry-after:", k) != 0)
                return NULL;
        n -= k;
        while (n > 0 && (*v == ' ' || *v == '\t'))
                v++, n--;
        while (n > 0 && (v[n - 1] == '\r' || v[n - 1] == '\n' || v[n - 1] == ' '))
                n--;
        return str_escape(v, n);
}

/* Only Retry-After is kept (RFC 9110 section 10.2.3), bounded. */
static size_t header_cb(char *data, size_t size, size_t nmemb, void *userdata) {
        struct http_fetch *f = userdata;
        size_t n = size * nmemb;
        char *v = http_header_retry_after(data, n);

        if (v) {
                free(f->retry_after);
                f->retry_after = v;
        }
        return n;
}

/* Every connection libcurl opens, redirects included, comes through here:
 * the one place where the address it will connect to is known. */
static curl_socket_t open_cb(void *userdata, curlsocktype purpose, struct curl_sockaddr *a) {
        struct http_fetch *f = userdata;
        const char *kind = f->public_only ? address_internal_kind(&a->addr) : NULL;

        if (kind) {
                char text[INET6_ADDRSTRLEN] = "?";
                const void *ip = a->family == AF_INET6 ? (const void *)&((struct sockaddr_in6 *)(void *)&a->addr)->sin6_addr
                                                       : (const void *)&((struct sockaddr_in *)(void *)&a->addr)->sin_addr;
                (void)inet_ntop(a->family, ip, text, sizeof(text));
                if (!f->refused)
                        f->refused = xasprintf("refused to connect to %s, a %s address: certvigil fetches only from "
                                               "public addresses for this platform (fetch_private)",
                                               text, kind);
                return CURL_SOCKET_BAD;
        }
        return socket(a->family, a->socktype | SOCK_CLOEXEC, a->protocol);
}

int http_fetch_start(struct http_client *c, const struct http_fetch_params *p, http_done_cb cb, void *userdata,
                     struct http_fetch **ret) {
        struct http_fetch *f = xcalloc(1, sizeof(*f));
        long timeout_ms = (long)(p->timeout_usec / USEC_PER_MSEC);
        CURLcode r = CURLE_OK;

        f->client = c;
        f->cb = cb;
        f->userdata = userdata;
        f->max_bytes = p->max_bytes;
        f->public_only = p->public_only;
        f->easy = curl_easy_init();
        if (!f->easy) {
                free(f);
                return -ENOMEM;
        }
#define SET(opt, val) \
        if (r == CURLE_OK) \
        r = curl_easy_setopt(f->easy, opt, val)
        SET(CURLOPT_URL, p->url);
        SET(CURLOPT_PRIVATE, f);
        SET(CURLOPT_WRITEFUNCTION, write_cb);
        SET(CURLOPT_WRITEDATA, f);
        SET(CURLOPT_ERRORBUFFER, f->errbuf);
        SET(CURLOPT_NOSIGNAL, 1L);
        SET(CURLOPT_TIMEOUT_MS, timeout_ms > 0 ? timeout_ms : 1L);
        SET(CURLOPT_FOLLOWLOCATION, p->no_redirects ? 0L : 1L);
        SET(CURLOPT_HEADERFUNCTION, header_cb);
        SET(CURLOPT_HEADERDATA, f);
        SET(CURLOPT_OPENSOCKETFUNCTION, open_cb);
        SET(CURLOPT_OPENSOCKETDATA, f);
        /* A pooled connection opened by an unrestricted fetch would skip
         * open_cb: a restricted one always opens its own. */
        if (p->public_only)
                SET(CURLOPT_FRESH_CONNECT, 1L);
        if (p->ca_file)
                SET(CURLOPT_CAINFO, p->ca_file);
        if (p->body) {
                SET(CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)p->body_size);
                SET(CURLOPT_COPYPOSTFIELDS, p->body);
        }
        if (p->method)
                SET(CURLOPT_CUSTOMREQUEST, p->method);
        for (size_t i = 0; p->headers && p->headers[i]; i++)
                f->headers = curl_slist_append(f->headers, p->headers[i]);
        if (f->headers)
                SET(CURLOPT_HTTPHEADER, f->headers);
        SET(CURLOPT_MAXREDIRS, 3L);
        SET(CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)p->max_bytes);
        SET(CURLOPT_USERAGENT, "certvigil/" PACKAGE_VERSION);
#if LIBCURL_VERSION_NUM >= 0x075500
        SET(CURLOPT_PROTOCOLS_STR, "http,https");
        SET(CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
#else
        SET(CURLOPT_PROTOCOLS, (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS));
        SET(CURLOPT_REDIR_PROTOCOLS, (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS));
#endif
#undef SET
        if (r != CURLE_OK || curl_multi_add_handle(c->multi, f->easy) != CURLM_OK) {
                curl_easy_cleanup(f->easy);
                curl_slist_free_all(f->headers);
                free(f);
                return -EINVAL;
        }
        f->next = c->fetches;
        if (c->fetches)
                c->fetches->prev = f;
        c->fetches = f;
        *ret = f;
        return 0;
}

/* ------------------------------------------------------------------------ */

struct cache_entry {
        char *url;
        unsigned char *body;
        size_t size;
        time_t expires;
};

struct http_cache {
        struct cache_entry *items;
        size_t n;
};

struct http_cache *http_cache_new(void) {
        return xcalloc(1, sizeof(struct http_cache));
}

struct http_cache *http_cache_free(struct http_cache *c) {
        if (!c)
                return NULL;
        for (size_t i = 0; i < c->n; i++) {
                free(c->items[i].url);
                free(c->items[i].body);
        }
        free(c->items);
        free(c);
        return NULL;
}

const unsigned char *http_cache_get(struct http_cache *c, const char *url, time_t now, size_t *ret_size) {
        for (size_t i = 0; c && i < c->n; i++)
                if (strcmp(c->items[i].url, url) == 0 && now < c->items[i].expires) {
                        *ret_size = c->items[i].size;
                        return c->items[i].body;
                }
        return NULL;
}

void http_cache_put(struct http_cache *c, const char *url, const unsigned char *body, size_t size, time_t expires) {
        struct cache_entry *e = NULL;

        if (!c)
                return;
        for (size_t i = 0; i < c->n && !e; i++)
                if (strcmp(c->items[i].url, url) == 0)
                        e = &c->items[i];
        if (!e) {
                c->items = xrealloc(c->items, (c->n + 1) * sizeof(*c->items));
                e = &c->items[c->n++];
                *e = (struct cache_entry){ .url = xstrdup(url) };
        }
        free(e->body);
        e->body = xmalloc(size ? size : 1);
        memcpy(e->body, body, size);
        e->size = size;
        e->expires = expires;
}
