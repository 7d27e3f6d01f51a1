/* The DNS facts gatherer: everything about a platform's DNS that the dns.*,
 * dns01.* and caa.* checks judge, gathered with c-ares on the audit's loop
 * into a struct dns_obs. It asks questions and records answers; it never
 * decides what is wrong. */
#pragma once

#include <systemd/sd-event.h>

#include "config.h"
#include "observe.h"
#include "plan.h"

struct dnsaudit;
struct dns_hub;
struct dnssec_hub;

typedef void (*dnsaudit_done_cb)(void *userdata);

/* hub (the shared DNS channels), validators (the shared validating
 * resolvers), p, plan and obs are borrowed and must outlive the gatherer;
 * obs is filled in place. Call when the audit is made (see
 * dnssec_probe_new()). Fails (with *ret_error) when a resolver cannot be
 * set up. */
int dnsaudit_new(sd_event *event, struct dns_hub *hub, struct dnssec_hub *validators, const struct platform *p,
                 const struct plan *plan, struct dns_obs *obs, struct dnsaudit **ret, char **ret_error);

/* Starts every question; cb runs once when all have been answered, timed
 * out or cancelled (possibly before this returns, if none could be sent). */
void dnsaudit_start(struct dnsaudit *d, dnsaudit_done_cb cb, void *userdata);

/* Abandons every question in flight (the audit deadline): what was not
 * answered is recorded as not asked, and cb runs before this returns. */
void dnsaudit_cancel(struct dnsaudit *d);

/* Never runs cb. */
struct dnsaudit *dnsaudit_free(struct dnsaudit *d);
