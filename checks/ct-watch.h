/* ct.unexpected and ct.rate-limit.near: what Certificate Transparency logs
 * say was issued for the platform in the last 7 days, from a crt.sh
 * compatible JSON search, the pure part: reading the answer and judging
 * it. The search itself is daemon/renew/ctwatch.c's. */
#pragma once

#include <stddef.h>
#include <time.h>

#include "checks.h"

/* Let's Encrypt's duplicate certificate limit: 5 certificates for the
 * exact same set of names per 7 days. */
#define CT_DUPLICATE_LIMIT 5
#define CT_WINDOW ((time_t)7 * 86400)

struct ct_entry {
        char *issuer;              /* escaped */
        char **names;              /* lower-case, sorted, each once */
        char *serial;              /* lower-case hex without leading zeros */
        time_t not_before;
};

/* A JSON array of crt.sh entries (issuer_name, name_value with names one a
 * line, serial_number, not_before); entries with the same serial (crt.sh
 * lists a precertificate and its certificate) are kept once. 0, or
 * -EINVAL with *ret_error. At most max entries are kept. */
int ct_entries_parse(const char *body, size_t len, size_t max, struct ct_entry **ret, size_t *ret_n,
                     char **ret_error);
void ct_entries_free(struct ct_entry *e, size_t n);

/* What the judgement saw, for the report. */
struct ct_summary {
        size_t recent;             /* certificates in the last 7 days */
        size_t same_names_max;     /* the most of Let's Encrypt's for one set of names */
};

/* Judges the entries against the platform: ct.rate-limit.near in
 * letsencrypt mode (warning at 4, critical at 5 for one set of names within
 * 7 days), ct.unexpected for a recent certificate covering an expected name
 * that no endpoint serves and whose issuer contradicts tls.mode. */
void ct_watch_judge(const struct check_ctx *ctx, const struct ct_entry *e, size_t n, struct finding_list *out,
                    struct ct_summary *ret_summary);
