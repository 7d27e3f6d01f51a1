/* tls.ari.*: ACME Renewal Information (RFC 9773), the pure part: reading
 * a renewalInfo response, when to poll again, and judging the suggested
 * window against now and the window seen at the previous poll. The polling
 * itself is daemon/renew/ari.c's. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "finding.h"

struct ari_window {
        time_t start;
        time_t end;
};

/* Without Retry-After, the next poll is this far away; any value is kept
 * within the limits below (RFC 9773 section 4.3 asks clients to honour
 * Retry-After within reasonable limits; these are certvigil's). */
#define ARI_POLL_DEFAULT ((time_t)6 * 3600)
#define ARI_POLL_MIN ((time_t)60)
#define ARI_POLL_MAX ((time_t)86400)

/* "2026-11-26T14:22:07Z", with optional fractional seconds and a numeric
 * offset instead of Z. 0 or -EINVAL. */
int rfc3339_parse(const char *s, time_t *ret);

/* {"suggestedWindow": {"start": T, "end": T}, "explanationURL": U}: 0, or
 * -EINVAL with *ret_error (caller frees) for malformed JSON, a missing or
 * invalid time, or an end not after the start. *ret_explanation is the
 * escaped explanationURL or NULL. */
int ari_parse_response(const char *body, size_t len, struct ari_window *ret, char **ret_explanation,
                       char **ret_error);

/* An ACME directory (RFC 8555 section 7.1.1): its renewalInfo endpoint
 * (RFC 9773 section 4) joined with cert_id by one slash. 0 with *ret_url
 * (caller frees), or -EINVAL when the body is not a JSON object with an
 * https:// renewalInfo string. */
int ari_renewal_info_url(const char *body, size_t len, const char *cert_id, char **ret_url);

/* The time of the next poll from a Retry-After value (delay-seconds or an
 * HTTP-date, RFC 9110 section 10.2.3), or the default when absent or
 * unreadable. */
time_t ari_next_poll(const char *retry_after, time_t now);

/* tls.ari.renew-now: warning when now is past the window's start, or the
 * window moved earlier than at the previous poll (prev, may be NULL: a
 * mass-revocation signal); critical when the window has already ended.
 * what names the certificate (serial) in the message. */
void ari_judge(const struct ari_window *w, const struct ari_window *prev, time_t now, const char *what,
               const char *explanation, struct finding_list *out);
