/* The DNSSEC probe: asks a validating resolver (libunbound, the resolver
 * Let's Encrypt itself runs) what the CA's own resolver would conclude about
 * the platform's names, the DNS-01 challenge and CAA, with the platform's
 * trust anchor, forwarding to the platform's resolvers. It records verdicts
 * and signature lifetimes; checks/dnssec.c judges them. */
#pragma once

#include <systemd/sd-event.h>

#include "config.h"
#include "dns.h"
#include "observe.h"
#include "plan.h"

struct dnssec_probe;
struct dnssec_hub;

/* The owner of the first record of a trust anchor file (DS or DNSKEY
 * lines, as unbound reads them): the zone a validator starts from, escaped,
 * without its final dot. 0 with *ret (caller frees), or a negative errno
 * with *ret_error naming the file. */
int dnssec_anchor_owner(const char *path, char **ret, char **ret_error);

typedef void (*dnssec_done_cb)(void *userdata);

/* hub (the validating resolvers the audit pool shares), p, plan, obs and
 * plain (the platform's resolvers through c-ares, for the unvalidated look
 * at the anchor zone) are borrowed and must outlive the probe; obs is
 * filled in place. Call when the audit is made: the shared context that
 * answers is one made after this, so no answer is older than the audit.
 * Never fails: a probe that cannot be set up records why in obs->error and
 * ends at once when started. */
struct dnssec_probe *dnssec_probe_new(sd_event *event, struct dnssec_hub *hub, const struct platform *p,
                                      const struct plan *plan, struct dns_resolver *plain, struct dnssec_obs *obs);

/* Asks every question; cb runs once, from the loop or before this returns
 * when nothing was asked. */
void dnssec_probe_start(struct dnssec_probe *d, dnssec_done_cb cb, void *userdata);

/* Abandons what is in flight (recorded as not run); cb runs before this
 * returns if it had not run yet. */
void dnssec_probe_cancel(struct dnssec_probe *d);

/* Never runs cb. Cancels its questions and gives the shared context back
 * (which goes, with its worker process, once no probe uses it). */
struct dnssec_probe *dnssec_probe_free(struct dnssec_probe *d);
