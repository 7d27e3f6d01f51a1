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
