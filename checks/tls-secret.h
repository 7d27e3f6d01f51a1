/* tls.secret.*: provided mode's wildcard Secret (tls.wildcardSecretName)
 * against what the endpoints serve. Pure; the Secret is read by
 * daemon/renew/secret.c. */
#pragma once

#include <stdbool.h>

#include "finding.h"
#include "observe.h"

struct secret_facts {
        const char *what;          /* "NAMESPACE/NAME" */
        const char *sha256;        /* of the Secret's tls.crt leaf */
        bool key_matches;          /* tls.key belongs to tls.crt */
};

/* tls.secret.key-mismatch (critical) once; tls.secret.mismatch (warning)
 * for every endpoint that serves another certificate than the Secret's. */
void secret_judge(const struct secret_facts *s, const struct platform_obs *obs, struct finding_list *out);
