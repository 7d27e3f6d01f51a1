/* domain.expiry.*: the registrable domain's registration expiry as its
 * registry's RDAP server states it (RFC 9083 section 4.5, the "expiration"
 * event), the pure part: reading the answer and bootstrap file, judging
 * the date. The fetching is daemon/renew/rdap.c's. */
#pragma once

#include <stddef.h>
#include <time.h>

#include "finding.h"

/* An RDAP domain object: its "expiration" event's date. 0, -ENOENT (no
 * such event) or -EINVAL (not an RDAP object), with *ret_error. */
int rdap_expiration_parse(const char *body, size_t len, time_t *ret, char **ret_error);

/* IANA's bootstrap file for domains (RFC 9224 section 4): the first https
 * base URL of the service whose entries hold the longest label suffix of
 * domain. 0 with *ret (caller frees), -ENOENT when no service covers the
 * domain, -EINVAL with *ret_error when the file is not a bootstrap file. */
int rdap_bootstrap_lookup(const char *json, size_t len, const char *domain, char **ret, char **ret_error);

/* domain.expiry.critical when the registration ends in fewer than
 * critical_days (or has ended), else domain.expiry.warning within
 * warn_days. */
void domain_expiry_judge(const char *domain, time_t expires, time_t now, unsigned warn_days, unsigned critical_days,
                         struct finding_list *out);
