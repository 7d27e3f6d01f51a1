/* The DNS probe: c-ares driven by the sd-event loop. One resolver per
 * platform (its resolvers and timeout); queries report observations, never
 * judgements. */
#pragma once

#include <systemd/sd-event.h>

#include "observe.h"

struct dns_resolver;

/* servers: "ADDR[:PORT]" strings ("[v6]:port" for IPv6), NULL for the
 * system resolver (/etc/resolv.conf). timeout_usec bounds one query,
 * retries included. The event loop is referenced, not owned. */
int dns_resolver_new(sd_event *event, char *const *servers, uint64_t timeout_usec,
                     struct dns_resolver **ret, char **ret_error);

/* Cancels every query in flight: their callbacks run, with
 * DNS_STATUS_NOT_RUN, before this returns. */
void dns_resolver_cancel(struct dns_resolver *r);
struct dns_resolver *dns_resolver_free(struct dns_resolver *r);

/* Called once per dns_resolve_addresses(). addresses (NULL-terminated, may
 * be NULL) and error are owned by the callee: take them with TAKE_PTR or
 * leave them to be freed after the callback returns. */
typedef void (*dns_addresses_cb)(void *userdata, enum dns_status status, char **error, char ***addresses);

/* Asks for A and AAAA of name (no search list, no hosts file). */
int dns_resolve_addresses(struct dns_resolver *r, const char *name, dns_addresses_cb cb, void *userdata);
