/* The daemon's HTTP endpoint: libmicrohttpd without threads of its own,
 * driven from the sd-event loop (its epoll fd as an io source, its timeout
 * as a time source, MHD_run() on either). GET and HEAD only; what a path
 * answers is the caller's handler's business. Bounded: a connection limit,
 * a per-address limit, an idle timeout and a memory limit per connection. */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include <systemd/sd-event.h>

struct httpd_response {
        unsigned status;           /* 200, 404, 503 ... */
        const char *content_type;  /* static */
        char *body;                /* malloc'ed; httpd frees it */
        size_t len;
};

/* Called from the loop for each GET or HEAD; path is the URL's path (no
 * query). Must fill *ret; a NULL body is sent empty. */
typedef void (*httpd_handler_fn)(const char *path, struct httpd_response *ret, void *userdata);

struct httpd;

/* Listens on addr (a literal IPv4 or IPv6 address) and port (0: any free
 * one, see httpd_port()). On failure *ret_error says why (caller frees). */
int httpd_new(sd_event *e, const char *addr, uint16_t port, httpd_handler_fn handler, void *userdata,
              struct httpd **ret, char **ret_error);
struct httpd *httpd_free(struct httpd *h);   /* accepts NULL, returns NULL */

/* The port it listens on. */
uint16_t httpd_port(const struct httpd *h);
