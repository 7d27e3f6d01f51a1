/* Pure helpers over DNS names as certvigil keeps them (lower-case, no
 * final dot, "" for the root), shared by the DNS probe and the checks. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

/* name is zone or lies below it; every name is in the root (""). */
bool dns_name_in_zone(const char *name, const char *zone);
/* The parent of name ("a.b" -> "b", "b" -> ""), pointing into name. */
const char *dns_name_parent(const char *name);
/* "a -> b -> c" for a CNAME chain from qname, for messages. Caller frees. */
char *dns_chain_describe(const char *qname, char *const *chain);
/* Labels in name: "" (the root) has 0, "com" 1, "example.com" 2. */
size_t dns_name_labels(const char *name);
/* RFC 6125 section 6.4.3 as the CA/Browser Forum applies it: pattern
 * (from a SAN dNSName) matches host (both compared case-insensitively, a
 * trailing dot ignored). A wildcard is the whole left-most label, stands for
 * exactly one label, needs at least two labels after it, and never matches
 * the apex. Shared by the SAN checks and check --wildcard. */
bool dns_name_pattern_matches(const char *pattern, const char *host);
