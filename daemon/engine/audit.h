/* One audit of one platform: derive the plan, resolve every name, handshake
 * every address, all on the caller's sd-event loop with at most
 * `concurrency` jobs in flight and the whole run bounded by `deadline`;
 * then run the checks over what was observed. */
#pragma once

#include <systemd/sd-event.h>

#include "config.h"
#include "dns.h"
#include "dnsaudit.h"
#include "finding.h"
#include "http.h"
#include "observe.h"
#include "plan.h"
#include "tls.h"

struct audit;
struct audit_pool; /* audit-pool.h */

typedef void (*audit_done_cb)(struct audit *a, void *userdata);

/* The platform is borrowed and must outlive the audit; so must the pool.
 * Fails (with *ret_error) when the plan cannot be derived, the trust
 * anchors cannot be loaded or the resolver cannot be set up: nothing has
 * been sent then. */
int audit_new_pooled(struct audit_pool *pool, const struct platform *p, struct audit **ret, char **ret_error);

/* The same, in a pool of its own limited by the platform's concurrency. */
int audit_new(sd_event *event, const struct platform *p, struct audit **ret, char **ret_error);
struct audit *audit_free(struct audit *a);

/* Fetched bodies (CRLs) shared by the audits of one process and kept until
 * their nextUpdate; borrowed, must outlive the audit. Optional; before
 * audit_start(). */
struct http_cache;
void audit_set_cache(struct audit *a, struct http_cache *cache);

/* Starts probing; cb runs from the loop when every job has ended or the
 * deadline has cut them short. The findings are ready by then. */
int audit_start(struct audit *a, audit_done_cb cb, void *userdata);

/* Stops whatever is still in flight, as the deadline would. */
void audit_cancel(struct audit *a);

/* The engine's seam to the probes: how it starts and stops TLS probes,
 * address lookups, the DNS facts gatherer and HTTP fetches. The default
 * (audit_ops_default) is the real probes; the engine's unit test puts a
 * fake behind it that answers from tables, in any order. Each function
 * keeps the contract of the probe function it stands for (tls.h, dns.h,
 * dnsaudit.h, http.h); ctx is passed through. */
struct audit_ops {
        int (*probe_start)(void *ctx, sd_event *event, const struct tls_probe_params *params, tls_probe_done_cb cb,
                           void *userdata, struct tls_probe **ret);
        void (*probe_abort)(void *ctx, struct tls_probe *p, const char *why);
        struct tls_probe *(*probe_free)(void *ctx, struct tls_probe *p);
        int (*resolve)(void *ctx, struct dns_resolver *r, const char *name, dns_addresses_cb cb, void *userdata);
        void (*resolve_cancel)(void *ctx, struct dns_resolver *r);
        void (*facts_start)(void *ctx, struct dnsaudit *d, dnsaudit_done_cb cb, void *userdata);
        void (*facts_cancel)(void *ctx, struct dnsaudit *d);
        /* The audit is being freed: forget the gatherer's callback. */
        void (*facts_drop)(void *ctx, struct dnsaudit *d);
        int (*fetch_start)(void *ctx, struct http_client *c, const struct http_fetch_params *p, http_done_cb cb,
                           void *userdata, struct http_fetch **ret);
        void (*fetch_cancel)(void *ctx, struct http_fetch *f);
};
extern const struct audit_ops audit_ops_default;

/* Before audit_start(); ops and ctx are borrowed and must outlive the audit. */
void audit_set_ops(struct audit *a, const struct audit_ops *ops, void *ctx);

const struct platform *audit_platform(const struct audit *a);
const struct plan *audit_plan(const struct audit *a);
const struct platform_obs *audit_observations(const struct audit *a);
const struct finding_list *audit_findings(const struct audit *a);
bool audit_is_done(const struct audit *a);
/* For a progress display, read only: the endpoint (an index into
 * audit_observations()' endpoints) whose probe has been in flight longest,
 * and when it started (monotonic); false when no probe is in flight. */
bool audit_slowest_in_flight(const struct audit *a, size_t *ret_index, uint64_t *ret_started_usec);
