/* Registration expiry by RDAP (RFC 9083), after an audit: the registrable
 * domain of the platform's base domain (Public Suffix List, libpsl), its
 * registry's RDAP server (IANA's bootstrap file, RFC 9224, or rdap.url),
 * the "expiration" event, judged by checks/domain-expiry.c. Off unless
 * rdap.enabled. Asked at most once a day per domain: the date is kept in
 * the renewal store. Failures to ask are noted on stderr and in the
 * report, not findings. */
#pragma once

#include <systemd/sd-event.h>

#include "config.h"
#include "finding.h"
#include "observe.h"
#include "renew-store.h"

struct rdap;

typedef void (*rdap_done_cb)(struct rdap *r, void *userdata);

/* store may be NULL: then every run asks. p and store must outlive it. */
int rdap_new(sd_event *event, const struct platform *p, struct renew_store *store, struct rdap **ret);
struct rdap *rdap_free(struct rdap *r);

/* cb always runs, from the loop. */
void rdap_start(struct rdap *r, rdap_done_cb cb, void *userdata);

const struct finding_list *rdap_findings(const struct rdap *r);
/* NULL when RDAP is off. Borrowed. */
const struct rdap_obs *rdap_observation(const struct rdap *r);

/* Keeps the platform's domain, its expiry (0: unknown) and when to ask
 * next in the store, under its lock (renew_store_lock()). 0, or a
 * negative errno said on stderr. */
int rdap_remember(struct renew_store *store, const char *platform, const char *domain, time_t expires,
                  time_t next);
