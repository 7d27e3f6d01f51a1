/* The DNS probe: c-ares driven by the sd-event loop, channels shared
 * through a hub; queries report observations, never judgements. */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <systemd/sd-event.h>

#include "dnsname.h"
#include "observe.h"

struct dns_resolver;

/* The c-ares channels of a process, shared: one per distinct set of
 * servers, timeout and recursion flag, made on first use and reused by
 * every platform and audit that asks the same servers, so memory and
 * sockets grow with the number of distinct resolvers, not of platforms.
 * Idle channels are kept for the next audit, a few at most. The event loop
 * is referenced; every resolver must be freed before the hub. */
struct dns_hub;
int dns_hub_new(sd_event *event, struct dns_hub **ret);
struct dns_hub *dns_hub_free(struct dns_hub *hub);
/* How many channels the hub holds now (for tests and the benchmark). */
size_t dns_hub_channels(const struct dns_hub *hub);

/* A resolver is one caller's handle on a shared channel: its queries are
 * its own, so cancelling or freeing it answers only them.
 * servers: "ADDR[:PORT]" strings ("[v6]:port" for IPv6), NULL for the
 * system resolver (/etc/resolv.conf). timeout_usec bounds one query,
 * retries included. */
int dns_resolver_new(struct dns_hub *hub, char *const *servers, uint64_t timeout_usec, struct dns_resolver **ret,
                     char **ret_error);

/* One server, ADDRESS:PORT, asked without recursion (the RD flag clear):
 * for questions to a zone's authoritative servers. */
int dns_resolver_new_direct(struct dns_hub *hub, const char *address, uint16_t port, uint64_t timeout_usec,
                            struct dns_resolver **ret, char **ret_error);

/* Cancels every query of this resolver in flight: their callbacks run,
 * with DNS_STATUS_NOT_RUN, before this returns. Queries of other
 * resolvers on the same channel go on. */
void dns_resolver_cancel(struct dns_resolver *r);
/* Cancels as above, then drops the handle. Not from inside one of its own
 * callbacks. */
struct dns_resolver *dns_resolver_free(struct dns_resolver *r);

/* Called once per dns_resolve_addresses(). addresses (NULL-terminated, may
 * be NULL) and error are owned by the callee: take them with TAKE_PTR or
 * leave them to be freed after the callback returns. */
typedef void (*dns_addresses_cb)(void *userdata, enum dns_status status, char **error, char ***addresses);

/* Asks for A and AAAA of name (no search list, no hosts file). */
int dns_resolve_addresses(struct dns_resolver *r, const char *name, dns_addresses_cb cb, void *userdata);

/* Longest CNAME chain we follow; longer ones are reported, not used. */
#define DNS_CNAME_MAX 8

/* Any question. abuf is the raw answer (NULL when none arrived, e.g. on a
 * timeout); it and the header facts are valid during the callback only.
 * NOERROR with an empty answer section is DNS_STATUS_NODATA. */
struct dns_reply {
        enum dns_status status;
        int ares_status;           /* ARES_*, for ares_strerror() */
        const unsigned char *abuf;
        size_t alen;
        int rcode;
        bool aa, tc;
};
typedef void (*dns_reply_cb)(void *userdata, const struct dns_reply *reply);
/* type is a ns_t_* (arpa/nameser.h). cb runs exactly once, possibly before
 * this returns. */
void dns_query(struct dns_resolver *r, const char *name, int type, dns_reply_cb cb, void *userdata);

/* A bounds-checked walk over every section of an answer. At most
 * DNS_MSG_RRS_MAX records are kept; the rest are counted in n_dropped. */
#define DNS_MSG_RRS_MAX 64
enum dns_section {
        DNS_SECTION_ANSWER = 1,
        DNS_SECTION_AUTHORITY,
        DNS_SECTION_ADDITIONAL,
};
struct dns_rr {
        enum dns_section section;
        char *owner;               /* lower-case, no final dot, escaped */
        int type;
        uint32_t ttl;
        char *target;              /* CNAME and NS target, SOA MNAME, RRSIG signer; NULL otherwise */
        uint32_t serial;           /* SOA only */
        int covered;               /* RRSIG only: the type it signs */
        uint32_t sig_expiration;   /* RRSIG only: RFC 4034 3.1.5, seconds mod 2^32 */
        uint32_t sig_inception;
};
#define DNS_TYPE_RRSIG 46
#define DNS_TYPE_DNSKEY 48
struct dns_msg {
        int rcode;
        bool aa, tc;
        struct dns_rr *rrs;
        size_t n_rrs;
        size_t n_dropped;
};
/* Returns 0 or -EBADMSG (nothing to free then). */
int dns_msg_parse(const unsigned char *abuf, size_t alen, struct dns_msg *ret);
void dns_msg_done(struct dns_msg *m);

/* Follows CNAMEs from qname through the answer section. *ret_chain gets the
 * targets in order (also on failure, to show them). Returns 0, -ELOOP for a
 * loop, or -E2BIG when longer than DNS_CNAME_MAX. */
int dns_msg_cname_chain(const struct dns_msg *m, const char *qname, char ***ret_chain);
