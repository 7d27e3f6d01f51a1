/* A small HTTP client on the sd-event loop: "fetch this URL, give me the
 * bytes and the status", bounded in size and time. libcurl's multi
 * interface does the work; its sockets and timer are sources on the loop,
 * as in systemd's curl-util.c. Used for AIA caIssuers and CRLs now, and
 * meant for ACME ARI and the Kubernetes API later. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <systemd/sd-event.h>

struct http_client;
struct http_fetch;

struct http_fetch_params {
        const char *url;             /* http:// or https:// only */
        size_t max_bytes;            /* a longer body ends the fetch with an error */
        uint64_t timeout_usec;       /* the whole transfer, redirects included */
        /* Optional: left zero, a plain GET verified against the system
         * trust store, following redirects. */
        const char *method;          /* "PUT", "POST", ...; NULL: GET (POST when body is set) */
        char *const *headers;        /* "Name: value" lines, NULL-terminated; may carry credentials */
        const char *body;            /* request body (copied), body_size bytes */
        size_t body_size;
        const char *ca_file;         /* PEM bundle to verify the server with instead of the system store */
        bool no_redirects;           /* requests with credentials must not be sent elsewhere */
        /* Connect to public addresses only: loopback, link-local, private,
         * unique-local and other internal destinations are refused, after
         * redirects too (the address is checked as each socket is opened),
         * so a URL from an untrusted certificate cannot aim us inward. */
        bool public_only;
};

/* What a fetch ended with. body is malloc'ed (NUL-terminated for
 * convenience, size excludes it); the callback may take it with TAKE_PTR. */
struct http_result {
        long status;                 /* HTTP status, 0 when none arrived */
        unsigned char *body;
        size_t size;
        char *error;                 /* NULL when the transfer completed (any status) */
        char *retry_after;           /* the Retry-After header, escaped, or NULL */
};

/* Runs from the loop once per fetch. The fetch is freed by the client right
 * after the callback returns: do not free it, forget the pointer. */
typedef void (*http_done_cb)(struct http_fetch *f, struct http_result *res, void *userdata);

int http_client_new(sd_event *event, struct http_client **ret);
/* Aborts every fetch still running, without callbacks. */
struct http_client *http_client_free(struct http_client *c);

int http_fetch_start(struct http_client *c, const struct http_fetch_params *p, http_done_cb cb, void *userdata,
                     struct http_fetch **ret);
/* Aborts one running fetch without its callback. */
void http_fetch_cancel(struct http_fetch *f);

/* One response header line as libcurl hands it over (n bytes, not
 * NUL-terminated): a Retry-After header's value (RFC 9110 section 10.2.3),
 * blanks and line end trimmed, escaped; NULL for any other header, or for
 * a line of 256 bytes or more. Caller frees. */
char *http_header_retry_after(const char *line, size_t n);

int http_global_init(void);
void http_global_done(void);

/* Bodies kept until a given time (a CRL until its nextUpdate), for as long
 * as the cache lives; the process keeps one for all its audits. */
struct http_cache;
struct http_cache *http_cache_new(void);
struct http_cache *http_cache_free(struct http_cache *c);
/* Returns a borrowed body, valid until the next http_cache_put() or
 * http_cache_free(), or NULL when the URL is not cached or expired at now. */
const unsigned char *http_cache_get(struct http_cache *c, const char *url, time_t now, size_t *ret_size);
/* Copies the body; kept until expires. */
void http_cache_put(struct http_cache *c, const char *url, const unsigned char *body, size_t size, time_t expires);
